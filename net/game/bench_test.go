package game

import (
	"fmt"
	"runtime"
	"testing"
)

func BenchmarkCapture2000(b *testing.B) {
	sm := newSim(b, 2000, 20)
	ring := NewFrameRing(0)
	for range DefaultFrameHistory {
		ring.Capture(sm.w)
	}
	b.ReportAllocs()
	for b.Loop() {
		ring.Capture(sm.w)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/2000, "ns/entity")
}

// BenchmarkAppendSnapshot2000 measures the per-client work of one snapshot (select,
// delta-encode, compress, and the ack that adopts a baseline) against 2000 entities, with
// the given share of them walking (all animate) and acks arriving lag snapshots late.
// Stepping the world and capturing the frame happen outside the timer.
func BenchmarkAppendSnapshot2000(b *testing.B) {
	for _, moving := range []float64{1, 0.25} {
		for _, lag := range []uint32{0, 2} {
			b.Run(fmt.Sprintf("moving=%v/acklag=%d", moving, lag), func(b *testing.B) {
				sm := newSim(b, 2000, 21)
				ring := NewFrameRing(0)
				enc := NewEncoder()
				view := NewClientView(sm.ids[0])
				buf := make([]byte, 0, MaxPacket)
				var packets, bytes, payload, records, changed int
				snapshot := func() {
					f := ring.Latest()
					var err error
					buf, err = enc.AppendSnapshot(buf[:0], f, view)
					if err != nil {
						b.Fatal(err)
					}
					if f.ID > lag {
						view.Ack(ring, Ack{Newest: f.ID - lag, Bits: ^uint32(0)})
					}
				}
				for range 300 { // initial sync, buffers, estimates
					sm.step(moving)
					ring.Capture(sm.w)
					snapshot()
				}
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					sm.step(moving)
					ring.Capture(sm.w)
					b.StartTimer()
					snapshot()
					packets++
					bytes += len(buf)
					payload += len(buf) - SnapshotHeaderSize
					records += enc.Stats.Records
					changed += enc.Stats.Changed
				}
				avg := float64(bytes) / float64(packets)
				b.ReportMetric(avg, "B/packet")
				b.ReportMetric(float64(payload)/float64(records), "B/record")
				b.ReportMetric(float64(records)/float64(packets), "records/packet")
				b.ReportMetric(float64(changed)/float64(packets), "changed/packet")
				b.ReportMetric(avg*8*20/1000, "kbit/s@20Hz")
			})
		}
	}
}

func BenchmarkApply2000(b *testing.B) {
	sm := newSim(b, 2000, 22)
	s := newSession(b, sm.ids[0])
	for range DefaultFrameHistory + 10 {
		sm.step(1)
		s.roundTrip(sm.w)
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		sm.step(1)
		_, msg := s.send(sm.w)
		b.StartTimer()
		if _, err := s.dec.Apply(msg); err != nil {
			b.Fatal(err)
		}
		s.view.Ack(s.ring, s.dec.Ack())
	}
}

func BenchmarkParseInput(b *testing.B) {
	msg := AppendInput(nil, sampleInput())
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := ParseInput(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyToken(b *testing.B) {
	tok := []byte(MintToken(testKey, 1, testNow.Add(1<<40)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyToken(testKey, tok, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyStream applies one client's snapshot stream (4000 entities, all
// walking, the default budget) with one decoder, whose tables stay in the caches, and
// with 64 decoders, as a load-test process running many clients does: their tables do
// not fit in the caches. An op is a batch of 16 snapshots applied by every decoder;
// stepping, capturing and encoding happen outside the timer. B/decoder is the heap the
// decoders hold at the end.
func BenchmarkApplyStream(b *testing.B) {
	for _, c := range []struct{ k, lag int }{{1, 0}, {64, 0}, {64, 4}} {
		k := c.k
		b.Run(fmt.Sprintf("decoders=%d/acklag=%d", k, c.lag), func(b *testing.B) {
			const n, batch = 4000, 16
			sm := newSim(b, n, 23)
			s := newSession(b, sm.ids[0])
			decs := make([]*Decoder, k)
			for i := range decs {
				decs[i] = NewDecoder()
			}
			msgs := make([][]byte, batch)
			// record fills msgs with the next snapshots, applied by the session's
			// decoder, whose acks the server gets lag snapshots later (then snapshots
			// merge others).
			var acks []Ack
			record := func() {
				for i := range msgs {
					sm.step(1)
					_, msgs[i] = s.send(sm.w)
					if _, err := s.dec.Apply(msgs[i]); err != nil {
						b.Fatal(err)
					}
					if acks = append(acks, s.dec.Ack()); len(acks) > c.lag {
						s.view.Ack(s.ring, acks[0])
						acks = acks[1:]
					}
				}
			}
			apply := func() {
				for _, d := range decs {
					for _, msg := range msgs {
						if _, err := d.Apply(msg); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			s.view.BytesPerSnapshot = MaxPacket // initial sync
			for range 6 {
				record()
				apply()
			}
			s.view.BytesPerSnapshot = DefaultBytesPerSnapshot
			for range 4 * KeepTables / batch {
				record()
				apply()
			}
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				record()
				b.StartTimer()
				apply()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(k*batch), "ns/apply")
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			clear(decs)
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(before.HeapAlloc-after.HeapAlloc)/float64(k), "B/decoder")
		})
	}
}
