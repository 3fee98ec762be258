package server_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/client"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/systems"
)

var testKey = []byte("server-test-key-0123456789abcdef")

func startLive(t *testing.T, mod func(*shard.LiveConfig)) *shard.Live {
	t.Helper()
	cfg := shard.LiveConfig{
		Addr:     "127.0.0.1:0",
		World:    ecs.Config{Seed: 5, Rate: 30},
		Systems:  systems.DefaultConfig(),
		Entities: 10,
		Server:   server.Config{Key: testKey},
	}
	if mod != nil {
		mod(&cfg)
	}
	live, err := shard.StartLive(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- live.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("live: %v", err)
		}
	})
	return live
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within 10 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func dial(t *testing.T, addr string, id uint64) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, addr, game.MintToken(testKey, id, time.Now().Add(time.Hour)), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestSameClientReplacesSession: a client id that connects again while its session
// plays replaces that session (the old one is kicked with ReasonReplaced) and keeps its
// entity; the session map reports the binding once and its end once.
func TestSameClientReplacesSession(t *testing.T) {
	var binds []server.Binding
	bindc := make(chan []server.Binding, 16)
	live := startLive(t, func(c *shard.LiveConfig) {
		c.OnSessions = func(b []server.Binding) { bindc <- append([]server.Binding(nil), b...) }
	})
	addr := live.Addr().String()
	a := dial(t, addr, 7)
	other := dial(t, addr, 8)
	// Both the server's session count and the world's entity count (published after the
	// step that applied the joins) must show the two clients.
	const ents = 10 + 2
	eventually(t, "two clients playing", func() bool {
		st := live.Stats()
		return st.Server.Clients == 2 && st.Entities == ents
	})
	b := dial(t, addr, 7)
	if b.Welcome().NetID != a.Welcome().NetID {
		t.Fatalf("replacing session got NetID %d, the old one had %d", b.Welcome().NetID, a.Welcome().NetID)
	}
	select {
	case <-a.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the replaced session was not ended")
	}
	var kick *client.KickError
	if !errors.As(a.Err(), &kick) || kick.Reason != game.ReasonReplaced {
		t.Fatalf("replaced session ended with %v, want a ReasonReplaced kick", a.Err())
	}
	b.SetInput(ecs.Input{MoveX: 90})
	eventually(t, "the new session playing", func() bool {
		st := live.Stats()
		return st.Server.Clients == 2 && st.Server.Replaced == 1 && b.Stats().Applied > 10
	})
	if got := live.Stats().Entities; got != ents {
		t.Errorf("%d entities after the replacement, %d before", got, ents)
	}
	// Leaving ends the binding of id 7 (once, with the entity it kept).
	b.Close()
	eventually(t, "the session left", func() bool { return live.Stats().Entities == ents-1 })
	deadline := time.After(5 * time.Second)
	for len(binds) < 3 {
		select {
		case x := <-bindc:
			binds = append(binds, x...)
		case <-deadline:
			t.Fatalf("bindings %v", binds)
		}
	}
	idA, idO := a.Welcome().NetID, other.Welcome().NetID
	want := map[server.Binding]bool{{Client: 7, ID: idA}: true, {Client: 8, ID: idO}: true, {Client: 7}: true}
	for i, x := range binds {
		if !want[x] || (x == server.Binding{Client: 7} && i != 2) {
			t.Fatalf("bindings %v, want 7→%d and 8→%d, then 7 unbound", binds, idA, idO)
		}
	}
}

// TestSessionsAreTakenOverOrExpire: a server started with Config.Sessions (a promoted
// shadow) gives a client that comes back its entity without a CmdJoin, and removes the
// entity of one that does not come back after SessionGrace.
func TestSessionsAreTakenOverOrExpire(t *testing.T) {
	// A first shard makes two client entities; a second shard continues its world.
	first := startLive(t, nil)
	a := dial(t, first.Addr().String(), 1)
	b := dial(t, first.Addr().String(), 2)
	eventually(t, "two clients playing", func() bool { return first.Stats().Server.Clients == 2 })
	idA, idB := a.Welcome().NetID, b.Welcome().NetID
	a.Close()
	b.Close()
	// The second shard: a fresh world whose NPCs include NetIDs idA and idB stand in for
	// the dead primary's copy (the server only needs the entities to exist).
	var cmds [][]ecs.Command
	cmdc := make(chan []ecs.Command, 1024)
	second := startLive(t, func(c *shard.LiveConfig) {
		c.Entities = 20
		c.Server.Sessions = map[uint64]ecs.NetID{1: idA, 2: idB}
		c.Server.SessionGrace = 800 * time.Millisecond
		c.OnTick = func(_ *ecs.World, cs []ecs.Command, _ uint64) {
			if len(cs) > 0 {
				cmdc <- append([]ecs.Command(nil), cs...)
			}
		}
	})
	ents := 20
	a2 := dial(t, second.Addr().String(), 1)
	if a2.Welcome().NetID != idA {
		t.Fatalf("client 1 got NetID %d, its entity is %d", a2.Welcome().NetID, idA)
	}
	eventually(t, "client 2's entity expired", func() bool {
		st := second.Stats()
		return st.Server.Expired == 1 && st.Entities == ents-1
	})
	st := second.Stats().Server
	if st.Reclaimed != 1 || st.Orphans != 0 || st.Clients != 1 {
		t.Errorf("stats: %d reclaimed, %d orphans, %d clients", st.Reclaimed, st.Orphans, st.Clients)
	}
	for len(cmdc) > 0 {
		cmds = append(cmds, <-cmdc)
	}
	joins, leaves := 0, 0
	for _, cs := range cmds {
		for _, c := range cs {
			switch {
			case c.Kind == ecs.CmdJoin:
				joins++
			case c.Kind == ecs.CmdLeave && c.Player == idB:
				leaves++
			}
		}
	}
	if joins != 0 || leaves != 1 {
		t.Errorf("commands: %d joins, %d leaves of %d; want a take-over without CmdJoin and one CmdLeave", joins, leaves, idB)
	}
}
