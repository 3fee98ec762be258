package anim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/ecs"
)

func TestDefaultLibrary(t *testing.T) {
	lib := DefaultLibrary()
	if err := lib.Validate(); err != nil {
		t.Fatal(err)
	}
	names := []string{"idle", "walk", "run", "wave", "dance", "brake"}
	for id, name := range names {
		if got := lib.Animations[id].Name; got != name {
			t.Errorf("animation %d is %q, want %q", id, got, name)
		}
		if got := lib.Machines[MachinePlayer].States[id].Name; got != name {
			t.Errorf("state %d is %q, want %q", id, got, name)
		}
	}
	loops := map[uint16]LoopMode{AnimIdle: LoopLinear, AnimWalk: LoopLinear, AnimRun: LoopLinear,
		AnimWave: LoopPingPong, AnimDance: LoopNone, AnimBrake: LoopNone}
	for id, l := range loops {
		if lib.Animations[id].Loop != l {
			t.Errorf("animation %d loops %v, want %v", id, lib.Animations[id].Loop, l)
		}
	}
	// Each call is a fresh copy.
	lib.Animations[AnimIdle].Tracks[0].Keys[0].Value = 12345
	if DefaultLibrary().Animations[AnimIdle].Tracks[0].Keys[0].Value == 12345 {
		t.Error("DefaultLibrary shares key storage between calls")
	}
}

func TestLibraryValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Library)
		want   error
		msg    string
	}{
		{"animation", func(l *Library) { l.Animations[AnimRun].Tracks[1].Keys[1].Time = 0 }, ErrKeyOrder,
			`anim: animation 2 "run": track 1: key 1 at 0µs is not after key 0 at 0µs`},
		{"empty animation name", func(l *Library) { l.Animations[1].Name = "" }, ErrName,
			`anim: animation 1 "": empty name`},
		{"duplicate animation name", func(l *Library) { l.Animations[3].Name = "idle" }, ErrName,
			`anim: animation 3 "idle": name already used by animation 0`},
		{"duplicate machine name", func(l *Library) { l.Machines = append(l.Machines, l.Machines[0]) }, ErrName,
			`anim: machine 2 "player": name already used by machine 0`},
		{"no states", func(l *Library) { l.Machines[0].States = nil }, ErrRef,
			`anim: machine 0 "player": no states`},
		{"start", func(l *Library) { l.Machines[0].Start = 6 }, ErrRef,
			`anim: machine 0 "player": start state 6, machine has 6 states`},
		{"duplicate state name", func(l *Library) { l.Machines[0].States[2].Name = "walk" }, ErrName,
			`anim: machine 0 "player": state 2 "walk": name already used by state 1`},
		{"state clip", func(l *Library) { l.Machines[0].States[4].Clip = 99 }, ErrRef,
			`anim: machine 0 "player": state 4 "dance": clip 99, library has 6 animations`},
		{"state speed", func(l *Library) { l.Machines[0].States[1].Speed = -1 }, ErrSpeed,
			`state 1 "walk": speed -1‰ not in [0, 100000]`},
		{"state speed huge", func(l *Library) { l.Machines[0].States[1].Speed = MaxSpeed + 1 }, ErrSpeed, "speed 100001‰"},
		{"transition from", func(l *Library) { l.Machines[0].Transitions[3].From = 40 }, ErrRef,
			`anim: machine 0 "player": transition 3 (#40 -> "walk"): from state 40, machine has 6 states`},
		{"transition to", func(l *Library) { l.Machines[0].Transitions[0].To = 6 }, ErrRef,
			`transition 0 (any -> #6): to state 6, machine has 6 states`},
		{"transition to any", func(l *Library) { l.Machines[0].Transitions[1].To = AnyState }, ErrRef,
			`transition 1 ("brake" -> any): to state 65535`},
		{"self transition", func(l *Library) { l.Machines[0].Transitions[3].To = StateIdle }, ErrTransition,
			`transition 3 ("idle" -> "idle"): leads from a state to itself`},
		{"fade", func(l *Library) { l.Machines[0].Transitions[2].Fade = -1 }, ErrFade,
			`transition 2 ("brake" -> "walk"): fade -1µs not in [0, 1073741824]`},
		{"param", func(l *Library) { l.Machines[0].Transitions[4].When[3].Param = 42 }, ErrCondition,
			`transition 4 ("idle" -> "dance"): clause 3: unknown param 42`},
		{"op", func(l *Library) { l.Machines[0].Transitions[4].When[0].Op = 42 }, ErrCondition,
			`clause 0: unknown op 42`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lib := DefaultLibrary()
			tt.mutate(lib)
			err := lib.Validate()
			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate() = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Validate() = %q\nwant it to contain %q", err, tt.msg)
			}
		})
	}

	// All problems are reported, not only the first.
	lib := DefaultLibrary()
	lib.Animations[0].Length = 0
	lib.Machines[0].States[0].Clip = 50
	err := lib.Validate()
	if !errors.Is(err, ErrLength) || !errors.Is(err, ErrRef) {
		t.Errorf("Validate() = %v, want both ErrLength and ErrRef", err)
	}
}

func TestSetMachine(t *testing.T) {
	lib := DefaultLibrary()
	n := uint16(len(lib.Machines)) // the machines below are n, n+1, n+2
	lib.Machines = append(lib.Machines,
		Machine{Name: "lobby", Start: 1, States: []State{
			{Name: "a", Clip: AnimIdle, Speed: 1000}, {Name: "b", Clip: AnimDance, Speed: 500},
		}},
		Machine{Name: "bad start", Start: 2, States: []State{{Name: "a"}}},
		Machine{Name: "bad clip", States: []State{{Name: "a", Clip: 77}}},
	)
	a := ecs.Anim{Machine: 0, State: StateRun, Clip: AnimRun, PrevClip: AnimWalk, Time: 5,
		PrevTime: 6, FadeLeft: 7, FadeTotal: 8, Speed: 1000, InState: 9}
	before := a
	for _, tt := range []struct {
		m   uint16
		msg string
	}{
		{n + 3, fmt.Sprintf("anim: set machine %d: library has %d machines: reference out of range", n+3, n+3)},
		{n + 1, fmt.Sprintf(`anim: set machine %d "bad start": start state 2, machine has 1 states`, n+1)},
		{n + 2, fmt.Sprintf(`anim: set machine %d "bad clip": start state 0 "a": clip 77, library has 6 animations`, n+2)},
	} {
		err := SetMachine(lib, &a, tt.m)
		if !errors.Is(err, ErrRef) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("SetMachine(%d) = %v, want %q", tt.m, err, tt.msg)
		}
		if a != before {
			t.Errorf("SetMachine(%d) failed but changed the state to %+v", tt.m, a)
		}
	}
	if err := SetMachine(lib, &a, n); err != nil {
		t.Fatal(err)
	}
	want := ecs.Anim{Machine: n, State: 1, Clip: AnimDance, Speed: 500}
	if a != want {
		t.Errorf("SetMachine(1): %+v, want %+v", a, want)
	}
	if err := lib.CheckAnim(&a); err != nil {
		t.Error(err)
	}
}

func TestCheckAnim(t *testing.T) {
	lib := DefaultLibrary()
	good := ecs.Anim{Machine: MachinePlayer, State: StateWalk, Clip: AnimWalk, Speed: 1000,
		Time: 999_999, PrevClip: AnimWave, PrevTime: 1_999_999, FadeLeft: 10, FadeTotal: 100, InState: 5}
	if err := lib.CheckAnim(&good); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*ecs.Anim)
		want   error
	}{
		{"machine", func(a *ecs.Anim) { a.Machine = uint16(len(lib.Machines)) }, ErrRef},
		{"state", func(a *ecs.Anim) { a.State = 6 }, ErrRef},
		{"clip", func(a *ecs.Anim) { a.Clip = AnimRun }, ErrAnimState},
		{"speed", func(a *ecs.Anim) { a.Speed = 999 }, ErrAnimState},
		{"time looped", func(a *ecs.Anim) { a.Time = 1_000_000 }, ErrAnimState},
		{"time negative", func(a *ecs.Anim) { a.Time = -1 }, ErrAnimState},
		{"in state", func(a *ecs.Anim) { a.InState = -1 }, ErrAnimState},
		{"fade over total", func(a *ecs.Anim) { a.FadeLeft = 101 }, ErrAnimState},
		{"fade negative", func(a *ecs.Anim) { a.FadeLeft = -1 }, ErrAnimState},
		{"prev clip", func(a *ecs.Anim) { a.PrevClip = 6 }, ErrRef},
		{"prev time pingpong", func(a *ecs.Anim) { a.PrevTime = 2_000_000 }, ErrAnimState},
		{"stale fade", func(a *ecs.Anim) { a.FadeLeft = 0 }, ErrAnimState},
	}
	for _, tt := range tests {
		a := good
		tt.mutate(&a)
		if err := lib.CheckAnim(&a); !errors.Is(err, tt.want) {
			t.Errorf("%s: CheckAnim = %v, want %v", tt.name, err, tt.want)
		}
	}
	// A finished LoopNone clip holds at Length.
	done := ecs.Anim{Machine: MachinePlayer, State: StateBrake, Clip: AnimBrake, Speed: 1000, Time: 400_000}
	if err := lib.CheckAnim(&done); err != nil {
		t.Error(err)
	}
}

func TestClipPeriods(t *testing.T) {
	l := &Library{Animations: []Animation{
		{Name: "loop", Length: 600_000, Loop: LoopLinear},
		{Name: "pingpong", Length: 1_000_000, Loop: LoopPingPong},
		{Name: "once", Length: 2_000_000, Loop: LoopNone},
		{Name: "long pingpong", Length: MaxLength, Loop: LoopPingPong}, // 2·Length overflows int32
	}}
	want := []int32{600_000, 2_000_000, 0, 0}
	if got := l.ClipPeriods(); !slices.Equal(got, want) {
		t.Fatalf("ClipPeriods = %v, want %v", got, want)
	}
}
