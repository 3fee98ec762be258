package stress

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	netbots "github.com/shardsim/shardsim/net/bots"
	"github.com/shardsim/shardsim/net/client"
	"github.com/shardsim/shardsim/net/enet"
	"github.com/shardsim/shardsim/net/game"
)

// WorkerConfig is the first line a [RunWorker] reads: where and how its bots connect.
type WorkerConfig struct {
	Server        string        `json:"server"`
	Key           []byte        `json:"key"`
	Seed          uint64        `json:"seed"`
	FirstClientID uint64        `json:"first_client_id"`
	DialTimeout   time.Duration `json:"dial_timeout_ns"`
	DecodeEvery   int           `json:"decode_every,omitempty"` // as Config.DecodeEvery
	Cells         bool          `json:"cells,omitempty"`        // as Config.Cells
}

// workerTarget is every later line: the number of bots to have started.
type workerTarget struct {
	Target int `json:"target"`
}

// BotSample is what a worker reports once per second: its bots' view of the shard.
// Rates are over the last second, averaged over the bots connected.
type BotSample struct {
	Elapsed   float64        `json:"elapsed_s"`
	Target    int            `json:"target"`
	Started   int            `json:"started"`   // dials begun
	Connected int            `json:"connected"` // sessions running now
	Failed    int            `json:"failed"`    // dials that failed (cumulative)
	Ended     int            `json:"ended"`     // sessions the server ended (cumulative)
	Failures  map[string]int `json:"failures,omitempty"`
	// Per connected client: snapshots/s and downstream/upstream UDP bytes/s (mean), and
	// the largest downstream rate of any client.
	SnapshotsPerSec    float64 `json:"snapshots_per_s"`
	DownBytesPerSec    float64 `json:"down_bytes_per_s"`
	DownBytesPerSecMax float64 `json:"down_bytes_per_s_max"`
	UpBytesPerSec      float64 `json:"up_bytes_per_s"`
	// Delivery is snapshots received ÷ snapshots sent (by snapshot id span) over the
	// last second, all clients together; Expected is that denominator (0: no figure).
	Delivery float64 `json:"delivery"`
	Expected uint64  `json:"expected"`
	// RTT over the connected clients, milliseconds.
	RTTP50 float64 `json:"rtt_p50_ms"`
	RTTP99 float64 `json:"rtt_p99_ms"`
}

type workerBot struct {
	i    int
	c    *client.Client
	err  error
	rng  *rand.Rand
	next time.Time
	prev client.Stats
}

// RunWorker runs bots for a stress run, driven by lines of JSON on in: first a
// [WorkerConfig], then {"target": N} lines, each raising the number of bots to start
// (bots are never stopped before the end). It writes a [BotSample] line to out once per
// second, and closes every bot and returns when in ends or ctx is done. It is what the
// hidden worker sub-command of a stress run executes in a child process, so that the
// bots' CPU is not counted as the server's.
func RunWorker(ctx context.Context, in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return fmt.Errorf("stress worker: %w", err)
		}
		return fmt.Errorf("stress worker: %w: no config line", ErrConfig)
	}
	var cfg WorkerConfig
	if err := json.Unmarshal(sc.Bytes(), &cfg); err != nil {
		return fmt.Errorf("stress worker: %w: config: %v", ErrConfig, err)
	}
	if cfg.Server == "" || len(cfg.Key) < game.MinKeySize {
		return fmt.Errorf("stress worker: %w: no server or short key", ErrConfig)
	}
	if cfg.FirstClientID == 0 {
		cfg.FirstClientID = 1
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = client.DefaultDialTimeout
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	targets := make(chan int, 64)
	go func() {
		defer close(targets)
		for sc.Scan() {
			var t workerTarget
			if json.Unmarshal(sc.Bytes(), &t) != nil {
				continue
			}
			select {
			case targets <- t.Target:
			case <-ctx.Done():
				return
			}
		}
	}()

	start := time.Now()
	var (
		mu    sync.Mutex // guards the bots' c and err
		dials sync.WaitGroup
		bots  []*workerBot
	)
	target := 0
	enc := json.NewEncoder(out)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	nextSample := start.Add(time.Second)
	prevSample := start
	running := true
	for running {
		select {
		case <-ctx.Done():
			running = false
		case t, ok := <-targets:
			if !ok {
				running = false
				break
			}
			target = max(target, t)
		case <-tick.C:
		}
		now := time.Now()
		for len(bots) < target && running {
			b := &workerBot{i: len(bots), rng: rand.New(rand.NewPCG(cfg.Seed, uint64(len(bots))))}
			bots = append(bots, b)
			dials.Go(func() {
				tok := game.MintToken(cfg.Key, cfg.FirstClientID+uint64(b.i), time.Now().Add(time.Hour))
				dctx, dcancel := context.WithTimeout(ctx, cfg.DialTimeout)
				c, err := client.Dial(dctx, cfg.Server, tok, client.Options{
					ID:         uint32(2 + b.i),
					ENet:       clientENet(),
					HeaderOnly: cfg.DecodeEvery > 1 && b.i%cfg.DecodeEvery != 0,
					Cells:      cfg.Cells,
				})
				dcancel()
				mu.Lock()
				b.c, b.err = c, err
				mu.Unlock()
			})
		}
		mu.Lock()
		for _, b := range bots {
			if b.c != nil && !now.Before(b.next) {
				b.c.SetInput(netbots.Wander(b.rng))
				b.next = now.Add(time.Second + time.Duration(b.rng.Int64N(int64(2*time.Second))))
			}
		}
		if !now.Before(nextSample) && running {
			s := sampleBots(bots, now.Sub(prevSample))
			mu.Unlock()
			s.Elapsed, s.Target = now.Sub(start).Seconds(), target
			prevSample = now
			nextSample = nextSample.Add(time.Second)
			if nextSample.Before(now) {
				nextSample = now.Add(time.Second)
			}
			if err := enc.Encode(s); err != nil {
				running = false
			}
			continue
		}
		mu.Unlock()
	}
	cancel()
	dials.Wait()
	var closing sync.WaitGroup
	for _, b := range bots {
		if b.c != nil {
			closing.Go(func() { b.c.Close() })
		}
	}
	closing.Wait()
	return nil
}

// sampleBots computes a [BotSample] over the last since (mu held).
func sampleBots(bots []*workerBot, since time.Duration) BotSample {
	s := BotSample{Started: len(bots)}
	var rtts []float64
	var snaps, down, up, got float64
	secs := since.Seconds()
	for _, b := range bots {
		switch {
		case b.err != nil:
			s.Failed++
			if s.Failures == nil {
				s.Failures = map[string]int{}
			}
			s.Failures[netbots.FailureReason(b.err)]++
			continue
		case b.c == nil:
			continue
		}
		select {
		case <-b.c.Done():
			s.Ended++
			if s.Failures == nil {
				s.Failures = map[string]int{}
			}
			s.Failures["ended: "+netbots.FailureReason(b.c.Err())]++
			continue
		default:
		}
		s.Connected++
		st := b.c.Stats()
		rtts = append(rtts, float64(st.RTT)/float64(time.Millisecond))
		if !b.prev.Welcomed.IsZero() && secs > 0 {
			snaps += float64(st.Snapshots-b.prev.Snapshots) / secs
			d := float64(st.BytesIn-b.prev.BytesIn) / secs
			down += d
			s.DownBytesPerSecMax = max(s.DownBytesPerSecMax, d)
			up += float64(st.BytesOut-b.prev.BytesOut) / secs
			exp := st.Expected() - b.prev.Expected()
			s.Expected += exp
			got += float64(min(st.Snapshots-b.prev.Snapshots, exp))
		}
		b.prev = st
	}
	if s.Connected > 0 {
		n := float64(s.Connected)
		s.SnapshotsPerSec, s.DownBytesPerSec, s.UpBytesPerSec = snaps/n, down/n, up/n
		slices.Sort(rtts)
		s.RTTP50, s.RTTP99 = percentileSorted(rtts, 0.5), percentileSorted(rtts, 0.99)
	}
	if s.Expected > 0 {
		s.Delivery = got / float64(s.Expected)
	}
	return s
}

// clientENet is each bot's ENet configuration: a 20 ms host tick (as net/bots), since
// thousands of hosts share the worker process.
func clientENet() enet.Config { return enet.Config{Tick: 20 * time.Millisecond} }
