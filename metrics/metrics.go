package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/shardsim/shardsim/net/enet"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
)

// Namespace prefixes every metric name.
const Namespace = "shardsim"

// TickBuckets are the tick-duration histogram's upper bounds, seconds: 50 µs to about
// 210 ms, doubling, so 10 ms (the p99 target at 20 Hz) and 50 ms (one period) fall on
// bucket edges' neighbours.
var TickBuckets = prometheus.ExponentialBuckets(50e-6, 2, 13)

// Source is what a [Collector] reads at scrape time; [*shard.Live] is one.
type Source interface {
	Stats() shard.LiveStats
}

// serverDropNames names the server's drop reasons (the index of server.Stats.Dropped).
var serverDropNames = [...]string{
	server.DropFraming:  "framing",
	server.DropMessage:  "message",
	server.DropState:    "state",
	server.DropBadToken: "bad-token",
}

// Collector is a prometheus.Collector over a live shard. Its methods are safe from any
// goroutine.
type Collector struct {
	src  Source
	tick prometheus.Histogram

	ticks, overruns, entities, lastStep *prometheus.Desc
	clients, connects, admitted, kicked *prometheus.Desc
	disconnects, inputs                 *prometheus.Desc
	snapshots, snapshotBytes            *prometheus.Desc
	packets, bytes, dropped, writeErrs  *prometheus.Desc
}

// NewCollector returns a collector over src. Feed it each tick's work duration with
// [Collector.ObserveStep] (or let [Register] do so).
func NewCollector(src Source) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
	}
	return &Collector{
		src: src,
		tick: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace,
			Name:      "tick_duration_seconds",
			Help:      "Wall time of each tick's work (step, hash, snapshot fan-out, I/O).",
			Buckets:   TickBuckets,
		}),
		ticks:         d("ticks_total", "Ticks stepped."),
		overruns:      d("tick_overruns_total", "Ticks that started late by more than one tick period."),
		entities:      d("entities", "Entities in the world."),
		lastStep:      d("last_tick_duration_seconds", "Wall time of the last tick's work."),
		clients:       d("clients", "Sessions playing now."),
		connects:      d("connects_total", "ENet connections accepted."),
		admitted:      d("admitted_total", "Sessions that presented a valid token."),
		kicked:        d("kicked_total", "Sessions kicked."),
		disconnects:   d("disconnects_total", "Sessions that disconnected."),
		inputs:        d("input_messages_total", "Input messages received."),
		snapshots:     d("snapshots_sent_total", "Snapshot messages sent."),
		snapshotBytes: d("snapshot_bytes_total", "Bytes of snapshot messages sent (before ENet framing)."),
		packets:       d("packets_total", "UDP datagrams by direction.", "direction"),
		bytes:         d("bytes_total", "UDP payload bytes by direction.", "direction"),
		dropped:       d("dropped_total", "Received datagrams or messages dropped, by layer and reason.", "layer", "reason"),
		writeErrs:     d("write_errors_total", "UDP writes that failed."),
	}
}

// ObserveStep records one tick's work duration. It is cheap (one atomic histogram
// update) and meant to be called on the shard goroutine.
func (c *Collector) ObserveStep(d time.Duration) { c.tick.Observe(d.Seconds()) }

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	c.tick.Describe(ch)
	for _, d := range []*prometheus.Desc{c.ticks, c.overruns, c.entities, c.lastStep, c.clients, c.connects,
		c.admitted, c.kicked, c.disconnects, c.inputs, c.snapshots, c.snapshotBytes, c.packets, c.bytes,
		c.dropped, c.writeErrs} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.tick.Collect(ch)
	st := c.src.Stats()
	sv, h := st.Server, st.Server.Host
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter(c.ticks, float64(st.Tick))
	counter(c.overruns, float64(st.Overruns))
	gauge(c.entities, float64(st.Entities))
	gauge(c.lastStep, st.LastStep.Seconds())
	gauge(c.clients, float64(sv.Clients))
	counter(c.connects, float64(sv.Connects))
	counter(c.admitted, float64(sv.Admitted))
	counter(c.kicked, float64(sv.Kicked))
	counter(c.disconnects, float64(sv.Disconnects))
	counter(c.inputs, float64(sv.InputMsgs))
	counter(c.snapshots, float64(sv.Snapshots))
	counter(c.snapshotBytes, float64(sv.SnapshotSize))
	counter(c.packets, float64(h.PacketsIn), "in")
	counter(c.packets, float64(h.PacketsOut), "out")
	counter(c.bytes, float64(h.BytesIn), "in")
	counter(c.bytes, float64(h.BytesOut), "out")
	for i, n := range sv.Dropped {
		name := "unknown"
		if i < len(serverDropNames) {
			name = serverDropNames[i]
		}
		counter(c.dropped, float64(n), "game", name)
	}
	for i, n := range h.Dropped {
		counter(c.dropped, float64(n), "enet", enet.DropReason(i).String())
	}
	counter(c.writeErrs, float64(h.WriteErrors))
}

// Register registers a [Collector] over live with reg and makes it the shard's step
// observer (replacing any other: call it before [shard.Live.Run], and if something else
// also needs the tick durations, use [NewCollector] and call [Collector.ObserveStep]
// from your own observer instead).
func Register(reg prometheus.Registerer, live *shard.Live) (*Collector, error) {
	c := NewCollector(live)
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	live.SetStepObserver(c.ObserveStep)
	return c, nil
}

// NewRegistry returns a registry holding the Go runtime and process collectors (CPU
// seconds, RSS, open files, goroutines, GC), to which [Register] adds the shard's.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}
