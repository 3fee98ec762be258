package enet

import (
	"net/netip"
	"testing"
	"time"

	"github.com/shardsim/shardsim/net/enet/enettest"
	"github.com/shardsim/shardsim/net/enet/internal/wire"
)

// handshakeHost is a server host driven by hand with a manual clock. It has
// received a CONNECT from `from` and sent its VERIFY_CONNECT.
func handshakeHost(t *testing.T) (h *Host, p *Peer, advance func(time.Duration), from netip.AddrPort) {
	t.Helper()
	now := time.Unix(1000, 0)
	tr := enettest.NewNetwork(1).Listen()
	t.Cleanup(func() { tr.Close() })
	h, err := newIdleHost(tr, Config{MaxChannels: 3, Clock: func() time.Time { return now }}, true)
	if err != nil {
		t.Fatal(err)
	}
	advance = func(d time.Duration) {
		now = now.Add(d)
		h.updateTime()
		h.flushAll()
	}
	from = netip.MustParseAddrPort("10.0.0.9:5000")
	h.receive(connectDatagram(3, 0xC0FFEE), from, nil)
	h.flushAll()
	p = h.peers[0]
	if p == nil || p.state != stateAcknowledgingConnect {
		t.Fatal("no peer acknowledging the connect")
	}
	if st := h.Stats(); st.PacketsOut != 1 || st.BytesOut != headerSizeWithTime+uint64(wire.CommandSize(wire.CmdVerifyConnect)) {
		t.Fatalf("VERIFY_CONNECT not sent: %+v", st)
	}
	return h, p, advance, from
}

// fromClient is a datagram the client sends once connected: it carries the
// peer ID and session the VERIFY_CONNECT gave it.
func fromClient(p *Peer, sentTime uint16, cmds ...wire.Command) []byte {
	b := wire.AppendHeader(nil, &wire.Header{PeerID: p.id, SessionID: p.incomingSessionID, HasSentTime: true, SentTime: sentTime})
	for _, c := range cmds {
		b, _ = wire.AppendCommand(b, &c)
	}
	return b
}

// TestLostVerifyConnectAck: the client's acknowledgement of VERIFY_CONNECT
// is lost and its first reliable packet arrives first. The packet completes
// the handshake (it could only be sent after VERIFY_CONNECT arrived) and is
// delivered, instead of being refused until a VERIFY_CONNECT retransmission
// is acknowledged.
func TestLostVerifyConnectAck(t *testing.T) {
	h, p, _, from := handshakeHost(t)
	h.receive(fromClient(p, 10, wire.Command{
		Number: wire.CmdSendReliable, Flags: wire.FlagAcknowledge, ChannelID: 1, ReliableSeq: 1, Payload: []byte("hello"),
	}), from, nil)
	if p.state != stateConnected {
		t.Fatalf("state %d, want connected", p.state)
	}
	if n := h.Stats().Dropped[DropProtocol]; n != 0 {
		t.Fatalf("%d protocol drops", n)
	}
	evs := h.evq[h.evHead:]
	if len(evs) != 2 || evs[0].Type != EventConnect || evs[0].Data != 2 ||
		evs[1].Type != EventReceive || evs[1].Channel != 1 || string(evs[1].Packet) != "hello" {
		t.Fatalf("events %+v, want connect then receive", evs)
	}
	if len(p.sentReliable) != 0 || len(p.outgoing) != 0 {
		t.Fatal("VERIFY_CONNECT still awaits its acknowledgement")
	}
	if len(p.acks) != 1 || p.acks[0].channel != 1 || p.acks[0].seq != 1 {
		t.Fatalf("acks %+v, want the packet's", p.acks)
	}
	// The acknowledgement, arriving late, changes nothing.
	h.receive(fromClient(p, 11, wire.Command{
		Number: wire.CmdAcknowledge, ChannelID: 0xFF, ReliableSeq: 1, ReceivedReliableSeq: 1, ReceivedSentTime: uint16(h.serviceTime),
	}), from, nil)
	if p.state != stateConnected || len(h.evq[h.evHead:]) != 2 || h.Stats().Dropped[DropProtocol] != 0 {
		t.Fatalf("late acknowledgement: state %d, %d events, stats %+v", p.state, len(h.evq[h.evHead:]), h.Stats())
	}
}

// TestHandshakeDisconnectNotImplied: a DISCONNECT before the handshake
// completed resets the peer silently, as in ENet; it implies nothing.
func TestHandshakeDisconnectNotImplied(t *testing.T) {
	h, p, _, from := handshakeHost(t)
	h.receive(fromClient(p, 10, wire.Command{Number: wire.CmdDisconnect, Flags: wire.FlagAcknowledge, ChannelID: 0xFF, ReliableSeq: 3}), from, nil)
	if p.state != stateDisconnected || h.peers[0] != nil || len(h.evq) != 0 {
		t.Fatalf("state %d, %d events", p.state, len(h.evq))
	}
}

// TestWithheldVerifyConnect: a VERIFY_CONNECT retransmission the
// anti-amplification credit does not cover is withheld without counting as
// sent (its timeout does not keep doubling), goes out as soon as the client's
// next datagram pays for it, and a client that never pays times out.
func TestWithheldVerifyConnect(t *testing.T) {
	h, p, advance, from := handshakeHost(t)
	advance(600 * time.Millisecond) // the retransmission timeout (500 ms) expires
	if st := h.Stats(); st.PacketsOut != 1 {
		t.Fatalf("retransmission sent without credit: %+v", st)
	}
	if len(p.outgoing) != 1 || p.outgoing[0].cmd.Number != wire.CmdVerifyConnect || p.outgoing[0].rtTimeout != 1000 {
		t.Fatal("VERIFY_CONNECT not queued for retransmission with a doubled timeout")
	}
	for range 4 {
		advance(time.Second)
	}
	if h.Stats().PacketsOut != 1 || p.outgoing[0].rtTimeout != 1000 || h.peers[0] != p {
		t.Fatalf("withheld VERIFY_CONNECT: stats %+v, timeout %d", h.Stats(), p.outgoing[0].rtTimeout)
	}
	// The client, not having heard back, retransmits its CONNECT.
	h.receive(connectDatagram(3, 0xC0FFEE), from, nil)
	h.flushAll()
	st := h.Stats()
	if st.PacketsOut != 2 {
		t.Fatalf("retransmitted CONNECT did not release the VERIFY_CONNECT: %+v", st)
	}
	if st.BytesOut > st.BytesIn {
		t.Fatalf("sent %d bytes for %d", st.BytesOut, st.BytesIn)
	}
	// The client goes quiet: the peer times out within TimeoutMaximum, and
	// nothing more is sent.
	for range 31 {
		advance(time.Second)
	}
	if h.peers[0] != nil || p.state != stateDisconnected {
		t.Fatalf("half-open peer kept (state %d)", p.state)
	}
	if st := h.Stats(); st.BytesOut > st.BytesIn || len(h.evq) != 0 {
		t.Fatalf("stats %+v, %d events", st, len(h.evq))
	}
}
