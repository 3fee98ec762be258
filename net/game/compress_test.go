package game

import (
	"testing"

	"github.com/shardsim/shardsim/ecs"
)

// TestCompressionPolicy checks that the encoder compresses with zstd the kinds of
// payload it pays for, and stores the others in raw and RLE blocks: a world whose
// entities stand in a repeating pattern (two spots, alternating: matches zstd takes
// and RLE blocks do not) against the test world of walking entities. Each case encodes
// the first snapshots of many new clients (rich payloads), then their steady deltas.
func TestCompressionPolicy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pattern bool
		want    bool // most snapshots compressed
	}{
		{"repeating", true, true},
		{"walking", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sm := newSim(t, 2000, 5)
			if tc.pattern {
				sm.freeze()
				w := sm.w
				for i, id := range sm.ids {
					e, _ := w.Entity(id)
					pos := ecs.Get[ecs.Position](w, e, w.C.Pos)
					pos.X, pos.Y = 100_000_000+int32(i%2)*20_000_000, 90_000_000+int32(i%2)*3_000_000
				}
			}
			ring := NewFrameRing(0)
			enc := NewEncoder()
			views := make([]*ClientView, 64)
			for i := range views {
				views[i] = NewClientView(sm.ids[i*31])
			}
			var buf []byte
			for snap := range 14 {
				if tc.pattern {
					sm.w.G.Tick++
				} else {
					sm.step(1)
				}
				f := ring.Capture(sm.w)
				zstd := 0
				for _, v := range views {
					var err error
					if buf, err = enc.AppendSnapshot(buf[:0], f, v); err != nil {
						t.Fatal(err)
					}
					zstd += b2i(enc.Stats.Zstd)
					v.Ack(ring, Ack{Newest: f.ID, Bits: ^uint32(0)})
				}
				if snap < 6 {
					continue // measuring: zstd saves ≈ 20% on the repeating world's payloads, which takes the average 5 snapshots to see
				}
				if got := zstd > len(views)/2; got != tc.want {
					t.Fatalf("snapshot %d: %d of %d compressed with zstd, want most: %v", snap, zstd, len(views), tc.want)
				}
			}
		})
	}
}
