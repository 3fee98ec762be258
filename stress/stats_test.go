package stress

import (
	"math"
	"testing"
	"time"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestPercentile(t *testing.T) {
	for _, tc := range []struct {
		v    []float64
		q    float64
		want float64
	}{
		{nil, 0.5, 0},
		{[]float64{7}, 0.99, 7},
		{[]float64{3, 1, 2}, 0.5, 2},
		{[]float64{1, 2, 3, 4}, 0.5, 2.5},
		{[]float64{1, 2, 3, 4}, 0, 1},
		{[]float64{1, 2, 3, 4}, 1, 4},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 0.9, 10},
		{[]float64{10, 20}, 0.99, 19.9},
		{[]float64{1, 2}, 2, 2}, // q clamped
	} {
		if got := Percentile(tc.v, tc.q); !near(got, tc.want, 1e-9) {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tc.v, tc.q, got, tc.want)
		}
	}
	v := []float64{3, 1, 2}
	Percentile(v, 0.5)
	if v[0] != 3 {
		t.Error("Percentile sorted its input")
	}
}

func TestLinearRegression(t *testing.T) {
	// Exact line.
	f := LinearRegression([]float64{0, 1, 2, 3}, []float64{5, 7, 9, 11})
	if !near(f.Intercept, 5, 1e-9) || !near(f.Slope, 2, 1e-9) || !near(f.R2, 1, 1e-9) || f.N != 4 {
		t.Errorf("exact line: %+v", f)
	}
	if !near(f.At(10), 25, 1e-9) {
		t.Errorf("At(10) = %v", f.At(10))
	}
	// Known noisy fit: x 1..5, y 2,4,5,4,5 → slope 0.6, intercept 2.2, R² 0.6.
	f = LinearRegression([]float64{1, 2, 3, 4, 5}, []float64{2, 4, 5, 4, 5})
	if !near(f.Slope, 0.6, 1e-9) || !near(f.Intercept, 2.2, 1e-9) || !near(f.R2, 0.6, 1e-9) {
		t.Errorf("noisy fit: %+v", f)
	}
	// Degenerate inputs.
	if f := LinearRegression(nil, nil); f != (Fit{}) {
		t.Errorf("empty: %+v", f)
	}
	if f := LinearRegression([]float64{2, 2}, []float64{1, 3}); f.Slope != 0 || f.Intercept != 2 {
		t.Errorf("equal x: %+v", f)
	}
	if f := LinearRegression([]float64{1, 2, 3}, []float64{4, 4}); f.N != 2 || f.Slope != 0 {
		t.Errorf("uneven lengths: %+v", f)
	}
}

func TestProject(t *testing.T) {
	pc := PerClient{
		CPU:              Fit{Intercept: 0.05, Slope: 0.0002}, // 0.05 + 0.4 = 0.45 cores at 2000
		RSS:              Fit{Intercept: 20 << 20, Slope: 40 << 10},
		EgressPerSec:     5000, // 40 kbit/s
		TopClients:       2000,
		CPUFitMaxClients: 2000,
	}
	p := Project(pc, 20, 20, 2000, []int{20, 30, 60}, 0.04, 0.08)
	if p.Extrapolated || len(p.Rows) != 3 {
		t.Fatalf("projection: %+v", p)
	}
	r20, r60 := p.Rows[0], p.Rows[2]
	if !near(r20.Cores, 0.45, 1e-9) || !near(r60.Cores, 1.35, 1e-9) {
		t.Errorf("cores %v at 20 Hz, %v at 60 Hz", r20.Cores, r60.Cores)
	}
	if want := float64(20<<20 + 2000*40<<10); r20.MemoryBytes != want || r60.MemoryBytes != want {
		t.Errorf("memory %v, %v, want %v", r20.MemoryBytes, r60.MemoryBytes, want)
	}
	// 2000 × 5000 B/s = 10 MB/s = 80 Mbit/s; × 730 h × 3600 s = 26 280 GB/month.
	if !near(r20.EgressMbit, 80, 1e-9) || !near(r20.EgressGBMonth, 26280, 1e-6) || !near(r60.EgressMbit, 240, 1e-9) {
		t.Errorf("egress %v Mbit/s %v GB/month; at 60 Hz %v Mbit/s", r20.EgressMbit, r20.EgressGBMonth, r60.EgressMbit)
	}
	if !near(r20.CPUMonth, 0.45*730*0.04, 1e-9) || !near(r20.EgressMonth, 26280*0.08, 1e-6) || !near(r20.TotalMonth, r20.CPUMonth+r20.EgressMonth, 1e-9) {
		t.Errorf("costs %+v", r20)
	}
	// Past the largest step: flagged; a negative fit is clamped at 0.
	p = Project(PerClient{CPU: Fit{Intercept: -1}, TopClients: 50, CPUFitMaxClients: 50}, 20, 20, 2000, []int{20}, 1, 1)
	if !p.Extrapolated || p.Rows[0].Cores != 0 {
		t.Errorf("extrapolated projection: %+v", p)
	}
}

func TestSchedule(t *testing.T) {
	cfg := Config{Steps: []int{10, 50, 100}, Ramp: 10 * time.Second, Hold: 30 * time.Second}
	if err := cfg.setDefaults(); err != nil {
		t.Fatal(err)
	}
	ps := schedule(&cfg)
	// baseline 3 s, ramp 1 s, hold 10 s, ramp 4 s, hold 10 s, ramp 5 s, hold 10 s.
	wantLen := []time.Duration{3, 1, 10, 4, 10, 5, 10}
	if len(ps) != len(wantLen) {
		t.Fatalf("%d phases: %+v", len(ps), ps)
	}
	for i, p := range ps {
		if p.Len != wantLen[i]*time.Second {
			t.Errorf("phase %d (%s) lasts %s, want %ds", i, p.Kind, p.Len, wantLen[i])
		}
	}
	for _, tc := range []struct {
		t    time.Duration
		kind string
		n    int
	}{
		{0, "baseline", 0},
		{3 * time.Second, "ramp", 1},
		{3*time.Second + 950*time.Millisecond, "ramp", 10},
		{5 * time.Second, "hold", 10},
		{14 * time.Second, "ramp", 11},
		{16 * time.Second, "ramp", 31}, // the 21st of 40 added starts at 2 s of 4
		{20 * time.Second, "hold", 50},
		{time.Hour, "hold", 100},
	} {
		p, n := at(ps, tc.t)
		if p.Kind != tc.kind || n != tc.n {
			t.Errorf("at %s: %s with %d clients, want %s with %d", tc.t, p.Kind, n, tc.kind, tc.n)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Clients: 0, Hold: time.Minute},
		{Steps: []int{10, 5}, Hold: time.Minute},
		{Steps: []int{0, 5}, Hold: time.Minute},
		{Steps: []int{5000}, Hold: time.Minute},
		{Steps: []int{1, 2, 3}, Hold: 2 * time.Second},
		{Steps: []int{1}, Hold: time.Minute, Server: "127.0.0.1:1"}, // no key
		{Steps: []int{1}, Hold: time.Minute, Ramp: -1},
	} {
		if err := c.setDefaults(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

func TestParseProc(t *testing.T) {
	u, s, err := parseStatCPU([]byte("1234 (a (weird) name) S 1 2 3 4 5 6 7 8 9 10 250 31 0 0 20 0 4 0"))
	if err != nil || u != 250 || s != 31 {
		t.Errorf("parseStatCPU: %d %d %v", u, s, err)
	}
	if _, _, err := parseStatCPU([]byte("1234 (x) S 1 2")); err == nil {
		t.Error("short stat: no error")
	}
	busy, err := parseMachineBusy([]byte("cpu  100 5 50 1000 20 1 2 3 0 0\ncpu0 1 2 3 4\n"))
	if err != nil || busy != 161*time.Second/clockTick {
		t.Errorf("parseMachineBusy: %v %v", busy, err)
	}
	if pu, err := readProc(0); err == nil && pu.RSS == 0 {
		t.Error("readProc(self): zero RSS")
	}
}

// TestDownstreamVerdict: when the server falls behind its snapshot rate, the
// downstream verdict judges the figure scaled to the full rate (the bytes per snapshot
// are the view's budget), not the lower measured one.
func TestDownstreamVerdict(t *testing.T) {
	for _, tc := range []struct {
		name      string
		kept      bool
		down      float64 // kbit/s measured
		snapshots float64 // per second per client
		pass      bool
	}{
		{"kept rate, under", true, 60, 20, true},
		{"kept rate, over", true, 66, 20, false},
		{"behind, under at full rate", false, 59.1, 18.8, true}, // 62.9 at 20/s
		{"behind, over at full rate", false, 59.1, 18.0, false}, // 65.7 at 20/s
		{"behind, no snapshots", false, 0, 0, false},
	} {
		r := &Report{ServerMeasured: true, Steps: []StepSummary{{Target: 2000, Connected: 2000, KeptRate: tc.kept, TickRate: 19, DownKbit: tc.down, Snapshots: tc.snapshots}}}
		var down *Check
		checks := r.verdict(&Config{Rate: 20, SnapshotRate: 20})
		for i := range checks {
			if checks[i].Name == "downstream per client" {
				down = &checks[i]
			}
		}
		if down == nil {
			t.Fatalf("%s: no downstream check in %+v", tc.name, checks)
		}
		if down.Pass != tc.pass {
			t.Errorf("%s: pass = %v, want %v (%s)", tc.name, down.Pass, tc.pass, down.Basis)
		}
	}
}
