package stress

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/systems"
)

// Sample is one second of a run. Server-side figures are zero when the server is not
// measured (a --server run without its pid, or without tick figures at all: see
// [Report.ServerMeasured]).
type Sample struct {
	T      float64 `json:"t_s"`   // seconds since the start of the run
	Phase  string  `json:"phase"` // baseline, ramp or hold
	Step   int     `json:"step"`  // index into the steps (-1: baseline)
	Target int     `json:"target"`
	// Clients is the server's count of playing sessions; Connected the bots' count.
	Clients   int `json:"clients"`
	Connected int `json:"connected"`
	Failed    int `json:"failed"` // failed connects so far
	Ended     int `json:"ended"`  // sessions the server ended so far
	// Tick work time over the ticks of this second, milliseconds.
	Ticks     int     `json:"ticks"`
	TickP50   float64 `json:"tick_p50_ms"`
	TickP99   float64 `json:"tick_p99_ms"`
	TickMax   float64 `json:"tick_max_ms"`
	Overruns  uint64  `json:"overruns"` // tick overruns this second
	Dropped   uint64  `json:"dropped"`  // datagrams/messages the server dropped this second
	ServerCPU float64 `json:"server_cpu_cores"`
	// BotsCPU is the bot worker's CPU (0 when the bots run in the server's process).
	BotsCPU float64 `json:"bots_cpu_cores"`
	// OtherCPU is the rest of the machine's busy time (other processes), from /proc/stat.
	OtherCPU   float64 `json:"other_cpu_cores"`
	RSS        uint64  `json:"rss_bytes"`
	Heap       uint64  `json:"heap_bytes"` // Go heap objects (in-process server only)
	Goroutines int     `json:"goroutines"` // of the server process (in-process only)
	BotsRSS    uint64  `json:"bots_rss_bytes"`
	// Server UDP traffic per second, each way.
	PacketsIn  float64 `json:"packets_in_per_s"`
	PacketsOut float64 `json:"packets_out_per_s"`
	BytesIn    float64 `json:"bytes_in_per_s"`
	BytesOut   float64 `json:"bytes_out_per_s"`
	// Per client, as the bots measure it.
	DownKbit  float64 `json:"down_kbit_per_client"`
	UpKbit    float64 `json:"up_kbit_per_client"`
	Snapshots float64 `json:"snapshots_per_s_per_client"`
	Delivery  float64 `json:"delivery"`
	Expected  uint64  `json:"snapshots_expected"` // Delivery's denominator (0: no figure)
	RTTP50    float64 `json:"rtt_p50_ms"`
	RTTP99    float64 `json:"rtt_p99_ms"`

	ticks []float64 // this second's tick times, ms (for the step percentiles)
}

// stepRecorder collects tick work times from the shard goroutine.
type stepRecorder struct {
	mu  sync.Mutex
	buf []float64
}

func (r *stepRecorder) observe(d time.Duration) {
	ms := float64(d) / float64(time.Millisecond)
	r.mu.Lock()
	r.buf = append(r.buf, ms)
	r.mu.Unlock()
}

func (r *stepRecorder) take(into []float64) []float64 {
	r.mu.Lock()
	into = append(into[:0], r.buf...)
	r.buf = r.buf[:0]
	r.mu.Unlock()
	return into
}

// worker is the bots' side of a run, in a child process or in this one.
type worker struct {
	in   io.WriteCloser
	pid  int // 0: in process
	mu   sync.Mutex
	last BotSample
	done chan error
}

func (w *worker) sample() BotSample {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

func (w *worker) setTarget(n int) error {
	b, _ := json.Marshal(workerTarget{Target: n})
	_, err := w.in.Write(append(b, '\n'))
	return err
}

func startWorker(ctx context.Context, cfg *Config, addr string) (*worker, error) {
	w := &worker{done: make(chan error, 1)}
	var out io.Reader
	if cfg.Worker != nil {
		cmd := cfg.Worker(ctx)
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		o, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("stress: start bot worker: %w", err)
		}
		w.in, out, w.pid = in, o, cmd.Process.Pid
		go func() {
			// Read everything before Wait, which closes the pipe.
			w.readSamples(out)
			w.done <- cmd.Wait()
		}()
	} else {
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		w.in = inW
		go func() {
			err := RunWorker(ctx, inR, outW)
			inR.Close()
			outW.Close()
			w.done <- err
		}()
		go w.readSamples(outR)
	}
	b, _ := json.Marshal(WorkerConfig{Server: addr, Key: cfg.Key, Seed: cfg.Seed, FirstClientID: 1, DialTimeout: cfg.DialTimeout, DecodeEvery: cfg.DecodeEvery, Cells: cfg.Cells})
	if _, err := w.in.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("stress: bot worker: %w", err)
	}
	return w, nil
}

func (w *worker) readSamples(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var s BotSample
		if json.Unmarshal(sc.Bytes(), &s) == nil {
			w.mu.Lock()
			w.last = s
			w.mu.Unlock()
		}
	}
	io.Copy(io.Discard, r)
}

// Run performs a stress run: it starts a shard in this process (or targets
// cfg.Server), raises the bots through cfg.Steps, samples every second and returns the
// report (write it with [Report.Write]). Run fails on an invalid config or when the
// server or the bot worker cannot start; bots that fail to connect are counted, not
// errors. Ending ctx stops the run early with the samples taken so far.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if len(cfg.Key) == 0 {
		cfg.Key = make([]byte, 32)
		rand.Read(cfg.Key)
	}
	rep := newReport(&cfg)
	var live *shard.Live
	rec := &stepRecorder{}
	addr := cfg.Server
	runCtx, stopServer := context.WithCancel(context.Background())
	defer stopServer()
	serverDone := make(chan error, 1)
	if addr == "" {
		var err error
		live, err = shard.StartLive(shard.LiveConfig{
			Addr:         "127.0.0.1:0",
			World:        ecs.Config{Seed: cfg.Seed, Rate: cfg.Rate},
			Systems:      systems.DefaultConfig(),
			Entities:     cfg.Entities,
			SnapshotRate: cfg.SnapshotRate,
			Server:       server.Config{Key: cfg.Key, MaxClients: max(2048, cfg.Clients)},
		})
		if err != nil {
			return nil, fmt.Errorf("stress: start shard: %w", err)
		}
		live.SetStepObserver(rec.observe)
		addr = live.Addr().String()
		go func() { serverDone <- live.Run(runCtx) }()
	} else {
		close(serverDone)
	}
	rep.Config.ServerAddr = addr

	wctx, stopWorker := context.WithCancel(context.Background())
	defer stopWorker()
	w, err := startWorker(wctx, &cfg, addr)
	if err != nil {
		return nil, err
	}
	rep.BotsSeparate = w.pid != 0

	ps := schedule(&cfg)
	total := ps[len(ps)-1].Start + ps[len(ps)-1].Len
	gr := newGoRuntime()
	serverPID := 0
	if cfg.Server != "" {
		serverPID = cfg.ServerPID
	}
	measureProc := live != nil || serverPID > 0
	prevProc, procErr := readProc(serverPID)
	if measureProc && procErr != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("server CPU and memory not measured: %v", procErr))
		measureProc = false
	}
	var prevBots procUsage
	if w.pid != 0 {
		prevBots, _ = readProc(w.pid)
	}
	prevMachine, machineErr := readMachineBusy()
	var prevLive shard.LiveStats
	if live != nil {
		prevLive = live.Stats()
	}
	rec.take(nil) // drop ticks before the start

	start := time.Now()
	prevT := start
	nextSample := start.Add(time.Second)
	target := -1
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var tickBuf []float64
loop:
	for {
		now := time.Now()
		el := now.Sub(start)
		if el >= total {
			break
		}
		p, n := at(ps, el)
		if n != target {
			target = n
			if err := w.setTarget(n); err != nil {
				rep.Notes = append(rep.Notes, fmt.Sprintf("bot worker stopped early: %v", err))
				break
			}
		}
		if !now.Before(nextSample) {
			secs := now.Sub(prevT).Seconds()
			prevT = now
			nextSample = nextSample.Add(time.Second)
			s := Sample{T: el.Seconds(), Phase: p.Kind, Step: p.Step, Target: target}
			bs := w.sample()
			s.Connected, s.Failed, s.Ended = bs.Connected, bs.Failed, bs.Ended
			s.DownKbit, s.UpKbit = bs.DownBytesPerSec*8/1000, bs.UpBytesPerSec*8/1000
			s.Snapshots, s.Delivery, s.Expected, s.RTTP50, s.RTTP99 = bs.SnapshotsPerSec, bs.Delivery, bs.Expected, bs.RTTP50, bs.RTTP99
			rep.Failures = bs.Failures
			if measureProc {
				if pu, err := readProc(serverPID); err == nil {
					s.ServerCPU = (pu.CPU - prevProc.CPU).Seconds() / secs
					s.RSS = pu.RSS
					prevProc = pu
				}
			}
			if w.pid != 0 {
				if pu, err := readProc(w.pid); err == nil {
					s.BotsCPU = (pu.CPU - prevBots.CPU).Seconds() / secs
					s.BotsRSS = pu.RSS
					prevBots = pu
				}
			}
			if machineErr == nil {
				if m, err := readMachineBusy(); err == nil {
					s.OtherCPU = max(0, (m-prevMachine).Seconds()/secs-s.ServerCPU-s.BotsCPU)
					if !measureProc {
						s.OtherCPU = 0 // the server's share is unknown
					}
					prevMachine = m
				}
			}
			if live != nil {
				s.Heap, s.Goroutines = gr.read()
				st := live.Stats()
				h, ph := st.Server.Host, prevLive.Server.Host
				s.Clients = int(st.Server.Clients)
				s.Overruns = st.Overruns - prevLive.Overruns
				s.PacketsIn = float64(h.PacketsIn-ph.PacketsIn) / secs
				s.PacketsOut = float64(h.PacketsOut-ph.PacketsOut) / secs
				s.BytesIn = float64(h.BytesIn-ph.BytesIn) / secs
				s.BytesOut = float64(h.BytesOut-ph.BytesOut) / secs
				s.Dropped = dropped(st) - dropped(prevLive)
				prevLive = st
				tickBuf = rec.take(tickBuf)
				s.ticks = slices.Clone(tickBuf)
				slices.Sort(s.ticks)
				s.Ticks = len(s.ticks)
				s.TickP50, s.TickP99, s.TickMax = percentileSorted(s.ticks, 0.5), percentileSorted(s.ticks, 0.99), maxOf(s.ticks)
			} else {
				s.Clients = s.Connected
			}
			rep.Samples = append(rep.Samples, s)
			if cfg.Progress != nil {
				cfg.Progress(s)
			}
		}
		select {
		case <-ctx.Done():
			rep.Notes = append(rep.Notes, "run interrupted before the end of the schedule")
			break loop
		case err := <-w.done:
			rep.Notes = append(rep.Notes, fmt.Sprintf("bot worker exited early: %v", err))
			w.done <- err
			break loop
		case <-tick.C:
		}
	}
	rep.Duration = time.Since(start).Seconds()
	// Close the bots (they disconnect), then stop the server.
	w.in.Close()
	select {
	case err := <-w.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			var ee *exec.ExitError
			if !errors.As(err, &ee) || !ee.Exited() {
				rep.Notes = append(rep.Notes, fmt.Sprintf("bot worker: %v", err))
			}
		}
	case <-time.After(15 * time.Second):
		stopWorker()
		<-w.done
		rep.Notes = append(rep.Notes, "bot worker did not stop within 15 s; killed")
	}
	if live != nil {
		rep.Final = live.Stats()
		stopServer()
		if err := <-serverDone; err != nil {
			return nil, fmt.Errorf("stress: shard: %w", err)
		}
	}
	rep.ServerMeasured = live != nil
	rep.CPUMeasured = measureProc
	rep.finish(&cfg)
	return rep, nil
}

func dropped(st shard.LiveStats) uint64 {
	var n uint64
	for _, d := range st.Server.Dropped {
		n += uint64(d)
	}
	for _, d := range st.Server.Host.Dropped {
		n += d
	}
	return n
}

// host describes the machine for the report.
func host() HostInfo {
	h := HostInfo{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version()}
	h.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		h.CPU = cpuModel(b)
	}
	return h
}
