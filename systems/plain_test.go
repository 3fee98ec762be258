package systems

import (
	"testing"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/systems/anim"
)

// plainWorld holds the same per-entity state as the ECS world in plain Go slices, for
// the baseline benchmark: it shows what arche's storage costs against the same work.
type plainWorld struct {
	rec []ecs.Record
}

func (p *plainWorld) step(s *Sim, g *ecs.Globals) uint64 {
	m := mover{cfg: &s.cfg, rate: int64(g.Rate), W: int64(g.ArenaW), H: int64(g.ArenaH)}
	dt := int32(ecs.MicrosPerSecond / int32(g.Rate))
	var sum uint64
	for i := range p.rec {
		r := &p.rec[i]
		if r.In.MoveX != 0 || r.In.MoveY != 0 || r.Vel.X != 0 || r.Vel.Y != 0 {
			m.move(&r.In, &r.Vel, &r.Pos, &r.Head)
		}
		anim.Advance(s.cfg.Lib, &r.Anim, anim.ParamsFrom(r.In, r.Vel), dt)
		anim.Apply(s.cfg.Lib, &r.Anim, &r.Pose)
		sum += ecs.HashRecord(r)
	}
	return sum
}

// BenchmarkStepPlainSlices does the movement, animation and hash work of BenchmarkStep
// over plain slices (no bots, no ECS), so the ratio of the two shows the ECS overhead.
func BenchmarkStepPlainSlices(b *testing.B) {
	for _, n := range []int{2000, 100_000} {
		b.Run(itoa(n), func(b *testing.B) {
			w, s := newTest(b, 7)
			s.Populate(w, n)
			for range 60 {
				s.Step(w, nil)
			}
			p := plainWorld{rec: w.State().Records}
			b.ReportAllocs()
			for b.Loop() {
				_ = p.step(s, &w.G)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/entity")
		})
	}
}
