package game

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shardsim/shardsim/ecs"
)

// cellLink is one cell-stream client in the tests: its server-side view, its decoder,
// and the network between them (snapshots and acks in flight, delivered lag steps
// later, some lost or reordered).
type cellLink struct {
	v       *CellView
	d       *CellDecoder
	inbound [][]byte // snapshots in flight, the oldest first
	acks    []Ack    // acks in flight
}

type cellNet struct {
	loss    float64 // share of snapshots and acks lost
	reorder bool    // deliver the two snapshots in flight in swapped order now and then
	lag     int     // steps an ack takes
	outage  [2]int  // steps [from, to) in which every ack is lost
}

// runCellStream steps sm for steps frames, sending every client its snapshots over
// net, and checks after each step that every copy each decoder holds is exactly its
// cell's content in the frame it names. It returns the snapshots applied.
func runCellStream(t *testing.T, sm *sim, clients, steps int, nw cellNet) (applied int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(9, uint64(clients)))
	ring := NewFrameRing(0)
	ring.ClipPeriods = simClipPeriods
	enc := NewCellEncoder()
	links := make([]*cellLink, clients)
	for i := range links {
		links[i] = &cellLink{v: NewCellView(sm.ids[i*len(sm.ids)/clients]), d: NewCellDecoder()}
	}
	for step := range steps {
		sm.step(0.8)
		if step == steps/2 { // some entities leave the world, others join
			for _, id := range sm.ids[:5] {
				sm.w.Despawn(id)
			}
		}
		f := ring.Capture(sm.w)
		for _, l := range links {
			msg, err := enc.AppendSnapshot(nil, f, l.v)
			if err != nil {
				t.Fatal(err)
			}
			if len(msg) > MaxPacket {
				t.Fatalf("snapshot %d: %d bytes", f.ID, len(msg))
			}
			if rng.Float64() >= nw.loss {
				l.inbound = append(l.inbound, msg)
			}
			if nw.reorder && len(l.inbound) == 2 && rng.IntN(4) == 0 {
				l.inbound[0], l.inbound[1] = l.inbound[1], l.inbound[0]
			}
			// Deliver all but the newest in flight (one step of latency).
			for len(l.inbound) > 1 {
				m := l.inbound[0]
				l.inbound = l.inbound[1:]
				if _, err := l.d.Apply(m); err != nil && !errors.Is(err, ErrStale) {
					t.Fatalf("snapshot of frame %d: %v", f.ID, err)
				} else if err == nil {
					applied++
				}
			}
			if rng.Float64() >= nw.loss && (step < nw.outage[0] || step >= nw.outage[1]) {
				l.acks = append(l.acks, l.d.Ack())
			}
			for len(l.acks) > nw.lag {
				l.v.Ack(l.acks[0])
				l.acks = l.acks[1:]
			}
		}
		for i, l := range links {
			checkCopies(t, ring, l.d, i)
		}
	}
	return applied
}

// checkCopies checks that every copy d holds is its cell's content in its frame.
func checkCopies(t *testing.T, ring *FrameRing, d *CellDecoder, client int) {
	t.Helper()
	for ci, cs := range d.cells {
		for _, c := range cs {
			f := ring.Frame(c.id)
			if f == nil {
				continue // left the ring
			}
			want := f.sc.entities(ci)
			if len(want) != len(c.ids) {
				t.Fatalf("client %d, cell %d of snapshot %d: %d entities, want %d", client, ci, c.id, len(c.ids), len(want))
			}
			for k, id := range want {
				if c.ids[k] != id || c.ents[k] != f.ents[id] {
					t.Fatalf("client %d, cell %d of snapshot %d: entity %d is %d %+v, want %+v", client, ci, c.id, k, c.ids[k], c.ents[k], f.ents[id])
				}
			}
		}
	}
}

// TestCellStream runs cell streams over perfect, lossy and slow networks: every
// snapshot applies (none names a copy its client does not hold) and every copy a
// client holds equals the server's cell.
func TestCellStream(t *testing.T) {
	for _, tc := range []struct {
		name string
		nw   cellNet
	}{
		{"perfect", cellNet{}},
		{"loss", cellNet{loss: 0.2, lag: 2, reorder: true}},
		{"late acks", cellNet{lag: 20}},
		{"very late acks", cellNet{loss: 0.1, lag: 40}},
		{"acks lost for 50 snapshots", cellNet{lag: 2, outage: [2]int{40, 90}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sm := newSim(t, 600, 3)
			steps := 120
			applied := runCellStream(t, sm, 6, steps, tc.nw)
			if min := int(float64(6*(steps-1)) * (1 - tc.nw.loss) * 0.8); applied < min {
				t.Fatalf("%d snapshots applied, want at least %d", applied, min)
			}
		})
	}
}

// TestCellStreamBadInput: a corrupted, truncated or replayed snapshot is refused with
// an error and changes nothing: the good snapshots after it apply.
func TestCellStreamBadInput(t *testing.T) {
	sm, ring, enc := newCellRig(t, 300, 4)
	v := NewCellView(sm.ids[0])
	d := NewCellDecoder()
	var prev []byte
	for i := range 30 {
		sm.step(0.8)
		f := ring.Capture(sm.w)
		msg, err := enc.AppendSnapshot(nil, f, v)
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 1 {
			for j, bad := range [][]byte{
				msg[:len(msg)/2],
				flip(msg, len(msg)-3),
				flip(msg, CellSnapshotHeaderSize-10), // the hash
				append([]byte{byte(TypeSnapshot)}, msg[1:]...),
			} {
				if _, err := d.Apply(bad); err == nil {
					t.Fatalf("snapshot %d, corruption %d: applied", f.ID, j)
				}
			}
			if prev != nil {
				if _, err := d.Apply(prev); !errors.Is(err, ErrDuplicate) {
					t.Fatalf("snapshot replayed: %v, want ErrDuplicate", err)
				}
			}
		}
		if _, err := d.Apply(msg); err != nil {
			t.Fatalf("snapshot %d after bad ones: %v", f.ID, err)
		}
		v.Ack(d.Ack())
		checkCopies(t, ring, d, 0)
		prev = msg
	}
}

// newCellRig returns a test world of n walkers, a frame ring for it and a cell encoder.
func newCellRig(tb testing.TB, n int, seed uint64) (*sim, *FrameRing, *CellEncoder) {
	sm := newSim(tb, n, seed)
	ring := NewFrameRing(0)
	ring.ClipPeriods = simClipPeriods
	return sm, ring, NewCellEncoder()
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x5a
	return c
}

// TestCellStreamShares checks that clients in the same place share blocks: a frame's
// blocks are coded once for all of them, and that the schedule sends a far cell less
// often than a near one.
func TestCellStreamShares(t *testing.T) {
	sm, ring, enc := newCellRig(t, 800, 5)
	views := make([]*CellView, 20)
	for i := range views {
		views[i] = NewCellView(sm.ids[0]) // all in the same cell
	}
	built, blocks := 0, 0
	for range 30 {
		sm.step(0.8)
		f := ring.Capture(sm.w)
		for _, v := range views {
			if _, err := enc.AppendSnapshot(nil, f, v); err != nil {
				t.Fatal(err)
			}
			built += enc.Stats.Built
			blocks += enc.Stats.Blocks
			v.Ack(Ack{Newest: f.ID, Bits: ^uint32(0)})
		}
	}
	if blocks == 0 || built*10 > blocks {
		t.Fatalf("%d blocks coded for %d sent: want one in 10 or fewer", built, blocks)
	}
}

// FuzzApplyCellSnapshot: no input panics a decoder that holds copies, and what it
// accepts hashes to its header's value (Apply checks it).
func FuzzApplyCellSnapshot(f *testing.F) {
	sm, ring, enc := newCellRig(f, 200, 6)
	v := NewCellView(sm.ids[0])
	var held [][]byte
	for range 8 {
		sm.step(0.8)
		msg, err := enc.AppendSnapshot(nil, ring.Capture(sm.w), v)
		if err != nil {
			f.Fatal(err)
		}
		held = append(held, msg)
		f.Add(msg)
		v.Ack(Ack{Newest: uint32(len(held)), Bits: ^uint32(0)})
	}
	held = held[:len(held)-1]
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewCellDecoder()
		for _, m := range held {
			if _, err := d.Apply(m); err != nil {
				t.Fatal(err)
			}
		}
		before := d.Ack()
		if _, err := d.Apply(b); err != nil && d.Ack() != before {
			t.Fatalf("a refused snapshot changed the acks: %v", err)
		}
	})
}

func ExampleCellEncoder() {
	w := ecs.New(ecs.Config{Seed: 1, Rate: 20})
	var ids []ecs.NetID
	for i := range 50 {
		ids = append(ids, w.Spawn(ecs.Spawn{Pos: ecs.Position{X: int32(i) * 3 * ecs.MicrometresPerMetre, Y: 10 * ecs.MicrometresPerMetre}}))
	}
	ring := NewFrameRing(0)
	enc := NewCellEncoder()
	view := NewCellView(ids[0]) // the server's state of one client
	dec := NewCellDecoder()     // that client's
	for range 3 {
		w.G.Tick++
		msg, err := enc.AppendSnapshot(nil, ring.Capture(w), view)
		if err != nil {
			panic(err)
		}
		h, err := dec.Apply(msg)
		if err != nil {
			panic(err)
		}
		view.Ack(dec.Ack())
		n := 0
		dec.Each(func(uint16, *Entity) { n++ })
		fmt.Printf("snapshot %d: %d blocks, %d records, client holds %d entities\n", h.ID, enc.Stats.Blocks, enc.Stats.Records, n)
	}
	// Output:
	// snapshot 1: 1 blocks, 6 records, client holds 6 entities
	// snapshot 2: 2 blocks, 5 records, client holds 11 entities
	// snapshot 3: 1 blocks, 0 records, client holds 11 entities
}

// The benchmarks' views of frames and of what clients hold (shard_bench_test.go).

// HeldAge is [CellView.Holds] for a ClientView: the age of the value of entity id the
// view's table holds (baseline and merged snapshots).
func HeldAge(v *ClientView, cur *Frame, id int) (age uint32, held bool) {
	if !v.holds(id) {
		return 0, false
	}
	if cur.ver[id] > v.st[id].at {
		return cur.ID - v.st[id].at, true
	}
	return 0, true
}

// CellOf returns entity id's cell in frame f as (cx, cy), and whether f holds id.
func CellOf(f *Frame, id int) (cx, cy int, ok bool) {
	if !f.has(id) {
		return 0, 0, false
	}
	return int(f.cell[id] & 0xFFFF), int(f.cell[id] >> 16), true
}

// CellEntities returns the entities of cell (cx, cy) of f, ascending.
func CellEntities(f *Frame, cx, cy int) []uint16 {
	if cx < 0 || cy < 0 || cx >= f.cols || cy >= f.rows {
		return nil
	}
	i := cy*f.cols + cx
	return f.byCell[f.cellStart[i]:f.cellStart[i+1]]
}

// GridSize returns the columns and rows of f's interest grid.
func GridSize(f *Frame) (cols, rows int) { return f.cols, f.rows }

// TestMsgTypesDistinct: every message type has its own first byte.
func TestMsgTypesDistinct(t *testing.T) {
	seen := map[MsgType]string{}
	for _, m := range []struct {
		t    MsgType
		name string
	}{
		{TypeHello, "hello"}, {TypeInput, "input"}, {TypeWelcome, "welcome"}, {TypeKick, "kick"},
		{TypeError, "error"}, {TypeSnapshot, "snapshot"}, {TypeCellSnapshot, "cell snapshot"},
		{TypeUploadBegin, "upload begin"}, {TypeUploadChunk, "upload chunk"}, {TypeFetchArt, "fetch art"},
		{TypeUploadAck, "upload ack"}, {TypeUploadDone, "upload done"}, {TypeUploadError, "upload error"},
		{TypeCanvasInfo, "canvas info"}, {TypeArtChunk, "art chunk"}, {TypeFetchError, "fetch error"},
		{TypeShadowList, "shadow list"}, {TypeRedirect, "redirect"},
	} {
		if o, ok := seen[m.t]; ok {
			t.Errorf("%s and %s are both %#02x", o, m.name, uint8(m.t))
		}
		seen[m.t] = m.name
	}
}

// FuzzCellBlock fuzzes the payload parser in its version 5 modes (the parameters of the
// snapshot's section, ids against a copy's entities, a block read as a prefix of what
// follows it): no input panics, a block it accepts is at most its input, and coding
// the parsed block again gives its bytes.
func FuzzCellBlock(f *testing.F) {
	var params [numLists]uint8
	for _, i := range cellLists {
		params[i] = uint8(i % 5)
	}
	members := []uint16{1, 3, 5, 40}
	var p payload
	p.shared, p.byMembers, p.members = &params, true, members
	b, c := Entity{X: 100, Y: 200, VX: 3, Speed: 7}, Entity{X: 130, Y: 190, VX: 4, Head: 9, Speed: 7, Machine: 2, Team: 1}
	p.predK, p.predSame = [2]uint16{1000, 2000}, true
	p.add(3, diffMask(&b, &c), &b, &c, 3%40) // fuzzSeen: written id%40 snapshots ago
	p.add(9, diffMask(&zeroEntity, &c)|FlagNew, &zeroEntity, &c, 0)
	p.add(40, diffMask(&b, &c), &b, &c, 0) // 40%40
	p.rem = append(p.rem, 5)
	seed := p.append(nil)
	var q payload
	q.shared, q.byMembers, q.members, q.prefix = &params, true, members, true
	if err := q.parse(append(seed, 0xff), 100, fuzzSeen{}); err != nil || q.consumed != len(seed) || len(q.ids) != 3 {
		f.Fatalf("the seed does not parse: %v, %d of %d bytes, %d records", err, q.consumed, len(seed), len(q.ids))
	}
	f.Add(seed)
	f.Add(append(seed, 0xff, 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		var q payload
		q.shared, q.byMembers, q.members, q.prefix = &params, true, members, true
		if err := q.parse(in, 100, fuzzSeen{}); err != nil {
			return
		}
		if q.consumed > len(in) {
			t.Fatalf("read %d bytes of %d", q.consumed, len(in))
		}
		if out := q.append(nil); !bytes.Equal(out, in[:q.consumed]) {
			t.Fatalf("parse → append differs: %x vs %x", out, in[:q.consumed])
		}
	})
}
