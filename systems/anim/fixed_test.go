package anim

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestRoundShiftAndLerp(t *testing.T) {
	for _, tt := range []struct {
		x    int64
		want int64
	}{
		{0, 0}, {1 << 15, 1}, {1<<15 - 1, 0}, {-(1 << 15), 0}, {-(1 << 15) - 1, -1},
		{3 << 15, 2}, {-(3 << 15), -1}, // ties go toward +∞
	} {
		if got := roundShift(tt.x, 16); got != tt.want {
			t.Errorf("roundShift(%d, 16) = %d, want %d", tt.x, got, tt.want)
		}
	}
	for _, tt := range []struct {
		a, b int32
		w    int64
		want int32
	}{
		{0, 1, q / 2, 1},  // 0.5 → 1
		{0, -1, q / 2, 0}, // -0.5 → 0
		{10, 20, 0, 10},
		{10, 20, q, 20},
		{math.MinInt32, math.MaxInt32, q, math.MaxInt32},
		{math.MaxInt32, math.MinInt32, q, math.MinInt32},
		{math.MinInt32, math.MaxInt32, q / 2, 0}, // -2³¹ + ⌊(2³²-1)/2 + 0.5⌋
	} {
		if got := lerp(tt.a, tt.b, tt.w); got != tt.want {
			t.Errorf("lerp(%d, %d, %d) = %d, want %d", tt.a, tt.b, tt.w, got, tt.want)
		}
	}
}

func TestWeightQ16(t *testing.T) {
	for _, tt := range []struct{ from, delta, want int64 }{
		{0, 100, 0}, {-5, 100, 0}, {50, 100, q / 2}, {100, 100, q}, {150, 100, q},
		{1, 3, 21845}, {2, 3, 43690}, {5, 0, 0}, {1, math.MaxInt32, 0},
	} {
		if got := weightQ16(tt.from, tt.delta); got != tt.want {
			t.Errorf("weightQ16(%d, %d) = %d, want %d", tt.from, tt.delta, got, tt.want)
		}
	}
}

// exactCubic is Godot's cubic_interpolate in exact rational arithmetic, times 2¹⁶ units.
func exactCubic(p0, p1, p2, p3 int32, w int64) *big.Rat {
	r := func(v int64) *big.Rat { return new(big.Rat).SetInt64(v) }
	c := new(big.Rat).SetFrac64(w, q)
	c2 := new(big.Rat).Mul(c, c)
	c3 := new(big.Rat).Mul(c2, c)
	a0, a1, a2, a3 := int64(p0), int64(p1), int64(p2), int64(p3)
	sum := r(2 * a1)
	sum.Add(sum, new(big.Rat).Mul(r(a2-a0), c))
	sum.Add(sum, new(big.Rat).Mul(r(2*a0-5*a1+4*a2-a3), c2))
	sum.Add(sum, new(big.Rat).Mul(r(-a0+3*a1-3*a2+a3), c3))
	return sum.Mul(sum, big.NewRat(1, 2))
}

// TestCubicWithinOne checks the documented bound: the Horner evaluation with rounding is
// within 0.51 of the exact value (after saturation), exact at the keys.
func TestCubicWithinOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := func() int32 {
		switch rng.IntN(3) {
		case 0:
			return int32(rng.IntN(1<<17)) - 1<<16 // small, like real poses
		case 1:
			return int32(rng.Uint32()) // anything
		}
		return []int32{math.MinInt32, math.MaxInt32, 0, -1, 1}[rng.IntN(5)]
	}
	bound := big.NewRat(51, 100)
	for i := range 100_000 {
		p0, p1, p2, p3 := vals(), vals(), vals(), vals()
		w := int64(rng.IntN(q + 1))
		switch i % 10 {
		case 0:
			w = 0
		case 1:
			w = q
		}
		got := cubic(p0, p1, p2, p3, w)
		exact := exactCubic(p0, p1, p2, p3, w)
		if w == 0 && got != p1 || w == q && got != p2 {
			t.Fatalf("cubic(%d, %d, %d, %d, %d) = %d, not the key", p0, p1, p2, p3, w, got)
		}
		lo, hi := big.NewRat(math.MinInt32, 1), big.NewRat(math.MaxInt32, 1)
		if exact.Cmp(hi) > 0 {
			exact = hi
		} else if exact.Cmp(lo) < 0 {
			exact = lo
		}
		diff := new(big.Rat).Sub(exact, new(big.Rat).SetInt64(int64(got)))
		if diff.Abs(diff).Cmp(bound) > 0 {
			t.Fatalf("cubic(%d, %d, %d, %d, %d) = %d, exact %s", p0, p1, p2, p3, w, got, exact.FloatString(3))
		}
	}
}

func TestIsqrt(t *testing.T) {
	for n := uint64(0); n < 100_000; n++ {
		r := isqrt(n)
		if r*r > n || (r+1)*(r+1) <= n {
			t.Fatalf("isqrt(%d) = %d", n, r)
		}
	}
	for _, n := range []uint64{1 << 62, 1<<63 - 1, 1 << 63, math.MaxUint64} {
		r := isqrt(n)
		if r*r > n || (r+1 < 1<<32 && (r+1)*(r+1) <= n) {
			t.Errorf("isqrt(%d) = %d", n, r)
		}
	}
	if got := isqrt(math.MaxUint64); got != 1<<32-1 {
		t.Errorf("isqrt(MaxUint64) = %d", got)
	}
}
