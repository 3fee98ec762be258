package game

import (
	"math"
	"math/rand/v2"
	"testing"

	arche "github.com/mlange-42/arche/ecs"

	"github.com/shardsim/shardsim/ecs"
)

// sim is a test world whose entities walk in straight lines (turning now and then) and
// whose animations advance, stepped by writing components directly.
type sim struct {
	w   *ecs.World
	rng *rand.Rand
	ids []ecs.NetID
}

func newSim(tb testing.TB, n int, seed uint64) *sim {
	tb.Helper()
	s := &sim{w: ecs.New(ecs.Config{Seed: seed, Rate: 20}), rng: rand.New(rand.NewPCG(seed, 1))}
	for i := 0; i < n; i++ {
		id := s.w.Spawn(ecs.Spawn{
			Pos:     ecs.Position{X: s.rng.Int32N(s.w.G.ArenaW), Y: s.rng.Int32N(s.w.G.ArenaH)},
			Heading: ecs.Heading{Angle: uint16(s.rng.Uint32())},
			Anim:    ecs.Anim{Machine: 1, State: uint16(i % 3), Clip: uint16(10 + i%3), Speed: 1000, Time: s.rng.Int32N(1_000_000)},
		})
		e, _ := s.w.Entity(id)
		*ecs.Get[ecs.Player](s.w, e, s.w.C.Player) = ecs.Player{Team: uint8(i % 4)}
		s.turn(e)
		s.ids = append(s.ids, id)
	}
	return s
}

// turn gives entity e a new walking direction.
func (s *sim) turn(e arche.Entity) {
	w := s.w
	a := s.rng.Float64() * 2 * math.Pi
	const speed = 1500 // mm/s
	*ecs.Get[ecs.Velocity](w, e, w.C.Vel) = ecs.Velocity{X: int32(speed * math.Cos(a)), Y: int32(speed * math.Sin(a))}
	ecs.Get[ecs.Heading](w, e, w.C.Heading).Angle = uint16(a / (2 * math.Pi) * 65536)
}

// simClipPeriods are the periods of the test world's clips (10, 11, 12): step wraps
// their time every 2 s.
var simClipPeriods = []int32{10: 2_000_000, 11: 2_000_000, 12: 2_000_000}

// step advances the world by one tick: the given fraction of the entities walk and
// animate, the others stand still.
func (s *sim) step(moving float64) {
	w := s.w
	w.G.Tick++
	dt := int32(ecs.MicrosPerSecond / int32(w.G.Rate))
	for i, id := range s.ids {
		e, ok := w.Entity(id)
		if !ok {
			continue
		}
		pos := ecs.Get[ecs.Position](w, e, w.C.Pos)
		vel := ecs.Get[ecs.Velocity](w, e, w.C.Vel)
		anim := ecs.Get[ecs.Anim](w, e, w.C.Anim)
		anim.Time = (anim.Time + dt*anim.Speed/1000) % 2_000_000
		if float64(i%100)/100 >= moving {
			continue
		}
		if s.rng.IntN(40) == 0 {
			s.turn(e)
		}
		pos.X += vel.X * dt / 1000 // mm/s × µs → µm: v·dt/1000
		pos.Y += vel.Y * dt / 1000
		if pos.X < 0 || pos.X > w.G.ArenaW {
			vel.X = -vel.X
			pos.X = max(0, min(pos.X, w.G.ArenaW))
		}
		if pos.Y < 0 || pos.Y > w.G.ArenaH {
			vel.Y = -vel.Y
			pos.Y = max(0, min(pos.Y, w.G.ArenaH))
		}
	}
}

// freeze stops every entity and animation, so the world's network view stays constant
// as ticks pass.
func (s *sim) freeze() {
	w := s.w
	for _, id := range s.ids {
		if e, ok := w.Entity(id); ok {
			*ecs.Get[ecs.Velocity](w, e, w.C.Vel) = ecs.Velocity{}
			ecs.Get[ecs.Anim](w, e, w.C.Anim).Speed = 0
		}
	}
}

// seenMap is a seenSource for payload tests: the snapshot that wrote each entity's
// value (absent: not held).
type seenMap map[uint16]uint32

// basePredK: a seenMap is a baseline whose prediction scale is seenMapPredK.
func (m seenMap) basePredK() ([2]uint16, bool) { return seenMapPredK, true }

var seenMapPredK = [2]uint16{1000, 2000}

// emptyTable is the seenSource of a full snapshot: no baseline.
type emptyTable struct{}

func (emptyTable) seenOf(uint16) (uint32, bool) { return 0, false }
func (emptyTable) basePredK() ([2]uint16, bool) { return [2]uint16{}, false }

func (m seenMap) seenOf(id uint16) (uint32, bool) {
	s, ok := m[id]
	return s, ok
}
