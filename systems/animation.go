package systems

import (
	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/systems/anim"
)

// runAnimation advances every player's animation tree by one tick (state-machine
// transitions on speed and input, crossfades) and writes the blended track values into
// its Pose. Entities are independent, so arche's storage order is fine.
func (s *Sim) runAnimation(w *ecs.World) {
	c := &w.C
	lib := s.cfg.Lib
	dt := int32(ecs.MicrosPerSecond / int32(w.G.Rate))
	q := w.Arche().Query(w.Players())
	for q.Next() {
		a := (*ecs.Anim)(q.Get(c.Anim))
		p := anim.ParamsFrom(*(*ecs.Input)(q.Get(c.Input)), *(*ecs.Velocity)(q.Get(c.Vel)))
		anim.Advance(lib, a, p, dt)
		anim.Apply(lib, a, (*ecs.Pose)(q.Get(c.Pose)))
	}
}
