package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/enet"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/net/godot"
)

// Godot 3 channels (networked_multiplayer_enet.h: SYSCH_CONFIG, SYSCH_RELIABLE,
// SYSCH_UNRELIABLE).
const (
	chanSystem     = 0
	chanReliable   = 1
	chanUnreliable = 2
	numChannels    = 3
)

// Defaults of [Options].
const (
	DefaultRedundancy        = 4
	DefaultDialTimeout       = 10 * time.Second
	DefaultDisconnectTimeout = time.Second
	DefaultSilenceTimeout    = time.Second
	DefaultAttemptTimeout    = 2 * time.Second
	DefaultFailoverTimeout   = 30 * time.Second
)

// Options configures [Dial]. The zero value is usable.
type Options struct {
	// ID is the Godot unique id sent as the ENet connect data: >= 2 and < 2^31.
	// 0 draws one at random from that range, as Godot does.
	ID uint32
	// Transport is the datagram socket to use; the client owns it and closes it on
	// Close (or when Dial fails). nil opens a UDP socket on LocalAddr.
	Transport enet.Transport
	// LocalAddr is the UDP address to bind when Transport is nil (default any port).
	LocalAddr string
	// ENet configures the client's ENet host. MaxPeers and MaxChannels are set by the
	// client (1 and 3); the other fields keep enet's defaults when zero.
	ENet enet.Config
	// Redundancy is how many of the most recent inputs each Input message repeats,
	// 1..game.MaxInputs (default DefaultRedundancy).
	Redundancy int
	// DialTimeout bounds Dial when ctx has no deadline (default DefaultDialTimeout).
	DialTimeout time.Duration
	// DisconnectTimeout is how long Close waits for the server to acknowledge the
	// disconnect (default DefaultDisconnectTimeout).
	DisconnectTimeout time.Duration
	// OnSnapshot, when set, is called on the client's goroutine after each snapshot
	// is applied, with the resulting table and the snapshot's header. t is valid only
	// during the call; fn must not block or call [Client.Table].
	OnSnapshot func(t *game.Table, h game.SnapshotHeader)
	// HeaderOnly makes the client skip decoding snapshots: it follows them from their
	// headers with a [game.Tracker] and acks exactly what a decoding client would
	// (the server cannot tell the difference), counting them in Stats.Tracked instead
	// of Applied. It has no table (Table calls fn with nil, OnSnapshot is not called)
	// and checks no state hash. For load generators, whose decoding would compete for
	// the CPU with the server they measure.
	HeaderOnly bool
	// Cells asks the server for cell-stream snapshots (game.CellProtocolVersion): the
	// client opens its session with a game.HelloMsg of that version instead of its
	// bare token, and decodes them with a [game.CellDecoder] (a [game.CellTracker]
	// with HeaderOnly). It has no table: Table calls fn with nil and OnSnapshot is not
	// called; the decoder checks each snapshot's hash (Stats.HashMismatch).
	Cells bool
	// OnCanvas, when set, is called on the client's goroutine for each CanvasInfo the
	// server sends (every canvas after the Welcome, then each new one). fn must not block.
	OnCanvas func(m game.CanvasInfoMsg)

	// Failover makes a welcomed client survive the loss of its server: when the server
	// falls silent (no packet for SilenceTimeout), disconnects, or kicks it with
	// game.ReasonShutdown, the client reconnects with the same token and id to the
	// failover addresses it was told (the Welcome's Shadows, replaced by each
	// ShadowList), in that order, highest take-over rank first, cycling through them
	// until one welcomes it or FailoverTimeout has passed. See [Stats.Reconnects].
	Failover bool
	// SilenceTimeout is how long a welcomed server may send nothing before it counts as
	// lost (default DefaultSilenceTimeout). Only with Failover.
	SilenceTimeout time.Duration
	// AttemptTimeout bounds one reconnect attempt to one address, from the ENet
	// connect to the Welcome (default DefaultAttemptTimeout).
	AttemptTimeout time.Duration
	// FailoverTimeout bounds the whole search for a new server (default
	// DefaultFailoverTimeout); the session then ends with [ErrFailover].
	FailoverTimeout time.Duration
	// NewTransport, when set, makes the socket of each reconnect attempt (default a UDP
	// socket on LocalAddr). The client owns what it returns.
	NewTransport func() (enet.Transport, error)
	// OnReconnect, when set, is called on the client's goroutine after each successful
	// failover. fn must not block.
	OnReconnect func(Reconnect)
}

// Reconnect describes one successful failover.
type Reconnect struct {
	From, To string        // the lost server's address and the new one's
	Lost     time.Duration // from the last packet of the lost server to the new Welcome
	Attempts int           // connection attempts it took
}

// Stats are a client's counters.
type Stats struct {
	// Snapshots counts snapshot messages received; Applied those decoded into the
	// table, Tracked those taken from their header alone (Options.HeaderOnly). The
	// others were Stale (duplicate or older than every table kept), NoBaseline (delta
	// against a table not held) or Bad (did not decode, or a header that does not
	// parse; HashMismatch of them decoded to a table whose hash differs from the one
	// the server sent).
	Snapshots, Applied, Tracked, Stale, NoBaseline, Bad, HashMismatch uint64
	// FirstID and LastID are the oldest and newest snapshot ids received (0: none).
	FirstID, LastID uint32
	// Inputs counts Input messages sent.
	Inputs uint64
	// Ignored counts packets that carried no game message for the client (system
	// channel, other Godot commands, unknown message types, other senders).
	Ignored uint64
	// BytesIn/Out and PacketsIn/Out are the ENet host's datagram counters.
	BytesIn, BytesOut     uint64
	PacketsIn, PacketsOut uint64
	// RTT is the smoothed round-trip time of the ENet connection.
	RTT time.Duration
	// Welcomed is when the first Welcome arrived; Ended when the session ended (zero
	// while it runs).
	Welcomed, Ended time.Time
	// Reconnects counts failovers to a new server (Options.Failover); Lost is the time
	// they cost in total, LastLost the last one's (each from the last packet of the lost
	// server to the new server's Welcome). Attempts counts connection attempts made
	// while failing over.
	Reconnects, Attempts uint64
	Lost, LastLost       time.Duration
	// Redirects counts Redirects followed: the shard handed the client to a relaying
	// shadow shard (game.RedirectMsg), which the client then joined with the same token.
	Redirects uint64
	// Server is the address of the server the client is connected to now.
	Server string
	// ExpectedBefore is the number of snapshots the servers before the current one
	// sent (snapshot ids restart with each server); see [Stats.Expected].
	ExpectedBefore uint64
}

// Expected returns how many snapshots the server sent between the first and the newest
// one received: the span of snapshot ids seen, plus ExpectedBefore.
func (s Stats) Expected() uint64 {
	if s.FirstID == 0 {
		return s.ExpectedBefore
	}
	return s.ExpectedBefore + uint64(s.LastID-s.FirstID) + 1
}

// Loss returns the fraction of snapshots lost among those Expected (0 with none).
func (s Stats) Loss() float64 {
	e := s.Expected()
	if e == 0 {
		return 0
	}
	return 1 - float64(min(s.Snapshots, e))/float64(e)
}

// Client is a connected game client. Its methods are safe from any goroutine.
type Client struct {
	host    *enet.Host // replaced on failover: read under mu from other goroutines
	peer    *enet.Peer // ditto
	id      uint32
	token   []byte
	opt     Options
	input   atomic.Uint32 // ecs.Input packed by packInput
	quit    chan struct{}
	done    chan struct{}
	ready   chan struct{} // closed on Welcome or on an error before it
	welcome game.WelcomeMsg

	closeOnce sync.Once

	mu       sync.Mutex        // guards dec, tr, st, err, up, fetches and canvases
	dec      *game.Decoder     // nil with Options.HeaderOnly or Options.Cells
	tr       game.Tracker      // with Options.HeaderOnly
	cdec     *game.CellDecoder // with Options.Cells, without HeaderOnly
	ctr      game.CellTracker  // with Options.Cells and HeaderOnly
	st       Stats
	err      error
	ready0   bool
	up       *upState
	fetches  map[[32]byte]*fetchState
	canvases map[ecs.CanvasID]game.CanvasInfoMsg
	base     enet.Stats // counters of the hosts before the current one
	shadows  []string   // failover addresses, highest rank first

	upLock sync.Mutex // one Upload at a time

	// Owned by the client goroutine.
	seq      uint32
	hist     [game.MaxInputs]game.SeqInput
	msg      game.InputMsg
	scratch  []byte
	out      []byte
	addr     string // current server
	welcome0 bool   // the current server welcomed the client
	redirect string // address of a Redirect just received
}

// Dial connects to the shard at addr (host:port) with the connect token and returns
// once the server welcomed the client. It fails with a [*KickError] if the server
// kicked it (bad or expired token...), [ErrTimeout] if ctx's deadline (or
// Options.DialTimeout) passed first, [ErrRefused] if the server dropped the connection
// without a Kick, or ctx.Err() if ctx was cancelled.
func Dial(ctx context.Context, addr string, token string, opt Options) (*Client, error) {
	if opt.ID == 0 {
		opt.ID = 2 + rand.Uint32N(1<<31-2)
	}
	if err := godot.CheckClientID(opt.ID); err != nil {
		return nil, fmt.Errorf("%w: id %d: %w", ErrBadOptions, opt.ID, err)
	}
	if opt.Redundancy == 0 {
		opt.Redundancy = DefaultRedundancy
	}
	if opt.Redundancy < 1 || opt.Redundancy > game.MaxInputs {
		return nil, fmt.Errorf("%w: redundancy %d not in [1, %d]", ErrBadOptions, opt.Redundancy, game.MaxInputs)
	}
	if len(token) == 0 {
		return nil, fmt.Errorf("%w: empty token", ErrBadOptions) // Godot refuses to send empty bytes
	}
	if opt.DialTimeout <= 0 {
		opt.DialTimeout = DefaultDialTimeout
	}
	if opt.DisconnectTimeout <= 0 {
		opt.DisconnectTimeout = DefaultDisconnectTimeout
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opt.DialTimeout)
		defer cancel()
	}
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	tr := opt.Transport
	if tr == nil {
		var laddr *net.UDPAddr
		if opt.LocalAddr != "" {
			if laddr, err = net.ResolveUDPAddr("udp", opt.LocalAddr); err != nil {
				return nil, fmt.Errorf("client: %w", err)
			}
		}
		network := "udp"
		if raddr.IP.To4() != nil {
			network = "udp4"
		}
		conn, err := net.ListenUDP(network, laddr)
		if err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
		tr = conn
	}
	cfg := opt.ENet
	cfg.MaxPeers, cfg.MaxChannels = 1, numChannels
	host, err := enet.NewClient(tr, cfg)
	if err != nil {
		tr.Close()
		return nil, fmt.Errorf("client: %w", err)
	}
	peer, err := host.Connect(raddr, numChannels, opt.ID)
	if err != nil {
		host.Close()
		return nil, fmt.Errorf("client: %w", err)
	}
	c := &Client{
		host: host, peer: peer, id: opt.ID, token: []byte(token), opt: opt, addr: raddr.String(),
		quit: make(chan struct{}), done: make(chan struct{}), ready: make(chan struct{}),
		fetches: map[[32]byte]*fetchState{}, canvases: map[ecs.CanvasID]game.CanvasInfoMsg{},
	}
	c.newDecoders()
	go c.run()
	select {
	case <-c.ready:
		if err := c.Err(); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		err := ctx.Err()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w waiting for the welcome from %s: %w", ErrTimeout, addr, err)
		}
		c.Close()
		return nil, err
	}
}

// ID returns the client's Godot unique id.
func (c *Client) ID() uint32 { return c.id }

// Welcome returns the server's Welcome: the client's NetID, the rates, the arena and
// the failover addresses.
func (c *Client) Welcome() game.WelcomeMsg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.welcome
}

// Shadows returns the failover addresses the server announced last (the Welcome's,
// replaced by each ShadowList), highest take-over rank first.
func (c *Client) Shadows() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.shadows...)
}

func (c *Client) hasShadows() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.shadows) > 0
}

// currentPeer returns the peer of the server the client talks to now.
func (c *Client) currentPeer() *enet.Peer {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peer
}

// SetInput sets the input sent from the next tick on.
func (c *Client) SetInput(in ecs.Input) { c.input.Store(packInput(in)) }

// Input returns the current input.
func (c *Client) Input() ecs.Input { return unpackInput(c.input.Load()) }

// Table calls fn with the client's newest table (nil before the first snapshot, and
// always with Options.HeaderOnly) while the client holds its lock: fn must not keep t,
// block or call other methods of c.
func (c *Client) Table(fn func(t *game.Table)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dec == nil {
		fn(nil)
		return
	}
	fn(c.dec.Newest())
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	st := c.st
	host, peer, base := c.host, c.peer, c.base
	c.mu.Unlock()
	hs := host.Stats()
	st.BytesIn, st.BytesOut = base.BytesIn+hs.BytesIn, base.BytesOut+hs.BytesOut
	st.PacketsIn, st.PacketsOut = base.PacketsIn+hs.PacketsIn, base.PacketsOut+hs.PacketsOut
	st.RTT = peer.RTT()
	return st
}

// Done is closed when the session has ended: closed, kicked or disconnected.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the session ended ([*KickError], [ErrDisconnected], [ErrClosed]...),
// or nil while it runs.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close disconnects from the server (waiting up to Options.DisconnectTimeout for its
// acknowledgement), stops the client's goroutine and closes the transport. It returns
// nil; later calls do nothing.
func (c *Client) Close() error {
	c.closeOnce.Do(func() { close(c.quit) })
	<-c.done
	return nil
}

// fail records the end of the session (the first reason wins) and releases Dial.
func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
		c.st.Ended = time.Now()
	}
	wasReady := c.ready0
	c.ready0 = true
	c.mu.Unlock()
	if !wasReady {
		close(c.ready)
	}
}

// failover is the search for a new server after the current one was lost.
type failover struct {
	from     string
	since    time.Time // last packet from the lost server
	deadline time.Time
	addrs    []string
	next     int
	attempts int
	until    time.Time // end of the current attempt
	lastErr  error
}

func (c *Client) run() {
	defer close(c.done)
	defer func() { c.host.Close() }()
	var (
		period    time.Duration // input period once welcomed
		nextInput time.Time
		connected bool
		lastRecv  time.Time
		fo        *failover // non-nil while failing over
	)
	const idle = 50 * time.Millisecond
	// lost starts (or continues) a failover; it reports false when the session ended.
	lost := func(now time.Time, why error) bool {
		if fo == nil {
			if !c.opt.Failover || !c.welcome0 {
				return false
			}
			// The shadows in rank order, then the server itself: a server that was only
			// slow (a stalled tick, a busy link) takes the client back.
			fo = &failover{from: c.addr, since: lastRecv, deadline: now.Add(c.failoverTimeout()), addrs: append(c.Shadows(), c.addr)}
		}
		fo.lastErr = why
		period, connected = 0, false
		for {
			if len(fo.addrs) == 0 {
				c.fail(fmt.Errorf("%w: no failover address: %w", ErrFailover, why))
				return false
			}
			if !now.Before(fo.deadline) {
				c.fail(fmt.Errorf("%w: no server welcomed the client within %s (%d attempts); last: %w", ErrFailover, c.failoverTimeout(), fo.attempts, fo.lastErr))
				return false
			}
			addr := fo.addrs[fo.next%len(fo.addrs)]
			fo.next++
			fo.attempts++
			c.mu.Lock()
			c.st.Attempts++
			c.mu.Unlock()
			err := c.redial(addr)
			if err == nil {
				fo.until = now.Add(c.attemptTimeout())
				return true
			}
			fo.lastErr = err
			select { // no socket: wait a little before the next address
			case <-c.quit:
				c.fail(ErrClosed)
				return false
			case <-time.After(100 * time.Millisecond):
			}
			now = time.Now()
		}
	}
	for {
		select {
		case <-c.quit:
			c.fail(ErrClosed)
			if connected {
				c.disconnect()
			}
			return
		default:
		}
		wait := idle
		if period > 0 {
			wait = min(time.Until(nextInput), idle)
		}
		ev, err := c.host.Service(wait)
		now := time.Now()
		if err != nil {
			if !lost(now, err) {
				c.fail(fmt.Errorf("%w: %w", ErrDisconnected, err))
				return
			}
			continue
		}
		switch ev.Type {
		case enet.EventConnect:
			connected = true
			c.out = godot.AppendFrame3(c.out[:0], c.id, godot.ServerID, nil)
			if c.opt.Cells {
				c.out = godot.AppendRaw3(c.out, game.AppendHello(nil, &game.HelloMsg{Version: game.CellProtocolVersion, Token: c.token}))
			} else {
				c.out = godot.AppendRaw3(c.out, c.token)
			}
			if err := c.peer.Send(chanReliable, c.out, enet.Reliable); err != nil {
				if !lost(now, fmt.Errorf("%w: sending the token: %w", ErrRefused, err)) {
					c.fail(fmt.Errorf("%w: sending the token: %w", ErrRefused, err))
					return
				}
				continue
			}
		case enet.EventDisconnect:
			var why error
			switch {
			case !connected:
				why = fmt.Errorf("%w: no answer to the ENet connect", ErrRefused)
			case period == 0 && ev.Data != 0:
				why = &KickError{Reason: game.Reason(ev.Data), Text: "disconnected before welcome"}
			case period == 0:
				why = fmt.Errorf("%w: disconnected before welcome", ErrRefused)
			default:
				why = fmt.Errorf("%w (data %d)", ErrDisconnected, ev.Data)
			}
			if !lost(now, why) {
				c.fail(why)
				return
			}
			continue
		case enet.EventReceive:
			lastRecv = now
			p, kick := c.receive(ev.Channel, ev.Packet)
			if addr := c.redirect; addr != "" {
				// The shard hands the client to a relay: join there with the same token.
				c.redirect = ""
				if err := c.redial(addr); err != nil {
					c.fail(fmt.Errorf("%w: redirect to %s: %w", ErrRefused, addr, err))
					return
				}
				c.mu.Lock()
				c.st.Redirects++
				c.mu.Unlock()
				period, connected = 0, false
				if fo != nil {
					fo.until = now.Add(c.attemptTimeout())
				}
				continue
			}
			if kick != nil {
				// A shard going down says so; during a failover any refusal moves on.
				if (fo == nil && kick.Reason != game.ReasonShutdown) || !lost(now, kick) {
					c.fail(kick)
					return
				}
				continue
			}
			if p > 0 && period == 0 {
				period = p
				nextInput = now
				if fo != nil {
					c.reconnected(fo, now)
					fo = nil
				}
			}
		}
		switch {
		case fo != nil && !now.Before(fo.until):
			if !lost(now, fmt.Errorf("%w: no welcome within %s", ErrTimeout, c.attemptTimeout())) {
				return
			}
			continue
		case fo == nil && c.opt.Failover && c.welcome0 && now.Sub(lastRecv) >= c.silenceTimeout() && c.hasShadows():
			// Silence alone moves a client only when there is somewhere to go: without
			// shadows, ENet's own timeout decides whether the server is gone.
			if !lost(now, fmt.Errorf("%w: server silent for %s", ErrDisconnected, now.Sub(lastRecv).Round(time.Millisecond))) {
				return
			}
			continue
		}
		if period > 0 {
			if !now.Before(nextInput) {
				c.sendInput()
				nextInput = nextInput.Add(period)
				if nextInput.Before(now) {
					nextInput = now.Add(period) // fell behind: no burst
				}
			}
		}
	}
}

func (c *Client) silenceTimeout() time.Duration {
	if c.opt.SilenceTimeout > 0 {
		return c.opt.SilenceTimeout
	}
	return DefaultSilenceTimeout
}

func (c *Client) attemptTimeout() time.Duration {
	if c.opt.AttemptTimeout > 0 {
		return c.opt.AttemptTimeout
	}
	return DefaultAttemptTimeout
}

func (c *Client) failoverTimeout() time.Duration {
	if c.opt.FailoverTimeout > 0 {
		return c.opt.FailoverTimeout
	}
	return DefaultFailoverTimeout
}

// redial closes the current host and connects a new one to addr (client goroutine).
// The new server's snapshots start from an empty table.
func (c *Client) redial(addr string) error {
	raddr, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return fmt.Errorf("client: failover address %q: %w", addr, err)
	}
	var tr enet.Transport
	if c.opt.NewTransport != nil {
		tr, err = c.opt.NewTransport()
	} else {
		var laddr *net.UDPAddr
		if c.opt.LocalAddr != "" {
			laddr, err = net.ResolveUDPAddr("udp4", c.opt.LocalAddr)
		}
		if err == nil {
			tr, err = net.ListenUDP("udp4", laddr)
		}
	}
	if err != nil {
		return fmt.Errorf("client: failover socket: %w", err)
	}
	cfg := c.opt.ENet
	cfg.MaxPeers, cfg.MaxChannels = 1, numChannels
	host, err := enet.NewClient(tr, cfg)
	if err != nil {
		tr.Close()
		return fmt.Errorf("client: %w", err)
	}
	peer, err := host.Connect(raddr, numChannels, c.id)
	if err != nil {
		host.Close()
		return fmt.Errorf("client: %w", err)
	}
	old := c.host
	old.Close()
	hs := old.Stats()
	c.mu.Lock()
	c.base.BytesIn += hs.BytesIn
	c.base.BytesOut += hs.BytesOut
	c.base.PacketsIn += hs.PacketsIn
	c.base.PacketsOut += hs.PacketsOut
	c.host, c.peer = host, peer
	if c.st.FirstID != 0 {
		c.st.ExpectedBefore += uint64(c.st.LastID-c.st.FirstID) + 1
		c.st.FirstID, c.st.LastID = 0, 0
	}
	c.newDecoders()
	c.mu.Unlock()
	c.addr, c.welcome0 = raddr.String(), false
	return nil
}

// reconnected records a successful failover.
func (c *Client) reconnected(fo *failover, now time.Time) {
	r := Reconnect{From: fo.from, To: c.addr, Lost: now.Sub(fo.since), Attempts: fo.attempts}
	c.mu.Lock()
	c.st.Reconnects++
	c.st.Lost += r.Lost
	c.st.LastLost = r.Lost
	c.mu.Unlock()
	if c.opt.OnReconnect != nil {
		c.opt.OnReconnect(r)
	}
}

// disconnect disconnects gracefully, waiting a bounded time for the acknowledgement.
func (c *Client) disconnect() {
	if c.peer.Disconnect(0) != nil {
		return
	}
	deadline := time.Now().Add(c.opt.DisconnectTimeout)
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return
		}
		ev, err := c.host.Service(wait)
		if err != nil || ev.Type == enet.EventDisconnect {
			return
		}
	}
}

// receive handles one packet and returns the input period if it was the Welcome, or
// the Kick if it was one (the caller decides whether it ends the session).
func (c *Client) receive(ch uint8, pkt []byte) (time.Duration, *KickError) {
	if ch == chanSystem {
		c.ignored() // peer join/leave notices of the Godot server
		return 0, nil
	}
	f, err := godot.ParseFrame3(pkt)
	if err != nil || f.Src != godot.ServerID {
		c.ignored()
		return 0, nil
	}
	data, err := godot.ParseRaw3(f.Payload)
	if err != nil {
		c.ignored() // an RPC or path command: not for this client
		return 0, nil
	}
	t, err := game.PeekType(data)
	if err != nil {
		c.ignored()
		return 0, nil
	}
	switch t {
	case game.TypeSnapshot:
		c.snapshot(data)
	case game.TypeCellSnapshot:
		c.cellSnapshot(data)
	case game.TypeWelcome:
		w, err := game.ParseWelcome(data)
		if err != nil || c.welcome0 {
			c.ignored()
			return 0, nil
		}
		c.welcome0 = true
		w.Shadows = append([]string(nil), w.Shadows...)
		c.mu.Lock()
		c.welcome = w
		c.shadows = w.Shadows
		c.st.Server = c.addr
		if c.st.Welcomed.IsZero() {
			c.st.Welcomed = time.Now()
		}
		wasReady := c.ready0
		c.ready0 = true
		c.mu.Unlock()
		if !wasReady {
			close(c.ready)
		}
		return time.Second / time.Duration(w.TickRate), nil
	case game.TypeShadowList:
		m, err := game.ParseShadowList(data)
		if err != nil {
			c.ignored()
			return 0, nil
		}
		c.mu.Lock()
		c.shadows = m.Shadows
		c.mu.Unlock()
	case game.TypeRedirect:
		m, err := game.ParseRedirect(data)
		if err != nil || c.welcome0 {
			c.ignored()
			return 0, nil
		}
		c.redirect = m.Address
	case game.TypeKick:
		k, err := game.ParseKick(data)
		if err != nil {
			k = game.NoticeMsg{Code: game.ReasonUnspecified, Text: "malformed kick"}
		}
		return 0, &KickError{Reason: k.Code, Text: k.Text}
	default:
		if c.artMessage(t, data) {
			return 0, nil
		}
		c.ignored() // Error notices and anything newer
	}
	return 0, nil
}

func (c *Client) ignored() {
	c.mu.Lock()
	c.st.Ignored++
	c.mu.Unlock()
}

func (c *Client) snapshot(msg []byte) {
	h, _, herr := game.ParseSnapshotHeader(msg)
	c.mu.Lock()
	st := &c.st
	st.Snapshots++
	if herr == nil {
		if st.FirstID == 0 || int32(h.ID-st.FirstID) < 0 {
			st.FirstID = h.ID
		}
		if st.LastID == 0 || int32(h.ID-st.LastID) > 0 {
			st.LastID = h.ID
		}
	}
	var t *game.Table
	var err error
	if c.dec != nil {
		t, err = c.dec.Apply(msg)
	} else {
		_, err = c.tr.Apply(msg)
	}
	st.count(err, c.dec != nil)
	c.mu.Unlock()
	if err == nil && t != nil && c.opt.OnSnapshot != nil {
		c.opt.OnSnapshot(t, h)
	}
}

// newDecoders gives the client new, empty snapshot decoders (or trackers) for its
// options.
func (c *Client) newDecoders() {
	c.dec, c.cdec, c.tr, c.ctr = nil, nil, game.Tracker{}, game.CellTracker{}
	switch {
	case c.opt.HeaderOnly:
	case c.opt.Cells:
		c.cdec = game.NewCellDecoder()
	default:
		c.dec = game.NewDecoder()
	}
}

// cellSnapshot handles a cell-stream snapshot message.
func (c *Client) cellSnapshot(msg []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := &c.st
	st.Snapshots++
	var h game.CellSnapshotHeader
	var err error
	switch {
	case !c.opt.Cells:
		err = game.ErrType // not asked for
	case c.cdec != nil:
		h, err = c.cdec.Apply(msg)
	default:
		h, err = c.ctr.Apply(msg)
	}
	if h.ID != 0 && !errors.Is(err, game.ErrType) {
		if st.FirstID == 0 || int32(h.ID-st.FirstID) < 0 {
			st.FirstID = h.ID
		}
		if st.LastID == 0 || int32(h.ID-st.LastID) > 0 {
			st.LastID = h.ID
		}
	}
	st.count(err, c.cdec != nil)
}

// count counts a snapshot taken (applied if decoded, else tracked from its header) or
// refused with err.
func (st *Stats) count(err error, decoded bool) {
	switch {
	case err == nil && !decoded:
		st.Tracked++
	case err == nil:
		st.Applied++
	case errors.Is(err, game.ErrDuplicate), errors.Is(err, game.ErrStale):
		st.Stale++
	case errors.Is(err, game.ErrBaselineMissing):
		st.NoBaseline++
	case errors.Is(err, game.ErrHashMismatch):
		st.HashMismatch++
		st.Bad++
	default:
		st.Bad++
	}
}

func (c *Client) sendInput() {
	in := c.Input()
	c.seq++
	copy(c.hist[1:], c.hist[:len(c.hist)-1])
	c.hist[0] = game.SeqInput{Seq: c.seq, In: in}
	c.mu.Lock()
	switch {
	case c.dec != nil:
		c.msg.Ack = c.dec.Ack()
	case c.cdec != nil:
		c.msg.Ack = c.cdec.Ack()
	case c.opt.Cells:
		c.msg.Ack = c.ctr.Ack()
	default:
		c.msg.Ack = c.tr.Ack()
	}
	c.mu.Unlock()
	c.msg.N = min(int(c.seq), c.opt.Redundancy)
	copy(c.msg.Inputs[:c.msg.N], c.hist[:c.msg.N])
	c.scratch = game.AppendInput(c.scratch[:0], &c.msg)
	c.out = godot.AppendFrame3(c.out[:0], c.id, godot.ServerID, nil)
	c.out = godot.AppendRaw3(c.out, c.scratch)
	// Godot 3's TRANSFER_MODE_UNRELIABLE: channel 2, unsequenced.
	if c.peer.Send(chanUnreliable, c.out, enet.Unsequenced) == nil {
		c.mu.Lock()
		c.st.Inputs++
		c.mu.Unlock()
	}
}

func packInput(in ecs.Input) uint32 {
	return uint32(uint8(in.MoveX)) | uint32(uint8(in.MoveY))<<8 | uint32(in.Buttons)<<16 | uint32(in.Emote)<<24
}

func unpackInput(v uint32) ecs.Input {
	return ecs.Input{MoveX: int8(v), MoveY: int8(v >> 8), Buttons: uint8(v >> 16), Emote: uint8(v >> 24)}
}
