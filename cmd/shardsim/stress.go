package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/stress"
)

// stressWorkerArg is the hidden argument with which "shardsim stress" re-executes
// itself to run the bots in a child process (stress.RunWorker on stdin and stdout).
const stressWorkerArg = "__bots-worker"

func init() {
	register("stress", "ramp bots onto a shard in steps, measure its cost and write a report", runStress)
}

func runStress(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && args[0] == stressWorkerArg {
		if err := stress.RunWorker(context.Background(), os.Stdin, stdout); err != nil {
			fmt.Fprintf(stderr, "shardsim stress worker: %v\n", err)
			return 1
		}
		return 0
	}
	fs := newFlags("stress", "--out DIR [--clients N | --steps N,N,...] [--ramp D] [--hold D] [--server ADDR] [flags]", stderr)
	out := fs.String("out", "", "directory for report.json, report.md and the plots (required)")
	clients := fs.Int("clients", 2000, "clients at the last step (steps: the defaults below it, then this)")
	stepsFlag := fs.String("steps", "", "comma-separated client counts to hold, increasing (default 1,10,100,250,500,1000,1500,2000 cut at --clients)")
	entities := fs.Int("entities", 2000, "scripted NPC players of the in-process shard")
	rate := fs.Uint("rate", 20, "tick rate of the in-process shard, Hz (the targets are for 20)")
	snapRate := fs.Uint("snapshot-rate", 0, "snapshot rate, Hz (0: the tick rate)")
	baseline := fs.Duration("baseline", 3*time.Second, "time measured with no client before the ramp")
	ramp := fs.Duration("ramp", 60*time.Second, "total time spent connecting clients, split between the steps by the clients each adds")
	hold := fs.Duration("hold", 60*time.Second, "total time spent holding the steps, split evenly (soak: --steps 2000 --hold 30m)")
	server := fs.String("server", "", "target a running shard at this UDP address instead of starting one (server-side figures are then not measured)")
	serverPID := fs.Int("server-pid", 0, "with --server: the shard's process id on this machine, to measure its CPU and memory from /proc")
	seed := fs.Uint64("seed", 7, "seed of the world and of the bots' wandering")
	dialTimeout := fs.Duration("dial-timeout", 10*time.Second, "how long a bot waits for its welcome")
	decodeEvery := fs.Int("decode-every", 1, "1 in N bots decodes its snapshots and checks their state hashes; the others ack from the headers alone (1: all decode)")
	protocol := fs.Int("protocol", game.ProtocolVersion, "snapshots the bots ask for: 4, per-client deltas, or 5, cell streams")
	inProcess := fs.Bool("in-process-bots", false, "run the bots in this process (CPU and memory then include them)")
	priceCore := fs.Float64("price-core-hour", stress.DefaultPriceCoreHour, "example price of a core-hour for the cost estimate")
	priceEgress := fs.Float64("price-gb-egress", stress.DefaultPriceGBEgress, "example price of a GB of egress for the cost estimate")
	loadKey := keyFlag(fs)
	if code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "shardsim stress: "+format+"\n", a...)
		fs.Usage()
		return 2
	}
	if *out == "" {
		return bad("--out is required")
	}
	var steps []int
	if *stepsFlag != "" {
		for _, f := range strings.Split(*stepsFlag, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 || (len(steps) > 0 && n <= steps[len(steps)-1]) {
				return bad("--steps must be positive, increasing client counts: %q", *stepsFlag)
			}
			steps = append(steps, n)
		}
	} else if *clients <= 0 {
		return bad("--clients must be in [1, 4095]")
	}
	if *clients > 4095 || (len(steps) > 0 && steps[len(steps)-1] > 4095) {
		return bad("--clients must be in [1, 4095]")
	}
	if *rate == 0 || *rate > 1000 || *snapRate > 1000 {
		return bad("--rate must be in [1, 1000] and --snapshot-rate in [0, 1000]")
	}
	if *entities < 0 || *entities > ecs.MaxEntities {
		return bad("--entities must be in [0, %d]", ecs.MaxEntities)
	}
	nSteps := len(steps)
	if nSteps == 0 {
		nSteps = len(stress.StepsFor(*clients))
	}
	if *ramp < 0 || *baseline < 0 || *hold < time.Duration(nSteps)*time.Second || *dialTimeout <= 0 {
		return bad("--ramp and --baseline must be ≥ 0, --hold at least 1s per step (%d steps), --dial-timeout positive", nSteps)
	}
	if *decodeEvery < 1 {
		return bad("--decode-every must be at least 1")
	}
	if *protocol != game.ProtocolVersion && *protocol != game.CellProtocolVersion {
		return bad("--protocol must be %d or %d", game.ProtocolVersion, game.CellProtocolVersion)
	}
	if *priceCore < 0 || *priceEgress < 0 {
		return bad("prices must be ≥ 0")
	}
	if *server != "" {
		if _, _, err := net.SplitHostPort(*server); err != nil {
			return bad("--server: %v", err)
		}
	} else if *serverPID != 0 {
		return bad("--server-pid needs --server")
	}
	cfg := stress.Config{
		Server: *server, ServerPID: *serverPID, Steps: steps, Clients: *clients, Entities: *entities,
		Rate: uint16(*rate), SnapshotRate: uint16(*snapRate), Seed: *seed,
		Baseline: *baseline, Ramp: *ramp, Hold: *hold, DialTimeout: *dialTimeout, DecodeEvery: *decodeEvery, Cells: *protocol == game.CellProtocolVersion,
		PriceCoreHour: *priceCore, PriceGBEgress: *priceEgress,
	}
	if cfg.Baseline == 0 {
		cfg.Baseline = -1 // no baseline phase
	}
	if *server != "" {
		key, _, err := loadKey()
		if err != nil {
			fmt.Fprintf(stderr, "shardsim stress: %v\n", err)
			return 1
		}
		cfg.Key = key
	}
	if !*inProcess {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "shardsim stress: cannot re-execute for the bot worker (%v); use --in-process-bots\n", err)
			return 1
		}
		cfg.Worker = func(ctx context.Context) *exec.Cmd {
			return exec.CommandContext(ctx, exe, "stress", stressWorkerArg)
		}
	}
	term := isTerminal(stderr)
	cfg.Progress = func(s stress.Sample) {
		line := fmt.Sprintf("stress: %3.0fs %-8s %4d/%-4d clients (%d failed) | tick p50 %.2f p99 %.2f max %.2f ms, %d overruns | cpu %.2f (bots %.2f, others %.2f) | rss %.0f MiB heap %.0f MiB, %d goroutines | %.1f/%.1f kbit/s per client, %.3f delivered, rtt %.0f ms",
			s.T, phaseName(s), s.Clients, s.Target, s.Failed, s.TickP50, s.TickP99, s.TickMax, s.Overruns, s.ServerCPU, s.BotsCPU, s.OtherCPU,
			float64(s.RSS)/(1<<20), float64(s.Heap)/(1<<20), s.Goroutines, s.DownKbit, s.UpKbit, s.Delivery, s.RTTP50)
		if term {
			fmt.Fprintf(stderr, "\r%s\033[K", line)
		} else {
			fmt.Fprintln(stderr, line)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := stress.Run(ctx, cfg)
	if term {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "shardsim stress: %v\n", err)
		return 1
	}
	if err := rep.Write(*out); err != nil {
		fmt.Fprintf(stderr, "shardsim stress: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "stress: %d samples over %.0f s, steps %v\n", len(rep.Samples), rep.Duration, rep.Config.Steps)
	for _, s := range rep.Steps {
		fmt.Fprintf(stdout, "  %5.0f clients: cpu %.3f cores (bots %.3f), tick p99 %.2f ms, rss %.1f MiB, down %.1f kbit/s per client, delivery %.4f, %d failed\n",
			s.Clients, s.ServerCPU, s.BotsCPU, s.TickP99, s.RSS/(1<<20), s.DownKbit, s.Delivery, s.Failed)
	}
	for _, c := range rep.Verdict {
		res := "FAIL"
		switch {
		case !c.Known:
			res = "not measured"
		case c.Pass:
			res = "pass"
		}
		fmt.Fprintf(stdout, "verdict: %s %.3g %s (target %s): %s — %s\n", c.Name, c.Value, c.Unit, c.Target, res, c.Basis)
	}
	for _, row := range rep.Projection.Rows {
		fmt.Fprintf(stdout, "projected: %d players at %d Hz: %.2f cores, %.0f MiB, %.1f Mbit/s egress, $%.2f/month\n",
			row.Clients, row.RateHz, row.Cores, row.MemoryBytes/(1<<20), row.EgressMbit, row.TotalMonth)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(*out, "report.md"))
	return 0
}

func phaseName(s stress.Sample) string {
	if s.Step < 0 {
		return s.Phase
	}
	return fmt.Sprintf("%s %d", s.Phase, s.Step+1)
}
