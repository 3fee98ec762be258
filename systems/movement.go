package systems

import "github.com/shardsim/shardsim/ecs"

// runMovement integrates every player one fixed step: velocity moves toward the velocity
// the input wishes for (bounded by the acceleration of the gait, or friction or brake
// when releasing), positions advance by velocity·dt, and the arena walls stop the
// normal component of motion while the tangential one slides on. Entities are
// independent of each other, so arche's storage order is fine.
func (s *Sim) runMovement(w *ecs.World) {
	c := &w.C
	m := mover{cfg: &s.cfg, rate: int64(w.G.Rate), W: int64(w.G.ArenaW), H: int64(w.G.ArenaH)}
	frozen := w.G.Phase == ecs.PhaseIntermission
	playing := w.G.Phase == ecs.PhasePlaying
	q := w.Arche().Query(w.Players())
	for q.Next() {
		v := (*ecs.Velocity)(q.Get(c.Vel))
		if frozen {
			*v = ecs.Velocity{}
			continue
		}
		in := (*ecs.Input)(q.Get(c.Input))
		if in.MoveX == 0 && in.MoveY == 0 && v.X == 0 && v.Y == 0 {
			continue // at rest and staying so: nothing moves
		}
		if m.move(in, v, (*ecs.Position)(q.Get(c.Pos)), (*ecs.Heading)(q.Get(c.Heading))) && playing {
			(*ecs.Player)(q.Get(c.Player)).Score++ // a point per tick spent running
		}
	}
}

// mover integrates one entity; it holds the per-tick constants of runMovement.
type mover struct {
	cfg  *Config
	rate int64
	W, H int64
}

// move advances one entity by one tick and reports whether it is faster than walking.
func (m *mover) move(in *ecs.Input, v *ecs.Velocity, p *ecs.Position, h *ecs.Heading) bool {
	cfg := m.cfg
	stick := in.MoveX != 0 || in.MoveY != 0
	var wx, wy int64 // wished velocity, mm/s
	accel := int64(cfg.Friction)
	switch {
	case in.Buttons&ecs.ButtonStop != 0:
		accel = int64(cfg.Brake)
	case stick:
		speed := int64(cfg.WalkSpeed)
		if in.Buttons&ecs.ButtonRun != 0 {
			speed = int64(cfg.RunSpeed)
		}
		mx, my := int64(in.MoveX), int64(in.MoveY)
		den := max(int64(isqrt(uint64(mx*mx+my*my))), 127)
		wx, wy = mx*speed/den, my*speed/den
		accel = int64(cfg.Accel)
	}
	step := accel / m.rate // mm/s per tick
	dx, dy := wx-int64(v.X), wy-int64(v.Y)
	if d := int64(isqrt(uint64(dx*dx + dy*dy))); d <= step {
		v.X, v.Y = int32(wx), int32(wy)
	} else {
		v.X += int32(dx * step / d)
		v.Y += int32(dy * step / d)
	}

	nx := int64(p.X) + int64(v.X)*1000/m.rate
	ny := int64(p.Y) + int64(v.Y)*1000/m.rate
	if nx < 0 {
		nx, v.X = 0, max(v.X, 0)
	} else if nx > m.W {
		nx, v.X = m.W, min(v.X, 0)
	}
	if ny < 0 {
		ny, v.Y = 0, max(v.Y, 0)
	} else if ny > m.H {
		ny, v.Y = m.H, min(v.Y, 0)
	}
	p.X, p.Y = int32(nx), int32(ny)

	sp2 := int64(v.X)*int64(v.X) + int64(v.Y)*int64(v.Y)
	if sp2 > 100*100 { // face where you go once faster than 0.1 m/s
		h.Angle = atan2(int64(v.Y), int64(v.X))
	}
	return sp2 > int64(cfg.WalkSpeed)*int64(cfg.WalkSpeed)
}
