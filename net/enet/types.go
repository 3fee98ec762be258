package enet

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardsim/shardsim/net/enet/internal/wire"
)

// Transport is the datagram socket a [Host] runs on. *net.UDPConn satisfies
// it, and so do the conns of package enettest. When the transport also has
// ReadFromUDPAddrPort and WriteToUDPAddrPort (as *net.UDPConn does), the
// host uses them and does not allocate per datagram.
type Transport interface {
	ReadFrom(p []byte) (n int, addr net.Addr, err error)
	WriteTo(p []byte, addr net.Addr) (n int, err error)
	Close() error
	LocalAddr() net.Addr
	SetReadDeadline(t time.Time) error
}

type addrPortTransport interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

// PacketFlag selects how [Peer.Send] delivers a packet. The values are
// ENet's ENET_PACKET_FLAG_* values.
type PacketFlag uint8

const (
	// Reliable packets are retransmitted until acknowledged and delivered
	// in order, exactly once, on their channel.
	Reliable PacketFlag = 1 << 0
	// Unsequenced packets are unreliable and delivered in any order, but at
	// most once.
	Unsequenced PacketFlag = 1 << 1
	// UnreliableFragment lets an unreliable packet larger than the MTU be
	// sent as unreliable fragments (otherwise it is sent reliably, as ENet
	// does).
	UnreliableFragment PacketFlag = 1 << 3
)

// A packet sent with no flags is unreliable and sequenced: it may be lost,
// and an older one arriving after a newer one on the same channel is dropped.

// EventType says what an [Event] reports. The values are ENet's.
type EventType int

const (
	// EventNone means [Host.Service] timed out with nothing to report.
	EventNone EventType = iota
	// EventConnect reports a completed connection; Data is the connect data
	// the client sent (on the server) or 0 (on the client).
	EventConnect
	// EventDisconnect reports a disconnection or timeout; Data is the data
	// the remote end sent with its disconnect, or 0.
	EventDisconnect
	// EventReceive reports a packet on Channel.
	EventReceive
)

func (t EventType) String() string {
	switch t {
	case EventNone:
		return "none"
	case EventConnect:
		return "connect"
	case EventDisconnect:
		return "disconnect"
	case EventReceive:
		return "receive"
	}
	return "unknown"
}

// Event is something that happened on a [Host], returned by [Host.Service].
type Event struct {
	Type    EventType
	Peer    *Peer
	Channel uint8
	Data    uint32
	// Packet is the payload of an EventReceive. It is only valid until the
	// next call to Service on the same host: copy it to keep it.
	Packet []byte

	pkt *packet
}

// DropReason classifies received datagrams the host dropped.
type DropReason int

const (
	DropShort       DropReason = iota // too short for a header
	DropTooLarge                      // longer than the maximum MTU
	DropCompressed                    // compressed, which this host does not support
	DropUnknownPeer                   // peer ID not in use, or address mismatch
	DropSession                       // session ID mismatch (stale connection)
	DropMalformed                     // a command did not parse
	DropProtocol                      // a command was invalid in the peer's state
	DropRefused                       // connect refused (no free slot, bad channel count, client host)
	DropWaitingData                   // peer exceeded Config.MaxWaitingData
	NumDropReasons
)

func (r DropReason) String() string {
	switch r {
	case DropShort:
		return "short"
	case DropTooLarge:
		return "too-large"
	case DropCompressed:
		return "compressed"
	case DropUnknownPeer:
		return "unknown-peer"
	case DropSession:
		return "session"
	case DropMalformed:
		return "malformed"
	case DropProtocol:
		return "protocol"
	case DropRefused:
		return "refused"
	case DropWaitingData:
		return "waiting-data"
	}
	return "unknown"
}

// Stats are cumulative counters of a [Host].
type Stats struct {
	PacketsIn, PacketsOut uint64 // datagrams
	BytesIn, BytesOut     uint64
	WriteErrors           uint64
	// Dropped counts received datagrams (or the rest of one) dropped, by reason.
	Dropped [NumDropReasons]uint64
	// ThrottleDropped counts unreliable packets this host did not send because of
	// the peer's packet throttle (see Config.NoUnreliableThrottle).
	ThrottleDropped uint64
}

type stats struct {
	packetsIn, packetsOut, bytesIn, bytesOut, writeErrors atomic.Uint64
	throttleDropped                                       atomic.Uint64
	dropped                                               [NumDropReasons]atomic.Uint64
}

// packet is a reference-counted, pooled payload buffer.
type packet struct {
	data []byte
	refs int32
}

const maxPooledPacket = 64 << 10

var packetPool = sync.Pool{New: func() any { return new(packet) }}

func getPacket(n int) *packet {
	p := packetPool.Get().(*packet)
	if cap(p.data) < n {
		p.data = make([]byte, n, max(n, 512))
	}
	p.data = p.data[:n]
	p.refs = 1
	return p
}

func (p *packet) release() {
	p.refs--
	if p.refs == 0 && cap(p.data) <= maxPooledPacket {
		packetPool.Put(p)
	}
}

// peerState mirrors ENetPeerState.
type peerState int32

const (
	stateDisconnected peerState = iota
	stateConnecting
	stateAcknowledgingConnect
	stateConnectionPending
	stateConnectionSucceeded
	stateConnected
	stateDisconnectLater
	stateDisconnecting
	stateAcknowledgingDisconnect
	stateZombie
)

// ENet defaults (enet.h).
const (
	defaultRTT               = 500
	packetThrottleScale      = 32
	packetThrottleCounter    = 7
	packetThrottleAccel      = 2
	packetThrottleDecel      = 2
	packetThrottleInterval   = 5000
	packetLossScale          = 1 << 16
	packetLossInterval       = 10000
	windowSizeScale          = 64 * 1024
	unsequencedWindowSize    = 1024
	freeUnsequencedWindows   = 32
	reliableWindows          = 16
	reliableWindowSize       = 0x1000
	freeReliableWindows      = 8
	headerSizeWithTime       = 4
	fragmentHeaderSize       = 24
	maxDatagram              = wire.MaximumMTU
	datagramQueue            = 1024 // most receive buffers a host keeps (scaled by MaxPeers)
	datagramQueueMin         = 16
	eventChanSize            = 64    // fewest events a host buffers for Service
	eventChanMax             = 32768 // most (scaled by MaxPeers)
	defaultHostMTU           = 1392
	defaultPingInterval      = 500 * time.Millisecond
	defaultTimeoutLimit      = 32
	defaultTimeoutMinimum    = 5000 * time.Millisecond
	defaultTimeoutMaximum    = 30000 * time.Millisecond
	defaultTick              = 5 * time.Millisecond
	defaultMaxPacketSize     = 4 << 20
	defaultMaxWaitingData    = 8 << 20
	defaultServerMaxPeers    = 64
	defaultClientMaxPeers    = 8
	enetTimeOverflow         = 86400000
	maxSendPassesPerFlush    = 256
	amplificationMaxDatagram = 1 << 10
)

func timeLess(a, b uint32) bool         { return a-b >= enetTimeOverflow }
func timeGreaterEqual(a, b uint32) bool { return !timeLess(a, b) }
func timeDiff(a, b uint32) uint32 {
	if a-b >= enetTimeOverflow {
		return b - a
	}
	return a - b
}
