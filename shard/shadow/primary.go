package shadow

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/enet"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/systems"
)

// Defaults of [PrimaryOptions] and [ShadowOptions].
const (
	DefaultKeyframeEvery = 300
	DefaultQueue         = 64
	DefaultMaxShadows    = 16
	DefaultTimeout       = time.Second
	DefaultMaxBacklog    = 90
	heartbeatEvery       = 100 * time.Millisecond
	serviceSlice         = 10 * time.Millisecond
)

// Disconnect codes a primary sends when it refuses a Hello.
const (
	RefuseVersion  = 1 // protocol version mismatch
	RefuseRank     = 2 // rank already taken
	RefuseFull     = 3 // MaxShadows reached
	RefuseHandOver = 4 // the primary handed over and is leaving
)

// hostConfig is the ENet configuration of every sync host: one channel, room for large
// keyframes.
func hostConfig(peers int) enet.Config {
	return enet.Config{MaxPeers: peers, MaxChannels: 1, MaxPacketSize: 64 << 20, MaxWaitingData: 128 << 20}
}

// PrimaryOptions configure a [Primary].
type PrimaryOptions struct {
	// Systems is the tuning sent with every keyframe; it must be the shard's. The zero
	// value means systems.DefaultConfig().
	Systems systems.Config
	// KeyframeEvery is the period of keyframes to all shadows, in ticks (default 300).
	// A newly joined shadow gets one at the next tick regardless.
	KeyframeEvery uint64
	// Queue is how many ticks may wait for the sync goroutine before OnTick drops one
	// (default 64). A dropped tick makes every shadow resync from the next keyframe,
	// which OnTick then sends at once.
	Queue int
	// MaxShadows caps the shadows served at once (default 16).
	MaxShadows int
	// Logf, when set, receives one line per notable event (joins, leaves, refusals).
	Logf func(format string, args ...any)

	transport enet.Transport // tests: a transport instead of a UDP socket
}

// PrimaryStats are a primary's counters.
type PrimaryStats struct {
	Shadows       int    // shadows attached now
	Ticks         uint64 // Tick messages fanned out
	TicksDropped  uint64 // ticks OnTick could not queue (sync goroutine behind)
	Keyframes     uint64 // keyframes sent (counting each recipient once per keyframe)
	KeyframeBytes int    // compressed size of the last keyframe
	Dropped       uint64 // messages dropped: unparseable, unexpected, or from a peer that is not an attached shadow
	Rejected      uint64 // Hellos refused
	Relays        int    // attached shadows that relay clients
	Relayed       uint64 // relayed client commands accepted (see [Primary.TakeRelayed])
}

// member is one attached (or dialled) shadow.
type member struct {
	peer       *enet.Peer
	hello      bool // sent a valid Hello
	rank       uint8
	clientAddr string
	syncAddr   string
	synced     bool // has had a keyframe
	relay      bool // sent a Relay: accepts redirected clients
}

// work is one tick on its way from OnTick to the sync goroutine.
type work struct {
	msg  []byte // encoded Tick
	sess []byte // encoded Sessions changes of the tick (may be empty)
	full []byte // encoded full Sessions, when key
	snap []byte // raw snapshot, when key
	tick uint64
	key  bool // snap holds a keyframe
	all  bool // ... for every shadow (periodic); else only for those without one
	ctl  func()
}

// Primary serves a live shard's ticks and keyframes to shadow shards over ENet. Create
// it with [NewPrimary] and pass [Primary.OnTick] as the shard's LiveConfig.OnTick.
type Primary struct {
	opt    PrimaryOptions
	host   *enet.Host
	tuning []byte
	enc    *zstd.Encoder
	logf   func(string, ...any)

	free    chan *work
	queue   chan *work
	wantKey atomic.Bool
	ticked  atomic.Bool
	last    atomic.Pointer[ecs.World]

	smu      sync.Mutex // the session map: written by the shard goroutine
	sessions map[uint64]ecs.NetID
	binds    []server.Binding // changes not yet queued
	sorted   []server.Binding

	mu       sync.Mutex
	members  []*member
	promote  *Promote // announced to dialled peers on connect (promoted shadows)
	onRoster func([]RosterEntry)

	rmu      sync.Mutex // relayed commands waiting for the next tick
	relayed  []ecs.Command
	rparse   []ecs.Command
	nextRely atomic.Uint64
	rosterMu sync.Mutex // serializes onRoster calls, so the last one saw the last roster

	st struct {
		ticks, ticksDropped, keyframes, dropped, rejected, relayed atomic.Uint64
		keyBytes                                                   atomic.Int64
	}

	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
	ownsHost  bool
}

// NewPrimary opens the sync port on addr (UDP "host:port"; port 0 picks one) and serves
// shadows on it until Close.
func NewPrimary(addr string, opt PrimaryOptions) (*Primary, error) {
	tr := opt.transport
	if tr == nil {
		ua, err := net.ResolveUDPAddr("udp4", addr)
		if err != nil {
			return nil, fmt.Errorf("shadow: primary: %w", err)
		}
		conn, err := net.ListenUDP("udp4", ua)
		if err != nil {
			return nil, fmt.Errorf("shadow: primary: %w", err)
		}
		tr = conn
	}
	opt = opt.withDefaults()
	host, err := enet.Listen(tr, hostConfig(opt.MaxShadows+1))
	if err != nil {
		tr.Close()
		return nil, fmt.Errorf("shadow: primary: %w", err)
	}
	p, err := newPrimary(host, opt)
	if err != nil {
		host.Close()
		return nil, err
	}
	p.ownsHost = true
	return p, nil
}

func (o PrimaryOptions) withDefaults() PrimaryOptions {
	if o.Systems.Lib == nil {
		o.Systems = systems.DefaultConfig()
	}
	if o.KeyframeEvery == 0 {
		o.KeyframeEvery = DefaultKeyframeEvery
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.MaxShadows <= 0 {
		o.MaxShadows = DefaultMaxShadows
	}
	return o
}

// newPrimary serves shadows on an existing host (a promoted shadow's sync host).
func newPrimary(host *enet.Host, opt PrimaryOptions) (*Primary, error) {
	opt = opt.withDefaults()
	if err := opt.Systems.Validate(); err != nil {
		return nil, fmt.Errorf("shadow: primary: %w", err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(true))
	if err != nil {
		return nil, fmt.Errorf("shadow: primary: %w", err)
	}
	p := &Primary{
		opt:    opt,
		host:   host,
		tuning: opt.Systems.AppendTuning(nil),
		enc:    enc,
		logf:   opt.Logf,
		free:   make(chan *work, opt.Queue),
		queue:  make(chan *work, opt.Queue+2), // +2: HandOver's control items
		done:   make(chan struct{}),

		sessions: map[uint64]ecs.NetID{},
	}
	if p.logf == nil {
		p.logf = func(string, ...any) {}
	}
	for range opt.Queue {
		p.free <- &work{msg: make([]byte, 0, 4096)}
	}
	p.wg.Add(2)
	go p.serve()
	go p.send()
	return p, nil
}

// Addr returns the sync address shadows connect to.
func (p *Primary) Addr() net.Addr { return p.host.LocalAddr() }

// Stats returns the primary's counters.
func (p *Primary) Stats() PrimaryStats {
	p.mu.Lock()
	n, relays := 0, 0
	for _, m := range p.members {
		if m.hello {
			n++
			if m.relay {
				relays++
			}
		}
	}
	p.mu.Unlock()
	return PrimaryStats{
		Shadows:       n,
		Ticks:         p.st.ticks.Load(),
		TicksDropped:  p.st.ticksDropped.Load(),
		Keyframes:     p.st.keyframes.Load(),
		KeyframeBytes: int(p.st.keyBytes.Load()),
		Dropped:       p.st.dropped.Load(),
		Rejected:      p.st.rejected.Load(),
		Relays:        relays,
		Relayed:       p.st.relayed.Load(),
	}
}

// Roster returns the attached shadows, highest rank first.
func (p *Primary) Roster() []RosterEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rosterLocked()
}

func (p *Primary) rosterLocked() []RosterEntry {
	var es []RosterEntry
	for _, m := range p.members {
		if m.hello {
			es = append(es, RosterEntry{Rank: m.rank, ClientAddr: m.clientAddr, SyncAddr: m.syncAddr})
		}
	}
	slices.SortFunc(es, func(a, b RosterEntry) int { return int(b.Rank) - int(a.Rank) })
	return es
}

// Bind records changes of the shard's session map (token client id → NetID; see
// server.Server.TakeBindings): OnTick sends them to the shadows right after the tick's
// Tick message, and every keyframe is followed by the whole map, so a promoted shadow
// can hand reconnecting clients their entities. It has the signature of
// shard.LiveConfig.OnSessions and runs on the shard goroutine, before the OnTick of the
// step that made the changes.
func (p *Primary) Bind(changes []server.Binding) {
	p.smu.Lock()
	defer p.smu.Unlock()
	for _, b := range changes {
		if b.ID == 0 {
			delete(p.sessions, b.Client)
		} else {
			p.sessions[b.Client] = b.ID
		}
	}
	p.binds = append(p.binds, changes...)
}

// Sessions returns a copy of the session map as the shadows see it.
func (p *Primary) Sessions() map[uint64]ecs.NetID {
	p.smu.Lock()
	defer p.smu.Unlock()
	return maps.Clone(p.sessions)
}

// appendFullSessions appends a full Sessions message of the map, in client id order.
func (p *Primary) appendFullSessions(b []byte, tick uint64) []byte {
	p.smu.Lock()
	defer p.smu.Unlock()
	p.sorted = p.sorted[:0]
	for c, id := range p.sessions {
		p.sorted = append(p.sorted, server.Binding{Client: c, ID: id})
	}
	slices.SortFunc(p.sorted, func(a, b server.Binding) int { return cmp.Compare(a.Client, b.Client) })
	return AppendSessions(b, tick, true, p.sorted)
}

// OnTick queues one step for the shadows: the commands it applied and its hash, and a
// keyframe of w every KeyframeEvery ticks or when a shadow is waiting for its first.
// It has the signature of shard.LiveConfig.OnTick and runs on the shard goroutine: it
// never blocks (a full queue drops the tick and forces a keyframe next tick) and, in
// steady state, does not allocate. w must not be used by the caller concurrently.
func (p *Primary) OnTick(w *ecs.World, cmds []ecs.Command, hash uint64) {
	p.last.Store(w)
	p.ticked.Store(true)
	var it *work
	select {
	case it = <-p.free:
	default:
		p.st.ticksDropped.Add(1)
		p.wantKey.Store(true)
		return
	}
	tick := w.G.Tick
	it.tick = tick
	it.msg = AppendTick(it.msg[:0], tick, hash, cmds)
	it.sess = it.sess[:0]
	p.smu.Lock()
	if len(p.binds) > 0 {
		it.sess = AppendSessions(it.sess, tick, false, p.binds)
		p.binds = p.binds[:0]
	}
	p.smu.Unlock()
	it.all = tick%p.opt.KeyframeEvery == 0
	it.key = it.all || p.wantKey.Swap(false)
	if it.key {
		it.snap = w.AppendSnapshot(it.snap[:0])
		it.full = p.appendFullSessions(it.full[:0], tick)
	}
	it.ctl = nil
	p.queue <- it // never blocks: the queue holds every item of the free list
}

// serve runs the host's events: Hellos, connects, disconnects, heartbeats.
func (p *Primary) serve() {
	defer p.wg.Done()
	lastBeat := time.Now()
	var hb []byte
	for {
		select {
		case <-p.done:
			return
		default:
		}
		ev, err := p.host.Service(serviceSlice)
		if err != nil {
			return
		}
		switch ev.Type {
		case enet.EventConnect:
			p.onConnect(ev.Peer)
		case enet.EventReceive:
			p.onReceive(ev.Peer, ev.Packet)
		case enet.EventDisconnect:
			p.onDisconnect(ev.Peer)
		}
		if !p.ticked.Load() && time.Since(lastBeat) >= heartbeatEvery {
			lastBeat = time.Now()
			hb = (&Heartbeat{}).Append(hb[:0])
			p.broadcast(hb, toAll)
		}
	}
}

func (p *Primary) find(peer *enet.Peer) *member {
	for _, m := range p.members {
		if m.peer == peer {
			return m
		}
	}
	return nil
}

func (p *Primary) onConnect(peer *enet.Peer) {
	p.mu.Lock()
	m := p.find(peer)
	if m == nil {
		m = &member{peer: peer, syncAddr: peer.Addr().String()}
		p.members = append(p.members, m)
	}
	var msg []byte
	if p.promote != nil {
		// A promoted shadow's primary tells every peer that connects (those it dialled,
		// and any shadow that dials it) that it took over.
		msg = p.promote.Append(nil)
	}
	p.mu.Unlock()
	if msg != nil {
		_ = peer.Send(0, msg, enet.Reliable)
	}
}

func (p *Primary) onDisconnect(peer *enet.Peer) {
	p.mu.Lock()
	i := slices.IndexFunc(p.members, func(m *member) bool { return m.peer == peer })
	var m *member
	if i >= 0 {
		m = p.members[i]
		p.members = slices.Delete(p.members, i, i+1)
	}
	p.mu.Unlock()
	if m != nil && m.hello {
		p.logf("shadow rank %d (%s) left", m.rank, m.syncAddr)
		p.sendRoster()
	}
}

func (p *Primary) onReceive(peer *enet.Peer, b []byte) {
	if len(b) > 0 && Type(b[0]) == TypeRelay {
		p.onRelay(peer, b)
		return
	}
	if len(b) == 0 || Type(b[0]) != TypeHello {
		p.st.dropped.Add(1) // a primary only receives Hellos and Relays
		return
	}
	h, _, err := ParseHello(b)
	if err != nil {
		p.st.dropped.Add(1)
		p.logf("dropped a bad Hello from %s: %v", peer.Addr(), err)
		return
	}
	p.mu.Lock()
	m := p.find(peer)
	if m == nil { // a Hello before the connect event cannot happen; be safe
		m = &member{peer: peer, syncAddr: peer.Addr().String()}
		p.members = append(p.members, m)
	}
	refuse := 0
	n := 0
	for _, o := range p.members {
		if o.hello && o != m {
			n++
			if o.rank == h.Rank {
				refuse = RefuseRank
			}
		}
	}
	switch {
	case h.Version != Version:
		refuse = RefuseVersion
	case n >= p.opt.MaxShadows:
		refuse = RefuseFull
	}
	if refuse == 0 {
		m.hello, m.rank, m.clientAddr, m.synced = true, h.Rank, h.ClientAddr, false
	}
	p.mu.Unlock()
	if refuse != 0 {
		p.st.rejected.Add(1)
		p.logf("refused shadow %s rank %d: code %d", peer.Addr(), h.Rank, refuse)
		_ = peer.DisconnectLater(uint32(refuse))
		return
	}
	p.logf("shadow rank %d joined from %s (clients: %s)", h.Rank, m.syncAddr, h.ClientAddr)
	p.wantKey.Store(true)
	p.sendRoster()
}

// onRelay takes a relaying shadow's client commands for the next tick: joins in its
// rank's session range (server.RelaySessionBase), inputs and leaves of player entities.
// Anything else, or a Relay from a peer that did not say Hello, is dropped.
func (p *Primary) onRelay(peer *enet.Peer, b []byte) {
	p.mu.Lock()
	m := p.find(peer)
	ok := m != nil && m.hello
	first := ok && !m.relay
	var rank uint8
	if ok {
		m.relay, rank = true, m.rank
	}
	p.mu.Unlock()
	if !ok {
		p.st.dropped.Add(1)
		return
	}
	if first {
		p.logf("shadow rank %d relays clients", rank)
	}
	p.rmu.Lock()
	defer p.rmu.Unlock()
	r, _, err := ParseRelay(b, p.rparse)
	if err != nil {
		p.st.dropped.Add(1)
		p.logf("dropped a bad Relay from rank %d: %v", rank, err)
		return
	}
	p.rparse = r.Cmds
	for _, c := range r.Cmds {
		switch c.Kind {
		case ecs.CmdJoin:
			if rr, ok := server.RelayRank(c.Arg); !ok || rr != rank {
				p.st.dropped.Add(1)
				continue
			}
			c.Player, c.Input, c.Art = 0, ecs.Input{}, ecs.Art{}
		case ecs.CmdInput, ecs.CmdLeave:
			if c.Player == 0 {
				p.st.dropped.Add(1)
				continue
			}
			c.Arg, c.Art = 0, ecs.Art{}
		default:
			p.st.dropped.Add(1)
			continue
		}
		p.relayed = append(p.relayed, c)
		p.st.relayed.Add(1)
	}
}

// TakeRelayed appends the relayed client commands received since the last call to cmds
// and returns it. It has the signature of shard.LiveConfig.Inject: the shard applies
// them in its next step, so they are recorded and sent to every shadow with that
// step's Tick like the shard's own commands.
func (p *Primary) TakeRelayed(cmds []ecs.Command) []ecs.Command {
	p.rmu.Lock()
	defer p.rmu.Unlock()
	cmds = append(cmds, p.relayed...)
	p.relayed = p.relayed[:0]
	return cmds
}

// NextRelay returns the client address of a relaying shadow, taking them in turn
// (highest rank first), or "" when none relays. It has the signature of
// server.Config.Redirect.
func (p *Primary) NextRelay() string {
	p.mu.Lock()
	var addrs []RosterEntry
	for _, m := range p.members {
		if m.hello && m.relay && m.clientAddr != "" {
			addrs = append(addrs, RosterEntry{Rank: m.rank, ClientAddr: m.clientAddr})
		}
	}
	p.mu.Unlock()
	if len(addrs) == 0 {
		return ""
	}
	slices.SortFunc(addrs, func(a, b RosterEntry) int { return int(b.Rank) - int(a.Rank) })
	return addrs[(p.nextRely.Add(1)-1)%uint64(len(addrs))].ClientAddr
}

func (p *Primary) sendRoster() {
	p.mu.Lock()
	msg := (&Roster{Entries: p.rosterLocked()}).Append(nil)
	p.mu.Unlock()
	p.broadcast(msg, toAll)
	p.notifyRoster()
}

// notifyRoster calls the WatchRoster function with the roster as it is now.
func (p *Primary) notifyRoster() {
	p.rosterMu.Lock()
	defer p.rosterMu.Unlock()
	p.mu.Lock()
	fn, r := p.onRoster, p.rosterLocked()
	p.mu.Unlock()
	if fn != nil {
		fn(r)
	}
}

// WatchRoster calls fn with the roster (highest rank first) at once and then every time
// it changes: a shadow joined or left. Calls never overlap and the last one sees the
// current roster. fn runs on the caller's or the primary's network goroutine and must
// not block; it replaces any earlier fn. Use [ClientAddrs] to announce the shadows'
// client addresses to the shard's clients (shard.Live.SetShadows).
func (p *Primary) WatchRoster(fn func([]RosterEntry)) {
	p.mu.Lock()
	p.onRoster = fn
	p.mu.Unlock()
	p.notifyRoster()
}

// ClientAddrs returns the client-facing addresses of roster (highest rank first, as
// [Primary.Roster] orders it), at most game.MaxShadows of them: the failover list
// clients get in their Welcome and in ShadowList messages.
func ClientAddrs(roster []RosterEntry) []string {
	var addrs []string
	for _, e := range roster {
		if len(addrs) < game.MaxShadows && e.ClientAddr != "" && len(e.ClientAddr) <= game.MaxAddressLen {
			addrs = append(addrs, e.ClientAddr)
		}
	}
	return addrs
}

// Recipients of broadcast.
const (
	toAll         = iota // every shadow that said Hello
	toAllKey             // the same, and the message is a keyframe: mark them synced
	toUnsyncedKey        // only those without a keyframe yet, marking them synced
)

// broadcast sends msg (and then extra, if any) to the shadows selected by to and returns
// how many it sent msg to.
func (p *Primary) broadcast(msg []byte, to int, extra ...[]byte) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, m := range p.members {
		if !m.hello || (to == toUnsyncedKey && m.synced) {
			continue
		}
		if m.peer.Send(0, msg, enet.Reliable) == nil {
			for _, x := range extra {
				_ = m.peer.Send(0, x, enet.Reliable)
			}
			n++
			if to != toAll {
				m.synced = true
			}
		}
	}
	return n
}

// send is the sync goroutine: it fans queued ticks and keyframes out.
func (p *Primary) send() {
	defer p.wg.Done()
	var z, key []byte
	for {
		var it *work
		select {
		case <-p.done:
			return
		case it = <-p.queue:
		}
		if it.ctl != nil {
			it.ctl()
			continue
		}
		if len(it.sess) > 0 {
			p.broadcast(it.msg, toAll, it.sess)
		} else {
			p.broadcast(it.msg, toAll)
		}
		p.st.ticks.Add(1)
		if it.key {
			z = p.enc.EncodeAll(it.snap, z[:0])
			kf := Keyframe{Tick: it.tick, Tuning: p.tuning, RawLen: uint32(len(it.snap)), Zstd: z}
			key = kf.Append(key[:0])
			to := toUnsyncedKey
			if it.all {
				to = toAllKey
			}
			n := p.broadcast(key, to, it.full)
			p.st.keyframes.Add(uint64(n))
			p.st.keyBytes.Store(int64(len(z)))
		}
		p.free <- it
	}
}

// announce makes a promoted shadow's primary dial the other shadows and tell them, on
// connect, that it took over.
func (p *Primary) announce(pr Promote, syncAddrs []string) {
	p.mu.Lock()
	p.promote = &pr
	p.mu.Unlock()
	for _, a := range syncAddrs {
		ua, err := net.ResolveUDPAddr("udp4", a)
		if err != nil {
			p.logf("cannot announce to %q: %v", a, err)
			continue
		}
		peer, err := p.host.Connect(ua, 1, 0)
		if err != nil {
			p.logf("cannot announce to %s: %v", a, err)
			continue
		}
		p.mu.Lock()
		if p.find(peer) == nil {
			p.members = append(p.members, &member{peer: peer, syncAddr: a})
		}
		p.mu.Unlock()
	}
}

// HandOver hands the shard over to the attached shadow of the given rank. Call it after
// the shard has stopped stepping (its Run returned): it sends every shadow a final
// keyframe of the last world OnTick saw, then a HandOver naming rank; that shadow
// promotes itself at once at that tick and the others follow it. HandOver returns when
// every shadow has disconnected, or with ctx's error.
func (p *Primary) HandOver(ctx context.Context, rank uint8) error {
	w := p.last.Load()
	if w == nil {
		return fmt.Errorf("shadow: hand-over before the first tick")
	}
	p.mu.Lock()
	found := false
	for _, m := range p.members {
		found = found || (m.hello && m.synced && m.rank == rank)
	}
	p.mu.Unlock()
	if !found {
		return fmt.Errorf("%w: rank %d", ErrNoShadow, rank)
	}
	tick := w.G.Tick
	snap := w.AppendSnapshot(nil)
	full := p.appendFullSessions(nil, tick)
	sent := make(chan struct{})
	ctl := &work{ctl: func() {
		z := p.enc.EncodeAll(snap, nil)
		kf := Keyframe{Tick: tick, Tuning: p.tuning, RawLen: uint32(len(snap)), Zstd: z}
		p.st.keyframes.Add(uint64(p.broadcast(kf.Append(nil), toAllKey, full)))
		p.broadcast((&HandOver{Tick: tick, Rank: rank}).Append(nil), toAll)
		p.mu.Lock()
		for _, m := range p.members {
			_ = m.peer.DisconnectLater(RefuseHandOver)
		}
		p.mu.Unlock()
		close(sent)
	}}
	select {
	case p.queue <- ctl:
	case <-ctx.Done():
		return ctx.Err()
	case <-p.done:
		return ErrClosed
	}
	p.logf("handing over at tick %d to rank %d", tick, rank)
	t := time.NewTicker(serviceSlice)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
			return ErrClosed
		case <-t.C:
		}
		select {
		case <-sent:
		default:
			continue
		}
		p.mu.Lock()
		n := len(p.members)
		p.mu.Unlock()
		if n == 0 {
			return nil
		}
	}
}

// Close stops serving. Shadows see the primary vanish and one of them takes over
// unless a HandOver completed first. It closes the sync host only if NewPrimary made it.
func (p *Primary) Close() error {
	p.closeOnce.Do(func() {
		close(p.done)
		if p.ownsHost {
			p.closeErr = p.host.Close()
		}
		p.wg.Wait()
		p.enc.Close()
	})
	return p.closeErr
}
