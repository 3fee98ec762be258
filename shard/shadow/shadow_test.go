package shadow

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/enet"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/systems"
)

// Bounds for things that must happen; they only fail a test that is already broken.
const (
	within = 20 * time.Second
	rate   = 30
)

var testKey = []byte("shadow-test-key-0123456789abcdef")

// killConn is a UDP socket that can be made to drop every datagram it would send:
// the peer sees a host that died without a goodbye.
type killConn struct {
	*net.UDPConn
	dead atomic.Bool
}

func (c *killConn) WriteTo(b []byte, a net.Addr) (int, error) {
	if c.dead.Load() {
		return len(b), nil
	}
	return c.UDPConn.WriteTo(b, a)
}

func (c *killConn) WriteToUDPAddrPort(b []byte, a netip.AddrPort) (int, error) {
	if c.dead.Load() {
		return len(b), nil
	}
	return c.UDPConn.WriteToUDPAddrPort(b, a)
}

func loopback(t *testing.T) *killConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return &killConn{UDPConn: c}
}

// testPrimary is a live shard with 50 NPCs at 30 Hz serving shadows.
type testPrimary struct {
	live   *shard.Live
	p      *Primary
	conn   *killConn
	cancel context.CancelFunc
	done   chan error
	once   sync.Once

	mu     sync.Mutex
	hashes map[uint64]uint64
	last   uint64
}

func (tp *testPrimary) hash(tick uint64) (uint64, bool) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	h, ok := tp.hashes[tick]
	return h, ok
}

func (tp *testPrimary) lastTick() uint64 {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.last
}

// stop ends the shard and waits for its Run to return.
func (tp *testPrimary) stop() {
	tp.once.Do(func() {
		tp.cancel()
		<-tp.done
	})
}

func startPrimary(t *testing.T, keyEvery uint64) *testPrimary {
	t.Helper()
	tp := &testPrimary{conn: loopback(t), hashes: map[uint64]uint64{}, done: make(chan error, 1)}
	var err error
	tp.p, err = NewPrimary("", PrimaryOptions{KeyframeEvery: keyEvery, transport: tp.conn, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.p.Close() })
	tp.live, err = shard.StartLive(shard.LiveConfig{
		Addr:     "127.0.0.1:0",
		World:    ecs.Config{Seed: 11, Rate: rate},
		Systems:  systems.DefaultConfig(),
		Entities: 50,
		Server:   server.Config{Key: testKey},
		OnTick: func(w *ecs.World, cmds []ecs.Command, hash uint64) {
			tp.mu.Lock()
			tp.hashes[w.G.Tick], tp.last = hash, w.G.Tick
			tp.mu.Unlock()
			tp.p.OnTick(w, cmds, hash)
		},
		OnSessions: tp.p.Bind,
	})
	if err != nil {
		t.Fatal(err)
	}
	tp.p.WatchRoster(func(r []RosterEntry) { tp.live.SetShadows(ClientAddrs(r)) })
	ctx, cancel := context.WithCancel(context.Background())
	tp.cancel = cancel
	go func() { tp.done <- tp.live.Run(ctx) }()
	t.Cleanup(tp.stop)
	return tp
}

// verified records, per tick, the hash a shadow computed and the primary's.
type verified struct {
	mu    sync.Mutex
	ticks map[uint64][2]uint64
}

func (v *verified) record(tick, computed, primary uint64) {
	v.mu.Lock()
	v.ticks[tick] = [2]uint64{computed, primary}
	v.mu.Unlock()
}

func (v *verified) snapshot() map[uint64][2]uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	m := make(map[uint64][2]uint64, len(v.ticks))
	for k, x := range v.ticks {
		m[k] = x
	}
	return m
}

func startShadow(t *testing.T, primary net.Addr, rank uint8, mod func(*ShadowOptions)) (*Shadow, *verified) {
	t.Helper()
	v := &verified{ticks: map[uint64][2]uint64{}}
	opt := ShadowOptions{
		Primary:    primary.String(),
		Rank:       rank,
		Timeout:    300 * time.Millisecond,
		Server:     server.Config{Key: testKey},
		OnVerify:   v.record,
		Logf:       func(f string, a ...any) { t.Logf("rank %d: "+f, append([]any{rank}, a...)...) },
		SyncAddr:   "127.0.0.1:0",
		ClientAddr: "127.0.0.1:0",
	}
	if mod != nil {
		mod(&opt)
	}
	s, err := NewShadow(opt)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Run(context.Background()) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-errc; err != nil {
			t.Errorf("rank %d: Run: %v", rank, err)
		}
	})
	return s, v
}

// waitFor polls cond until it holds; failing after `within` means it did not happen.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %s", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkAgainstPrimary checks that every tick a shadow verified has the primary's hash,
// and that the verified ticks are contiguous.
func checkAgainstPrimary(t *testing.T, name string, tp *testPrimary, v map[uint64][2]uint64) (lo, hi uint64) {
	t.Helper()
	lo = ^uint64(0)
	for tick, h := range v {
		lo, hi = min(lo, tick), max(hi, tick)
		want, ok := tp.hash(tick)
		if !ok {
			t.Errorf("%s verified tick %d the primary never ran", name, tick)
			continue
		}
		if h[0] != want || h[1] != want {
			t.Errorf("%s tick %d: computed %016x, sent %016x, primary had %016x", name, tick, h[0], h[1], want)
		}
	}
	if uint64(len(v)) != hi-lo+1 {
		t.Errorf("%s verified %d ticks in [%d, %d]: not contiguous", name, len(v), lo, hi)
	}
	return lo, hi
}

func TestShadowsFollowPrimary(t *testing.T) {
	tp := startPrimary(t, 60)
	s1, v1 := startShadow(t, tp.p.Addr(), 1, nil)
	s2, v2 := startShadow(t, tp.p.Addr(), 2, nil)
	const ticks = 5 * rate // about 5 s
	waitFor(t, "both shadows comparing 5 s of ticks", func() bool {
		return s1.Stats().Compared >= ticks && s2.Stats().Compared >= ticks
	})
	for _, s := range []*Shadow{s1, s2} {
		st := s.Stats()
		if st.Mismatches != 0 || st.Divergences != 0 || st.Gaps != 0 || st.BacklogDrops != 0 || st.Bad != 0 {
			t.Errorf("stats %+v: want no mismatch, gap, drop or bad message", st)
		}
		if len(st.Roster) != 2 || st.Roster[0].Rank != 2 || st.Roster[1].Rank != 1 {
			t.Errorf("roster %+v, want ranks 2 and 1", st.Roster)
		}
	}
	m1, m2 := v1.snapshot(), v2.snapshot()
	lo1, hi1 := checkAgainstPrimary(t, "rank 1", tp, m1)
	lo2, hi2 := checkAgainstPrimary(t, "rank 2", tp, m2)
	common := 0
	for tick := max(lo1, lo2); tick <= min(hi1, hi2); tick++ {
		if m1[tick] != m2[tick] {
			t.Errorf("tick %d: shadows disagree: %x vs %x", tick, m1[tick], m2[tick])
		}
		common++
	}
	if common < ticks/2 {
		t.Errorf("only %d ticks compared by both shadows", common)
	}
	ps := tp.p.Stats()
	if ps.Shadows != 2 || ps.TicksDropped != 0 || ps.Keyframes < 2 {
		t.Errorf("primary stats %+v", ps)
	}
	t.Logf("rank 1 compared %d ticks, rank 2 %d, %d by both, 0 mismatches; primary %+v", len(m1), len(m2), common, ps)
}

func TestDivergenceIsReportedAndResynced(t *testing.T) {
	const keyEvery = 30
	tp := startPrimary(t, keyEvery)
	var target atomic.Uint64
	target.Store(^uint64(0))
	const victim = ecs.NetID(5)
	divs := make(chan Divergence, 4)
	s, v := startShadow(t, tp.p.Addr(), 1, func(o *ShadowOptions) {
		o.Hook = func(w *ecs.World) {
			if w.G.Tick == target.Load() {
				e, ok := w.Entity(victim)
				if !ok {
					panic("victim entity missing")
				}
				ecs.Get[ecs.Player](w, e, w.C.Player).Score += 1000
			}
		}
		o.OnDivergence = func(d Divergence) { divs <- d }
	})
	waitFor(t, "the shadow comparing ticks", func() bool { return s.Stats().Compared >= 5 })
	// Perturb a tick that is not a keyframe tick, a little ahead of the shadow.
	at := s.Stats().Tick + 10
	if at%keyEvery == 0 {
		at++
	}
	target.Store(at)

	var d Divergence
	select {
	case d = <-divs:
	case <-time.After(within):
		t.Fatalf("no divergence reported within %s", within)
	}
	if d.Tick != at {
		t.Errorf("divergence at tick %d, want %d", d.Tick, at)
	}
	wantKey := (at/keyEvery + 1) * keyEvery
	if d.Keyframe != wantKey {
		t.Errorf("diffed at keyframe %d, want %d", d.Keyframe, wantKey)
	}
	if len(d.Diffs) == 0 {
		t.Fatalf("no field named: %v", d)
	}
	if f := d.Diffs[0]; f.Entity != victim || f.Component != "Player" || f.Field != "Score" {
		t.Errorf("first diff %v, want entity %d Player.Score", f, victim)
	}
	t.Logf("%v", d)

	// After the keyframe it is equal again: every later tick matches.
	waitFor(t, "20 ticks verified after the resync", func() bool { return s.Stats().Tick >= wantKey+20 })
	st := s.Stats()
	if st.Divergences != 1 || st.Resyncs != 1 {
		t.Errorf("stats %+v: want 1 divergence and 1 resync", st)
	}
	if want := wantKey - at + 1; st.Mismatches != want {
		t.Errorf("%d mismatched ticks, want %d (ticks %d..%d)", st.Mismatches, want, at, wantKey)
	}
	for tick, h := range v.snapshot() {
		if mismatch := h[0] != h[1]; mismatch != (tick >= at && tick <= wantKey) {
			t.Errorf("tick %d: computed %016x, primary %016x", tick, h[0], h[1])
		}
	}
}

func TestTakeOverWhenPrimaryDies(t *testing.T) {
	tp := startPrimary(t, 60)
	promos := make(chan Promotion, 2)
	var liveMu sync.Mutex
	liveHashes := map[uint64]uint64{}
	mod := func(o *ShadowOptions) {
		o.OnPromote = func(p Promotion) { promos <- p }
		o.OnLiveTick = func(w *ecs.World, _ []ecs.Command, h uint64) {
			liveMu.Lock()
			liveHashes[w.G.Tick] = h
			liveMu.Unlock()
		}
	}
	s1, v1 := startShadow(t, tp.p.Addr(), 1, mod)
	s2, _ := startShadow(t, tp.p.Addr(), 2, mod)
	waitFor(t, "both shadows in sync with a roster of 2", func() bool {
		a, b := s1.Stats(), s2.Stats()
		return a.Compared >= 30 && b.Compared >= 30 && len(a.Roster) == 2 && len(b.Roster) == 2
	})

	// The primary dies without a goodbye: its socket goes silent, its shard stops.
	tp.conn.dead.Store(true)
	tp.stop()
	last := tp.lastTick()

	var pr Promotion
	select {
	case pr = <-promos:
	case <-time.After(within):
		t.Fatalf("no shadow took over within %s", within)
	}
	select {
	case <-s2.Promoted():
	default:
		t.Fatalf("a shadow other than rank 2 took over: %+v", pr)
	}
	if pr.Planned {
		t.Errorf("take-over marked planned")
	}
	want, ok := tp.hash(pr.Tick)
	if !ok || pr.Hash != want {
		t.Fatalf("promoted at tick %d with hash %016x; the primary had %016x (ok %v)", pr.Tick, pr.Hash, want, ok)
	}
	if pr.Tick > last {
		t.Fatalf("promoted at tick %d, after the primary's last tick %d", pr.Tick, last)
	}
	t.Logf("primary's last tick %d; rank 2 took over after tick %d: %d ticks lost", last, pr.Tick, last-pr.Tick)

	// The promoted shard continues from there, and rank 1 follows it, verifying.
	live := s2.Live()
	waitFor(t, "the promoted shard stepping on", func() bool { return live.Stats().Tick >= pr.Tick+30 })
	waitFor(t, "rank 1 following rank 2", func() bool {
		st := s1.Stats()
		return st.Primary == s2.SyncAddr().String() && st.Tick >= pr.Tick+20
	})
	select {
	case <-s1.Promoted():
		t.Errorf("rank 1 promoted too: split brain")
	default:
	}
	st := s1.Stats()
	if st.Mismatches != 0 {
		t.Errorf("rank 1 stats %+v: mismatches", st)
	}
	liveMu.Lock()
	defer liveMu.Unlock()
	after := 0
	for tick, h := range v1.snapshot() {
		if tick <= pr.Tick {
			continue
		}
		after++
		if h[0] != h[1] || liveHashes[tick] != h[0] {
			t.Errorf("tick %d: rank 1 %016x, sent %016x, promoted shard %016x", tick, h[0], h[1], liveHashes[tick])
		}
	}
	if after < 20 {
		t.Errorf("rank 1 verified only %d ticks of the promoted shard", after)
	}
	if n := s2.Primary().Stats().Shadows; n != 1 {
		t.Errorf("promoted primary serves %d shadows, want 1", n)
	}
}

func TestPlannedHandOver(t *testing.T) {
	tp := startPrimary(t, 60)
	promos := make(chan Promotion, 2)
	mod := func(o *ShadowOptions) {
		o.OnPromote = func(p Promotion) { promos <- p }
		o.Timeout = 5 * time.Second // a silent-primary take-over would be far slower
	}
	s1, _ := startShadow(t, tp.p.Addr(), 1, mod)
	s2, _ := startShadow(t, tp.p.Addr(), 2, mod)
	waitFor(t, "both shadows in sync", func() bool {
		return s1.Stats().Compared >= 10 && s2.Stats().Compared >= 10
	})
	tp.stop() // drain: the shard stops stepping
	last := tp.lastTick()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	// Hand over to the lower rank, to show the primary's choice wins over the rule.
	if err := tp.p.HandOver(ctx, 1); err != nil {
		t.Fatal(err)
	}
	var pr Promotion
	select {
	case pr = <-promos:
	case <-time.After(within):
		t.Fatal("no hand-over")
	}
	select {
	case <-s1.Promoted():
	default:
		t.Fatalf("rank 1 was named but another shadow promoted: %+v", pr)
	}
	if !pr.Planned || pr.Tick != last {
		t.Errorf("promotion %+v, want planned at the primary's last tick %d", pr, last)
	}
	if want, _ := tp.hash(last); pr.Hash != want {
		t.Errorf("hash at hand-over %016x, primary %016x", pr.Hash, want)
	}
	waitFor(t, "rank 2 following rank 1", func() bool {
		st := s2.Stats()
		return st.Primary == s1.SyncAddr().String() && st.Tick >= pr.Tick+10
	})
	if st := s2.Stats(); st.Mismatches != 0 || st.Promoted != nil {
		t.Errorf("rank 2 stats %+v", st)
	}
}

func TestForeignMessagesAreDropped(t *testing.T) {
	tp := startPrimary(t, 60)
	s, _ := startShadow(t, tp.p.Addr(), 1, nil)
	waitFor(t, "the shadow in sync", func() bool { return s.Stats().Compared >= 3 })

	// An impostor connects to the shadow's sync port and sends it a Tick.
	c := loopback(t)
	h, err := enet.NewClient(c, enet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	peer, err := h.Connect(s.SyncAddr(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(within)
	for {
		ev, err := h.Service(50 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == enet.EventConnect {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("impostor could not connect")
		}
	}
	if err := peer.Send(0, AppendTick(nil, 1, 2, nil), enet.Reliable); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the impostor's Tick counted as foreign", func() bool { return s.Stats().Foreign >= 1 })
	if st := s.Stats(); st.Mismatches != 0 || st.Gaps != 0 {
		t.Errorf("stats %+v: the impostor's Tick was used", st)
	}
	if !strings.HasPrefix(s.Stats().Primary, "127.0.0.1:") {
		t.Errorf("primary %q", s.Stats().Primary)
	}
}

func TestOnTickDoesNotAllocate(t *testing.T) {
	cfg := systems.DefaultConfig()
	w, sim, err := shard.NewWorld(&shard.HeadlessConfig{World: ecs.Config{Seed: 3}, Systems: cfg, Entities: 50})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPrimary("127.0.0.1:0", PrimaryOptions{Systems: cfg, KeyframeEvery: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cmds := []ecs.Command{{Kind: ecs.CmdInput, Player: 1}}
	sim.Step(w, cmds)
	h := ecs.Hash(w)
	for range 200 { // warm the pooled buffers
		p.OnTick(w, cmds, h)
	}
	allocs := testing.AllocsPerRun(200, func() {
		p.OnTick(w, cmds, h)
		time.Sleep(50 * time.Microsecond) // let the sync goroutine return the buffer
	})
	if allocs >= 1 {
		t.Errorf("OnTick allocates %v times per tick", allocs)
	}
}

func TestBacklogIsDroppedAndCaughtUp(t *testing.T) {
	const keyEvery = 30
	tp := startPrimary(t, keyEvery)
	var stall atomic.Uint64
	stall.Store(^uint64(0))
	release := make(chan struct{})
	s, _ := startShadow(t, tp.p.Addr(), 1, func(o *ShadowOptions) {
		o.MaxBacklog = 5
		o.Hook = func(w *ecs.World) {
			if w.G.Tick == stall.Load() {
				<-release // the step goroutine stalls; ticks pile up
			}
		}
	})
	waitFor(t, "the shadow comparing ticks", func() bool { return s.Stats().Compared >= 3 })
	at := s.Stats().Tick + 3
	stall.Store(at)
	waitFor(t, "the backlog dropped", func() bool { return s.Stats().BacklogDrops >= 1 })
	close(release)
	waitFor(t, "the shadow caught up from a keyframe", func() bool {
		st := s.Stats()
		return st.Resyncs >= 1 && st.Tick >= at+2*keyEvery
	})
	if st := s.Stats(); st.Mismatches != 0 {
		t.Errorf("stats %+v: mismatches after catching up", st)
	}
}
