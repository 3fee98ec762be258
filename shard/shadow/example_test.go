package shadow_test

import (
	"context"
	"fmt"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/shard/shadow"
	"github.com/shardsim/shardsim/systems"
)

// A primary feeds a shadow, which restores the first keyframe and verifies every later
// tick. Here the shard is stepped by hand; a live shard passes Primary.OnTick as its
// shard.LiveConfig.OnTick (see ServeSync).
func Example() {
	cfg := systems.DefaultConfig()
	w, sim, _ := shard.NewWorld(&shard.HeadlessConfig{World: ecs.Config{Seed: 1}, Systems: cfg, Entities: 20})

	primary, err := shadow.NewPrimary("127.0.0.1:0", shadow.PrimaryOptions{Systems: cfg, KeyframeEvery: 10})
	if err != nil {
		panic(err)
	}
	defer primary.Close()
	sh, err := shadow.NewShadow(shadow.ShadowOptions{Primary: primary.Addr().String(), Rank: 1, Timeout: time.Minute})
	if err != nil {
		panic(err)
	}
	defer sh.Close()
	go sh.Run(context.Background())
	for primary.Stats().Shadows == 0 { // wait for the shadow's Hello
		time.Sleep(time.Millisecond)
	}

	for range 30 {
		sim.Step(w, nil)
		primary.OnTick(w, nil, ecs.Hash(w)) // tick 1 also carries the shadow's first keyframe
	}
	for sh.Stats().Compared < 29 {
		time.Sleep(time.Millisecond)
	}
	st := sh.Stats()
	fmt.Printf("shadow at tick %d: %d ticks compared, %d mismatches\n", st.Tick, st.Compared, st.Mismatches)
	// Output:
	// shadow at tick 30: 29 ticks compared, 0 mismatches
}
