package shard

import (
	"errors"
	"io"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/replay"
)

// Record makes the run of cfg write a replay to out: the header and initial snapshot
// when the world is ready, then every tick. Call the returned finish after RunHeadless
// to write the end block; without it the file reads as truncated (as after a crash).
func Record(cfg *HeadlessConfig, out io.Writer, opt replay.RecorderOptions) (finish func() error) {
	var rec *replay.Recorder
	prevStart, prevTick := cfg.OnStart, cfg.OnTick
	cfg.OnStart = func(w *ecs.World) error {
		if prevStart != nil {
			if err := prevStart(w); err != nil {
				return err
			}
		}
		var err error
		rec, err = replay.NewRecorder(out, w, &cfg.Systems, opt)
		return err
	}
	cfg.OnTick = func(w *ecs.World, cmds []ecs.Command, hash uint64) error {
		if prevTick != nil {
			if err := prevTick(w, cmds, hash); err != nil {
				return err
			}
		}
		return rec.Tick(w, cmds, hash)
	}
	return func() error {
		if rec == nil {
			return errors.New("shard: the recorded run never started")
		}
		return rec.Close()
	}
}
