package replay

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/systems"
)

// ErrSimVersion means a replay was recorded by other simulation rules than this build's.
var ErrSimVersion = errors.New("replay recorded with another simulation version")

// VerifyOptions configure [Verify].
type VerifyOptions struct {
	// UseKeyframe starts from the keyframe at tick FromKeyframe instead of the initial
	// snapshot (fast checks of long files).
	UseKeyframe  bool
	FromKeyframe uint64
	// MaxDiffs bounds the fields listed for a divergence (default 20).
	MaxDiffs int
	// Progress, when set, is called every 1024 ticks and at the end.
	Progress func(done, total uint64)
	// Hook is installed as the Sim's Hook: for tests that perturb a system on purpose to
	// prove that divergences are found and reported. Never set it otherwise.
	Hook func(w *ecs.World)
}

// Report is the outcome of verifying one replay.
type Report struct {
	Scenario       string      `json:"scenario"`
	FirstTick      uint64      `json:"first_tick"` // first tick re-simulated
	LastTick       uint64      `json:"last_tick"`  // last tick whose hash was compared
	Ticks          uint64      `json:"ticks"`      // ticks re-simulated and compared
	OK             bool        `json:"ok"`         // every compared hash matched
	Truncated      bool        `json:"truncated"`  // the file ends without its end block
	TruncatedAfter uint64      `json:"truncated_after,omitempty"`
	Divergence     *Divergence `json:"divergence,omitempty"`
	ElapsedSec     float64     `json:"elapsed_sec"`
	TicksPerSec    float64     `json:"ticks_per_sec"`
}

// Divergence describes the first tick whose recomputed hash differs from the recording.
type Divergence struct {
	Tick         uint64      `json:"tick"`
	RecordedHash string      `json:"recorded_hash"`
	ComputedHash string      `json:"computed_hash"`
	KeyframeTick uint64      `json:"keyframe_tick,omitempty"` // where the worlds were diffed
	Diffs        []FieldDiff `json:"diffs,omitempty"`
	MoreDiffs    int         `json:"more_diffs,omitempty"`
	Note         string      `json:"note,omitempty"`
}

func (d *Divergence) String() string {
	s := fmt.Sprintf("first divergence at tick %d: recorded hash %s, recomputed %s", d.Tick, d.RecordedHash, d.ComputedHash)
	if d.Note != "" {
		s += "\n  " + d.Note
	}
	for _, f := range d.Diffs {
		s += "\n  " + f.String()
	}
	if d.MoreDiffs > 0 {
		s += fmt.Sprintf("\n  … and %d more differing fields", d.MoreDiffs)
	}
	return s
}

// LoadWorld decodes snap and checks it against the animation library of cfg, so that a
// crafted snapshot cannot make the step panic on an unknown animation id.
func LoadWorld(snap []byte, cfg *systems.Config) (*ecs.World, error) {
	st, err := ecs.Decode(snap)
	if err != nil {
		return nil, err
	}
	for i := range st.Records {
		if err := cfg.Lib.CheckAnim(&st.Records[i].Anim); err != nil {
			return nil, fmt.Errorf("entity %d: %w", st.Records[i].Net, err)
		}
	}
	return ecs.FromState(st), nil
}

// Verify re-simulates the replay r and compares the state hash after every tick with the
// recorded one. A returned error means the replay could not be checked at all (unknown
// simulation version, corrupt data); a divergence or a truncated file is described in
// the Report.
func Verify(r *Reader, opt VerifyOptions) (*Report, error) {
	start := time.Now()
	h := r.Header()
	sc := &h.Scenario
	if sc.SimVersion != systems.SimVersion {
		return nil, fmt.Errorf("replay: %w: file has %d, this build simulates %d", ErrSimVersion, sc.SimVersion, systems.SimVersion)
	}
	cfg, err := systems.ParseTuning(sc.Params)
	if err != nil {
		return nil, fmt.Errorf("replay: scenario params: %w", err)
	}
	var snap []byte
	from := h.StartTick
	if opt.UseKeyframe {
		if snap, err = r.Keyframe(opt.FromKeyframe); err != nil {
			return nil, fmt.Errorf("replay: keyframe %d: %w", opt.FromKeyframe, err)
		}
		from = opt.FromKeyframe + 1
	} else if snap, err = r.Initial(); err != nil {
		return nil, fmt.Errorf("replay: initial snapshot: %w", err)
	}
	w, err := LoadWorld(snap, &cfg)
	if err != nil {
		return nil, fmt.Errorf("replay: snapshot at tick %d: %w", from, err)
	}
	if w.G.Tick != from {
		return nil, fmt.Errorf("replay: snapshot holds tick %d, expected %d: %w", w.G.Tick, from, ErrMalformed)
	}
	sim := systems.New(cfg)
	sim.Hook = opt.Hook
	rep := &Report{Scenario: sc.Name, FirstTick: from, OK: true}
	last, _ := r.LastTick()
	total := uint64(0)
	if last >= from {
		total = last - from + 1
	}

	it := r.Ticks(from)
	for it.Next() {
		rec := it.Tick()
		if rec.Tick != w.G.Tick {
			return nil, fmt.Errorf("replay: record for tick %d while the world is at tick %d: %w", rec.Tick, w.G.Tick, ErrMalformed)
		}
		sim.Step(w, rec.Commands)
		got := ecs.Hash(w)
		rep.Ticks++
		rep.LastTick = rec.Tick
		if opt.Progress != nil && rep.Ticks%1024 == 0 {
			opt.Progress(rep.Ticks, total)
		}
		if got != rec.Hash {
			rep.OK = false
			rep.Divergence = &Divergence{Tick: rec.Tick, RecordedHash: fmt.Sprintf("%016x", rec.Hash), ComputedHash: fmt.Sprintf("%016x", got)}
			if err := diffAtKeyframe(r, it, w, sim, rep.Divergence, opt.MaxDiffs); err != nil {
				return nil, err
			}
			break
		}
	}
	if err := it.Err(); err != nil {
		var te *TruncatedError
		if !errors.As(err, &te) {
			return nil, fmt.Errorf("replay: after tick %d: %w", rep.LastTick, err)
		}
		rep.Truncated, rep.TruncatedAfter = true, te.AfterTick
	} else if err := r.Err(); err != nil && rep.OK {
		var te *TruncatedError
		if errors.As(err, &te) {
			rep.Truncated, rep.TruncatedAfter = true, te.AfterTick
		}
	}
	if opt.Progress != nil {
		opt.Progress(rep.Ticks, total)
	}
	rep.ElapsedSec = time.Since(start).Seconds()
	if rep.ElapsedSec > 0 {
		rep.TicksPerSec = float64(rep.Ticks) / rep.ElapsedSec
	}
	return rep, nil
}

// diffAtKeyframe continues the re-simulation from the divergent tick to the first
// keyframe at or after it and diffs the recorded keyframe against the recomputed world.
func diffAtKeyframe(r *Reader, it *TickIter, w *ecs.World, sim *systems.Sim, d *Divergence, maxDiffs int) error {
	keys := r.Keyframes()
	i := sort.Search(len(keys), func(i int) bool { return keys[i].Tick >= d.Tick })
	if i == len(keys) {
		d.Note = "no keyframe after the divergence: entity and field cannot be named"
		return nil
	}
	k := keys[i].Tick
	for w.G.Tick <= k {
		if !it.Next() {
			d.Note = fmt.Sprintf("ticks up to keyframe %d are missing: entity and field cannot be named", k)
			return nil
		}
		sim.Step(w, it.Tick().Commands)
	}
	snap, err := r.Keyframe(k)
	if err != nil {
		return fmt.Errorf("replay: keyframe %d: %w", k, err)
	}
	recorded, err := ecs.Decode(snap)
	if err != nil {
		return fmt.Errorf("replay: keyframe %d: %w", k, err)
	}
	diffs := DiffStates(recorded, w.State())
	if maxDiffs <= 0 {
		maxDiffs = 20
	}
	if len(diffs) > maxDiffs {
		d.MoreDiffs = len(diffs) - maxDiffs
		diffs = diffs[:maxDiffs]
	}
	d.KeyframeTick, d.Diffs = k, diffs
	if len(diffs) == 0 {
		d.Note = fmt.Sprintf("the worlds agree again at keyframe %d", k)
	}
	return nil
}
