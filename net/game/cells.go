package game

import (
	"encoding/binary"
	"slices"

	"github.com/shardsim/shardsim/ecs"
)

// Cell streams: the snapshots of protocol version 5 (doc.go, "Cell streams"). A client
// holds each interest cell as of one snapshot, its copy of the cell; a snapshot carries
// whole cells, each as a block coded against the client's copy, and the block of a
// (cell, copy) pair is coded once per frame and copied for every client that holds the
// same copy. Every client sends the cells on one schedule, so clients interested in a
// cell hold the same copies of it.

// Cell stream parameters. Values are part of the wire format's semantics (a client
// keeps CellCopies copies per cell).
const (
	// CellMargin is the hysteresis of stream cells, µm: an entity stays in the stream
	// cell it was in at the previous frame until it is more than CellMargin outside
	// it (each crossing is a new record in the cell entered).
	CellMargin int32 = 12 * ecs.MicrometresPerMetre
	// CellPeriod is the schedule: a client's own cell goes in every snapshot, the
	// other cells within NearRadius in one snapshot of CellPeriod, a cell r > NearRadius
	// cells away (r capped at maxCellRadius) in one of CellPeriod·r².
	CellPeriod = 3
	// CellCopies is how many copies of each cell a client keeps: those of the last
	// CellCopies snapshots it applied that carried the cell. The server codes a block
	// against a copy only when it has sent the cell fewer than CellCopies times since.
	CellCopies = 32
	// CellSnapshotHeaderSize is the size of the fixed header of a cell-stream snapshot.
	CellSnapshotHeaderSize = 1 + 4 + 8 + 8 + 4
	// MaxCells bounds the interest grid of cell streams (cells of CellSize).
	MaxCells = 1 << 14
	// CellAlign: a block of a client's own cell is coded against its newest acked
	// copy from a snapshot whose id is a multiple of CellAlign, if it holds one (one
	// of CellAlign·CellPeriod for the other cells within NearRadius), else against its
	// newest acked copy: clients whose acks arrive at different times then share it.
	CellAlign = 2
	// maxCellRadius caps the distance (in cells) the schedule's period grows with.
	maxCellRadius = 8
	// maxCellBase is the oldest copy a block is coded against, in snapshots: older
	// frames leave the frame ring.
	maxCellBase = DefaultFrameHistory - 2
)

// cellLists are the lists whose Rice parameters a cell-stream snapshot sends once for
// all its blocks, in the order of its parameter section (4 bits each): the columns of
// FlagNew (the identity of new entities) have no records that are not new.
var cellLists = [...]int{listRem, listIDs, listRanks,
	listCols, listCols + 1, listCols + 2, listCols + 3, listCols + 4, listCols + 5, listCols + 6,
	listCols + 7, listCols + 8, listCols + 9, listCols + 10}

// cellParamsSize is the size of a cell-stream payload's parameter section.
const cellParamsSize = (4*len(cellLists) + 7) / 8

// CellSnapshotHeader is the fixed header of a cell-stream snapshot message.
type CellSnapshotHeader struct {
	ID   uint32 // snapshot id (never 0): the frame it shows
	Tick uint64 // server tick the snapshot shows
	// Hash is the table hash (see [Table.Hash]) of the entities of the cells the
	// snapshot carries, as the client holds them once it applied it.
	Hash uint64
	Size uint32 // uncompressed payload size
}

// AppendCellSnapshotHeader appends h (with the type byte) to b; the zstd frame of the
// payload follows it.
func AppendCellSnapshotHeader(b []byte, h *CellSnapshotHeader) []byte {
	b = append(b, byte(TypeCellSnapshot))
	b = binary.LittleEndian.AppendUint32(b, h.ID)
	b = binary.LittleEndian.AppendUint64(b, h.Tick)
	b = binary.LittleEndian.AppendUint64(b, h.Hash)
	return binary.LittleEndian.AppendUint32(b, h.Size)
}

// ParseCellSnapshotHeader parses the header of cell-stream snapshot message b and
// returns it with the zstd frame that follows.
func ParseCellSnapshotHeader(b []byte) (CellSnapshotHeader, []byte, error) {
	var h CellSnapshotHeader
	if len(b) == 0 {
		return h, nil, ErrShort
	}
	if MsgType(b[0]) != TypeCellSnapshot {
		return h, nil, ErrType
	}
	if len(b) < CellSnapshotHeaderSize {
		return h, nil, ErrShort
	}
	h.ID = binary.LittleEndian.Uint32(b[1:])
	h.Tick = binary.LittleEndian.Uint64(b[5:])
	h.Hash = binary.LittleEndian.Uint64(b[13:])
	h.Size = binary.LittleEndian.Uint32(b[21:])
	if h.ID == 0 {
		return h, nil, ErrRange
	}
	if h.Size > MaxPayload {
		return h, nil, ErrTooLarge
	}
	return h, b[CellSnapshotHeaderSize:], nil
}

// streamCells are a frame's stream cells: the interest grid's cells with CellMargin
// hysteresis, and per cell the sum and count of its entities' hashes.
type streamCells struct {
	of    []int32 // per entity: its cell (-1: not live)
	start []int32
	by    []uint16
	sum   []uint64
}

// entities returns the entities of stream cell ci, ascending.
func (s *streamCells) entities(ci int) []uint16 { return s.by[s.start[ci]:s.start[ci+1]] }

// indexStreamCells computes f's stream cells from prev's (nil: none, no hysteresis).
func (f *Frame) indexStreamCells(prev *Frame) {
	s := &f.sc
	n := len(f.live)
	if prev != nil && (prev.cols != f.cols || prev.rows != f.rows || len(prev.sc.of) == 0) {
		prev = nil
	}
	cells := f.cols * f.rows
	s.of = grow(s.of, n)
	s.start = grow(s.start, cells+1)
	clear(s.start)
	s.sum = grow(s.sum, cells)
	clear(s.sum)
	for id := range n {
		s.of[id] = -1
		if !f.live[id] {
			continue
		}
		c := int32(f.cellIndex(f.cell[id]))
		if prev != nil && id < len(prev.sc.of) && prev.sc.of[id] >= 0 && prev.sc.of[id] != c {
			pc := prev.sc.of[id]
			px, py := pc%int32(f.cols)*CellSize, pc/int32(f.cols)*CellSize
			pos := f.ents[id].Pos(f.ArenaW, f.ArenaH)
			if pos.X >= px-CellMargin && pos.X < px+CellSize+CellMargin && pos.Y >= py-CellMargin && pos.Y < py+CellSize+CellMargin {
				c = pc
			}
		}
		s.of[id] = c
		s.start[c+1]++
		s.sum[c] += f.hash[id]
	}
	for i := range cells {
		s.start[i+1] += s.start[i]
	}
	s.by = grow(s.by, int(s.start[cells]))
	for id := range n {
		if c := s.of[id]; c >= 0 {
			s.by[s.start[c]] = uint16(id)
			s.start[c]++
		}
	}
	copy(s.start[1:], s.start[:cells])
	s.start[0] = 0
}

// StreamCell returns the stream cell (see [CellEncoder]) of entity id in f, or -1 if
// f does not hold it. Encoding the clients of one cell on one goroutine lets them
// share their blocks.
func (f *Frame) StreamCell(id ecs.NetID) int {
	if int(id) >= len(f.sc.of) {
		return -1
	}
	return int(f.sc.of[id])
}

// CellView is the server's state of one cell-stream client: which copy of each cell
// it holds, and what its snapshots in flight carried. A CellView is used by one
// goroutine at a time.
type CellView struct {
	Self ecs.NetID // the client's own entity (its cell goes in every snapshot)
	// BytesPerSnapshot is the client's byte budget per snapshot (the snapshot's
	// header and zstd frame included), averaged over snapshots: unused budget carries
	// over up to MaxPacket.
	BytesPerSnapshot int

	credit  int
	held    []uint32 // per cell: the snapshot whose copy of the cell the client holds (0: none)
	heldSeq []uint16 // per cell: sends of the cell up to that copy
	sendSeq []uint16 // per cell: sends of the cell
	sentID  [KeepTables]uint32
	acked   [KeepTables]bool       // the snapshot sentID was acked
	sent    [KeepTables][]cellSend // per snapshot in flight: the cells it carried
}

// cellSend is one cell of a snapshot in flight, with the send count it took.
type cellSend struct {
	cell uint16
	seq  uint16
}

// NewCellView returns the view of a cell-stream client whose entity is self, with the
// budget of 376 bytes a snapshot (64 kbit/s of ENet datagrams at 20 snapshots a second).
func NewCellView(self ecs.NetID) *CellView {
	return &CellView{Self: self, BytesPerSnapshot: 376}
}

// Ack applies a client ack: each acked snapshot in flight becomes the copy held of the
// cells it carried, where it is newer than the one held.
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
		if v.acked[slot] {
			continue
		}
		v.acked[slot] = true
		for _, c := range v.sent[slot] {
			if v.held[c.cell] == 0 || int32(id-v.held[c.cell]) > 0 {
				v.held[c.cell], v.heldSeq[c.cell] = id, c.seq
			}
		}
	}
}

// alignedBase returns the newest snapshot in flight whose copy of cell ci the client
// acked, that is a multiple of align (offset by the cell index) and that the client
// still holds, or 0. Clients whose acks come at different times hold different newest
// copies of a cell; most of them hold the aligned one too, and share its blocks.
func (v *CellView) alignedBase(f *Frame, ci int, align uint32) uint32 {
	// The held copy is the newest acked one: start at the aligned id at or before it.
	held := v.held[ci]
	first := held - (held+uint32(ci))%align // (first + ci) % align == 0
	for id := first; f.ID-id <= KeepTables && id != 0; id -= align {
		slot := id % KeepTables
		if v.sentID[slot] != id || !v.acked[slot] {
			continue
		}
		for _, c := range v.sent[slot] {
			if int(c.cell) == ci {
				if v.sendSeq[ci]-c.seq >= CellCopies {
					return 0
				}
				return id
			}
		}
	}
	return 0
}

// Holds reports whether the client, as far as its acks tell, holds entity id of
// frame f, and how many snapshots old its value of it is (0: current).
func (v *CellView) Holds(f *Frame, id int) (age uint32, held bool) {
	if id >= len(f.sc.of) {
		return 0, false
	}
	c := f.sc.of[id]
	if c < 0 || int(c) >= len(v.held) || v.held[c] == 0 {
		return 0, false
	}
	b := f.ring.Frame(v.held[c])
	if b == nil || id >= len(b.sc.of) || b.sc.of[id] != c {
		return 0, false
	}
	if f.ver[id] > b.ID {
		return f.ID - b.ID, true
	}
	return 0, true
}

// CellStats describes the last snapshot a CellEncoder produced.
type CellStats struct {
	Records, News int // records, and those of entities new to their cell's copy
	Blocks        int // cells carried
	Built         int // blocks coded for it (the others were copies of blocks coded before)
	Size          int // bytes of the message
}

// CellEncoder produces cell-stream snapshots. It keeps the blocks coded for the
// current frame, for every client it encodes: give each goroutine its own encoder.
type CellEncoder struct {
	Stats CellStats

	p       payload
	frame   uint32 // the frame whose blocks the cache holds
	cache   map[uint64]cellBlock
	arena   []byte
	raw     []byte
	picked  []cellPick
	due     []int32
	params  [numLists]uint8 // the Rice parameters of the current frame's blocks
	statSum [numLists]uint64
	statN   [numLists]int
	// turn[r]: the cells whose turn it is in the current frame at distance r (bits).
	turn [maxCellRadius + 1][]uint64
}

type cellBlock struct {
	off, n        int
	records, news int
	sum           uint64 // the hash sum of the cell's entities
	count         int
	distance      uint32 // to the copy the block is coded against (0: none)
}

type cellPick struct {
	cell int
	blk  cellBlock
}

// NewCellEncoder returns an encoder.
func NewCellEncoder() *CellEncoder { return &CellEncoder{cache: map[uint64]cellBlock{}} }

// newFrame empties the block cache for frame f and chooses its Rice parameters from
// what the blocks of the previous frame summed (the blocks of a frame are coded as
// clients need them, so its own sums are not known before its first block).
func (e *CellEncoder) newFrame(f *Frame) {
	clear(e.cache)
	e.arena = e.arena[:0]
	e.frame = f.ID
	for _, i := range cellLists {
		if e.statN[i] > 0 {
			e.params[i], _ = riceParam(e.statSum[i], e.statN[i])
		}
	}
	e.statSum, e.statN = [numLists]uint64{}, [numLists]int{}
	// Whose turn it is, per distance: (id + cell) a multiple of the period.
	n := f.cols * f.rows
	for r := range e.turn {
		period := uint32(CellPeriod)
		if r > NearRadius {
			period *= uint32(r * r)
		}
		e.turn[r] = grow(e.turn[r], (n+63)/64)
		clear(e.turn[r])
		for ci := int((period - f.ID%period) % period); ci < n; ci += int(period) {
			e.turn[r][ci/64] |= 1 << (ci % 64)
		}
	}
}

// block returns the block of stream cell ci of f against the client's copy of it from
// snapshot base (0: none): coded on the first request in a frame, then reused.
func (e *CellEncoder) block(f *Frame, ci int, base uint32) cellBlock {
	key := uint64(ci)<<32 | uint64(base)
	if blk, ok := e.cache[key]; ok {
		return blk
	}
	e.Stats.Built++
	var b *Frame
	if base != 0 {
		b = f.ring.Frame(base) // baseOf checked it is held and indexed
	}
	p := &e.p
	p.reset()
	p.shared, p.byMembers, p.members = &e.params, true, nil
	p.predK = f.predK
	p.predSame = b != nil && b.predK == f.predK
	if b != nil {
		p.members = b.sc.entities(ci)
	}
	for _, id := range f.sc.entities(ci) {
		c := &f.ents[id]
		if b != nil && int(id) < len(b.sc.of) && b.sc.of[id] == int32(ci) {
			if f.ver[id] <= b.ID {
				continue // unchanged since the copy
			}
			if o := &b.ents[id]; sameIdentity(o, c) {
				p.add(id, diffMask(o, c), o, c, f.ID-b.ID)
				continue
			}
		}
		p.add(id, diffMask(&zeroEntity, c)|FlagNew, &zeroEntity, c, 0)
	}
	if b != nil {
		for _, id := range b.sc.entities(ci) {
			if int(id) >= len(f.sc.of) || f.sc.of[id] != int32(ci) {
				p.rem = append(p.rem, id)
			}
		}
	}
	off := len(e.arena)
	e.arena = p.append(e.arena)
	for _, i := range cellLists {
		e.statN[i] += len(p.wire[i])
		e.statSum[i] += p.sum[i]
	}
	for i := range 2 { // the positions: their base, as wireLists takes it
		e.statSum[listCols+i] += p.sumPos[i] - p.sum[listCols+i]
	}
	blk := cellBlock{off: off, n: len(e.arena) - off, records: len(p.ids), news: p.news,
		sum: f.sc.sum[ci], count: len(f.sc.entities(ci))}
	if base != 0 {
		blk.distance = f.ID - base
	}
	e.cache[key] = blk
	return blk
}

// baseOf returns the snapshot whose copy of cell ci the block for v is coded against
// (0: none, or one the client may no longer hold or the ring no longer has).
func (v *CellView) baseOf(f *Frame, ci int, align uint32) uint32 {
	base := v.held[ci]
	if base == 0 || f.ID-base > maxCellBase || v.sendSeq[ci]-v.heldSeq[ci] >= CellCopies {
		return 0
	}
	if align > 1 {
		if a := v.alignedBase(f, ci, align); a != 0 {
			base = a
		}
	}
	if b := f.ring.Frame(base); b == nil || len(b.sc.start) != len(f.sc.start) {
		return 0
	}
	return base
}

// AppendSnapshot appends the cell-stream snapshot of frame f for view v to dst: the
// client's own cell, then the cells the schedule says are due, nearest first, as many
// as v's budget takes (a cell left out waits for its next turn), as blocks in cell
// order. It returns ErrRange if f's grid has more than MaxCells cells.
func (e *CellEncoder) AppendSnapshot(dst []byte, f *Frame, v *CellView) ([]byte, error) {
	n := f.cols * f.rows
	if n > MaxCells {
		return dst, ErrRange
	}
	if e.frame != f.ID {
		e.newFrame(f)
	}
	if len(v.held) != n {
		*v = CellView{Self: v.Self, BytesPerSnapshot: v.BytesPerSnapshot, credit: v.credit}
		v.held, v.heldSeq, v.sendSeq = make([]uint32, n), make([]uint16, n), make([]uint16, n)
	}
	e.Stats = CellStats{}
	slot := f.ID % KeepTables
	v.sentID[slot], v.acked[slot] = 0, false // not acked within KeepTables snapshots: lost
	v.credit = min(v.credit+v.BytesPerSnapshot, MaxPacket)
	// A cell left out waits for its next turn: sent out of turn, its copy would be one
	// no other client holds, and its blocks would not be shared.
	limit := MaxPacket - CellSnapshotHeaderSize - rawFrameOverhead - cellParamsSize
	budget := min(v.credit, MaxPacket) - CellSnapshotHeaderSize - rawFrameOverhead - cellParamsSize
	self, sx, sy := -1, 0, 0
	if int(v.Self) < len(f.sc.of) && f.sc.of[v.Self] >= 0 {
		self = int(f.sc.of[v.Self])
		sx, sy = self%f.cols, self/f.cols
	}
	// The cells due, as (distance+1)<<16 | cell (the own cell: 0): the cells within
	// maxCellRadius−1 ring by ring, then those farther whose turn it is.
	e.due = e.due[:0]
	due := func(ci, r int) {
		if ci != self && e.turn[r][ci/64]&(1<<(ci%64)) == 0 {
			return
		}
		if f.sc.start[ci] == f.sc.start[ci+1] && v.held[ci] == 0 {
			return // empty, and nothing held to empty
		}
		if ci == self {
			e.due = append(e.due, int32(ci))
		} else {
			e.due = append(e.due, int32(r+1)<<16|int32(ci))
		}
	}
	if self >= 0 {
		for r := range maxCellRadius {
			for y := max(sy-r, 0); y <= min(sy+r, f.rows-1); y++ {
				step := 1
				if y != sy-r && y != sy+r {
					step = 2 * r // the ring's left and right cells only
				}
				for x := sx - r; x <= sx+r; x += max(step, 1) {
					if x >= 0 && x < f.cols {
						due(y*f.cols+x, r)
					}
				}
			}
		}
	}
	far := uint32(CellPeriod * maxCellRadius * maxCellRadius)
	for ci := int((far - f.ID%far) % far); ci < n; ci += int(far) {
		if self < 0 || max(absInt(ci%f.cols-sx), absInt(ci/f.cols-sy)) >= maxCellRadius {
			due(ci, maxCellRadius)
		}
	}
	slices.Sort(e.due)
	e.picked = e.picked[:0]
	size := 0
	for _, d := range e.due {
		ci := int(d & 0xffff)
		align := uint32(CellAlign)
		if ci != self {
			align *= CellPeriod
			if d>>16 > NearRadius+1 {
				align = 1 // far cells: rare sends, which few acks straddle
			}
		}
		base := v.baseOf(f, ci, align)
		blk := e.block(f, ci, base)
		hdr := uvarintLen(uint64(ci)) + uvarintLen(uint64(blk.distance)) // at most
		if size+hdr+blk.n > budget && (ci != self || size+hdr+blk.n > limit) {
			continue // at its next turn
		}
		size += hdr + blk.n
		e.picked = append(e.picked, cellPick{cell: ci, blk: blk})
	}
	slices.SortFunc(e.picked, func(a, b cellPick) int { return a.cell - b.cell })
	// The payload: the parameter section, then each block behind its header (the
	// cell as the gap from the previous block's, the copy's distance).
	var w bitWriter
	w.b = e.raw[:0]
	for _, i := range cellLists {
		w.write(uint32(e.params[i]), 4)
	}
	e.raw = w.flush()
	prev := -1
	var sum uint64
	count := 0
	sends := v.sent[slot][:0]
	for _, pk := range e.picked {
		e.raw = binary.AppendUvarint(e.raw, uint64(pk.cell-prev-1))
		prev = pk.cell
		e.raw = binary.AppendUvarint(e.raw, uint64(pk.blk.distance))
		e.raw = append(e.raw, e.arena[pk.blk.off:pk.blk.off+pk.blk.n]...)
		sum += pk.blk.sum
		count += pk.blk.count
		e.Stats.Records += pk.blk.records
		e.Stats.News += pk.blk.news
		v.sendSeq[pk.cell]++
		sends = append(sends, cellSend{cell: uint16(pk.cell), seq: v.sendSeq[pk.cell]})
	}
	v.sent[slot] = sends
	v.sentID[slot] = f.ID
	start := len(dst)
	dst = AppendCellSnapshotHeader(dst, &CellSnapshotHeader{ID: f.ID, Tick: f.Tick, Hash: tableHash(sum, count), Size: uint32(len(e.raw))})
	dst = appendRawFrame(dst, e.raw)
	e.Stats.Blocks = len(e.picked)
	e.Stats.Size = len(dst) - start
	v.credit -= e.Stats.Size
	return dst, nil
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
