package game

import (
	"encoding/binary"
	"slices"

	"github.com/klauspost/compress/zstd"
	"github.com/shardsim/shardsim/ecs"
)

// CellDecoder is the client side of cell-stream snapshots (protocol version 5): it
// keeps, per cell, the copies of the last CellCopies snapshots it applied that carried
// the cell, applies each block to the copy it names, and produces the [Ack] the client
// sends back. A CellDecoder is not safe for concurrent use.
type CellDecoder struct {
	z       *zstd.Decoder
	raw     []byte
	cells   [][]cellCopy // by cell index: copies, ascending by snapshot id
	win     ackWindow
	p       payload
	params  [numLists]uint8
	pending []pendingCopy
	free    []cellCopy // copies dropped, for their memory
	col     [numColumns]int
}

// cellCopy is a client's copy of one cell: its entities as of snapshot id.
type cellCopy struct {
	id    uint32
	predK [2]uint16
	ids   []uint16 // ascending
	ents  []Entity
}

type pendingCopy struct {
	cell int
	c    cellCopy
}

// seenOf and basePredK make a copy the table a block applies to.
func (c *cellCopy) seenOf(id uint16) (uint32, bool) {
	if c == nil {
		return 0, false
	}
	if _, ok := slices.BinarySearch(c.ids, id); ok {
		return c.id, true
	}
	return 0, false
}

func (c *cellCopy) basePredK() ([2]uint16, bool) {
	if c == nil {
		return [2]uint16{}, false
	}
	return c.predK, true
}

// NewCellDecoder returns a decoder holding no copies. Its zstd decoder refuses frames
// that would decompress beyond MaxPayload or use a larger window.
func NewCellDecoder() *CellDecoder {
	return &CellDecoder{z: newPayloadReader(), raw: make([]byte, MaxPayload)}
}

// Newest returns the id of the newest snapshot applied (0: none).
func (d *CellDecoder) Newest() uint32 { return d.win.newest }

// Ack returns the ack of the snapshots applied: the newest and the 32 before it.
func (d *CellDecoder) Ack() Ack { return d.win.ack() }

// copyOf returns the copy of cell ci from snapshot id, or nil.
func (d *CellDecoder) copyOf(ci int, id uint32) *cellCopy {
	if ci >= len(d.cells) {
		return nil
	}
	for i := range d.cells[ci] {
		if c := &d.cells[ci][i]; c.id == id {
			return c
		}
	}
	return nil
}

// Apply decodes cell-stream snapshot message msg: each of its blocks applied to the
// copy of its cell that it names gives a new copy, held under the snapshot's id. It
// returns the snapshot's header.
//
// It returns one of these errors unwrapped, holding no new copy: the header errors
// of [ParseCellSnapshotHeader]; [ErrDuplicate] or [ErrStale] for a snapshot already
// applied or older than the last KeepTables; [ErrBaselineMissing] if a block names a
// copy not held (keep acking: the server falls back); [ErrTooLarge], [ErrCompressed]
// for a bad zstd frame; [ErrCorrupt] for a payload that breaks the layout or does
// not fit the copies; [ErrHashMismatch] if the cells carried do not hash to the
// value the server sent.
func (d *CellDecoder) Apply(msg []byte) (CellSnapshotHeader, error) {
	h, frame, err := ParseCellSnapshotHeader(msg)
	if err != nil {
		return h, err
	}
	if err := d.win.check(h.ID); err != nil {
		return h, err
	}
	raw, err := decodeFrame(d.z, frame, d.raw, h.Size)
	if err != nil {
		return h, err
	}
	if len(raw) < cellParamsSize {
		return h, ErrCorrupt
	}
	for j, i := range cellLists {
		d.params[i] = raw[j/2] >> (4 * (j % 2)) & 15
	}
	if len(cellLists)%2 == 1 && raw[cellParamsSize-1]>>4 != 0 {
		return h, ErrCorrupt // padding that is not zero
	}
	raw = raw[cellParamsSize:]
	d.pending = d.pending[:0]
	var sum uint64
	count := 0
	err = func() error {
		prev := -1
		for len(raw) > 0 {
			gap, n1 := binary.Uvarint(raw)
			if n1 <= 0 || gap >= MaxCells {
				return ErrCorrupt
			}
			dist, n2 := binary.Uvarint(raw[n1:])
			if n2 <= 0 || dist >= 1<<31 {
				return ErrCorrupt
			}
			raw = raw[n1+n2:]
			ci := prev + 1 + int(gap)
			if ci >= MaxCells {
				return ErrCorrupt
			}
			prev = ci
			var base *cellCopy
			if dist != 0 {
				if base = d.copyOf(ci, h.ID-uint32(dist)); base == nil {
					return ErrBaselineMissing
				}
			}
			c, n, err := d.applyBlock(raw, h.ID, base)
			if err != nil {
				return err
			}
			raw = raw[n:]
			for k, id := range c.ids {
				sum += HashEntity(ecs.NetID(id), &c.ents[k])
			}
			count += len(c.ids)
			d.pending = append(d.pending, pendingCopy{cell: ci, c: c})
		}
		return nil
	}()
	if err == nil && tableHash(sum, count) != h.Hash {
		err = ErrHashMismatch
	}
	if err != nil {
		for _, pc := range d.pending {
			d.free = append(d.free, pc.c)
		}
		d.pending = d.pending[:0]
		return h, err
	}
	for _, pc := range d.pending {
		d.keep(pc.cell, pc.c)
	}
	d.pending = d.pending[:0]
	d.win.mark(h.ID)
	return h, nil
}

// keep adds copy c of cell ci, dropping the oldest beyond CellCopies.
func (d *CellDecoder) keep(ci int, c cellCopy) {
	if ci >= len(d.cells) {
		d.cells = append(d.cells, make([][]cellCopy, ci+1-len(d.cells))...)
	}
	cs := d.cells[ci]
	i, _ := slices.BinarySearchFunc(cs, c.id, func(a cellCopy, id uint32) int { return int(int32(a.id - id)) })
	cs = slices.Insert(cs, i, c)
	if len(cs) > CellCopies {
		d.free = append(d.free, cs[0])
		cs = slices.Delete(cs, 0, 1)
	}
	d.cells[ci] = cs
}

// applyBlock parses the block at the start of b for snapshot snap against copy base
// (nil: none) and returns the copy it gives and the block's length.
func (d *CellDecoder) applyBlock(b []byte, snap uint32, base *cellCopy) (cellCopy, int, error) {
	p := &d.p
	p.shared, p.byMembers, p.prefix, p.members = &d.params, true, true, nil
	var src seenSource = base
	if base != nil {
		p.members = base.ids
	}
	if err := p.parse(b, snap, src); err != nil {
		return cellCopy{}, 0, err
	}
	var c cellCopy
	if n := len(d.free); n > 0 {
		c = d.free[n-1]
		d.free = d.free[:n-1]
	}
	c.id, c.predK, c.ids, c.ents = snap, p.predK, c.ids[:0], c.ents[:0]
	var members []uint16
	var vals []Entity
	if base != nil {
		members, vals = base.ids, base.ents
	}
	// Merge the copy's entities, the removals and the records (all ascending).
	d.col = [numColumns]int{}
	pos, ri, k := 0, 0, 0
	for i := 0; i < len(members) || k < len(p.ids); {
		var id uint16
		member := false
		switch {
		case k >= len(p.ids) || i < len(members) && members[i] < p.ids[k]:
			id, member = members[i], true
		case i < len(members) && members[i] == p.ids[k]:
			id, member = members[i], true
		default:
			id = p.ids[k]
		}
		removed := ri < len(p.rem) && p.rem[ri] == id
		if removed {
			ri++
			if !member {
				return c, 0, ErrCorrupt // removes an entity the copy does not hold
			}
		}
		var e Entity
		if member {
			e = vals[i]
			i++
		}
		if k < len(p.ids) && p.ids[k] == id {
			if removed {
				return c, 0, ErrCorrupt // a record of an entity removed
			}
			if p.masks[k]&FlagNew != 0 {
				e = Entity{}
			} else if !member {
				return c, 0, ErrCorrupt // a delta for an entity the copy does not hold
			}
			p.applyRecord(k, &e, &d.col, &pos)
			k++
		}
		if !removed {
			c.ids = append(c.ids, id)
			c.ents = append(c.ents, e)
		}
	}
	if ri != len(p.rem) {
		return c, 0, ErrCorrupt // removes an entity the copy does not hold
	}
	return c, p.consumed, nil
}

// Cells returns the number of cells the decoder holds a copy of.
func (d *CellDecoder) Cells() int {
	n := 0
	for _, cs := range d.cells {
		if len(cs) > 0 {
			n++
		}
	}
	return n
}

// Each calls fn for every entity the client holds: the entities of the newest copy of
// each cell, each entity once (from the newest copy that holds it), by cell.
func (d *CellDecoder) Each(fn func(id uint16, e *Entity)) {
	at := map[uint16]uint32{}
	for _, cs := range d.cells {
		if len(cs) == 0 {
			continue
		}
		c := &cs[len(cs)-1]
		for _, id := range c.ids {
			if a, ok := at[id]; !ok || int32(c.id-a) > 0 {
				at[id] = c.id
			}
		}
	}
	for _, cs := range d.cells {
		if len(cs) == 0 {
			continue
		}
		c := &cs[len(cs)-1]
		for k, id := range c.ids {
			if at[id] == c.id {
				delete(at, id)
				fn(id, &c.ents[k])
			}
		}
	}
}

// CellTracker follows a cell-stream snapshot stream from the headers alone and acks
// what it receives, as a [CellDecoder] would if every snapshot applied: for load
// generators, whose decoding would compete for the CPU with the server they measure.
// The server then codes blocks against copies the tracker does not hold, which it
// never reads. The zero CellTracker is ready to use.
type CellTracker struct{ win ackWindow }

// Apply takes the header of snapshot message msg. It returns the header errors of
// [ParseCellSnapshotHeader], or [ErrDuplicate] or [ErrStale] as [CellDecoder.Apply].
func (t *CellTracker) Apply(msg []byte) (CellSnapshotHeader, error) {
	h, _, err := ParseCellSnapshotHeader(msg)
	if err != nil {
		return h, err
	}
	if err := t.win.check(h.ID); err != nil {
		return h, err
	}
	t.win.mark(h.ID)
	return h, nil
}

// Ack returns the ack of the snapshots taken, as [CellDecoder.Ack].
func (t *CellTracker) Ack() Ack { return t.win.ack() }

// ackWindow is the set of cell-stream snapshots a client took, for its acks: the
// last KeepTables ids by id mod KeepTables, and the newest.
type ackWindow struct {
	applied [KeepTables]uint32
	newest  uint32
}

// check returns ErrDuplicate for a snapshot taken, ErrStale for one older than the
// window, else nil.
func (w *ackWindow) check(id uint32) error {
	if w.applied[id%KeepTables] == id {
		return ErrDuplicate
	}
	if w.newest != 0 && int32(w.newest-id) >= KeepTables {
		return ErrStale
	}
	return nil
}

// mark records snapshot id as taken.
func (w *ackWindow) mark(id uint32) {
	w.applied[id%KeepTables] = id
	if w.newest == 0 || int32(id-w.newest) > 0 {
		w.newest = id
	}
}

// ack returns the ack of the snapshots taken: the newest and the 32 before it.
func (w *ackWindow) ack() Ack {
	a := Ack{Newest: w.newest}
	if w.newest == 0 {
		return a
	}
	for i := range uint32(32) {
		if id := w.newest - 1 - i; id != 0 && w.applied[id%KeepTables] == id {
			a.Bits |= 1 << i
		}
	}
	return a
}
