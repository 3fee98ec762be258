package shadow

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/client"
	"github.com/shardsim/shardsim/net/game"
)

// TestTakeOverKeepsClientEntities: the primary's session map reaches the shadows with
// the ticks, so the promoted shard hands every reconnecting client its old entity (same
// NetID, no new entity, its input drives it), removes the entity of a client that does
// not come back once the grace period is over (through the step: the follower verifies
// it), and its own follower learns the map too.
func TestTakeOverKeepsClientEntities(t *testing.T) {
	tp := startPrimary(t, 60)
	const grace = 1500 * time.Millisecond
	var (
		liveMu   sync.Mutex
		liveEnts int
		liveIn   = map[ecs.NetID]ecs.Input{}
	)
	mod := func(o *ShadowOptions) {
		o.SessionGrace = grace
		o.OnLiveTick = func(w *ecs.World, _ []ecs.Command, _ uint64) {
			liveMu.Lock()
			defer liveMu.Unlock()
			liveEnts = w.Len()
			for id := range liveIn {
				if e, ok := w.Entity(id); ok {
					liveIn[id] = *ecs.Get[ecs.Input](w, e, w.C.Input)
				}
			}
		}
	}
	s2, _ := startShadow(t, tp.p.Addr(), 2, mod)
	s1, _ := startShadow(t, tp.p.Addr(), 1, mod)
	waitFor(t, "both shadows in sync with a roster of 2", func() bool {
		a, b := s1.Stats(), s2.Stats()
		return a.Synced && b.Synced && len(a.Roster) == 2 && len(b.Roster) == 2
	})

	// Four clients that fail over, and one that will not come back.
	const n = 4
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var cs []*client.Client
	for i := range n + 1 {
		opt := client.Options{Failover: i < n, SilenceTimeout: 300 * time.Millisecond, AttemptTimeout: time.Second}
		c, err := client.Dial(ctx, tp.live.Addr().String(), game.MintToken(testKey, uint64(100+i), time.Now().Add(time.Hour)), opt)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cs = append(cs, c)
	}
	ids := make([]ecs.NetID, len(cs))
	distinct := map[ecs.NetID]bool{}
	for i, c := range cs {
		ids[i] = c.Welcome().NetID
		distinct[ids[i]] = true
	}
	if len(distinct) != n+1 {
		t.Fatalf("NetIDs %v: not distinct", ids)
	}
	waitFor(t, "the shadows knowing every session and the failover list", func() bool {
		return s1.Stats().Sessions == n+1 && s2.Stats().Sessions == n+1 && len(cs[0].Shadows()) == 2
	})
	if got := tp.p.Sessions(); len(got) != n+1 {
		t.Fatalf("primary's session map %v", got)
	}
	npcs := tp.live.Stats().Entities - (n + 1)

	// The primary dies without a goodbye.
	tp.conn.dead.Store(true)
	tp.stop()
	select {
	case <-s2.Promoted():
	case <-time.After(within):
		t.Fatal("no take-over")
	}
	live := s2.Live()
	if pr := s2.Stats().Promoted; pr.Sessions != n+1 {
		t.Errorf("promotion %+v: want %d sessions kept", pr, n+1)
	}
	for i, c := range cs[:n] {
		waitFor(t, "client failover", func() bool { return c.Stats().Reconnects == 1 && c.Stats().Server == s2.ClientAddr() })
		if got := c.Welcome().NetID; got != ids[i] {
			t.Errorf("client %d: NetID %d after the take-over, %d before", i, got, ids[i])
		}
	}
	// Their inputs drive their old entities.
	liveMu.Lock()
	for _, id := range ids[:n] {
		liveIn[id] = ecs.Input{}
	}
	liveMu.Unlock()
	for i, c := range cs[:n] {
		c.SetInput(ecs.Input{MoveX: int8(20 + i), MoveY: -5})
	}
	waitFor(t, "the clients' inputs applied to their entities", func() bool {
		liveMu.Lock()
		defer liveMu.Unlock()
		for i, id := range ids[:n] {
			if liveIn[id].MoveX != int8(20+i) {
				return false
			}
		}
		return true
	})
	// The client that did not come back loses its entity after the grace period.
	waitFor(t, "the lost client's entity removed", func() bool {
		st := live.Stats()
		return st.Server.Expired == 1 && st.Entities == npcs+n
	})
	st := live.Stats()
	if st.Server.Reclaimed != n || st.Server.Orphans != 0 || st.Server.Clients != n {
		t.Errorf("promoted server: %d reclaimed, %d orphans, %d clients", st.Server.Reclaimed, st.Server.Orphans, st.Server.Clients)
	}
	liveMu.Lock()
	ents := liveEnts
	liveMu.Unlock()
	if ents != npcs+n {
		t.Errorf("promoted world has %d entities, want %d NPCs + %d clients", ents, npcs, n)
	}
	// Rank 1 follows rank 2 with the same map, verified tick by tick.
	waitFor(t, "rank 1 following rank 2 with the promoted session map", func() bool {
		st := s1.Stats()
		return st.Primary == s2.SyncAddr().String() && st.Sessions == n && st.Compared > 0
	})
	if m := s1.Stats().Mismatches; m != 0 {
		t.Errorf("rank 1: %d mismatches", m)
	}
	if got := s2.Primary().Sessions(); len(got) != n {
		t.Errorf("promoted primary's session map %v", got)
	}
}
