package enet

import "testing"

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
			h, _ := idleServer(t, Config{MaxChannels: 3, NoUnreliableThrottle: tc.noThrottle}, 1)
			p := h.peers[0]
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
