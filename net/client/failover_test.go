package client_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/client"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/systems"
)

// muteConn is a UDP socket that can fall silent: a server that dies without a goodbye.
type muteConn struct {
	*net.UDPConn
	mute atomic.Bool
}

func (c *muteConn) WriteTo(b []byte, a net.Addr) (int, error) {
	if c.mute.Load() {
		return len(b), nil
	}
	return c.UDPConn.WriteTo(b, a)
}

func (c *muteConn) WriteToUDPAddrPort(b []byte, a netip.AddrPort) (int, error) {
	if c.mute.Load() {
		return len(b), nil
	}
	return c.UDPConn.WriteToUDPAddrPort(b, a)
}

// testShard runs a live shard on loopback until the test ends or stop is called.
type testShard struct {
	live *shard.Live
	conn *muteConn
	stop func()
}

func startShard(t *testing.T, seed uint64) *testShard {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	conn := &muteConn{UDPConn: c}
	live, err := shard.StartLive(shard.LiveConfig{
		Transport: conn,
		World:     ecs.Config{Seed: seed, Rate: 30},
		Systems:   systems.DefaultConfig(),
		Entities:  10,
		Server:    server.Config{Key: testKey},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := live.Run(ctx); err != nil {
			t.Errorf("shard: %v", err)
		}
	}()
	ts := &testShard{live: live, conn: conn, stop: func() { cancel(); <-done }}
	t.Cleanup(ts.stop)
	return ts
}

func failoverOptions(reconnects chan<- client.Reconnect) client.Options {
	return client.Options{
		Failover:       true,
		SilenceTimeout: 300 * time.Millisecond,
		AttemptTimeout: time.Second,
		OnReconnect:    func(r client.Reconnect) { reconnects <- r },
	}
}

// TestFailoverOnDisconnect: a client learns a failover address from a ShadowList, and
// when its server shuts down it reconnects there with the same token.
func TestFailoverOnDisconnect(t *testing.T) {
	b := startShard(t, 2)
	a := startShard(t, 1)
	reconnects := make(chan client.Reconnect, 4)
	tok := game.MintToken(testKey, 42, time.Now().Add(time.Hour))
	c, err := client.Dial(testCtx(t, 10*time.Second), a.live.Addr().String(), tok, failoverOptions(reconnects))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if len(c.Welcome().Shadows) != 0 {
		t.Fatalf("welcome shadows %q, want none", c.Welcome().Shadows)
	}
	a.live.SetShadows([]string{b.live.Addr().String()})
	eventually(t, 5*time.Second, "the ShadowList", func() bool {
		return slices.Equal(c.Shadows(), []string{b.live.Addr().String()})
	})
	a.stop()
	var r client.Reconnect
	select {
	case r = <-reconnects:
	case <-c.Done():
		t.Fatalf("session ended: %v", c.Err())
	case <-time.After(10 * time.Second):
		t.Fatal("no reconnect within 10 s")
	}
	if r.To != b.live.Addr().String() || r.From != a.live.Addr().String() {
		t.Errorf("reconnect %+v, want %s → %s", r, a.live.Addr(), b.live.Addr())
	}
	before := c.Stats().Applied
	eventually(t, 5*time.Second, "snapshots from the new server", func() bool { return c.Stats().Applied > before+5 })
	st := c.Stats()
	if st.Reconnects != 1 || st.Server != b.live.Addr().String() || st.Lost <= 0 {
		t.Errorf("stats: %d reconnects, server %s, lost %s", st.Reconnects, st.Server, st.Lost)
	}
	if b.live.Stats().Server.Clients != 1 {
		t.Errorf("new server has %d clients", b.live.Stats().Server.Clients)
	}
	t.Logf("failover %s → %s: %s lost, %d attempts", r.From, r.To, r.Lost, r.Attempts)
}

// TestFailoverOnSilence: a server that falls silent is left for the next address that
// answers, skipping a dead one; a server with no failover addresses is not left on
// silence alone (ENet's own timeout decides whether it is gone).
func TestFailoverOnSilence(t *testing.T) {
	b := startShard(t, 2)
	dead, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}) // never answers
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	a := startShard(t, 1)
	a.live.SetShadows([]string{dead.LocalAddr().String(), b.live.Addr().String()})
	reconnects := make(chan client.Reconnect, 4)
	tok := game.MintToken(testKey, 43, time.Now().Add(time.Hour))
	c, err := client.Dial(testCtx(t, 10*time.Second), a.live.Addr().String(), tok, failoverOptions(reconnects))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	eventually(t, 5*time.Second, "the shadow list", func() bool { return len(c.Shadows()) == 2 })
	a.conn.mute.Store(true)
	select {
	case r := <-reconnects:
		if r.To != b.live.Addr().String() || r.Attempts != 2 {
			t.Errorf("reconnect %+v, want to %s after 2 attempts", r, b.live.Addr())
		}
	case <-c.Done():
		t.Fatalf("session ended: %v", c.Err())
	case <-time.After(15 * time.Second):
		t.Fatal("no reconnect within 15 s")
	}

	// The new server has no shadows: a silence of several SilenceTimeouts (a stalled or
	// overloaded server) does not make the client give up on it.
	b.conn.mute.Store(true)
	select {
	case <-c.Done():
		t.Fatalf("session ended on silence with nowhere to go: %v", c.Err())
	case <-time.After(3 * time.Second):
	}
	b.conn.mute.Store(false)
	before := c.Stats().Applied
	eventually(t, 5*time.Second, "snapshots again once the server speaks", func() bool { return c.Stats().Applied > before })
	if st := c.Stats(); st.Reconnects != 1 || st.Attempts != 2 {
		t.Errorf("after the second silence: %d reconnects, %d attempts; want 1 and 2", st.Reconnects, st.Attempts)
	}
}

// TestNoFailoverByDefault: without Options.Failover a lost server ends the session.
func TestNoFailoverByDefault(t *testing.T) {
	b := startShard(t, 2)
	a := startShard(t, 1)
	a.live.SetShadows([]string{b.live.Addr().String()})
	tok := game.MintToken(testKey, 44, time.Now().Add(time.Hour))
	c, err := client.Dial(testCtx(t, 10*time.Second), a.live.Addr().String(), tok, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a.stop()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("session still running")
	}
	if err := c.Err(); !errors.Is(err, client.ErrDisconnected) {
		t.Errorf("err %v, want ErrDisconnected", err)
	}
}
