package shard

import (
	"context"
	"fmt"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/systems"
)

// Script supplies the external commands of a tick (what network players or a scenario
// would send). It appends to buf and returns it; it must be deterministic in its inputs.
type Script func(tick uint64, w *ecs.World, buf []ecs.Command) []ecs.Command

// HeadlessConfig describes a headless run.
type HeadlessConfig struct {
	World    ecs.Config
	Systems  systems.Config
	Entities int    // scripted bots spawned before the first tick
	Ticks    uint64 // steps to run
	Realtime bool   // step at World.Rate instead of as fast as possible
	Script   Script // optional external commands

	// OnStart, when set, sees the world once populated, before the first step (for
	// example to write a replay header and the initial snapshot).
	OnStart func(w *ecs.World) error
	// OnTick, when set, sees every step: the commands applied, and the world and its hash
	// after the step. An error stops the run.
	OnTick func(w *ecs.World, cmds []ecs.Command, hash uint64) error
	// Progress, when set, is called about every ProgressEvery (default 1 s) of wall
	// time, and once at the end.
	Progress      func(Progress)
	ProgressEvery time.Duration
}

// Progress is a periodic report of a running simulation.
type Progress struct {
	Tick, Ticks uint64
	Hash        uint64
	Elapsed     time.Duration
}

// Summary is the outcome of a headless run.
type Summary struct {
	Ticks           uint64  `json:"ticks"`
	Entities        int     `json:"entities"`
	Seed            uint64  `json:"seed"`
	Rate            uint16  `json:"rate"`
	Hash            string  `json:"hash"` // final state hash, 16 hex digits
	Phase           string  `json:"phase"`
	Rejected        uint32  `json:"rejected_transitions"`
	ElapsedSec      float64 `json:"elapsed_sec"`
	TicksPerSec     float64 `json:"ticks_per_sec"`
	NsPerEntityTick float64 `json:"ns_per_entity_tick"`
}

// NewWorld builds the initial world of cfg: an empty world populated with cfg.Entities
// scripted bots.
func NewWorld(cfg *HeadlessConfig) (*ecs.World, *systems.Sim, error) {
	if err := cfg.World.Validate(); err != nil {
		return nil, nil, err
	}
	if err := cfg.Systems.Validate(); err != nil {
		return nil, nil, err
	}
	if cfg.Entities < 0 || cfg.Entities > ecs.MaxEntities {
		return nil, nil, fmt.Errorf("shard: %d entities out of range [0, %d]", cfg.Entities, ecs.MaxEntities)
	}
	w := ecs.New(cfg.World)
	sim := systems.New(cfg.Systems)
	sim.Populate(w, cfg.Entities)
	return w, sim, nil
}

// RunHeadless builds the world of cfg and steps it cfg.Ticks times. The wall clock
// only decides when to step (Realtime) and when to report; it never enters the step.
func RunHeadless(ctx context.Context, cfg HeadlessConfig) (Summary, error) {
	w, sim, err := NewWorld(&cfg)
	if err != nil {
		return Summary{}, err
	}
	if cfg.OnStart != nil {
		if err := cfg.OnStart(w); err != nil {
			return Summary{}, err
		}
	}
	every := cfg.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	var ticker *time.Ticker
	if cfg.Realtime {
		ticker = time.NewTicker(time.Second / time.Duration(w.G.Rate))
		defer ticker.Stop()
	}
	var cmds []ecs.Command
	var hash uint64 = ecs.Hash(w)
	var stepTime time.Duration
	start := time.Now()
	next := start.Add(every)
	for i := uint64(0); i < cfg.Ticks; i++ {
		if ticker != nil {
			select {
			case <-ctx.Done():
				return Summary{}, ctx.Err()
			case <-ticker.C:
			}
		} else if i&63 == 0 && ctx.Err() != nil {
			return Summary{}, ctx.Err()
		}
		cmds = cmds[:0]
		if cfg.Script != nil {
			cmds = cfg.Script(w.G.Tick, w, cmds)
		}
		t0 := time.Now()
		sim.Step(w, cmds)
		hash = ecs.Hash(w)
		stepTime += time.Since(t0)
		if cfg.OnTick != nil {
			if err := cfg.OnTick(w, cmds, hash); err != nil {
				return Summary{}, fmt.Errorf("shard: tick %d: %w", w.G.Tick, err)
			}
		}
		if cfg.Progress != nil && i&15 == 0 {
			if now := time.Now(); now.After(next) {
				next = now.Add(every)
				cfg.Progress(Progress{Tick: i + 1, Ticks: cfg.Ticks, Hash: hash, Elapsed: now.Sub(start)})
			}
		}
	}
	elapsed := time.Since(start)
	if cfg.Progress != nil {
		cfg.Progress(Progress{Tick: cfg.Ticks, Ticks: cfg.Ticks, Hash: hash, Elapsed: elapsed})
	}
	s := Summary{
		Ticks: cfg.Ticks, Entities: w.Len(), Seed: cfg.World.Seed, Rate: w.G.Rate,
		Hash: fmt.Sprintf("%016x", hash), Phase: w.G.Phase.String(), Rejected: w.G.Rejected,
		ElapsedSec: elapsed.Seconds(),
	}
	if stepTime > 0 && cfg.Ticks > 0 {
		s.TicksPerSec = float64(cfg.Ticks) / stepTime.Seconds()
		if s.Entities > 0 {
			s.NsPerEntityTick = float64(stepTime.Nanoseconds()) / float64(cfg.Ticks) / float64(s.Entities)
		}
	}
	return s, nil
}
