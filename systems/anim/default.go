package anim

import "github.com/shardsim/shardsim/ecs"

// Pose channels written by the default library's animations (indices into ecs.Pose.V).
const (
	ChannelBob   = 0 // vertical body bob, Q16.16 (1.0 = one unit of the client's rig)
	ChannelSwing = 1 // arm/leg swing, Q16.16 (-1.0 back … +1.0 forward)
	ChannelLean  = 2 // body lean, Q16.16 (+ forward, - backward)
	ChannelEmote = 3 // emote pose parameter, Q16.16 (0 = none … 1.0 = full gesture)
)

// Animation ids of [DefaultLibrary].
const (
	AnimIdle  uint16 = iota // 2 s, LoopLinear, cubic bob
	AnimWalk                // 1 s, LoopLinear, linear bob + swing, slight lean
	AnimRun                 // 0.6 s, LoopLinear, bigger bob + swing, more lean
	AnimWave                // 1 s, LoopPingPong: arm up with a wiggle, then back down
	AnimDance               // 2 s, LoopNone, nearest (stepped) keys
	AnimBrake               // 0.4 s, LoopNone: lean back and dip, then recover
)

// Machine ids of [DefaultLibrary].
const (
	MachinePlayer    uint16 = iota // the player's locomotion + emote machine
	MachineCelebrate               // the intermission machine: cheer and dance in turn
)

// State ids of MachineCelebrate.
const (
	StateCheer      uint16 = iota // plays AnimWave at 1.5× speed
	StateCelebDance               // plays AnimDance
)

// State ids of MachinePlayer.
const (
	StateIdle  uint16 = iota // plays AnimIdle
	StateWalk                // plays AnimWalk
	StateRun                 // plays AnimRun
	StateWave                // plays AnimWave (emote 0 and any emote but 1)
	StateDance               // plays AnimDance (emote 1)
	StateBrake               // plays AnimBrake
)

// Planar speed thresholds of MachinePlayer, mm/s. Enter and exit thresholds differ
// (hysteresis) so a speed hovering near one does not flicker between states.
const (
	WalkEnterSpeed = 300  // idle/brake -> walk at >= this; emotes are cancelled
	WalkExitSpeed  = 150  // walk/run -> idle below this; brake needs at least this
	RunEnterSpeed  = 3000 // walk -> run at >= this
	RunExitSpeed   = 2500 // run -> walk below this
)

// Emote values of ecs.Input.Emote understood by MachinePlayer.
const (
	EmoteWave  = 0 // default; any value other than EmoteDance also waves
	EmoteDance = 1
)

// DefaultLibrary returns a new library with the player content: the animations
// AnimIdle … AnimBrake and the state machines MachinePlayer and MachineCelebrate. Each call returns a fresh
// copy that the caller may own.
//
// MachinePlayer's transitions, in priority order (first match wins):
//
//	any   -> brake  ButtonStop held and speed >= WalkExitSpeed       fade 100 ms
//	brake -> idle   at end, speed < WalkEnterSpeed                   fade 200 ms
//	brake -> walk   at end, speed >= WalkEnterSpeed, ButtonStop up   fade 200 ms
//	idle  -> walk   speed >= WalkEnterSpeed                          fade 200 ms
//	idle  -> dance  ButtonEmote held, Emote == EmoteDance            fade 200 ms
//	idle  -> wave   ButtonEmote held (any other Emote)               fade 200 ms
//	walk  -> run    speed >= RunEnterSpeed                           fade 150 ms
//	walk  -> idle   speed < WalkExitSpeed                            fade 250 ms
//	run   -> idle   speed < WalkExitSpeed                            fade 250 ms
//	run   -> walk   speed < RunExitSpeed                             fade 200 ms
//	wave  -> walk   speed >= WalkEnterSpeed                          fade 200 ms
//	wave  -> idle   at end of a forth-and-back cycle, ButtonEmote up fade 250 ms
//	dance -> walk   speed >= WalkEnterSpeed                          fade 200 ms
//	dance -> idle   at end                                           fade 250 ms
func DefaultLibrary() *Library {
	const ms = 1000 // µs per millisecond
	// k makes a key at tms milliseconds with value milli thousandths of 1.0, converted to
	// Q16.16 rounded half away from zero (e.g. 20 -> 1311, -250 -> -16384).
	k := func(tms int32, milli int32) Key {
		v := int64(milli) * ecs.Q16
		if v >= 0 {
			v = (v + 500) / 1000
		} else {
			v = (v - 500) / 1000
		}
		return Key{Time: tms * ms, Value: int32(v)}
	}
	lib := &Library{
		Animations: []Animation{
			AnimIdle: {
				Name: "idle", Length: 2000 * ms, Loop: LoopLinear,
				Tracks: []Track{
					{Channel: ChannelBob, Interp: InterpCubic, Keys: []Key{
						k(0, 0), k(500, 20), k(1000, 0), k(1500, -20),
					}},
					{Channel: ChannelSwing, Interp: InterpCubic, Keys: []Key{
						k(0, -10), k(1000, 10),
					}},
				},
			},
			AnimWalk: {
				Name: "walk", Length: 1000 * ms, Loop: LoopLinear,
				Tracks: []Track{
					{Channel: ChannelBob, Interp: InterpLinear, Keys: []Key{
						k(0, 0), k(250, 50), k(500, 0), k(750, 50),
					}},
					{Channel: ChannelSwing, Interp: InterpLinear, Keys: []Key{
						k(0, -250), k(500, 250),
					}},
					{Channel: ChannelLean, Interp: InterpLinear, Keys: []Key{k(0, 50)}},
				},
			},
			AnimRun: {
				Name: "run", Length: 600 * ms, Loop: LoopLinear,
				Tracks: []Track{
					{Channel: ChannelBob, Interp: InterpLinear, Keys: []Key{
						k(0, 0), k(150, 100), k(300, 0), k(450, 100),
					}},
					{Channel: ChannelSwing, Interp: InterpLinear, Keys: []Key{
						k(0, -600), k(300, 600),
					}},
					{Channel: ChannelLean, Interp: InterpLinear, Keys: []Key{k(0, 150)}},
				},
			},
			AnimWave: {
				Name: "wave", Length: 1000 * ms, Loop: LoopPingPong,
				Tracks: []Track{
					{Channel: ChannelEmote, Interp: InterpLinear, Keys: []Key{
						k(0, 0), k(250, 700), k(500, 1000), k(750, 700), k(1000, 1000),
					}},
					{Channel: ChannelSwing, Interp: InterpLinear, Keys: []Key{
						k(0, 0), k(1000, 200),
					}},
				},
			},
			AnimDance: {
				Name: "dance", Length: 2000 * ms, Loop: LoopNone,
				Tracks: []Track{
					{Channel: ChannelEmote, Interp: InterpNearest, Keys: []Key{
						k(0, 250), k(250, 750), k(500, 250), k(750, 1000),
						k(1000, 250), k(1250, 750), k(1500, 500), k(2000, 0),
					}},
					{Channel: ChannelBob, Interp: InterpNearest, Keys: []Key{
						k(0, 0), k(250, 80), k(500, 0), k(750, 80),
						k(1000, 0), k(1250, 80), k(1500, 0),
					}},
					{Channel: ChannelLean, Interp: InterpNearest, Keys: []Key{
						k(0, -100), k(500, 100), k(1000, -100), k(1500, 100), k(2000, 0),
					}},
				},
			},
			AnimBrake: {
				Name: "brake", Length: 400 * ms, Loop: LoopNone,
				Tracks: []Track{
					{Channel: ChannelLean, Interp: InterpLinear, Keys: []Key{
						k(0, 0), k(150, -300), k(400, 0),
					}},
					{Channel: ChannelBob, Interp: InterpLinear, Keys: []Key{
						k(0, 0), k(150, -50), k(400, 0),
					}},
				},
			},
		},
	}

	speed := func(op Op, v int32) Clause { return Clause{Param: ParamSpeed, Op: op, Value: v} }
	held := func(b uint8) Clause { return Clause{Param: ParamButtons, Op: OpAllSet, Value: int32(b)} }
	up := func(b uint8) Clause { return Clause{Param: ParamButtons, Op: OpNoneSet, Value: int32(b)} }
	emote := func(op Op, v int32) Clause { return Clause{Param: ParamEmote, Op: op, Value: v} }

	lib.Machines = []Machine{
		MachinePlayer: {
			Name:  "player",
			Start: StateIdle,
			States: []State{
				StateIdle:  {Name: "idle", Clip: AnimIdle, Speed: 1000},
				StateWalk:  {Name: "walk", Clip: AnimWalk, Speed: 1000},
				StateRun:   {Name: "run", Clip: AnimRun, Speed: 1000},
				StateWave:  {Name: "wave", Clip: AnimWave, Speed: 1000},
				StateDance: {Name: "dance", Clip: AnimDance, Speed: 1000},
				StateBrake: {Name: "brake", Clip: AnimBrake, Speed: 1000},
			},
			Transitions: []Transition{
				{From: AnyState, To: StateBrake, Fade: 100 * ms,
					When: Condition{held(ecs.ButtonStop), speed(OpGE, WalkExitSpeed)}},
				{From: StateBrake, To: StateIdle, Fade: 200 * ms, AtEnd: true,
					When: Condition{speed(OpLT, WalkEnterSpeed)}},
				{From: StateBrake, To: StateWalk, Fade: 200 * ms, AtEnd: true,
					When: Condition{speed(OpGE, WalkEnterSpeed), up(ecs.ButtonStop)}},
				{From: StateIdle, To: StateWalk, Fade: 200 * ms,
					When: Condition{speed(OpGE, WalkEnterSpeed)}},
				{From: StateIdle, To: StateDance, Fade: 200 * ms,
					When: Condition{held(ecs.ButtonEmote), emote(OpEQ, EmoteDance)}},
				{From: StateIdle, To: StateWave, Fade: 200 * ms,
					When: Condition{held(ecs.ButtonEmote)}},
				{From: StateWalk, To: StateRun, Fade: 150 * ms,
					When: Condition{speed(OpGE, RunEnterSpeed)}},
				{From: StateWalk, To: StateIdle, Fade: 250 * ms,
					When: Condition{speed(OpLT, WalkExitSpeed)}},
				{From: StateRun, To: StateIdle, Fade: 250 * ms,
					When: Condition{speed(OpLT, WalkExitSpeed)}},
				{From: StateRun, To: StateWalk, Fade: 200 * ms,
					When: Condition{speed(OpLT, RunExitSpeed)}},
				{From: StateWave, To: StateWalk, Fade: 200 * ms,
					When: Condition{speed(OpGE, WalkEnterSpeed)}},
				{From: StateWave, To: StateIdle, Fade: 250 * ms, AtEnd: true,
					When: Condition{up(ecs.ButtonEmote)}},
				{From: StateDance, To: StateWalk, Fade: 200 * ms,
					When: Condition{speed(OpGE, WalkEnterSpeed)}},
				{From: StateDance, To: StateIdle, Fade: 250 * ms, AtEnd: true},
			},
		},
		// Entered by every player at the intermission (a game-state transition switches
		// machines); it ignores input: players cheer, then dance, in turn.
		MachineCelebrate: {
			Name:  "celebrate",
			Start: StateCheer,
			States: []State{
				StateCheer:      {Name: "cheer", Clip: AnimWave, Speed: 1500},
				StateCelebDance: {Name: "dance", Clip: AnimDance, Speed: 1000},
			},
			Transitions: []Transition{
				{From: StateCheer, To: StateCelebDance, Fade: 300 * ms, AtEnd: true},
				{From: StateCelebDance, To: StateCheer, Fade: 300 * ms, AtEnd: true},
			},
		},
	}
	return lib
}
