package shard_test

import (
	"context"
	"fmt"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/systems"
)

func ExampleRunHeadless() {
	sum, err := shard.RunHeadless(context.Background(), shard.HeadlessConfig{
		World:    ecs.Config{Seed: 7},
		Systems:  systems.DefaultConfig(),
		Entities: 100,
		Ticks:    60,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(sum.Ticks, sum.Entities, len(sum.Hash))
	// Output: 60 100 16
}
