package anim

import (
	"fmt"

	"github.com/shardsim/shardsim/ecs"
)

// MaxLength is the longest animation (and crossfade) in µs, about 17.9 minutes; it keeps
// a ping-pong period (2·Length) inside int32.
const MaxLength = 1 << 30

// LoopMode says how an animation's time wraps (Godot 4's Animation.LoopMode).
type LoopMode uint8

// Loop modes.
const (
	// LoopNone plays once: times are clamped to [0, Length] and the last key holds.
	LoopNone LoopMode = iota
	// LoopLinear repeats: time t plays as t mod Length (in [0, Length), also for t < 0),
	// and the last key interpolates towards the first across the loop point.
	LoopLinear
	// LoopPingPong plays forwards then backwards: period 2·Length, time reflected at 0
	// and Length (Godot's Math::pingpong). Before the first and after the last key the
	// value holds.
	LoopPingPong
)

// String returns the Godot-style name of m.
func (m LoopMode) String() string {
	switch m {
	case LoopNone:
		return "none"
	case LoopLinear:
		return "linear"
	case LoopPingPong:
		return "pingpong"
	}
	return fmt.Sprintf("LoopMode(%d)", uint8(m))
}

// Interp is a track's interpolation (Godot's Animation.InterpolationType).
type Interp uint8

// Interpolation types.
const (
	// InterpNearest holds the value of the key at or before the time. (Godot calls this
	// "nearest" although it never looks at the next key; so do we.)
	InterpNearest Interp = iota
	// InterpLinear interpolates linearly between the key at or before and the next one.
	InterpLinear
	// InterpCubic is Godot's cubic_interpolate (uniform Catmull-Rom) through the key at or
	// before and the next one, with tangents from the keys before and after those. The
	// neighbours are clamped (LoopNone), wrapped (LoopLinear) or reflected (LoopPingPong).
	// It equals Godot 4's time-aware cubic when keys are evenly spaced.
	InterpCubic
)

// String returns the Godot-style name of i.
func (i Interp) String() string {
	switch i {
	case InterpNearest:
		return "nearest"
	case InterpLinear:
		return "linear"
	case InterpCubic:
		return "cubic"
	}
	return fmt.Sprintf("Interp(%d)", uint8(i))
}

// Key is one key of a value track: at Time (µs from the start of the animation) the
// channel has Value (Q16.16).
type Key struct {
	Time  int32
	Value int32
}

// Track is a value track animating one pose channel.
type Track struct {
	// Channel is the index into ecs.Pose.V, below ecs.PoseChannels.
	Channel uint8
	// Interp is how values between keys are computed.
	Interp Interp
	// Keys sorted by strictly increasing Time, within [0, Length] of the animation.
	Keys []Key
}

// Animation is a clip: value tracks over Length µs, played per Loop. It is a shared,
// read-only resource once in a [Library].
type Animation struct {
	Name   string
	Length int32 // µs, in (0, MaxLength]
	Loop   LoopMode
	Tracks []Track
}

// FindKey returns the index of the last key with Time <= t, or -1 if t is before the
// first key (or there are no keys). It is Godot's track_find_key in FIND_MODE_NEAREST
// (forward), by binary search over the sorted keys.
func (tr *Track) FindKey(t int32) int {
	lo, hi := 0, len(tr.Keys) // invariant: keys[<lo] <= t, keys[>=hi] > t
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if tr.Keys[mid].Time <= t {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo - 1
}

// WrapTime maps a playback time (any int32, negative or past the end) into the clip per
// its loop mode: clamped to [0, Length] (LoopNone), t mod Length in [0, Length)
// (LoopLinear), or reflected into [0, Length] with period 2·Length (LoopPingPong).
// It returns 0 if Length <= 0.
func (a *Animation) WrapTime(t int32) int32 {
	l := int64(a.Length)
	if l <= 0 {
		return 0
	}
	switch a.Loop {
	case LoopLinear:
		return int32(posmod(int64(t), l))
	case LoopPingPong:
		m := posmod(int64(t), 2*l)
		if m > l {
			m = 2*l - m
		}
		return int32(m)
	default:
		return min(max(t, 0), a.Length)
	}
}

// Sample writes the value of every track at playback time t (wrapped by [Animation.WrapTime]) into
// its channel of out. Channels without a track are left as they are. It does not
// allocate. It panics if a track's Channel is out of range ([Animation.Validate] reports
// that).
func (a *Animation) Sample(t int32, out *ecs.Pose) {
	t = a.WrapTime(t)
	for i := range a.Tracks {
		tr := &a.Tracks[i]
		out.V[tr.Channel] = a.interpolate(tr, t)
	}
}

// TrackValue returns the value of track i at playback time t (wrapped by [Animation.WrapTime]),
// like Godot's value_track_interpolate. It panics if i is out of range.
func (a *Animation) TrackValue(i int, t int32) int32 {
	return a.interpolate(&a.Tracks[i], a.WrapTime(t))
}

// interpolate is Godot's Animation::_interpolate (forward, loop_wrap on) for a time t
// already wrapped into [0, Length].
func (a *Animation) interpolate(tr *Track, t int32) int32 {
	keys := tr.Keys
	n := len(keys)
	switch n {
	case 0:
		return 0
	case 1:
		return keys[0].Value
	}
	last := n - 1
	idx := tr.FindKey(t)
	startEdge := idx < 0
	endEdge := idx >= last
	var next, pre, post int
	var from, delta int64
	switch a.Loop {
	case LoopLinear:
		// Across the loop point the last key interpolates towards the first.
		if startEdge {
			idx = last
		}
		next = (idx + 1) % n
		pre = (idx - 1 + n) % n
		post = (idx + 2) % n
		if startEdge || endEdge {
			tail := max(int64(a.Length)-int64(keys[last].Time), 0)
			delta = tail + int64(keys[0].Time)
			if startEdge {
				from = tail + int64(t)
			} else {
				from = int64(t) - int64(keys[last].Time)
			}
		}
	case LoopPingPong:
		// The reflection makes the edges flat: lerp(k, k) in Godot.
		if startEdge {
			return keys[0].Value
		}
		if endEdge {
			return keys[last].Value
		}
		next = idx + 1
		pre = reflect(idx-1, n)
		post = reflect(idx+2, n)
	default:
		if startEdge {
			return keys[0].Value
		}
		if endEdge {
			return keys[last].Value
		}
		next = idx + 1
		pre = max(idx-1, 0)
		post = min(idx+2, last)
	}
	if !startEdge && !endEdge {
		delta = int64(keys[next].Time) - int64(keys[idx].Time)
		from = int64(t) - int64(keys[idx].Time)
	}
	switch tr.Interp {
	case InterpLinear:
		return lerp(keys[idx].Value, keys[next].Value, weightQ16(from, delta))
	case InterpCubic:
		return cubic(keys[pre].Value, keys[idx].Value, keys[next].Value, keys[post].Value,
			weightQ16(from, delta))
	default:
		return keys[idx].Value
	}
}

// reflect maps a key index past either end back inside [0, n), repeating the edge key
// (Godot: round(pingpong(i + 0.5, n) - 0.5)); valid for i in [-n, 2n).
func reflect(i, n int) int {
	if i < 0 {
		return -i - 1
	}
	if i >= n {
		return 2*n - 1 - i
	}
	return i
}

// Validate reports the first problem of a: Length not in (0, MaxLength], an unknown loop
// mode or interpolation, a channel out of range or animated twice, a track without keys,
// a key outside [0, Length] or keys not strictly increasing. Errors wrap the sentinels of
// this package (ErrLength, ErrKeyOrder, …) and name the track and key.
func (a *Animation) Validate() error {
	return a.validate(fmt.Sprintf("anim: animation %q", a.Name))
}

func (a *Animation) validate(where string) error {
	if a.Length <= 0 || a.Length > MaxLength {
		return fmt.Errorf("%s: length %dµs not in (0, %d]: %w", where, a.Length, MaxLength, ErrLength)
	}
	if a.Loop > LoopPingPong {
		return fmt.Errorf("%s: %v: %w", where, a.Loop, ErrLoopMode)
	}
	var seen [ecs.PoseChannels]int
	for i := range a.Tracks {
		tr := &a.Tracks[i]
		if int(tr.Channel) >= ecs.PoseChannels {
			return fmt.Errorf("%s: track %d: channel %d, want < %d: %w",
				where, i, tr.Channel, ecs.PoseChannels, ErrChannel)
		}
		if prev := seen[tr.Channel]; prev != 0 {
			return fmt.Errorf("%s: track %d: channel %d already animated by track %d: %w",
				where, i, tr.Channel, prev-1, ErrDupChannel)
		}
		seen[tr.Channel] = i + 1
		if tr.Interp > InterpCubic {
			return fmt.Errorf("%s: track %d: %v: %w", where, i, tr.Interp, ErrInterp)
		}
		if len(tr.Keys) == 0 {
			return fmt.Errorf("%s: track %d: %w", where, i, ErrNoKeys)
		}
		for k, key := range tr.Keys {
			if key.Time < 0 || key.Time > a.Length {
				return fmt.Errorf("%s: track %d: key %d at %dµs, length %dµs: %w",
					where, i, k, key.Time, a.Length, ErrKeyTime)
			}
			if k > 0 && key.Time <= tr.Keys[k-1].Time {
				return fmt.Errorf("%s: track %d: key %d at %dµs is not after key %d at %dµs: %w",
					where, i, k, key.Time, k-1, tr.Keys[k-1].Time, ErrKeyOrder)
			}
		}
	}
	return nil
}
