// Package anim holds the animation resources of shardsim and the AnimationTree-like state
// machine that drives each player's [ecs.Anim] component, all in integer fixed point.
//
// The model follows Godot:
//
//   - An [Animation] is Godot's Animation resource reduced to value tracks: each [Track]
//     animates one [ecs.Pose] channel with sorted [Key]s and [InterpNearest],
//     [InterpLinear] or [InterpCubic] interpolation; the clip loops per [LoopNone],
//     [LoopLinear] or [LoopPingPong] (Godot 4's LOOP_NONE / LOOP_LINEAR / LOOP_PINGPONG).
//     [Animation.Sample] evaluates it at a time, [Track.FindKey] is track_find_key.
//   - A [Machine] is an AnimationNodeStateMachine: [State]s play a clip at a speed, and
//     [Transition]s between them fire on a [Condition] over [Params] (plain data, no
//     closures), optionally only at the end of the clip (Godot's SWITCH_MODE_AT_END), and
//     crossfade for a given time.
//   - A [Library] holds the resources; entities refer to them by index (uint16), the way a
//     scene shares a Ref<Animation>. [DefaultLibrary] is the player's content.
//
// Per entity and tick the animation system calls [Advance] (transitions, time, crossfade)
// and then [Apply] (sample and blend into an [ecs.Pose]); neither allocates. [SetMachine]
// switches an entity to another machine, [Library.Validate] checks every reference once at
// load and [Library.CheckAnim] checks a restored [ecs.Anim] against the library.
//
// # Units and rounding
//
// Times are microseconds in int32, key values Q16.16 in int32 ([ecs.Q16] = 1.0), speeds
// per-mille (1000 = 1.0). No floating point is used: intermediate products are int64.
// Rounding, which is part of the determinism contract and must not change silently:
//
//   - the interpolation weight within a key segment is floor(from·65536/delta), a Q16
//     fraction in [0, 65536];
//   - linear interpolation and blending compute a + ((b-a)·w + 2¹⁵) >> 16, i.e. round to
//     nearest with ties toward +∞ (the shift is arithmetic, so this holds for negatives);
//   - cubic interpolation is Godot's cubic_interpolate (uniform Catmull-Rom) evaluated in
//     Horner form with 8 extra fraction bits, each product rounded the same way; the
//     result is within 0.51 of the exact value (exact at keys), saturated to int32;
//   - playback time advances by floor(dt·speed/1000) µs per call.
package anim
