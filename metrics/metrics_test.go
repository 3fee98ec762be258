package metrics

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/shardsim/shardsim/net/enet"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/systems"
)

type fakeSource struct{ st shard.LiveStats }

func (f *fakeSource) Stats() shard.LiveStats { return f.st }

// gathered returns every sample of reg as "name{labels} value" lines, in the text
// exposition format's order.
func gathered(t *testing.T, reg prometheus.Gatherer) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func TestCollector(t *testing.T) {
	src := &fakeSource{}
	src.st.Tick, src.st.Overruns, src.st.Entities = 600, 3, 120
	src.st.Server.Clients, src.st.Server.Connects, src.st.Server.Kicked = 7, 9, 1
	src.st.Server.Dropped[server.DropBadToken] = 2
	src.st.Server.Host = enet.Stats{PacketsIn: 10, PacketsOut: 20, BytesIn: 1000, BytesOut: 50000}
	src.st.Server.Host.Dropped[enet.DropShort] = 4
	c := NewCollector(src)
	c.ObserveStep(2 * time.Millisecond)
	c.ObserveStep(30 * time.Millisecond)
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	text := gathered(t, reg)
	for _, want := range []string{
		"shardsim_clients 7\n",
		"shardsim_ticks_total 600\n",
		"shardsim_tick_overruns_total 3\n",
		"shardsim_entities 120\n",
		"shardsim_connects_total 9\n",
		"shardsim_kicked_total 1\n",
		`shardsim_bytes_total{direction="in"} 1000` + "\n",
		`shardsim_bytes_total{direction="out"} 50000` + "\n",
		`shardsim_packets_total{direction="out"} 20` + "\n",
		`shardsim_dropped_total{layer="enet",reason="short"} 4` + "\n",
		`shardsim_dropped_total{layer="enet",reason="waiting-data"} 0` + "\n",
		`shardsim_dropped_total{layer="game",reason="bad-token"} 2` + "\n",
		`shardsim_dropped_total{layer="game",reason="framing"} 0` + "\n",
		`shardsim_tick_duration_seconds_bucket{le="0.0016"} 0` + "\n",
		`shardsim_tick_duration_seconds_bucket{le="0.0032"} 1` + "\n",
		`shardsim_tick_duration_seconds_bucket{le="0.0512"} 2` + "\n",
		"shardsim_tick_duration_seconds_sum 0.032\n",
		"shardsim_tick_duration_seconds_count 2\n",
		"# TYPE shardsim_ticks_total counter\n",
		"# TYPE shardsim_clients gauge\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Log(text)
	}
}

// TestServe serves a registry with the Go, process and shard collectors and scrapes
// /metrics and /debug/pprof/.
func TestServe(t *testing.T) {
	reg := NewRegistry()
	reg.MustRegister(NewCollector(&fakeSource{}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closeFn := ServeListener(ln, reg)
	t.Cleanup(func() {
		if err := closeFn(); err != nil {
			t.Error(err)
		}
	})
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", path, resp.Status)
		}
		return string(b)
	}
	m := get("/metrics")
	for _, want := range []string{"shardsim_ticks_total 0", "go_goroutines", "shardsim_tick_duration_seconds_count 0"} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if p := get("/debug/pprof/"); !strings.Contains(p, "goroutine") {
		t.Error("/debug/pprof/ does not list profiles")
	}
	get("/debug/pprof/goroutine?debug=1")
}

func TestServeOptional(t *testing.T) {
	closeFn, err := Serve("", prometheus.NewRegistry())
	if err != nil || closeFn() != nil {
		t.Errorf("Serve with no address: %v", err)
	}
	if _, err := Serve("127.0.0.1:notaport", prometheus.NewRegistry()); err == nil {
		t.Error("Serve on a bad address: no error")
	}
	closeFn, err = Serve("127.0.0.1:0", prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := closeFn(); err != nil {
		t.Error(err)
	}
}

// TestRegisterLive hooks a collector to a real live shard and sees ticks.
func TestRegisterLive(t *testing.T) {
	live, err := shard.StartLive(shard.LiveConfig{Addr: "127.0.0.1:0", Systems: systems.DefaultConfig(), Entities: 10, Server: server.Config{Key: make([]byte, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	c, err := Register(reg, live)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	if err := live.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if live.Stats().Tick == 0 {
		t.Error("no ticks")
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "shardsim_tick_duration_seconds" {
			if n := mf.GetMetric()[0].GetHistogram().GetSampleCount(); n == 0 {
				t.Error("the step observer fed no tick duration")
			}
			return
		}
	}
	t.Errorf("no tick histogram gathered (collector %p)", c)
}
