package enet_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shardsim/shardsim/net/enet"
	"github.com/shardsim/shardsim/net/enet/enettest"
)

// TestHandshakeUnderLoss is the regression test for connections left
// half-open when the client's acknowledgement of VERIFY_CONNECT was lost:
// the client was connected, but the server, still waiting for that
// acknowledgement, refused the client's first reliable packet
// (DropProtocol), and the anti-amplification credit withheld the
// VERIFY_CONNECT retransmission that would have drawn another one, each
// withheld attempt doubling its timeout, until the client timed out.
//
// Many clients connect over a lossy, reordering network, each sending one
// reliable packet on its connect event: every client that connects must get
// that packet through, and the server must refuse nothing as a protocol
// error. ENet's own connect backoff (CONNECT retried after 0.5, 1.5, 3.5, 7.5
// and 15.5 s) fails a client whose six rounds are all lost: about 0.2% of
// clients at 20% loss, and at 10% loss (a round lost 19% of the time) about
// one client in 20,000, so one run in 200 of these 100 clients: a connect
// failure is ENet's behaviour, not a half-open connection, and only the
// connected count checks it (seen once in this suite's clean-clone runs).
//
// It runs in a synctest bubble: time is virtual, so waiting out ENet's
// timeouts costs nothing, and the seeded network meets the same datagrams
// at the same virtual times from run to run.
func TestHandshakeUnderLoss(t *testing.T) {
	for _, tc := range []struct {
		loss       float64
		minConnect int
	}{{0.1, 99}, {0.2, 95}} {
		t.Run(fmt.Sprintf("loss=%v", tc.loss), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { handshakeUnderLoss(t, tc.loss, tc.minConnect) })
		})
	}
}

func handshakeUnderLoss(t *testing.T, loss float64, minConnect int) {
	const clients = 100
	begin := time.Now()
	nw := enettest.NewNetwork(int64(loss*100) + 1)
	nw.SetConditions(enettest.Conditions{
		Loss: loss, Reorder: loss, Delay: 5 * time.Millisecond, Jitter: 5 * time.Millisecond,
		ReorderDelay: 20 * time.Millisecond,
	})
	sc := nw.Listen()
	srv, err := enet.Listen(sc, enet.Config{MaxPeers: clients})
	if err != nil {
		t.Fatal(err)
	}
	hello := make(chan int, clients)
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		for {
			ev, err := srv.Service(50 * time.Millisecond)
			if errors.Is(err, enet.ErrClosed) {
				return
			}
			if ev.Type == enet.EventReceive {
				var i int
				if _, err := fmt.Sscanf(string(ev.Packet), "hello %d", &i); err != nil {
					t.Errorf("server got %q", ev.Packet)
					continue
				}
				hello <- i
			}
		}
	}()

	type outcome struct {
		i         int
		connected bool // else the connect failed
	}
	stop := make(chan struct{})
	outcomes := make(chan outcome, 2*clients)
	var wg sync.WaitGroup
	for i := range clients {
		h, err := enet.NewClient(nw.Listen(), enet.Config{Seed: uint64(i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			defer h.Close()
			p, err := h.Connect(sc.LocalAddr(), 2, uint32(i))
			if err != nil {
				t.Error(err)
				return
			}
			connected := false
			for {
				select {
				case <-stop:
					return
				default:
				}
				ev, err := h.Service(50 * time.Millisecond)
				if err != nil {
					t.Error(err)
					return
				}
				switch ev.Type {
				case enet.EventConnect:
					connected = true
					outcomes <- outcome{i, true}
					if err := p.Send(1, fmt.Appendf(nil, "hello %d", i), enet.Reliable); err != nil {
						t.Error(err)
					}
				case enet.EventDisconnect:
					// A connected client may time out later under this much
					// loss; only one that never connected reports it.
					if !connected {
						outcomes <- outcome{i, false}
					}
					return
				}
			}
		})
		time.Sleep(10 * time.Millisecond)
	}

	// ENet gives up on a connect within about 32 s and on an
	// unacknowledged packet within TimeoutMaximum (30 s).
	deadline := time.After(90 * time.Second)
	connected := make(map[int]bool)
	delivered := make(map[int]bool)
	resolved := 0 // clients that delivered or failed to connect
	for resolved < clients {
		select {
		case i := <-hello:
			if delivered[i] {
				t.Errorf("client %d: first packet delivered twice", i)
			}
			delivered[i] = true
			resolved++
		case o := <-outcomes:
			if o.connected {
				connected[o.i] = true
			} else {
				t.Logf("client %d: connect failed (ENet's connect backoff ran out)", o.i)
				resolved++
			}
		case <-deadline:
			for i := range clients {
				if connected[i] && !delivered[i] {
					t.Errorf("client %d connected, but its first packet never arrived", i)
				}
			}
			resolved = clients
		}
	}
	// Before anyone disconnects: a DISCONNECT+PING datagram from a client
	// closing at the end counts as a protocol drop, as in ENet.
	st := srv.Stats()
	close(stop)
	wg.Wait()
	srv.Close()
	<-srvDone
	if n := st.Dropped[enet.DropProtocol]; n != 0 {
		t.Errorf("server dropped %d datagrams as protocol errors", n)
	}
	if len(connected) < minConnect {
		t.Errorf("%d of %d clients connected, want at least %d", len(connected), clients, minConnect)
	}
	for i := range connected {
		if !delivered[i] {
			t.Errorf("client %d: connected, but its first packet was not delivered", i)
		}
	}
	t.Logf("%d connected, %d delivered in %v (virtual); server stats %+v",
		len(connected), len(delivered), time.Since(begin), st)
}
