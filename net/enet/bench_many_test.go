package enet_test

import (
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/shardsim/shardsim/net/enet"
)

// BenchmarkManyPeers models a shard tick: a server host with n connected
// peers (all from one client host, so both ends run on one socket each)
// receives one small input from every peer and sends every peer one small
// snapshot. One op is one tick: 2n application datagrams. It reports the
// wall time and the process CPU time per datagram.
func BenchmarkManyPeers(b *testing.B) {
	for _, n := range []int{256, 512} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchManyPeers(b, n) })
	}
}

func benchManyPeers(b *testing.B, n int) {
	sconn, cconn := udpB(b), udpB(b)
	for _, c := range []enet.Transport{sconn, cconn} {
		c.(*net.UDPConn).SetReadBuffer(4 << 20) // a tick's burst must fit
	}
	s, err := enet.Listen(sconn, enet.Config{MaxPeers: n})
	if err != nil {
		b.Fatal(err)
	}
	c, err := enet.NewClient(cconn, enet.Config{MaxPeers: n})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close(); s.Close() })
	var cps, sps []*enet.Peer
	deadline := time.Now().Add(20 * time.Second)
	for cn := 0; cn < n || len(sps) < n; {
		if time.Now().After(deadline) {
			b.Fatalf("connected %d/%d", len(sps), cn)
		}
		for len(cps) < n && len(cps) < cn+32 { // connect 32 at a time
			p, err := c.Connect(sconn.LocalAddr(), 1, 0)
			if err != nil {
				b.Fatal(err)
			}
			cps = append(cps, p)
		}
		if ev, _ := s.Service(time.Millisecond); ev.Type == enet.EventConnect {
			sps = append(sps, ev.Peer)
		}
		if ev, _ := c.Service(time.Millisecond); ev.Type == enet.EventConnect {
			cn++
		}
	}
	payload := make([]byte, 48)
	drain := func(h *enet.Host, want int, got chan<- int) {
		k := 0
		end := time.Now().Add(200 * time.Millisecond)
		for k < want && time.Now().Before(end) {
			ev, _ := h.Service(10 * time.Millisecond)
			if ev.Type == enet.EventReceive {
				k++
			}
		}
		got <- k
	}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	s0, c0 := s.Stats(), c.Stats()
	lost := 0
	got := make(chan int, 2)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, p := range cps {
			p.Send(0, payload, 0)
		}
		for _, p := range sps {
			p.Send(0, payload, 0)
		}
		go drain(s, n, got)
		drain(c, n, got)
		l := 2*n - <-got - <-got
		lost += l
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	s1, c1 := s.Stats(), c.Stats()
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	dg := float64(s1.PacketsOut + c1.PacketsOut - s0.PacketsOut - c0.PacketsOut)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/dg, "ns/dgram")
	b.ReportMetric(float64(cpu.Nanoseconds())/dg, "cpu-ns/dgram")
	b.ReportMetric(float64(ru1.Nvcsw+ru1.Nivcsw-ru0.Nvcsw-ru0.Nivcsw)/dg, "ctxsw/dgram")
	b.ReportMetric(dg/float64(b.N)/float64(2*n), "dgram/msg")
	b.ReportMetric(float64(lost)/float64(b.N), "lost/op")
}
