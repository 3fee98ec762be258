package shadow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/enet"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/replay"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/systems"
)

// ShadowOptions configure a [Shadow].
type ShadowOptions struct {
	// Primary is the sync address of the primary to follow (required).
	Primary string
	// SyncAddr is the UDP address of this shadow's own sync host (default
	// "127.0.0.1:0"). It dials the primary from it and, once promoted, serves the other
	// shadows on it.
	SyncAddr string
	// ClientAddr is where the shadow serves clients once promoted (default
	// "127.0.0.1:0"). NewShadow binds it at once (so port 0 picks a port, and clients
	// that fail over before the take-over completes wait in its queue) and announces
	// the bound address in the Hello and the Roster ([Shadow.ClientAddr]).
	ClientAddr string
	// Rank is the take-over priority: among the shadows alive, the highest rank takes
	// over first. Ranks must be unique per primary (a duplicate is refused).
	Rank uint8
	// Timeout is how long the primary may be silent before the take-over rule starts
	// (default 1 s).
	Timeout time.Duration
	// MaxBacklog is how many received ticks may wait to be stepped; beyond it the
	// backlog is dropped and the shadow catches up from the next keyframe (default 90).
	MaxBacklog int
	// Server configures the client-facing server of the promoted shard; Key is required
	// to promote. When Shadows is nil, the other shadows' client addresses are announced.
	Server server.Config
	// SessionGrace is how long, after a take-over, the entity of a client of the old
	// primary waits for that client to reconnect before it is removed (default
	// Server.InputTimeout, see server.Config.SessionGrace).
	SessionGrace time.Duration
	// Relay makes the shadow accept clients on its client address while it is still a
	// shadow (clients the primary redirects, see server.Config.MaxLocalClients): it
	// admits them by token (Server.Key), forwards their joins, inputs and leaves to the
	// primary in Relay messages, which the primary applies in its next tick, welcomes
	// each once the primary's Tick with its join arrives, and sends them snapshots of its
	// own verified world after every step, at SnapshotRate.
	Relay bool
	// SnapshotRate and KeyframeEvery configure the promoted shard and its sync port.
	SnapshotRate  uint16
	KeyframeEvery uint64
	// Logf, when set, receives one line per notable event: mismatches (with their tick),
	// divergence reports, resyncs, backlog drops, take-over.
	Logf func(format string, args ...any)
	// OnVerify, when set, sees every compared tick: the hash computed here and the
	// primary's. It runs on the shadow's step goroutine.
	OnVerify func(tick, computed, primary uint64)
	// OnDivergence, when set, gets each divergence report (see [Divergence]).
	OnDivergence func(Divergence)
	// OnPromote, when set, is called once the shadow took over, before its shard runs.
	OnPromote func(Promotion)
	// OnLiveTick, when set, sees every step of the promoted shard (after the sync port).
	OnLiveTick func(w *ecs.World, cmds []ecs.Command, hash uint64)
	// Hook is installed as the shadow's systems.Sim.Hook. For tests that must perturb a
	// shadow's state to prove divergence detection; never set it in production.
	Hook func(w *ecs.World)

	transport enet.Transport // tests: a transport instead of a UDP socket
}

// Divergence reports a shadow whose state hash differed from the primary's.
type Divergence struct {
	Tick     uint64 // first tick whose hash differed
	Keyframe uint64 // tick of the keyframe the state was diffed against (0: could not diff)
	// Diffs are the fields that differ at Keyframe between the primary (recorded) and
	// the shadow (recomputed): globals first, then entities by NetID; at most 16.
	Diffs []replay.FieldDiff
}

func (d Divergence) String() string {
	if len(d.Diffs) == 0 {
		return fmt.Sprintf("diverged at tick %d (no field diff at keyframe %d)", d.Tick, d.Keyframe)
	}
	return fmt.Sprintf("diverged at tick %d; at keyframe %d first %s (%d fields differ)", d.Tick, d.Keyframe, d.Diffs[0], len(d.Diffs))
}

// Promotion describes a take-over.
type Promotion struct {
	Tick       uint64 // the shard continues after this tick: the last one with complete commands
	Hash       uint64 // state hash at Tick
	ClientAddr string // where the promoted shard serves clients
	SyncAddr   string // where the other shadows now sync from
	Planned    bool   // a HandOver named this shadow (else the primary fell silent)
	Sessions   int    // entities of the primary's clients kept for them to reconnect
}

// ShadowStats are a shadow's figures.
type ShadowStats struct {
	Primary      string // sync address of the primary followed now
	Tick         uint64 // last tick stepped
	Synced       bool   // holds a world that follows the primary tick by tick
	Compared     uint64 // ticks whose hash was compared with the primary's
	Mismatches   uint64 // ticks whose hash differed
	Divergences  uint64 // divergence episodes (each ends with a resync)
	Keyframes    uint64 // keyframes received
	Resyncs      uint64 // restores from a keyframe after a divergence, gap or backlog drop
	Gaps         uint64 // missing ticks noticed
	BacklogDrops uint64 // times the backlog was dropped
	Sessions     int    // client sessions (client id → entity) of the primary known now
	Foreign      uint64 // messages dropped because they did not come from the current primary
	Bad          uint64 // messages dropped because they did not parse or check
	Roster       []RosterEntry
	Relay        server.Stats // the relay front's counters (ShadowOptions.Relay)
	Last         *Divergence  // the last divergence report
	Promoted     *Promotion   // set once this shadow took over
}

type itemKind uint8

const (
	itemTick itemKind = iota
	itemKey
	itemFollow   // a new primary announced itself after tick
	itemPromote  // take over (planned: at tick)
	itemSessions // session map changes (or all of it) in data
)

type item struct {
	kind    itemKind
	tick    uint64
	hash    uint64
	cmds    []ecs.Command
	data    []byte
	planned bool
}

// Promotion states.
const (
	promoNone = iota
	promoAsked
	promoIneligible
)

// Shadow is a hot standby: it follows a primary tick by tick, verifies every state hash,
// and takes over when the primary falls silent (see the package documentation for the
// rule). Create it with [NewShadow] and run it with [Shadow.Run].
type Shadow struct {
	opt        ShadowOptions
	host       *enet.Host
	clientConn *net.UDPConn // the client port, until the promoted shard owns it
	logf       func(string, ...any)

	// queue from the network goroutine to the step goroutine
	qmu     sync.Mutex
	q       []*item
	qTicks  int
	lagging bool
	qsig    chan struct{}
	spare   []*item

	prim      *enet.Peer // owned by the network goroutine until it exits
	promo     atomic.Int32
	promoting chan struct{} // closed by the step goroutine to stop the network goroutine
	netDone   chan struct{}
	promoted  chan struct{}

	// step goroutine state
	w          *ecs.World
	sim        *systems.Sim
	cfg        systems.Config
	tuning     []byte
	synced     bool
	diverged   bool
	divergedAt uint64
	dec        *zstd.Decoder
	raw        []byte
	sessions   map[uint64]ecs.NetID // the primary's session map, as of the last item applied
	binds      []server.Binding

	// relay front (ShadowOptions.Relay): owned by the step goroutine
	rsrv      *server.Server
	relayPeer atomic.Pointer[enet.Peer] // the primary, for Relay messages
	rcmds     []ecs.Command
	rnext     []ecs.Command
	rmsg      []byte

	mu      sync.Mutex
	st      ShadowStats
	live    *shard.Live
	primary *Primary

	ctx       context.Context
	cancel    context.CancelFunc
	runMu     sync.Mutex
	running   bool
	runDone   chan struct{}
	closeOnce sync.Once
}

// NewShadow binds the shadow's sync host and starts connecting to the primary; Run
// follows it.
func NewShadow(opt ShadowOptions) (*Shadow, error) {
	if opt.Primary == "" {
		return nil, errors.New("shadow: no primary address")
	}
	pa, err := net.ResolveUDPAddr("udp4", opt.Primary)
	if err != nil {
		return nil, fmt.Errorf("shadow: primary address: %w", err)
	}
	if opt.SyncAddr == "" {
		opt.SyncAddr = "127.0.0.1:0"
	}
	if opt.ClientAddr == "" {
		opt.ClientAddr = "127.0.0.1:0"
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.MaxBacklog <= 0 {
		opt.MaxBacklog = DefaultMaxBacklog
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxSnapshot))
	if err != nil {
		return nil, fmt.Errorf("shadow: %w", err)
	}
	ca, err := net.ResolveUDPAddr("udp4", opt.ClientAddr)
	if err != nil {
		dec.Close()
		return nil, fmt.Errorf("shadow: client address: %w", err)
	}
	clientConn, err := net.ListenUDP("udp4", ca)
	if err != nil {
		dec.Close()
		return nil, fmt.Errorf("shadow: client port: %w", err)
	}
	clientConn.SetReadBuffer(server.ReadBuffer) // as server.Listen: a take-over brings every client at once
	opt.ClientAddr = clientConn.LocalAddr().String()
	if len(opt.ClientAddr) > game.MaxAddressLen {
		clientConn.Close()
		dec.Close()
		return nil, fmt.Errorf("shadow: client address longer than %d bytes", game.MaxAddressLen)
	}
	tr := opt.transport
	if tr == nil {
		ua, err := net.ResolveUDPAddr("udp4", opt.SyncAddr)
		if err != nil {
			clientConn.Close()
			dec.Close()
			return nil, fmt.Errorf("shadow: sync address: %w", err)
		}
		conn, err := net.ListenUDP("udp4", ua)
		if err != nil {
			clientConn.Close()
			dec.Close()
			return nil, fmt.Errorf("shadow: %w", err)
		}
		tr = conn
	}
	host, err := enet.Listen(tr, hostConfig(DefaultMaxShadows+2))
	if err != nil {
		tr.Close()
		clientConn.Close()
		dec.Close()
		return nil, fmt.Errorf("shadow: %w", err)
	}
	s := &Shadow{
		opt:        opt,
		host:       host,
		clientConn: clientConn,
		logf:       opt.Logf,
		qsig:       make(chan struct{}, 1),
		promoting:  make(chan struct{}),
		netDone:    make(chan struct{}),
		promoted:   make(chan struct{}),
		dec:        dec,
		runDone:    make(chan struct{}),
		sessions:   map[uint64]ecs.NetID{},
	}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if opt.Relay {
		rc := opt.Server
		rc.Sessions, rc.MaxLocalClients, rc.Redirect = nil, 0, nil
		rc.SessionBase = server.RelaySessionBase(opt.Rank)
		if rc.SnapshotRate = opt.SnapshotRate; rc.SnapshotRate == 0 {
			rc.SnapshotRate = 20
		}
		if rc.ClipPeriods == nil {
			// The relay serves clients before the primary's systems config arrives:
			// the default library's clips (a shard's, unless configured otherwise).
			rc.ClipPeriods = systems.DefaultConfig().Lib.ClipPeriods()
		}
		if s.rsrv, err = server.New(clientConn, rc); err != nil {
			host.Close()
			clientConn.Close()
			dec.Close()
			return nil, fmt.Errorf("shadow: relay: %w", err)
		}
		s.clientConn = nil // the relay front owns it until a take-over
	}
	if s.prim, err = host.Connect(pa, 1, 0); err != nil {
		host.Close()
		s.closeClientConn()
		dec.Close()
		return nil, fmt.Errorf("shadow: connect to primary: %w", err)
	}
	s.st.Primary = pa.String()
	return s, nil
}

// SyncAddr is the address of the shadow's sync host.
func (s *Shadow) SyncAddr() net.Addr { return s.host.LocalAddr() }

// ClientAddr is the address the shadow serves clients on once promoted (bound from
// ShadowOptions.ClientAddr), as announced to the primary.
func (s *Shadow) ClientAddr() string { return s.opt.ClientAddr }

// Promoted is closed once the shadow has taken over and its shard is about to run.
func (s *Shadow) Promoted() <-chan struct{} { return s.promoted }

// Live returns the promoted shard, or nil before a take-over.
func (s *Shadow) Live() *shard.Live {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live
}

// Primary returns the promoted shard's sync port, or nil before a take-over.
func (s *Shadow) Primary() *Primary {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.primary
}

// Stats returns the shadow's figures.
func (s *Shadow) Stats() ShadowStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	st.Roster = append([]RosterEntry(nil), st.Roster...)
	if s.rsrv != nil {
		st.Relay = s.rsrv.Stats()
	}
	return st
}

func (s *Shadow) count(f func(st *ShadowStats)) {
	s.mu.Lock()
	f(&s.st)
	s.mu.Unlock()
}

// Run follows the primary until ctx ends or Close is called; after a take-over it runs
// the promoted shard (and its sync port) until then. It returns nil when stopped, or
// the error that stopped it.
func (s *Shadow) Run(ctx context.Context) error {
	s.runMu.Lock()
	if s.running {
		s.runMu.Unlock()
		return errors.New("shadow: Run called twice")
	}
	s.running = true
	s.runMu.Unlock()
	defer close(s.runDone)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()

	go s.netLoop(ctx)
	err := s.stepLoop(ctx)
	select {
	case <-s.promoting:
	default:
		close(s.promoting)
	}
	<-s.netDone
	s.host.Close()
	s.dec.Close()
	s.closeClientConn()
	return err
}

func (s *Shadow) closeClientConn() {
	s.mu.Lock()
	c, r := s.clientConn, s.rsrv
	s.clientConn, s.rsrv = nil, nil
	s.mu.Unlock()
	if c != nil {
		c.Close()
	}
	if r != nil {
		r.Close()
	}
}

// Close stops the shadow (and its promoted shard) and releases its socket.
func (s *Shadow) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.runMu.Lock()
		running := s.running
		s.running = true // a later Run fails
		s.runMu.Unlock()
		if running {
			<-s.runDone
		} else {
			s.host.Close()
			s.dec.Close()
			s.closeClientConn()
		}
	})
	return nil
}

// push queues it for the step goroutine, applying the backlog rule to ticks.
func (s *Shadow) push(it *item) {
	s.qmu.Lock()
	switch it.kind {
	case itemTick:
		if s.lagging {
			s.spare = append(s.spare, it)
			s.qmu.Unlock()
			return
		}
		if s.qTicks >= s.opt.MaxBacklog {
			kept := s.q[:0]
			for _, o := range s.q {
				if o.kind == itemTick || o.kind == itemKey {
					s.spare = append(s.spare, o)
				} else {
					kept = append(kept, o)
				}
			}
			clear(s.q[len(kept):])
			s.q = kept
			s.qTicks = 0
			s.lagging = true
			s.spare = append(s.spare, it)
			s.qmu.Unlock()
			s.count(func(st *ShadowStats) { st.BacklogDrops++ })
			s.logf("shadow: backlog over %d ticks at tick %d: dropped, catching up from the next keyframe", s.opt.MaxBacklog, it.tick)
			return
		}
		s.qTicks++
	case itemKey:
		s.lagging = false
	}
	s.q = append(s.q, it)
	s.qmu.Unlock()
	select {
	case s.qsig <- struct{}{}:
	default:
	}
}

func (s *Shadow) newItem(kind itemKind) *item {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	var it *item
	if n := len(s.spare); n > 0 {
		it = s.spare[n-1]
		s.spare = s.spare[:n-1]
	} else {
		it = &item{}
	}
	it.kind, it.tick, it.hash, it.planned = kind, 0, 0, false
	return it
}

func (s *Shadow) pop(ctx context.Context) *item {
	for {
		s.qmu.Lock()
		if len(s.q) > 0 {
			it := s.q[0]
			s.q[0] = nil
			s.q = s.q[1:]
			if it.kind == itemTick {
				s.qTicks--
			}
			s.qmu.Unlock()
			return it
		}
		s.qmu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-s.qsig:
		}
	}
}

func (s *Shadow) recycle(it *item) {
	s.qmu.Lock()
	s.spare = append(s.spare, it)
	s.qmu.Unlock()
}

// pendingPromote is a Promote from a peer that is not (yet) our primary.
type pendingPromote struct {
	peer *enet.Peer
	msg  Promote
}

// netLoop is the network goroutine: it services the sync host, forwards the primary's
// messages to the step goroutine and runs the take-over timers.
func (s *Shadow) netLoop(ctx context.Context) {
	defer close(s.netDone)
	var (
		heard     bool // the current primary has spoken
		gone      bool // ... and disconnected
		lastHeard = time.Now()
		redial    time.Time
		roster    []RosterEntry
		successor = -1 // rank named by a HandOver
		pending   *pendingPromote
		msg       []byte
	)
	primAddr := s.prim.Addr()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.promoting:
			return
		default:
		}
		ev, err := s.host.Service(serviceSlice)
		if err != nil {
			return
		}
		now := time.Now()
		switch ev.Type {
		case enet.EventConnect:
			if ev.Peer == s.prim {
				msg = s.hello(ev.Peer, msg)
			}
		case enet.EventDisconnect:
			if ev.Peer != s.prim {
				break
			}
			if ev.Data != 0 && ev.Data != RefuseHandOver {
				s.logf("shadow: primary %s refused us (code %d)", primAddr, ev.Data)
			}
			gone = true
			if !heard && ev.Data == 0 {
				redial = now.Add(250 * time.Millisecond) // the primary may not be up yet
			}
		case enet.EventReceive:
			b := ev.Packet
			if ev.Peer != s.prim {
				if len(b) > 0 && Type(b[0]) == TypePromote {
					if pr, _, err := ParsePromote(b); err == nil {
						pending = &pendingPromote{peer: ev.Peer, msg: pr}
						break
					}
				}
				s.count(func(st *ShadowStats) { st.Foreign++ })
				break
			}
			heard, lastHeard = true, now
			if err := s.receive(b, &roster, &successor); err != nil {
				s.count(func(st *ShadowStats) { st.Bad++ })
				s.logf("shadow: dropped a message from the primary: %v", err)
			}
		}
		if !redial.IsZero() && now.After(redial) {
			redial = time.Time{}
			if p, err := s.host.Connect(primAddr, 1, 0); err == nil {
				s.prim, gone = p, false
			}
		}
		state := s.promo.Load()
		if pending != nil && state != promoAsked {
			silence := now.Sub(lastHeard)
			if !heard || gone || silence >= s.opt.Timeout/2 || int(pending.msg.Rank) == successor {
				if s.prim != nil && s.prim != pending.peer {
					_ = s.prim.DisconnectNow(0)
				}
				s.prim, primAddr = pending.peer, pending.peer.Addr()
				heard, gone, lastHeard, successor, redial = true, false, now, -1, time.Time{}
				msg = s.hello(s.prim, msg)
				it := s.newItem(itemFollow)
				it.tick = pending.msg.Tick
				s.push(it)
				s.promo.Store(promoNone)
				s.count(func(st *ShadowStats) { st.Primary = primAddr.String() })
				s.logf("shadow: following rank %d at %s, which took over after tick %d (clients: %s)",
					pending.msg.Rank, primAddr, pending.msg.Tick, pending.msg.ClientAddr)
				pending = nil
			}
		}
		if heard && state == promoNone {
			higher := 0
			for _, e := range roster {
				if e.Rank > s.opt.Rank {
					higher++
				}
			}
			if now.Sub(lastHeard) >= s.opt.Timeout*time.Duration(1+higher) {
				s.promo.Store(promoAsked)
				s.logf("shadow: primary silent for %s (%d higher ranks): taking over", now.Sub(lastHeard).Round(time.Millisecond), higher)
				s.push(s.newItem(itemPromote))
			}
		}
	}
}

// hello says Hello to the primary peer and, for a relay, the empty Relay that offers
// it; relayed commands go to that peer from now on.
func (s *Shadow) hello(peer *enet.Peer, buf []byte) []byte {
	buf = (&Hello{Version: Version, Rank: s.opt.Rank, ClientAddr: s.opt.ClientAddr}).Append(buf[:0])
	_ = peer.Send(0, buf, enet.Reliable)
	if s.opt.Relay {
		buf = AppendRelay(buf[:0], nil)
		_ = peer.Send(0, buf, enet.Reliable)
		s.relayPeer.Store(peer)
	}
	return buf
}

// relayStep serves the relay front after a step (step goroutine): it welcomes the
// clients whose joins the step performed, sends the snapshot when one is due, and
// forwards what its clients did since to the primary.
func (s *Shadow) relayStep(joined []systems.Joined) {
	s.mu.Lock()
	srv := s.rsrv
	s.mu.Unlock()
	if srv == nil {
		return
	}
	s.rnext = srv.Joined(joined, s.w, s.rnext)
	if rate := s.w.G.Rate; snapshotDue(s.w.G.Tick, rate, min(s.relaySnapshotRate(), rate)) {
		srv.Broadcast(s.w)
	}
	s.rcmds = srv.Poll(append(s.rcmds[:0], s.rnext...))
	s.rnext = s.rnext[:0]
	if len(s.rcmds) == 0 {
		return
	}
	if p := s.relayPeer.Load(); p != nil {
		s.rmsg = AppendRelay(s.rmsg[:0], s.rcmds)
		_ = p.Send(0, s.rmsg, enet.Reliable)
	}
}

func (s *Shadow) relaySnapshotRate() uint16 {
	if s.opt.SnapshotRate == 0 {
		return 20
	}
	return s.opt.SnapshotRate
}

// snapshotDue reports whether a snapshot goes out after tick (as shard.Live decides):
// exactly snapRate of every rate ticks, spread evenly.
func snapshotDue(tick uint64, rate, snapRate uint16) bool {
	if tick == 0 || rate == 0 {
		return false
	}
	r, sr := uint64(rate), uint64(snapRate)
	return tick*sr/r != (tick-1)*sr/r
}

// receive handles one message from the current primary (network goroutine).
func (s *Shadow) receive(b []byte, roster *[]RosterEntry, successor *int) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty message", ErrTruncated)
	}
	switch Type(b[0]) {
	case TypeTick:
		it := s.newItem(itemTick)
		t, _, err := ParseTick(b, it.cmds)
		if err != nil {
			s.recycle(it)
			return err
		}
		it.tick, it.hash, it.cmds = t.Tick, t.Hash, t.Cmds
		s.push(it)
	case TypeKeyframe:
		k, _, err := ParseKeyframe(b)
		if err != nil {
			return err
		}
		it := s.newItem(itemKey)
		it.tick = k.Tick
		it.data = append(it.data[:0], b...)
		s.push(it)
	case TypeHeartbeat:
		if _, _, err := ParseHeartbeat(b); err != nil {
			return err
		}
	case TypeRoster:
		r, _, err := ParseRoster(b)
		if err != nil {
			return err
		}
		*roster = r.Entries
		s.count(func(st *ShadowStats) { st.Roster = r.Entries })
	case TypeHandOver:
		h, _, err := ParseHandOver(b)
		if err != nil {
			return err
		}
		*successor = int(h.Rank)
		if h.Rank == s.opt.Rank && s.promo.Load() == promoNone {
			s.promo.Store(promoAsked)
			it := s.newItem(itemPromote)
			it.tick, it.planned = h.Tick, true
			s.push(it)
		}
	case TypeSessions:
		if _, _, err := ParseSessions(b, nil); err != nil {
			return err
		}
		it := s.newItem(itemSessions)
		it.data = append(it.data[:0], b...)
		s.push(it)
	case TypePromote:
		// Our own primary announcing itself (we dialled a promoted shadow): nothing to do.
		if _, _, err := ParsePromote(b); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: %s from a primary", ErrUnknownType, Type(b[0]))
	}
	return nil
}

// stepLoop is the step goroutine: it applies the queued ticks and keyframes and, when
// asked and eligible, takes over.
func (s *Shadow) stepLoop(ctx context.Context) error {
	for {
		it := s.pop(ctx)
		if it == nil {
			return nil
		}
		switch it.kind {
		case itemTick:
			s.step(it)
		case itemKey:
			s.keyframe(it)
		case itemSessions:
			s.applySessions(it)
		case itemFollow:
			if s.w == nil || !s.synced || s.diverged || s.w.G.Tick != it.tick {
				s.synced = false
				s.count(func(st *ShadowStats) { st.Synced = false })
			}
		case itemPromote:
			planned, tick := it.planned, it.tick
			s.recycle(it)
			if s.w == nil || !s.synced || s.diverged || (planned && s.w.G.Tick != tick) {
				s.promo.Store(promoIneligible)
				s.logf("shadow: not eligible to take over (synced %v, diverged %v): waiting for another shadow", s.synced, s.diverged)
				continue
			}
			return s.takeOver(ctx, planned)
		}
		s.recycle(it)
	}
}

// applySessions applies a Sessions message: in stream order with the ticks, so at every
// tick the map is the primary's after that tick.
func (s *Shadow) applySessions(it *item) {
	m, _, err := ParseSessions(it.data, s.binds)
	if err != nil {
		return // checked on receipt
	}
	s.binds = m.Entries
	if m.Full {
		clear(s.sessions)
	}
	for _, b := range m.Entries {
		if b.ID == 0 {
			delete(s.sessions, b.Client)
		} else {
			s.sessions[b.Client] = b.ID
		}
	}
	n := len(s.sessions)
	s.count(func(st *ShadowStats) { st.Sessions = n })
}

func (s *Shadow) step(it *item) {
	if s.w == nil || !s.synced || it.tick <= s.w.G.Tick {
		return // waiting for a keyframe, or a tick the keyframe already covers
	}
	if it.tick != s.w.G.Tick+1 {
		s.synced = false
		s.count(func(st *ShadowStats) { st.Gaps++; st.Synced = false })
		s.logf("shadow: tick %d after %d: gap, waiting for the next keyframe", it.tick, s.w.G.Tick)
		return
	}
	res := s.sim.Step(s.w, it.cmds)
	h := ecs.Hash(s.w)
	if s.opt.Relay {
		s.relayStep(res.Joined)
	}
	mismatch := h != it.hash
	first := mismatch && !s.diverged
	if first {
		s.diverged, s.divergedAt = true, it.tick
	}
	s.count(func(st *ShadowStats) {
		st.Tick = it.tick
		st.Compared++
		if mismatch {
			st.Mismatches++
		}
		if first {
			st.Divergences++
		}
	})
	if first {
		s.logf("shadow: hash mismatch at tick %d: primary %016x, shadow %016x", it.tick, it.hash, h)
	}
	if s.opt.OnVerify != nil {
		s.opt.OnVerify(it.tick, h, it.hash)
	}
}

func (s *Shadow) keyframe(it *item) {
	k, _, err := ParseKeyframe(it.data)
	if err == nil {
		s.raw, err = s.dec.DecodeAll(k.Zstd, s.raw[:0])
		if err == nil && len(s.raw) != int(k.RawLen) {
			err = fmt.Errorf("%w: %d bytes decompressed, %d announced", ErrKeyframe, len(s.raw), k.RawLen)
		}
	}
	if err == nil && !bytes.Equal(k.Tuning, s.tuning) {
		var cfg systems.Config
		if cfg, err = systems.ParseTuning(k.Tuning); err == nil {
			s.cfg, s.tuning, s.sim = cfg, bytes.Clone(k.Tuning), nil
		}
	}
	if err != nil {
		s.count(func(st *ShadowStats) { st.Bad++ })
		s.logf("shadow: bad keyframe: %v", err)
		return
	}
	s.count(func(st *ShadowStats) { st.Keyframes++ })
	if s.w != nil && s.synced && !s.diverged && s.w.G.Tick == k.Tick && s.sim != nil {
		return // every tick up to here matched the primary's hash
	}
	if s.diverged {
		d := Divergence{Tick: s.divergedAt}
		if s.w.G.Tick == k.Tick {
			if rec, err := ecs.Decode(s.raw); err == nil {
				d.Keyframe = k.Tick
				d.Diffs = replay.DiffStates(rec, s.w.State())
				if len(d.Diffs) > 16 {
					d.Diffs = d.Diffs[:16]
				}
			}
		}
		s.count(func(st *ShadowStats) { st.Last = &d })
		s.logf("shadow: %s; resyncing from keyframe %d", d, k.Tick)
		if s.opt.OnDivergence != nil {
			s.opt.OnDivergence(d)
		}
	}
	w, err := replay.LoadWorld(s.raw, &s.cfg)
	if err != nil {
		s.count(func(st *ShadowStats) { st.Bad++ })
		s.logf("shadow: keyframe %d does not load: %v", k.Tick, err)
		return
	}
	resync := s.w != nil
	s.w, s.synced, s.diverged = w, true, false
	if s.sim == nil {
		s.sim = systems.New(s.cfg)
		s.sim.Hook = s.opt.Hook
	}
	s.count(func(st *ShadowStats) {
		st.Tick, st.Synced = k.Tick, true
		if resync {
			st.Resyncs++
		}
	})
}

// takeOver promotes this shadow: it stops following, starts a live shard on its world and
// a primary on its sync host, announces itself to the other shadows and runs the shard
// until ctx ends.
func (s *Shadow) takeOver(ctx context.Context, planned bool) error {
	close(s.promoting)
	<-s.netDone
	if s.prim != nil {
		_ = s.prim.DisconnectNow(0)
	}
	roster := s.Stats().Roster
	p, err := newPrimary(s.host, PrimaryOptions{Systems: s.cfg, KeyframeEvery: s.opt.KeyframeEvery, Logf: s.opt.Logf})
	if err != nil {
		return err
	}
	defer p.Close()
	// The dead primary's clients get their entities back when they reconnect; the
	// promoted shard's own shadows learn the map with its first keyframe.
	p.sessions = maps.Clone(s.sessions)
	srv := s.opt.Server
	srv.Sessions = maps.Clone(s.sessions)
	if s.opt.SessionGrace > 0 {
		srv.SessionGrace = s.opt.SessionGrace
	}
	var others []string
	for _, e := range roster {
		if e.Rank == s.opt.Rank {
			continue
		}
		others = append(others, e.SyncAddr)
		if s.opt.Server.Shadows == nil && len(srv.Shadows) < game.MaxShadows && e.ClientAddr != "" && len(e.ClientAddr) <= game.MaxAddressLen {
			srv.Shadows = append(srv.Shadows, e.ClientAddr)
		}
	}
	onTick := p.OnTick
	if f := s.opt.OnLiveTick; f != nil {
		onTick = func(w *ecs.World, cmds []ecs.Command, hash uint64) {
			p.OnTick(w, cmds, hash)
			f(w, cmds, hash)
		}
	}
	pr := Promotion{Tick: s.w.G.Tick, Hash: ecs.Hash(s.w), SyncAddr: s.host.LocalAddr().String(), Planned: planned, Sessions: len(srv.Sessions)}
	s.mu.Lock()
	conn, rsrv := s.clientConn, s.rsrv
	s.clientConn, s.rsrv = nil, nil
	s.mu.Unlock()
	if rsrv != nil {
		// The relay front's clients lose it (they fail over, to this address among
		// others); the promoted shard binds the same address.
		rsrv.Close()
		ca, err := net.ResolveUDPAddr("udp4", s.opt.ClientAddr)
		if err == nil {
			conn, err = net.ListenUDP("udp4", ca)
		}
		if err != nil {
			return fmt.Errorf("shadow: take-over: client port: %w", err)
		}
		conn.SetReadBuffer(server.ReadBuffer)
	}
	if conn == nil {
		return ErrClosed
	}
	live, err := shard.StartLive(shard.LiveConfig{
		Transport:    conn,
		Systems:      s.cfg,
		SnapshotRate: s.opt.SnapshotRate,
		Server:       srv,
		OnTick:       onTick,
		OnSessions:   p.Bind,
		Initial:      s.w,
	})
	if err != nil {
		conn.Close()
		return fmt.Errorf("shadow: take-over at tick %d: %w", pr.Tick, err)
	}
	if s.opt.Server.Shadows == nil {
		// Clients learn the shadows that follow the promoted shard as they join it.
		p.WatchRoster(func(r []RosterEntry) { live.SetShadows(ClientAddrs(r)) })
	}
	s.w = nil // the live shard owns it now
	pr.ClientAddr = live.Addr().String()
	p.announce(Promote{Tick: pr.Tick, Rank: s.opt.Rank, ClientAddr: pr.ClientAddr}, others)
	s.mu.Lock()
	s.live, s.primary, s.st.Promoted = live, p, &pr
	s.st.Primary = ""
	s.mu.Unlock()
	s.logf("shadow: took over after tick %d (hash %016x), serving clients on %s, shadows on %s (%s); %d client entities wait for their clients",
		pr.Tick, pr.Hash, pr.ClientAddr, pr.SyncAddr, strings.Join(others, ", "), len(srv.Sessions))
	if s.opt.OnPromote != nil {
		s.opt.OnPromote(pr)
	}
	close(s.promoted)
	return live.Run(ctx)
}
