package anim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/shardsim/shardsim/ecs"
)

const tick = 16_667 // µs, one tick at 60 Hz

// animIn returns an ecs.Anim of lib's machine m in state s at playback time tm.
func animIn(t *testing.T, lib *Library, m, s uint16, tm int32) ecs.Anim {
	t.Helper()
	var a ecs.Anim
	if err := SetMachine(lib, &a, m); err != nil {
		t.Fatal(err)
	}
	enter(&lib.Machines[m], &a, s, 0)
	a.Time = tm
	return a
}

func TestDefaultMachineTransitions(t *testing.T) {
	lib := DefaultLibrary()
	m := &lib.Machines[MachinePlayer]
	const (
		run   = ecs.ButtonRun
		emote = ecs.ButtonEmote
		stop  = ecs.ButtonStop
	)
	tests := []struct {
		name string
		from uint16
		time int32 // playback time before the tick
		p    Params
		want uint16
	}{
		{"idle stays", StateIdle, 0, Params{Speed: WalkEnterSpeed - 1}, StateIdle},
		{"idle->walk", StateIdle, 0, Params{Speed: WalkEnterSpeed, Stick: 60}, StateWalk},
		{"idle->wave", StateIdle, 0, Params{Buttons: emote}, StateWave},
		{"idle->wave other emote", StateIdle, 0, Params{Buttons: emote, Emote: 7}, StateWave},
		{"idle->dance", StateIdle, 0, Params{Buttons: emote, Emote: EmoteDance}, StateDance},
		{"idle->walk beats emote", StateIdle, 0, Params{Speed: 500, Buttons: emote}, StateWalk},
		{"idle stop standing", StateIdle, 0, Params{Buttons: stop}, StateIdle},
		{"idle->brake", StateIdle, 0, Params{Speed: 500, Buttons: stop}, StateBrake},
		{"walk stays", StateWalk, 0, Params{Speed: RunEnterSpeed - 1}, StateWalk},
		{"walk->run", StateWalk, 0, Params{Speed: RunEnterSpeed, Buttons: run}, StateRun},
		{"walk stays slow", StateWalk, 0, Params{Speed: WalkExitSpeed}, StateWalk},
		{"walk->idle", StateWalk, 0, Params{Speed: WalkExitSpeed - 1}, StateIdle},
		{"walk->brake", StateWalk, 0, Params{Speed: 1000, Buttons: stop}, StateBrake},
		{"run stays", StateRun, 0, Params{Speed: RunExitSpeed}, StateRun},
		{"run->walk", StateRun, 0, Params{Speed: RunExitSpeed - 1}, StateWalk},
		{"run->idle", StateRun, 0, Params{Speed: 0}, StateIdle},
		{"run->brake", StateRun, 0, Params{Speed: 5000, Buttons: stop | run}, StateBrake},
		{"wave stays", StateWave, 0, Params{}, StateWave},
		{"wave->walk", StateWave, 0, Params{Speed: WalkEnterSpeed}, StateWalk},
		{"wave->idle at end", StateWave, 2_000_000 - tick, Params{}, StateIdle},
		{"wave at end held", StateWave, 2_000_000 - tick, Params{Buttons: emote}, StateWave},
		{"wave at reflection", StateWave, 1_000_000 - tick, Params{}, StateWave},
		{"wave->brake", StateWave, 0, Params{Speed: WalkExitSpeed, Buttons: stop}, StateBrake},
		{"dance stays", StateDance, 1_000_000, Params{}, StateDance},
		{"dance->walk", StateDance, 0, Params{Speed: 400}, StateWalk},
		{"dance->idle at end", StateDance, 2_000_000 - tick, Params{Buttons: emote, Emote: EmoteDance}, StateIdle},
		{"dance->brake", StateDance, 0, Params{Speed: 200, Buttons: stop}, StateBrake},
		{"brake stays", StateBrake, 0, Params{}, StateBrake},
		{"brake->idle at end", StateBrake, 400_000 - tick, Params{Speed: 100}, StateIdle},
		{"brake->idle held end", StateBrake, 400_000, Params{}, StateIdle},
		{"brake->walk at end", StateBrake, 400_000 - tick, Params{Speed: 500}, StateWalk},
		{"brake at end still stopping", StateBrake, 400_000, Params{Speed: 500, Buttons: stop}, StateBrake},
	}
	fired := make([]bool, len(m.Transitions))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := animIn(t, lib, MachinePlayer, tt.from, tt.time)
			before := a
			Advance(lib, &a, tt.p, tick)
			if a.State != tt.want {
				t.Fatalf("state %s -> %s, want %s", m.States[tt.from].Name, m.States[a.State].Name, m.States[tt.want].Name)
			}
			if err := lib.CheckAnim(&a); err != nil {
				t.Fatal(err)
			}
			if a.State == tt.from {
				if a.InState != tick {
					t.Errorf("InState = %d, want %d", a.InState, tick)
				}
				return
			}
			i := firedTransition(m, tt.from, a.State)
			fired[i] = true
			tr := m.Transitions[i]
			st := m.States[a.State]
			wantTime, _ := advanceTime(&lib.Animations[before.Clip], before.Time, tick)
			want := ecs.Anim{
				Machine: MachinePlayer, State: tt.want, Clip: st.Clip, Speed: st.Speed,
				PrevClip: before.Clip, PrevTime: wantTime, FadeLeft: tr.Fade, FadeTotal: tr.Fade,
			}
			if a != want {
				t.Errorf("after transition %d: %+v, want %+v", i, a, want)
			}
		})
	}
	for i, ok := range fired {
		if !ok {
			tr := m.Transitions[i]
			t.Errorf("transition %d (%s -> %s) not covered", i, stateName(m, tr.From), stateName(m, tr.To))
		}
	}
}

// firedTransition returns the index of the first transition of m from from (or any) to to.
func firedTransition(m *Machine, from, to uint16) int {
	for i, tr := range m.Transitions {
		if (tr.From == from || tr.From == AnyState) && tr.To == to {
			return i
		}
	}
	panic(fmt.Sprintf("no transition %d -> %d", from, to))
}

// fadeLib has constant clips, so blended values are easy to compute by hand.
func fadeLib() *Library {
	c := func(name string, ch0 int32, more ...Track) Animation {
		return Animation{Name: name, Length: 1000, Loop: LoopLinear,
			Tracks: append([]Track{{Channel: 0, Keys: []Key{{0, ch0}}}}, more...)}
	}
	return &Library{
		Animations: []Animation{
			c("a", 1000, Track{Channel: 1, Keys: []Key{{0, q}}}),
			c("b", 3000),
			c("c", 5000),
		},
		Machines: []Machine{{
			Name: "m",
			States: []State{
				{Name: "A", Clip: 0, Speed: 1000},
				{Name: "B", Clip: 1, Speed: 1000},
				{Name: "C", Clip: 2, Speed: 1000},
			},
			Transitions: []Transition{
				{From: AnyState, To: 0, When: Condition{{Param: ParamButtons, Op: OpAllSet, Value: int32(ecs.ButtonStop)}}},
				{From: 0, To: 1, Fade: 300, When: Condition{{Param: ParamSpeed, Op: OpGE, Value: 1}}},
				{From: 1, To: 2, Fade: 100, When: Condition{{Param: ParamStick, Op: OpGE, Value: 1}}},
			},
		}},
	}
}

func TestCrossfade(t *testing.T) {
	lib := fadeLib()
	if err := lib.Validate(); err != nil {
		t.Fatal(err)
	}
	var a ecs.Anim
	if err := SetMachine(lib, &a, 0); err != nil {
		t.Fatal(err)
	}
	go1 := Params{Speed: 1}
	steps := []struct {
		name string
		p    Params
		dt   int32
		want ecs.Anim
		pose [2]int32
	}{
		{"start", go1, 10,
			ecs.Anim{State: 1, Clip: 1, PrevClip: 0, PrevTime: 10, FadeLeft: 300, FadeTotal: 300, Speed: 1000},
			// Weight of the previous clip 1.0: exactly clip a.
			[2]int32{1000, q}},
		{"progress", go1, 100,
			ecs.Anim{State: 1, Clip: 1, PrevClip: 0, PrevTime: 110, Time: 100, FadeLeft: 200, FadeTotal: 300, Speed: 1000, InState: 100},
			// w = ⌊200·65536/300⌋ = 43690: 3000 + ⌊(-2000·43690 + 32768)/65536⌋ = 3000 - 1333;
			// channel 1 is not in clip b, so it blends from its rest value 0: 43690.
			[2]int32{1667, 43690}},
		{"almost", go1, 199,
			ecs.Anim{State: 1, Clip: 1, PrevClip: 0, PrevTime: 309, Time: 299, FadeLeft: 1, FadeTotal: 300, Speed: 1000, InState: 299},
			// w = ⌊65536/300⌋ = 218: 3000 + ⌊(-436000 + 32768)/65536⌋ = 3000 - 7;
			// channel 1: 0 + ⌊(65536·218 + 32768)/65536⌋ = 218.
			[2]int32{2993, 218}},
		{"end", go1, 1,
			ecs.Anim{State: 1, Clip: 1, Time: 300, Speed: 1000, InState: 300},
			[2]int32{3000, 0}},
		{"again", Params{Speed: 1, Stick: 1}, 100,
			ecs.Anim{State: 2, Clip: 2, PrevClip: 1, PrevTime: 400, FadeLeft: 100, FadeTotal: 100, Speed: 1000},
			[2]int32{3000, 0}},
		{"interrupted by cut", Params{Buttons: ecs.ButtonStop}, 50,
			ecs.Anim{State: 0, Clip: 0, Speed: 1000},
			[2]int32{1000, q}},
	}
	for _, s := range steps {
		Advance(lib, &a, s.p, s.dt)
		if a != s.want {
			t.Fatalf("%s: anim %+v, want %+v", s.name, a, s.want)
		}
		var pose ecs.Pose
		pose.V[3] = 99 // Apply overwrites every channel
		before := a
		Apply(lib, &a, &pose)
		if a != before {
			t.Fatalf("%s: Apply modified the anim state", s.name)
		}
		if want := (ecs.Pose{V: [4]int32{s.pose[0], s.pose[1]}}); pose != want {
			t.Errorf("%s: pose %v, want %v", s.name, pose.V, want.V)
		}
	}
}

// TestCrossfadeInterrupted checks that a transition during a fade fades from the clip that
// was current, dropping the older one (Godot blends two states too).
func TestCrossfadeInterrupted(t *testing.T) {
	lib := fadeLib()
	var a ecs.Anim
	if err := SetMachine(lib, &a, 0); err != nil {
		t.Fatal(err)
	}
	Advance(lib, &a, Params{Speed: 1}, 0)
	Advance(lib, &a, Params{Speed: 1}, 50)
	Advance(lib, &a, Params{Speed: 1, Stick: 1}, 50)
	want := ecs.Anim{State: 2, Clip: 2, PrevClip: 1, PrevTime: 100, FadeLeft: 100, FadeTotal: 100, Speed: 1000}
	if a != want {
		t.Fatalf("anim %+v, want %+v", a, want)
	}
	var pose ecs.Pose
	Apply(lib, &a, &pose)
	if pose.V[0] != 3000 {
		t.Errorf("pose %v, want channel 0 = 3000 (clip b)", pose.V)
	}
}

func TestSpeedScaling(t *testing.T) {
	long := Animation{Name: "long", Length: 1_000_000, Loop: LoopNone,
		Tracks: []Track{{Channel: 0, Interp: InterpLinear, Keys: []Key{{0, 0}, {1_000_000, 1_000_000}}}}}
	short := Animation{Name: "short", Length: 1000, Loop: LoopLinear}
	for _, tt := range []struct {
		clip  uint16
		speed int32
		dt    int32
		want  int32
	}{
		{0, 1000, tick, 16_667},
		{0, 1500, tick, 25_000}, // ⌊25000.5⌋
		{0, 500, tick, 8_333},   // ⌊8333.5⌋
		{0, 0, tick, 0},
		{0, 1, 999, 0},
		{0, MaxSpeed, tick, 1_000_000}, // clamped at Length
		{0, MaxSpeed, math.MaxInt32, 1_000_000},
		{1, 2000, 700, 400}, // 1400 wraps
		{1, MaxSpeed, math.MaxInt32, int32((int64(math.MaxInt32) * 100) % 1000)},
	} {
		lib := &Library{
			Animations: []Animation{long, short},
			Machines: []Machine{{Name: "m", States: []State{
				{Name: "s", Clip: tt.clip, Speed: tt.speed},
			}}},
		}
		if err := lib.Validate(); err != nil {
			t.Fatal(err)
		}
		var a ecs.Anim
		if err := SetMachine(lib, &a, 0); err != nil {
			t.Fatal(err)
		}
		Advance(lib, &a, Params{}, tt.dt)
		if a.Time != tt.want || a.Speed != tt.speed || a.InState != tt.dt {
			t.Errorf("clip %d speed %d‰ dt %d: Time %d InState %d, want %d", tt.clip, tt.speed, tt.dt, a.Time, a.InState, tt.want)
		}
	}
}

func TestAtEndLoopingAndInState(t *testing.T) {
	lib := &Library{
		Animations: []Animation{{Name: "loop", Length: 1000, Loop: LoopLinear}},
		Machines: []Machine{{Name: "m", States: []State{
			{Name: "A", Clip: 0, Speed: 1000},
			{Name: "B", Clip: 0, Speed: 1000},
			{Name: "C", Clip: 0, Speed: 1000},
		}, Transitions: []Transition{
			{From: 0, To: 1, AtEnd: true, When: Condition{{Param: ParamStick, Op: OpGT, Value: 0}}},
			{From: 1, To: 2, When: Condition{
				{Param: ParamInState, Op: OpGE, Value: 500},
				{Param: ParamEmote, Op: OpNE, Value: 3},
			}},
		}}},
	}
	if err := lib.Validate(); err != nil {
		t.Fatal(err)
	}
	var a ecs.Anim
	if err := SetMachine(lib, &a, 0); err != nil {
		t.Fatal(err)
	}
	on := Params{Stick: 1}
	for i, s := range []struct {
		p     Params
		dt    int32
		state uint16
		time  int32
	}{
		{on, 600, 0, 600},                 // not at the end
		{Params{}, 600, 0, 200},           // wrapped, but the condition is false
		{on, 600, 0, 800},                 // condition true, not at the end: wait
		{on, 300, 1, 0},                   // wrapped: switch
		{Params{Emote: 3}, 600, 1, 600},   // InState 600 but the second clause fails
		{Params{Emote: 2}, 0, 2, 0},       // both hold
		{Params{}, math.MaxInt32, 2, 647}, // InState saturates
	} {
		Advance(lib, &a, s.p, s.dt)
		if a.State != s.state || a.Time != s.time {
			t.Fatalf("step %d: state %d time %d, want %d %d", i, a.State, a.Time, s.state, s.time)
		}
	}
	Advance(lib, &a, Params{}, 5)
	if a.InState != math.MaxInt32 {
		t.Errorf("InState = %d, want saturated", a.InState)
	}
}

func TestConditionOps(t *testing.T) {
	p := Params{Speed: 10, Stick: 5, Buttons: 0b101, Emote: 2}
	for _, tt := range []struct {
		c    Clause
		want bool
	}{
		{Clause{}, true},
		{Clause{ParamSpeed, OpLT, 11}, true}, {Clause{ParamSpeed, OpLT, 10}, false},
		{Clause{ParamSpeed, OpLE, 10}, true}, {Clause{ParamSpeed, OpLE, 9}, false},
		{Clause{ParamStick, OpGT, 4}, true}, {Clause{ParamStick, OpGT, 5}, false},
		{Clause{ParamStick, OpGE, 5}, true}, {Clause{ParamStick, OpGE, 6}, false},
		{Clause{ParamEmote, OpEQ, 2}, true}, {Clause{ParamEmote, OpEQ, 1}, false},
		{Clause{ParamEmote, OpNE, 1}, true}, {Clause{ParamEmote, OpNE, 2}, false},
		{Clause{ParamButtons, OpAllSet, 0b101}, true}, {Clause{ParamButtons, OpAllSet, 0b110}, false},
		{Clause{ParamButtons, OpNoneSet, 0b010}, true}, {Clause{ParamButtons, OpNoneSet, 0b100}, false},
		{Clause{ParamInState, OpEQ, 77}, true},
		{Clause{numParams, OpEQ, 0}, false}, // invalid param never holds
		{Clause{ParamSpeed, numOps, 0}, false},
	} {
		c := Condition{tt.c}
		if got := c.holds(&p, 77); got != tt.want {
			t.Errorf("%+v holds = %v, want %v", tt.c, got, tt.want)
		}
	}
	all := Condition{{ParamSpeed, OpGE, 10}, {ParamStick, OpLT, 6}, {ParamEmote, OpEQ, 2}, {ParamButtons, OpAllSet, 1}}
	if !all.holds(&p, 0) {
		t.Error("AND of true clauses is false")
	}
	all[3].Value = 2
	if all.holds(&p, 0) {
		t.Error("AND with a false clause is true")
	}
}

func TestParamsFrom(t *testing.T) {
	for _, tt := range []struct {
		in   ecs.Input
		v    ecs.Velocity
		want Params
	}{
		{ecs.Input{}, ecs.Velocity{}, Params{}},
		{ecs.Input{MoveX: 3, MoveY: -4, Buttons: ecs.ButtonRun, Emote: 1}, ecs.Velocity{X: -3000, Y: 4000},
			Params{Speed: 5000, Stick: 5, Buttons: ecs.ButtonRun, Emote: 1}},
		{ecs.Input{MoveX: 127, MoveY: 127}, ecs.Velocity{X: 1, Y: 1}, Params{Speed: 1, Stick: 127}},
		{ecs.Input{MoveX: -128, MoveY: 0}, ecs.Velocity{X: 0, Y: -7}, Params{Speed: 7, Stick: 127}},
		{ecs.Input{MoveX: 90, MoveY: 90}, ecs.Velocity{}, Params{Stick: 127}}, // ⌊127.28⌋
		{ecs.Input{MoveX: 89, MoveY: 89}, ecs.Velocity{}, Params{Stick: 125}}, // ⌊125.87⌋
		{ecs.Input{}, ecs.Velocity{X: math.MinInt32, Y: math.MinInt32}, Params{Speed: math.MaxInt32}},
		{ecs.Input{}, ecs.Velocity{X: math.MaxInt32}, Params{Speed: math.MaxInt32}},
	} {
		if got := ParamsFrom(tt.in, tt.v); got != tt.want {
			t.Errorf("ParamsFrom(%+v, %+v) = %+v, want %+v", tt.in, tt.v, got, tt.want)
		}
	}
}

func TestAdvanceNegativeDtPanics(t *testing.T) {
	lib := DefaultLibrary()
	var a ecs.Anim
	if err := SetMachine(lib, &a, MachinePlayer); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Advance with dt < 0 did not panic")
		}
	}()
	Advance(lib, &a, Params{}, -1)
}

// TestDeterminism is the property that Advance+Apply is a pure function of (state,
// params, dt): over random input sequences, two runs, and a run restored from a copy
// mid-way, produce the same states and poses at every step, and every state passes
// CheckAnim.
func TestDeterminism(t *testing.T) {
	lib := DefaultLibrary()
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		type step struct {
			p  Params
			dt int32
		}
		steps := make([]step, 2000)
		speed := int32(0)
		for i := range steps {
			// A speed that drifts, sometimes jumps, and buttons held for a while.
			switch rng.IntN(20) {
			case 0:
				speed = int32(rng.IntN(7000))
			case 1:
				speed = 0
			default:
				speed = max(0, speed+int32(rng.IntN(401))-200)
			}
			// Two draws ANDed: each button is held a quarter of the time.
			b1, b2 := uint8(rng.IntN(8)), uint8(rng.IntN(8))
			steps[i] = step{
				p: Params{
					Speed:   speed,
					Stick:   int32(rng.IntN(128)),
					Buttons: b1 & b2,
					Emote:   uint8(rng.IntN(3)),
				},
				dt: []int32{tick, tick, tick, 0, 1, 33_333, 250_000}[rng.IntN(7)],
			}
		}
		run := func(a ecs.Anim, from int) ([]ecs.Anim, []ecs.Pose) {
			as := make([]ecs.Anim, 0, len(steps))
			ps := make([]ecs.Pose, 0, len(steps))
			for _, s := range steps[from:] {
				Advance(lib, &a, s.p, s.dt)
				var pose ecs.Pose
				Apply(lib, &a, &pose)
				as = append(as, a)
				ps = append(ps, pose)
			}
			return as, ps
		}
		var start ecs.Anim
		if err := SetMachine(lib, &start, MachinePlayer); err != nil {
			t.Fatal(err)
		}
		as1, ps1 := run(start, 0)
		as2, ps2 := run(start, 0)
		const k = 777
		as3, ps3 := run(as1[k-1], k) // "restore" the state after step k-1
		visited := map[uint16]bool{}
		for i := range as1 {
			if as1[i] != as2[i] || ps1[i] != ps2[i] {
				t.Fatalf("seed %d step %d: runs differ: %+v %v vs %+v %v", seed, i, as1[i], ps1[i], as2[i], ps2[i])
			}
			if i >= k && (as1[i] != as3[i-k] || ps1[i] != ps3[i-k]) {
				t.Fatalf("seed %d step %d: restored run differs", seed, i)
			}
			if err := lib.CheckAnim(&as1[i]); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, i, err)
			}
			visited[as1[i].State] = true
		}
		if seed == 0 && len(visited) < 5 {
			t.Errorf("random walk visited only states %v", visited)
		}
	}
}
