package bots

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/client"
	"github.com/shardsim/shardsim/net/enet"
	"github.com/shardsim/shardsim/net/game"
)

// Config describes a bot run.
type Config struct {
	// Server is the shard's address, host:port.
	Server string
	// Key is the server's token key: each bot mints its own token.
	Key []byte
	// Clients is the number of bots (> 0).
	Clients int
	// Duration is the length of the whole run, ramp included (> 0).
	Duration time.Duration
	// Ramp spreads the connects evenly over this long from the start (0: all at once;
	// at most Duration).
	Ramp time.Duration
	// Seed seeds each bot's wandering (bot i uses Seed and i).
	Seed uint64
	// FirstClientID is the token client id of bot 0; bot i gets FirstClientID+i
	// (default 1). Bot i's Godot id is 2+i.
	FirstClientID uint64
	// TokenTTL is how long the minted tokens stay valid (default 1 h).
	TokenTTL time.Duration
	// Client is the template of each bot's client options (ID, Transport and
	// HeaderOnly are set per bot). Zero fields keep the client's defaults, except
	// ENet.Tick, which defaults to 100 ms: thousands of hosts in one process.
	Client client.Options
	// DecodeEvery: bot i decodes its snapshots and checks their state hashes when i is
	// a multiple of DecodeEvery; the others follow them from their headers alone
	// (client.Options.HeaderOnly) and ack exactly as a decoding client would, at a
	// fraction of the CPU. 0 and 1: every bot decodes. On one machine with the server,
	// decoding 2,000 clients' snapshots takes about a core, which the bots then take
	// from the server and ack late (see README).
	DecodeEvery int
	// Transport, when set, makes bot i's transport (e.g. an enettest conn); default a
	// UDP socket per bot.
	Transport func(i int) (enet.Transport, error)
	// Progress, when set, is called about once per second from the run's goroutine.
	Progress func(Progress)
}

// Progress is the state of a run, reported once per second.
type Progress struct {
	Elapsed   time.Duration
	Started   int // dials begun
	Connected int // sessions running now
	Failed    int // dials that failed
	Ended     int // sessions the server ended (kick or disconnect)
	// Reconnects counts failovers of the bots to a shadow (Client.Failover) so far.
	Reconnects uint64
	// Per connected client over the last second: snapshots/s, downstream and upstream
	// bytes/s (averages over the clients connected).
	SnapshotsPerSec, DownBytesPerSec, UpBytesPerSec float64
	// RTT is the median of the connected clients' RTTs.
	RTT time.Duration
}

// Dist summarises one figure over the clients.
type Dist struct {
	Mean, Min, P50, P99, Max float64
}

func distOf(v []float64) Dist {
	if len(v) == 0 {
		return Dist{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	return Dist{Mean: sum / float64(len(s)), Min: s[0], P50: quantile(s, 0.5), P99: quantile(s, 0.99), Max: s[len(s)-1]}
}

// quantile of sorted s (nearest rank).
func quantile(s []float64, q float64) float64 {
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// Failure counts the bots that failed (or ended) for one reason.
type Failure struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// Report is the result of a run.
type Report struct {
	Clients   int           `json:"clients"`
	Connected int           `json:"connected"` // dials that got a Welcome
	Failed    int           `json:"failed"`    // dials that did not
	Failures  []Failure     `json:"failures,omitempty"`
	Ended     int           `json:"ended"` // sessions the server ended before the run did
	EndReason []Failure     `json:"end_reasons,omitempty"`
	Duration  time.Duration `json:"duration_ns"`
	// DialTime is the time from dial to Welcome, seconds.
	DialTime Dist `json:"dial_s"`
	// Per connected client, over its time connected.
	SnapshotsPerSec Dist `json:"snapshots_per_s"`
	DownBytesPerSec Dist `json:"down_bytes_per_s"`
	UpBytesPerSec   Dist `json:"up_bytes_per_s"`
	// Delivery is snapshots received ÷ snapshots sent, by snapshot id gaps, over all
	// clients; DeliveryByRate divides by the announced snapshot rate × time connected
	// instead. Loss is 1 − Delivery.
	Delivery       float64 `json:"delivery"`
	DeliveryByRate float64 `json:"delivery_by_rate"`
	Loss           float64 `json:"loss"`
	// Snapshots received, applied to the table (by the Decoders bots that decode:
	// Config.DecodeEvery), followed from their headers alone (Tracked, by the others),
	// and that failed to decode or to parse.
	Decoders  int    `json:"decoders"`
	Snapshots uint64 `json:"snapshots"`
	Applied   uint64 `json:"applied"`
	Tracked   uint64 `json:"tracked"`
	Bad       uint64 `json:"bad"`
	// Reconnects counts failovers to a new server (Config.Client.Failover), Reconnected
	// the bots that made at least one; ReconnectTime is the time each bot lost to its
	// failovers (last packet of the lost server to the new Welcome), seconds, over the
	// bots that reconnected.
	Reconnects    uint64 `json:"reconnects"`
	Reconnected   int    `json:"reconnected"`
	ReconnectTime Dist   `json:"reconnect_s"`
	// RTT over the per-second samples of every connected client, milliseconds.
	RTTP50 float64 `json:"rtt_p50_ms"`
	RTTP99 float64 `json:"rtt_p99_ms"`
}

type bot struct {
	i      int
	c      *client.Client
	err    error
	dialed time.Duration // dial → welcome
	rng    *rand.Rand
	next   time.Time // next input change
	final  client.Stats
	prev   client.Stats // at the last progress report
}

var errRunEnded = errors.New("bots: the run ended before the welcome")

// ErrConfig is returned by [Run] for an invalid [Config].
var ErrConfig = errors.New("bots: invalid config")

// Run runs cfg.Clients bots against cfg.Server for cfg.Duration (or until ctx ends),
// then closes them and reports. Bots that fail to connect are counted with their
// reasons; Run itself fails only on an invalid config.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	switch {
	case cfg.Clients <= 0:
		return nil, fmt.Errorf("%w: clients %d", ErrConfig, cfg.Clients)
	case cfg.Duration <= 0 || cfg.Ramp < 0 || cfg.Ramp > cfg.Duration:
		return nil, fmt.Errorf("%w: duration %s, ramp %s", ErrConfig, cfg.Duration, cfg.Ramp)
	case len(cfg.Key) < game.MinKeySize:
		return nil, fmt.Errorf("%w: key shorter than %d bytes", ErrConfig, game.MinKeySize)
	case cfg.Server == "":
		return nil, fmt.Errorf("%w: no server address", ErrConfig)
	case cfg.DecodeEvery < 0:
		return nil, fmt.Errorf("%w: decode every %d bots", ErrConfig, cfg.DecodeEvery)
	}
	if cfg.FirstClientID == 0 {
		cfg.FirstClientID = 1
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.Client.ENet.Tick == 0 {
		// A bot's host has one peer and sends an input every tick, which flushes it;
		// its own tick only paces retransmissions and pings. Thousands of bots share a
		// process: at 5 ms (ENet's default) their tickers alone woke 400,000 goroutines
		// a second.
		cfg.Client.ENet.Tick = 100 * time.Millisecond
	}
	dialTimeout := cfg.Client.DialTimeout
	if dialTimeout <= 0 {
		dialTimeout = client.DefaultDialTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	start := time.Now()
	bots := make([]*bot, cfg.Clients)
	var (
		mu      sync.Mutex // guards the bots' c, err, dialed
		dials   sync.WaitGroup
		started int
	)
	dial := func(b *bot) {
		defer dials.Done()
		opt := cfg.Client
		opt.ID = uint32(2 + b.i)
		opt.HeaderOnly = !decodes(cfg, b.i)
		if cfg.Transport != nil {
			tr, err := cfg.Transport(b.i)
			if err != nil {
				mu.Lock()
				b.err = err
				mu.Unlock()
				return
			}
			opt.Transport = tr
		}
		tok := game.MintToken(cfg.Key, cfg.FirstClientID+uint64(b.i), time.Now().Add(cfg.TokenTTL))
		t0 := time.Now()
		dctx, dcancel := context.WithTimeout(ctx, dialTimeout)
		c, err := client.Dial(dctx, cfg.Server, tok, opt)
		dcancel()
		if err != nil && ctx.Err() != nil {
			err = errRunEnded
		}
		mu.Lock()
		b.c, b.err, b.dialed = c, err, time.Since(t0)
		mu.Unlock()
	}
	var rttSamples []float64
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	lastProgress := start
	var progPrev time.Time
loop:
	for {
		now := time.Now()
		// Ramp: bot i starts at Ramp·i/Clients.
		for started < cfg.Clients {
			at := start
			if cfg.Ramp > 0 {
				at = start.Add(time.Duration(int64(cfg.Ramp) * int64(started) / int64(cfg.Clients)))
			}
			if at.After(now) {
				break
			}
			b := &bot{i: started, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(started)))}
			bots[started] = b
			started++
			dials.Add(1)
			go dial(b)
		}
		// Wander: a new input every 1–3 s.
		mu.Lock()
		for _, b := range bots[:started] {
			if b.c != nil && !now.Before(b.next) {
				b.c.SetInput(Wander(b.rng))
				b.next = now.Add(time.Second + time.Duration(b.rng.Int64N(int64(2*time.Second))))
			}
		}
		mu.Unlock()
		if now.Sub(lastProgress) >= time.Second {
			lastProgress = now
			p := progress(bots[:started], &mu, now.Sub(start), now.Sub(progPrev), progPrev.IsZero(), &rttSamples)
			progPrev = now
			if cfg.Progress != nil {
				cfg.Progress(p)
			}
		}
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
	}
	dials.Wait()
	elapsed := time.Since(start)
	// Freeze every client's figures at the end of the run, then close them all.
	for _, b := range bots[:started] {
		if b.c != nil {
			b.final = b.c.Stats()
		}
	}
	var closing sync.WaitGroup
	for _, b := range bots[:started] {
		if b.c != nil {
			closing.Go(func() { b.c.Close() })
		}
	}
	closing.Wait()
	return report(cfg, bots[:started], elapsed, start.Add(elapsed), rttSamples), nil
}

// Wander picks a bot's next input: mostly walking or running in a random direction,
// sometimes standing still or emoting. Bots draw a new one every 1–3 s.
func Wander(r *rand.Rand) ecs.Input {
	switch n := r.IntN(10); {
	case n == 0:
		return ecs.Input{}
	case n == 1:
		return ecs.Input{Buttons: ecs.ButtonEmote, Emote: uint8(r.IntN(4))}
	default:
		in := ecs.Input{MoveX: int8(r.IntN(255) - 127), MoveY: int8(r.IntN(255) - 127)}
		if n >= 7 {
			in.Buttons = ecs.ButtonRun
		}
		return in
	}
}

func progress(bots []*bot, mu *sync.Mutex, elapsed, since time.Duration, first bool, rtt *[]float64) Progress {
	p := Progress{Elapsed: elapsed, Started: len(bots)}
	var rtts []float64
	var snaps, down, up float64
	mu.Lock()
	defer mu.Unlock()
	for _, b := range bots {
		switch {
		case b.err != nil:
			p.Failed++
			continue
		case b.c == nil:
			continue
		}
		select {
		case <-b.c.Done():
			p.Ended++
			continue
		default:
		}
		p.Connected++
		st := b.c.Stats()
		p.Reconnects += st.Reconnects
		rtts = append(rtts, float64(st.RTT)/float64(time.Millisecond))
		if !first && since > 0 && !b.prev.Welcomed.IsZero() {
			s := since.Seconds()
			snaps += float64(st.Snapshots-b.prev.Snapshots) / s
			down += float64(st.BytesIn-b.prev.BytesIn) / s
			up += float64(st.BytesOut-b.prev.BytesOut) / s
		}
		b.prev = st
	}
	if p.Connected > 0 {
		n := float64(p.Connected)
		p.SnapshotsPerSec, p.DownBytesPerSec, p.UpBytesPerSec = snaps/n, down/n, up/n
		*rtt = append(*rtt, rtts...)
		slices.Sort(rtts)
		p.RTT = time.Duration(quantile(rtts, 0.5) * float64(time.Millisecond))
	}
	return p
}

func report(cfg Config, bots []*bot, elapsed time.Duration, end time.Time, rtts []float64) *Report {
	r := &Report{Clients: cfg.Clients, Duration: elapsed}
	fails, ends := map[string]int{}, map[string]int{}
	var dial, snaps, down, up, lost []float64
	var got, expected uint64
	var byRate float64
	for _, b := range bots {
		if b.c == nil {
			r.Failed++
			fails[FailureReason(b.err)]++
			continue
		}
		r.Connected++
		if decodes(cfg, b.i) {
			r.Decoders++
		}
		dial = append(dial, b.dialed.Seconds())
		st := b.final
		if st.Reconnects > 0 {
			r.Reconnects += st.Reconnects
			r.Reconnected++
			lost = append(lost, st.Lost.Seconds())
		}
		stop := end
		if !st.Ended.IsZero() && st.Ended.Before(end) {
			stop = st.Ended
			r.Ended++
			ends[FailureReason(b.c.Err())]++
		}
		secs := stop.Sub(st.Welcomed).Seconds()
		if secs <= 0 {
			continue
		}
		snaps = append(snaps, float64(st.Snapshots)/secs)
		down = append(down, float64(st.BytesIn)/secs)
		up = append(up, float64(st.BytesOut)/secs)
		got += min(st.Snapshots, st.Expected())
		expected += st.Expected()
		byRate += float64(b.c.Welcome().SnapshotRate) * secs
		r.Snapshots += st.Snapshots
		r.Applied += st.Applied
		r.Tracked += st.Tracked
		r.Bad += st.Bad
	}
	r.Failures, r.EndReason = failures(fails), failures(ends)
	r.DialTime = distOf(dial)
	r.ReconnectTime = distOf(lost)
	r.SnapshotsPerSec, r.DownBytesPerSec, r.UpBytesPerSec = distOf(snaps), distOf(down), distOf(up)
	if expected > 0 {
		r.Delivery = float64(got) / float64(expected)
		r.Loss = 1 - r.Delivery
	}
	if byRate > 0 {
		r.DeliveryByRate = float64(r.Snapshots) / byRate
	}
	if len(rtts) > 0 {
		slices.Sort(rtts)
		r.RTTP50, r.RTTP99 = quantile(rtts, 0.5), quantile(rtts, 0.99)
	}
	return r
}

// decodes reports whether bot i decodes its snapshots (Config.DecodeEvery).
func decodes(cfg Config, i int) bool { return cfg.DecodeEvery <= 1 || i%cfg.DecodeEvery == 0 }

// FailureReason classifies why a bot's dial or session ended, as reports count them.
func FailureReason(err error) string {
	var ke *client.KickError
	switch {
	case err == nil:
		return "none"
	case errors.Is(err, client.ErrFailover):
		return "failover failed" // first: it wraps the last attempt's error
	case errors.As(err, &ke):
		return "kicked: " + client.ReasonString(ke.Reason)
	case errors.Is(err, client.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, client.ErrRefused):
		return "refused"
	case errors.Is(err, client.ErrDisconnected):
		return "disconnected"

	case errors.Is(err, errRunEnded), errors.Is(err, context.Canceled):
		return "run ended before the welcome"
	}
	return err.Error()
}

func failures(m map[string]int) []Failure {
	var f []Failure
	for k, v := range m {
		f = append(f, Failure{k, v})
	}
	sort.Slice(f, func(i, j int) bool {
		if f[i].Count != f[j].Count {
			return f[i].Count > f[j].Count
		}
		return f[i].Reason < f[j].Reason
	})
	return f
}
