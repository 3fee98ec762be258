package enet_test

import (
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/shardsim/shardsim/net/enet"
	"github.com/shardsim/shardsim/net/enet/internal/wire"
)

func rawConnect(connectID uint32) []byte {
	h := wire.Header{PeerID: wire.MaximumPeerID, HasSentTime: true, SentTime: 1}
	b := wire.AppendHeader(nil, &h)
	b, _ = wire.AppendCommand(b, &wire.Command{
		Number: wire.CmdConnect, Flags: wire.FlagAcknowledge, ChannelID: 0xFF, ReliableSeq: 1,
		IncomingSessionID: 0xFF, OutgoingSessionID: 0xFF, MTU: 1400, WindowSize: 65536, ChannelCount: 255,
		ThrottleInterval: 5000, ThrottleAcceleration: 2, ThrottleDeceleration: 2, ConnectID: connectID, Data: 2,
	})
	return b
}

// received counts the bytes arriving on c until it has been quiet for d.
func received(c *net.UDPConn, d time.Duration) int {
	total := 0
	buf := make([]byte, 65536)
	for {
		c.SetReadDeadline(time.Now().Add(d))
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return total
		}
		total += n
	}
}

// TestNoAmplification: an address that never completes the handshake gets
// back no more bytes than it sent, retransmissions included.
func TestNoAmplification(t *testing.T) {
	st := udp(t)
	s, err := enet.Listen(st, enet.Config{TimeoutMinimum: 500 * time.Millisecond, TimeoutMaximum: 700 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	collect(t, s)
	attacker := udp(t)
	t.Cleanup(func() { attacker.Close() })
	sent := 0
	for i := range 3 {
		d := rawConnect(0xABCD)
		attacker.WriteTo(d, st.LocalAddr())
		sent += len(d)
		got := received(attacker, 300*time.Millisecond)
		if i == 0 && got == 0 {
			t.Fatal("no VERIFY_CONNECT came back")
		}
	}
	received(attacker, time.Second) // let retransmissions, if any, happen
	t.Logf("sent %d bytes", sent)
	if total := s.Stats().BytesOut; total > uint64(sent) {
		t.Fatalf("server sent %d bytes to a peer that sent %d", total, sent)
	}
}

// TestMalformedDatagrams: garbage is dropped and counted, and the host keeps
// working.
func TestMalformedDatagrams(t *testing.T) {
	p := connect(t, udp(t), udp(t), enet.Config{}, enet.Config{}, 2, 1)
	attacker := udp(t)
	t.Cleanup(func() { attacker.Close() })
	rng := rand.New(rand.NewPCG(1, 2))
	saddr := p.clientPeer.Addr()
	for i := range 2000 {
		b := make([]byte, rng.IntN(64))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		if i%3 == 0 && len(b) >= 2 {
			b[0], b[1] = 0x80, 0 // claim peer 0 with a sent time
		}
		attacker.WriteTo(b, saddr)
	}
	attacker.WriteTo(make([]byte, 5000), saddr)
	for i := range 100 {
		p.clientPeer.Send(0, []byte{byte(i)}, enet.Reliable)
	}
	for i := range 100 {
		if e := next(t, p.sev, enet.EventReceive); e.pkt[0] != byte(i) {
			t.Fatalf("got %d want %d", e.pkt[0], i)
		}
	}
	st := p.server.Stats()
	var dropped uint64
	for _, n := range st.Dropped {
		dropped += n
	}
	if dropped == 0 {
		t.Fatal("no malformed datagram counted")
	}
	t.Logf("dropped by reason: %v", st.Dropped)
}
