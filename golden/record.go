package golden

import (
	"context"
	"io"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/replay"
	"github.com/shardsim/shardsim/shard"
)

// Record runs the scenario and writes its replay to out.
func (s *Scenario) Record(out io.Writer) error {
	cfg := shard.HeadlessConfig{
		World:    ecs.Config{Seed: s.Seed},
		Systems:  s.Config(),
		Entities: s.Entities,
		Ticks:    s.Ticks,
		Script:   s.Script,
	}
	finish := shard.Record(&cfg, out, replay.RecorderOptions{Name: s.Name, KeyframeEvery: 150})
	if _, err := shard.RunHeadless(context.Background(), cfg); err != nil {
		return err
	}
	return finish()
}
