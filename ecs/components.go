package ecs

// Fixed-point units used by every component. All state is integers (see DESIGN.md):
//
//   - lengths are micrometres (µm) in int32, so an arena up to ±2 km fits;
//   - speeds are millimetres per second (mm/s) in int32;
//   - headings are binary angles in uint16 (65536 = one full turn, 0 = +X, counter-clockwise);
//   - times are microseconds (µs); a tick at rate R lasts 1_000_000/R µs (integer division);
//   - animation key values are Q16.16 fixed point in int32 (65536 = 1.0);
//   - speed scales are per-mille (1000 = 1.0).
const (
	// Q16 is 1.0 in Q16.16 fixed point.
	Q16 = 1 << 16
	// MicrosPerSecond converts seconds to the µs unit of animation time.
	MicrosPerSecond = 1_000_000
	// MicrometresPerMetre converts metres to the µm unit of position.
	MicrometresPerMetre = 1_000_000
)

// NetID is the stable network id of a player entity. Ids are small, dense and recycled
// (lowest free id first); 0 is never a valid id. Snapshots, hashes and every
// order-dependent system walk entities in ascending NetID order.
type NetID uint32

// ID is the component holding an entity's [NetID].
type ID struct {
	Net NetID
}

// Position is a point on the arena in µm. The arena spans [0, ArenaW] × [0, ArenaH].
type Position struct {
	X, Y int32
}

// Velocity is in mm/s.
type Velocity struct {
	X, Y int32
}

// Heading is the facing direction as a binary angle (65536 = full turn).
type Heading struct {
	Angle uint16
}

// Input flag bits of [Input.Buttons].
const (
	ButtonRun   uint8 = 1 << 0 // move at run speed instead of walk speed
	ButtonEmote uint8 = 1 << 1 // play the emote (while standing)
	ButtonStop  uint8 = 1 << 2 // brake hard to a standstill
)

// Input is a player's current input, held until the next input replaces it.
// MoveX and MoveY are a joystick direction in [-127, 127] per axis; the magnitude is
// clamped to 127 (full stick). Buttons holds ButtonRun, ButtonEmote, ButtonStop bits.
type Input struct {
	MoveX, MoveY int8
	Buttons      uint8
	// Emote selects which emote animation ButtonEmote plays (0 = default).
	Emote uint8
}

// Anim is a player's animation-tree state (Godot AnimationTree-like): the active
// state-machine state and animation, its playback time, and an optional crossfade
// from the previous animation.
type Anim struct {
	Machine   uint16 // state machine resource id
	State     uint16 // current state index in the machine
	Clip      uint16 // animation resource id playing in State
	PrevClip  uint16 // animation fading out (valid while FadeLeft > 0)
	Time      int32  // playback time of Clip, µs
	PrevTime  int32  // playback time of PrevClip, µs
	FadeLeft  int32  // remaining crossfade, µs (0 = no fade)
	FadeTotal int32  // total crossfade duration, µs
	Speed     int32  // playback speed scale, per-mille (1000 = 1.0)
	InState   int32  // time spent in State, µs
}

// PoseChannels is the number of animated channels written by animation tracks.
const PoseChannels = 4

// Pose holds the animated values written into the entity each tick by the animation
// system: one Q16.16 value per channel (e.g. 0 body bob, 1 arm swing, 2 lean, 3 emote).
type Pose struct {
	V [PoseChannels]int32
}

// Brain is the deterministic scripted bot driving an NPC player (no network client).
// It draws its decisions from the world's PRNG inside the step.
type Brain struct {
	Mode     uint8  // current behaviour: see systems.BotMode
	NextTick uint64 // tick at which the bot picks its next behaviour
	Input           // the input the bot currently holds
}

// Player marks a player and carries its session data.
type Player struct {
	Team  uint8 // assigned by game-state transitions (0 = lobby)
	Score int32
}
