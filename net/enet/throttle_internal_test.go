package enet

import (
	"net/netip"
	"testing"
	"time"

	"github.com/shardsim/shardsim/net/enet/enettest"
	"github.com/shardsim/shardsim/net/enet/internal/wire"
)

// TestUnreliableThrottle: with the peer's packet throttle lowered (as ENet lowers it
// while the round-trip time rises), the host drops a share of its unreliable packets
// and counts them, unless Config.NoUnreliableThrottle keeps them all. Reliable packets
// are never dropped.
func TestUnreliableThrottle(t *testing.T) {
	for _, tc := range []struct {
		name       string
		noThrottle bool
	}{{"ENet default", false}, {"NoUnreliableThrottle", true}} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Unix(1000, 0)
			nw := enettest.NewNetwork(1)
			tr := nw.Listen()
			t.Cleanup(func() { tr.Close() })
			h, err := newIdleHost(tr, Config{MaxChannels: 3, Clock: func() time.Time { return now }, NoUnreliableThrottle: tc.noThrottle}, true)
			if err != nil {
				t.Fatal(err)
			}
			h.updateTime()
			addr := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.9"), 5000)
			h.receive(connectDatagram(3, 1), addr, nil)
			h.flushAll()
			p := h.peers[0]
			h.receive(fromClient(p, 2, wire.Command{
				Number: wire.CmdAcknowledge, ChannelID: 0xFF, ReliableSeq: 1, ReceivedReliableSeq: 1, ReceivedSentTime: uint16(h.serviceTime),
			}), addr, nil)
			if p.state != stateConnected {
				t.Fatalf("state %d, want connected", p.state)
			}
			p.packetThrottle = packetThrottleScale / 4
			const n = 64
			for i := range n {
				pkt := getPacket(8)
				pkt.data[0] = byte(i)
				p.send(2, pkt, 0)
				h.flush()
			}
			dropped := h.Stats().ThrottleDropped
			if tc.noThrottle && dropped != 0 {
				t.Errorf("%d of %d unreliable packets dropped, want none", dropped, n)
			}
			if !tc.noThrottle && (dropped < n/2 || dropped == n) {
				t.Errorf("%d of %d unreliable packets dropped at throttle %d/%d, want about three quarters", dropped, n, p.packetThrottle, packetThrottleScale)
			}
		})
	}
}
