package game

// This file is a design study, not part of the protocol: the "cell stream" encoding that
// issue 7 and DESIGN.md name ("shared encoding work is done once per tick, e.g. per grid
// cell and baseline age, and only assembled per client"), built far enough to measure
// what it would cost and what it would send on the load run's world
// (BenchmarkCellStreamPlayers beside BenchmarkBroadcastPlayers). Nothing decodes it.
//
// The scheme: a client holds, per interest cell, the cell's content as of one snapshot
// (the newest acked snapshot that carried the cell), instead of one table at one baseline
// with merged snapshots. A snapshot carries whole cells, each as a block: the cell's
// records against the content of the cell the client holds (entities in the cell now and
// then: a delta; entities that entered since: new; entities that left: removed), coded as
// a payload of its own (its own Rice parameters), behind a block header (cell index and
// baseline distance, uvarints: 2 to 4 bytes). The block of (cell, baseline frame) is the
// same for every client holding that cell at that frame: it is coded once per frame, when
// the first client needs it, and copied for the others. Per client the encoder keeps a
// priority accumulator per cell (the per-entity weights, times the cell's entities) and
// the cells of the snapshots in flight; an ack sets, per cell, the newest acked snapshot
// that carried it. Nothing is merged: a cell's baseline is simply its newest acked copy.
//
// Blocks are shared only when clients hold the same copies. With per-client priorities
// they rarely do (each client sends a cell when its own accumulator says so); with
// CellSchedule every client sends a cell at the same snapshots, so the clients
// interested in a cell, acking on time, hold the same copy of it. Cells have a
// hysteresis (CellMargin), as an entity entering a cell is a new record there.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/shardsim/shardsim/ecs"
)

// CellMargin is the hysteresis of the study's cell membership, µm: an entity stays in
// the cell it was in at the previous frame until it is more than CellMargin outside it.
// Wanderers near a border would otherwise cross it back and forth, and every crossing
// is a new record in the cell entered (the block cannot know what the client holds of
// the entity from the cell it left).
var CellMargin int32 = 4 * ecs.MicrometresPerMetre

// cellMap is the study's cell membership of one frame (with CellMargin): each entity's
// cell index (-1: not live) and the entities by cell, ascending.
type cellMap struct {
	id    uint32
	of    []int32
	start []int32
	by    []uint16
}

func (m *cellMap) entities(ci int) []uint16 { return m.by[m.start[ci]:m.start[ci+1]] }

// cells returns the cell map of f, computing it from the previous frame's: frames must
// be indexed in order for the hysteresis (a gap starts without it).
func (e *CellEncoder) cells(f *Frame) *cellMap {
	m := &e.maps[f.ID%uint32(len(e.maps))]
	if m.id == f.ID {
		return m
	}
	prev := &e.maps[(f.ID-1)%uint32(len(e.maps))]
	if prev.id != f.ID-1 {
		prev = nil
	}
	n := len(f.live)
	m.id = f.ID
	m.of = grow(m.of, n)
	cells := f.cols * f.rows
	m.start = grow(m.start, cells+1)
	clear(m.start)
	for id := range n {
		m.of[id] = -1
		if !f.live[id] {
			continue
		}
		c := int32(f.cellIndex(f.cell[id]))
		if prev != nil && id < len(prev.of) && prev.of[id] >= 0 && prev.of[id] != c {
			pc := prev.of[id]
			px, py := pc%int32(f.cols)*CellSize, pc/int32(f.cols)*CellSize
			pos := f.ents[id].Pos(f.ArenaW, f.ArenaH)
			if pos.X >= px-CellMargin && pos.X < px+CellSize+CellMargin && pos.Y >= py-CellMargin && pos.Y < py+CellSize+CellMargin {
				c = pc
			}
		}
		m.of[id] = c
		m.start[c+1]++
	}
	for i := range cells {
		m.start[i+1] += m.start[i]
	}
	m.by = grow(m.by, int(m.start[cells]))
	for id := range n {
		if c := m.of[id]; c >= 0 {
			m.by[m.start[c]] = uint16(id)
			m.start[c]++
		}
	}
	copy(m.start[1:], m.start[:cells])
	m.start[0] = 0
	return m
}

// maxCellBase is the oldest copy of a cell a block is coded against: the frame ring
// holds its values (DefaultFrameHistory), and the client keeps its newest copy of each
// cell beside the copies of its last KeepTables snapshots.
const maxCellBase = DefaultFrameHistory - 32

// CellView is the per-client state of the cell-stream study (see the file comment).
type CellView struct {
	Self             int
	BytesPerSnapshot int

	credit int
	held   []uint32 // per cell: the snapshot whose copy of the cell the client holds (0: none)
	acc    []uint32 // per cell: priority accumulated since last sent
	sentID [KeepTables]uint32
	cells  [KeepTables][]uint16 // per snapshot in flight: the cells it carried
}

// NewCellView returns the view of a client whose entity is self.
func NewCellView(self int, bytesPerSnapshot int) *CellView {
	return &CellView{Self: self, BytesPerSnapshot: bytesPerSnapshot}
}

// Ack applies a client ack: each acked snapshot in flight becomes the baseline of the
// cells it carried where it is newer than the one held.
func (v *CellView) Ack(a Ack) {
	for i := -1; i < 32; i++ {
		id := a.Newest
		if i >= 0 {
			if a.Bits&(1<<i) == 0 {
				continue
			}
			id = a.Newest - 1 - uint32(i)
		}
		slot := id % KeepTables
		if id == 0 || v.sentID[slot] != id {
			continue
		}
		for _, c := range v.cells[slot] {
			if int32(id-v.held[c]) > 0 {
				v.held[c] = id
			}
		}
		v.sentID[slot] = 0
	}
}

// HeldAge reports, for entity id of frame cur, whether the client of v holds it in the
// copy of its current cell (an entity that entered the cell after that copy counts as
// not held) and how many snapshots old the value held is (0: current).
func (e *CellEncoder) HeldAge(v *CellView, cur *Frame, id int) (age uint32, held bool) {
	c := e.cells(cur).of[id]
	if c < 0 || int(c) >= len(v.held) || v.held[c] == 0 {
		return 0, false
	}
	b := cur.ring.Frame(v.held[c])
	if b == nil {
		return 0, false
	}
	if bm := &e.maps[b.ID%uint32(len(e.maps))]; bm.id != b.ID || id >= len(bm.of) || bm.of[id] != c {
		return 0, false
	}
	if cur.ver[id] > b.ID {
		return cur.ID - b.ID, true
	}
	return 0, true
}

// HeldAge is HeldAge for a ClientView: the age of the value of entity id the view's
// table holds (baseline and merged snapshots).
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

// CellEncoder builds cell-stream snapshots (see the file comment).
type CellEncoder struct {
	p, q    payload
	scratch []byte
	frame   uint32            // the frame the cache holds blocks of
	cache   map[uint64][5]int // (cell, base) → block's offset and length in arena, records, new records, their bytes
	arena   []byte
	raw     []byte
	order   []uint32 // candidate cells, priority<<12 | cell
	maps    [DefaultFrameHistory]cellMap
	picked  []uint16
	// params: the Rice parameters the blocks of frame e.frame share (CellSharedParams),
	// chosen from stat: what the blocks coded in the previous frame summed.
	params [numLists]uint8
	stat   struct {
		sum [numLists]uint64
		n   [numLists]int
	}
	prevCell int // the cell of the block taken last (-1: none yet), for the block headers

	// Stats of the last snapshot, and counters across snapshots.
	Records, Size              int
	Blocks, BlocksBuilt, Reuse int
	News, NewBytes             int // new records and what they cost, across snapshots
}

// NewCellEncoder returns an encoder.
func NewCellEncoder() *CellEncoder { return &CellEncoder{cache: map[uint64][5]int{}} }

// CellSharedParams: the blocks of a frame share one set of Rice parameters, sent
// once per snapshot (7 bytes), and code masks by their index in the common order, so a
// block carries no parameters and no mask dictionary (payload.shared). The parameters
// of a frame are chosen from what the blocks coded in the previous frame summed (the
// blocks are coded lazily, as clients ask for them, so a frame's own sums are not
// known before its first block). False: each block chooses and sends its own.
var CellSharedParams = true

// CellMemberIDs: a block against a copy of its cell codes the ids of its records
// against the copy's entities, which the client holds: a bit per entity of the copy
// (it has a record or not), then the ids of the others (entities that entered the
// cell) as gaps (payload.byMembers). False: every id as a gap from the previous one,
// as the protocol's payloads do.
var CellMemberIDs = true

// sharedLists are the lists whose parameters CellSharedParams shares, in the order the
// snapshot's parameter section sends them (4 bits each): the columns of FlagNew (the
// identity of new entities) have no records that are not new.
var sharedLists = [...]int{listRem, listIDs, listRanks,
	listCols, listCols + 1, listCols + 2, listCols + 3, listCols + 4, listCols + 5, listCols + 6,
	listCols + 7, listCols + 8, listCols + 9, listCols + 10}

// newFrame starts the block cache of frame cur, and its shared parameters.
func (e *CellEncoder) newFrame(cur *Frame) {
	clear(e.cache)
	e.arena = e.arena[:0]
	e.frame = cur.ID
	for _, i := range sharedLists {
		if e.stat.n[i] > 0 {
			e.params[i], _ = riceParam(e.stat.sum[i], e.stat.n[i])
		}
	}
	e.stat.sum, e.stat.n = [numLists]uint64{}, [numLists]int{}
}

// count adds what payload p (just coded) summed per shared list to e.stat.
func (e *CellEncoder) count(p *payload) {
	for _, i := range sharedLists {
		e.stat.n[i] += len(p.wire[i])
		e.stat.sum[i] += p.sum[i]
	}
	for i := range 2 { // the positions: their base, as wireLists takes it
		e.stat.sum[listCols+i] += p.sumPos[i] - p.sum[listCols+i]
	}
}

// block returns the block of cell ci of cur against the client's copy of it from
// frame base (0: none): coded on the first request in a frame, then reused. The block
// is the cell's payload; its header (which cell, which copy) is the snapshot's (take).
//
// newBytes is what the block's new records cost: its size less that of the same block
// without them (coded apart, in q).
func (e *CellEncoder) block(cur *Frame, ci int, base uint32) (blk []byte, records, news, newBytes int) {
	if e.frame != cur.ID {
		e.newFrame(cur)
	}
	key := uint64(ci)<<32 | uint64(base)
	if r, ok := e.cache[key]; ok {
		e.Reuse++
		return e.arena[r[0] : r[0]+r[1]], r[2], r[3], r[4]
	}
	e.BlocksBuilt++
	var b *Frame
	var bm *cellMap
	if base != 0 {
		b = cur.ring.Frame(base)
		if bm = &e.maps[base%uint32(len(e.maps))]; bm.id != base {
			b = nil // not indexed: Append takes no such baseline
		}
	}
	cm := e.cells(cur)
	p, q := &e.p, &e.q
	p.reset()
	q.reset()
	p.shared, q.shared = nil, nil
	if CellSharedParams {
		p.shared, q.shared = &e.params, &e.params
	}
	p.byMembers, q.byMembers = false, false
	if CellMemberIDs && b != nil {
		p.byMembers, p.members = true, bm.entities(ci)
		q.byMembers, q.members = true, p.members
	}
	p.predK = cur.predK
	p.predSame = b != nil && b.predK == cur.predK
	q.predK, q.predSame = p.predK, p.predSame
	for _, id := range cm.entities(ci) {
		c := &cur.ents[id]
		if b != nil && int(id) < len(bm.of) && bm.of[id] == int32(ci) {
			if cur.ver[id] <= b.ID {
				continue // unchanged since the copy held
			}
			if o := &b.ents[id]; sameIdentity(o, c) {
				p.add(id, diffMask(o, c), o, c, cur.ID-b.ID)
				q.add(id, diffMask(o, c), o, c, cur.ID-b.ID)
				continue
			}
		}
		p.add(id, diffMask(&zeroEntity, c)|FlagNew, &zeroEntity, c, 0)
	}
	if b != nil && b.cols == cur.cols && b.rows == cur.rows {
		for _, id := range bm.entities(ci) {
			if cm.of[id] != int32(ci) {
				p.rem = append(p.rem, id)
				q.rem = append(q.rem, id)
			}
		}
	}
	off := len(e.arena)
	payloadAt := off
	e.arena = p.append(e.arena)
	e.count(p)
	if p.news > 0 {
		e.scratch = q.append(e.scratch[:0])
		newBytes = len(e.arena) - payloadAt - len(e.scratch)
	}
	e.cache[key] = [5]int{off, len(e.arena) - off, len(p.ids), p.news, newBytes}
	return e.arena[off:], len(p.ids), p.news, newBytes
}

// Append appends the snapshot of frame cur for view v to dst: its own cell first, then
// the other cells by priority, whole, as many as v's budget takes.
func (e *CellEncoder) Append(dst []byte, cur *Frame, v *CellView) []byte {
	n := cur.cols * cur.rows
	if n > 1<<12 {
		panic("cell stream study: more than 4,096 cells")
	}
	if len(v.held) != n {
		v.held, v.acc = make([]uint32, n), make([]uint32, n)
	}
	v.sentID[cur.ID%KeepTables] = 0 // never acked in KeepTables snapshots: lost
	e.raw, e.picked, e.Records, e.prevCell = e.raw[:0], e.picked[:0], 0, -1
	if e.frame != cur.ID {
		e.newFrame(cur)
	}
	if CellSharedParams { // the parameter section
		var w bitWriter
		w.b = e.raw
		for _, i := range sharedLists {
			w.write(uint32(e.params[i]), 4)
		}
		e.raw = w.flush()
	}
	v.credit = min(v.credit+v.BytesPerSnapshot, MaxPacket)
	budget := max(v.credit, 128) - SnapshotHeaderSize - 8 // the zstd frame's header and block headers
	cm := e.cells(cur)                                    // once per snapshot: the loops below look it up per cell
	self := -1
	var sx, sy int
	if cur.has(v.Self) {
		self = int(cm.of[v.Self])
		sx, sy = self%cur.cols, self/cur.cols
	}
	if CellSchedule > 0 {
		return e.appendScheduled(dst, cur, cm, v, self, sx, sy)
	}
	// Priorities: every cell with entities, or held with entities that may have left.
	e.order = e.order[:0]
	for ci := range n {
		cnt := uint32(len(cm.entities(ci)))
		if cnt == 0 && v.held[ci] == 0 {
			continue
		}
		r := 8
		if self >= 0 {
			r = min(max(absInt(ci%cur.cols-sx), absInt(ci/cur.cols-sy)), 8)
		}
		g := weights[r] * max(cnt, 1)
		if v.held[ci] == 0 {
			g *= 4
		}
		v.acc[ci] += g
		pri := v.acc[ci]
		if ci == self {
			pri = 1 << 19
		}
		e.order = append(e.order, min(pri, 1<<19)<<12|uint32(ci))
	}
	skips := 0
	// The cells by priority, best first: a selection of the best remaining one per
	// block taken (a snapshot takes a handful of the hundreds of cells).
	for len(e.order) > 0 {
		best := 0
		for i, o := range e.order {
			if o > e.order[best] {
				best = i
			}
		}
		o := e.order[best]
		e.order[best] = e.order[len(e.order)-1]
		e.order = e.order[:len(e.order)-1]
		ci := int(o & 0xFFF)
		base := e.baseOf(cur, v, ci)
		blk, recs, news, nb := e.block(cur, ci, base)
		if len(e.raw)+len(blk)+4 > budget && ci != self {
			if skips++; skips > 4 {
				break
			}
			continue
		}
		e.take(cur, ci, base, blk, recs, news, nb)
		v.acc[ci] = 0
	}
	return e.finish(dst, cur, v)
}

// CellSchedule, when not 0, replaces the per-client priorities by a schedule every
// client shares, so that clients interested in a cell hold the same copies of it and
// share its blocks: the own cell every snapshot, the other cells within NearRadius
// when (snapshot id + cell index) is a multiple of CellSchedule, cells r > NearRadius
// away when it is a multiple of CellSchedule·r². The budget is not enforced (only
// MaxPacket): B/packet says what the schedule costs.
var CellSchedule uint32

func (e *CellEncoder) appendScheduled(dst []byte, cur *Frame, cm *cellMap, v *CellView, self, sx, sy int) []byte {
	for ci := range cur.cols * cur.rows {
		if len(cm.entities(ci)) == 0 && v.held[ci] == 0 {
			continue
		}
		r := 8
		if self >= 0 {
			r = min(max(absInt(ci%cur.cols-sx), absInt(ci/cur.cols-sy)), 8)
		}
		period := CellSchedule
		if r > NearRadius {
			period *= uint32(r * r)
		}
		if ci != self && (cur.ID+uint32(ci))%period != 0 {
			continue
		}
		base := e.baseOf(cur, v, ci)
		blk, recs, news, nb := e.block(cur, ci, base)
		if len(e.raw)+len(blk)+4 > MaxPacket-SnapshotHeaderSize-16 {
			continue
		}
		e.take(cur, ci, base, blk, recs, news, nb)
	}
	return e.finish(dst, cur, v)
}

// baseOf returns the frame of v's copy of cell ci that a block can be coded against
// (0: none, or one too old).
func (e *CellEncoder) baseOf(cur *Frame, v *CellView, ci int) uint32 {
	base := v.held[ci]
	if base != 0 && (cur.ID-base > maxCellBase || cur.ring.Frame(base) == nil || e.maps[base%uint32(len(e.maps))].id != base) {
		return 0
	}
	return base
}

// take adds cell ci's block against the copy from frame base to the snapshot being
// built, behind its header: the cell as its distance from the previous block's
// (uvarint: twice the gap less one after it, twice the distance plus one before it;
// the first block's from cell −1) and the baseline distance (uvarint, 0: none). A
// block needs no length: its bitstream ends where its counts and parameters say,
// padded to a byte.
func (e *CellEncoder) take(cur *Frame, ci int, base uint32, blk []byte, records, news, newBytes int) {
	if ci > e.prevCell {
		e.raw = binary.AppendUvarint(e.raw, uint64(2*(ci-e.prevCell-1)))
	} else {
		e.raw = binary.AppendUvarint(e.raw, uint64(2*(e.prevCell-ci)+1))
	}
	e.prevCell = ci
	dist := uint64(0)
	if base != 0 {
		dist = uint64(cur.ID - base)
	}
	e.raw = binary.AppendUvarint(e.raw, dist)
	e.raw = append(e.raw, blk...)
	e.picked = append(e.picked, uint16(ci))
	e.Records += records
	e.News += news
	e.NewBytes += newBytes
}

// finish wraps the blocks of e.raw in a snapshot and records it in v.
func (e *CellEncoder) finish(dst []byte, cur *Frame, v *CellView) []byte {
	slot := cur.ID % KeepTables
	start := len(dst)
	dst = AppendSnapshotHeader(dst, &SnapshotHeader{ID: cur.ID, Tick: cur.Tick, Size: uint32(len(e.raw))})
	dst = appendRawFrame(dst, e.raw)
	size := len(dst) - start
	v.credit -= size
	v.sentID[slot] = cur.ID
	v.cells[slot] = append(v.cells[slot][:0], e.picked...)
	e.Size, e.Blocks = size, len(e.picked)
	return dst
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// GridSize returns the columns and rows of f's interest grid.
func GridSize(f *Frame) (cols, rows int) { return f.cols, f.rows }

// cellSource is the seenSource of a block: the client's copy of cell ci from frame b
// (nil: none).
type cellSource struct {
	b  *Frame
	m  *cellMap
	ci int
}

func (s cellSource) seenOf(id uint16) (uint32, bool) {
	if s.b == nil || int(id) >= len(s.m.of) || s.m.of[id] != int32(s.ci) {
		return 0, false
	}
	return s.b.ID, true
}

func (s cellSource) basePredK() ([2]uint16, bool) {
	if s.b == nil {
		return [2]uint16{}, false
	}
	return s.b.predK, true
}

// TestCellStreamBlocks checks that the study measures real deltas, and that its
// snapshots can be read as it counts their bytes: each snapshot, unwrapped (zstd),
// read as the parameter section and then blocks one after another (each a header and
// a payload that ends where its bits say), and each block applied to the client's copy
// of its cell, must give exactly the cell's content in the current frame; and every
// block, against no copy, the previous frame's and an older one, must too. With
// parameters per block and shared per snapshot, ids as gaps and against the copy's
// entities.
func TestCellStreamBlocks(t *testing.T) {
	for _, mode := range []struct{ shared, members bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		t.Run(fmt.Sprintf("shared=%v,members=%v", mode.shared, mode.members), func(t *testing.T) {
			defer func(s, m bool) { CellSharedParams, CellMemberIDs = s, m }(CellSharedParams, CellMemberIDs)
			CellSharedParams, CellMemberIDs = mode.shared, mode.members
			testCellStreamBlocks(t)
		})
	}
}

// cellTruth checks that block blk of cell ci against the copy of frame base (0: none)
// gives the cell's content in frame cur when applied to that copy, and returns how
// many entity values it checked and its length (a prefix of blk when prefix).
func cellTruth(t *testing.T, enc *CellEncoder, ring *FrameRing, cur *Frame, ci int, base uint32, blk []byte, prefix bool) (checked, n int) {
	t.Helper()
	var p payload
	src := cellSource{ci: ci}
	if base != 0 {
		src.b, src.m = ring.Frame(base), enc.cells(ring.Frame(base))
	}
	if CellSharedParams {
		p.shared = &enc.params
	}
	if CellMemberIDs && src.b != nil {
		p.byMembers, p.members = true, src.m.entities(ci)
	}
	p.prefix = prefix
	if err := p.parse(blk, cur.ID, src); err != nil {
		t.Fatalf("cell %d base %d: %v", ci, base, err)
	}
	// The client's copy of the cell, then the block applied to it.
	table := map[uint16]Entity{}
	if src.b != nil {
		for _, id := range src.m.entities(ci) {
			table[id] = src.b.ents[id]
		}
	}
	for _, id := range p.rem {
		if _, ok := table[id]; !ok {
			t.Fatalf("cell %d base %d: removes %d, not in the copy", ci, base, id)
		}
		delete(table, id)
	}
	var col [numColumns]int
	var pos int
	for k, id := range p.ids {
		e := table[id]
		if p.masks[k]&FlagNew != 0 {
			e = Entity{}
		}
		p.applyRecord(k, &e, &col, &pos)
		table[id] = e
	}
	want := enc.cells(cur).entities(ci)
	if len(table) != len(want) {
		t.Fatalf("cell %d base %d: %d entities after the block, want %d", ci, base, len(table), len(want))
	}
	for _, id := range want {
		if table[id] != cur.ents[id] {
			t.Fatalf("cell %d base %d: entity %d is %+v, want %+v", ci, base, id, table[id], cur.ents[id])
		}
	}
	n = len(blk)
	if prefix {
		n = p.consumed
	}
	return len(want), n
}

// heldOf returns the snapshot whose copy of cell ci held says the client holds (0: none).
func heldOf(held []uint32, ci int) uint32 {
	if ci < len(held) {
		return held[ci]
	}
	return 0
}

func testCellStreamBlocks(t *testing.T) {
	sm := newSim(t, 400, 7)
	ring := NewFrameRing(64)
	ring.ClipPeriods = simClipPeriods
	enc := NewCellEncoder()
	views := make([]*CellView, 4)
	for i := range views {
		views[i] = NewCellView(int(sm.ids[i*100]), 376)
	}
	z, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	var cur *Frame
	var buf []byte
	blocks, fromSnapshots := 0, 0
	for range 40 {
		sm.step(0.8)
		cur = ring.Capture(sm.w)
		for _, v := range views {
			held := append([]uint32(nil), v.held...) // the copies this snapshot is coded against
			buf = enc.Append(buf[:0], cur, v)
			if len(buf) > MaxPacket {
				t.Fatalf("snapshot of %d bytes", len(buf))
			}
			h, frame, err := ParseSnapshotHeader(buf)
			if err != nil || h.ID != cur.ID {
				t.Fatalf("snapshot %d: header %+v, %v", cur.ID, h, err)
			}
			raw, err := z.DecodeAll(frame, nil)
			if err != nil || len(raw) != int(h.Size) {
				t.Fatalf("snapshot %d: zstd frame: %d bytes, %v", cur.ID, len(raw), err)
			}
			// The parameter section, then the blocks.
			if CellSharedParams {
				r := bitReader{b: raw}
				for _, i := range sharedLists {
					if k := uint8(r.read(4)); k != enc.params[i] {
						t.Fatalf("snapshot %d: parameter of list %d is %d, want %d", cur.ID, i, k, enc.params[i])
					}
				}
				raw = raw[(4*len(sharedLists)+7)/8:]
			}
			prev := -1
			for len(raw) > 0 {
				gap, n1 := binary.Uvarint(raw)
				dist, n2 := binary.Uvarint(raw[max(n1, 0):])
				if n1 <= 0 || n2 <= 0 {
					t.Fatalf("snapshot %d: a block header that does not parse", cur.ID)
				}
				ci := prev + 1 + int(gap/2)
				if gap%2 == 1 {
					ci = prev - int(gap/2)
				}
				prev = ci
				if ci < 0 || ci >= cur.cols*cur.rows {
					t.Fatalf("snapshot %d: block of cell %d", cur.ID, ci)
				}
				base := uint32(0)
				if dist != 0 {
					base = cur.ID - uint32(dist)
				}
				if hb := heldOf(held, ci); base != 0 && base != hb {
					t.Fatalf("snapshot %d: cell %d against the copy of %d, the client holds %d", cur.ID, ci, base, hb)
				}
				_, n := cellTruth(t, enc, ring, cur, ci, base, raw[n1+n2:], true)
				raw = raw[n1+n2+n:]
				blocks++
			}
			if got := len(v.cells[cur.ID%KeepTables]); got == 0 {
				t.Fatalf("snapshot %d: no cells", cur.ID)
			}
			v.Ack(Ack{Newest: cur.ID - 2, Bits: ^uint32(0)})
		}
		fromSnapshots += len(views)
	}
	if blocks < fromSnapshots {
		t.Fatalf("%d blocks read in %d snapshots", blocks, fromSnapshots)
	}
	checked := 0
	for ci := range cur.cols * cur.rows {
		for _, base := range []uint32{0, cur.ID - 1, cur.ID - 9} {
			blk, recs, _, _ := enc.block(cur, ci, base)
			c, _ := cellTruth(t, enc, ring, cur, ci, base, blk, false)
			if c > 0 && recs == 0 && base == 0 {
				t.Fatalf("cell %d: %d entities, a block against no copy of no records", ci, c)
			}
			checked += c
		}
	}
	if checked < 3*400*9/10 {
		t.Fatalf("checked %d entity values, want most of 3×400", checked)
	}
}

// FuzzCellBlock fuzzes the payload parser in the study's modes (the parameters shared
// per snapshot, a block read as a prefix of what follows it; with a first byte of 1,
// the ids against a copy's entities): no input panics, a block
// it accepts is at most its input, and coding the parsed block again gives its bytes.
func FuzzCellBlock(f *testing.F) {
	params := [numLists]uint8{}
	for _, i := range sharedLists {
		params[i] = uint8(i % 5)
	}
	var p payload
	p.shared = &params
	b, c := Entity{X: 100, Y: 200, VX: 3, Speed: 7}, Entity{X: 130, Y: 190, VX: 4, Head: 9, Speed: 7, Machine: 2, Team: 1}
	p.predK = [2]uint16{1000, 2000}
	p.predSame = true
	p.add(3, diffMask(&b, &c), &b, &c, 100-3%40)
	p.add(9, diffMask(&zeroEntity, &c)|FlagNew, &zeroEntity, &c, 0)
	p.rem = append(p.rem, 5)
	seed := p.append(nil)
	f.Add(seed)
	f.Add(append(seed, 0xff, 0))
	f.Add([]byte{})
	p.byMembers, p.members = true, []uint16{1, 3, 5, 40}
	p.reset()
	p.predK, p.predSame = [2]uint16{1000, 2000}, true
	p.add(3, diffMask(&b, &c), &b, &c, 100-3%40)
	p.add(9, diffMask(&zeroEntity, &c)|FlagNew, &zeroEntity, &c, 0)
	p.add(40, diffMask(&b, &c), &b, &c, 100-40%40)
	f.Add(append([]byte{1}, p.append(nil)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		var q payload
		q.shared, q.prefix = &params, true
		if len(in) > 0 && in[0] == 1 { // ids against members
			q.byMembers, q.members, in = true, []uint16{1, 3, 5, 40}, in[1:]
		}
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
