package anim

import "errors"

// Errors returned (wrapped, with the offending resource named) by [Animation.Validate],
// [Library.Validate], [Library.CheckAnim] and [SetMachine]. Match them with [errors.Is].
var (
	// ErrLength: an animation's Length is not in (0, MaxLength].
	ErrLength = errors.New("length out of range")
	// ErrLoopMode: an unknown [LoopMode].
	ErrLoopMode = errors.New("unknown loop mode")
	// ErrInterp: an unknown [Interp].
	ErrInterp = errors.New("unknown interpolation")
	// ErrChannel: a track's channel is not below ecs.PoseChannels.
	ErrChannel = errors.New("channel out of range")
	// ErrDupChannel: two tracks of one animation animate the same channel.
	ErrDupChannel = errors.New("channel animated by two tracks")
	// ErrNoKeys: a track has no keys.
	ErrNoKeys = errors.New("track has no keys")
	// ErrKeyTime: a key lies outside [0, Length].
	ErrKeyTime = errors.New("key time outside [0, length]")
	// ErrKeyOrder: key times are not strictly increasing.
	ErrKeyOrder = errors.New("key times not strictly increasing")
	// ErrName: a name is empty or used twice.
	ErrName = errors.New("empty or duplicate name")
	// ErrRef: an animation, machine or state id does not exist.
	ErrRef = errors.New("reference out of range")
	// ErrSpeed: a playback speed is not in [0, MaxSpeed].
	ErrSpeed = errors.New("speed out of range")
	// ErrFade: a crossfade duration is negative or exceeds MaxLength.
	ErrFade = errors.New("crossfade out of range")
	// ErrCondition: a clause names an unknown [Param] or [Op].
	ErrCondition = errors.New("bad condition")
	// ErrTransition: a transition leads from a state to itself, or from AnyState nowhere.
	ErrTransition = errors.New("bad transition")
	// ErrTooMany: more entries than a uint16 id can address.
	ErrTooMany = errors.New("too many entries")
	// ErrAnimState: an [ecs.Anim] is inconsistent with the library (see [Library.CheckAnim]).
	ErrAnimState = errors.New("inconsistent animation state")
)
