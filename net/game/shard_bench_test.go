package game_test

import (
	"testing"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/systems"
)

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
	ring := game.NewFrameRing(0)
	ring.ClipPeriods = cfg.Lib.ClipPeriods()
	enc := game.NewEncoder()
	const clients, lag = 100, 2
	views := make([]*game.ClientView, clients)
	acks := make([][lag]game.Ack, clients) // ring: the acks of the last lag snapshots
	for i := range views {
		views[i] = game.NewClientView(ecs.NetID(1 + i*21))
		views[i].BytesPerSnapshot = 376
	}
	var buf []byte
	var records, payload, packets int
	tick := func() {
		f := ring.Capture(w)
		for i, v := range views {
			var err error
			if buf, err = enc.AppendSnapshot(buf[:0], f, v); err != nil {
				b.Fatal(err)
			}
			records += enc.Stats.Records
			if enc.Stats.Records > 0 {
				payload += enc.Stats.Size - game.SnapshotHeaderSize
			}
			packets++
			slot := &acks[i][f.ID%lag]
			if slot.Newest != 0 {
				v.Ack(ring, *slot) // the ack of snapshot f.ID−lag arrives
			}
			*slot = game.Ack{Newest: f.ID, Bits: ^uint32(0)}
		}
	}
	for range 1000 {
		sim.Step(w, nil)
		tick()
	}
	records, payload, packets = 0, 0, 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		sim.Step(w, nil)
		b.StartTimer()
		tick()
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/client-snapshot")
	b.ReportMetric(float64(payload)/float64(max(records, 1)), "B/record")
	b.ReportMetric(float64(records)/float64(packets), "records/packet")
}
