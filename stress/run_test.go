package stress

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// workerEnv makes the test binary a bot worker (the CLI re-executes itself the same
// way).
const workerEnv = "SHARDSIM_STRESS_TEST_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		if err := RunWorker(context.Background(), os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRunShort runs a small stress with the bots in a child process and checks the
// report: one sample a second with plausible figures, files that parse, plots that
// decode.
func TestRunShort(t *testing.T) {
	for _, cells := range []bool{false, true} {
		if cells && testing.Short() {
			continue
		}
		t.Run(fmt.Sprintf("cells=%v", cells), func(t *testing.T) { testRunShort(t, cells) })
	}
}

// testRunShort is TestRunShort with the bots on protocol version 4 or 5 (cells).
func testRunShort(t *testing.T, cells bool) {
	clients, hold := 50, 10*time.Second
	if testing.Short() {
		clients, hold = 20, 6*time.Second
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("no executable to re-run:", err)
	}
	cfg := Config{
		Steps:    []int{clients / 2, clients},
		Entities: 100,
		Rate:     20,
		Seed:     1,
		Baseline: 2 * time.Second,
		// Half the bots decode: both kinds of client take part.
		DecodeEvery: 2,
		Cells:       cells,
		Ramp:        2 * time.Second,
		Hold:        hold,
		Worker: func(ctx context.Context) *exec.Cmd {
			cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), workerEnv+"=1")
			return cmd
		},
	}
	progress := 0
	cfg.Progress = func(Sample) { progress++ }
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := rep.Write(dir); err != nil {
		t.Fatal(err)
	}

	total := (cfg.Baseline + cfg.Ramp + cfg.Hold).Seconds()
	if n := len(rep.Samples); float64(n) < total-2 || float64(n) > total+1 || progress != n {
		t.Errorf("%d samples (%d progress calls) over a %.0f s run", n, progress, total)
	}
	for i, s := range rep.Samples {
		if i > 0 {
			if dt := s.T - rep.Samples[i-1].T; dt < 0.8 || dt > 1.5 {
				t.Errorf("sample %d taken %.2f s after the previous one", i, dt)
			}
		}
		if s.RSS == 0 || s.Heap == 0 || s.Goroutines == 0 || s.Ticks == 0 {
			t.Errorf("sample %d: zero RSS, heap, goroutines or ticks: %+v", i, s)
		}
	}
	if !rep.BotsSeparate || !rep.ServerMeasured || !rep.CPUMeasured {
		t.Errorf("bots separate %v, server measured %v, cpu measured %v", rep.BotsSeparate, rep.ServerMeasured, rep.CPUMeasured)
	}
	if len(rep.Steps) != 2 || rep.Baseline == nil {
		t.Fatalf("%d step summaries, baseline %v", len(rep.Steps), rep.Baseline)
	}
	top := rep.Steps[1]
	if top.Clients < float64(clients)*0.9 || top.Failed != 0 {
		t.Errorf("top step: %.1f clients, %d failed (%v)", top.Clients, top.Failed, rep.Failures)
	}
	if top.ServerCPU <= 0 || top.BotsCPU <= 0 || top.TickP50 <= 0 || top.TickP99 < top.TickP50 || top.TickMax < top.TickP99 {
		t.Errorf("top step CPU %.3f (bots %.3f), ticks %.2f/%.2f/%.2f ms", top.ServerCPU, top.BotsCPU, top.TickP50, top.TickP99, top.TickMax)
	}
	if top.PacketsIn <= 0 || top.PacketsOut <= 0 || top.BytesIn <= 0 || top.BytesOut <= top.BytesIn {
		t.Errorf("top step traffic: %.0f/%.0f packets/s, %.0f/%.0f bytes/s in/out", top.PacketsIn, top.PacketsOut, top.BytesIn, top.BytesOut)
	}
	if top.DownKbit <= 0 || top.UpKbit <= 0 || top.Snapshots < 5 || top.Delivery < 0.5 || top.Delivery > 1 || top.RTTP50 <= 0 {
		t.Errorf("top step client view: %.1f/%.1f kbit/s, %.1f snapshots/s, delivery %.3f, rtt %.1f ms", top.DownKbit, top.UpKbit, top.Snapshots, top.Delivery, top.RTTP50)
	}
	if len(rep.Projection.Rows) != 3 || rep.Projection.Rows[0].EgressMbit <= 0 || !rep.Projection.Extrapolated {
		t.Errorf("projection: %+v", rep.Projection)
	}
	if len(rep.Verdict) != 5 || rep.Soak.Samples == 0 {
		t.Errorf("verdict %+v, soak %+v", rep.Verdict, rep.Soak)
	}

	// The files: JSON loads back with every sample; markdown has the tables; PNGs decode.
	back, err := Load(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Samples) != len(rep.Samples) || len(back.Steps) != 2 || back.Version != ReportVersion {
		t.Errorf("report.json: %d samples, %d steps, version %d", len(back.Samples), len(back.Steps), back.Version)
	}
	if want := protocolOf(&cfg); back.Config.Protocol != want {
		t.Errorf("report.json: protocol %d, want %d", back.Config.Protocol, want)
	}
	var raw map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if err := json.Unmarshal(b, &raw); err != nil || raw["projection"] == nil || raw["samples"] == nil {
		t.Errorf("report.json keys: %v", err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Verdict (measured)", "## Steps (measured", "## Cost estimate (projected, not measured)", "## Soak trend", "tick p99"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if got := bytes.Contains(md, []byte("cell streams")); got != cells {
		t.Errorf("report.md mentions cell streams: %v, want %v", got, cells)
	}
	for _, name := range []string{"cpu.png", "memory.png", "tick.png", "bandwidth.png", "timeline.png"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		st, _ := f.Stat()
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if st.Size() < 10<<10 || img.Bounds().Dx() < 400 || img.Bounds().Dy() < 300 {
			t.Errorf("%s: %d bytes, %v", name, st.Size(), img.Bounds())
		}
	}
}
