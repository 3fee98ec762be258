package game

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/shardsim/shardsim/ecs"
)

// flatTable is the reference model of a decoded table: a full copy per snapshot, with
// one slot per NetID, as the decoder kept before it shared pages.
type flatTable struct {
	id      uint32
	ents    []Entity
	live    []bool
	seen    []uint32
	count   int
	written []uint16 // the ids of the snapshot's own records
	predK   [2]uint16
	base    bool // a baseline's table (not the empty one)
}

func (f *flatTable) basePredK() ([2]uint16, bool) { return f.predK, f.base }

func (f *flatTable) seenOf(id uint16) (uint32, bool) {
	if int(id) >= len(f.live) || !f.live[id] {
		return 0, false
	}
	return f.seen[id], true
}

func (f *flatTable) clone() *flatTable {
	return &flatTable{ents: slices.Clone(f.ents), live: slices.Clone(f.live), seen: slices.Clone(f.seen), count: f.count, predK: f.predK, base: true}
}

func (f *flatTable) grow(id uint16) {
	for len(f.live) <= int(id) {
		f.ents, f.live, f.seen = append(f.ents, Entity{}), append(f.live, false), append(f.seen, 0)
	}
}

// merge takes the values of m's own records that f does not hold or holds older, as
// doc.go specifies.
func (f *flatTable) merge(m *flatTable) {
	for _, id := range m.written {
		if f.has(id) && int32(m.id-f.seen[id]) <= 0 {
			continue
		}
		f.grow(id)
		if !f.live[id] {
			f.count++
		}
		f.ents[id], f.live[id], f.seen[id] = m.ents[id], true, m.seen[id]
	}
}

func (f *flatTable) has(id uint16) bool { return int(id) < len(f.live) && f.live[id] }

// apply applies payload p of snapshot snap, as doc.go specifies.
func (f *flatTable) apply(p *payload, snap uint32) error {
	for _, id := range p.rem {
		if !f.has(id) {
			return ErrCorrupt
		}
		f.live[id] = false
		f.count--
	}
	var cur [numColumns]int
	pos := 0
	for k, id := range p.ids {
		m := p.masks[k]
		if f.has(id) == (m&FlagNew != 0) {
			return ErrCorrupt
		}
		f.grow(id)
		if m&FlagNew != 0 {
			f.ents[id] = Entity{}
			f.count++
		}
		p.applyRecord(k, &f.ents[id], &cur, &pos)
		f.live[id], f.seen[id] = true, snap
	}
	f.id, f.written, f.predK = snap, slices.Clone(p.ids), p.predK
	return nil
}

func (f *flatTable) hash() uint64 {
	var sum uint64
	for id, ok := range f.live {
		if ok {
			sum += HashEntity(ecs.NetID(id), &f.ents[id])
		}
	}
	return tableHash(sum, f.count)
}

// refDecoder decodes every snapshot the decoder under test accepts into a flatTable,
// keeping all of them.
type refDecoder struct {
	z      *zstd.Decoder
	p      payload
	tables map[uint32]*flatTable
}

func newRefDecoder(tb testing.TB) *refDecoder {
	z, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(z.Close)
	return &refDecoder{z: z, tables: map[uint32]*flatTable{}}
}

// decode returns the table msg yields on its baseline, without keeping it.
func (r *refDecoder) decode(msg []byte) (SnapshotHeader, *flatTable, error) {
	h, frame, err := ParseSnapshotHeader(msg)
	if err != nil {
		return h, nil, err
	}
	raw, err := r.z.DecodeAll(frame, nil)
	if err != nil {
		return h, nil, err
	}
	f := &flatTable{}
	if h.Base != 0 {
		b := r.tables[h.Base]
		if b == nil {
			return h, nil, ErrBaselineMissing
		}
		f = b.clone()
	}
	for i := 30; i >= 0; i-- { // the oldest first
		if h.Merge&(1<<i) != 0 {
			m := r.tables[h.ID-1-uint32(i)]
			if m == nil {
				return h, nil, ErrBaselineMissing
			}
			f.merge(m)
		}
	}
	if err := r.p.parse(raw, h.ID, f); err != nil {
		return h, nil, err
	}
	if err := f.apply(&r.p, h.ID); err != nil {
		return h, nil, err
	}
	if f.hash() != h.Hash {
		return h, nil, ErrHashMismatch
	}
	return h, f, nil
}

// tableCopy is the content of a Table as its exported methods show it.
type tableCopy struct {
	id     uint32
	tick   uint64
	maxID  ecs.NetID
	count  int
	hash   uint64
	ents   []Entity
	live   []bool
	seen   []uint32
	zeroAt ecs.NetID // ids from here on are checked to be absent
}

func copyTable(t *Table) tableCopy {
	c := tableCopy{id: t.ID, tick: t.Tick, maxID: t.MaxNetID(), count: t.Len(), hash: t.Hash(), zeroAt: t.MaxNetID() + 3*pageSize}
	for id := range c.zeroAt {
		e, ok := t.Get(id)
		c.ents, c.live, c.seen = append(c.ents, e), append(c.live, ok), append(c.seen, t.LastUpdate(id))
	}
	return c
}

func (c *tableCopy) equal(o *tableCopy) bool {
	return c.id == o.id && c.tick == o.tick && c.maxID == o.maxID && c.count == o.count && c.hash == o.hash &&
		slices.Equal(c.ents, o.ents) && slices.Equal(c.live, o.live) && slices.Equal(c.seen, o.seen)
}

// checkTable compares t with the reference model f, NetID by NetID.
func checkTable(tb testing.TB, what string, t *Table, f *flatTable) {
	tb.Helper()
	if t.Len() != f.count || t.Hash() != f.hash() || tableHash(t.sum, t.count) != t.Hash() {
		tb.Fatalf("%s: %d entities hash %x (incremental %x), reference %d %x", what, t.Len(), t.Hash(), tableHash(t.sum, t.count), f.count, f.hash())
	}
	n := max(int(t.MaxNetID()), len(f.live)) + 3*pageSize
	for id := range n {
		got, ok := t.Get(ecs.NetID(id))
		var want Entity
		wantOK := id < len(f.live) && f.live[id]
		var wantSeen uint32
		if wantOK {
			want, wantSeen = f.ents[id], f.seen[id]
			if id >= int(t.MaxNetID()) {
				tb.Fatalf("%s: entity %d held beyond MaxNetID %d", what, id, t.MaxNetID())
			}
		}
		if ok != wantOK || got != want || t.LastUpdate(ecs.NetID(id)) != wantSeen {
			tb.Fatalf("%s: entity %d = %+v (%v, seen %d), reference %+v (%v, seen %d)",
				what, id, got, ok, t.LastUpdate(ecs.NetID(id)), want, wantOK, wantSeen)
		}
	}
}

// checkPool recounts the page references of all of d's tables (the spare included)
// and checks them against the pool: counts, free list, and each table's count.
func checkPool(tb testing.TB, d *Decoder) {
	tb.Helper()
	pp := d.pool
	refs := make([]int32, len(pp.refs))
	for _, t := range append(d.tables[:], d.spare, d.merged, d.pinned) {
		if t.pool != pp {
			tb.Fatalf("table %d is not on the decoder's pool", t.ID)
		}
		if len(t.hs) != (t.n+pageMask)/pageSize {
			tb.Fatalf("table %d: %d pages for %d NetIDs", t.ID, len(t.hs), t.n)
		}
		for _, h := range t.hs {
			if h != 0 {
				if int(h) >= len(refs) {
					tb.Fatalf("table %d: handle %d out of the pool's %d", t.ID, h, len(refs))
				}
				refs[h]++
			}
		}
	}
	free := make([]bool, len(refs))
	for _, h := range pp.free {
		if h == 0 || free[h] || refs[h] != 0 {
			tb.Fatalf("free handle %d: duplicate %v, %d references", h, free[h], refs[h])
		}
		free[h] = true
	}
	for h := 1; h < len(refs); h++ {
		if refs[h] != pp.refs[h] {
			tb.Fatalf("page %d: %d references counted, the pool says %d", h, refs[h], pp.refs[h])
		}
		if refs[h] == 0 && !free[h] {
			tb.Fatalf("page %d is referenced by no table and not free", h)
		}
	}
	for _, t := range d.tables {
		n := 0
		for _, h := range t.hs {
			if h != 0 {
				n += bits.OnesCount32(pp.page(h).live)
			}
		}
		if n != t.count {
			tb.Fatalf("table %d: %d live entries, count %d", t.ID, n, t.count)
		}
	}
}

// cowHarness applies messages to a decoder and, after each, checks the new table
// against the reference model and every table still held against both its reference
// and the copy taken when Apply returned it.
type cowHarness struct {
	tb     testing.TB
	d      *Decoder
	ref    *refDecoder
	pub    map[uint32]*Table
	copies map[uint32]tableCopy
	// bases counts the snapshots applied per baseline id.
	bases map[uint32]int
}

func newCOWHarness(tb testing.TB) *cowHarness {
	return &cowHarness{tb: tb, d: NewDecoder(), ref: newRefDecoder(tb), pub: map[uint32]*Table{}, copies: map[uint32]tableCopy{}, bases: map[uint32]int{}}
}

// apply applies msg, which must fail with want (nil: succeed), then checks the tables.
func (c *cowHarness) apply(msg []byte, want error, checkHeld bool) *Table {
	c.tb.Helper()
	h, f, rerr := c.ref.decode(msg)
	tbl, err := c.d.Apply(msg)
	if !errors.Is(err, want) {
		c.tb.Fatalf("snapshot %d on %d: %v, want %v", h.ID, h.Base, err, want)
	}
	if err == nil {
		if rerr != nil {
			c.tb.Fatalf("snapshot %d on %d: accepted, the reference fails: %v", h.ID, h.Base, rerr)
		}
		if c.d.Table(h.ID) != tbl || tbl.ID != h.ID || tbl.Tick != h.Tick || tbl.Hash() != h.Hash {
			c.tb.Fatalf("snapshot %d: table %d tick %d hash %x, header %+v", h.ID, tbl.ID, tbl.Tick, tbl.Hash(), h)
		}
		checkTable(c.tb, fmt.Sprintf("snapshot %d on %d", h.ID, h.Base), tbl, f)
		if h.Base != 0 { // room as in the baseline, and for the new NetIDs
			want := c.pub[h.Base].MaxNetID()
			for _, id := range c.ref.p.ids {
				want = max(want, ecs.NetID(id)+1)
			}
			for i := range 31 { // and the merged records'
				if h.Merge&(1<<i) != 0 {
					for _, id := range c.ref.tables[h.ID-1-uint32(i)].written {
						want = max(want, ecs.NetID(id)+1)
					}
				}
			}
			if tbl.MaxNetID() != want {
				c.tb.Fatalf("snapshot %d: MaxNetID %d, want %d", h.ID, tbl.MaxNetID(), want)
			}
		}
		c.ref.tables[h.ID] = f
		c.pub[h.ID] = tbl
		c.copies[h.ID] = copyTable(tbl)
		c.bases[h.Base]++
	}
	if checkHeld || err != nil {
		c.checkHeld()
	}
	checkPool(c.tb, c.d)
	return tbl
}

// checkHeld checks that every table the decoder holds is the one Apply returned for
// its id, unchanged since, and equal to its reference.
func (c *cowHarness) checkHeld() {
	c.tb.Helper()
	held := 0
	for id, tbl := range c.pub {
		if c.d.Table(id) == nil {
			continue
		}
		held++
		if c.d.Table(id) != tbl {
			c.tb.Fatalf("table %d is not the one Apply returned", id)
		}
		if now, then := copyTable(tbl), c.copies[id]; !now.equal(&then) {
			c.tb.Fatalf("table %d changed after Apply returned it", id)
		}
		checkTable(c.tb, fmt.Sprintf("held table %d", id), tbl, c.ref.tables[id])
	}
	if held > KeepTables {
		c.tb.Fatalf("%d tables held", held)
	}
}

// TestTableCOWStream decodes snapshot streams of the package's encoder in which many
// snapshots share a baseline (acks reach the server only now and then), snapshots get
// lost or arrive out of order, and entities despawn and spawn (reusing NetIDs): every
// table must equal an independently decoded full copy, for as long as it is held.
func TestTableCOWStream(t *testing.T) {
	cases := []struct {
		name       string
		n          int
		moving     float64
		budget     int // BytesPerSnapshot; 0: the default
		ackEvery   int // the client's ack reaches the server every ackEvery snapshots
		lose       int // every lose-th snapshot is lost (0: none)
		reorder    bool
		churn      bool
		steps      int
		checkEvery int // check all held tables every checkEvery snapshots
	}{
		{name: "acked each", n: 300, moving: 1, ackEvery: 1, steps: 120, checkEvery: 1},
		{name: "shared baselines", n: 300, moving: 1, ackEvery: 7, steps: 150, checkEvery: 1},
		{name: "shared baselines, full budget", n: 500, moving: 0.5, budget: MaxPacket, ackEvery: 5, churn: true, steps: 150, checkEvery: 1},
		{name: "losses, reordering, churn", n: 300, moving: 1, ackEvery: 3, lose: 7, reorder: true, churn: true, steps: 200, checkEvery: 1},
		{name: "acks lost for longer than KeepTables", n: 200, moving: 1, ackEvery: 40, steps: 130, checkEvery: 3},
		{name: "large world", n: 3000, moving: 0.25, ackEvery: 4, lose: 11, reorder: true, churn: true, steps: 120, checkEvery: 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sm := newSim(t, tc.n, 31)
			w := sm.w
			s := newSession(t, sm.ids[0])
			if tc.budget != 0 {
				s.view.BytesPerSnapshot = tc.budget
			}
			c := newCOWHarness(t)
			var held []byte
			deliver := func(i int, msg []byte) {
				c.apply(msg, nil, i%tc.checkEvery == 0)
			}
			for i := range tc.steps {
				sm.step(tc.moving)
				if tc.churn && i%25 == 10 {
					for _, id := range sm.ids[i%7*10 : i%7*10+15] {
						w.Despawn(id)
					}
				}
				if tc.churn && i%25 == 20 {
					for range 12 {
						w.Spawn(ecs.Spawn{Pos: ecs.Position{X: sm.rng.Int32N(w.G.ArenaW), Y: sm.rng.Int32N(w.G.ArenaH)}, Anim: ecs.Anim{Clip: 5, Speed: 1000}})
					}
				}
				_, msg := s.send(w)
				switch {
				case tc.lose != 0 && i%tc.lose == tc.lose-1:
				case tc.reorder && i%4 == 1:
					held = msg // arrives after the next one
				default:
					deliver(i, msg)
					if held != nil {
						deliver(i, held)
						held = nil
					}
				}
				if i%tc.ackEvery == 0 {
					s.view.Ack(s.ring, c.d.Ack())
				}
			}
			c.checkHeld()
			shared := 0
			for _, n := range c.bases {
				shared = max(shared, n)
			}
			if tc.ackEvery > 2 && shared < 3 {
				t.Errorf("at most %d snapshots on one baseline", shared)
			}
			t.Logf("%d snapshots applied, up to %d on one baseline; pool: %d pages, %d free", len(c.pub), shared, len(c.d.pool.refs)-1, len(c.d.pool.free))
		})
	}
}

// snapRecord is one record of a crafted snapshot: entity id becomes e (in the groups
// of mask; FlagNew for an entity not in the baseline).
type snapRecord struct {
	id   uint16
	mask uint8
	e    Entity
}

// craft returns snapshot id on baseline base (0: full) removing rem and writing recs,
// with the hash of the reference result (plus hashDelta). recs must be in NetID order.
func craft(tb testing.TB, r *refDecoder, id, base uint32, rem []uint16, recs []snapRecord, hashDelta uint64) []byte {
	tb.Helper()
	var p payload
	p.rem = append(p.rem, rem...)
	f := &flatTable{}
	if base != 0 {
		f = r.tables[base].clone()
	}
	for _, rec := range recs {
		var b Entity
		var age uint32
		if rec.mask&FlagNew == 0 && f.has(rec.id) {
			b = f.ents[rec.id]
			age = id - f.seen[rec.id]
		}
		p.add(rec.id, rec.mask, &b, &rec.e, age)
	}
	raw := p.append(nil)
	hash := hashDelta
	if err := f.apply(&p, id); err == nil {
		hash += f.hash()
	}
	z, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		tb.Fatal(err)
	}
	defer z.Close()
	msg := AppendSnapshotHeader(nil, &SnapshotHeader{ID: id, Base: base, Tick: uint64(id) * 3, Hash: hash, Size: uint32(len(raw))})
	return z.EncodeAll(raw, msg)
}

// ent returns a distinct entity value for id and version v.
func ent(id uint16, v int) Entity {
	return Entity{X: id*7 + uint16(v), Y: uint16(v) * 13, Head: uint8(v), VX: int8(v), Machine: 1, State: uint16(v % 3), Clip: id, Speed: 1000, TimeRef: uint16(v * 100), Team: uint8(id % 4)}
}

const allGroups = GroupPos | GroupHead | GroupVel | GroupAnim | GroupTime | GroupFade

// TestTableCOWPublishedUnchanged applies crafted snapshots that branch from one
// baseline and write to the same pages, snapshots that fail half-way through (after
// writing to a clone), a full snapshot, and enough snapshots to evict the first ones:
// tables Apply returned never change while held, and the pool's counts stay exact.
func TestTableCOWPublishedUnchanged(t *testing.T) {
	c := newCOWHarness(t)
	r := c.ref
	newRecs := func(ids ...uint16) []snapRecord {
		var recs []snapRecord
		for _, id := range ids {
			recs = append(recs, snapRecord{id, FlagNew | allGroups, ent(id, 1)})
		}
		return recs
	}
	const hi = 4000 // an entity far from the others: its own page
	var first []uint16
	for id := uint16(1); id <= 40; id++ {
		first = append(first, id)
	}
	first = append(first, hi-7, hi)
	t1 := c.apply(craft(t, r, 1, 0, nil, newRecs(first...), 0), nil, true)
	if t1.MaxNetID() != hi+1 || t1.Len() != 42 {
		t.Fatalf("table 1: MaxNetID %d, %d entities", t1.MaxNetID(), t1.Len())
	}

	upd := func(id uint16, v int, mask uint8) snapRecord { return snapRecord{id, mask, ent(id, v)} }
	missing := uint32(10)
	missing -= 20 // 20 ids before 10, never applied
	steps := []struct {
		name string
		msg  func() []byte // crafted once the snapshots before are applied
		err  error
	}{
		{"2 on 1", func() []byte {
			return craft(t, r, 2, 1, []uint16{17}, []snapRecord{upd(3, 2, allGroups), upd(9, 2, GroupPos), upd(hi, 2, GroupTime)}, 0)
		}, nil},
		{"3 on 1, same pages", func() []byte {
			return craft(t, r, 3, 1, nil, []snapRecord{upd(3, 3, GroupPos|GroupAnim), upd(17, 3, allGroups), {41, FlagNew | GroupAnim, ent(41, 3)}}, 0)
		}, nil},
		{"4 on 1, removals", func() []byte { return craft(t, r, 4, 1, []uint16{3, 4, 5, 6, hi}, nil, 0) }, nil},
		{"5 on 2, NetID 17 back", func() []byte {
			return craft(t, r, 5, 2, nil, []snapRecord{upd(9, 5, GroupHead), {17, FlagNew | GroupPos, ent(17, 5)}}, 0)
		}, nil},
		{"6 on 2: new entity already held", func() []byte {
			return craft(t, r, 6, 2, nil, []snapRecord{upd(3, 6, allGroups), {9, FlagNew | GroupPos, ent(9, 6)}}, 0)
		}, ErrCorrupt},
		{"6 on 2: update of a removed entity", func() []byte {
			return craft(t, r, 6, 2, nil, []snapRecord{upd(1, 6, allGroups), upd(17, 6, GroupPos)}, 0)
		}, ErrCorrupt},
		{"6 on 2: removal of a removed entity", func() []byte { return craft(t, r, 6, 2, []uint16{2, 17}, nil, 0) }, ErrCorrupt},
		{"6 on 3: hash mismatch", func() []byte {
			return craft(t, r, 6, 3, []uint16{8}, []snapRecord{upd(3, 6, allGroups), upd(hi-7, 6, GroupPos)}, 1)
		}, ErrHashMismatch},
		{"6 on 4, rebased from 2", func() []byte {
			return rebase(t, craft(t, r, 6, 2, []uint16{9}, []snapRecord{upd(3, 6, GroupPos)}, 0), 4)
		}, ErrCorrupt},
		{"6 on 3", func() []byte {
			return craft(t, r, 6, 3, []uint16{8}, []snapRecord{upd(3, 6, allGroups), upd(hi-7, 6, GroupPos)}, 0)
		}, nil},
		{"7 on 1 again", func() []byte {
			return craft(t, r, 7, 1, nil, []snapRecord{upd(1, 7, allGroups), upd(2, 7, allGroups)}, 0)
		}, nil},
		{"8 full", func() []byte { return craft(t, r, 8, 0, nil, newRecs(5, 6, 7, 300), 0) }, nil},
		{"9 on 8", func() []byte { return craft(t, r, 9, 8, []uint16{6}, []snapRecord{upd(5, 9, GroupPos)}, 0) }, nil},
		{"8 again", func() []byte { return craft(t, r, 8, 0, nil, newRecs(5), 0) }, ErrDuplicate},
		{"10 on a missing baseline", func() []byte { return rebase(t, craft(t, r, 10, 2, nil, nil, 0), missing) }, ErrBaselineMissing},
	}
	for _, st := range steps {
		c.apply(st.msg(), st.err, true)
		if c.d.Table(1) != t1 {
			t.Fatalf("%s: table 1 no longer held", st.name)
		}
	}
	// A chain of deltas on 6 evicts everything older, through the slots of 1–9.
	base := uint32(6)
	for id := uint32(10); id <= 45; id++ {
		c.apply(craft(t, r, id, base, nil, []snapRecord{upd(uint16(id%40+1), int(id), GroupPos), upd(hi-7, int(id), GroupHead)}, 0), nil, true)
		if id%3 == 0 {
			base = id
		}
	}
	for id := uint32(1); id <= 45-KeepTables; id++ {
		if c.d.Table(id) != nil {
			t.Errorf("table %d still held", id)
		}
	}
	used := len(c.d.pool.refs) - 1 - len(c.d.pool.free)
	distinct := map[uint32]bool{}
	for _, tbl := range append(c.d.tables[:], c.d.spare) {
		for _, h := range tbl.hs {
			if h != 0 {
				distinct[h] = true
			}
		}
	}
	if used != len(distinct) {
		t.Errorf("%d pages in use, %d referenced", used, len(distinct))
	}
}

// TestTableCOWSparseIDs checks that the decoder allocates pages only for the NetIDs
// written, however large: entities at both ends of the wire's range take two pages.
func TestTableCOWSparseIDs(t *testing.T) {
	c := newCOWHarness(t)
	all := func(ids ...uint16) []snapRecord {
		var recs []snapRecord
		for _, id := range ids {
			recs = append(recs, snapRecord{id, FlagNew | allGroups, ent(id, 1)})
		}
		return recs
	}
	t1 := c.apply(craft(t, c.ref, 1, 0, nil, all(1, MaxWireID-pageSize+1, MaxWireID), 0), nil, true)
	t2 := c.apply(craft(t, c.ref, 2, 1, []uint16{1}, []snapRecord{{MaxWireID, GroupPos, ent(MaxWireID, 2)}}, 0), nil, true)
	for _, tc := range []struct {
		tbl   *Table
		pages int
	}{{t1, 2}, {t2, 1}} { // 2 drops the page of NetID 1, left empty
		if tc.tbl.MaxNetID() != MaxWireID+1 {
			t.Errorf("table %d: MaxNetID %d", tc.tbl.ID, tc.tbl.MaxNetID())
		}
		pages := 0
		for _, h := range tc.tbl.hs {
			if h != 0 {
				pages++
			}
		}
		if pages != tc.pages {
			t.Errorf("table %d: %d pages, want %d", tc.tbl.ID, pages, tc.pages)
		}
	}
	if n := len(c.d.pool.refs); n > chunkPages {
		t.Errorf("pool of %d pages", n)
	}
	if used := len(c.d.pool.refs) - 1 - len(c.d.pool.free); used != 3 { // 2 clones the last page
		t.Errorf("%d pages in use, want 3", used)
	}
}

// rebase returns msg with its baseline id replaced (its hash and payload kept).
func rebase(tb testing.TB, msg []byte, base uint32) []byte {
	tb.Helper()
	h, frame, err := ParseSnapshotHeader(msg)
	if err != nil {
		tb.Fatal(err)
	}
	h.Base = base
	return append(AppendSnapshotHeader(nil, &h), frame...)
}

// TestTableCOWPagesReused checks that a decoder in steady state allocates nothing:
// pages freed with the tables it drops are reused, and the pool stops growing.
func TestTableCOWPagesReused(t *testing.T) {
	sm := newSim(t, 1500, 32)
	s := newSession(t, sm.ids[0])
	// Record a stream, acks as this decoder sends them (deterministic: a second
	// decoder fed the same stream sends the same acks).
	s.view.BytesPerSnapshot = MaxPacket // a burst first: the pool's high-water mark
	var msgs [][]byte
	for i := range 400 {
		if i == 60 {
			s.view.BytesPerSnapshot = DefaultBytesPerSnapshot
		}
		sm.step(1)
		_, msg := s.send(sm.w)
		if _, err := s.dec.Apply(msg); err != nil {
			t.Fatal(err)
		}
		if i%3 != 2 { // some acks lost: snapshots share baselines
			s.view.Ack(s.ring, s.dec.Ack())
		}
		msgs = append(msgs, msg)
	}
	d := NewDecoder()
	const warm = 200
	for _, msg := range msgs[:warm] {
		if _, err := d.Apply(msg); err != nil {
			t.Fatal(err)
		}
	}
	pages := len(d.pool.refs)
	next := warm
	allocs := testing.AllocsPerRun(len(msgs)-warm-1, func() {
		if _, err := d.Apply(msgs[next]); err != nil {
			t.Fatal(err)
		}
		next++
	})
	if next != len(msgs) {
		t.Fatalf("applied %d of %d", next, len(msgs))
	}
	if allocs != 0 {
		t.Errorf("steady-state Apply: %v allocations", allocs)
	}
	if len(d.pool.refs) != pages {
		t.Errorf("pool grew from %d to %d pages", pages, len(d.pool.refs))
	}
	if tbl, want := d.Newest(), s.dec.Newest(); tbl.Hash() != want.Hash() || tbl.ID != want.ID {
		t.Errorf("replayed decoder ends at %d %x, the original at %d %x", tbl.ID, tbl.Hash(), want.ID, want.Hash())
	}
	checkPool(t, d)
	// Far fewer pages than KeepTables full copies (a third: 400-byte snapshots carry
	// about 70 records, each snapshot copies the pages they fall in).
	used := len(d.pool.refs) - 1 - len(d.pool.free)
	full := (int(d.Newest().MaxNetID()) + pageMask) / pageSize
	if used > KeepTables*full/3 {
		t.Errorf("%d pages in use for tables of %d pages", used, full)
	}
	t.Logf("pool: %d pages (%d in use, %d free) for tables of %d pages", len(d.pool.refs)-1, used, len(d.pool.free), full)
}
