package game

import "testing"

// TestNewClientLearnsWorld: a client whose acks arrive several snapshots late, in a
// world where every entity moves (so the budget is always full of near changes),
// still holds every entity within a bounded number of snapshots, close to what the
// budget allows.
func TestNewClientLearnsWorld(t *testing.T) {
	for _, lag := range []uint32{1, 3, 5} {
		sm := newSim(t, 1500, 41)
		ring := NewFrameRing(0)
		enc := NewEncoder()
		v := NewClientView(sm.ids[0])
		v.BytesPerSnapshot = 376
		var buf []byte
		learnt := 0
		for snap := 1; snap <= 2000 && learnt == 0; snap++ {
			sm.step(1)
			f := ring.Capture(sm.w)
			var err error
			if buf, err = enc.AppendSnapshot(buf[:0], f, v); err != nil {
				t.Fatal(err)
			}
			if f.ID > lag {
				v.Ack(ring, Ack{Newest: f.ID - lag, Bits: ^uint32(0)})
			}
			if v.count == f.Len() {
				learnt = snap
			}
		}
		t.Logf("ack lag %d: every entity held after %d snapshots", lag, learnt)
		// 376-byte snapshots of ≈ 21-byte new records hold 1,500 of them in ≈ 85, and
		// no record is lost to ack lag (snapshots merge the acked ones the server could
		// not adopt). Measured: 119, 121, 123 (before merging: 270, 472, 552; before
		// unsend: 438, 1,196, > 2,000).
		if bound := 150 + 10*int(lag); learnt == 0 || learnt > bound {
			t.Errorf("ack lag %d: every entity held after %d snapshots, want ≤ %d", lag, learnt, bound)
		}
	}
}
