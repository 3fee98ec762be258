package game

import (
	"errors"
	"math/bits"
	"slices"

	"github.com/klauspost/compress/zstd"

	"github.com/shardsim/shardsim/ecs"
)

// Table is a client's entity table as of one snapshot: the quantized view of every
// entity the server has told it about.
//
// The tables of a [Decoder] share their content copy-on-write: entities are stored in
// pages of 8 consecutive NetIDs, a table is a list of references to pages, and applying
// a snapshot copies the list of its baseline and clones only the pages the snapshot
// writes to. A table is immutable once [Decoder.Apply] has returned it.
type Table struct {
	ID   uint32 // snapshot id the table is as of
	Tick uint64 // server tick of that snapshot

	pool  *pagePool // the decoder's pages (nil in a zero Table, which holds nothing)
	hs    []uint32  // handle of the page of NetIDs [i·pageSize, (i+1)·pageSize), 0 if none
	n     int       // NetIDs t has room for, [0, n); len(hs) = ⌈n/pageSize⌉
	count int
	sum   uint64
	predK [2]uint16 // the position prediction's scale of the snapshot (see predict)
	// written lists the NetIDs the snapshot's own records wrote, ascending: what a
	// later snapshot merging this one takes from it.
	written []uint16
	// What the snapshot was decoded against and removed: its baseline, the snapshots
	// it merged, and its removals (ascending), so that a decoder can turn a table
	// merged on its baseline into one merged on it (Decoder.rebase).
	base    uint32
	named   []uint32
	removed []uint16
}

const (
	pageBits = 3
	// pageSize is how many consecutive NetIDs a page holds (at most 32: the live mask).
	// Small pages make a clone cheap and the page list long: a table of 4,000
	// entities is a 2 KB list, and a snapshot clones one 280-byte page per record at
	// most.
	pageSize = 1 << pageBits
	pageMask = pageSize - 1
)

// page holds the entities of pageSize consecutive NetIDs, from a multiple of pageSize.
// The entries of NetIDs whose live bit is clear are stale and never read.
type page struct {
	ents [pageSize]Entity
	seen [pageSize]uint32 // snapshot id of the last update
	hash [pageSize]uint64 // HashEntity of each entity held: what the table hash sums
	live uint32           // bit i: NetID base+i is held
}

const (
	// chunkPages is how many pages a decoder allocates at a time.
	chunkPages = 256
	// maxChunks bounds the chunks of a decoder: its KeepTables tables, its pinned
	// baseline, the one it
	// builds and its merged baseline each reference at most one page per pageSize
	// NetIDs up to MaxWireID, and the pool grows only when all its pages are referenced.
	maxChunks = ((KeepTables+3)*(MaxWireID/pageSize+1))/chunkPages + 1
)

// pagePool holds the pages of the tables of one decoder, by handle, with the number of
// tables referencing each: a page referenced by one table only belongs to it and may be
// written in place; one referenced by several is shared and cloned before a write. Pages
// referenced by no table wait in a free list for reuse, so a decoder in steady state
// allocates nothing; the pool keeps the most pages it ever needed at once. Pages never
// move: reading a table touches no memory that building another one writes. Handle 0
// is no page.
type pagePool struct {
	chunks [maxChunks]*[chunkPages]page // page h is chunks[h/chunkPages][h%chunkPages]
	refs   []int32                      // tables referencing the page, by handle
	free   []uint32                     // handles with refs 0
	touch  uint32                       // keeps the prefetching loads of Table.prefetch alive
}

// page returns page h.
func (pp *pagePool) page(h uint32) *page { return &pp.chunks[h/chunkPages][h%chunkPages] }

// alloc returns the handle of a page referenced once, whose content is stale (live
// mask included): the caller sets it. It adds a chunk of pages when none is free.
func (pp *pagePool) alloc() uint32 {
	if len(pp.free) == 0 {
		n := len(pp.refs)
		pp.chunks[n/chunkPages] = new([chunkPages]page)
		pp.refs = append(pp.refs, make([]int32, chunkPages)...)
		for h := n + chunkPages - 1; h >= max(n, 1); h-- { // the lowest handles on top
			pp.free = append(pp.free, uint32(h))
		}
	}
	h := pp.free[len(pp.free)-1]
	pp.free = pp.free[:len(pp.free)-1]
	pp.refs[h] = 1
	return h
}

// release drops a reference to page h, freeing it if it was the last.
func (pp *pagePool) release(h uint32) {
	if pp.refs[h]--; pp.refs[h] == 0 {
		pp.free = append(pp.free, h)
	}
}

// Len returns the number of entities in t.
func (t *Table) Len() int { return t.count }

// MaxNetID returns one more than the largest NetID t has room for; ids in [1, MaxNetID)
// may be looked up.
func (t *Table) MaxNetID() ecs.NetID { return ecs.NetID(t.n) }

// Get returns entity id, and whether t holds it.
func (t *Table) Get(id ecs.NetID) (Entity, bool) {
	p, i := t.page(uint64(id))
	if p == nil || p.live&(1<<i) == 0 {
		return Entity{}, false
	}
	return p.ents[i], true
}

// LastUpdate returns the id of the snapshot that last changed entity id (0 if t does not
// hold it): how fresh its values are.
func (t *Table) LastUpdate(id ecs.NetID) uint32 {
	p, i := t.page(uint64(id))
	if p == nil || p.live&(1<<i) == 0 {
		return 0
	}
	return p.seen[i]
}

// Hash recomputes the table hash of t from its content (see doc.go, "State hash"). It
// equals [Frame.Hash] of a frame with the same entities and values.
func (t *Table) Hash() uint64 {
	var sum uint64
	n := 0
	for pi, h := range t.hs {
		if h == 0 {
			continue
		}
		p := t.pool.page(h)
		for m := p.live; m != 0; m &= m - 1 { // ascending NetIDs
			i := bits.TrailingZeros32(m)
			sum += HashEntity(ecs.NetID(pi<<pageBits|i), &p.ents[i])
			n++
		}
	}
	return tableHash(sum, n)
}

// page returns the page holding NetID id and the index of id in it, or nil if t has no
// page there.
func (t *Table) page(id uint64) (*page, int) {
	pi := id >> pageBits
	if pi >= uint64(len(t.hs)) || t.hs[pi] == 0 {
		return nil, 0
	}
	return t.pool.page(t.hs[pi]), int(id & pageMask)
}

// basePredK returns the prediction scale of t's snapshot, unless t is empty (a full
// snapshot's baseline).
func (t *Table) basePredK() ([2]uint16, bool) { return t.predK, t.ID != 0 }

// seenOf returns the snapshot that wrote entity id's value, if t holds it.
func (t *Table) seenOf(id uint16) (uint32, bool) {
	p, i := t.page(uint64(id))
	if p == nil || p.live&(1<<i) == 0 {
		return 0, false
	}
	return p.seen[i], true
}

func (t *Table) has(id int) bool {
	p, i := t.page(uint64(id))
	return p != nil && p.live&(1<<i) != 0
}

// ensure makes room in t for NetID id. It allocates no page: writable does, for the
// NetIDs actually written.
func (t *Table) ensure(id int) {
	if id < t.n {
		return
	}
	t.n = id + 1
	t.hs = extend(t.hs, (t.n+pageMask)>>pageBits)
}

// writable returns the page holding NetID id (< t.n) and the index of id in it, for t
// to write: a new page if t has none there (no entity live), a clone of the page if
// other tables reference it too.
func (t *Table) writable(id int) (*page, int) {
	pp, pi, i := t.pool, id>>pageBits, id&pageMask
	h := t.hs[pi]
	switch {
	case h == 0:
		h = pp.alloc()
		pp.page(h).live = 0
		t.hs[pi] = h
	case pp.refs[h] > 1:
		old := h
		h = pp.alloc()
		*pp.page(h) = *pp.page(old)
		pp.release(old) // still referenced: refs was > 1
		t.hs[pi] = h
	}
	return pp.page(h), i
}

// drop releases t's page references (freeing the pages no other table references) and
// leaves t with room for the same NetIDs, holding nothing.
func (t *Table) drop() {
	for _, h := range t.hs {
		if h != 0 {
			t.pool.release(h)
		}
	}
	clear(t.hs)
}

// copyFrom makes t a copy of b, a table of the same decoder, sharing b's pages.
func (t *Table) copyFrom(b *Table) {
	t.drop()
	t.hs = append(t.hs[:0], b.hs...)
	refs := t.pool.refs
	for _, h := range t.hs {
		if h != 0 {
			refs[h]++
		}
	}
	t.n, t.count, t.sum, t.ID, t.Tick, t.predK = b.n, b.count, b.sum, b.ID, b.Tick, b.predK
	t.written, t.base, t.named, t.removed = t.written[:0], 0, t.named[:0], t.removed[:0]
}

// merge writes into t the entities that the records of table m wrote, with m's values,
// where t does not hold them or holds an older value: the merge step of a snapshot
// that names m (see doc.go, "Snapshot").
func (t *Table) merge(m *Table) { t.mergeOnly(m, nil, nil) }

// mergeOnly is merge restricted, when only1 or only2 is not nil, to the NetIDs in
// either (both ascending).
func (t *Table) mergeOnly(m *Table, only1, only2 []uint16) {
	restrict := only1 != nil || only2 != nil
	for _, id := range m.written {
		if restrict && !inEither(id, &only1, &only2) {
			continue
		}
		mp, mi := m.page(uint64(id)) // held: m's own records wrote it
		t.ensure(int(id))
		if pg, i := t.page(uint64(id)); pg != nil && pg.live&(1<<i) != 0 {
			if int32(m.ID-pg.seen[i]) <= 0 {
				continue // t holds a newer value
			}
			t.sum -= pg.hash[i]
		} else {
			t.count++
		}
		pg, i := t.writable(int(id))
		pg.ents[i], pg.seen[i], pg.hash[i] = mp.ents[mi], mp.seen[mi], mp.hash[mi]
		pg.live |= 1 << i
		t.sum += pg.hash[i]
	}
}

// unmerge takes out of t (a baseline base with snapshots merged) the values that the
// merge of table m wrote: each entity whose value in t is m's own record's gets back
// the newest of base's value and the own records of the tables others (the snapshots
// still merged), or leaves t. The result is what merging the others into base gives.
func (t *Table) unmerge(m, base *Table, others []*Table) {
	for _, id := range m.written {
		pg, i := t.page(uint64(id))
		if pg == nil || pg.live&(1<<i) == 0 || pg.seen[i] != m.ID {
			continue // not m's value (m's own records are the only ones m.ID wrote)
		}
		var src *page
		var si int
		if base != nil {
			if bp, bi := base.page(uint64(id)); bp != nil && bp.live&(1<<bi) != 0 {
				src, si = bp, bi
			}
		}
		for _, o := range others {
			if op, oi := o.page(uint64(id)); op != nil && op.live&(1<<oi) != 0 && op.seen[oi] == o.ID &&
				(src == nil || int32(o.ID-src.seen[si]) > 0) {
				src, si = op, oi
			}
		}
		if src == nil {
			t.remove(id, pg, i)
			continue
		}
		t.sum -= pg.hash[i]
		pg, i = t.writable(int(id))
		pg.ents[i], pg.seen[i], pg.hash[i] = src.ents[si], src.seen[si], src.hash[si]
		t.sum += pg.hash[i]
	}
}

// reset empties t, keeping room for the same NetIDs.
func (t *Table) reset() {
	t.drop()
	t.count, t.sum, t.ID, t.Tick, t.predK = 0, 0, 0, 0, [2]uint16{}
	t.written, t.base, t.named, t.removed = t.written[:0], 0, t.named[:0], t.removed[:0]
}

// Decoder is the client side of snapshots: it decodes each snapshot against the baseline
// table it names, keeps the last KeepTables tables by snapshot id and the baseline that
// the newest snapshot names (pinned when its slot is reused: a baseline may be up to
// MaxBaseDistance snapshots old), and produces the [Ack] the client sends back. A
// Decoder is not safe for concurrent use.
//
// Its tables share pages (see [Table]): memory grows with the entities and with the
// pages the kept snapshots changed, not with KeepTables copies of the whole table.
type Decoder struct {
	z      *zstd.Decoder
	tables [KeepTables]*Table
	spare  *Table // the table evicted last, rebuilt (its pages released) by the next Apply
	pinned *Table // the baseline lastBase, kept when its slot was reused (else ID 0)
	// lastBase is the baseline that the newest snapshot applied names.
	lastBase uint32
	// merged is the last baseline with merges built: table mergedBase with the
	// snapshots mergedIDs merged. With acks late, consecutive snapshots name the same
	// baseline and the same merged snapshots (plus newer ones): they start from it and
	// merge only what it lacks (merges commute: the newest value wins).
	merged     *Table
	mergedOK   bool // merged is built
	mergedBase uint32
	mergedIDs  []uint32
	others     []*Table // scratch
	newest     uint32
	raw        []byte
	p          payload
	pool       *pagePool
}

// NewDecoder returns a decoder holding no tables. Its zstd decoder refuses frames that
// would decompress beyond MaxPayload or use a larger window.
func NewDecoder() *Decoder {
	z := newPayloadReader()
	pool := new(pagePool)
	d := &Decoder{z: z, spare: &Table{pool: pool}, pinned: &Table{pool: pool}, merged: &Table{pool: pool}, raw: make([]byte, MaxPayload), pool: pool}
	for i := range d.tables {
		d.tables[i] = &Table{pool: pool}
	}
	return d
}

// newPayloadReader returns a zstd decoder for snapshot payloads: it refuses frames
// that would decompress beyond MaxPayload or use a larger window.
func newPayloadReader() *zstd.Decoder {
	z, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxMemory(MaxPayload),
		zstd.WithDecoderMaxWindow(MaxPayload),
		zstd.WithDecodeAllCapLimit(true),
	)
	if err != nil {
		panic(err) // fixed options
	}
	return z
}

// decodeFrame decompresses a snapshot's zstd frame into buf (whose capacity is at
// least MaxPayload), which must give exactly size bytes. It returns ErrTooLarge or
// ErrCompressed unwrapped.
func decodeFrame(z *zstd.Decoder, frame, buf []byte, size uint32) ([]byte, error) {
	raw, err := z.DecodeAll(frame, buf[:0:size])
	if err != nil {
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return nil, ErrTooLarge
		}
		return nil, ErrCompressed
	}
	if len(raw) != int(size) || (len(raw) > 0 && &raw[0] != &buf[0]) {
		return nil, ErrCompressed
	}
	return raw, nil
}

// Table returns the table as of snapshot id, or nil if the decoder does not hold it.
func (d *Decoder) Table(id uint32) *Table {
	t := d.tables[id%KeepTables]
	if id == 0 || t.ID != id {
		return nil
	}
	return t
}

// Newest returns the table of the newest snapshot applied, or nil.
func (d *Decoder) Newest() *Table { return d.Table(d.newest) }

// mergeBaseline makes d.merged the baseline of h (base, nil for the empty table) with
// the snapshots h names merged, reusing the last one built when it has the same
// baseline and merges no snapshot h does not name. The tables merged are held.
func (d *Decoder) mergeBaseline(base *Table, h *SnapshotHeader) {
	var baseID uint32
	if base != nil {
		baseID = base.ID
	}
	reuse := d.mergedOK && (d.mergedBase == baseID || d.rebase(base, h))
	if reuse {
		// Snapshots merged before that h no longer names (the server took them out
		// of its view: they left the client's reach unadopted) are taken out the
		// same way, if their tables are still here; else start again from the base.
		for j := 0; j < len(d.mergedIDs); j++ {
			m := d.mergedIDs[j]
			if i := h.ID - 1 - m; i < KeepTables-1 && h.Merge&(1<<i) != 0 {
				continue
			}
			mt := d.Table(m)
			if mt == nil {
				reuse = false
				break
			}
			d.mergedIDs = slices.Delete(d.mergedIDs, j, j+1)
			j--
			d.others = d.others[:0]
			for _, o := range d.mergedIDs {
				d.others = append(d.others, d.Table(o))
			}
			d.merged.unmerge(mt, base, d.others)
		}
	}
	if !reuse {
		if base != nil {
			d.merged.copyFrom(base)
		} else {
			d.merged.reset()
		}
		d.mergedOK, d.mergedBase, d.mergedIDs = true, baseID, d.mergedIDs[:0]
	}
	for x := h.Merge; x != 0; { // the oldest first
		i := 31 - bits.LeadingZeros32(x)
		x &^= 1 << i
		m := h.ID - 1 - uint32(i)
		if slices.Contains(d.mergedIDs, m) {
			continue
		}
		d.merged.merge(d.Table(m))
		d.mergedIDs = append(d.mergedIDs, m)
	}
}

// rebase turns the cached merged baseline into one on base, when base was decoded
// against the cached one's baseline (the server adopted a snapshot encoded against
// it): base is that baseline with the snapshots it named merged and its own removals
// and records applied, so the cached table takes the named snapshots it lacks, then
// base's removals and records, then again the other merged snapshots' records of the
// entities those touched (a newer merged value wins, an older one comes back for a
// removed entity, as merging onto base gives). It reports false, changing nothing,
// when it cannot (a table it needs is gone) or when h no longer names a snapshot it
// would keep (taking it out costs more than rebuilding): the caller rebuilds from base.
func (d *Decoder) rebase(base *Table, h *SnapshotHeader) bool {
	if base == nil || d.mergedBase == 0 || base.base != d.mergedBase {
		return false
	}
	for _, m := range d.mergedIDs {
		if i := h.ID - 1 - m; !slices.Contains(base.named, m) && (i >= KeepTables-1 || h.Merge&(1<<i) == 0) {
			return false
		}
	}
	for _, m := range base.named {
		if !slices.Contains(d.mergedIDs, m) && d.Table(m) == nil {
			return false
		}
	}
	for _, m := range d.mergedIDs {
		if !slices.Contains(base.named, m) && d.Table(m) == nil {
			return false
		}
	}
	for _, m := range base.named {
		if !slices.Contains(d.mergedIDs, m) {
			d.merged.merge(d.Table(m))
		}
	}
	for _, id := range base.removed {
		if pg, i := d.merged.page(uint64(id)); pg != nil && pg.live&(1<<i) != 0 {
			d.merged.remove(id, pg, i)
		}
	}
	for _, id := range base.written {
		bp, bi := base.page(uint64(id))
		d.merged.ensure(int(id))
		if pg, i := d.merged.page(uint64(id)); pg != nil && pg.live&(1<<i) != 0 {
			d.merged.sum -= pg.hash[i]
		} else {
			d.merged.count++
		}
		pg, i := d.merged.writable(int(id))
		pg.ents[i], pg.seen[i], pg.hash[i] = bp.ents[bi], bp.seen[bi], bp.hash[bi]
		pg.live |= 1 << i
		d.merged.sum += pg.hash[i]
	}
	kept := d.mergedIDs[:0]
	for _, m := range d.mergedIDs {
		if !slices.Contains(base.named, m) {
			d.merged.mergeOnly(d.Table(m), base.removed, base.written)
			kept = append(kept, m)
		}
	}
	d.mergedIDs, d.mergedBase = kept, base.ID
	d.merged.ID, d.merged.Tick, d.merged.predK = base.ID, base.Tick, base.predK
	return true
}

// Ack returns the ack to send: the newest snapshot held and which of the 32 before it
// are held too.
func (d *Decoder) Ack() Ack {
	a := Ack{Newest: d.newest}
	if d.newest == 0 {
		return a
	}
	for i := range uint32(32) {
		if id := d.newest - 1 - i; d.Table(id) != nil {
			a.Bits |= 1 << i
		}
	}
	return a
}

// Apply decodes snapshot message msg against the baseline table it names and returns
// the resulting table, now held under the snapshot's id. The table stays valid until
// a snapshot KeepTables ids newer is applied.
//
// It returns one of these errors unwrapped, holding no new table: the header errors of
// [ParseSnapshotHeader]; [ErrDuplicate] or [ErrStale] for a snapshot already held or
// older than all tables kept; [ErrBaselineMissing] if the baseline is not held (keep
// acking: the server falls back); [ErrTooLarge], [ErrCompressed] for a bad zstd frame;
// [ErrCorrupt] for a payload that breaks the layout or does not fit the baseline;
// [ErrHashMismatch] if the result does not hash to the value the server sent.
// Steady-state calls do not allocate.
func (d *Decoder) Apply(msg []byte) (*Table, error) {
	h, frame, err := ParseSnapshotHeader(msg)
	if err != nil {
		return nil, err
	}
	if slot := d.tables[h.ID%KeepTables]; slot.ID == h.ID {
		return nil, ErrDuplicate
	} else if slot.ID != 0 && int32(slot.ID-h.ID) > 0 {
		return nil, ErrStale
	}
	var base *Table
	if h.Base != 0 {
		if base = d.Table(h.Base); base == nil && d.pinned.ID == h.Base {
			base = d.pinned
		}
		if base == nil {
			return nil, ErrBaselineMissing
		}
	}
	for x := h.Merge; x != 0; x &= x - 1 {
		if d.Table(h.ID-1-uint32(bits.TrailingZeros32(x))) == nil {
			return nil, ErrBaselineMissing
		}
	}
	raw, err := decodeFrame(d.z, frame, d.raw, h.Size)
	if err != nil {
		return nil, err
	}
	t := d.spare
	switch {
	case h.Merge != 0:
		d.mergeBaseline(base, &h)
		t.copyFrom(d.merged)
	case base != nil:
		t.copyFrom(base)
	default:
		t.reset()
	}
	err = d.p.parse(raw, h.ID, t) // position codes depend on the ages of t's values
	if err == nil {
		err = t.apply(&d.p, h.ID)
	}
	if err == nil && tableHash(t.sum, t.count) != h.Hash {
		err = ErrHashMismatch
	}
	if err != nil {
		t.drop()
		return nil, err
	}
	t.ID, t.Tick, t.base = h.ID, h.Tick, h.Base
	t.removed = append(t.removed[:0], d.p.rem...)
	for x := h.Merge; x != 0; x &= x - 1 {
		t.named = append(t.named, h.ID-1-uint32(bits.TrailingZeros32(x)))
	}
	if d.newest == 0 || int32(h.ID-d.newest) > 0 {
		d.newest, d.lastBase = h.ID, h.Base
	}
	old := d.tables[h.ID%KeepTables]
	d.tables[h.ID%KeepTables] = t
	if old.ID != 0 && old.ID == d.lastBase {
		d.spare, d.pinned = d.pinned, old // the baseline outlives its slot
	} else {
		d.spare = old
	}
	return t, nil
}

// apply applies a parsed payload to t, which holds the baseline.
func (t *Table) apply(p *payload, snap uint32) error {
	for _, id := range p.rem {
		if !t.has(int(id)) {
			return ErrCorrupt
		}
		pg, i := t.page(uint64(id))
		t.remove(id, pg, i)
	}
	t.prefetch(p)
	var cur [numColumns]int
	pos := 0
	for k, id := range p.ids {
		m := p.masks[k]
		isNew := m&FlagNew != 0
		if t.has(int(id)) == isNew {
			return ErrCorrupt
		}
		t.ensure(int(id))
		pg, i := t.writable(int(id))
		e := &pg.ents[i]
		if isNew {
			*e = Entity{}
			t.count++
		} else {
			t.sum -= pg.hash[i]
		}
		p.applyRecord(k, e, &cur, &pos)
		pg.live |= 1 << i
		pg.seen[i] = snap
		pg.hash[i] = HashEntity(ecs.NetID(id), e)
		t.sum += pg.hash[i]
	}
	t.written = append(t.written[:0], p.ids...)
	t.predK = p.predK
	return nil
}

// remove takes entity id, held at index i of page pg, out of t.
func (t *Table) remove(id uint16, pg *page, i int) {
	t.sum -= pg.hash[i]
	t.count--
	if pi := id >> pageBits; pg.live == 1<<i { // its last entity: t drops the page
		t.pool.release(t.hs[pi])
		t.hs[pi] = 0
		return
	}
	pg, i = t.writable(int(id))
	pg.live &^= 1 << i
}

// prefetch loads the pages the records of p write to, and the free pages their
// clones will take, so that their cache misses overlap instead of stalling apply one
// after another (the pages of a decoder among many are cold).
func (t *Table) prefetch(p *payload) {
	pp := t.pool
	var touch uint32
	for _, id := range p.ids {
		if pg, _ := t.page(uint64(id)); pg != nil {
			touch += pg.touch()
		}
	}
	for _, h := range pp.free[max(len(pp.free)-len(p.ids), 0):] {
		touch += pp.page(h).touch()
	}
	pp.touch += touch
}

// touch reads p at least once every 64 bytes (every other 22-byte entity, every
// eighth hash), bringing each of its cache lines into the cache.
func (p *page) touch() uint32 {
	v := p.live
	for j := 0; j < pageSize; j += 2 {
		v += uint32(p.ents[j].X)
	}
	for j := 0; j < pageSize; j += 16 {
		v += p.seen[j]
	}
	for j := 0; j < pageSize; j += 8 {
		v += uint32(p.hash[j])
	}
	return v
}
