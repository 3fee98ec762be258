package ecs_test

import (
	"fmt"

	"github.com/shardsim/shardsim/ecs"
)

func Example() {
	w := ecs.New(ecs.Config{Seed: 7})
	a := w.Spawn(ecs.Spawn{Pos: ecs.Position{X: 1_000_000, Y: 2_000_000}})
	b := w.Spawn(ecs.Spawn{})
	w.Despawn(a)
	c := w.Spawn(ecs.Spawn{}) // the freed id is reused

	snap := w.AppendSnapshot(nil)
	restored, err := ecs.Restore(snap)
	if err != nil {
		panic(err)
	}
	fmt.Println(a, b, c, restored.Len(), ecs.Hash(restored) == ecs.Hash(w))
	// Output: 1 2 1 2 true
}
