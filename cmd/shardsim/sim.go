package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/replay"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/systems"
)

func init() {
	register("sim", "run a headless simulation with scripted bots", runSim)
}

func runSim(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("sim", "[flags]", stderr)
	entities := fs.Int("entities", 2000, "number of scripted bot players")
	ticks := fs.Uint64("ticks", 600, "number of ticks to simulate")
	seed := fs.Uint64("seed", 7, "world seed")
	rate := fs.Uint("rate", ecs.DefaultRate, "tick rate, ticks per second")
	arena := fs.Uint("arena", 256, "arena side length, metres")
	realtime := fs.Bool("realtime", false, "step at the tick rate instead of as fast as possible")
	asJSON := fs.Bool("json", false, "print the summary as one JSON object on the last stdout line")
	record := fs.String("record", "", "record the run as a replay to this file (written as it runs)")
	keyEvery := fs.Uint("keyframe-every", replay.DefaultKeyframeEvery, "with --record: ticks between keyframes")
	if code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	if *rate == 0 || *rate > 1000 || *arena == 0 || *arena > ecs.MaxArena/ecs.MicrometresPerMetre {
		fmt.Fprintf(stderr, "shardsim sim: --rate must be in [1, 1000] and --arena in [1, %d]\n", ecs.MaxArena/ecs.MicrometresPerMetre)
		return 2
	}
	if *entities < 0 || *entities > ecs.MaxEntities {
		fmt.Fprintf(stderr, "shardsim sim: --entities must be in [0, %d]\n", ecs.MaxEntities)
		return 2
	}
	side := int32(*arena) * ecs.MicrometresPerMetre
	cfg := shard.HeadlessConfig{
		World:    ecs.Config{Seed: *seed, Rate: uint16(*rate), ArenaW: side, ArenaH: side},
		Systems:  systems.DefaultConfig(),
		Entities: *entities,
		Ticks:    *ticks,
		Realtime: *realtime,
		Progress: progressPrinter(stderr, "sim"),
	}
	if *keyEvery == 0 || *keyEvery > 1<<31 {
		fmt.Fprintln(stderr, "shardsim sim: --keyframe-every must be positive")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var sum shard.Summary
	run := func() (err error) { sum, err = shard.RunHeadless(ctx, cfg); return err }
	if *record != "" {
		// The replay is streamed to the file as the run goes: a crash or ^C leaves a
		// file whose complete blocks verify ("truncated after tick N").
		f, err := os.Create(*record)
		if err != nil {
			fmt.Fprintf(stderr, "shardsim sim: %v\n", err)
			return 1
		}
		defer f.Close()
		finish := shard.Record(&cfg, f, replay.RecorderOptions{Name: "sim", KeyframeEvery: uint32(*keyEvery), Writer: replay.WriterOptions{Sync: true}})
		inner := run
		run = func() error {
			if err := inner(); err != nil {
				return err
			}
			if err := finish(); err != nil {
				return err
			}
			return f.Close()
		}
	}
	if err := run(); err != nil {
		fmt.Fprintf(stderr, "shardsim sim: %v\n", err)
		return 1
	}
	printSummary(stdout, sum, *asJSON)
	return 0
}

// progressPrinter returns a shard.Progress callback that redraws one line on a terminal
// and prints a line per report otherwise.
func progressPrinter(w io.Writer, what string) func(shard.Progress) {
	term := isTerminal(w)
	return func(p shard.Progress) {
		pct := 100.0
		if p.Ticks > 0 {
			pct = 100 * float64(p.Tick) / float64(p.Ticks)
		}
		line := fmt.Sprintf("%s: tick %d/%d (%5.1f%%) hash %016x %s", what, p.Tick, p.Ticks, pct, p.Hash, p.Elapsed.Round(time.Millisecond))
		if term {
			end := ""
			if p.Tick == p.Ticks {
				end = "\n"
			}
			fmt.Fprintf(w, "\r%s\033[K%s", line, end)
			return
		}
		fmt.Fprintln(w, line)
	}
}

func printSummary(w io.Writer, s shard.Summary, asJSON bool) {
	fmt.Fprintf(w, "simulated %d ticks of %d entities (seed %d, %d Hz) in %.2fs: %.0f ticks/s, %.1f ns/entity/tick\n",
		s.Ticks, s.Entities, s.Seed, s.Rate, s.ElapsedSec, s.TicksPerSec, s.NsPerEntityTick)
	fmt.Fprintf(w, "final hash %s, phase %s, %d rejected transitions\n", s.Hash, s.Phase, s.Rejected)
	if asJSON {
		b, _ := json.Marshal(s)
		fmt.Fprintln(w, string(b))
	}
}
