package golden

import (
	"context"
	"testing"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/systems/anim"
)

// observed is what a run of a scenario exercised.
type observed struct {
	states      map[[2]uint16]bool // (machine, state) pairs seen
	fades       int                // entity-ticks spent in a crossfade
	wallX       bool               // someone pinned to a side wall
	corner      bool               // someone pinned into a corner
	recycled    bool               // a join reused a freed id
	final       ecs.Globals
	canvases    int
	movingEarly bool // idleburst: anyone moving before tick 600
}

func observe(t *testing.T, sc *Scenario) *observed {
	t.Helper()
	o := &observed{states: map[[2]uint16]bool{}}
	maxID := ecs.NetID(0)
	cfg := shard.HeadlessConfig{
		World: ecs.Config{Seed: sc.Seed}, Systems: sc.Config(), Entities: sc.Entities, Ticks: sc.Ticks, Script: sc.Script,
		OnTick: func(w *ecs.World, cmds []ecs.Command, _ uint64) error {
			for _, c := range cmds {
				if c.Kind == ecs.CmdJoin && w.MaxNetID()-1 <= maxID && maxID > 0 {
					o.recycled = true
				}
			}
			maxID = max(maxID, w.MaxNetID()-1)
			for id := ecs.NetID(1); id < w.MaxNetID(); id++ {
				r, ok := w.RecordOf(id)
				if !ok {
					continue
				}
				o.states[[2]uint16{r.Anim.Machine, r.Anim.State}] = true
				if r.Anim.FadeLeft > 0 {
					o.fades++
				}
				atX := r.Pos.X == 0 || r.Pos.X == w.G.ArenaW
				atY := r.Pos.Y == 0 || r.Pos.Y == w.G.ArenaH
				o.wallX = o.wallX || atX
				o.corner = o.corner || (atX && atY)
				if w.G.Tick < 600 && r.Vel != (ecs.Velocity{}) {
					o.movingEarly = true
				}
			}
			o.final = w.G
			o.canvases = len(w.Canvases())
			return nil
		},
	}
	if _, err := shard.RunHeadless(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestScenariosCoverWhatTheyClaim keeps the golden suite honest: each scenario must
// exercise what its description says.
func TestScenariosCoverWhatTheyClaim(t *testing.T) {
	get := func(name string) *Scenario {
		sc, ok := Lookup(name)
		if !ok {
			t.Fatalf("no scenario %q", name)
		}
		return sc
	}
	if o := observe(t, get("animation")); true {
		for s := anim.StateIdle; s <= anim.StateBrake; s++ {
			if !o.states[[2]uint16{anim.MachinePlayer, s}] {
				t.Errorf("animation: player state %d never reached", s)
			}
		}
		if o.fades == 0 {
			t.Error("animation: no crossfade")
		}
	}
	if o := observe(t, get("gamestate")); o.canvases != 2 || o.final.Rejected != 2 || o.final.Round != 2 || o.final.Phase != ecs.PhaseLobby ||
		!o.states[[2]uint16{anim.MachineCelebrate, anim.StateCheer}] || !o.states[[2]uint16{anim.MachineCelebrate, anim.StateCelebDance}] {
		t.Errorf("gamestate: canvases %d, rejected %d rounds %d phase %v, celebrate states seen %v", o.canvases, o.final.Rejected, o.final.Round, o.final.Phase, o.states)
	}
	if o := observe(t, get("walls")); !o.wallX || !o.corner {
		t.Errorf("walls: wall contact %v, corner contact %v", o.wallX, o.corner)
	}
	if o := observe(t, get("churn")); !o.recycled {
		t.Error("churn: no id was recycled")
	}
	if o := observe(t, get("idleburst")); o.movingEarly {
		t.Error("idleburst: players moved during the idle stretch")
	}
}
