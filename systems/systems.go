package systems

import (
	"fmt"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/systems/anim"
)

// SimVersion identifies the simulation rules. Bump it whenever a change to a system
// changes the state a step produces: replays record it and refuse to verify across it.
const SimVersion = 2 // 2: canvases and CmdPlaceCanvas; state hash SSH2

// Config holds the tunables of the fixed-step pipeline. Speeds are mm/s, accelerations
// mm/s².
type Config struct {
	Lib        *anim.Library
	WalkSpeed  int32 // top speed walking
	RunSpeed   int32 // top speed with ButtonRun
	Accel      int32 // toward the wished velocity while the stick is held
	Friction   int32 // toward standstill with the stick released
	Brake      int32 // toward standstill with ButtonStop
	MinPlayers int   // players needed to enter PhasePlaying
}

// DefaultConfig returns the built-in tuning and animation library.
func DefaultConfig() Config {
	return Config{
		Lib:        anim.DefaultLibrary(),
		WalkSpeed:  1_400,
		RunSpeed:   4_500,
		Accel:      12_000,
		Friction:   8_000,
		Brake:      25_000,
		MinPlayers: 2,
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Lib == nil {
		return fmt.Errorf("systems: no animation library")
	}
	if err := c.Lib.Validate(); err != nil {
		return fmt.Errorf("systems: %w", err)
	}
	if c.WalkSpeed <= 0 || c.RunSpeed < c.WalkSpeed || c.RunSpeed > 100_000 {
		return fmt.Errorf("systems: gait speeds walk %d, run %d mm/s out of range", c.WalkSpeed, c.RunSpeed)
	}
	if c.Accel <= 0 || c.Friction <= 0 || c.Brake <= 0 {
		return fmt.Errorf("systems: accelerations must be positive")
	}
	return nil
}

// Joined reports a player spawned by a CmdJoin: the caller's reference and the id given.
type Joined struct {
	Ref uint32
	ID  ecs.NetID
}

// Rejection reports a game-state transition that validation refused.
type Rejection struct {
	From, To ecs.Phase
	Reason   string
}

// Placed reports a canvas placed by a CmdPlaceCanvas.
type Placed struct {
	Player ecs.NetID
	Canvas ecs.CanvasID
	Art    ecs.Art
}

// Result is what one step did besides changing the world. Its slices are reused by the
// next step of the same [Sim].
type Result struct {
	Joined   []Joined
	Left     []ecs.NetID
	Rejected []Rejection
	Placed   []Placed
	Ignored  int // commands naming a player that does not exist, an unknown kind, bad art
}

// Sim runs the fixed-step pipeline on a world. One Sim steps one world from one
// goroutine; it holds only configuration and reusable scratch space, never state.
type Sim struct {
	cfg Config
	res Result
	due []ecs.NetID // scratch: bots whose decision is due this tick

	// Hook, when set, runs at the end of every step. It is for tests and tools that
	// must perturb or observe a step (for example to prove that divergence reporting
	// finds a deliberately introduced fault); the simulation itself never sets it.
	Hook func(w *ecs.World)
}

// New returns a Sim for cfg. It panics on an invalid cfg (check [Config.Validate]).
func New(cfg Config) *Sim {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return &Sim{cfg: cfg}
}

// Config returns the Sim's configuration.
func (s *Sim) Config() *Config { return &s.cfg }

// Step advances w by one tick: it applies cmds in order (input, join, leave, game-state
// commands), then runs the scripted bots, movement and animation, and increments the
// tick. The returned Result is valid until the next call.
func (s *Sim) Step(w *ecs.World, cmds []ecs.Command) *Result {
	s.res.Joined = s.res.Joined[:0]
	s.res.Left = s.res.Left[:0]
	s.res.Rejected = s.res.Rejected[:0]
	s.res.Placed = s.res.Placed[:0]
	s.res.Ignored = 0
	for i := range cmds {
		s.apply(w, &cmds[i])
	}
	s.runBots(w)
	s.runMovement(w)
	s.runAnimation(w)
	w.G.Tick++
	if s.Hook != nil {
		s.Hook(w)
	}
	return &s.res
}

func (s *Sim) apply(w *ecs.World, c *ecs.Command) {
	switch c.Kind {
	case ecs.CmdInput:
		e, ok := w.Entity(c.Player)
		if !ok {
			s.res.Ignored++
			return
		}
		*ecs.Get[ecs.Input](w, e, w.C.Input) = clampInput(c.Input)
	case ecs.CmdJoin:
		id := s.SpawnPlayer(w, nil)
		if id == 0 {
			s.res.Ignored++
			return
		}
		s.res.Joined = append(s.res.Joined, Joined{Ref: c.Arg, ID: id})
	case ecs.CmdLeave:
		if !w.Despawn(c.Player) {
			s.res.Ignored++
			return
		}
		s.res.Left = append(s.res.Left, c.Player)
	case ecs.CmdGameState:
		if c.Arg > 255 {
			s.res.Ignored++
			return
		}
		from := w.G.Phase
		if err := s.Transition(w, ecs.Phase(c.Arg)); err != nil {
			s.res.Rejected = append(s.res.Rejected, Rejection{From: from, To: ecs.Phase(c.Arg), Reason: err.Error()})
		}
	case ecs.CmdPlaceCanvas:
		// The canvas stands where its uploader stands, facing the same way.
		e, ok := w.Entity(c.Player)
		if !ok {
			s.res.Ignored++
			return
		}
		id, err := w.PlaceCanvas(c.Player, *ecs.Get[ecs.Position](w, e, w.C.Pos), *ecs.Get[ecs.Heading](w, e, w.C.Heading), c.Art)
		if err != nil {
			s.res.Ignored++
			return
		}
		s.res.Placed = append(s.res.Placed, Placed{Player: c.Player, Canvas: id, Art: c.Art})
	default:
		s.res.Ignored++
	}
}

// clampInput limits the stick to the documented range (−127 is allowed; −128 is not).
func clampInput(in ecs.Input) ecs.Input {
	if in.MoveX == -128 {
		in.MoveX = -127
	}
	if in.MoveY == -128 {
		in.MoveY = -127
	}
	in.Buttons &= ecs.ButtonRun | ecs.ButtonEmote | ecs.ButtonStop
	return in
}

// SpawnPlayer spawns a player at a position drawn from the world's PRNG, idle in the
// default state machine. A non-nil brain makes it a scripted bot. It returns 0 when the
// world is full.
func (s *Sim) SpawnPlayer(w *ecs.World, brain *ecs.Brain) ecs.NetID {
	x := int32(w.RandN(uint32(w.G.ArenaW)))
	y := int32(w.RandN(uint32(w.G.ArenaH)))
	var a ecs.Anim
	if err := anim.SetMachine(s.cfg.Lib, &a, anim.MachinePlayer); err != nil {
		panic(err) // the library was validated in New
	}
	return w.Spawn(ecs.Spawn{Pos: ecs.Position{X: x, Y: y}, Anim: a, Brain: brain})
}

// Populate spawns n scripted bots whose first decision falls on a tick drawn from the
// world's PRNG, so they do not all act at once.
func (s *Sim) Populate(w *ecs.World, n int) {
	for range n {
		b := ecs.Brain{NextTick: w.G.Tick + uint64(w.RandN(uint32(w.G.Rate)))}
		if s.SpawnPlayer(w, &b) == 0 {
			return
		}
	}
}
