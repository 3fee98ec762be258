package game

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTrackerMatchesDecoder feeds one snapshot stream, lost, delayed, reordered and
// duplicated, to a Decoder and a Tracker: after every message they must agree on the
// outcome and on the ack, while the server's view adopts and merges what they ack.
// The late-ack cases reach the Decoder's pinned baseline (a baseline older than
// KeepTables snapshots), which the Tracker must follow too.
func TestTrackerMatchesDecoder(t *testing.T) {
	for _, c := range []struct {
		name           string
		loss, dup      int // per cent of snapshots lost, delivered twice
		delay          int // a snapshot arrives 0..delay-1 ticks late
		ackLo, ackHi   int // an ack arrives ackLo..ackHi-1 ticks after it was made
		outage         [2]int
		wantPinned     bool
		wantStale      bool
		wantNoBaseline bool
	}{
		{name: "lan", delay: 1, ackLo: 1, ackHi: 2},
		{name: "lossy", loss: 20, dup: 5, delay: 4, ackLo: 1, ackHi: 4, wantStale: true},
		{name: "late-acks", loss: 5, delay: 3, ackLo: 9, ackHi: 16, wantNoBaseline: true},
		{name: "very-late-acks", delay: 2, ackLo: 30, ackHi: 40, wantPinned: true},
		{name: "outage", loss: 10, delay: 3, ackLo: 2, ackHi: 6, outage: [2]int{200, 260}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(len(c.name)), 5))
			sm := newSim(t, 200, 31)
			s := newSession(t, sm.ids[3])
			s.view.BytesPerSnapshot = 300
			var tr Tracker
			type pending struct {
				at  int
				msg []byte
				ack Ack
			}
			var msgs, acks []pending
			var applied, stale, noBase, pinned int
			for i := range 600 {
				sm.step(1)
				_, msg := s.send(sm.w)
				if i < c.outage[0] || i >= c.outage[1] {
					if rng.IntN(100) >= c.loss {
						msgs = append(msgs, pending{at: i + rng.IntN(c.delay), msg: msg})
					}
					if rng.IntN(100) < c.dup {
						msgs = append(msgs, pending{at: i + rng.IntN(c.delay+8), msg: msg})
					}
				}
				for j := 0; j < len(msgs); j++ {
					m := msgs[j]
					if m.at > i {
						continue
					}
					msgs = slices.Delete(msgs, j, j+1)
					j--
					h, _, _ := ParseSnapshotHeader(m.msg)
					if h.Base != 0 && s.dec.Table(h.Base) == nil && s.dec.pinned.ID == h.Base {
						pinned++
					}
					_, derr := s.dec.Apply(m.msg)
					th, terr := tr.Apply(m.msg)
					if !errors.Is(terr, derr) || th != h {
						t.Fatalf("snapshot %d (base %d, merge %#x): decoder %v, tracker %v", h.ID, h.Base, h.Merge, derr, terr)
					}
					switch {
					case derr == nil:
						applied++
					case errors.Is(derr, ErrStale), errors.Is(derr, ErrDuplicate):
						stale++
					case errors.Is(derr, ErrBaselineMissing):
						noBase++
					default:
						t.Fatalf("snapshot %d: %v", h.ID, derr)
					}
					if da, ta := s.dec.Ack(), tr.Ack(); da != ta {
						t.Fatalf("after snapshot %d: decoder acks %+v, tracker %+v", h.ID, da, ta)
					}
					acks = append(acks, pending{at: i + c.ackLo + rng.IntN(c.ackHi-c.ackLo), ack: tr.Ack()})
				}
				for j := 0; j < len(acks); j++ {
					if a := acks[j]; a.at <= i {
						acks = slices.Delete(acks, j, j+1)
						j--
						s.view.Ack(s.ring, a.ack)
					}
				}
			}
			t.Logf("%d applied, %d stale or duplicate, %d without baseline, %d on the pinned baseline", applied, stale, noBase, pinned)
			switch {
			case applied < 300:
				t.Errorf("only %d of 600 snapshots applied", applied)
			case c.wantPinned && pinned == 0:
				t.Error("no snapshot named the pinned baseline: the case misses what it is for")
			case c.wantStale && stale == 0:
				t.Error("no stale or duplicate snapshot: the case misses what it is for")
			case c.wantNoBaseline && noBase == 0:
				t.Error("no snapshot without its baseline: the case misses what it is for")
			}
		})
	}
}

func TestTrackerHeaderErrors(t *testing.T) {
	var tr Tracker
	if _, err := tr.Apply([]byte{byte(TypeSnapshot), 1, 2}); !errors.Is(err, ErrShort) {
		t.Fatalf("short snapshot: %v, want %v", err, ErrShort)
	}
	if a := tr.Ack(); a != (Ack{}) {
		t.Fatalf("ack after a bad header: %+v, want none", a)
	}
}
