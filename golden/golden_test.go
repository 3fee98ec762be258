package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/replay"
)

var update = flag.Bool("update", false, "regenerate the golden replays in testdata/")

func path(name string) string { return filepath.Join("testdata", name+".replay") }

// TestGolden verifies every golden replay: the file re-simulates with matching hashes
// at every tick, and the scenario defined in Go still produces exactly the recorded
// content (compared decoded: initial snapshot, commands and hashes; not compressed bytes).
// With -update it rewrites the files instead.
func TestGolden(t *testing.T) {
	for i := range Scenarios {
		sc := &Scenarios[i]
		t.Run(sc.Name, func(t *testing.T) {
			if *update {
				var buf bytes.Buffer
				if err := sc.Record(&buf); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path(sc.Name), buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			r, closer, err := replay.OpenFile(path(sc.Name))
			if err != nil {
				t.Fatalf("%v (run 'make golden' to create it)", err)
			}
			defer closer.Close()
			rep, err := replay.Verify(r, replay.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK || rep.Truncated || rep.Ticks != sc.Ticks {
				t.Fatalf("verify: ok=%v truncated=%v ticks=%d (want %d)\n%v", rep.OK, rep.Truncated, rep.Ticks, sc.Ticks, rep.Divergence)
			}

			var fresh bytes.Buffer
			if err := sc.Record(&fresh); err != nil {
				t.Fatal(err)
			}
			r2, err := replay.Open(bytes.NewReader(fresh.Bytes()), int64(fresh.Len()))
			if err != nil {
				t.Fatal(err)
			}
			compareReplays(t, r, r2)
		})
	}
}

func compareReplays(t *testing.T, want, got *replay.Reader) {
	t.Helper()
	if want.Header().Scenario.Name != got.Header().Scenario.Name || !bytes.Equal(want.Header().Scenario.Params, got.Header().Scenario.Params) {
		t.Fatalf("headers differ: %+v vs %+v", want.Header(), got.Header())
	}
	a, _ := want.Initial()
	b, _ := got.Initial()
	if !bytes.Equal(a, b) {
		t.Fatal("the scenario's initial world differs from the golden file (scenario changed? run make golden and review)")
	}
	wi, gi := want.Ticks(want.Header().StartTick), got.Ticks(got.Header().StartTick)
	for wi.Next() {
		if !gi.Next() {
			t.Fatalf("fresh run ends before tick %d", wi.Tick().Tick)
		}
		w, g := wi.Tick(), gi.Tick()
		if w.Tick != g.Tick || w.Hash != g.Hash || !slices.Equal(w.Commands, g.Commands) {
			t.Fatalf("tick %d: golden hash %016x, fresh %016x (commands equal: %v)", w.Tick, w.Hash, g.Hash, slices.Equal(w.Commands, g.Commands))
		}
	}
	if gi.Next() {
		t.Fatal("fresh run has more ticks than the golden file")
	}
}

// TestGoldenDivergenceReport perturbs one system on purpose (a test-only hook: entity 3
// is pushed 5 mm along X after tick 123) and checks that verify names that tick, entity
// and field.
func TestGoldenDivergenceReport(t *testing.T) {
	r, closer, err := replay.OpenFile(path("churn"))
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	const tick = 123
	rep, err := replay.Verify(r, replay.VerifyOptions{Hook: func(w *ecs.World) {
		if w.G.Tick == tick+1 { // the hook runs after the step of tick 123
			e, ok := w.Entity(3)
			if !ok {
				t.Error("entity 3 does not exist at tick 123")
				return
			}
			ecs.Get[ecs.Position](w, e, w.C.Pos).X += 5_000
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	d := rep.Divergence
	if rep.OK || d == nil {
		t.Fatal("the perturbation was not detected")
	}
	if d.Tick != tick {
		t.Errorf("divergence at tick %d, want %d", d.Tick, tick)
	}
	if len(d.Diffs) == 0 {
		t.Fatalf("no field named: %v", d)
	}
	if f := d.Diffs[0]; f.Entity != 3 || f.Component != "Pos" || f.Field != "X" {
		t.Errorf("first diff %v, want entity 3 Pos.X\n%v", f, d)
	}
	t.Logf("report:\n%v", d)
}
