// Package fixed holds the integer maths helpers shared by the simulation systems.
package fixed

import "math"

// Isqrt returns floor(sqrt(x)) exactly. The float square root is only a first guess
// (IEEE-754 sqrt is correctly rounded on every platform); the integer fix-up makes the
// result exact, so it is the same on every machine. It is several times faster than a
// bit-by-bit integer square root.
func Isqrt(x uint64) uint64 {
	r := uint64(math.Sqrt(float64(x)))
	for r > 0 && (r > math.MaxUint32 || r*r > x) {
		r--
	}
	for r < math.MaxUint32 && (r+1)*(r+1) <= x {
		r++
	}
	return r
}
