package enet_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardsim/shardsim/net/enet"
)

// buildC compiles testdata/<name>.c against the system libenet, or skips
// (fails in CI) when no compiler or header is installed.
func buildC(t *testing.T, name string) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	_, herr := os.Stat("/usr/include/enet/enet.h")
	if err != nil || herr != nil {
		msg := "SKIPPING libenet wire-compat test: apt-get install libenet-dev (and a C compiler)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("!!!!!!!! " + msg + " !!!!!!!!")
	}
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command(cc, "-O1", "-o", out, filepath.Join("testdata", name+".c"), "-lenet")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compiling %s: %v\n%s", name, err, b)
	}
	return out
}

// proc runs a C test program and streams its stdout lines.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan error
}

func start(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*finish)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 100), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// expect returns the next line of p, which must start with prefix.
func (p *proc) expect(t *testing.T, prefix string) string {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			t.Fatalf("C program exited; wanted %q", prefix)
		}
		if !strings.HasPrefix(l, prefix) {
			t.Fatalf("C program said %q; wanted %q", l, prefix)
		}
		return l
	case <-time.After(finish):
		t.Fatalf("C program did not say %q within %v", prefix, finish)
	}
	return ""
}

func (p *proc) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("C program: %v", err)
		}
		p.done <- nil
	case <-time.After(finish):
		t.Fatal("C program did not exit")
	}
}

// proxy is a lossy, reordering UDP relay between one client and a server.
type proxy struct {
	conn   *net.UDPConn
	server netip.AddrPort
	mu     sync.Mutex
	rng    *rand.Rand
	client netip.AddrPort
	loss   float64
	hold   []held
}

type held struct {
	b  []byte
	to netip.AddrPort
}

func newProxy(t *testing.T, server netip.AddrPort, loss float64, seed uint64) *proxy {
	t.Helper()
	p := &proxy{conn: udp(t), server: server, loss: loss, rng: rand.New(rand.NewPCG(seed, 1))}
	go p.run()
	t.Cleanup(func() { p.conn.Close() })
	return p
}

func (p *proxy) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *proxy) run() {
	buf := make([]byte, 65536)
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		p.mu.Lock()
		to := p.server
		if from == p.server {
			to = p.client
		} else {
			p.client = from
		}
		b := append([]byte(nil), buf[:n]...)
		switch r := p.rng.Float64(); {
		case r < p.loss:
		case r < p.loss+0.15:
			// Reorder: hold it back until a later datagram passes.
			p.hold = append(p.hold, held{b, to})
		default:
			p.conn.WriteToUDPAddrPort(b, to)
			for _, h := range p.hold {
				p.conn.WriteToUDPAddrPort(h.b, h.to)
			}
			p.hold = p.hold[:0]
		}
		p.mu.Unlock()
	}
}

func loopbackPort(t *testing.T, line string) netip.AddrPort {
	t.Helper()
	var port uint16
	if _, err := fmt.Sscanf(line, "PORT %d", &port); err != nil {
		t.Fatalf("bad port line %q", line)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), port)
}

// TestCompatCClientGoServer runs libenet's client against this package's
// server, directly and through a lossy proxy.
func TestCompatCClientGoServer(t *testing.T) {
	bin := buildC(t, "cclient")
	for _, tc := range []struct {
		name string
		loss float64
	}{{"direct", 0}, {"lossy", 0.1}} {
		t.Run(tc.name, func(t *testing.T) {
			st := udp(t)
			s, err := enet.Listen(st, enet.Config{MaxChannels: 8})
			if err != nil {
				t.Fatal(err)
			}
			sev := collect(t, s)
			target := st.LocalAddr().(*net.UDPAddr).AddrPort()
			if tc.loss > 0 {
				target = newProxy(t, target, tc.loss, 7).addr()
			}
			const n, big = 100, 100_000
			c := start(t, bin, fmt.Sprint(target.Port()), "3", "4242", fmt.Sprint(n), fmt.Sprint(big))
			e := next(t, sev, enet.EventConnect)
			if e.data != 4242 || e.peer.ConnectData() != 4242 {
				t.Fatalf("connect data %d, want 4242", e.data)
			}
			if e.peer.Channels() != 3 {
				t.Fatalf("server peer has %d channels, want 3", e.peer.Channels())
			}
			c.expect(t, "CONNECTED channels=3")
			// Echo reliable packets; check order as we go.
			nextSeq := make([]int, 3)
			got := 0
			for got < 3*n+1 {
				e := next(t, sev, enet.EventReceive)
				if e.pkt[0] == 'u' {
					continue
				}
				if len(e.pkt) == big {
					if !bytesPattern(e.pkt) {
						t.Fatal("big packet corrupted")
					}
				} else if w := fmt.Sprintf("c%d %d", e.ch, nextSeq[e.ch]); string(e.pkt) != w {
					t.Fatalf("got %q want %q", e.pkt, w)
				} else {
					nextSeq[e.ch]++
				}
				if err := e.peer.Send(e.ch, e.pkt, enet.Reliable); err != nil {
					t.Fatal(err)
				}
				got++
			}
			c.expect(t, "OK")
			if e := next(t, sev, enet.EventDisconnect); e.data != 99 {
				t.Fatalf("disconnect data %d, want 99", e.data)
			}
			c.expect(t, "DISCONNECT")
			c.wait(t)
		})
	}
}

func bytesPattern(b []byte) bool {
	for i, v := range b {
		if v != byte((i*7)%251) {
			return false
		}
	}
	return true
}

// TestCompatGoClientCServer runs this package's client against libenet's
// echo server, directly and through a lossy proxy.
func TestCompatGoClientCServer(t *testing.T) {
	bin := buildC(t, "cserver")
	for _, tc := range []struct {
		name string
		loss float64
	}{{"direct", 0}, {"lossy", 0.1}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := start(t, bin, "8")
			target := loopbackPort(t, srv.expect(t, "PORT "))
			if tc.loss > 0 {
				target = newProxy(t, target, tc.loss, 11).addr()
			}
			c, err := enet.NewClient(udp(t), enet.Config{})
			if err != nil {
				t.Fatal(err)
			}
			cev := collect(t, c)
			peer, err := c.Connect(net.UDPAddrFromAddrPort(target), 3, 777)
			if err != nil {
				t.Fatal(err)
			}
			next(t, cev, enet.EventConnect)
			srv.expect(t, "CONNECT data=777 channels=3")
			if peer.Channels() != 3 {
				t.Fatalf("channels %d", peer.Channels())
			}
			exchange(t, peer, cev, 3, 200, 100_000)
			// Unreliable and unsequenced echoes must also come back sane.
			for i := range 50 {
				peer.Send(1, fmt.Appendf(nil, "u %04d", i), 0)
				peer.Send(2, fmt.Appendf(nil, "s %04d", i), enet.Unsequenced)
			}
			peer.Send(1, []byte("end"), enet.Reliable)
			last := -1
			for {
				e := next(t, cev, enet.EventReceive)
				if string(e.pkt) == "end" {
					break
				}
				if e.pkt[0] == 'u' {
					var v int
					fmt.Sscanf(string(e.pkt), "u %d", &v)
					if v <= last {
						t.Fatalf("unreliable %d after %d", v, last)
					}
					last = v
				}
			}
			peer.Disconnect(55)
			next(t, cev, enet.EventDisconnect)
			srv.expect(t, "DISCONNECT data=55")
			srv.wait(t)
		})
	}
}
