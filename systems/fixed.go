package systems

import "github.com/shardsim/shardsim/internal/fixed"

func isqrt(x uint64) uint64 { return fixed.Isqrt(x) }

// atan2 returns the direction of (x, y) as a binary angle (65536 = one turn, 0 = +X,
// counter-clockwise), accurate to about ±0.3° (the approximation
// atan(t) ≈ π/4·t + t(1−t)(0.2447 + 0.0663t) on t in [0, 1], in integers).
// atan2(0, 0) is 0.
func atan2(y, x int64) uint16 {
	if x == 0 && y == 0 {
		return 0
	}
	ax, ay := x, y
	if ax < 0 {
		ax = -ax
	}
	if ay < 0 {
		ay = -ay
	}
	// Angle in the first octant, t = min/max in Q15.
	var a int64
	if ay <= ax {
		a = atanUnit(ay << 15 / ax)
	} else {
		a = 16384 - atanUnit(ax<<15/ay)
	}
	switch {
	case x >= 0 && y >= 0:
	case x < 0 && y >= 0:
		a = 32768 - a
	case x < 0 && y < 0:
		a = 32768 + a
	default:
		a = 65536 - a
	}
	return uint16(a)
}

// atanUnit returns atan(t) in binary-angle units for t in [0, 1] as Q15 (32768 = 1).
func atanUnit(t int64) int64 {
	// 8192·t + t(1−t)(2552 + 691t), all Q15; 2552 ≈ 0.2447 rad and 691 ≈ 0.0663 rad in
	// binary-angle units (10430.38 per radian).
	one := int64(1 << 15)
	poly := 2552 + 691*t>>15
	return (8192*t)>>15 + (t*(one-t)>>15)*poly>>15
}
