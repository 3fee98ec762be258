package anim_test

import (
	"errors"
	"fmt"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/systems/anim"
)

// A clip is sampled at any time; the loop mode wraps it.
func ExampleAnimation_Sample() {
	clip := anim.Animation{
		Name:   "swing",
		Length: 1_000_000, // 1 s
		Loop:   anim.LoopPingPong,
		Tracks: []anim.Track{{
			Channel: anim.ChannelSwing,
			Interp:  anim.InterpLinear,
			Keys:    []anim.Key{{Time: 0, Value: 0}, {Time: 1_000_000, Value: ecs.Q16}},
		}},
	}
	if err := clip.Validate(); err != nil {
		panic(err)
	}
	var pose ecs.Pose
	for _, t := range []int32{0, 250_000, 1_000_000, 1_250_000, -250_000} {
		clip.Sample(t, &pose)
		fmt.Printf("t=%7dµs swing=%5d (%.2f)\n", t, pose.V[anim.ChannelSwing], float64(pose.V[anim.ChannelSwing])/ecs.Q16)
	}
	// Output:
	// t=      0µs swing=    0 (0.00)
	// t= 250000µs swing=16384 (0.25)
	// t=1000000µs swing=65536 (1.00)
	// t=1250000µs swing=49152 (0.75)
	// t=-250000µs swing=16384 (0.25)
}

// The animation system runs Advance then Apply for each player every tick.
func ExampleAdvance() {
	lib := anim.DefaultLibrary()
	var a ecs.Anim
	if err := anim.SetMachine(lib, &a, anim.MachinePlayer); err != nil {
		panic(err)
	}
	states := lib.Machines[anim.MachinePlayer].States
	const dt = 50_000 // µs: a 20 Hz tick
	inputs := []anim.Params{
		{},                                     // standing
		{Speed: 1200},                          // starts walking
		{Speed: 1200},                          //
		{Speed: 4000},                          // runs
		{Speed: 4000, Buttons: ecs.ButtonStop}, // brakes
		{Speed: 0},
	}
	for i, p := range inputs {
		anim.Advance(lib, &a, p, dt)
		var pose ecs.Pose
		anim.Apply(lib, &a, &pose)
		fmt.Printf("tick %d: %-5s time=%6d fade=%6d/%6d pose=%v\n",
			i, states[a.State].Name, a.Time, a.FadeLeft, a.FadeTotal, pose.V)
	}
	// Output:
	// tick 0: idle  time= 50000 fade=     0/     0 pose=[143 -646 0 0]
	// tick 1: walk  time=     0 fade=200000/200000 pose=[304 -618 0 0]
	// tick 2: walk  time= 50000 fade=150000/200000 pose=[521 -3708 819 0]
	// tick 3: run   time=     0 fade=150000/150000 pose=[1311 -9830 3277 0]
	// tick 4: brake time=     0 fade=100000/100000 pose=[2185 -26215 9830 0]
	// tick 5: brake time= 50000 fade= 50000/100000 pose=[1639 -6554 1638 0]
}

// Validate reports every broken reference with the resource that holds it.
func ExampleLibrary_Validate() {
	lib := anim.DefaultLibrary()
	lib.Machines[anim.MachinePlayer].States[anim.StateRun].Clip = 42
	err := lib.Validate()
	fmt.Println(err)
	fmt.Println(errors.Is(err, anim.ErrRef))
	// Output:
	// anim: machine 0 "player": state 2 "run": clip 42, library has 6 animations: reference out of range
	// true
}
