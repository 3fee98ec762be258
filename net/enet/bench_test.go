package enet_test

import (
	"testing"
	"time"

	"github.com/shardsim/shardsim/net/enet"
)

func benchPair(b *testing.B) (*enet.Host, *enet.Host, *enet.Peer) {
	b.Helper()
	sconn, cconn := udpB(b), udpB(b)
	s, err := enet.Listen(sconn, enet.Config{})
	if err != nil {
		b.Fatal(err)
	}
	c, err := enet.NewClient(cconn, enet.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close(); s.Close() })
	p, err := c.Connect(sconn.LocalAddr(), 2, 1)
	if err != nil {
		b.Fatal(err)
	}
	for got := 0; got < 2; {
		for _, h := range []*enet.Host{s, c} {
			ev, _ := h.Service(time.Millisecond)
			if ev.Type == enet.EventConnect {
				got++
			}
		}
	}
	return s, c, p
}

// benchSendReceive sends one 64-byte packet per iteration and waits until
// the server receives it (resending an unreliable packet that was lost).
func benchSendReceive(b *testing.B, flags enet.PacketFlag) {
	s, c, p := benchPair(b)
	payload := make([]byte, 64)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if err := p.Send(0, payload, flags); err != nil {
			b.Fatal(err)
		}
		for {
			ev, err := s.Service(50 * time.Millisecond)
			if err != nil {
				b.Fatal(err)
			}
			if ev.Type == enet.EventReceive {
				break
			}
			if ev.Type == enet.EventNone && flags&enet.Reliable == 0 {
				p.Send(0, payload, flags) // lost or throttled: try again
			}
		}
		// Drain client events (none expected) without blocking.
		c.Service(0)
	}
}

func BenchmarkSendReceiveUnreliable(b *testing.B) { benchSendReceive(b, 0) }
func BenchmarkSendReceiveReliable(b *testing.B)   { benchSendReceive(b, enet.Reliable) }

func udpB(b *testing.B) enet.Transport {
	c, err := listenUDP()
	if err != nil {
		b.Fatal(err)
	}
	return c
}
