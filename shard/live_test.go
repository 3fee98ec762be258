package shard

import "testing"

func TestSnapshotDue(t *testing.T) {
	for _, tt := range []struct{ rate, snap uint16 }{{30, 20}, {30, 30}, {30, 1}, {60, 20}, {20, 20}, {30, 7}} {
		n := 0
		for tick := uint64(1); tick <= uint64(tt.rate)*10; tick++ {
			if snapshotDue(tick, tt.rate, tt.snap) {
				n++
			}
		}
		if n != int(tt.snap)*10 {
			t.Errorf("rate %d, snapshot rate %d: %d snapshots in 10 s, want %d", tt.rate, tt.snap, n, tt.snap*10)
		}
	}
}
