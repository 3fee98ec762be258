package anim

import (
	"errors"
	"fmt"
	"math"

	"github.com/shardsim/shardsim/ecs"
)

// Library holds the animation resources of a world. Entities refer to them by id, the
// index into the slices (uint16), the way Godot scenes share Ref<Animation>. A library is
// read-only once in use: Advance and Apply read it from the step, and changing it changes
// the meaning of every ecs.Anim (and so the state hash).
type Library struct {
	Animations []Animation
	Machines   []Machine
}

// Validate checks every resource and reference of l and returns all problems found,
// joined ([errors.Join]); nil if there are none. It checks each animation
// ([Animation.Validate]), unique non-empty names of animations, machines and of the states
// of each machine, and in each machine: at least one state, Start, every state's Clip,
// Speed in [0, MaxSpeed], every transition's From (a state or AnyState) and To, no
// transition from a state to itself, Fade in [0, MaxLength], and every clause's Param and
// Op. Each error names the resource by id and name and wraps a sentinel of this package.
func (l *Library) Validate() error {
	var errs []error
	if len(l.Animations) > math.MaxUint16+1 {
		errs = append(errs, fmt.Errorf("anim: %d animations, at most %d: %w",
			len(l.Animations), math.MaxUint16+1, ErrTooMany))
	}
	if len(l.Machines) > math.MaxUint16+1 {
		errs = append(errs, fmt.Errorf("anim: %d machines, at most %d: %w",
			len(l.Machines), math.MaxUint16+1, ErrTooMany))
	}
	names := make(map[string]int)
	for i := range l.Animations {
		a := &l.Animations[i]
		where := fmt.Sprintf("anim: animation %d %q", i, a.Name)
		errs = append(errs, checkName(names, where, a.Name, "animation", i))
		errs = append(errs, a.validate(where))
	}
	clear(names)
	for i := range l.Machines {
		m := &l.Machines[i]
		where := fmt.Sprintf("anim: machine %d %q", i, m.Name)
		errs = append(errs, checkName(names, where, m.Name, "machine", i))
		errs = append(errs, l.validateMachine(m, where)...)
	}
	return errors.Join(errs...)
}

// checkName reports an empty name or one already in names (which it then records).
// It is only used by Validate, where ranging names is not in the step.
func checkName(names map[string]int, where, name, kind string, i int) error {
	if name == "" {
		return fmt.Errorf("%s: empty name: %w", where, ErrName)
	}
	if j, ok := names[name]; ok {
		return fmt.Errorf("%s: name already used by %s %d: %w", where, kind, j, ErrName)
	}
	names[name] = i
	return nil
}

func (l *Library) validateMachine(m *Machine, where string) []error {
	var errs []error
	n := len(m.States)
	if n == 0 {
		return append(errs, fmt.Errorf("%s: no states: %w", where, ErrRef))
	}
	if n > int(AnyState) {
		errs = append(errs, fmt.Errorf("%s: %d states, at most %d: %w", where, n, AnyState, ErrTooMany))
	}
	if int(m.Start) >= n {
		errs = append(errs, fmt.Errorf("%s: start state %d, machine has %d states: %w",
			where, m.Start, n, ErrRef))
	}
	names := make(map[string]int)
	for i := range m.States {
		s := &m.States[i]
		sw := fmt.Sprintf("%s: state %d %q", where, i, s.Name)
		errs = append(errs, checkName(names, sw, s.Name, "state", i))
		if int(s.Clip) >= len(l.Animations) {
			errs = append(errs, fmt.Errorf("%s: clip %d, library has %d animations: %w",
				sw, s.Clip, len(l.Animations), ErrRef))
		}
		if s.Speed < 0 || s.Speed > MaxSpeed {
			errs = append(errs, fmt.Errorf("%s: speed %d‰ not in [0, %d]: %w", sw, s.Speed, MaxSpeed, ErrSpeed))
		}
	}
	for i := range m.Transitions {
		t := &m.Transitions[i]
		tw := fmt.Sprintf("%s: transition %d (%s -> %s)", where, i, stateName(m, t.From), stateName(m, t.To))
		if t.From != AnyState && int(t.From) >= n {
			errs = append(errs, fmt.Errorf("%s: from state %d, machine has %d states: %w", tw, t.From, n, ErrRef))
		}
		if int(t.To) >= n {
			errs = append(errs, fmt.Errorf("%s: to state %d, machine has %d states: %w", tw, t.To, n, ErrRef))
		}
		if t.From == t.To {
			errs = append(errs, fmt.Errorf("%s: leads from a state to itself: %w", tw, ErrTransition))
		}
		if t.Fade < 0 || t.Fade > MaxLength {
			errs = append(errs, fmt.Errorf("%s: fade %dµs not in [0, %d]: %w", tw, t.Fade, MaxLength, ErrFade))
		}
		for c, cl := range t.When {
			if cl.Param >= numParams {
				errs = append(errs, fmt.Errorf("%s: clause %d: unknown param %d: %w", tw, c, cl.Param, ErrCondition))
			}
			if cl.Op >= numOps {
				errs = append(errs, fmt.Errorf("%s: clause %d: unknown op %d: %w", tw, c, cl.Op, ErrCondition))
			}
		}
	}
	return errs
}

// stateName names state s of m for messages.
func stateName(m *Machine, s uint16) string {
	switch {
	case s == AnyState:
		return "any"
	case int(s) < len(m.States):
		return fmt.Sprintf("%q", m.States[s].Name)
	}
	return fmt.Sprintf("#%d", s)
}

// CheckAnim reports whether a is consistent with l, as after [SetMachine] and [Advance]
// on l: Machine, State and Clip exist and Clip is the state's clip, Speed is the state's
// speed, Time is within the clip's stored range ([0, Length] for LoopNone, [0, Length)
// for LoopLinear, [0, 2·Length) for LoopPingPong), InState >= 0, and either no fade (all
// fade fields 0) or 0 < FadeLeft <= FadeTotal with PrevClip existing and PrevTime in its
// range. Use it on state that comes from outside the step, such as a decoded snapshot.
// Errors wrap [ErrAnimState] or [ErrRef].
func (l *Library) CheckAnim(a *ecs.Anim) error {
	if int(a.Machine) >= len(l.Machines) {
		return fmt.Errorf("anim: anim state: machine %d, library has %d: %w", a.Machine, len(l.Machines), ErrRef)
	}
	m := &l.Machines[a.Machine]
	if int(a.State) >= len(m.States) {
		return fmt.Errorf("anim: anim state: state %d, machine %q has %d: %w", a.State, m.Name, len(m.States), ErrRef)
	}
	s := &m.States[a.State]
	if a.Clip != s.Clip || int(a.Clip) >= len(l.Animations) {
		return fmt.Errorf("anim: anim state: clip %d, state %q plays %d: %w", a.Clip, s.Name, s.Clip, ErrAnimState)
	}
	if a.Speed != s.Speed {
		return fmt.Errorf("anim: anim state: speed %d‰, state %q has %d‰: %w", a.Speed, s.Name, s.Speed, ErrAnimState)
	}
	if !timeInRange(&l.Animations[a.Clip], a.Time) {
		return fmt.Errorf("anim: anim state: time %dµs out of range of clip %d: %w", a.Time, a.Clip, ErrAnimState)
	}
	if a.InState < 0 {
		return fmt.Errorf("anim: anim state: time in state %dµs: %w", a.InState, ErrAnimState)
	}
	if a.FadeLeft == 0 {
		if a.FadeTotal != 0 || a.PrevClip != 0 || a.PrevTime != 0 {
			return fmt.Errorf("anim: anim state: no fade but fade fields set: %w", ErrAnimState)
		}
		return nil
	}
	if a.FadeLeft < 0 || a.FadeLeft > a.FadeTotal {
		return fmt.Errorf("anim: anim state: fade %d/%dµs: %w", a.FadeLeft, a.FadeTotal, ErrAnimState)
	}
	if int(a.PrevClip) >= len(l.Animations) {
		return fmt.Errorf("anim: anim state: previous clip %d, library has %d: %w", a.PrevClip, len(l.Animations), ErrRef)
	}
	if !timeInRange(&l.Animations[a.PrevClip], a.PrevTime) {
		return fmt.Errorf("anim: anim state: previous time %dµs out of range of clip %d: %w", a.PrevTime, a.PrevClip, ErrAnimState)
	}
	return nil
}

// timeInRange reports whether t is a time Advance can store for clip c.
func timeInRange(c *Animation, t int32) bool {
	switch c.Loop {
	case LoopLinear:
		return t >= 0 && t < c.Length
	case LoopPingPong:
		return t >= 0 && int64(t) < 2*int64(c.Length)
	default:
		return t >= 0 && t <= c.Length
	}
}

// ClipPeriods returns, by animation id, the time in µs after which each animation's
// playback repeats: its Length for LoopLinear, twice that for LoopPingPong, and 0 for
// LoopNone (or a period beyond int32). Snapshots use it to keep an animation's time
// reference constant across loops (net/game Quantizer.ClipPeriods).
func (l *Library) ClipPeriods() []int32 {
	p := make([]int32, len(l.Animations))
	for i := range l.Animations {
		a := &l.Animations[i]
		switch n := int64(a.Length); a.Loop {
		case LoopLinear:
			p[i] = int32(n)
		case LoopPingPong:
			if 2*n <= math.MaxInt32 {
				p[i] = int32(2 * n)
			}
		}
	}
	return p
}
