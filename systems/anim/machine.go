package anim

import (
	"fmt"
	"math"

	"github.com/shardsim/shardsim/ecs"
)

// MaxSpeed is the largest per-mille playback speed of a [State] (100×).
const MaxSpeed = 100_000

// AnyState as a [Transition]'s From matches every state except the transition's To.
const AnyState uint16 = math.MaxUint16

// MaxClauses is the number of clauses of a [Condition].
const MaxClauses = 4

// Params are the inputs of a state machine's conditions for one entity and tick. Build
// them with [ParamsFrom] or by hand.
type Params struct {
	Speed   int32 // planar speed, mm/s (>= 0)
	Stick   int32 // stick deflection 0..127; 0 = stick released
	Buttons uint8 // ecs.ButtonRun | ecs.ButtonEmote | ecs.ButtonStop bits
	Emote   uint8 // the emote selected with ecs.ButtonEmote (ecs.Input.Emote)
}

// ParamsFrom derives [Params] from a player's input and velocity: Speed = ⌊|v|⌋ in mm/s
// (saturated to int32), Stick = ⌊|(MoveX, MoveY)|⌋ clamped to 127. Integer only.
func ParamsFrom(in ecs.Input, v ecs.Velocity) Params {
	vx, vy := int64(v.X), int64(v.Y)
	sx, sy := int64(in.MoveX), int64(in.MoveY)
	return Params{
		Speed:   int32(min(isqrt(uint64(vx*vx)+uint64(vy*vy)), math.MaxInt32)),
		Stick:   int32(min(isqrt(uint64(sx*sx+sy*sy)), 127)),
		Buttons: in.Buttons,
		Emote:   in.Emote,
	}
}

// Param selects the value a [Clause] tests.
type Param uint8

// Parameters a clause can test.
const (
	ParamSpeed   Param = iota // Params.Speed, mm/s
	ParamStick                // Params.Stick, 0..127
	ParamButtons              // Params.Buttons (test with OpAllSet / OpNoneSet)
	ParamEmote                // Params.Emote
	ParamInState              // ecs.Anim.InState: µs spent in the current state
	numParams
)

// Op is the comparison of a [Clause]: param Op Value.
type Op uint8

// Comparisons. The zero Op, OpTrue, makes an unused clause.
const (
	OpTrue    Op = iota // always true
	OpLT                // param < Value
	OpLE                // param <= Value
	OpGT                // param > Value
	OpGE                // param >= Value
	OpEQ                // param == Value
	OpNE                // param != Value
	OpAllSet            // param & Value == Value (all bits set)
	OpNoneSet           // param & Value == 0 (no bit set)
	numOps
)

// Clause is one comparison: Param Op Value.
type Clause struct {
	Param Param
	Op    Op
	Value int32
}

// Condition is the AND of its clauses; unused clauses (zero value, OpTrue) are true, so
// the zero Condition always holds. It is plain data: machines compare and copy as values.
type Condition [MaxClauses]Clause

// holds reports whether every clause of c is true.
func (c *Condition) holds(p *Params, inState int32) bool {
	for i := range c {
		cl := &c[i]
		if cl.Op == OpTrue {
			continue
		}
		var v int32
		switch cl.Param {
		case ParamSpeed:
			v = p.Speed
		case ParamStick:
			v = p.Stick
		case ParamButtons:
			v = int32(p.Buttons)
		case ParamEmote:
			v = int32(p.Emote)
		case ParamInState:
			v = inState
		default:
			return false
		}
		var ok bool
		switch cl.Op {
		case OpLT:
			ok = v < cl.Value
		case OpLE:
			ok = v <= cl.Value
		case OpGT:
			ok = v > cl.Value
		case OpGE:
			ok = v >= cl.Value
		case OpEQ:
			ok = v == cl.Value
		case OpNE:
			ok = v != cl.Value
		case OpAllSet:
			ok = v&cl.Value == cl.Value
		case OpNoneSet:
			ok = v&cl.Value == 0
		}
		if !ok {
			return false
		}
	}
	return true
}

// State is a state of a [Machine]: it plays animation Clip at Speed.
type State struct {
	Name  string
	Clip  uint16 // animation id in the Library
	Speed int32  // playback speed, per-mille, in [0, MaxSpeed]
}

// Transition leads from state From (or [AnyState]) to state To when When holds — and,
// with AtEnd, only in a tick in which the current clip reached its end (Godot's
// SWITCH_MODE_AT_END): for LoopNone once its time reached Length (and from then on, as
// the clip holds there), for LoopLinear each time it wraps, for LoopPingPong each time a
// whole forth-and-back cycle completes. Fade is the crossfade in µs (0 = cut).
type Transition struct {
	From, To uint16
	When     Condition
	Fade     int32
	AtEnd    bool
}

// Machine is a state machine resource (Godot's AnimationNodeStateMachine). Entities
// start in Start. Transitions have priority in declared order: each [Advance] fires the
// first one that matches, and at most one.
type Machine struct {
	Name        string
	Start       uint16
	States      []State
	Transitions []Transition
}

// Advance moves one entity's animation state a forward by dtMicros µs with inputs p.
// In order:
//
//  1. A running crossfade counts down by dtMicros; the fading-out clip's time advances by
//     dtMicros (at speed 1.0, as ecs.Anim keeps no speed for it). When the fade runs out,
//     PrevClip, PrevTime, FadeLeft and FadeTotal are all reset to 0.
//  2. Time advances by floor(dtMicros·Speed/1000) µs and is kept wrapped: clamped to
//     Length (LoopNone), in [0, Length) (LoopLinear) or in [0, 2·Length) (LoopPingPong).
//     InState advances by dtMicros, saturating at MaxInt32.
//  3. The machine's transitions are tried in declared order; the first whose From is the
//     current state (or AnyState, with To not the current state), whose AtEnd (if set) is
//     met by step 2 and whose condition holds on p (and InState) fires: the current clip
//     and its time become PrevClip/PrevTime, FadeLeft = FadeTotal = Fade (or all fade
//     fields 0 if Fade is 0), and State, Clip, Speed come from the new state with Time = 0
//     and InState = 0.
//
// Advance does not allocate. It panics if dtMicros < 0, or if a refers to a machine,
// state or clip that lib does not hold (use [SetMachine] and a library that passed
// [Library.Validate]; check restored state with [Library.CheckAnim]).
func Advance(lib *Library, a *ecs.Anim, p Params, dtMicros int32) {
	if dtMicros < 0 {
		panic(fmt.Sprintf("anim: Advance with negative dt %dµs", dtMicros))
	}
	m := &lib.Machines[a.Machine]
	clip := &lib.Animations[a.Clip]

	if a.FadeLeft > 0 {
		if dtMicros >= a.FadeLeft {
			a.PrevClip, a.PrevTime, a.FadeLeft, a.FadeTotal = 0, 0, 0, 0
		} else {
			a.FadeLeft -= dtMicros
			a.PrevTime, _ = advanceTime(&lib.Animations[a.PrevClip], a.PrevTime, int64(dtMicros))
		}
	}

	var ended bool
	a.Time, ended = advanceTime(clip, a.Time, int64(dtMicros)*int64(a.Speed)/1000)
	a.InState = int32(min(int64(a.InState)+int64(dtMicros), math.MaxInt32))

	for i := range m.Transitions {
		tr := &m.Transitions[i]
		if tr.From != a.State && (tr.From != AnyState || tr.To == a.State) {
			continue
		}
		if tr.AtEnd && !ended {
			continue
		}
		if !tr.When.holds(&p, a.InState) {
			continue
		}
		enter(m, a, tr.To, tr.Fade)
		return
	}
}

// advanceTime moves playback time t of clip c by step µs and wraps it (see Advance); ended
// reports whether the clip reached its end (LoopNone: time at Length) or completed a cycle
// during the step (LoopLinear: Length, LoopPingPong: 2·Length).
func advanceTime(c *Animation, t int32, step int64) (int32, bool) {
	l := int64(c.Length)
	if l <= 0 {
		return 0, true
	}
	raw := int64(t) + step
	switch c.Loop {
	case LoopLinear:
		return int32(posmod(raw, l)), raw >= l
	case LoopPingPong:
		return int32(posmod(raw, 2*l)), raw >= 2*l
	default:
		if raw >= l {
			return c.Length, true
		}
		return int32(max(raw, 0)), false
	}
}

// enter switches a to state s of m, crossfading from the current clip for fade µs.
func enter(m *Machine, a *ecs.Anim, s uint16, fade int32) {
	if fade > 0 {
		a.PrevClip, a.PrevTime, a.FadeLeft, a.FadeTotal = a.Clip, a.Time, fade, fade
	} else {
		a.PrevClip, a.PrevTime, a.FadeLeft, a.FadeTotal = 0, 0, 0, 0
	}
	st := &m.States[s]
	a.State, a.Clip, a.Speed, a.Time, a.InState = s, st.Clip, st.Speed, 0, 0
}

// Apply writes the pose of a into out: every channel is first 0 (the rest pose), then the
// current clip is sampled at Time; while a crossfade runs (FadeLeft > 0), the previous
// clip is sampled the same way at PrevTime and each channel becomes
// lerp(current, previous, FadeLeft/FadeTotal), the fraction taken as a floor Q16 weight
// (see the package doc for rounding). Apply does not modify a and does not allocate. It
// panics if a's clip ids are not in lib.
func Apply(lib *Library, a *ecs.Anim, out *ecs.Pose) {
	var cur ecs.Pose
	lib.Animations[a.Clip].Sample(a.Time, &cur)
	if a.FadeLeft > 0 && a.FadeTotal > 0 {
		var prev ecs.Pose
		lib.Animations[a.PrevClip].Sample(a.PrevTime, &prev)
		w := weightQ16(int64(a.FadeLeft), int64(a.FadeTotal))
		for i := range cur.V {
			cur.V[i] = lerp(cur.V[i], prev.V[i], w)
		}
	}
	*out = cur
}

// SetMachine puts a into the Start state of machine id machine of lib, cutting (no
// crossfade) from whatever played: Machine, State, Clip and Speed are set, Time, InState
// and every fade field become 0. Calling it with the machine a already runs restarts that
// machine; use it also to initialise a new entity. If the machine, its start state or
// that state's clip does not exist, SetMachine returns an error wrapping [ErrRef] and
// leaves a unchanged.
func SetMachine(lib *Library, a *ecs.Anim, machine uint16) error {
	if int(machine) >= len(lib.Machines) {
		return fmt.Errorf("anim: set machine %d: library has %d machines: %w",
			machine, len(lib.Machines), ErrRef)
	}
	m := &lib.Machines[machine]
	if int(m.Start) >= len(m.States) {
		return fmt.Errorf("anim: set machine %d %q: start state %d, machine has %d states: %w",
			machine, m.Name, m.Start, len(m.States), ErrRef)
	}
	if clip := m.States[m.Start].Clip; int(clip) >= len(lib.Animations) {
		return fmt.Errorf("anim: set machine %d %q: start state %d %q: clip %d, library has %d animations: %w",
			machine, m.Name, m.Start, m.States[m.Start].Name, clip, len(lib.Animations), ErrRef)
	}
	a.Machine = machine
	enter(m, a, m.Start, 0)
	return nil
}
