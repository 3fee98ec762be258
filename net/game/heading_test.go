package game

import (
	"math"
	"testing"
)

// TestCordicHeading: the integer heading of every velocity is within one step of the
// rounded true angle, and the table holds it.
func TestCordicHeading(t *testing.T) {
	for i, want := range cordicAtan {
		if got := int32(math.Round(math.Atan(math.Ldexp(1, -i)) / (2 * math.Pi) * 65536)); got != want {
			t.Errorf("cordicAtan[%d] = %d, want %d", i, want, got)
		}
	}
	for vx := -128; vx < 128; vx++ {
		for vy := -128; vy < 128; vy++ {
			got := cordicHeading(int8(vx), int8(vy))
			if HeadingOf(int8(vx), int8(vy)) != got {
				t.Fatalf("HeadingOf(%d, %d) differs from cordicHeading", vx, vy)
			}
			if vx == 0 && vy == 0 {
				if got != 0 {
					t.Errorf("cordicHeading(0, 0) = %d, want 0", got)
				}
				continue
			}
			want := uint8(int(math.Round(math.Atan2(float64(vy), float64(vx))/(2*math.Pi)*256)) & 255)
			if d := int8(got - want); d < -1 || d > 1 {
				t.Errorf("cordicHeading(%d, %d) = %d, want %d ± 1", vx, vy, got, want)
			}
		}
	}
}

// TestPredict: the position prediction's scale is the steps one VelUnit covers in a
// snapshot (×4096), and predict rounds (bv + cv)/2·age·scale half up, either sign.
func TestPredict(t *testing.T) {
	for _, tc := range []struct {
		tps256 int64
		rate   uint16
		arena  int32
		want   uint16
	}{
		{256, 20, 256_000_000, 3355}, // 64 mm/s × 50 ms = 3.2 mm; a step is 3.906 mm: 0.8192
		{384, 30, 256_000_000, 3355}, // 1.5 ticks of 33.3 ms
		{256, 20, 64_000_000, 13422}, // a quarter of the arena: four times the steps
		{256, 20, 1_000_000, 65535},  // capped
		{256, 0, 256_000_000, 65535}, // rate 0 counts as 1 (and caps)
	} {
		if got := predScale(tc.tps256, tc.rate, tc.arena); got != tc.want {
			t.Errorf("predScale(%d, %d, %d) = %d, want %d", tc.tps256, tc.rate, tc.arena, got, tc.want)
		}
	}
	for _, tc := range []struct {
		bv, cv int8
		age    uint32
		k      uint16
		want   int16
	}{
		{10, 10, 4, 3355, 33},        // 20·4·3355/8192 = 32.8
		{-10, -10, 4, 3355, -33},     // −32.8
		{0, 0, 64, 3355, 0},          // standing
		{127, 127, 64, 65535, -1026}, // the largest: 254·64·65535/8192 = 130,046, mod 65536 (as i16)
		{1, 0, 1, 4096, 1},           // 0.5 rounds up
		{-1, 0, 1, 4096, 0},          // −0.5 rounds up too
	} {
		if got := int16(predict(tc.bv, tc.cv, tc.age, tc.k)); got != tc.want {
			t.Errorf("predict(%d, %d, %d, %d) = %d, want %d", tc.bv, tc.cv, tc.age, tc.k, got, tc.want)
		}
	}
}
