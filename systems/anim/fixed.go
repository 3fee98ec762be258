package anim

import "github.com/shardsim/shardsim/internal/fixed"

import "math"

// Fixed-point helpers. All of them are pure integer functions; their rounding is
// documented in doc.go and is part of the determinism contract.

const q16 = 1 << 16

// roundShift returns x / 2ⁿ rounded to nearest, ties toward +∞: floor(x/2ⁿ + 1/2).
// Go's >> on a signed integer is arithmetic (floors), so this holds for negative x.
// n must be in [1, 62].
func roundShift(x int64, n uint) int64 {
	return (x + 1<<(n-1)) >> n
}

// weightQ16 returns floor(from·2¹⁶/delta) clamped to [0, 2¹⁶], or 0 when delta <= 0.
// from and delta are µs; |from|·2¹⁶ fits int64 for any int32-derived from.
func weightQ16(from, delta int64) int64 {
	if delta <= 0 || from <= 0 {
		return 0
	}
	if from >= delta {
		return q16
	}
	return from * q16 / delta
}

// lerp returns a + (b-a)·w/2¹⁶ rounded (see roundShift), w a Q16 weight in [0, 2¹⁶].
// The result lies between a and b, so it fits int32.
func lerp(a, b int32, w int64) int32 {
	return a + int32(roundShift((int64(b)-int64(a))*w, 16))
}

// cubic is Godot's cubic_interpolate (uniform Catmull-Rom through p1 at w=0 and p2 at
// w=2¹⁶, with tangents from p0 and p3):
//
//	0.5·(2p1 + (p2-p0)·c + (2p0-5p1+4p2-p3)·c² + (-p0+3p1-3p2+p3)·c³),  c = w/2¹⁶
//
// evaluated in Horner form carrying 8 extra fraction bits: each product by w is rounded
// to 2⁻⁸ by roundShift, and the final value (halving included) to an integer the same
// way. So the result is the exact value rounded to nearest (ties toward +∞) up to
// 3/512 of a unit of intermediate error: always within 0.51 of exact, exact at w=0 and
// w=2¹⁶. It is saturated to int32 (Catmull-Rom may overshoot its keys).
//
// Bounds: |b| <= 8·2³¹ = 2³⁴, |a| < 12·2³¹ < 2³⁴·⁶, so |h| < 2⁴³·⁷ at every stage and
// |h·w| < 2⁶⁰ fits int64.
func cubic(p0, p1, p2, p3 int32, w int64) int32 {
	a0, a1, a2, a3 := int64(p0), int64(p1), int64(p2), int64(p3)
	d := a2 - a0
	a := 2*a0 - 5*a1 + 4*a2 - a3
	b := -a0 + 3*a1 - 3*a2 + a3
	h := a<<8 + roundShift(b*w, 8)
	h = d<<8 + roundShift(h*w, 16)
	h = (2*a1)<<8 + roundShift(h*w, 16)
	return sat32(roundShift(h, 9))
}

// sat32 clamps x to the int32 range.
func sat32(x int64) int32 {
	if x > math.MaxInt32 {
		return math.MaxInt32
	}
	if x < math.MinInt32 {
		return math.MinInt32
	}
	return int32(x)
}

// posmod returns x mod m in [0, m) for m > 0.
func posmod(x, m int64) int64 {
	r := x % m
	if r < 0 {
		r += m
	}
	return r
}

// isqrt returns floor(sqrt(n)) exactly (see fixed.Isqrt).
func isqrt(n uint64) uint64 { return fixed.Isqrt(n) }
