package anim

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/ecs"
)

const q = ecs.Q16

// fourKeys has unevenly spaced keys (the last segment is twice as long).
var fourKeys = []Key{{0, 0}, {250_000, q}, {500_000, 2 * q}, {1_000_000, -q}}

func TestInterpolation(t *testing.T) {
	tests := []struct {
		interp Interp
		t      int32
		want   int32
	}{
		// Nearest holds the key at or before t (Godot's "nearest").
		{InterpNearest, 0, 0},
		{InterpNearest, 100_000, 0},
		{InterpNearest, 249_999, 0},
		{InterpNearest, 250_000, q},
		{InterpNearest, 499_999, q},
		{InterpNearest, 500_000, 2 * q},
		{InterpNearest, 999_999, 2 * q},
		{InterpNearest, 1_000_000, -q},
		// Linear: exact at keys.
		{InterpLinear, 0, 0},
		{InterpLinear, 250_000, q},
		{InterpLinear, 500_000, 2 * q},
		{InterpLinear, 1_000_000, -q},
		// w = 125000·65536/250000 = 32768; 0 + (65536·32768 + 32768)>>16 = 32768.
		{InterpLinear, 125_000, 32768},
		// w = ⌊100000·65536/250000⌋ = ⌊26214.4⌋ = 26214; (65536·26214 + 32768)>>16 = 26214.
		{InterpLinear, 100_000, 26214},
		// w = ⌊65536/250000⌋ = 0.
		{InterpLinear, 1, 0},
		// w = ⌊50000·65536/250000⌋ = 13107; 65536 + 13107 = 78643.
		{InterpLinear, 300_000, 78643},
		// Long segment: w = 250000·65536/500000 = 32768; 131072 + (-196608·32768 + 32768)>>16
		// = 131072 + ⌊-98303.5⌋ = 131072 - 98304 = 32768.
		{InterpLinear, 750_000, 32768},
		// Cubic: exact at keys.
		{InterpCubic, 0, 0},
		{InterpCubic, 250_000, q},
		{InterpCubic, 500_000, 2 * q},
		{InterpCubic, 1_000_000, -q},
		// Segment 0: pre clamped to key 0: p = (0, 0, 1, 2), c = 0.5:
		// 0.5·(0 + 1·0.5 + (0-0+4-2)·0.25 + (0+0-3+2)·0.125) = 0.4375 → 28672.
		{InterpCubic, 125_000, 28672},
		// Segment 2: post clamped to key 3: p = (1, 2, -1, -1), c = 0.5:
		// 0.5·(4 + (-2)·0.5 + (2-10-4+1)·0.25 + (-1+6+3-1)·0.125) = 0.5625 → 36864.
		{InterpCubic, 750_000, 36864},
		// Segment 0, c = 0.25 (w = 16384): 0.5·(0.25 + 2·0.0625 - 1·0.015625) = 0.1796875 → 11776.
		{InterpCubic, 62_500, 11776},
	}
	for _, tt := range tests {
		a := Animation{Name: "t", Length: 1_000_000, Loop: LoopNone,
			Tracks: []Track{{Channel: 0, Interp: tt.interp, Keys: fourKeys}}}
		if err := a.Validate(); err != nil {
			t.Fatal(err)
		}
		if got := a.TrackValue(0, tt.t); got != tt.want {
			t.Errorf("%v at %dµs = %d, want %d", tt.interp, tt.t, got, tt.want)
		}
	}
}

func TestWrapTime(t *testing.T) {
	const minT, maxT = math.MinInt32, math.MaxInt32
	tests := []struct {
		loop LoopMode
		t    int32
		want int32
	}{
		{LoopNone, minT, 0},
		{LoopNone, -5, 0},
		{LoopNone, 0, 0},
		{LoopNone, 500, 500},
		{LoopNone, 1000, 1000},
		{LoopNone, 1001, 1000},
		{LoopNone, maxT, 1000},

		{LoopLinear, 0, 0},
		{LoopLinear, 999, 999},
		{LoopLinear, 1000, 0},
		{LoopLinear, 2500, 500},
		{LoopLinear, -1, 999},
		{LoopLinear, -1000, 0},
		{LoopLinear, -1001, 999},
		{LoopLinear, maxT, 647},  // 2147483647 mod 1000
		{LoopLinear, minT, 352},  // -2147483648 = -2147484·1000 + 352
		{LoopLinear, -maxT, 353}, // -2147483647 = -2147484·1000 + 353

		{LoopPingPong, 0, 0},
		{LoopPingPong, 400, 400},
		{LoopPingPong, 1000, 1000},
		{LoopPingPong, 1500, 500},
		{LoopPingPong, 1999, 1},
		{LoopPingPong, 2000, 0},
		{LoopPingPong, 2500, 500},
		{LoopPingPong, -1, 1},
		{LoopPingPong, -500, 500},
		{LoopPingPong, -1500, 500},
		{LoopPingPong, maxT, 353}, // 2147483647 mod 2000 = 1647 → 2000-1647
		{LoopPingPong, minT, 352}, // -2147483648 mod 2000 = 352
	}
	for _, tt := range tests {
		a := Animation{Length: 1000, Loop: tt.loop}
		if got := a.WrapTime(tt.t); got != tt.want {
			t.Errorf("%v WrapTime(%d) = %d, want %d", tt.loop, tt.t, got, tt.want)
		}
	}
	if got := (&Animation{Length: 0, Loop: LoopLinear}).WrapTime(5); got != 0 {
		t.Errorf("WrapTime on zero length = %d, want 0", got)
	}
}

// TestLoopSample checks the value of tracks whose keys do not sit on 0 and Length, so the
// loop mode also decides what happens before the first and after the last key.
func TestLoopSample(t *testing.T) {
	lin := []Key{{200, 0}, {600, 400}}
	wave := []Key{{0, 0}, {250, q}, {500, 0}, {750, -q}} // a sine-like loop over 1000 µs
	tests := []struct {
		name   string
		loop   LoopMode
		interp Interp
		keys   []Key
		t      int32
		want   int32
	}{
		// LoopNone clamps: before the first key the first value, after the last the last.
		{"none/before", LoopNone, InterpLinear, lin, 100, 0},
		{"none/mid", LoopNone, InterpLinear, lin, 300, 100},
		{"none/after", LoopNone, InterpLinear, lin, 700, 400},
		{"none/past end", LoopNone, InterpLinear, lin, 5000, 400},
		{"none/negative", LoopNone, InterpLinear, lin, -5000, 0},
		// LoopLinear interpolates last → first across the loop point over
		// (1000-600) + 200 = 600 µs.
		// t=700: from 100, w = ⌊100·65536/600⌋ = 10922, 400 + ⌊(-400·10922 + 32768)/65536⌋
		// = 400 - 67 = 333 (exact 333.3).
		{"linear/after", LoopLinear, InterpLinear, lin, 700, 333},
		// t=100: from 400+100, w = ⌊500·65536/600⌋ = 54613, 400 - 333 = 67 (exact 66.7).
		{"linear/before", LoopLinear, InterpLinear, lin, 100, 67},
		{"linear/wrapped", LoopLinear, InterpLinear, lin, 1100, 67},
		{"linear/negative", LoopLinear, InterpLinear, lin, -300, 333},
		{"linear/huge", LoopLinear, InterpLinear, lin, 2_000_000_700, 333},
		{"linear/nearest before", LoopLinear, InterpNearest, lin, 100, 400},
		{"linear/nearest after", LoopLinear, InterpNearest, lin, 700, 400},
		// LoopPingPong reflects time and holds at the edges.
		{"pingpong/before", LoopPingPong, InterpLinear, lin, 100, 0},
		{"pingpong/after", LoopPingPong, InterpLinear, lin, 700, 400},
		{"pingpong/reflected", LoopPingPong, InterpLinear, lin, 1700, 100}, // plays 300
		{"pingpong/negative", LoopPingPong, InterpLinear, lin, -300, 100},
		{"pingpong/huge", LoopPingPong, InterpLinear, lin, 2_000_001_700, 100},

		// Cubic neighbours: clamped, wrapped or reflected.
		// t=125, segment 0, c = 0.5.
		// none: p = (0, 0, 1, 0): 0.5·(0.5 + 4·0.25 - 3·0.125) = 0.5625.
		{"cubic/none/seg0", LoopNone, InterpCubic, wave, 125, 36864},
		// linear: pre wraps to key 3: p = (-1, 0, 1, 0): 0.5·(1 + 2·0.25 - 2·0.125) = 0.625.
		{"cubic/linear/seg0", LoopLinear, InterpCubic, wave, 125, 40960},
		// pingpong: pre reflects to key 0, as none.
		{"cubic/pingpong/seg0", LoopPingPong, InterpCubic, wave, 125, 36864},
		// t=625, segment 2. none/pingpong: post → key 3: p = (1, 0, -1, -1) → -0.5625.
		{"cubic/none/seg2", LoopNone, InterpCubic, wave, 625, -36864},
		{"cubic/pingpong/seg2", LoopPingPong, InterpCubic, wave, 625, -36864},
		// linear: post wraps to key 0: p = (1, 0, -1, 0) → -0.625.
		{"cubic/linear/seg2", LoopLinear, InterpCubic, wave, 625, -40960},
		// t=875, after the last key. none and pingpong hold -1.
		{"cubic/none/after", LoopNone, InterpCubic, wave, 875, -q},
		{"cubic/pingpong/after", LoopPingPong, InterpCubic, wave, 875, -q},
		// linear: key 3 → key 0 over 250 µs, c = 0.5, p = (0, -1, 0, 1):
		// 0.5·(-2 + 0 + 4·0.25 - 2·0.125) = -0.625.
		{"cubic/linear/after", LoopLinear, InterpCubic, wave, 875, -40960},
		{"cubic/linear/at loop", LoopLinear, InterpCubic, wave, 1000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Animation{Name: tt.name, Length: 1000, Loop: tt.loop,
				Tracks: []Track{{Channel: 2, Interp: tt.interp, Keys: tt.keys}}}
			if err := a.Validate(); err != nil {
				t.Fatal(err)
			}
			var p ecs.Pose
			p.V[0] = 77 // not animated: left alone
			a.Sample(tt.t, &p)
			if p.V[2] != tt.want || p.V[0] != 77 {
				t.Errorf("Sample(%d) = %v, want channel 2 = %d and channel 0 = 77", tt.t, p.V, tt.want)
			}
		})
	}
}

func TestSingleKeyAndEmptyTrack(t *testing.T) {
	a := Animation{Length: 1000, Loop: LoopLinear, Tracks: []Track{
		{Channel: 0, Interp: InterpCubic, Keys: []Key{{500, 42}}},
		{Channel: 1, Interp: InterpLinear},
	}}
	for _, tm := range []int32{0, 499, 500, 999, -7} {
		if got := a.TrackValue(0, tm); got != 42 {
			t.Errorf("single key at %d = %d, want 42", tm, got)
		}
		if got := a.TrackValue(1, tm); got != 0 {
			t.Errorf("empty track at %d = %d, want 0", tm, got)
		}
	}
}

func TestFindKey(t *testing.T) {
	tr := Track{Keys: []Key{{100, 1}, {200, 2}, {300, 3}}}
	for _, tt := range []struct{ t, want int32 }{
		{math.MinInt32, -1}, {99, -1}, {100, 0}, {150, 0}, {199, 0}, {200, 1},
		{299, 1}, {300, 2}, {math.MaxInt32, 2},
	} {
		if got := tr.FindKey(tt.t); got != int(tt.want) {
			t.Errorf("FindKey(%d) = %d, want %d", tt.t, got, tt.want)
		}
	}
	if got := (&Track{}).FindKey(0); got != -1 {
		t.Errorf("FindKey on no keys = %d, want -1", got)
	}
}

func TestAnimationValidate(t *testing.T) {
	good := func() Animation {
		return Animation{Name: "clip", Length: 1000, Loop: LoopLinear, Tracks: []Track{
			{Channel: 0, Interp: InterpLinear, Keys: []Key{{0, 0}, {500, q}, {1000, 0}}},
			{Channel: 3, Interp: InterpCubic, Keys: []Key{{10, 1}}},
		}}
	}
	tests := []struct {
		name   string
		mutate func(*Animation)
		want   error
		msg    string
	}{
		{"ok", func(*Animation) {}, nil, ""},
		{"zero length", func(a *Animation) { a.Length = 0 }, ErrLength,
			`anim: animation "clip": length 0µs not in (0, 1073741824]: length out of range`},
		{"negative length", func(a *Animation) { a.Length = -1 }, ErrLength, "length -1µs"},
		{"huge length", func(a *Animation) { a.Length = MaxLength + 1 }, ErrLength, "length 1073741825µs"},
		{"loop mode", func(a *Animation) { a.Loop = 3 }, ErrLoopMode, "LoopMode(3): unknown loop mode"},
		{"channel", func(a *Animation) { a.Tracks[1].Channel = ecs.PoseChannels }, ErrChannel,
			`anim: animation "clip": track 1: channel 4, want < 4: channel out of range`},
		{"dup channel", func(a *Animation) { a.Tracks[1].Channel = 0 }, ErrDupChannel,
			"track 1: channel 0 already animated by track 0"},
		{"interp", func(a *Animation) { a.Tracks[0].Interp = 9 }, ErrInterp, "track 0: Interp(9)"},
		{"no keys", func(a *Animation) { a.Tracks[1].Keys = nil }, ErrNoKeys, "track 1: track has no keys"},
		{"key negative", func(a *Animation) { a.Tracks[0].Keys[0].Time = -1 }, ErrKeyTime,
			"track 0: key 0 at -1µs, length 1000µs"},
		{"key past end", func(a *Animation) { a.Tracks[0].Keys[2].Time = 1001 }, ErrKeyTime,
			"track 0: key 2 at 1001µs"},
		{"key order", func(a *Animation) { a.Tracks[0].Keys[1].Time = 0 }, ErrKeyOrder,
			`anim: animation "clip": track 0: key 1 at 0µs is not after key 0 at 0µs: key times not strictly increasing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := good()
			tt.mutate(&a)
			err := a.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate() = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Validate() = %q, want it to contain %q", err, tt.msg)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{LoopNone.String(), "none"}, {LoopLinear.String(), "linear"},
		{LoopPingPong.String(), "pingpong"}, {LoopMode(7).String(), "LoopMode(7)"},
		{InterpNearest.String(), "nearest"}, {InterpLinear.String(), "linear"},
		{InterpCubic.String(), "cubic"}, {Interp(7).String(), "Interp(7)"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
