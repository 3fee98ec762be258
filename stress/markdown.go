package stress

import (
	"fmt"
	"sort"
	"strings"

	"github.com/shardsim/shardsim/net/game"
)

// Markdown renders the report for people: configuration, verdict, a table per step,
// the measured per-client costs, the projection and the soak trend.
func (r *Report) Markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	c := r.Config
	p("# shardsim stress report\n\n")
	p("%s, %.0f s. Server: %s (%s), %d NPC entities, %d Hz ticks, %d Hz snapshots. Steps %v; baseline %.0f s, ramp %.0f s, hold %.0f s (%.1f s per step; the first second of each hold is left out as settling).\n\n",
		r.Started.Format("2006-01-02 15:04 UTC"), r.Duration, c.Server, c.ServerAddr, c.Entities, c.Rate, c.SnapshotRate, c.Steps, c.Baseline, c.Ramp, c.Hold, c.HoldPerStep)
	p("Machine: %s, %d CPUs (GOMAXPROCS %d), %s/%s, %s. ", c.Host.CPU, c.Host.NumCPU, c.Host.GOMAXPROCS, c.Host.GOOS, c.Host.GOARCH, c.Host.GoVersion)
	if r.BotsSeparate {
		p("The bots ran in a child process: the server's CPU and memory are its own.\n\n")
	} else {
		p("The bots ran in the server's process: CPU and memory include them.\n\n")
	}
	if c.Protocol == game.CellProtocolVersion {
		p("The bots asked for cell streams (protocol version 5).\n\n")
	}
	if c.DecodeEvery > 1 {
		p("1 bot in %d decoded its snapshots and checked their state hashes; the others acked them from their headers alone, as a decoding client would.\n\n", c.DecodeEvery)
	}
	for _, n := range r.Notes {
		p("> Note: %s\n\n", n)
	}

	p("## Verdict (measured)\n\n| target | value | result | basis |\n|---|---|---|---|\n")
	for _, ch := range r.Verdict {
		res := "**FAIL**"
		switch {
		case !ch.Known:
			res = "not measured"
		case ch.Pass:
			res = "pass"
		}
		p("| %s %s | %.3g %s | %s | %s |\n", ch.Name, ch.Target, ch.Value, ch.Unit, res, ch.Basis)
	}

	p("\n## Steps (measured, hold means)\n\n")
	p("| clients | connected | failed | ticks/s | CPU server | CPU bots | CPU others | tick p50 / p99 / max ms | overruns | RSS MiB | heap MiB | goroutines | pkts/s in / out | kB/s in / out | down / up kbit/s per client | snaps/s | delivery | RTT p50 / p99 ms |\n")
	p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	rows := r.Steps
	if r.Baseline != nil {
		rows = append([]StepSummary{*r.Baseline}, rows...)
	}
	for _, s := range rows {
		p("| %.0f | %.0f | %d | %.1f%s | %.3f | %.3f | %.3f | %.2f / %.2f / %.2f | %d | %.1f | %.1f | %.0f | %.0f / %.0f | %.1f / %.1f | %.1f / %.1f | %.1f | %.4f | %.1f / %.1f |\n",
			s.Clients, s.Connected, s.Failed, s.TickRate, map[bool]string{true: "", false: " (saturated)"}[s.KeptRate || s.Ticks == 0], s.ServerCPU, s.BotsCPU, s.OtherCPU, s.TickP50, s.TickP99, s.TickMax, s.Overruns,
			s.RSS/(1<<20), s.Heap/(1<<20), s.Goroutines, s.PacketsIn, s.PacketsOut, s.BytesIn/1000, s.BytesOut/1000,
			s.DownKbit, s.UpKbit, s.Snapshots, s.Delivery, s.RTTP50, s.RTTP99)
	}
	if len(r.Failures) > 0 {
		p("\nFailed connects and ended sessions by reason: ")
		keys := make([]string, 0, len(r.Failures))
		for k := range r.Failures {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				p(", ")
			}
			p("%d × %s", r.Failures[k], k)
		}
		p(".\n")
	}

	pc := r.PerClient
	p("\n## Per-client cost (measured; straight-line fits over the steps)\n\n")
	p("- CPU: %.3f cores with no client + %.2f millicores per client (R² %.3f; fit over the steps that kept the tick rate, up to %.0f clients)\n", pc.CPU.Intercept, pc.CPU.Slope*1000, pc.CPU.R2, pc.CPUFitMaxClients)
	p("- RSS: %.1f MiB with no client + %.1f KiB per client (R² %.3f); at the top step (RSS − baseline) ÷ clients = %.1f KiB\n",
		pc.RSS.Intercept/(1<<20), pc.RSS.Slope/1024, pc.RSS.R2, pc.MemoryAtTop/1024)
	p("- Go heap: %.1f MiB + %.1f KiB per client (R² %.3f)\n", pc.Heap.Intercept/(1<<20), pc.Heap.Slope/1024, pc.Heap.R2)
	p("- Traffic at the largest step that kept its rate (%.0f clients): %.2f kbit/s egress and %.2f kbit/s ingress per client (server side, UDP payload)\n",
		pc.TrafficClients, pc.EgressPerSec*8/1000, pc.IngressPerSec*8/1000)

	pr := r.Projection
	p("\n## Cost estimate (projected, not measured)\n\n")
	if pr.Extrapolated {
		p("Extrapolated: the largest step measured had %.0f clients, the largest that kept its tick rate %.0f.\n\n", pc.TopClients, pc.CPUFitMaxClients)
	}
	p("From the per-client figures above, measured at %d Hz ticks / %d Hz snapshots; prices are examples ($%.3g per core-hour, $%.3g per GB egress, %.0f h per month).\n\n",
		pr.MeasuredRateHz, pr.MeasuredSnapHz, pr.PriceCoreHour, pr.PriceGBEgress, pr.HoursPerMonth)
	p("| players | Hz | cores | memory MiB | egress Mbit/s | egress GB/month | CPU $/month | egress $/month | total $/month |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, row := range pr.Rows {
		p("| %d | %d | %.2f | %.0f | %.1f | %.0f | %.2f | %.2f | %.2f |\n", row.Clients, row.RateHz, row.Cores, row.MemoryBytes/(1<<20),
			row.EgressMbit, row.EgressGBMonth, row.CPUMonth, row.EgressMonth, row.TotalMonth)
	}
	p("\nAssumptions:\n\n")
	for _, a := range pr.Assumptions {
		p("- %s\n", a)
	}

	sk := r.Soak
	p("\n## Soak trend (measured over the last hold, %.0f s, %d samples)\n\n", sk.Seconds, sk.Samples)
	p("- RSS slope: %+.1f KiB/min (R² %.2f); Go heap slope: %+.1f KiB/min (R² %.2f); bots' RSS slope %+.1f KiB/min\n",
		sk.RSSSlope/1024, sk.RSSR2, sk.HeapSlope/1024, sk.HeapR2, sk.BotsRSSSlope/1024)
	p("- goroutines: %d → %d (max %d), slope %+.2f per minute\n", sk.GoroutinesFirst, sk.GoroutinesLast, sk.GoroutinesMax, sk.GoroutineSlope)
	if sk.Seconds < 600 {
		p("- a hold this short shows GC sawtooth more than a trend: run with --steps N --hold 30m for a soak\n")
	}
	p("\n## Plots\n\n![CPU](cpu.png) ![memory](memory.png) ![tick](tick.png) ![bandwidth](bandwidth.png) ![timeline](timeline.png)\n")
	return b.String()
}
