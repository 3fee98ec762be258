package fixed

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestIsqrt(t *testing.T) {
	check := func(x uint64) {
		r := Isqrt(x)
		if r > math.MaxUint32 || r*r > x || (r < math.MaxUint32 && (r+1)*(r+1) <= x) {
			t.Fatalf("Isqrt(%d) = %d", x, r)
		}
	}
	for _, x := range []uint64{0, 1, 2, 3, 4, 15, 16, 17, 1<<32 - 1, 1 << 32, 1<<52 + 1, 1<<62 - 1, math.MaxUint64, math.MaxUint64 - 1} {
		check(x)
	}
	for i := uint64(1); i < 1<<16; i++ { // perfect squares and their neighbours
		check(i*i - 1)
		check(i * i)
		check(i*i + 1)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		check(r.Uint64() >> r.UintN(64))
	}
}

func BenchmarkIsqrt(b *testing.B) {
	x := uint64(123456789)
	for b.Loop() {
		x = Isqrt(x) + x
	}
}
