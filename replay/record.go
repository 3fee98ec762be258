package replay

import (
	"fmt"
	"io"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/systems"
)

// Recorder records a running simulation as a replay: the header and initial snapshot
// when created, then per step the applied commands and the state hash, and a keyframe
// every KeyframeEvery ticks. It appends as the simulation runs, so memory does not grow
// with the length of the recording.
type Recorder struct {
	w     *Writer
	start uint64
	every uint64
	snap  []byte // reused keyframe buffer
}

// RecorderOptions configure a [Recorder].
type RecorderOptions struct {
	Name          string // scenario name stored in the header
	KeyframeEvery uint32 // 0: DefaultKeyframeEvery
	Writer        WriterOptions
}

// NewRecorder starts a replay of world w, stepped by a Sim with configuration cfg, on out.
func NewRecorder(out io.Writer, w *ecs.World, cfg *systems.Config, opt RecorderOptions) (*Recorder, error) {
	every := opt.KeyframeEvery
	if every == 0 {
		every = DefaultKeyframeEvery
	}
	h := Header{
		Scenario: Scenario{
			Name: opt.Name, Seed: w.G.Seed, Rate: w.G.Rate, ArenaW: w.G.ArenaW, ArenaH: w.G.ArenaH,
			Entities: uint32(w.Len()), SimVersion: systems.SimVersion, KeyframeEvery: every,
			Params: cfg.AppendTuning(nil),
		},
		StartTick: w.G.Tick,
	}
	wr, err := NewWriter(out, h, w.AppendSnapshot(nil), opt.Writer)
	if err != nil {
		return nil, err
	}
	return &Recorder{w: wr, start: w.G.Tick, every: uint64(every)}, nil
}

// Tick records the step just taken: w is the world after the step, cmds the commands the
// step applied and hash the state hash of w.
func (r *Recorder) Tick(w *ecs.World, cmds []ecs.Command, hash uint64) error {
	tick := w.G.Tick - 1 // the tick that was stepped
	if err := r.w.WriteTick(tick, cmds, hash); err != nil {
		return err
	}
	if (tick+1-r.start)%r.every == 0 {
		r.snap = w.AppendSnapshot(r.snap[:0])
		if err := r.w.WriteKeyframe(tick, r.snap); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes buffered ticks as a block.
func (r *Recorder) Flush() error { return r.w.Flush() }

// Close flushes and writes the end block. It does not close the underlying writer.
func (r *Recorder) Close() error {
	if err := r.w.Close(); err != nil {
		return fmt.Errorf("replay: close: %w", err)
	}
	return nil
}

// Bytes written so far.
func (r *Recorder) Offset() int64 { return r.w.Offset() }
