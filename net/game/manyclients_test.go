package game

import (
	"testing"

	"github.com/shardsim/shardsim/ecs"
)

// TestManyClientsShareFrames encodes every frame for many clients with one encoder
// (as the server does), acks arriving 1 to 4 snapshots late, entities despawning and
// spawning: every snapshot must decode to the hash the server sent, and every client
// must converge once the world is still (given the bandwidth to).
func TestManyClientsShareFrames(t *testing.T) {
	sm := newSim(t, 1500, 12)
	w := sm.w
	ring := NewFrameRing(0)
	enc := NewEncoder()
	const k = 24
	views := make([]*ClientView, k)
	decs := make([]*Decoder, k)
	acks := make([][]Ack, k)
	for i := range views {
		views[i] = NewClientView(sm.ids[i*len(sm.ids)/k])
		decs[i] = NewDecoder()
	}
	var buf []byte
	for tick := range 400 {
		switch {
		case tick == 100:
			for _, id := range sm.ids[200:260] {
				w.Despawn(id)
			}
		case tick == 140:
			for range 30 {
				w.Spawn(ecs.Spawn{Pos: ecs.Position{X: 100_000_000, Y: 120_000_000}, Anim: ecs.Anim{Clip: 7, Speed: 1000}})
			}
		case tick == 250:
			sm.freeze()
			for _, v := range views {
				// A delta repeats what is in flight until acked, so with acks four
				// snapshots late a 400-byte budget moves ~100 new bytes per snapshot:
				// let the backlog of the moving phase drain within the test.
				v.BytesPerSnapshot = MaxPacket
			}
		}
		if tick < 250 {
			sm.step(0.5)
		} else {
			sm.step(0)
		}
		f := ring.Capture(w)
		for i, v := range views {
			var err error
			buf, err = enc.AppendSnapshot(buf[:0], f, v)
			if err != nil {
				t.Fatal(err)
			}
			if len(buf) > MaxPacket {
				t.Fatalf("client %d: %d bytes", i, len(buf))
			}
			if tick%11 == i%11 && tick < 250 {
				continue // lost
			}
			if _, err := decs[i].Apply(buf); err != nil {
				t.Fatalf("client %d snapshot %d: %v", i, f.ID, err)
			}
			acks[i] = append(acks[i], decs[i].Ack())
			if lag := 1 + i%4; len(acks[i]) > lag {
				v.Ack(ring, acks[i][0])
				acks[i] = acks[i][1:]
			}
		}
	}
	f := ring.Latest()
	for i, d := range decs {
		if tbl := d.Newest(); tbl == nil || tbl.Hash() != f.Hash() || tbl.Len() != f.Len() {
			diff := 0
			if tbl != nil {
				for id := ecs.NetID(1); id < ecs.NetID(len(f.live)); id++ {
					a, ok1 := tbl.Get(id)
					b, ok2 := f.Get(id)
					if ok1 != ok2 || a != b {
						diff++
					}
				}
			}
			t.Errorf("client %d did not converge: %d entities differ (base %d, newest %d, frame %d)", i, diff, views[i].base, d.newest, f.ID)
		}
	}
}
