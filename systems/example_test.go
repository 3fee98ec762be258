package systems_test

import (
	"fmt"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/systems"
)

func ExampleSim_Step() {
	w := ecs.New(ecs.Config{Seed: 1})
	sim := systems.New(systems.DefaultConfig())
	res := sim.Step(w, []ecs.Command{{Kind: ecs.CmdJoin, Arg: 42}})
	id := res.Joined[0].ID
	// Hold the stick to the right for one second.
	sim.Step(w, []ecs.Command{{Kind: ecs.CmdInput, Player: id, Input: ecs.Input{MoveX: 127}}})
	for range 29 {
		sim.Step(w, nil)
	}
	r, _ := w.RecordOf(id)
	fmt.Println("joined as", id, "at tick", w.G.Tick, "speed", r.Vel.X, "mm/s")
	// Output: joined as 1 at tick 31 speed 1400 mm/s
}

func ExampleSim_Transition() {
	w := ecs.New(ecs.Config{Seed: 1})
	sim := systems.New(systems.DefaultConfig())
	sim.Populate(w, 1)
	fmt.Println(sim.Transition(w, ecs.PhasePlaying)) // validated on an orphan copy: rejected
	sim.Populate(w, 3)
	fmt.Println(sim.Transition(w, ecs.PhasePlaying), w.G.Phase, w.G.Rejected)
	// Output:
	// game-state transition rejected: lobby → playing: need at least 2 players, have 1
	// <nil> playing 1
}
