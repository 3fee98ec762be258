package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/bots"
	"github.com/shardsim/shardsim/net/client"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/replay"
	"github.com/shardsim/shardsim/systems"
)

// shardsimBin returns a path whose base name is "shardsim" and that runs this test
// binary, which TestMain turns into the real command (testscript.Main).
func shardsimBin(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "shardsim")
	if err := os.Symlink(exe, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// proc is a shardsim process whose output lines the test watches.
type proc struct {
	name string
	cmd  *exec.Cmd

	mu    sync.Mutex
	lines []string // "out: ..." and "err: ..."
	seen  chan struct{}
	done  chan struct{}
}

func startProc(t *testing.T, bin, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), seen: make(chan struct{}, 1), done: make(chan struct{})}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, r := range []struct {
		tag string
		f   *os.File
	}{{"out", stdout.(*os.File)}, {"err", stderr.(*os.File)}} {
		wg.Go(func() {
			sc := bufio.NewScanner(r.f)
			for sc.Scan() {
				p.mu.Lock()
				p.lines = append(p.lines, r.tag+": "+sc.Text())
				p.mu.Unlock()
				select {
				case p.seen <- struct{}{}:
				default:
				}
			}
		})
	}
	go func() {
		wg.Wait()
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			p.mu.Lock()
			t.Logf("%s output:\n%s", p.name, strings.Join(p.lines, "\n"))
			p.mu.Unlock()
		}
	})
	return p
}

// find returns the submatches of the last line matching re, or nil.
func (p *proc) find(re *regexp.Regexp) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.lines) - 1; i >= 0; i-- {
		if m := re.FindStringSubmatch(p.lines[i]); m != nil {
			return m
		}
	}
	return nil
}

// wait waits for a line matching re; failing after d means it did not happen.
func (p *proc) wait(t *testing.T, d time.Duration, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(d)
	for {
		if m := p.find(rx); m != nil {
			return m
		}
		select {
		case <-p.seen:
		case <-p.done:
			if m := p.find(rx); m != nil {
				return m
			}
			t.Fatalf("%s exited without printing %q", p.name, re)
		case <-deadline:
			t.Fatalf("%s did not print %q within %s", p.name, re, d)
		}
	}
}

var shadowStatus = regexp.MustCompile(`shadow: tick (\d+), (\d+) compared, (\d+) mismatches, primary (\S+), synced (\w+)`)

func atoi(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFailoverProof is the shadow-shard proof, out of process as in production: a
// primary (serve --shadow-addr --record), two shadows (ranks 2 and 1) and 50 Go bots.
// The shadows verify every tick for a soak period (30 s; 5 s with -short); then the
// primary is SIGKILLed. Rank 2 must take over (documented SLO 2 s; hard bound 10 s for
// loaded CI machines), every bot must fail over to it, the promoted shard must continue
// from the tick after its promotion tick, and its state at that tick must equal a
// re-simulation of the primary's crash-safe recording up to it. Entity continuity: the
// shadows follow the primary's session map, so every client that fails over gets its
// old entity back (same NetID, no duplicate), and the entity of a client that does not
// come back is removed after the grace period: the promoted world holds exactly the
// NPCs and the clients that came back, and rank 1, following it, knows the same map.
func TestFailoverProof(t *testing.T) {
	soak := 30 * time.Second
	if testing.Short() {
		soak = 5 * time.Second
	}
	const nbots = 50
	bin := shardsimBin(t)
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "server.key")
	key, err := game.LoadOrCreateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, "primary.replay")
	prim := startProc(t, bin, "serve", "serve", "--addr", "127.0.0.1:0", "--shadow-addr", "127.0.0.1:0",
		"--record", rec, "--record-flush-every", "1", "--entities", "50", "--key-file", keyPath)
	clientAddr := prim.wait(t, 20*time.Second, `serving on (\S+) `)[1]
	syncAddr := prim.wait(t, 5*time.Second, `shadow sync port on (\S+)`)[1]
	const grace = "2s" // a lost client's entity waits this long after the take-over
	s2 := startProc(t, bin, "shadow rank 2", "shadow", "--primary", syncAddr, "--addr", "127.0.0.1:0", "--rank", "2", "--key-file", keyPath, "--session-grace", grace)
	s1 := startProc(t, bin, "shadow rank 1", "shadow", "--primary", syncAddr, "--addr", "127.0.0.1:0", "--rank", "1", "--key-file", keyPath, "--session-grace", grace)
	s2Addr := s2.wait(t, 20*time.Second, `clients on (\S+) once promoted`)[1]
	s1Addr := s1.wait(t, 20*time.Second, `clients on (\S+) once promoted`)[1]
	prim.wait(t, 20*time.Second, regexp.QuoteMeta(fmt.Sprintf("failover addresses announced to clients: [%s %s]", s2Addr, s1Addr)))

	// Watched clients beside the bots: three that fail over (their NetIDs are checked)
	// and one that does not come back.
	const nwatched, npcs = 3, 50
	var watched []*client.Client
	for i := range nwatched + 1 {
		dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Second)
		c, err := client.Dial(dctx, clientAddr, game.MintToken(key, uint64(1001+i), time.Now().Add(time.Hour)),
			client.Options{Failover: i < nwatched, DialTimeout: 20 * time.Second})
		dcancel()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		watched = append(watched, c)
	}
	netIDs := make([]ecs.NetID, nwatched)
	for i := range netIDs {
		netIDs[i] = watched[i].Welcome().NetID
	}

	// The bots: in process, failing over like any client.
	var progMu sync.Mutex
	var prog bots.Progress
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reportc := make(chan *bots.Report, 1)
	go func() {
		r, err := bots.Run(ctx, bots.Config{
			Server: clientAddr, Key: key, Clients: nbots, Duration: 10 * time.Minute, Ramp: time.Second, Seed: 3,
			Client: client.Options{Failover: true, DialTimeout: 20 * time.Second},
			Progress: func(p bots.Progress) {
				progMu.Lock()
				prog = p
				progMu.Unlock()
			},
		})
		if err != nil {
			r = nil
		}
		reportc <- r
	}()
	progress := func() bots.Progress {
		progMu.Lock()
		defer progMu.Unlock()
		return prog
	}

	// Soak: both shadows compare every tick's hash with the primary's.
	soakStart := time.Now()
	var first [2]uint64
	for i, s := range []*proc{s2, s1} {
		m := s.wait(t, 20*time.Second, `shadow: tick \d+, ([1-9]\d*) compared, 0 mismatches, primary \S+, synced true`)
		first[i] = atoi(t, m[1])
	}
	time.Sleep(soak - time.Since(soakStart))
	if p := progress(); p.Connected != nbots {
		t.Fatalf("after the soak %d of %d bots are connected (%+v)", p.Connected, nbots, p)
	}
	sessions := nbots + nwatched + 1
	for _, s := range []*proc{s2, s1} {
		s.wait(t, 10*time.Second, fmt.Sprintf(`synced true, %d sessions`, sessions))
	}
	for i, s := range []*proc{s2, s1} {
		m := s.find(shadowStatus)
		compared, mismatches := atoi(t, m[2]), atoi(t, m[3])
		if mismatches != 0 || m[5] != "true" || compared < first[i]+uint64((soak-2*time.Second).Seconds()*ecs.DefaultRate*0.8) {
			t.Fatalf("%s after the soak: %s", s.name, m[0])
		}
		t.Logf("%s: %d ticks compared, 0 mismatches over the soak", s.name, compared)
	}

	// The primary dies; the watched client without failover stays away.
	killed := time.Now()
	if err := prim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	pm := s2.wait(t, 10*time.Second, `promoted: tick=(\d+) hash=([0-9a-f]{16}) clients=(\S+) .* sessions=(\d+)`)
	ft := s2.wait(t, 10*time.Second, `first promoted tick (\d+)`)
	takeOver := time.Since(killed)
	promoTick := atoi(t, pm[1])
	promoHash, err := strconv.ParseUint(pm[2], 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	if pm[3] != s2Addr {
		t.Errorf("rank 2 serves clients on %s, announced %s", pm[3], s2Addr)
	}
	if got := atoi(t, pm[4]); got != uint64(sessions) {
		t.Errorf("rank 2 promoted with %d client sessions, want %d", got, sessions)
	}
	if firstTick := atoi(t, ft[1]); firstTick != promoTick+1 {
		t.Errorf("promoted at tick %d but its first tick is %d", promoTick, firstTick)
	}
	t.Logf("take-over: %s from SIGKILL to the promoted shard's first tick (SLO 2 s)", takeOver.Round(time.Millisecond))
	if takeOver > 2*time.Second {
		t.Logf("NOTE: take-over slower than the 2 s SLO (loaded machine?)")
	}

	// Every bot fails over to rank 2; rank 1 follows rank 2.
	deadline := time.Now().Add(15 * time.Second)
	for p := progress(); p.Reconnects < nbots || p.Connected != nbots; p = progress() {
		if time.Now().After(deadline) {
			t.Fatalf("bots 15 s after the kill: %+v", p)
		}
		time.Sleep(100 * time.Millisecond)
	}
	allBack := time.Since(killed)
	for i, c := range watched[:nwatched] {
		deadline := time.Now().Add(10 * time.Second)
		for c.Stats().Reconnects < 1 || c.Stats().Server != s2Addr {
			if time.Now().After(deadline) {
				t.Fatalf("watched client %d did not fail over to rank 2: %+v", i, c.Stats())
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got := c.Welcome().NetID; got != netIDs[i] {
			t.Errorf("watched client %d: NetID %d after the take-over, %d before", i, got, netIDs[i])
		}
	}
	// No duplicates: the promoted world holds the NPCs and the clients that came back,
	// each on its old entity; the lost client's entity is gone after the grace period.
	back := nbots + nwatched
	s2.wait(t, 15*time.Second, fmt.Sprintf(`shadow: promoted; tick \d+, %d entities, %d clients, \d+ shadows; sessions: %d taken over, 0 waiting, 1 expired`, npcs+back, back, back))
	s1.wait(t, 10*time.Second, `following rank 2 at `)
	s1.wait(t, 10*time.Second, fmt.Sprintf(`0 mismatches, primary \S+, synced true, %d sessions`, back))
	t.Logf("entities: %d NPCs + %d clients after the take-over (no duplicates); %d sessions taken over on their NetIDs, 1 expired after %s; rank 1 follows the same map",
		npcs, back, back, grace)
	time.Sleep(2 * time.Second) // the bots play on the promoted shard
	cancel()
	r := <-reportc
	if r == nil {
		t.Fatal("bots.Run failed")
	}
	if r.Connected != nbots || r.Failed != 0 || r.Ended != 0 || r.Reconnected != nbots || r.Reconnects != nbots {
		t.Errorf("bots: %d connected, %d failed, %d ended (%v), %d reconnected, %d reconnects",
			r.Connected, r.Failed, r.Ended, r.EndReason, r.Reconnected, r.Reconnects)
	}
	t.Logf("bots: all %d reconnected %s after the kill; time lost per bot p50 %.0f ms, max %.0f ms; delivery %.4f",
		nbots, allBack.Round(time.Millisecond), r.ReconnectTime.P50*1000, r.ReconnectTime.Max*1000, r.Delivery)
	m := s1.find(shadowStatus)
	if m == nil || atoi(t, m[3]) != 0 || atoi(t, m[1]) <= promoTick {
		t.Errorf("rank 1 after the take-over: %v", m)
	}

	// The recording of the killed primary: every complete block reads; re-simulated
	// up to the take-over tick it reaches the promoted shadow's hash.
	rd, closer, err := replay.OpenFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	// A replay's tick record T is the step that took the world from tick T to T+1
	// (whose G.Tick the shadows report): the world after the last record is at last+1.
	last, ok := rd.LastTick()
	if ok {
		last++
	}
	if !ok || last < promoTick {
		t.Fatalf("recording ends at tick %d (ok %v), before the take-over tick %d", last, ok, promoTick)
	}
	got := resimulate(t, rd, promoTick)
	if got != promoHash {
		t.Fatalf("re-simulated hash at tick %d %016x, promoted shadow %016x", promoTick, got, promoHash)
	}
	rep, err := replay.Verify(rd, replay.VerifyOptions{})
	if err != nil || !rep.OK || !rep.Truncated {
		t.Fatalf("verify of the killed primary's recording: %+v, %v", rep, err)
	}
	t.Logf("recording: %d ticks re-simulated and verified, world tick %d at the kill; take-over at world tick %d: %d tick(s) lost; hash %016x matches",
		rep.Ticks, last, promoTick, last-promoTick, promoHash)
}

// resimulate steps the recording's initial world up to tick and returns its hash,
// checking every recorded hash on the way.
func resimulate(t *testing.T, rd *replay.Reader, tick uint64) uint64 {
	t.Helper()
	cfg, err := systems.ParseTuning(rd.Header().Scenario.Params)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := rd.Initial()
	if err != nil {
		t.Fatal(err)
	}
	w, err := replay.LoadWorld(snap, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	sim := systems.New(cfg)
	it := rd.Ticks(w.G.Tick)
	for w.G.Tick < tick && it.Next() {
		rec := it.Tick()
		sim.Step(w, rec.Commands)
		if h := ecs.Hash(w); h != rec.Hash {
			t.Fatalf("tick %d: re-simulated %016x, recorded %016x", rec.Tick, h, rec.Hash)
		}
	}
	if w.G.Tick != tick {
		t.Fatalf("re-simulation stopped at tick %d (want %d): %v", w.G.Tick, tick, it.Err())
	}
	return ecs.Hash(w)
}

// TestHandOverProof: a planned hand-over from the CLI (SIGUSR1 to serve with
// --handover-rank 1) loses no tick: the named shadow, not the highest rank, promotes at
// exactly the primary's last recorded tick with its hash, and the bots, told the
// successor first, fail over to it.
func TestHandOverProof(t *testing.T) {
	const nbots = 20
	bin := shardsimBin(t)
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "server.key")
	key, err := game.LoadOrCreateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, "primary.replay")
	prim := startProc(t, bin, "serve", "serve", "--addr", "127.0.0.1:0", "--shadow-addr", "127.0.0.1:0",
		"--record", rec, "--handover-rank", "1", "--entities", "50", "--key-file", keyPath)
	clientAddr := prim.wait(t, 20*time.Second, `serving on (\S+) `)[1]
	syncAddr := prim.wait(t, 5*time.Second, `shadow sync port on (\S+)`)[1]
	// A long timeout: only the hand-over can promote a shadow here.
	s2 := startProc(t, bin, "shadow rank 2", "shadow", "--primary", syncAddr, "--addr", "127.0.0.1:0", "--rank", "2", "--timeout", "20s", "--key-file", keyPath)
	s1 := startProc(t, bin, "shadow rank 1", "shadow", "--primary", syncAddr, "--addr", "127.0.0.1:0", "--rank", "1", "--timeout", "20s", "--key-file", keyPath)
	s2Addr := s2.wait(t, 20*time.Second, `clients on (\S+) once promoted`)[1]
	s1Addr := s1.wait(t, 20*time.Second, `clients on (\S+) once promoted`)[1]
	prim.wait(t, 20*time.Second, regexp.QuoteMeta(fmt.Sprintf("failover addresses announced to clients: [%s %s]", s2Addr, s1Addr)))

	var progMu sync.Mutex
	var prog bots.Progress
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reportc := make(chan *bots.Report, 1)
	go func() {
		r, _ := bots.Run(ctx, bots.Config{
			Server: clientAddr, Key: key, Clients: nbots, Duration: 10 * time.Minute, Ramp: 500 * time.Millisecond, Seed: 4,
			Client: client.Options{Failover: true, DialTimeout: 20 * time.Second},
			Progress: func(p bots.Progress) {
				progMu.Lock()
				prog = p
				progMu.Unlock()
			},
		})
		reportc <- r
	}()
	progress := func() bots.Progress {
		progMu.Lock()
		defer progMu.Unlock()
		return prog
	}
	for _, s := range []*proc{s2, s1} {
		s.wait(t, 20*time.Second, `shadow: tick \d+, [1-9]\d{1,} compared, 0 mismatches, primary \S+, synced true`)
	}
	deadline := time.Now().Add(20 * time.Second)
	for progress().Connected != nbots {
		if time.Now().After(deadline) {
			t.Fatalf("bots not all connected: %+v", progress())
		}
		time.Sleep(50 * time.Millisecond)
	}

	asked := time.Now()
	if err := prim.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	ho := prim.wait(t, 20*time.Second, `handed over at tick (\d+), hash ([0-9a-f]{16}) to rank 1`)
	pm := s1.wait(t, 10*time.Second, `promoted: tick=(\d+) hash=([0-9a-f]{16}) clients=(\S+) sync=\S+ planned=true`)
	s1.wait(t, 10*time.Second, `first promoted tick`)
	switchTime := time.Since(asked)
	select {
	case <-prim.done:
	case <-time.After(10 * time.Second):
		t.Fatal("serve still running after the hand-over")
	}
	if code := prim.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("serve exited with %d", code)
	}
	if ho[1] != pm[1] || ho[2] != pm[2] {
		t.Fatalf("primary stopped at tick %s hash %s, rank 1 promoted at tick %s hash %s", ho[1], ho[2], pm[1], pm[2])
	}
	if pm[3] != s1Addr {
		t.Errorf("rank 1 serves on %s, announced %s", pm[3], s1Addr)
	}
	if s2.find(regexp.MustCompile(`promoted:`)) != nil {
		t.Fatal("rank 2 promoted too")
	}
	s2.wait(t, 10*time.Second, `following rank 1 at `)

	deadline = time.Now().Add(15 * time.Second)
	for p := progress(); p.Reconnects < nbots || p.Connected != nbots; p = progress() {
		if time.Now().After(deadline) {
			t.Fatalf("bots 15 s after the hand-over: %+v", p)
		}
		time.Sleep(100 * time.Millisecond)
	}
	allBack := time.Since(asked)
	cancel()
	r := <-reportc
	if r == nil || r.Reconnected != nbots || r.Ended != 0 || r.Failed != 0 {
		t.Fatalf("bots: %+v", r)
	}

	// No tick lost: the complete recording ends exactly at the hand-over tick.
	rd, closer, err := replay.OpenFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	tick := atoi(t, pm[1])
	last, _ := rd.LastTick()
	if rd.Err() != nil || last+1 != tick {
		t.Fatalf("recording: last record %d (world tick %d), err %v; hand-over at tick %d", last, last+1, rd.Err(), tick)
	}
	want, _ := strconv.ParseUint(pm[2], 16, 64)
	if got := resimulate(t, rd, tick); got != want {
		t.Fatalf("re-simulated hash at tick %d %016x, promoted %016x", tick, got, want)
	}
	t.Logf("hand-over at tick %d, 0 ticks lost; signal → rank 1's first tick %s; all %d bots back %s after the signal (time lost p50 %.0f ms, max %.0f ms)",
		tick, switchTime.Round(time.Millisecond), nbots, allBack.Round(time.Millisecond), r.ReconnectTime.P50*1000, r.ReconnectTime.Max*1000)
}
