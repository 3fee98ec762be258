package stress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/shard"
)

// ReportVersion is the version of the report.json layout.
const ReportVersion = 1

// HostInfo describes the machine a run measured.
type HostInfo struct {
	Hostname   string `json:"hostname"`
	CPU        string `json:"cpu,omitempty"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	GoVersion  string `json:"go_version"`
}

// RunConfig is the configuration a report was made with.
type RunConfig struct {
	Server       string   `json:"server"` // "in-process" or the target's address
	ServerAddr   string   `json:"server_addr"`
	Steps        []int    `json:"steps"`
	Entities     int      `json:"entities"`
	Rate         uint16   `json:"rate_hz"`
	SnapshotRate uint16   `json:"snapshot_rate_hz"`
	Seed         uint64   `json:"seed"`
	DecodeEvery  int      `json:"decode_every,omitempty"` // Config.DecodeEvery (0, 1: every bot decoded)
	Protocol     int      `json:"protocol,omitempty"`     // the bots' protocol version: 4, or 5 with Config.Cells (0: 4, reports before it)
	Baseline     float64  `json:"baseline_s"`
	Ramp         float64  `json:"ramp_s"`
	Hold         float64  `json:"hold_s"`
	HoldPerStep  float64  `json:"hold_per_step_s"`
	Host         HostInfo `json:"host"`
}

// StepSummary sums up the hold of one step (the baseline is step -1 with 0 clients).
// Tick percentiles are over every tick of the hold; the other figures are means of
// the hold's per-second samples unless named max/p99. The first second of a hold is
// left out (settling) when the hold has three samples or more.
type StepSummary struct {
	Step      int     `json:"step"`
	Target    int     `json:"target"`
	Clients   float64 `json:"clients"`   // mean server-side sessions
	Connected float64 `json:"connected"` // mean bots connected
	Samples   int     `json:"samples"`
	Failed    int     `json:"failed"` // failed connects so far, at the end of the hold
	Ended     int     `json:"ended"`
	Ticks     int     `json:"ticks"`
	// TickRate is the ticks stepped per second; KeptRate whether it reached 95 % of the
	// configured rate with at most 5 % of the ticks overrunning. A step that did not keep
	// its rate was saturated: its CPU is what the server got, not what it needed.
	TickRate  float64 `json:"ticks_per_s"`
	KeptRate  bool    `json:"kept_rate"`
	TickP50   float64 `json:"tick_p50_ms"`
	TickP99   float64 `json:"tick_p99_ms"`
	TickMax   float64 `json:"tick_max_ms"`
	Overruns  uint64  `json:"overruns"`
	Dropped   uint64  `json:"dropped"`
	ServerCPU float64 `json:"server_cpu_cores"`
	// ServerCPUMax is the busiest second.
	ServerCPUMax float64 `json:"server_cpu_cores_max"`
	BotsCPU      float64 `json:"bots_cpu_cores"`
	OtherCPU     float64 `json:"other_cpu_cores"` // other processes on the machine
	RSS          float64 `json:"rss_bytes"`
	Heap         float64 `json:"heap_bytes"`
	Goroutines   float64 `json:"goroutines"`
	BotsRSS      float64 `json:"bots_rss_bytes"`
	PacketsIn    float64 `json:"packets_in_per_s"`
	PacketsOut   float64 `json:"packets_out_per_s"`
	BytesIn      float64 `json:"bytes_in_per_s"`
	BytesOut     float64 `json:"bytes_out_per_s"`
	DownKbit     float64 `json:"down_kbit_per_client"`
	UpKbit       float64 `json:"up_kbit_per_client"`
	Snapshots    float64 `json:"snapshots_per_s_per_client"`
	Delivery     float64 `json:"delivery"`
	RTTP50       float64 `json:"rtt_p50_ms"`
	RTTP99       float64 `json:"rtt_p99_ms"` // the worst second's p99
}

// PerClient holds the measured marginal cost of a client: straight-line fits of each
// resource against the clients over the step summaries (baseline included), with the
// fit's intercept as the cost of the shard with no client.
type PerClient struct {
	CPU           Fit     `json:"cpu_cores"`          // cores vs clients
	RSS           Fit     `json:"rss_bytes"`          // bytes vs clients
	Heap          Fit     `json:"heap_bytes"`         // bytes vs clients
	EgressPerSec  float64 `json:"egress_bytes_per_s"` // server bytes out per client per second (see TrafficClients)
	IngressPerSec float64 `json:"ingress_bytes_per_s"`
	// MemoryAtTop is (RSS at the top step − RSS of the baseline) ÷ clients at the top.
	MemoryAtTop float64 `json:"memory_bytes_per_client_at_top"`
	TopClients  float64 `json:"top_clients"`
	// CPUFitMaxClients is the largest step that kept its tick rate: the CPU fit uses
	// only such steps (a saturated server's CPU is a floor, not its need).
	CPUFitMaxClients float64 `json:"cpu_fit_max_clients"`
	// TrafficClients is the step EgressPerSec and IngressPerSec come from: the largest
	// that kept its rate.
	TrafficClients float64 `json:"traffic_clients"`
}

// ProjectionRow is the projected cost of Clients players at RateHz (tick and snapshot
// rate), from the measured [PerClient] figures.
type ProjectionRow struct {
	RateHz        int     `json:"rate_hz"`
	Clients       int     `json:"clients"`
	Cores         float64 `json:"cores"`
	MemoryBytes   float64 `json:"memory_bytes"`
	EgressMbit    float64 `json:"egress_mbit_per_s"`
	EgressGBMonth float64 `json:"egress_gb_per_month"`
	CPUMonth      float64 `json:"cpu_cost_per_month"`
	EgressMonth   float64 `json:"egress_cost_per_month"`
	TotalMonth    float64 `json:"total_cost_per_month"`
}

// Projection is the cost estimate: projected, not measured (see [Project]).
type Projection struct {
	MeasuredRateHz int             `json:"measured_rate_hz"`
	MeasuredSnapHz int             `json:"measured_snapshot_rate_hz"`
	PriceCoreHour  float64         `json:"price_core_hour"`
	PriceGBEgress  float64         `json:"price_gb_egress"`
	HoursPerMonth  float64         `json:"hours_per_month"`
	Extrapolated   bool            `json:"extrapolated"` // projected past the largest step measured
	Rows           []ProjectionRow `json:"rows"`
	Assumptions    []string        `json:"assumptions"`
}

// Soak is the trend of the last step's hold: memory growth and goroutine count.
type Soak struct {
	Seconds         float64 `json:"seconds"`
	Samples         int     `json:"samples"`
	RSSSlope        float64 `json:"rss_bytes_per_min"`
	RSSR2           float64 `json:"rss_r2"`
	HeapSlope       float64 `json:"heap_bytes_per_min"`
	HeapR2          float64 `json:"heap_r2"`
	GoroutineSlope  float64 `json:"goroutines_per_min"`
	GoroutinesFirst int     `json:"goroutines_first"`
	GoroutinesLast  int     `json:"goroutines_last"`
	GoroutinesMax   int     `json:"goroutines_max"`
	BotsRSSSlope    float64 `json:"bots_rss_bytes_per_min"`
}

// Check is one target of the verdict.
type Check struct {
	Name   string  `json:"name"`
	Target string  `json:"target"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Pass   bool    `json:"pass"`
	Known  bool    `json:"known"` // false: not measured in this run (Pass is then false)
	Basis  string  `json:"basis"` // measured at which step, or projected
}

// Report is the result of a run; [Report.Write] stores it.
type Report struct {
	Version        int             `json:"version"`
	Started        time.Time       `json:"started"`
	Duration       float64         `json:"duration_s"`
	Config         RunConfig       `json:"config"`
	ServerMeasured bool            `json:"server_measured"` // tick, traffic and Go figures of the server
	CPUMeasured    bool            `json:"cpu_measured"`    // server CPU and RSS from /proc
	BotsSeparate   bool            `json:"bots_separate"`   // bots in a child process: server CPU is the server's alone
	Samples        []Sample        `json:"samples"`
	Baseline       *StepSummary    `json:"baseline,omitempty"`
	Steps          []StepSummary   `json:"steps"`
	PerClient      PerClient       `json:"per_client"`
	Projection     Projection      `json:"projection"`
	Soak           Soak            `json:"soak"`
	Verdict        []Check         `json:"verdict"`
	Failures       map[string]int  `json:"failures,omitempty"`
	Final          shard.LiveStats `json:"final_server_stats"`
	Notes          []string        `json:"notes,omitempty"`
}

func newReport(cfg *Config) *Report {
	srv := "in-process"
	if cfg.Server != "" {
		srv = cfg.Server
	}
	return &Report{
		Version: ReportVersion,
		Started: time.Now().UTC().Truncate(time.Second),
		Config: RunConfig{
			Server: srv, Steps: cfg.Steps, Entities: cfg.Entities, Rate: cfg.Rate, SnapshotRate: cfg.SnapshotRate,
			Seed: cfg.Seed, Baseline: cfg.Baseline.Seconds(), Ramp: cfg.Ramp.Seconds(), Hold: cfg.Hold.Seconds(),
			HoldPerStep: (cfg.Hold / time.Duration(len(cfg.Steps))).Seconds(), Host: host(), DecodeEvery: cfg.DecodeEvery,
			Protocol: protocolOf(cfg),
		},
	}
}

// finish computes the summaries, fits, projection, soak trend and verdict from the
// samples.
func (r *Report) finish(cfg *Config) {
	r.Steps = nil
	r.Baseline = nil
	if s, ok := summarize(r.Samples, -1, "baseline", 0, float64(cfg.Rate)); ok {
		r.Baseline = &s
	}
	for i, n := range cfg.Steps {
		if s, ok := summarize(r.Samples, i, "hold", n, float64(cfg.Rate)); ok {
			r.Steps = append(r.Steps, s)
		}
	}
	r.PerClient = perClient(r.Baseline, r.Steps)
	r.Projection = Project(r.PerClient, int(cfg.Rate), int(cfg.SnapshotRate), cfg.ProjectClients, cfg.ProjectRates, cfg.PriceCoreHour, cfg.PriceGBEgress)
	r.Soak = soak(r.Samples, len(cfg.Steps)-1)
	r.Verdict = r.verdict(cfg)
	if !r.BotsSeparate && r.CPUMeasured {
		r.Notes = append(r.Notes, "the bots ran in the server's process: server CPU and RSS include them (upper bounds)")
	}
	var other []float64
	for _, s := range r.Samples {
		other = append(other, s.OtherCPU)
	}
	if o := mean(other); o >= 0.1 {
		r.Notes = append(r.Notes, fmt.Sprintf("other processes kept %.2f cores busy on average during the run (max %.2f): the machine was not quiet, so tick times and overruns are pessimistic", o, maxOf(other)))
	}
	if r.CPUMeasured && r.Config.Host.NumCPU <= 2 {
		r.Notes = append(r.Notes, fmt.Sprintf("the machine has %d CPUs shared by the server and the bots: the bots' load competes with the server and inflates tick times", r.Config.Host.NumCPU))
	}
}

// holdSamples returns the samples of step's phase, without the settling second.
func holdSamples(all []Sample, step int, kind string) []Sample {
	var ss []Sample
	for _, s := range all {
		if s.Step == step && s.Phase == kind {
			ss = append(ss, s)
		}
	}
	if len(ss) >= 3 {
		ss = ss[1:]
	}
	return ss
}

func summarize(all []Sample, step int, kind string, target int, rate float64) (StepSummary, bool) {
	ss := holdSamples(all, step, kind)
	if len(ss) == 0 {
		return StepSummary{}, false
	}
	sum := StepSummary{Step: step, Target: target, Samples: len(ss)}
	col := func(f func(Sample) float64) []float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		return v
	}
	m := func(f func(Sample) float64) float64 { return mean(col(f)) }
	var ticks []float64
	for _, s := range ss {
		ticks = append(ticks, s.ticks...)
		sum.Overruns += s.Overruns
		sum.Dropped += s.Dropped
	}
	slices.Sort(ticks)
	sum.Ticks = len(ticks)
	sum.TickP50, sum.TickP99, sum.TickMax = percentileSorted(ticks, 0.5), percentileSorted(ticks, 0.99), maxOf(ticks)
	if len(ticks) == 0 { // report loaded from JSON: fall back on the per-second figures
		sum.TickP50 = m(func(s Sample) float64 { return s.TickP50 })
		sum.TickP99 = maxOf(col(func(s Sample) float64 { return s.TickP99 }))
		sum.TickMax = maxOf(col(func(s Sample) float64 { return s.TickMax }))
		for _, s := range ss {
			sum.Ticks += s.Ticks
		}
	}
	sum.TickRate = float64(sum.Ticks) / float64(len(ss))
	last := ss[len(ss)-1]
	sum.Failed, sum.Ended = last.Failed, last.Ended
	sum.KeptRate = sum.TickRate >= 0.95*rate && float64(sum.Overruns) <= 0.05*float64(sum.Ticks)
	sum.Clients = m(func(s Sample) float64 { return float64(s.Clients) })
	sum.Connected = m(func(s Sample) float64 { return float64(s.Connected) })
	sum.ServerCPU = m(func(s Sample) float64 { return s.ServerCPU })
	sum.ServerCPUMax = maxOf(col(func(s Sample) float64 { return s.ServerCPU }))
	sum.BotsCPU = m(func(s Sample) float64 { return s.BotsCPU })
	sum.OtherCPU = m(func(s Sample) float64 { return s.OtherCPU })
	sum.RSS = m(func(s Sample) float64 { return float64(s.RSS) })
	sum.Heap = m(func(s Sample) float64 { return float64(s.Heap) })
	sum.Goroutines = m(func(s Sample) float64 { return float64(s.Goroutines) })
	sum.BotsRSS = m(func(s Sample) float64 { return float64(s.BotsRSS) })
	sum.PacketsIn = m(func(s Sample) float64 { return s.PacketsIn })
	sum.PacketsOut = m(func(s Sample) float64 { return s.PacketsOut })
	sum.BytesIn = m(func(s Sample) float64 { return s.BytesIn })
	sum.BytesOut = m(func(s Sample) float64 { return s.BytesOut })
	sum.DownKbit = m(func(s Sample) float64 { return s.DownKbit })
	sum.UpKbit = m(func(s Sample) float64 { return s.UpKbit })
	sum.Snapshots = m(func(s Sample) float64 { return s.Snapshots })
	var got, exp float64
	for _, s := range ss {
		got += s.Delivery * float64(s.Expected)
		exp += float64(s.Expected)
	}
	if exp > 0 {
		sum.Delivery = got / exp
	}
	sum.RTTP50 = m(func(s Sample) float64 { return s.RTTP50 })
	sum.RTTP99 = maxOf(col(func(s Sample) float64 { return s.RTTP99 }))
	return sum, true
}

func perClient(base *StepSummary, steps []StepSummary) PerClient {
	var pc PerClient
	all := steps
	if base != nil {
		all = append([]StepSummary{*base}, steps...)
	}
	if len(all) == 0 {
		return pc
	}
	var x, cpuX, cpu, rss, heap []float64
	for _, s := range all {
		x = append(x, s.Clients)
		rss = append(rss, s.RSS)
		heap = append(heap, s.Heap)
		if s.KeptRate || s.Ticks == 0 { // Ticks 0: tick rate not measured (--server)
			cpuX = append(cpuX, s.Clients)
			cpu = append(cpu, s.ServerCPU)
			pc.CPUFitMaxClients = max(pc.CPUFitMaxClients, s.Clients)
		}
	}
	pc.CPU, pc.RSS, pc.Heap = LinearRegression(cpuX, cpu), LinearRegression(x, rss), LinearRegression(x, heap)
	// A falling fit is noise (CPU read in 10 ms ticks, GC sawtooth): take the mean, flat.
	for _, f := range []*Fit{&pc.CPU, &pc.RSS, &pc.Heap} {
		if f.Slope < 0 {
			*f = Fit{Intercept: f.At(mean(x)), N: f.N}
		}
	}
	top := all[len(all)-1]
	pc.TopClients = top.Clients
	// Traffic per client from the largest step that kept its rate (a saturated server
	// sends fewer snapshots than it should), else the top one.
	tr := top
	for _, s := range all {
		if s.Clients > 0 && (s.KeptRate || s.Ticks == 0) {
			tr = s
		}
	}
	pc.TrafficClients = tr.Clients
	if tr.Clients > 0 {
		pc.EgressPerSec = tr.BytesOut / tr.Clients
		pc.IngressPerSec = tr.BytesIn / tr.Clients
		if tr.BytesOut == 0 { // server traffic not measured: the bots' view
			pc.EgressPerSec = tr.DownKbit * 1000 / 8
			pc.IngressPerSec = tr.UpKbit * 1000 / 8
		}
	}
	if top.Clients > 0 {
		if base != nil {
			pc.MemoryAtTop = (top.RSS - base.RSS) / top.Clients
		} else {
			pc.MemoryAtTop = top.RSS / top.Clients
		}
	}
	return pc
}

// HoursPerMonth is the month the cost estimate prices: 730 h (365 × 24 ÷ 12).
const HoursPerMonth = 730

// Project estimates the cost of clients players at each of rates (Hz; tick rate and
// snapshot rate alike) from figures measured at measuredRate (tick) and measuredSnap
// (snapshot) Hz:
//
//	cores(N, f)   = (CPU.Intercept + CPU.Slope·N) · f ÷ measuredRate
//	memory(N)     = RSS.Intercept + RSS.Slope·N           (independent of the rate)
//	egress(N, f)  = EgressPerSec · N · f ÷ measuredSnap    (bytes/s)
//	monthly cost  = cores · 730 h · priceCoreHour + egress · 730 h · 3600 s ÷ 10⁹ · priceGBEgress
//
// Work per tick and bytes per snapshot are taken as constant, which overstates both a
// little at higher rates (less movement per tick, smaller deltas).
func Project(pc PerClient, measuredRate, measuredSnap, clients int, rates []int, priceCoreHour, priceGBEgress float64) Projection {
	p := Projection{
		MeasuredRateHz: measuredRate, MeasuredSnapHz: measuredSnap,
		PriceCoreHour: priceCoreHour, PriceGBEgress: priceGBEgress, HoursPerMonth: HoursPerMonth,
		Extrapolated: float64(clients) > min(pc.TopClients, pc.CPUFitMaxClients)+0.5,
		Assumptions: []string{
			fmt.Sprintf("CPU is linear in clients (least-squares fit over the step holds that kept the tick rate, up to %.0f clients) and in the tick rate", pc.CPUFitMaxClients),
			"memory is linear in clients (fit of RSS) and does not depend on the rate",
			"egress per client is linear in the snapshot rate (bytes per snapshot held constant); snapshots are sent at the tick rate",
			fmt.Sprintf("a month is %d hours; prices are examples (per core-hour and per GB of egress, 1 GB = 10^9 bytes)", HoursPerMonth),
		},
	}
	if measuredRate <= 0 || measuredSnap <= 0 {
		return p
	}
	for _, f := range rates {
		n := float64(clients)
		row := ProjectionRow{RateHz: f, Clients: clients}
		row.Cores = math.Max(0, pc.CPU.At(n)) * float64(f) / float64(measuredRate)
		row.MemoryBytes = math.Max(0, pc.RSS.At(n))
		egress := pc.EgressPerSec * n * float64(f) / float64(measuredSnap)
		row.EgressMbit = egress * 8 / 1e6
		row.EgressGBMonth = egress * HoursPerMonth * 3600 / 1e9
		row.CPUMonth = row.Cores * HoursPerMonth * priceCoreHour
		row.EgressMonth = row.EgressGBMonth * priceGBEgress
		row.TotalMonth = row.CPUMonth + row.EgressMonth
		p.Rows = append(p.Rows, row)
	}
	return p
}

func soak(all []Sample, lastStep int) Soak {
	ss := holdSamples(all, lastStep, "hold")
	var sk Soak
	if len(ss) == 0 {
		return sk
	}
	var t, rss, heap, gor, brss []float64
	for _, s := range ss {
		min := s.T / 60
		t = append(t, min)
		rss = append(rss, float64(s.RSS))
		heap = append(heap, float64(s.Heap))
		gor = append(gor, float64(s.Goroutines))
		brss = append(brss, float64(s.BotsRSS))
		sk.GoroutinesMax = max(sk.GoroutinesMax, s.Goroutines)
	}
	sk.Samples = len(ss)
	sk.Seconds = ss[len(ss)-1].T - ss[0].T
	f := LinearRegression(t, rss)
	sk.RSSSlope, sk.RSSR2 = f.Slope, f.R2
	f = LinearRegression(t, heap)
	sk.HeapSlope, sk.HeapR2 = f.Slope, f.R2
	sk.GoroutineSlope = LinearRegression(t, gor).Slope
	sk.BotsRSSSlope = LinearRegression(t, brss).Slope
	sk.GoroutinesFirst, sk.GoroutinesLast = ss[0].Goroutines, ss[len(ss)-1].Goroutines
	return sk
}

func (r *Report) verdict(cfg *Config) []Check {
	if len(r.Steps) == 0 {
		return nil
	}
	top := r.Steps[len(r.Steps)-1]
	basis := fmt.Sprintf("measured at %d clients, %d Hz", top.Target, cfg.Rate)
	atTarget := top.Target >= TargetClients && cfg.Rate == 20
	if !atTarget {
		basis += fmt.Sprintf(" (not the %d × 20 Hz target: indicative only)", TargetClients)
	}
	cpuBasis := basis
	if !r.BotsSeparate {
		cpuBasis += "; includes the bots"
	}
	rateKnown := r.ServerMeasured
	if rateKnown && !top.KeptRate {
		cpuBasis += fmt.Sprintf("; SATURATED: %.1f of %d ticks/s, so this is the CPU it got, not what it needs", top.TickRate, cfg.Rate)
	}
	kept := !rateKnown || top.KeptRate
	// The snapshots' size is the view's budget per snapshot: at a lower rate than the
	// configured one, the downstream at the full rate scales with it.
	down := Check{Name: "downstream per client", Target: fmt.Sprintf("≤ %d kbit/s", TargetDownKbitPerClient), Value: top.DownKbit, Unit: "kbit/s",
		Known: top.Connected > 0, Pass: top.Connected > 0 && top.DownKbit <= TargetDownKbitPerClient,
		Basis: basis + fmt.Sprintf("; UDP bytes received by the bots at %.1f snapshots/s", top.Snapshots)}
	if !kept {
		full := math.Inf(1)
		if top.Snapshots > 0 {
			full = top.DownKbit * float64(cfg.SnapshotRate) / top.Snapshots
		}
		down.Pass = down.Pass && full <= TargetDownKbitPerClient
		down.Basis += fmt.Sprintf("; the server did not keep its rate: %.1f kbit/s at the full %d snapshots/s (the same bytes per snapshot)", full, cfg.SnapshotRate)
	}
	return []Check{
		{Name: "tick rate kept", Target: fmt.Sprintf("≥ 95 %% of %d ticks/s, ≤ 5 %% overruns", cfg.Rate), Value: top.TickRate, Unit: "ticks/s",
			Known: rateKnown, Pass: rateKnown && top.KeptRate, Basis: fmt.Sprintf("%s; %d overruns in %d ticks", basis, top.Overruns, top.Ticks)},
		{Name: "server CPU", Target: fmt.Sprintf("≤ %.1f core", TargetCores), Value: top.ServerCPU, Unit: "cores",
			Known: r.CPUMeasured, Pass: r.CPUMeasured && kept && top.ServerCPU <= TargetCores, Basis: cpuBasis},
		{Name: "tick p99", Target: fmt.Sprintf("≤ %d ms", TargetTickP99.Milliseconds()), Value: top.TickP99, Unit: "ms",
			Known: r.ServerMeasured, Pass: r.ServerMeasured && top.TickP99 <= float64(TargetTickP99.Milliseconds()), Basis: basis},
		{Name: "memory per client", Target: fmt.Sprintf("≤ %d KiB", TargetBytesPerClient>>10), Value: r.PerClient.MemoryAtTop / 1024, Unit: "KiB",
			Known: r.CPUMeasured && r.Baseline != nil, Pass: r.CPUMeasured && r.Baseline != nil && r.PerClient.MemoryAtTop <= TargetBytesPerClient,
			Basis: basis + "; (RSS − baseline RSS) ÷ clients" + map[bool]string{true: "", false: "; includes the bots"}[r.BotsSeparate]},
		down,
	}
}

// Write stores the report in dir (created if needed): report.json, report.md and the
// plots (cpu.png, memory.png, tick.png, bandwidth.png, timeline.png).
func (r *Report) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(r.Markdown()), 0o644); err != nil {
		return err
	}
	return r.Plot(dir)
}

// Load reads a report.json written by [Report.Write].
func Load(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("stress: %s: %w", path, err)
	}
	return &r, nil
}

func cpuModel(cpuinfo []byte) string {
	for line := range bytes.Lines(cpuinfo) {
		if k, v, ok := strings.Cut(string(line), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// protocolOf returns the protocol version cfg's bots speak.
func protocolOf(cfg *Config) int {
	if cfg.Cells {
		return game.CellProtocolVersion
	}
	return game.ProtocolVersion
}
