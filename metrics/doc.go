// Package metrics exposes a live shard's figures to Prometheus and serves them, with
// net/http/pprof, on an optional HTTP address.
//
// [Register] builds a [Collector] over a [shard.Live] and hooks it to the shard's step
// observer (so it must run before [shard.Live.Run]); [NewRegistry] gives a registry that
// also carries the Go runtime and process collectors; [Serve] serves /metrics and
// /debug/pprof/ on an address such as "127.0.0.1:9090", and [Handler] is the same mux for
// callers that own their listener.
//
// The counters are read from [shard.Live.Stats] at scrape time, so a scrape costs one
// stats copy and nothing on the tick path; only the tick-duration histogram is fed per
// tick, with an atomic add.
package metrics
