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
