// Package stress measures what a shard costs: it ramps bots onto a live shard in
// steps, samples the server and the bots once per second, and reports the figures per
// step, the per-client cost, a projected monthly cost and the verdict against the
// capacity targets of DESIGN.md (2000 clients at 20 Hz within half a core, p99 tick ≤
// 10 ms, ≤ 50 KiB and ≤ 64 kbit/s downstream per client).
//
// [Run] starts a shard in process (or targets [Config.Server]) and drives a bot
// worker — [RunWorker], best run in a child process through [Config.Worker] so that the
// server's CPU (read from /proc/self/stat) is its own. It returns a [Report]:
// per-second [Sample]s, a [StepSummary] per step hold, [PerClient] fits, the
// [Projection] made by [Project], the [Soak] trend of the last hold and the [Check]s of
// the verdict. [Report.Write] stores report.json, report.md and PNG plots.
//
// Measured and projected figures are kept apart: everything in Samples, Steps,
// PerClient, Soak and Verdict was measured on this machine; Projection is arithmetic on
// those figures.
package stress
