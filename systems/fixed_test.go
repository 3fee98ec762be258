package systems

import (
	"math"
	"testing"
)

func TestIsqrt(t *testing.T) {
	for _, x := range []uint64{0, 1, 2, 3, 4, 15, 16, 17, 1 << 32, 1<<32 - 1, 1<<52 + 1, 1<<62 - 1, math.MaxUint64, 999_999_999_999} {
		r := isqrt(x)
		if r*r > x || (r < math.MaxUint32 && (r+1)*(r+1) <= x) {
			t.Errorf("isqrt(%d) = %d", x, r)
		}
	}
}

func TestAtan2(t *testing.T) {
	for deg := -180; deg < 180; deg += 7 {
		rad := float64(deg) * math.Pi / 180
		x, y := int64(math.Round(100000*math.Cos(rad))), int64(math.Round(100000*math.Sin(rad)))
		got := atan2(y, x)
		want := uint16(int64(math.Round(rad/(2*math.Pi)*65536)) & 0xffff)
		diff := int16(got - want)
		if diff > 60 || diff < -60 { // 60/65536 of a turn ≈ 0.33°
			t.Errorf("atan2 at %d°: got %d, want %d (off by %d)", deg, got, want, diff)
		}
	}
	if atan2(0, 0) != 0 {
		t.Error("atan2(0,0) != 0")
	}
}
