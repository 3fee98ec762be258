package anim

import (
	"testing"

	"github.com/shardsim/shardsim/ecs"
)

// BenchmarkAdvanceApply is the per-entity, per-tick cost of the animation system: one
// Advance and one Apply on a walking player, crossfading part of the time.
func BenchmarkAdvanceApply(b *testing.B) {
	lib := DefaultLibrary()
	var a ecs.Anim
	if err := SetMachine(lib, &a, MachinePlayer); err != nil {
		b.Fatal(err)
	}
	params := [...]Params{{Speed: 1000}, {Speed: 1000}, {Speed: 4000}, {Speed: 4000}, {Speed: 100}}
	var pose ecs.Pose
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		Advance(lib, &a, params[i/32%len(params)], tick)
		Apply(lib, &a, &pose)
		i++
	}
}

// BenchmarkTick2000 runs Advance+Apply for 2000 players with varied inputs: one op is one
// tick of the animation system for a full shard.
func BenchmarkTick2000(b *testing.B) {
	lib := DefaultLibrary()
	const n = 2000
	as := make([]ecs.Anim, n)
	poses := make([]ecs.Pose, n)
	for i := range as {
		if err := SetMachine(lib, &as[i], MachinePlayer); err != nil {
			b.Fatal(err)
		}
	}
	params := [...]Params{
		{}, {Speed: 1000}, {Speed: 4000}, {Buttons: ecs.ButtonEmote},
		{Buttons: ecs.ButtonEmote, Emote: EmoteDance}, {Speed: 2000, Buttons: ecs.ButtonStop},
	}
	t := 0
	b.ReportAllocs()
	for b.Loop() {
		for i := range as {
			Advance(lib, &as[i], params[(i+t/64)%len(params)], tick)
			Apply(lib, &as[i], &poses[i])
		}
		t++
	}
}

func BenchmarkSample(b *testing.B) {
	lib := DefaultLibrary()
	for _, id := range []uint16{AnimIdle, AnimWalk, AnimDance} {
		c := &lib.Animations[id]
		b.Run(c.Name, func(b *testing.B) {
			var pose ecs.Pose
			t := int32(0)
			b.ReportAllocs()
			for b.Loop() {
				c.Sample(t, &pose)
				t += 7919
			}
		})
	}
}
