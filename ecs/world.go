package ecs

import (
	"fmt"
	"math/rand/v2"

	arche "github.com/mlange-42/arche/ecs"
)

// Phase is the session's game state.
type Phase uint8

// Session phases. Values are part of the snapshot format: never renumber.
const (
	PhaseLobby        Phase = 0
	PhasePlaying      Phase = 1
	PhaseIntermission Phase = 2
	phaseCount              = 3
)

func (p Phase) String() string {
	switch p {
	case PhaseLobby:
		return "lobby"
	case PhasePlaying:
		return "playing"
	case PhaseIntermission:
		return "intermission"
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// Globals are the world's resources: everything in the state that is not a component.
type Globals struct {
	Tick   uint64 // number of steps taken since the world began
	Rate   uint16 // ticks per second (fixed step = 1/Rate s)
	ArenaW int32  // arena width, µm; positions lie in [0, ArenaW]
	ArenaH int32  // arena height, µm
	Seed   uint64 // the seed the world was created with

	// Session game state (see systems.Transition).
	Phase      Phase
	PhaseSince uint64 // tick at which Phase was entered
	Round      uint32 // number of times PhasePlaying was entered
	Rejected   uint32 // number of game-state transitions rejected by validation
}

// Config describes a new world.
type Config struct {
	Seed   uint64
	Rate   uint16 // ticks per second; 0 means 30
	ArenaW int32  // µm; 0 means 256 m
	ArenaH int32  // µm; 0 means 256 m
}

// Defaults of [Config].
const (
	DefaultRate  = 30
	DefaultArena = 256 * MicrometresPerMetre
	// MaxArena bounds the arena so that positions and their sums fit an int32.
	MaxArena = 1 << 30
	// MaxEntities bounds the number of entities a world (and a snapshot) may hold.
	MaxEntities = 1 << 20
)

// Comps are the arche component ids of a world, for systems that query it directly.
type Comps struct {
	ID, Pos, Vel, Heading, Input, Anim, Pose, Player, Brain arche.ID
}

// World is one shard's state. It is not safe for concurrent use: one goroutine steps it.
type World struct {
	G Globals
	C Comps

	ecs   arche.World
	rng   rand.PCG
	byNet []arche.Entity // index NetID -> entity; the zero Entity marks a free id
	count int
	all   arche.CachedFilter // every player entity
	bots  arche.CachedFilter // every scripted bot

	scratch  []Record // reused by AppendSnapshot
	canvases []Canvas // in ascending id order
}

// New returns an empty world for cfg. It panics if cfg is out of range (programmer error);
// validate user-supplied values with [Config.Validate] first.
func New(cfg Config) *World {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg = cfg.withDefaults()
	w := newWorld()
	w.G = Globals{Rate: cfg.Rate, ArenaW: cfg.ArenaW, ArenaH: cfg.ArenaH, Seed: cfg.Seed}
	w.rng = *rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)
	return w
}

func (c Config) withDefaults() Config {
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if c.ArenaW == 0 {
		c.ArenaW = DefaultArena
	}
	if c.ArenaH == 0 {
		c.ArenaH = DefaultArena
	}
	return c
}

// Validate reports whether c describes a world New can build.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Rate > 1000 {
		return fmt.Errorf("ecs: tick rate %d out of range [1, 1000]", c.Rate)
	}
	if c.ArenaW <= 0 || c.ArenaW > MaxArena || c.ArenaH <= 0 || c.ArenaH > MaxArena {
		return fmt.Errorf("ecs: arena %d×%d µm out of range (0, %d]", c.ArenaW, c.ArenaH, MaxArena)
	}
	return nil
}

func newWorld() *World {
	w := &World{ecs: arche.NewWorld(1024)}
	w.C = Comps{
		ID:      arche.ComponentID[ID](&w.ecs),
		Pos:     arche.ComponentID[Position](&w.ecs),
		Vel:     arche.ComponentID[Velocity](&w.ecs),
		Heading: arche.ComponentID[Heading](&w.ecs),
		Input:   arche.ComponentID[Input](&w.ecs),
		Anim:    arche.ComponentID[Anim](&w.ecs),
		Pose:    arche.ComponentID[Pose](&w.ecs),
		Player:  arche.ComponentID[Player](&w.ecs),
		Brain:   arche.ComponentID[Brain](&w.ecs),
	}
	w.all = w.ecs.Cache().Register(arche.All(w.C.ID, w.C.Pos, w.C.Vel, w.C.Heading, w.C.Input, w.C.Anim, w.C.Pose, w.C.Player))
	w.bots = w.ecs.Cache().Register(arche.All(w.C.ID, w.C.Brain))
	w.byNet = make([]arche.Entity, 1, 1024) // NetID 0 is never used
	return w
}

// Arche returns the underlying arche world, for systems that query components directly.
func (w *World) Arche() *arche.World { return &w.ecs }

// Players returns the cached filter matching every player entity.
func (w *World) Players() *arche.CachedFilter { return &w.all }

// Bots returns the cached filter matching every scripted bot (entities with a Brain).
func (w *World) Bots() *arche.CachedFilter { return &w.bots }

// Len returns the number of player entities.
func (w *World) Len() int { return w.count }

// MaxNetID returns one more than the largest NetID ever in use; ids in [1, MaxNetID) may
// be looked up with [World.Entity].
func (w *World) MaxNetID() NetID { return NetID(len(w.byNet)) }

// Entity returns the arche entity of id, and whether id is in use.
func (w *World) Entity(id NetID) (arche.Entity, bool) {
	if id == 0 || int(id) >= len(w.byNet) {
		return arche.Entity{}, false
	}
	e := w.byNet[id]
	return e, !e.IsZero()
}

// Spawn describes a new player entity.
type Spawn struct {
	Pos     Position
	Heading Heading
	Anim    Anim
	Brain   *Brain // non-nil for a scripted bot
}

// Spawn creates a player entity with the lowest free NetID and returns that id.
// It returns 0 when the world already holds [MaxEntities] entities.
func (w *World) Spawn(s Spawn) NetID {
	if w.count >= MaxEntities {
		return 0
	}
	id := NetID(0)
	for i := 1; i < len(w.byNet); i++ {
		if w.byNet[i].IsZero() {
			id = NetID(i)
			break
		}
	}
	if id == 0 {
		id = NetID(len(w.byNet))
		w.byNet = append(w.byNet, arche.Entity{})
	}
	w.spawnAt(id, s)
	return id
}

func (w *World) spawnAt(id NetID, s Spawn) {
	c := &w.C
	var e arche.Entity
	if s.Brain != nil {
		e = w.ecs.NewEntity(c.ID, c.Pos, c.Vel, c.Heading, c.Input, c.Anim, c.Pose, c.Player, c.Brain)
		*(*Brain)(w.ecs.Get(e, c.Brain)) = *s.Brain
	} else {
		e = w.ecs.NewEntity(c.ID, c.Pos, c.Vel, c.Heading, c.Input, c.Anim, c.Pose, c.Player)
	}
	*(*ID)(w.ecs.Get(e, c.ID)) = ID{Net: id}
	*(*Position)(w.ecs.Get(e, c.Pos)) = s.Pos
	*(*Heading)(w.ecs.Get(e, c.Heading)) = s.Heading
	*(*Anim)(w.ecs.Get(e, c.Anim)) = s.Anim
	w.byNet[id] = e
	w.count++
}

// Despawn removes player id and frees its NetID. It reports whether id was in use.
func (w *World) Despawn(id NetID) bool {
	e, ok := w.Entity(id)
	if !ok {
		return false
	}
	w.ecs.RemoveEntity(e)
	w.byNet[id] = arche.Entity{}
	w.count--
	// Trim trailing free ids so MaxNetID (and the id scan in Spawn) stays tight.
	for len(w.byNet) > 1 && w.byNet[len(w.byNet)-1].IsZero() {
		w.byNet = w.byNet[:len(w.byNet)-1]
	}
	return true
}

// Get returns a pointer to component comp of entity e. e must be alive and have comp.
func Get[T any](w *World, e arche.Entity, comp arche.ID) *T {
	return (*T)(w.ecs.GetUnchecked(e, comp))
}

// HasBrain reports whether e is a scripted bot.
func (w *World) HasBrain(e arche.Entity) bool { return w.ecs.HasUnchecked(e, w.C.Brain) }

// Rand returns the world's PRNG: PCG-DXSM with 128 bits of state (math/rand/v2 PCG),
// part of every snapshot. It is the only source of randomness the step may use.
func (w *World) Rand() *rand.PCG { return &w.rng }

// RandN returns a uniformly distributed number in [0, n) drawn from the world's PRNG,
// by Lemire's multiply-shift method (one draw, no rejection: bias below 2^-32 for the
// small n the systems use). It panics if n == 0.
func (w *World) RandN(n uint32) uint32 {
	if n == 0 {
		panic("ecs: RandN(0)")
	}
	return uint32((w.rng.Uint64() >> 32) * uint64(n) >> 32)
}

// Clone returns a detached ("orphan") copy of w with equal content, built through the
// canonical snapshot. Changes to the copy never touch w.
func (w *World) Clone() *World {
	c, err := Restore(w.AppendSnapshot(nil))
	if err != nil {
		panic(fmt.Sprintf("ecs: clone of a valid world failed: %v", err)) // a bug in the codec
	}
	return c
}
