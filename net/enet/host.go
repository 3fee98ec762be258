package enet

import (
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/shardsim/shardsim/net/enet/internal/wire"
)

// Config configures a [Host]. The zero value of every field selects ENet's
// default (or a documented one).
type Config struct {
	// MaxPeers is the number of peer slots (ENet's peerCount), at most 4095.
	// Default 64 for Listen, 8 for NewClient.
	MaxPeers int
	// MaxChannels caps the channels a peer may open (ENet's channelLimit),
	// 1..255. Default 255.
	MaxChannels int
	// MTU is the largest datagram this host sends, 576..4096. Default 1392.
	MTU int
	// Clock supplies the time for all protocol timing. Default time.Now.
	Clock func() time.Time
	// Seed seeds the source of connect IDs. 0 seeds it from crypto/rand.
	Seed uint64
	// Tick is how often the host checks retransmissions, pings and
	// timeouts. Default 5ms.
	Tick time.Duration
	// PingInterval is how long a peer may go without an acknowledgement
	// before it is pinged. Default 500ms.
	PingInterval time.Duration
	// TimeoutLimit, TimeoutMinimum and TimeoutMaximum are ENet's peer
	// timeout parameters (defaults 32, 5s, 30s): an unacknowledged reliable
	// command disconnects the peer once it has been outstanding for
	// TimeoutMaximum, or for TimeoutMinimum after its retransmission timeout
	// reached TimeoutLimit times the initial one.
	TimeoutLimit   int
	TimeoutMinimum time.Duration
	TimeoutMaximum time.Duration
	// IdleTimeout disconnects a peer from which no datagram arrived for this
	// long. 0 disables it (ENet relies on the ping and timeouts above).
	IdleTimeout time.Duration
	// MaxPacketSize caps a packet, sent or received (reassembled). Default 4 MiB.
	MaxPacketSize int
	// MaxWaitingData caps the bytes a peer may hold in this host waiting for
	// reassembly, ordering or delivery; beyond it, its packets are dropped.
	// Default 8 MiB.
	MaxWaitingData int
	// NoUnreliableThrottle keeps every unreliable packet this host sends. ENet
	// drops a share of them while a peer's packet throttle is lowered (its
	// round-trip time rising above its recent variance); a host whose
	// application paces its own unreliable traffic can turn that off. It changes
	// nothing on the wire (Stats.ThrottleDropped counts the drops otherwise).
	NoUnreliableThrottle bool
}

func (c *Config) fill(server bool) error {
	if c.MaxPeers == 0 {
		c.MaxPeers = defaultClientMaxPeers
		if server {
			c.MaxPeers = defaultServerMaxPeers
		}
	}
	if c.MaxChannels == 0 {
		c.MaxChannels = wire.MaximumChannelCount
	}
	if c.MTU == 0 {
		c.MTU = defaultHostMTU
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Tick == 0 {
		c.Tick = defaultTick
	}
	if c.PingInterval == 0 {
		c.PingInterval = defaultPingInterval
	}
	if c.TimeoutLimit == 0 {
		c.TimeoutLimit = defaultTimeoutLimit
	}
	if c.TimeoutMinimum == 0 {
		c.TimeoutMinimum = defaultTimeoutMinimum
	}
	if c.TimeoutMaximum == 0 {
		c.TimeoutMaximum = defaultTimeoutMaximum
	}
	if c.MaxPacketSize == 0 {
		c.MaxPacketSize = defaultMaxPacketSize
	}
	if c.MaxWaitingData == 0 {
		c.MaxWaitingData = defaultMaxWaitingData
	}
	switch {
	case c.MaxPeers < 1 || c.MaxPeers > wire.MaximumPeerID:
		return fmt.Errorf("%w: MaxPeers %d", ErrBadConfig, c.MaxPeers)
	case c.MaxChannels < 1 || c.MaxChannels > wire.MaximumChannelCount:
		return fmt.Errorf("%w: MaxChannels %d", ErrBadConfig, c.MaxChannels)
	case c.MTU < wire.MinimumMTU || c.MTU > wire.MaximumMTU:
		return fmt.Errorf("%w: MTU %d", ErrBadConfig, c.MTU)
	case c.Tick < 0 || c.PingInterval < 0 || c.TimeoutLimit < 0 || c.TimeoutMinimum < 0 ||
		c.TimeoutMaximum < 0 || c.IdleTimeout < 0 || c.MaxPacketSize < 0 || c.MaxWaitingData < 0:
		return fmt.Errorf("%w: negative value", ErrBadConfig)
	}
	return nil
}

// Host is one end of ENet: a socket, its peers and their channels. A single
// goroutine owned by the host runs the protocol; every method is safe to call
// from any goroutine.
type Host struct {
	tr     Transport
	ap     addrPortTransport // nil unless the transport has the AddrPort fast path
	cfg    Config
	server bool
	epoch  time.Time
	rng    *rand.Rand

	// Loop-owned state.
	serviceTime uint32
	peers       []*Peer // by incoming peer ID
	active      []*Peer // peers not disconnected
	dirty       []*Peer // peers marked since the last flush (Peer.markDirty)
	visits      int     // sendPeer calls, for tests
	byAddr      map[netip.AddrPort]*Peer
	evq         []Event
	evHead      int
	sendBuf     []byte
	freeOut     []*outCmd
	freeIn      []*inCmd

	cmdc     chan hostCmd
	inc      chan *datagram
	free     chan *datagram
	events   chan Event
	done     chan struct{}
	loopDone chan struct{}
	readDone chan struct{}

	closeOnce sync.Once
	closeErr  error

	svcMu    sync.Mutex // serialises Service; guards lastPkt and svcTimer
	lastPkt  *packet
	svcTimer *time.Timer

	st stats
}

type datagram struct {
	buf  []byte
	n    int
	from netip.AddrPort
	addr net.Addr // generic transports only
}

type cmdKind uint8

const (
	cmdSend cmdKind = iota
	cmdDisconnect
	cmdDisconnectLater
	cmdDisconnectNow
	cmdConnect
)

type hostCmd struct {
	kind     cmdKind
	peer     *Peer
	channel  uint8
	flags    PacketFlag
	pkt      *packet
	data     uint32
	addr     netip.AddrPort
	netAddr  net.Addr
	channels int
	reply    chan connectReply
}

type connectReply struct {
	peer *Peer
	err  error
}

// Listen starts a server host on tr: it accepts connections from ENet
// clients, up to cfg.MaxPeers. The host owns tr and closes it on Close.
func Listen(tr Transport, cfg Config) (*Host, error) { return newHost(tr, cfg, true) }

// NewClient starts a client host on tr: it only makes outgoing connections
// (with [Host.Connect]) and ignores incoming ones. The host owns tr.
func NewClient(tr Transport, cfg Config) (*Host, error) { return newHost(tr, cfg, false) }

func newHost(tr Transport, cfg Config, server bool) (*Host, error) {
	if tr == nil {
		return nil, fmt.Errorf("%w: nil transport", ErrBadConfig)
	}
	if err := cfg.fill(server); err != nil {
		return nil, err
	}
	seed := cfg.Seed
	if seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	h := &Host{
		tr:       tr,
		cfg:      cfg,
		server:   server,
		epoch:    cfg.Clock(),
		rng:      rand.New(rand.NewChaCha8(s)),
		peers:    make([]*Peer, cfg.MaxPeers),
		byAddr:   make(map[netip.AddrPort]*Peer),
		sendBuf:  make([]byte, 0, wire.MaximumMTU),
		cmdc:     make(chan hostCmd, queueSize(cfg.MaxPeers, 4, 256, 16384)), // a Send per peer per tick must not block the caller
		inc:      make(chan *datagram, queueSize(cfg.MaxPeers, 2, datagramQueueMin, datagramQueue)),
		free:     make(chan *datagram, queueSize(cfg.MaxPeers, 2, datagramQueueMin, datagramQueue)),
		events:   make(chan Event, queueSize(cfg.MaxPeers, 16, eventChanSize, eventChanMax)),
		done:     make(chan struct{}),
		loopDone: make(chan struct{}),
		readDone: make(chan struct{}),
	}
	if ap, ok := tr.(addrPortTransport); ok {
		h.ap = ap
	}
	for range cap(h.free) {
		h.free <- &datagram{buf: make([]byte, maxDatagram+1)}
	}
	h.updateTime()
	go h.readLoop()
	go h.loop()
	return h, nil
}

// newIdleHost builds a host without starting its goroutines, for tests
// that drive the protocol directly.
func newIdleHost(tr Transport, cfg Config, server bool) (*Host, error) {
	if err := cfg.fill(server); err != nil {
		return nil, err
	}
	h := &Host{
		tr: tr, cfg: cfg, server: server, epoch: cfg.Clock(),
		rng:     rand.New(rand.NewChaCha8([32]byte{})),
		peers:   make([]*Peer, cfg.MaxPeers),
		byAddr:  make(map[netip.AddrPort]*Peer),
		sendBuf: make([]byte, 0, wire.MaximumMTU),
	}
	if ap, ok := tr.(addrPortTransport); ok {
		h.ap = ap
	}
	h.updateTime()
	return h, nil
}

// LocalAddr returns the transport's local address.
func (h *Host) LocalAddr() net.Addr { return h.tr.LocalAddr() }

// Stats returns the host's counters.
func (h *Host) Stats() Stats {
	s := Stats{
		PacketsIn:   h.st.packetsIn.Load(),
		PacketsOut:  h.st.packetsOut.Load(),
		BytesIn:     h.st.bytesIn.Load(),
		BytesOut:    h.st.bytesOut.Load(),
		WriteErrors: h.st.writeErrors.Load(),

		ThrottleDropped: h.st.throttleDropped.Load(),
	}
	for i := range s.Dropped {
		s.Dropped[i] = h.st.dropped[i].Load()
	}
	return s
}

// Connect starts connecting to the ENet host at addr (an IP:port) with
// channels channels (clamped to 1..255) and data as the connect data
// (Godot sends its peer id there). The connection completes when
// [Host.Service] returns an EventConnect for the returned peer, or fails
// with an EventDisconnect.
func (h *Host) Connect(addr net.Addr, channels int, data uint32) (*Peer, error) {
	ap, err := toAddrPort(addr)
	if err != nil {
		return nil, err
	}
	reply := make(chan connectReply, 1)
	if err := h.post(hostCmd{kind: cmdConnect, addr: ap, netAddr: addr, channels: channels, data: data, reply: reply}); err != nil {
		return nil, err
	}
	select {
	case r := <-reply:
		return r.peer, r.err
	case <-h.loopDone:
		return nil, ErrClosed
	}
}

func toAddrPort(a net.Addr) (netip.AddrPort, error) {
	if ua, ok := a.(*net.UDPAddr); ok {
		ap := ua.AddrPort()
		if ap.IsValid() {
			return ap, nil
		}
	}
	if a == nil {
		return netip.AddrPort{}, ErrBadAddress
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: %v", ErrBadAddress, err)
	}
	return ap, nil
}

func (h *Host) post(c hostCmd) error {
	select {
	case <-h.done:
		return ErrClosed
	default:
	}
	select {
	case h.cmdc <- c:
		return nil
	case <-h.done:
		return ErrClosed
	}
}

// Service waits up to timeout for the next event and returns it; on timeout
// it returns an Event of type EventNone. A timeout <= 0 polls. After Close it
// returns ErrClosed. The Packet of the previous event returned is recycled
// on each call. Calls are serialised.
func (h *Host) Service(timeout time.Duration) (Event, error) {
	h.svcMu.Lock()
	defer h.svcMu.Unlock()
	if h.lastPkt != nil {
		h.lastPkt.release()
		h.lastPkt = nil
	}
	var ev Event
	if timeout <= 0 {
		select {
		case ev = <-h.events:
		case <-h.loopDone:
			return Event{}, ErrClosed
		default:
			return Event{}, nil
		}
	} else {
		if h.svcTimer == nil {
			h.svcTimer = time.NewTimer(timeout)
		} else {
			h.svcTimer.Reset(timeout)
		}
		select {
		case ev = <-h.events:
			h.svcTimer.Stop()
		case <-h.loopDone:
			h.svcTimer.Stop()
			return Event{}, ErrClosed
		case <-h.svcTimer.C:
			return Event{}, nil
		}
	}
	h.lastPkt = ev.pkt
	ev.pkt = nil
	return ev, nil
}

// Close disconnects every peer at once (as [Peer.DisconnectNow]), stops the
// host and closes its transport. Events not yet returned by Service are
// discarded.
func (h *Host) Close() error {
	h.closeOnce.Do(func() {
		close(h.done)
		<-h.loopDone
		h.closeErr = h.tr.Close()
		<-h.readDone
		h.svcMu.Lock()
		if h.lastPkt != nil {
			h.lastPkt.release()
			h.lastPkt = nil
		}
		h.svcMu.Unlock()
	})
	return h.closeErr
}

func (h *Host) readLoop() {
	defer close(h.readDone)
	var d *datagram
	for {
		if d == nil {
			select {
			case d = <-h.free:
			case <-h.done:
				return
			}
		}
		var err error
		if h.ap != nil {
			d.n, d.from, err = h.ap.ReadFromUDPAddrPort(d.buf)
		} else {
			var a net.Addr
			d.n, a, err = h.tr.ReadFrom(d.buf)
			if err == nil {
				d.addr = a
				d.from, err = toAddrPort(a)
				if err != nil {
					h.drop(DropUnknownPeer)
					continue
				}
			}
		}
		if err != nil {
			select {
			case <-h.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			// Transient errors (ICMP refusals surfaced by the kernel) are
			// ignored, as ENet does.
			time.Sleep(time.Millisecond)
			continue
		}
		select {
		case h.inc <- d:
			d = nil
		case <-h.done:
			return
		}
	}
}

func (h *Host) drop(r DropReason) { h.st.dropped[r].Add(1) }

func (h *Host) updateTime() {
	h.serviceTime = uint32(h.cfg.Clock().Sub(h.epoch)/time.Millisecond) + 1
}

func (h *Host) loop() {
	defer close(h.loopDone)
	tick := time.NewTicker(h.cfg.Tick)
	defer tick.Stop()
	for {
		var out chan Event
		var next Event
		if h.evHead < len(h.evq) {
			out = h.events
			next = h.evq[h.evHead]
		}
		select {
		case <-h.done:
			h.shutdown()
			return
		case d := <-h.inc:
			h.updateTime()
			h.handleDatagram(d)
		drainIn:
			for range cap(h.inc) {
				select {
				case d = <-h.inc:
					h.handleDatagram(d)
				default:
					break drainIn
				}
			}
			h.flush()
		case c := <-h.cmdc:
			h.updateTime()
			h.exec(c)
		drainCmd:
			for range 1024 {
				select {
				case c = <-h.cmdc:
					h.exec(c)
				default:
					break drainCmd
				}
			}
			h.flush()
		case out <- next:
			h.popEvent(next)
		case <-tick.C:
			h.updateTime()
			h.flushAll()
		}
		h.pumpEvents()
	}
}

// popEvent drops the head of the event queue after it was handed to Service.
func (h *Host) popEvent(ev Event) {
	h.evq[h.evHead] = Event{}
	h.evHead++
	if ev.Type == EventReceive && ev.Peer != nil {
		ev.Peer.totalWaitingData -= len(ev.Packet)
	}
	if h.evHead == len(h.evq) {
		h.evq = h.evq[:0]
		h.evHead = 0
	}
}

// pumpEvents hands queued events to Service as far as the channel takes them without
// blocking. Without it, one event moved per loop iteration: a consumer polling with
// Service(0) once per tick saw an empty channel while hundreds of events waited, and
// fell further behind every tick.
func (h *Host) pumpEvents() {
	for h.evHead < len(h.evq) {
		select {
		case h.events <- h.evq[h.evHead]:
			h.popEvent(h.evq[h.evHead])
		default:
			return
		}
	}
}

// queueSize scales a queue with the peer limit: peers·per, clamped to [lo, hi].
func queueSize(peers, per, lo, hi int) int { return min(max(peers*per, lo), hi) }

func (h *Host) handleDatagram(d *datagram) {
	n := d.n
	if n > maxDatagram {
		h.st.packetsIn.Add(1)
		h.st.bytesIn.Add(uint64(n))
		h.drop(DropTooLarge)
	} else {
		h.receive(d.buf[:n], d.from, d.addr)
	}
	d.addr = nil
	h.free <- d
}

func (h *Host) exec(c hostCmd) {
	switch c.kind {
	case cmdSend:
		p := c.peer
		if p.h == h && p.state == stateConnected {
			p.send(c.channel, c.pkt, c.flags)
		} else {
			c.pkt.release()
		}
	case cmdDisconnect:
		c.peer.disconnect(c.data)
	case cmdDisconnectLater:
		c.peer.disconnectLater(c.data)
	case cmdDisconnectNow:
		c.peer.disconnectNow(c.data)
	case cmdConnect:
		p, err := h.connect(c.addr, c.netAddr, c.channels, c.data)
		c.reply <- connectReply{p, err}
	}
}

func (h *Host) shutdown() {
	for len(h.active) > 0 {
		h.active[len(h.active)-1].disconnectNow(0)
	}
	for _, ev := range h.evq[h.evHead:] {
		if ev.pkt != nil {
			ev.pkt.release()
		}
	}
	h.evq = nil
	for {
		select {
		case c := <-h.cmdc:
			if c.pkt != nil {
				c.pkt.release()
			}
			if c.reply != nil {
				c.reply <- connectReply{nil, ErrClosed}
			}
		case ev := <-h.events:
			if ev.pkt != nil {
				ev.pkt.release()
			}
		default:
			return
		}
	}
}

func (h *Host) pushEvent(ev Event) { h.evq = append(h.evq, ev) }

func (h *Host) allocSlot() int {
	for i, p := range h.peers {
		if p == nil {
			return i
		}
	}
	return -1
}

func (h *Host) newPeer(slot int, ap netip.AddrPort, netAddr net.Addr) *Peer {
	p := &Peer{
		h:                 h,
		id:                uint16(slot),
		addr:              ap,
		key:               ap.Addr().Unmap(),
		port:              ap.Port(),
		netAddr:           netAddr,
		outgoingPeerID:    wire.MaximumPeerID,
		incomingSessionID: 0xFF,
		outgoingSessionID: 0xFF,
		mtu:               uint32(h.cfg.MTU),
		windowSize:        wire.MaximumWindowSize,
		rtt:               defaultRTT,
		lastRTT:           defaultRTT,
		lowestRTT:         defaultRTT,
		packetThrottle:    packetThrottleScale,
		packetThrottleLim: packetThrottleScale,
		throttleAccel:     packetThrottleAccel,
		throttleDecel:     packetThrottleDecel,
		throttleInterval:  packetThrottleInterval,
		pingInterval:      uint32(h.cfg.PingInterval / time.Millisecond),
		timeoutLimit:      uint32(h.cfg.TimeoutLimit),
		timeoutMinimum:    uint32(h.cfg.TimeoutMinimum / time.Millisecond),
		timeoutMaximum:    uint32(h.cfg.TimeoutMaximum / time.Millisecond),
		lastAnyReceive:    h.serviceTime,
	}
	if p.netAddr == nil && h.ap == nil {
		p.netAddr = net.UDPAddrFromAddrPort(ap)
	}
	h.peers[slot] = p
	h.active = append(h.active, p)
	h.byAddr[netip.AddrPortFrom(p.key, p.port)] = p
	return p
}

func (h *Host) connect(ap netip.AddrPort, netAddr net.Addr, channels int, data uint32) (*Peer, error) {
	channels = min(max(channels, wire.MinimumChannelCount), wire.MaximumChannelCount)
	slot := h.allocSlot()
	if slot < 0 {
		return nil, ErrNoFreePeer
	}
	p := h.newPeer(slot, ap, netAddr)
	p.channels = make([]channel, channels)
	p.aChannels.Store(uint32(channels))
	p.setState(stateConnecting)
	p.connectID = h.rng.Uint32()
	p.connectData = data
	oc := h.getOut()
	oc.cmd = wire.Command{
		Number:               wire.CmdConnect,
		Flags:                wire.FlagAcknowledge,
		ChannelID:            0xFF,
		OutgoingPeerID:       p.id,
		IncomingSessionID:    p.incomingSessionID,
		OutgoingSessionID:    p.outgoingSessionID,
		MTU:                  p.mtu,
		WindowSize:           p.windowSize,
		ChannelCount:         uint32(channels),
		ThrottleInterval:     p.throttleInterval,
		ThrottleAcceleration: p.throttleAccel,
		ThrottleDeceleration: p.throttleDecel,
		ConnectID:            p.connectID,
		Data:                 data,
	}
	p.queueOutgoing(oc)
	return p, nil
}

func (h *Host) removeActive(p *Peer) {
	for i, q := range h.active {
		if q == p {
			last := len(h.active) - 1
			h.active[i] = h.active[last]
			h.active[last] = nil
			h.active = h.active[:last]
			break
		}
	}
	if h.peers[p.id] == p {
		h.peers[p.id] = nil
	}
	k := netip.AddrPortFrom(p.key, p.port)
	if h.byAddr[k] == p {
		delete(h.byAddr, k)
	}
}

func (h *Host) getOut() *outCmd {
	if n := len(h.freeOut); n > 0 {
		oc := h.freeOut[n-1]
		h.freeOut = h.freeOut[:n-1]
		return oc
	}
	return new(outCmd)
}

func (h *Host) putOut(oc *outCmd) {
	if oc.pkt != nil {
		oc.pkt.release()
	}
	*oc = outCmd{}
	h.freeOut = append(h.freeOut, oc)
}

func (h *Host) getIn() *inCmd {
	if n := len(h.freeIn); n > 0 {
		ic := h.freeIn[n-1]
		h.freeIn = h.freeIn[:n-1]
		return ic
	}
	return new(inCmd)
}

func (h *Host) putIn(ic *inCmd) {
	frag := ic.fragments[:0]
	*ic = inCmd{fragments: frag}
	if cap(frag) > 1024 {
		ic.fragments = nil
	}
	h.freeIn = append(h.freeIn, ic)
}

func (h *Host) write(p *Peer, b []byte) {
	var err error
	if h.ap != nil {
		_, err = h.ap.WriteToUDPAddrPort(b, p.addr)
	} else {
		_, err = h.tr.WriteTo(b, p.netAddr)
	}
	if err != nil {
		h.st.writeErrors.Add(1)
		return
	}
	h.st.packetsOut.Add(1)
	h.st.bytesOut.Add(uint64(len(b)))
}

// flushAll is the host's periodic flush: it visits every peer, checks
// retransmission and idle timeouts, sends pings and what is queued, and dispatches
// zombie peers.
func (h *Host) flushAll() {
	for i := 0; i < len(h.active); i++ {
		p := h.active[i]
		if p.state == stateZombie {
			h.dispatchZombie(p)
			i--
			continue
		}
		if h.cfg.IdleTimeout > 0 && timeDiff(h.serviceTime, p.lastAnyReceive) >= uint32(h.cfg.IdleTimeout/time.Millisecond) {
			p.notifyDisconnect()
			i--
			continue
		}
		if !h.sendPeer(p) {
			i--
			continue
		}
		if p.state == stateZombie {
			h.dispatchZombie(p)
			i--
		}
	}
	for _, p := range h.dirty {
		p.dirty = false
	}
	clear(h.dirty)
	h.dirty = h.dirty[:0]
}

// flush sends what the peers marked dirty since the last flush have to send (a
// datagram from them, a command queued for them, a state change). It runs after every
// batch of datagrams and of Sends, so it must not walk every peer: with thousands of
// peers that walk, once per batch, cost more than the sending itself. Timeouts and
// pings wait for flushAll, on the host's tick.
func (h *Host) flush() {
	for i := 0; i < len(h.dirty); i++ { // sendPeer may mark more peers
		p := h.dirty[i]
		p.dirty = false
		switch p.state {
		case stateDisconnected:
			continue
		case stateZombie:
			h.dispatchZombie(p)
			continue
		}
		if h.sendPeer(p) && p.state == stateZombie {
			h.dispatchZombie(p)
		}
	}
	clear(h.dirty)
	h.dirty = h.dirty[:0]
}

func (h *Host) dispatchZombie(p *Peer) {
	h.pushEvent(Event{Type: EventDisconnect, Peer: p, Data: p.eventData})
	p.reset()
}
