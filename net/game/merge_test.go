package game

import (
	"errors"
	"math/rand/v2"
	"slices"
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
			s.deliverAcked(t, f, msg, h, lag, &acks)
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

// TestLateAcks: with acks 11 to 17 snapshots late (0.55 to 0.85 s at 20 Hz), merged
// snapshots leave the client's reach (32 snapshots) before a snapshot naming them is
// adopted, and from 16 on the next baseline is adopted more than KeepTables
// snapshots after the last. The view takes such merged snapshots out of its table
// (unmerge) and the client keeps its baseline beyond its last KeepTables tables, so
// after the first full snapshot no snapshot is full and no known entity is sent as
// new again, and the client's tables stay exact (deliver checks every value and the
// hash). From about 18 on, most merged snapshots never reach a baseline, some
// entities' baseline values outlive the frame ring, and the view starts over now
// and then.
func TestLateAcks(t *testing.T) {
	for _, lag := range []int{11, 12, 13, 15, 16, 17} {
		sm := newSim(t, 400, 17)
		s := newSession(t, sm.ids[3])
		s.view.BytesPerSnapshot = 300
		var acks []Ack
		fulls, news, recs := 0, 0, 0
		for i := range 400 {
			sm.step(1)
			f, msg := s.send(sm.w)
			h, _, err := ParseSnapshotHeader(msg)
			if err != nil {
				t.Fatal(err)
			}
			if i >= 100 {
				fulls += b2i(h.Base == 0)
				news += s.enc.p.news
				recs += len(s.enc.p.ids)
			}
			s.deliverAcked(t, f, msg, h, lag, &acks)
		}
		t.Logf("ack lag %d: %d full snapshots, %d of %d records new after the first 100 snapshots", lag, fulls, news, recs)
		if fulls > 0 || news > recs/1000 {
			t.Errorf("ack lag %d: %d full snapshots and %d of %d records new in steady state", lag, fulls, news, recs)
		}
	}
}

// deliverAcked delivers snapshot msg (header h) of frame f to the client, failing t on
// an error, and hands the view the client's ack lag snapshots later (acks queues them).
func (s *session) deliverAcked(t *testing.T, f *Frame, msg []byte, h SnapshotHeader, lag int, acks *[]Ack) {
	t.Helper()
	if _, err := s.deliver(f, msg); err != nil {
		t.Fatalf("lag %d: snapshot %d (base %d, merge %#x): %v", lag, h.ID, h.Base, h.Merge, err)
	}
	*acks = append(*acks, s.dec.Ack())
	if len(*acks) > lag {
		s.view.Ack(s.ring, (*acks)[0])
		*acks = (*acks)[1:]
	}
}

// TestLateAcksRandom: snapshots lost (5%) and delivered up to 3 snapshots late, acks
// lost (10%) and delivered 9 to 15 snapshots late, out of order: every snapshot the
// client applies decodes to the server's values and hash, through adoptions, merges
// and unmerges.
func TestLateAcksRandom(t *testing.T) {
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 99))
		sm := newSim(t, 300, 21+seed)
		s := newSession(t, sm.ids[2])
		s.view.BytesPerSnapshot = 300
		type pending struct {
			at  int
			f   *Frame
			msg []byte
			ack Ack
		}
		var msgs, acks []pending
		applied := 0
		for i := range 1500 {
			sm.step(1)
			f, msg := s.send(sm.w)
			if rng.IntN(20) != 0 {
				msgs = append(msgs, pending{at: i + rng.IntN(4), f: f, msg: msg})
			}
			for j := 0; j < len(msgs); j++ {
				if m := msgs[j]; m.at <= i {
					msgs = slices.Delete(msgs, j, j+1)
					j--
					_, err := s.deliver(m.f, m.msg)
					switch {
					case err == nil:
						applied++
						if rng.IntN(10) != 0 {
							acks = append(acks, pending{at: i + 9 + rng.IntN(7), ack: s.dec.Ack()})
						}
					case errors.Is(err, ErrBaselineMissing), errors.Is(err, ErrStale), errors.Is(err, ErrDuplicate):
					default:
						t.Fatalf("seed %d: snapshot %d: %v", seed, m.f.ID, err)
					}
				}
			}
			for j := 0; j < len(acks); j++ {
				if a := acks[j]; a.at <= i {
					acks = slices.Delete(acks, j, j+1)
					j--
					s.view.Ack(s.ring, a.ack)
				}
			}
		}
		t.Logf("seed %d: %d of 1500 snapshots applied", seed, applied)
		if applied < 1000 {
			t.Errorf("seed %d: only %d of 1500 snapshots applied", seed, applied)
		}
	}
}
