package server

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardsim/shardsim/art"
	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/enet"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/net/godot"
	"github.com/shardsim/shardsim/systems"
)

// Config configures a [Server].
type Config struct {
	Godot        godot.Version // framing of the clients: godot.V3 (default) or godot.V4
	MaxClients   int           // default 2048
	Key          []byte        // HMAC key that signs connect tokens (required)
	HelloTimeout time.Duration // time to present a token after connecting; default 5 s
	InputTimeout time.Duration // a playing client silent this long is kicked; default 10 s
	// Shadows are the failover addresses announced in Welcome, highest take-over rank
	// first; [Server.SetShadows] replaces them while the server runs.
	Shadows      []string
	SnapshotRate uint16 // announced in Welcome
	// ClipPeriods are the periods of the looping animations by id, in µs (see
	// game.Quantizer.ClipPeriods and anim.Library.ClipPeriods): snapshots keep a
	// looping animation's time reference constant across loops. The shard sets them.
	ClipPeriods []int32
	// BytesPerSnapshot is each client's snapshot message budget (0: DownlinkBitsPerSec
	// over SnapshotRate, less the ENet and Godot framing of a snapshot; with no
	// SnapshotRate, game.DefaultBytesPerSnapshot).
	BytesPerSnapshot int
	Clock            func() time.Time // default time.Now
	// MaxBadMessages is how many unparseable messages a client may send before it is
	// kicked (default 32).
	MaxBadMessages int
	// Art is the store uploads go to and fetches read from; nil refuses both.
	Art *art.Store
	// FetchBytesPerTick bounds the art bytes streamed to one client per Poll (default
	// DefaultFetchBytesPerTick); MaxFetches the fetches queued per client
	// (DefaultMaxFetches).
	FetchBytesPerTick int
	MaxFetches        int
	// Sessions, when set, are the entities of the clients of an earlier server of the
	// same world (a promoted shadow's copy of its dead primary's session map: token
	// client id → NetID). A client that presents a valid token for one of these client
	// ids takes its entity over: no CmdJoin, a Welcome with that NetID, and its inputs
	// drive it. Entities whose client does not come back within SessionGrace are
	// removed with a CmdLeave from Poll.
	Sessions map[uint64]ecs.NetID
	// SessionGrace is how long an entity of Sessions waits for its client (default
	// InputTimeout).
	SessionGrace time.Duration
	// MaxLocalClients, when > 0, is how many sessions (joining or playing) the server
	// serves itself: a newly admitted client beyond it is sent a game.RedirectMsg to
	// the address Redirect returns, when that is not empty, and disconnected after
	// KickGrace without joining (load relief: a relaying shadow shard serves it).
	// Clients taking an existing entity over are never redirected.
	MaxLocalClients int
	Redirect        func() string
	// SessionBase is ORed into every session number (the Arg of the CmdJoins the server
	// issues). A relaying shadow shard's front uses [RelaySessionBase] of its rank, so
	// that it recognises its clients' joins in the primary's ticks; 0 for a shard.
	SessionBase uint32
	// EncodeWorkers is how many goroutines encode a Broadcast's snapshots (0:
	// GOMAXPROCS). The shard goroutine is one of them; the others wait for work.
	EncodeWorkers int
}

// ReadBuffer is the socket receive buffer Listen asks for: a 50 ms stall of the reader
// at 2,000 clients × 20 inputs/s.
const ReadBuffer = 4 << 20

// DownlinkBitsPerSec is the default bandwidth of a client's snapshots, counted as ENet
// datagram bytes (what the client's socket receives, less the UDP/IP headers): issue
// 7's 64 kbit/s per client.
const DownlinkBitsPerSec = 64_000

// snapshotFraming is what a snapshot message gains on its way to the client's socket:
// the ENet datagram header with its sent time (4 bytes), the unreliable SEND command
// header (8), the Godot 3 raw-packet header (9), and 3 bytes per snapshot for the pings
// and acknowledgements sharing the link.
const snapshotFraming = 4 + 8 + 9 + 3

// snapshotBudget returns the snapshot message budget that keeps a client's downlink
// within DownlinkBitsPerSec at the given snapshot rate, with 1% to spare for what a
// session's edges add (handshake, Welcome, the first and last second): measured per
// client from its Welcome, the load run's p99 was 64.3 kbit/s without it.
func snapshotBudget(rate uint16) int {
	if rate == 0 {
		return game.DefaultBytesPerSnapshot
	}
	return max(DownlinkBitsPerSec*99/100/8/int(rate)-snapshotFraming, 64)
}

// RelaySessionBase is the session range of the relaying shadow of the given rank:
// sessions 1<<31 | rank<<23 | n with n in [1, 2^23). A shard's own sessions stay below
// 1<<31, so the ranges never meet.
func RelaySessionBase(rank uint8) uint32 { return 1<<31 | uint32(rank)<<23 }

// RelayRank reports the rank whose relay session range holds ref, if any.
func RelayRank(ref uint32) (rank uint8, ok bool) {
	if ref&(1<<31) == 0 || ref&(1<<23-1) == 0 {
		return 0, false
	}
	return uint8(ref >> 23), true
}

// Binding is one change of a server's session map (token client id → NetID of its
// entity): ID is the entity the client is bound to, or 0 when the binding ends. See
// [Server.TakeBindings].
type Binding struct {
	Client uint64
	ID     ecs.NetID
}

// Drop reasons counted in [Stats].
const (
	DropFraming  = iota // not a valid Godot frame
	DropMessage         // not a valid game message
	DropState           // valid, but not expected in the client's state
	DropBadToken        // token malformed, forged or expired
	numDropReasons
)

// Stats are the server's counters. Read them with [Server.Stats] from any goroutine.
type Stats struct {
	Clients      int64 // sessions playing now
	Connects     int64 // ENet connections accepted
	Admitted     int64 // sessions that presented a valid token
	Kicked       int64
	Disconnects  int64
	InputMsgs    int64
	Snapshots    int64 // snapshot messages sent
	SnapshotSize int64 // bytes of snapshot messages sent
	// Records are the entity records the snapshots carried, RecordBytes their
	// payloads' bytes after delta and compression (the zstd frames, without the
	// fixed header): RecordBytes/Records is the bytes per changed entity.
	Records, RecordBytes int64
	Dropped              [numDropReasons]int64
	// Art: uploads begun, resumed (begun with bytes kept from before), stored, swept
	// (abandoned) and refused (UploadError sent); upload bytes received; fetches asked,
	// refused and bytes streamed.
	UploadsBegun, UploadsResumed, UploadsStored, UploadsSwept, UploadErrors int64
	UploadBytes                                                             int64
	Fetches, FetchErrors, FetchBytes                                        int64
	// Sessions: entities taken over by a reconnecting client (Config.Sessions, or a
	// client that connected again with the id of a playing session), sessions replaced
	// that way (kicked with game.ReasonReplaced), entities of Config.Sessions removed
	// because their client did not come back in time, and those still waiting.
	Reclaimed, Replaced, Expired, Orphans int64
	// Redirected counts admitted clients sent elsewhere (Config.MaxLocalClients).
	Redirected int64
	Host       enet.Stats
}

type clientState uint8

const (
	awaitingHello clientState = iota
	joining                   // admitted; CmdJoin issued, no entity yet
	playing
	leaving // disconnected while joining: leave once the entity exists
	kicked  // sent a Kick; disconnected once KickGrace has passed
)

// KickGrace is how long a kicked client keeps its connection so that the Kick message is
// delivered: a Godot 3 client drops packets still queued when the disconnect arrives in
// the same poll, which on a fast link is the same frame.
const KickGrace = 500 * time.Millisecond

type client struct {
	peer     *enet.Peer
	godotID  uint32
	clientID uint64
	session  uint32
	state    clientState
	id       ecs.NetID
	view     *game.ClientView // protocol version 4
	cview    *game.CellView   // protocol version 5 (cells)
	cells    bool             // the client's Hello asked for cell streams
	deadline time.Time        // hello deadline, then input deadline
	in       ecs.Input        // last input applied
	seq      uint32           // newest input sequence applied
	bad      int
	up       *upload   // current upload
	fetches  []*fetch  // queued art streams, first is being sent
	reclaim  ecs.NetID // joining: the existing entity Joined hands over (no CmdJoin)
	// The newest ack received since the last Broadcast: the encode worker applies it
	// to the view before the client's next snapshot (in parallel with the other
	// clients', and next to the view's other work, while its memory is in the cache).
	ack   game.Ack
	acked bool
}

// orphan is an entity of Config.Sessions waiting for its client.
type orphan struct {
	id       ecs.NetID
	deadline time.Time
}

// Server is the network front of one shard. Poll, Joined and Broadcast must be called
// from one goroutine; Stats and Addr from any.
type Server struct {
	cfg   Config
	host  *enet.Host
	codec godot.Codec

	byPeer    map[*enet.Peer]*client // lookup only; never iterated
	clients   []*client              // stable order for fan-out
	bySession map[uint32]*client
	nextSess  uint32
	byClient  map[uint64]*client // the live session (joining or playing) of each client id
	orphans   map[uint64]orphan  // entities of Config.Sessions not reclaimed yet
	reclaims  []*client          // admitted clients that take an existing entity over
	binds     []Binding          // session map changes since TakeBindings

	ring    *game.FrameRing
	buf     []byte
	out     []byte
	workers []*encodeWorker // workers[0] runs on the shard goroutine
	fanout  []*client       // the playing clients of the current Broadcast
	encWG   sync.WaitGroup

	pending   []placement // CmdPlaceCanvas issued by the last Poll
	nextSweep time.Time

	shadows    []string                 // announced in Welcomes now
	newShadows atomic.Pointer[[]string] // set by SetShadows, taken by Poll

	st Stats // the shard goroutine's counters

	workMu     sync.RWMutex // Broadcast holds it shared while workers run; Close exclusively
	workClosed bool         // the workers are stopped: Broadcast encodes alone

	pubMu sync.Mutex
	pub   Stats // the copy Stats reads, refreshed by publish
}

// Listen opens a UDP socket on addr and serves on it.
func Listen(addr string, cfg Config) (*Server, error) {
	ua, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	conn, err := net.ListenUDP("udp4", ua)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	// Thousands of clients send an input each tick: while the host's reader waits for
	// a core, the kernel's default buffer (208 KiB, ≈ 250 datagrams) overflows and
	// inputs, acknowledgements and pings are lost. The kernel caps the size at
	// net.core.rmem_max (raise it for more); a smaller buffer is not an error.
	conn.SetReadBuffer(ReadBuffer)
	s, err := New(conn, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

// New serves on an existing transport (a *net.UDPConn, or an in-memory one in tests).
func New(tr enet.Transport, cfg Config) (*Server, error) {
	if len(cfg.Key) == 0 {
		return nil, errors.New("server: no token key")
	}
	if err := checkShadows(cfg.Shadows); err != nil {
		return nil, err
	}
	if cfg.Godot == 0 {
		cfg.Godot = godot.V3
	}
	if !cfg.Godot.Valid() {
		return nil, fmt.Errorf("server: unknown Godot version %d", cfg.Godot)
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 2048
	}
	if cfg.HelloTimeout <= 0 {
		cfg.HelloTimeout = 5 * time.Second
	}
	if cfg.InputTimeout <= 0 {
		cfg.InputTimeout = 10 * time.Second
	}
	if cfg.MaxBadMessages <= 0 {
		cfg.MaxBadMessages = 32
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.FetchBytesPerTick <= 0 {
		cfg.FetchBytesPerTick = DefaultFetchBytesPerTick
	}
	if cfg.MaxFetches <= 0 {
		cfg.MaxFetches = DefaultMaxFetches
	}
	if cfg.SessionGrace <= 0 {
		cfg.SessionGrace = cfg.InputTimeout
	}
	if cfg.BytesPerSnapshot <= 0 {
		cfg.BytesPerSnapshot = snapshotBudget(cfg.SnapshotRate)
	}
	codec := godot.For(cfg.Godot)
	// Snapshots are paced by each client's token bucket (ClientView.BytesPerSnapshot);
	// ENet's packet throttle would also drop some while a client's RTT rises: in the
	// 2,000-client load run, 0.84% of all snapshots, the whole of the loss measured.
	host, err := enet.Listen(tr, enet.Config{MaxPeers: cfg.MaxClients, MaxChannels: codec.Channels(), Clock: cfg.Clock, NoUnreliableThrottle: true})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s := &Server{
		cfg: cfg, host: host, codec: codec,
		byPeer: map[*enet.Peer]*client{}, bySession: map[uint32]*client{},
		byClient: map[uint64]*client{}, orphans: map[uint64]orphan{},
		ring: game.NewFrameRing(0),
	}
	s.ring.ClipPeriods = cfg.ClipPeriods
	nw := cfg.EncodeWorkers
	if nw <= 0 {
		nw = runtime.GOMAXPROCS(0)
	}
	for i := range nw {
		wk := &encodeWorker{enc: game.NewEncoder(), cenc: game.NewCellEncoder(), codec: codec, ring: s.ring}
		if i > 0 {
			wk.jobs = make(chan encodeJob)
			go wk.run(&s.encWG)
		}
		s.workers = append(s.workers, wk)
	}
	grace := cfg.Clock().Add(cfg.SessionGrace)
	for cid, id := range cfg.Sessions {
		if id != 0 {
			s.orphans[cid] = orphan{id: id, deadline: grace}
		}
	}
	s.st.Orphans = int64(len(s.orphans))
	s.shadows = cfg.Shadows
	s.publish()
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.host.LocalAddr() }

// Close disconnects every client, closes the socket and stops the encode workers (it
// waits for a Broadcast in progress). It is safe from any goroutine.
func (s *Server) Close() error {
	s.workMu.Lock()
	if !s.workClosed {
		s.workClosed = true
		for _, wk := range s.workers[1:] {
			close(wk.jobs)
		}
	}
	s.workMu.Unlock()
	return s.host.Close()
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.pubMu.Lock()
	st := s.pub
	s.pubMu.Unlock()
	st.Host = s.host.Stats()
	return st
}

// publish copies the counters for Stats (a copy under a lock: no allocation per tick).
func (s *Server) publish() {
	s.pubMu.Lock()
	s.pub = s.st
	s.pubMu.Unlock()
}

// Poll handles every network event that arrived since the last call, without waiting,
// and appends the commands they cause to cmds: CmdJoin for a newly admitted client (Arg
// is its session), CmdInput for a client whose input changed, CmdLeave for one that left,
// CmdPlaceCanvas for a finished upload (see [Server.Placed]). It also streams fetched art
// and sweeps abandoned uploads.
func (s *Server) Poll(cmds []ecs.Command) []ecs.Command {
	now := s.cfg.Clock()
	s.pending = s.pending[:0]
	for {
		ev, err := s.host.Service(0)
		if err != nil || ev.Type == enet.EventNone {
			break
		}
		switch ev.Type {
		case enet.EventConnect:
			cmds = s.connect(ev.Peer, now, cmds)
		case enet.EventDisconnect:
			cmds = s.disconnect(ev.Peer, cmds)
		case enet.EventReceive:
			cmds = s.receive(ev.Peer, ev.Channel, ev.Packet, now, cmds)
		}
	}
	// Deadlines: a token that never came, a client that fell silent, a kick delivered.
	for i := len(s.clients) - 1; i >= 0; i-- { // backwards: removal shrinks the slice
		c := s.clients[i]
		if c.state == kicked && now.After(c.deadline) {
			c.peer.DisconnectLater(0)
			s.remove(c)
			continue
		}
		if (c.state == awaitingHello || c.state == playing) && now.After(c.deadline) {
			reason, text := game.ReasonTimeout, "no input"
			if c.state == awaitingHello {
				text = "no connect token in time"
			}
			cmds = s.kick(c, reason, text, cmds)
		}
	}
	cmds = s.expireOrphans(now, cmds)
	if p := s.newShadows.Swap(nil); p != nil {
		s.announceShadows(*p)
	}
	s.sweepArt(now)
	s.pumpArt()
	s.publish()
	return cmds
}

// SetShadows replaces the failover addresses (highest take-over rank first): the next
// Poll sends every playing client a ShadowList with them, and later Welcomes carry them.
// Addresses beyond [game.MaxShadows] and invalid ones (empty, longer than
// [game.MaxAddressLen]) are left out. It is safe from any goroutine.
func (s *Server) SetShadows(addrs []string) {
	var list []string
	for _, a := range addrs {
		if len(list) < game.MaxShadows && a != "" && len(a) <= game.MaxAddressLen {
			list = append(list, a)
		}
	}
	s.newShadows.Store(&list)
}

// Shadows returns the failover addresses announced now. Call it from Poll's goroutine.
func (s *Server) Shadows() []string { return s.shadows }

func checkShadows(addrs []string) error {
	if len(addrs) > game.MaxShadows {
		return fmt.Errorf("server: %d shadow addresses, at most %d", len(addrs), game.MaxShadows)
	}
	for _, a := range addrs {
		if a == "" || len(a) > game.MaxAddressLen {
			return fmt.Errorf("server: shadow address %q empty or longer than %d bytes", a, game.MaxAddressLen)
		}
	}
	return nil
}

// announceShadows adopts list and sends it to every playing client if it changed.
func (s *Server) announceShadows(list []string) {
	if slices.Equal(list, s.shadows) {
		return
	}
	s.shadows = list
	s.out = game.AppendShadowList(s.out[:0], &game.ShadowListMsg{Shadows: list})
	for _, c := range s.clients {
		if c.state == playing {
			s.send(c, true)
		}
	}
}

func (s *Server) connect(p *enet.Peer, now time.Time, cmds []ecs.Command) []ecs.Command {
	s.st.Connects++
	id := p.ConnectData()
	if s.cfg.Godot == godot.V3 {
		if err := godot.CheckClientID(id); err != nil {
			p.DisconnectNow(0)
			return cmds
		}
	}
	c := &client{peer: p, godotID: id, deadline: now.Add(s.cfg.HelloTimeout)}
	s.byPeer[p] = c
	s.clients = append(s.clients, c)
	return cmds
}

// expireOrphans removes the entities of Config.Sessions whose client did not come back
// in time (in NetID order) and appends their unbinding.
func (s *Server) expireOrphans(now time.Time, cmds []ecs.Command) []ecs.Command {
	if len(s.orphans) == 0 {
		return cmds
	}
	var gone []uint64
	for cid, o := range s.orphans {
		if now.After(o.deadline) {
			gone = append(gone, cid)
		}
	}
	slices.SortFunc(gone, func(a, b uint64) int { return int(s.orphans[a].id) - int(s.orphans[b].id) })
	for _, cid := range gone {
		cmds = append(cmds, ecs.Command{Kind: ecs.CmdLeave, Player: s.orphans[cid].id})
		s.binds = append(s.binds, Binding{Client: cid})
		delete(s.orphans, cid)
		s.st.Expired++
	}
	s.st.Orphans = int64(len(s.orphans))
	return cmds
}

// TakeBindings appends the session map changes since the last call to dst, in the
// order they happened: a Binding with the entity for a welcomed session (after the
// step that spawned it, see [Server.Joined]), one with ID 0 for a session whose
// entity a CmdLeave from Poll removes. Taking over an existing entity changes nothing.
// A shard that forwards its session map (shadow shards) calls it once per tick after
// Joined; the changes pile up until taken.
func (s *Server) TakeBindings(dst []Binding) []Binding {
	dst = append(dst, s.binds...)
	s.binds = s.binds[:0]
	return dst
}

// unbind records that c's session ends and its entity is removed.
func (s *Server) unbind(c *client) {
	if s.byClient[c.clientID] == c {
		delete(s.byClient, c.clientID)
		s.binds = append(s.binds, Binding{Client: c.clientID})
	}
}

func (s *Server) remove(c *client) {
	s.dropArt(c)
	delete(s.byPeer, c.peer)
	if c.session != 0 {
		delete(s.bySession, c.session)
	}
	if s.byClient[c.clientID] == c {
		delete(s.byClient, c.clientID)
	}
	for i, x := range s.clients {
		if x == c {
			s.clients = append(s.clients[:i], s.clients[i+1:]...)
			break
		}
	}
}

func (s *Server) disconnect(p *enet.Peer, cmds []ecs.Command) []ecs.Command {
	c, ok := s.byPeer[p]
	if !ok {
		return cmds
	}
	s.st.Disconnects++
	if c.state == kicked {
		s.remove(c) // its entity is already gone
		return cmds
	}
	return s.leave(c, cmds)
}

// leave removes c and appends the command that removes its entity, if any.
func (s *Server) leave(c *client, cmds []ecs.Command) []ecs.Command {
	switch c.state {
	case playing:
		s.st.Clients--
		cmds = append(cmds, ecs.Command{Kind: ecs.CmdLeave, Player: c.id})
		s.unbind(c)
	case joining:
		if c.reclaim != 0 {
			// It was to take an existing entity over: that one waits for it again.
			s.orphans[c.clientID] = orphan{id: c.reclaim, deadline: s.cfg.Clock().Add(s.cfg.SessionGrace)}
			s.st.Orphans = int64(len(s.orphans))
			c.reclaim = 0
			break
		}
		c.state = leaving // its CmdJoin is in flight: remove the entity once it exists
		delete(s.byPeer, c.peer)
		return cmds
	}
	s.remove(c)
	return cmds
}

// kick tells c why it is being dropped, removes its entity, and disconnects it once
// KickGrace has passed (see Poll).
func (s *Server) kick(c *client, reason game.Reason, text string, cmds []ecs.Command) []ecs.Command {
	s.st.Kicked++
	s.out = game.AppendKick(s.out[:0], &game.NoticeMsg{Code: reason, Text: text})
	s.send(c, true)
	if c.state == playing {
		s.st.Clients--
		cmds = append(cmds, ecs.Command{Kind: ecs.CmdLeave, Player: c.id})
		s.unbind(c)
	}
	// A joining client's CmdJoin is in flight; Joined removes the entity it gets.
	c.state = kicked
	c.deadline = s.cfg.Clock().Add(KickGrace)
	return cmds
}

// send frames s.out for c and sends it reliably or unreliably.
func (s *Server) send(c *client, reliable bool) {
	s.buf = s.codec.AppendRaw(s.buf[:0], int32(c.godotID), s.out)
	flags := enet.PacketFlag(0)
	if reliable {
		flags = enet.Reliable
	}
	c.peer.Send(s.codec.Channel(reliable), s.buf, flags)
}

func (s *Server) receive(p *enet.Peer, ch uint8, pkt []byte, now time.Time, cmds []ecs.Command) []ecs.Command {
	c, ok := s.byPeer[p]
	if !ok {
		return cmds
	}
	pkt, err := s.codec.ParseRaw(ch, pkt, c.godotID)
	if err != nil {
		s.st.Dropped[DropFraming]++
		return s.bad(c, cmds)
	}
	switch c.state {
	case awaitingHello:
		return s.hello(c, pkt, now, cmds)
	case playing:
		if len(pkt) > 0 && game.MsgType(pkt[0]) != game.TypeInput {
			c.deadline = now.Add(s.cfg.InputTimeout)
			return s.artMessage(c, pkt, cmds)
		}
		m, err := game.ParseInput(pkt)
		if err != nil {
			s.st.Dropped[DropMessage]++
			return s.bad(c, cmds)
		}
		s.st.InputMsgs++
		c.deadline = now.Add(s.cfg.InputTimeout)
		if !c.acked || int32(m.Ack.Newest-c.ack.Newest) >= 0 { // acks are cumulative
			c.ack, c.acked = m.Ack, true
		}
		// Inputs come newest first; apply the newest one not applied yet (serial
		// arithmetic on the sequence). An input late for its tick lands on the next.
		if m.N > 0 && int32(m.Inputs[0].Seq-c.seq) > 0 {
			c.seq = m.Inputs[0].Seq
			if in := m.Inputs[0].In; in != c.in {
				c.in = in
				cmds = append(cmds, ecs.Command{Kind: ecs.CmdInput, Player: c.id, Input: in})
			}
		}
	case kicked:
		// Nothing a kicked client says matters any more.
	default:
		s.st.Dropped[DropState]++
	}
	return cmds
}

func (s *Server) bad(c *client, cmds []ecs.Command) []ecs.Command {
	c.bad++
	if c.bad > s.cfg.MaxBadMessages {
		return s.kick(c, game.ReasonProtocol, "too many malformed messages", cmds)
	}
	return cmds
}

// hello admits c if pkt is a valid connect token: the token's text bytes, or a HelloMsg.
func (s *Server) hello(c *client, pkt []byte, now time.Time, cmds []ecs.Command) []ecs.Command {
	token := pkt
	if len(pkt) > 0 && game.MsgType(pkt[0]) == game.TypeHello {
		h, err := game.ParseHello(pkt)
		if err != nil {
			s.st.Dropped[DropMessage]++
			return s.kick(c, game.ReasonProtocol, "malformed hello", cmds)
		}
		if h.Version != game.ProtocolVersion && h.Version != game.CellProtocolVersion {
			return s.kick(c, game.ReasonVersion, fmt.Sprintf("protocol version %d, server speaks %d and %d", h.Version, game.ProtocolVersion, game.CellProtocolVersion), cmds)
		}
		token = h.Token
		c.cells = h.Version == game.CellProtocolVersion
	}
	token = bytes.TrimRight(token, "\r\n")
	id, err := game.VerifyToken(s.cfg.Key, token, now)
	if err != nil {
		s.st.Dropped[DropBadToken]++
		reason := game.ReasonBadToken
		if errors.Is(err, game.ErrTokenExpired) {
			reason = game.ReasonTokenExpired
		}
		return s.kick(c, reason, err.Error(), cmds)
	}
	s.st.Admitted++
	c.clientID = id
	if old := s.byClient[id]; old != nil && old != c && (old.state == joining || old.state == playing) {
		// The same client id connected again (a client that failed over and came back,
		// or a second device): the new session replaces the old one and keeps its entity.
		var keep ecs.NetID
		switch {
		case old.state == playing:
			keep = old.id
			s.st.Clients--
		case old.state == joining && old.reclaim != 0:
			keep, old.reclaim = old.reclaim, 0
		}
		s.st.Replaced++
		s.st.Kicked++
		s.out = game.AppendKick(s.out[:0], &game.NoticeMsg{Code: game.ReasonReplaced, Text: "the same client connected again"})
		s.send(old, true)
		// A joining old session without an entity yet: Joined removes the one it gets.
		old.state = kicked
		old.deadline = s.cfg.Clock().Add(KickGrace)
		delete(s.byClient, id)
		if keep != 0 {
			return s.takeOver(c, keep, cmds)
		}
	}
	if o, ok := s.orphans[id]; ok {
		delete(s.orphans, id)
		s.st.Orphans = int64(len(s.orphans))
		return s.takeOver(c, o.id, cmds)
	}
	if s.cfg.MaxLocalClients > 0 && len(s.byClient) >= s.cfg.MaxLocalClients && s.cfg.Redirect != nil {
		if addr := s.cfg.Redirect(); addr != "" && len(addr) <= game.MaxAddressLen {
			s.st.Redirected++
			s.out = game.AppendRedirect(s.out[:0], &game.RedirectMsg{Address: addr})
			s.send(c, true)
			c.state = kicked
			c.deadline = s.cfg.Clock().Add(KickGrace)
			return cmds
		}
	}
	return s.join(c, cmds)
}

// join admits c as a new session: the CmdJoin spawns its entity.
func (s *Server) join(c *client, cmds []ecs.Command) []ecs.Command {
	s.byClient[c.clientID] = c
	mask := uint32(1<<31 - 1)
	if s.cfg.SessionBase != 0 {
		mask = 1<<23 - 1
	}
	s.nextSess++
	if s.nextSess > mask {
		s.nextSess = 1
	}
	c.session, c.state = s.cfg.SessionBase|s.nextSess, joining
	s.bySession[c.session] = c
	return append(cmds, ecs.Command{Kind: ecs.CmdJoin, Arg: c.session})
}

// takeOver admits c to the existing entity id: Joined welcomes it after this tick's step.
func (s *Server) takeOver(c *client, id ecs.NetID, cmds []ecs.Command) []ecs.Command {
	c.state, c.reclaim = joining, id
	s.byClient[c.clientID] = c
	s.reclaims = append(s.reclaims, c)
	return cmds
}

// welcome makes c play entity id and sends it its Welcome and the canvases.
func (s *Server) welcome(c *client, id ecs.NetID, w *ecs.World) {
	c.id, c.state = id, playing
	c.deadline = s.cfg.Clock().Add(s.cfg.InputTimeout)
	if c.cells {
		c.cview = game.NewCellView(id)
		c.cview.BytesPerSnapshot = s.cfg.BytesPerSnapshot
	} else {
		c.view = game.NewClientView(id)
		c.view.BytesPerSnapshot = s.cfg.BytesPerSnapshot
	}
	s.st.Clients++
	s.out = game.AppendWelcome(s.out[:0], &game.WelcomeMsg{
		NetID: id, Tick: w.G.Tick, TickRate: w.G.Rate, ArenaW: w.G.ArenaW, ArenaH: w.G.ArenaH,
		SnapshotRate: s.cfg.SnapshotRate, Shadows: s.shadows,
	})
	s.send(c, true)
	s.sendCanvases(c, w)
}

// Joined binds the sessions of the joins a step performed to their entities and sends
// each its Welcome. Sessions that left meanwhile get their entity removed by a
// CmdLeave appended to the returned commands (for the next step).
func (s *Server) Joined(joined []systems.Joined, w *ecs.World, next []ecs.Command) []ecs.Command {
	// Clients taking an existing entity over: their input continues from the entity's.
	for i, c := range s.reclaims {
		s.reclaims[i] = nil
		if c.state != joining || c.reclaim == 0 {
			continue // left or replaced meanwhile
		}
		id := c.reclaim
		c.reclaim = 0
		e, ok := w.Entity(id)
		if !ok {
			// The entity is gone after all: the client joins afresh.
			next = s.join(c, next)
			continue
		}
		c.in = *ecs.Get[ecs.Input](w, e, w.C.Input)
		s.st.Reclaimed++
		s.welcome(c, id, w)
	}
	s.reclaims = s.reclaims[:0]
	for _, j := range joined {
		c, ok := s.bySession[j.Ref]
		if !ok {
			continue // not ours (a scripted join)
		}
		switch c.state {
		case leaving:
			s.remove(c)
			next = append(next, ecs.Command{Kind: ecs.CmdLeave, Player: j.ID})
			continue
		case kicked:
			delete(s.bySession, c.session)
			next = append(next, ecs.Command{Kind: ecs.CmdLeave, Player: j.ID})
			continue
		}
		s.welcome(c, j.ID, w)
		if s.byClient[c.clientID] == c {
			s.binds = append(s.binds, Binding{Client: c.clientID, ID: j.ID})
		}
	}
	s.publish()
	return next
}

// Broadcast quantizes w once into a frame and sends every playing client its snapshot:
// a delta against the newest snapshot it acked, most relevant entities first. It
// returns the frame (whose Hash a client's table equals once it holds all of it). The
// encoding is spread over Config.EncodeWorkers goroutines when there are enough
// clients; Broadcast returns when every snapshot is queued.
func (s *Server) Broadcast(w *ecs.World) *game.Frame {
	f := s.ring.Capture(w)
	s.fanout = s.fanout[:0]
	for _, c := range s.clients {
		if c.state == playing {
			s.fanout = append(s.fanout, c)
		}
	}
	// Each worker gets clients of neighbouring cells: cell-stream clients there
	// share the blocks their worker codes.
	slices.SortStableFunc(s.fanout, func(a, b *client) int { return f.StreamCell(a.id) - f.StreamCell(b.id) })
	s.workMu.RLock()
	defer s.workMu.RUnlock()
	n := len(s.workers)
	if len(s.fanout) < minParallelClients*n || s.workClosed {
		n = 1
	}
	chunk := (len(s.fanout) + n - 1) / n
	s.encWG.Add(n - 1)
	for i := 1; i < n; i++ {
		s.workers[i].jobs <- encodeJob{f: f, clients: s.fanout[min(i*chunk, len(s.fanout)):min((i+1)*chunk, len(s.fanout))]}
	}
	s.workers[0].encode(f, s.fanout[:min(chunk, len(s.fanout))])
	s.encWG.Wait()
	for _, wk := range s.workers {
		s.st.Snapshots += wk.snapshots
		s.st.SnapshotSize += wk.bytes
		s.st.Records += wk.records
		s.st.RecordBytes += wk.recordBytes
		wk.snapshots, wk.bytes, wk.records, wk.recordBytes = 0, 0, 0, 0
	}
	clear(s.fanout)
	s.publish()
	return f
}

// minParallelClients is the fewest clients per worker worth handing a Broadcast's
// encoding to more than one goroutine.
const minParallelClients = 32

// encodeWorker encodes and sends the snapshots of a share of the clients. Each client
// belongs to one worker per Broadcast, and the shard goroutine waits for all of them,
// so a client's view is never used by two goroutines at once. The snapshots are not
// world state: which worker encodes a client changes nothing in the simulation.
type encodeWorker struct {
	enc   *game.Encoder
	cenc  *game.CellEncoder // its blocks are shared by the clients this worker encodes
	ring  *game.FrameRing   // the server's: acks read its frames
	codec godot.Codec
	out   []byte
	buf   []byte
	jobs  chan encodeJob // nil for workers[0]

	snapshots, bytes, records, recordBytes int64 // since the last Broadcast
}

type encodeJob struct {
	f       *game.Frame
	clients []*client
}

func (wk *encodeWorker) run(wg *sync.WaitGroup) {
	for j := range wk.jobs {
		wk.encode(j.f, j.clients)
		wg.Done()
	}
}

func (wk *encodeWorker) encode(f *game.Frame, clients []*client) {
	for _, c := range clients {
		var err error
		if c.cview != nil {
			if c.acked {
				c.cview.Ack(c.ack)
				c.acked = false
			}
			if wk.out, err = wk.cenc.AppendSnapshot(wk.out[:0], f, c.cview); err != nil {
				continue
			}
			if st := &wk.cenc.Stats; st.Records > 0 {
				wk.records += int64(st.Records)
				wk.recordBytes += int64(st.Size - game.CellSnapshotHeaderSize)
			}
		} else {
			if c.acked {
				c.view.Ack(wk.ring, c.ack)
				c.acked = false
			}
			if wk.out, err = wk.enc.AppendSnapshot(wk.out[:0], f, c.view); err != nil {
				continue
			}
			if st := &wk.enc.Stats; st.Records > 0 {
				wk.records += int64(st.Records)
				wk.recordBytes += int64(st.Size - game.SnapshotHeaderSize)
			}
		}
		wk.snapshots++
		wk.bytes += int64(len(wk.out))
		wk.buf = wk.codec.AppendRaw(wk.buf[:0], int32(c.godotID), wk.out)
		c.peer.Send(wk.codec.Channel(false), wk.buf, 0)
	}
}

// Clients returns the number of sessions playing now.
func (s *Server) Clients() int { return int(s.st.Clients) }
