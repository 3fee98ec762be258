package game

import (
	"testing"
)

// TestMergeAckedSnapshots: with acks arriving several snapshots late, every snapshot
// in flight is encoded against the same baseline, and only one of them can become the
// next baseline. The others, once acked, are merged: the next snapshots name them and
// the client merges their records into the baseline. So no record sent is wasted
// (without merging, L−1 of every L snapshots were), and every snapshot still decodes
// to the table the server computed (Apply checks the state hash).
func TestMergeAckedSnapshots(t *testing.T) {
	for _, lag := range []int{0, 1, 2, 3, 5} {
		sm := newSim(t, 400, 17)
		s := newSession(t, sm.ids[3])
		s.view.BytesPerSnapshot = 300 // saturated: 400 walking entities
		var acks []Ack
		sent, merged := 0, 0
		for range 300 {
			sm.step(1)
			f, msg := s.send(sm.w)
			h, _, err := ParseSnapshotHeader(msg)
			if err != nil {
				t.Fatal(err)
			}
			if h.Merge != 0 {
				merged++
			}
			sent += s.enc.Stats.Records
			if _, err := s.deliver(f, msg); err != nil {
				t.Fatalf("lag %d: snapshot %d (base %d, merge %#x): %v", lag, h.ID, h.Base, h.Merge, err)
			}
			acks = append(acks, s.dec.Ack())
			if len(acks) > lag {
				s.view.Ack(s.ring, acks[0])
				acks = acks[1:]
			}
		}
		t.Logf("ack lag %d: %d records sent, %d never reached the baseline; %d of 300 snapshots merged others", lag, sent, s.view.wasted, merged)
		if s.view.wasted > sent/100 {
			t.Errorf("ack lag %d: %d of %d records sent never reached the client's baseline", lag, s.view.wasted, sent)
		}
		if lag >= 2 && merged < 100 {
			t.Errorf("ack lag %d: only %d of 300 snapshots merged acked snapshots", lag, merged)
		}
	}
}
