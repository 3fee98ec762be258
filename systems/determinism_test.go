package systems_test

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/systems"
)

var update = flag.Bool("update", false, "rewrite testdata/determinism.golden")

// script drives a run with every kind of command: churn, explicit inputs, and game-state
// transitions including rejected ones. It is deterministic in the tick.
func script(tick uint64, w *ecs.World) []ecs.Command {
	var cmds []ecs.Command
	switch {
	case tick%37 == 5:
		cmds = append(cmds, ecs.Command{Kind: ecs.CmdJoin, Arg: uint32(tick)})
	case tick%41 == 7:
		cmds = append(cmds, ecs.Command{Kind: ecs.CmdLeave, Player: ecs.NetID(1 + tick%uint64(w.Len()+1))})
	case tick%13 == 0:
		cmds = append(cmds, ecs.Command{Kind: ecs.CmdInput, Player: ecs.NetID(1 + tick%20),
			Input: ecs.Input{MoveX: int8(tick), MoveY: int8(tick * 3), Buttons: uint8(tick % 8)}})
	}
	switch tick {
	case 20:
		cmds = append(cmds, ecs.Command{Kind: ecs.CmdGameState, Arg: uint32(ecs.PhaseIntermission)}) // rejected
	case 30:
		cmds = append(cmds, ecs.Command{Kind: ecs.CmdGameState, Arg: uint32(ecs.PhasePlaying)})
	case 150:
		cmds = append(cmds, ecs.Command{Kind: ecs.CmdGameState, Arg: uint32(ecs.PhaseIntermission)})
	case 200:
		cmds = append(cmds, ecs.Command{Kind: ecs.CmdGameState, Arg: uint32(ecs.PhasePlaying)})
	}
	return cmds
}

// run simulates n bots for ticks ticks and returns the hash after every tick; if at is
// non-nil it is called with the world after each tick.
func run(t testing.TB, seed uint64, n int, ticks uint64, at func(*ecs.World)) []uint64 {
	t.Helper()
	w := ecs.New(ecs.Config{Seed: seed})
	s := systems.New(systems.DefaultConfig())
	s.Populate(w, n)
	return continueRun(w, s, ticks, at)
}

func continueRun(w *ecs.World, s *systems.Sim, until uint64, at func(*ecs.World)) []uint64 {
	var hashes []uint64
	for w.G.Tick < until {
		s.Step(w, script(w.G.Tick, w))
		hashes = append(hashes, ecs.Hash(w))
		if at != nil {
			at(w)
		}
	}
	return hashes
}

func TestDeterminismSameSeedSameHashes(t *testing.T) {
	a := run(t, 7, 300, 240, nil)
	b := run(t, 7, 300, 240, nil)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("tick %d: %016x vs %016x", i+1, a[i], b[i])
		}
	}
	c := run(t, 8, 300, 240, nil)
	if c[len(c)-1] == a[len(a)-1] {
		t.Fatal("a different seed gave the same final hash")
	}
}

func TestDeterminismAcrossGOMAXPROCS(t *testing.T) {
	var got [2][]uint64
	for i, procs := range []int{1, 2} {
		old := runtime.GOMAXPROCS(procs)
		got[i] = run(t, 11, 200, 120, nil)
		runtime.GOMAXPROCS(old)
	}
	for i := range got[0] {
		if got[0][i] != got[1][i] {
			t.Fatalf("GOMAXPROCS 1 vs 2 differ at tick %d", i+1)
		}
	}
}

// TestRestoreAndContinue is DESIGN.md's test: snapshot at tick k, restore into a fresh
// world, step to N; the hash at N equals the uninterrupted run's, for many k.
func TestRestoreAndContinue(t *testing.T) {
	const N = 240
	snaps := map[uint64][]byte{}
	ref := run(t, 21, 150, N, func(w *ecs.World) {
		if w.G.Tick%17 == 3 || w.G.Tick == 1 || w.G.Tick == N-1 {
			snaps[w.G.Tick] = w.AppendSnapshot(nil)
		}
	})
	if len(snaps) < 10 {
		t.Fatalf("only %d snapshots", len(snaps))
	}
	s := systems.New(systems.DefaultConfig())
	for k, snap := range snaps {
		w, err := ecs.Restore(snap)
		if err != nil {
			t.Fatalf("restore at %d: %v", k, err)
		}
		if got := ecs.Hash(w); got != ref[k-1] {
			t.Fatalf("restored hash at %d differs", k)
		}
		rest := continueRun(w, s, N, nil)
		if got := rest[len(rest)-1]; got != ref[N-1] {
			t.Errorf("restored at tick %d: hash at %d is %016x, uninterrupted %016x", k, N, got, ref[N-1])
		}
	}
}

// TestDeterminismGolden pins the hashes to checked-in values. The arm64 check
// (scripts/arm64-check) runs this same test under qemu, so both architectures must
// produce exactly these bits.
func TestDeterminismGolden(t *testing.T) {
	hashes := run(t, 7, 500, 300, nil)
	var b strings.Builder
	fmt.Fprintf(&b, "# seed 7, 500 bots, scripted churn and transitions; tick hash (SSH1), every 20 ticks\n")
	for i, h := range hashes {
		if (i+1)%20 == 0 {
			fmt.Fprintf(&b, "%d %016x\n", i+1, h)
		}
	}
	const path = "testdata/determinism.golden"
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run 'go test ./systems -run DeterminismGolden -update' to create it)", err)
	}
	if got := b.String(); got != string(want) {
		gs, ws := bufio.NewScanner(strings.NewReader(got)), bufio.NewScanner(strings.NewReader(string(want)))
		for gs.Scan() && ws.Scan() {
			if gs.Text() != ws.Text() {
				t.Fatalf("%s/%s: first difference: got %q, want %q", runtime.GOOS, runtime.GOARCH, gs.Text(), ws.Text())
			}
		}
		t.Fatalf("%s/%s: hashes differ in length from %s", runtime.GOOS, runtime.GOARCH, path)
	}
}
