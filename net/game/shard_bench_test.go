package game_test

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/bots"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/systems"
)

// BenchmarkBroadcastPlayers is BenchmarkBroadcastShard on the load run's world
// (scripts/acceptance): 100 scripted NPCs and 2,000 players moving as the Go bots'
// inputs say (bots.Wander, a new input every 1–3 s), 100 of them clients, acks three
// snapshots late (the run's RTT), after 600 snapshots of warm-up (the frame ring
// full). Its B/record is the load run's bytes per changed entity in steady state,
// measured without the run's 2,000 clients learning the world. NV=2000 runs it with
// 2,000 clients (each view cold in the cache, as in the load run), LAG=8 with acks
// eight snapshots late (the saturated load run's round trip).
func BenchmarkBroadcastPlayers(b *testing.B) {
	cfg, w, step, players := playersWorld()
	nv := envInt("NV", 100)
	views := make([]*game.ClientView, nv)
	for i := range views {
		views[i] = game.NewClientView(players[i*2000/nv])
		views[i].BytesPerSnapshot = 376
	}
	lag := envInt("LAG", 3)
	benchViews(b, cfg, w, step, views, lag, 600)
}

// playersWorld returns BenchmarkBroadcastPlayers's world (100 scripted NPCs, 2,000
// players wandering as the Go bots do), the function that steps it, and the players.
func playersWorld() (systems.Config, *ecs.World, func(), []ecs.NetID) {
	cfg := systems.DefaultConfig()
	w := ecs.New(ecs.Config{Seed: 5, Rate: 20})
	sim := systems.New(cfg)
	sim.Populate(w, 100)
	var cmds []ecs.Command
	for i := range 2000 {
		cmds = append(cmds, ecs.Command{Kind: ecs.CmdJoin, Arg: uint32(i)})
	}
	var players []ecs.NetID
	for _, j := range sim.Step(w, cmds).Joined {
		players = append(players, j.ID)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	next := make([]uint64, len(players))
	step := func() {
		cmds = cmds[:0]
		for i, id := range players {
			if w.G.Tick >= next[i] {
				cmds = append(cmds, ecs.Command{Kind: ecs.CmdInput, Player: id, Input: bots.Wander(rng)})
				next[i] = w.G.Tick + 20 + uint64(rng.IntN(40))
			}
		}
		sim.Step(w, cmds)
	}
	return cfg, w, step, players
}

// BenchmarkBroadcastShard is BenchmarkBroadcastSteady on the shard's own world: 2,100
// scripted players (the systems package's bots: gait and state changes every few
// seconds, accelerating, crossfading animations) instead of walkers in straight lines,
// 100 clients among them, 376-byte snapshots, acks two snapshots late, 1,000 snapshots
// of warm-up. B/record is issue 7's bytes per changed entity for this world.
func BenchmarkBroadcastShard(b *testing.B) {
	cfg := systems.DefaultConfig()
	w := ecs.New(ecs.Config{Seed: 5, Rate: 20})
	sim := systems.New(cfg)
	sim.Populate(w, 2100)
	views := make([]*game.ClientView, 100)
	for i := range views {
		views[i] = game.NewClientView(ecs.NetID(1 + i*21))
		views[i].BytesPerSnapshot = 376
	}
	benchViews(b, cfg, w, func() { sim.Step(w, nil) }, views, 2, 1000)
}

// benchViews encodes a snapshot of w for every view after every step (acks lag
// snapshots late), warm snapshots first, and reports the time per client-snapshot,
// bytes per record and records per packet.
func benchViews(b *testing.B, cfg systems.Config, w *ecs.World, step func(), views []*game.ClientView, lag, warm int) {
	ring := game.NewFrameRing(0)
	ring.ClipPeriods = cfg.Lib.ClipPeriods()
	enc := game.NewEncoder()
	var buf []byte
	var records, payload, examined, changed, tries int
	d := viewDriver{clients: len(views), lag: lag, jitter: envInt("JITTER", 0), warm: warm,
		reset: func() { records, payload, examined, changed, tries = 0, 0, 0, 0, 0 },
		held: func(i int, f *game.Frame) (ecs.NetID, func(id int) (uint32, bool)) {
			return views[i].Self, func(id int) (uint32, bool) { return game.HeldAge(views[i], f, id) }
		},
		encode: func(i int, f *game.Frame) {
			var err error
			if buf, err = enc.AppendSnapshot(buf[:0], f, views[i]); err != nil {
				b.Fatal(err)
			}
			records += enc.Stats.Records
			examined += enc.Stats.Examined
			tries += enc.Stats.Tries
			changed += enc.Stats.Changed
			if enc.Stats.Records > 0 {
				payload += enc.Stats.Size - game.SnapshotHeaderSize
			}
		},
		ack: func(i int, a game.Ack) { views[i].Ack(ring, a) },
	}
	packets, stale := d.run(b, ring, w, step)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/client-snapshot")
	b.ReportMetric(float64(payload)/float64(max(records, 1)), "B/record")
	b.ReportMetric(float64(records)/float64(packets), "records/packet")
	b.ReportMetric(float64(examined)/float64(packets), "examined/packet")
	b.ReportMetric(float64(changed)/float64(packets), "changed/packet")
	b.ReportMetric(float64(tries)/float64(packets), "tries/packet")
	stale.report(b)
}

// viewDriver is the loop of benchViews and BenchmarkCellStreamPlayers: after each step
// it captures a frame, encodes a snapshot for each of the clients and hands each
// client the ack of its snapshot lag frames back (every snapshot held), warm frames
// first (then reset), then the timed loop. Every staleEvery frames, outside the timer,
// it samples the first staleViews clients' staleness (held: a client's entity and
// how old the values it holds are).
type viewDriver struct {
	clients, lag, warm int
	jitter             int // each ack takes lag to lag+jitter snapshots
	reset              func()
	held               func(i int, f *game.Frame) (ecs.NetID, func(id int) (uint32, bool))
	encode             func(i int, f *game.Frame)
	ack                func(i int, a game.Ack)
}

// run runs the loop and returns the snapshots encoded in the timed loop and the
// staleness sampled then.
func (d *viewDriver) run(b *testing.B, ring *game.FrameRing, w *ecs.World, step func()) (packets int, stale *staleness) {
	type pending struct {
		due uint32
		a   game.Ack
	}
	acks := make([][]pending, d.clients) // per client, the acks in flight
	rng := rand.New(rand.NewPCG(7, 8))
	stale = &staleness{}
	tick := func() {
		f := ring.Capture(w)
		if f.ID%staleEvery == 0 {
			b.StopTimer()
			for i := range min(d.clients, staleViews) {
				self, age := d.held(i, f)
				stale.add(f, self, age)
			}
			b.StartTimer()
		}
		for i := range d.clients {
			d.encode(i, f)
			packets++
			q := acks[i][:0]
			for _, p := range acks[i] {
				if int32(f.ID-p.due) >= 0 {
					d.ack(i, p.a) // the ack of a snapshot lag (+ jitter) back arrives
				} else {
					q = append(q, p)
				}
			}
			due := f.ID + uint32(d.lag)
			if d.jitter > 0 {
				due += uint32(rng.IntN(d.jitter + 1))
			}
			acks[i] = append(q, pending{due: due, a: game.Ack{Newest: f.ID, Bits: ^uint32(0)}})
		}
	}
	for range d.warm {
		step()
		tick()
	}
	d.reset()
	packets, *stale = 0, staleness{}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		step()
		b.StartTimer()
		tick()
	}
	return packets, stale
}

// envInt returns the environment variable name as an integer, or def when it is not
// set or not a number (the benchmarks' NV, LAG, JITTER).
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// staleness accumulates, for clients sampled every staleEvery snapshots (the first
// staleViews of them, outside the timer), how old the values they hold are (as their
// server-side views know them: acked) by distance: near (the own cell and the next,
// as NearRadius), mid (2 to 3 cells away) and far (4 and more); an entity not held
// counts apart.
type staleness struct{ age, held, n [3]float64 }

const (
	staleEvery = 10
	staleViews = 100
)

func (s *staleness) add(f *game.Frame, self ecs.NetID, heldAge func(id int) (uint32, bool)) {
	sx, sy, ok := game.CellOf(f, int(self))
	if !ok {
		return
	}
	cols, rows := game.GridSize(f)
	for cy := range rows {
		for cx := range cols {
			r := max(abs(cx-sx), abs(cy-sy))
			ring := 2
			if r <= game.NearRadius {
				ring = 0
			} else if r <= 3 {
				ring = 1
			}
			for _, id := range game.CellEntities(f, cx, cy) {
				s.n[ring]++
				if age, held := heldAge(int(id)); held {
					s.held[ring]++
					s.age[ring] += float64(age)
				}
			}
		}
	}
}

// report adds the mean age (in snapshots) of the values held, and the share of
// entities not held, per distance.
func (s *staleness) report(b *testing.B) {
	if s.n[0] == 0 {
		return
	}
	for i, name := range []string{"near", "mid", "far"} {
		b.ReportMetric(s.age[i]/max(s.held[i], 1), name+"-age")
		b.ReportMetric(100*(1-s.held[i]/max(s.n[i], 1)), name+"-unheld%")
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// BenchmarkCellStreamPlayers is BenchmarkBroadcastPlayers (same world, views, budget,
// acks LAG snapshots late, NV clients) with cell streams (protocol version 5) instead of
// the per-client encoder: each client holds each cell as of one snapshot, snapshots
// carry whole cells, and the block of a (cell, copy) pair is coded once per frame for
// every client that needs it. blocks/packet: cells per snapshot; built/packet: blocks
// coded per client snapshot (the rest are copies).
func BenchmarkCellStreamPlayers(b *testing.B) {
	cfg, w, step, players := playersWorld()
	nv := envInt("NV", 100)
	lag := envInt("LAG", 3)
	views := make([]*game.CellView, nv)
	for i := range views {
		views[i] = game.NewCellView(players[i*2000/nv])
	}
	ring := game.NewFrameRing(0)
	ring.ClipPeriods = cfg.Lib.ClipPeriods()
	enc := game.NewCellEncoder()
	var buf []byte
	var records, payload, blocks, built, news int
	d := viewDriver{clients: len(views), lag: lag, jitter: envInt("JITTER", 0), warm: 600,
		reset: func() { records, payload, blocks, built, news = 0, 0, 0, 0, 0 },
		held: func(i int, f *game.Frame) (ecs.NetID, func(id int) (uint32, bool)) {
			return views[i].Self, func(id int) (uint32, bool) { return views[i].Holds(f, id) }
		},
		encode: func(i int, f *game.Frame) {
			var err error
			if buf, err = enc.AppendSnapshot(buf[:0], f, views[i]); err != nil {
				b.Fatal(err)
			}
			st := &enc.Stats
			records += st.Records
			payload += st.Size - game.CellSnapshotHeaderSize
			blocks += st.Blocks
			built += st.Built
			news += st.News
		},
		ack: func(i int, a game.Ack) { views[i].Ack(a) },
	}
	packets, stale := d.run(b, ring, w, step)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/client-snapshot")
	b.ReportMetric(float64(payload)/float64(max(records, 1)), "B/record")
	b.ReportMetric(float64(records)/float64(packets), "records/packet")
	b.ReportMetric(float64(payload+packets*game.CellSnapshotHeaderSize)/float64(packets), "B/packet")
	b.ReportMetric(float64(blocks)/float64(packets), "blocks/packet")
	b.ReportMetric(float64(built)/float64(packets), "built/packet")
	b.ReportMetric(float64(news)/float64(packets), "new/packet")
	stale.report(b)
}
