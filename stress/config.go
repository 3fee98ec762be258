package stress

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/game"
)

// ErrConfig is returned (wrapped) by [Run] and [RunWorker] for an invalid configuration.
var ErrConfig = errors.New("stress: invalid config")

// Default prices of [Config], examples only: roughly an on-demand cloud vCPU-hour and
// a cloud egress GB in 2025. Pass your provider's.
const (
	DefaultPriceCoreHour = 0.04
	DefaultPriceGBEgress = 0.08
)

// Targets are the budgets a run is judged against (DESIGN.md promise 1): for 2000
// clients at 20 Hz, the server within half a core with a p99 tick ≤ 10 ms, ≤ 50 KiB of
// memory and ≤ 64 kbit/s downstream per client.
const (
	TargetClients           = 2000
	TargetCores             = 0.5
	TargetTickP99           = 10 * time.Millisecond
	TargetBytesPerClient    = 50 << 10
	TargetDownKbitPerClient = 64
)

// DefaultSteps are the client counts a run holds when [Config.Steps] is empty, cut at
// (and ending with) the number of clients.
var DefaultSteps = []int{1, 10, 100, 250, 500, 1000, 1500, 2000}

// StepsFor returns DefaultSteps below clients, then clients.
func StepsFor(clients int) []int {
	var s []int
	for _, n := range DefaultSteps {
		if n < clients {
			s = append(s, n)
		}
	}
	return append(s, clients)
}

// Config describes a stress run.
type Config struct {
	// Server is the address of a shard to target; empty starts one in this process
	// (then every server-side figure is measured: tick times, CPU, memory, packets).
	Server string
	// ServerPID, with Server, is the target's process id on this machine, to read its
	// CPU and memory from /proc (0: not measured).
	ServerPID int
	// Key signs the bots' tokens: the target's key with Server; with an in-process
	// server, empty makes a random one.
	Key []byte
	// Steps are the client counts to hold, strictly increasing, all > 0. Empty:
	// StepsFor(Clients).
	Steps []int
	// Clients is the final count when Steps is empty.
	Clients int
	// Entities is the number of scripted NPCs of the in-process server.
	Entities int
	// Rate is the in-process server's tick rate, Hz (default ecs.DefaultRate);
	// SnapshotRate its snapshot rate (default Rate).
	Rate, SnapshotRate uint16
	// Seed seeds the world and the bots' wandering.
	Seed uint64
	// Baseline is how long the run measures with no client before the ramp (default
	// 3 s, negative: none; it is neither ramp nor hold). Ramp is the total time spent connecting
	// clients, split between steps by the clients each adds (clients connect at a
	// steady Clients/Ramp per second). Hold is the total time spent holding the steps,
	// split evenly between them; only hold samples enter the step summaries.
	Baseline, Ramp, Hold time.Duration
	// DialTimeout bounds each bot's connect (default client.DefaultDialTimeout).
	DialTimeout time.Duration
	// DecodeEvery: bot i decodes its snapshots and checks their hashes when i is a
	// multiple of DecodeEvery; the others follow them from the headers alone
	// (client.Options.HeaderOnly), acking as a decoding client would, at a fraction of
	// the CPU. 0 and 1: every bot decodes.
	DecodeEvery int
	// Cells makes the bots ask for cell streams (protocol version 5,
	// client.Options.Cells) instead of per-client deltas (version 4, what the Godot
	// client speaks by default).
	Cells bool
	// Worker, when set, makes the command that runs [RunWorker] in a child process
	// (the CLI re-executes itself); the child's stdin and stdout are wired by Run. With
	// Worker nil the bots run in this process and the CPU and memory figures include
	// them (the report says so).
	Worker func(ctx context.Context) *exec.Cmd
	// PriceCoreHour and PriceGBEgress price the projection (defaults above).
	PriceCoreHour, PriceGBEgress float64
	// ProjectClients and ProjectRates are what the cost estimate projects to
	// (defaults TargetClients and 20, 30, 60 Hz).
	ProjectClients int
	ProjectRates   []int
	// Progress, when set, sees every sample as it is taken (once per second).
	Progress func(Sample)
}

func (c *Config) setDefaults() error {
	if len(c.Steps) == 0 {
		if c.Clients <= 0 {
			return fmt.Errorf("%w: clients %d", ErrConfig, c.Clients)
		}
		c.Steps = StepsFor(c.Clients)
	}
	for i, n := range c.Steps {
		if n <= 0 || (i > 0 && n <= c.Steps[i-1]) {
			return fmt.Errorf("%w: steps must be positive and strictly increasing: %v", ErrConfig, c.Steps)
		}
	}
	c.Steps = slices.Clone(c.Steps)
	c.Clients = c.Steps[len(c.Steps)-1]
	if c.Clients > 4095 {
		return fmt.Errorf("%w: at most 4095 clients (ENet's peer limit)", ErrConfig)
	}
	if c.Rate == 0 {
		c.Rate = ecs.DefaultRate
	}
	if c.SnapshotRate == 0 || c.SnapshotRate > c.Rate {
		c.SnapshotRate = c.Rate
	}
	switch {
	case c.Baseline == 0:
		c.Baseline = 3 * time.Second
	case c.Baseline < 0:
		c.Baseline = 0
	}
	switch {
	case c.Entities < 0 || c.Entities > ecs.MaxEntities:
		return fmt.Errorf("%w: entities %d", ErrConfig, c.Entities)
	case c.Ramp < 0:
		return fmt.Errorf("%w: ramp %s", ErrConfig, c.Ramp)
	case c.Hold < time.Duration(len(c.Steps))*time.Second:
		return fmt.Errorf("%w: hold %s is under one second per step (%d steps)", ErrConfig, c.Hold, len(c.Steps))
	case c.Server != "" && len(c.Key) < game.MinKeySize:
		return fmt.Errorf("%w: a --server run needs the server's key", ErrConfig)
	case c.PriceCoreHour < 0 || c.PriceGBEgress < 0:
		return fmt.Errorf("%w: negative price", ErrConfig)
	case c.DecodeEvery < 0:
		return fmt.Errorf("%w: decode every %d bots", ErrConfig, c.DecodeEvery)
	}
	if c.PriceCoreHour == 0 {
		c.PriceCoreHour = DefaultPriceCoreHour
	}
	if c.PriceGBEgress == 0 {
		c.PriceGBEgress = DefaultPriceGBEgress
	}
	if c.ProjectClients <= 0 {
		c.ProjectClients = TargetClients
	}
	if len(c.ProjectRates) == 0 {
		c.ProjectRates = []int{20, 30, 60}
	}
	return nil
}

// phase is one stretch of the schedule.
type phase struct {
	Kind     string // "baseline", "ramp" or "hold"
	Step     int    // index into Steps (-1 for the baseline)
	From, To int    // clients at the start and end (equal but for a ramp)
	Start    time.Duration
	Len      time.Duration
}

// schedule lays out the run: baseline, then per step a ramp from the previous count
// (Ramp·added/Clients long) and a hold of Hold/len(Steps).
func schedule(c *Config) []phase {
	var ps []phase
	at := time.Duration(0)
	add := func(p phase) {
		p.Start = at
		at += p.Len
		ps = append(ps, p)
	}
	if c.Baseline > 0 {
		add(phase{Kind: "baseline", Step: -1, Len: c.Baseline})
	}
	prev := 0
	hold := c.Hold / time.Duration(len(c.Steps))
	for i, n := range c.Steps {
		if r := time.Duration(int64(c.Ramp) * int64(n-prev) / int64(c.Clients)); r > 0 {
			add(phase{Kind: "ramp", Step: i, From: prev, To: n, Len: r})
		}
		add(phase{Kind: "hold", Step: i, From: n, To: n, Len: hold})
		prev = n
	}
	return ps
}

// at returns the phase running at t (the last one past the end) and its client target.
func at(ps []phase, t time.Duration) (phase, int) {
	for _, p := range ps {
		if t < p.Start+p.Len {
			if p.Kind != "ramp" {
				return p, p.To
			}
			// Clients connect evenly: the k-th of the ramp's added ones at k/added of it.
			added := p.To - p.From
			k := int((int64(t-p.Start)*int64(added))/int64(p.Len)) + 1
			return p, p.From + min(k, added)
		}
	}
	last := ps[len(ps)-1]
	return last, last.To
}
