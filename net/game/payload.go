package game

import (
	"encoding/binary"
)

// Snapshot limits.
const (
	// MaxPacket is the largest snapshot message the encoder produces, in bytes.
	MaxPacket = 1200
	// MaxPayload bounds the uncompressed payload of a snapshot; decoders reject larger
	// sizes before decompressing.
	MaxPayload = 64 << 10
	// KeepTables is how many recent tables a client keeps as baselines, and so how far
	// behind the newest snapshot a baseline may be.
	KeepTables = 32
	// SnapshotHeaderSize is the size of the fixed header before the zstd frame.
	SnapshotHeaderSize = 1 + 4 + 4 + 4 + 8 + 8 + 4
)

// Field groups: bit i of a record's mask says group i is present (see doc.go).
const (
	GroupPos  = 1 << 0 // X, Y as u16 deltas (mod 65536) from the baseline
	GroupHead = 1 << 1 // Head
	GroupVel  = 1 << 2 // VX, VY
	GroupAnim = 1 << 3 // State, Clip, Speed
	GroupTime = 1 << 4 // TimeRef as u16 delta (mod 65536) from the baseline
	GroupFade = 1 << 5 // PrevClip, Fade
	GroupPos8 = 1 << 6 // X, Y as i8 deltas from the baseline (never with GroupPos)
	FlagNew   = 1 << 7 // entity not in the baseline: Machine, Team, then groups applied to a zero Entity
)

type column struct {
	group uint8
	size  int                       // 1 or 2 bytes
	get   func(b, c *Entity) uint16 // wire value of c against baseline b
	set   func(e *Entity, v uint16) // applies a wire value onto e, which holds the baseline
}

// columns lists the payload columns in wire order.
var columns = [...]column{
	{GroupPos, 2, func(b, c *Entity) uint16 { return c.X - b.X }, func(e *Entity, v uint16) { e.X += v }},
	{GroupPos, 2, func(b, c *Entity) uint16 { return c.Y - b.Y }, func(e *Entity, v uint16) { e.Y += v }},
	{GroupHead, 1, func(_, c *Entity) uint16 { return uint16(c.Head) }, func(e *Entity, v uint16) { e.Head = uint8(v) }},
	{GroupVel, 1, func(_, c *Entity) uint16 { return uint16(uint8(c.VX)) }, func(e *Entity, v uint16) { e.VX = int8(v) }},
	{GroupVel, 1, func(_, c *Entity) uint16 { return uint16(uint8(c.VY)) }, func(e *Entity, v uint16) { e.VY = int8(v) }},
	{GroupAnim, 2, func(_, c *Entity) uint16 { return c.State }, func(e *Entity, v uint16) { e.State = v }},
	{GroupAnim, 2, func(_, c *Entity) uint16 { return c.Clip }, func(e *Entity, v uint16) { e.Clip = v }},
	{GroupAnim, 2, func(_, c *Entity) uint16 { return c.Speed }, func(e *Entity, v uint16) { e.Speed = v }},
	{GroupTime, 2, func(b, c *Entity) uint16 { return c.TimeRef - b.TimeRef }, func(e *Entity, v uint16) { e.TimeRef += v }},
	{GroupFade, 2, func(_, c *Entity) uint16 { return c.PrevClip }, func(e *Entity, v uint16) { e.PrevClip = v }},
	{GroupFade, 1, func(_, c *Entity) uint16 { return uint16(c.Fade) }, func(e *Entity, v uint16) { e.Fade = uint8(v) }},
	{GroupPos8, 1, func(b, c *Entity) uint16 { return uint16(uint8(c.X - b.X)) }, func(e *Entity, v uint16) { e.X += uint16(int8(v)) }},
	{GroupPos8, 1, func(b, c *Entity) uint16 { return uint16(uint8(c.Y - b.Y)) }, func(e *Entity, v uint16) { e.Y += uint16(int8(v)) }},
	// The identity of a new entity: what an entity keeps for life (the encoder sends a
	// removal and a new record when one changes).
	{FlagNew, 2, func(_, c *Entity) uint16 { return c.Machine }, func(e *Entity, v uint16) { e.Machine = v }},
	{FlagNew, 1, func(_, c *Entity) uint16 { return uint16(c.Team) }, func(e *Entity, v uint16) { e.Team = uint8(v) }},
}

const numColumns = len(columns)

// sameIdentity reports whether b and c have the same Machine and Team, which only a
// new record sets.
func sameIdentity(b, c *Entity) bool { return b.Machine == c.Machine && b.Team == c.Team }

// diffMask returns the groups in which c differs from b (of the same identity); a
// position delta that fits in a byte on both axes goes in GroupPos8.
func diffMask(b, c *Entity) uint8 {
	var m uint8
	if b.X != c.X || b.Y != c.Y {
		if dx, dy := int16(c.X-b.X), int16(c.Y-b.Y); dx == int16(int8(dx)) && dy == int16(int8(dy)) {
			m |= GroupPos8
		} else {
			m |= GroupPos
		}
	}
	if b.Head != c.Head {
		m |= GroupHead
	}
	if b.VX != c.VX || b.VY != c.VY {
		m |= GroupVel
	}
	if b.State != c.State || b.Clip != c.Clip || b.Speed != c.Speed {
		m |= GroupAnim
	}
	if b.TimeRef != c.TimeRef {
		m |= GroupTime
	}
	if b.PrevClip != c.PrevClip || b.Fade != c.Fade {
		m |= GroupFade
	}
	return m
}

// payload is the decoded (still delta) content of a snapshot: what sits inside the zstd
// frame. Its slices are reused from message to message.
type payload struct {
	rem   []uint16 // removed ids, ascending
	ids   []uint16 // record ids, ascending
	masks []uint8  // per record
	cols  [numColumns][]uint16
	tmp   []uint16
	news  int // records with FlagNew
}

func (p *payload) reset() {
	p.rem, p.ids, p.masks = p.rem[:0], p.ids[:0], p.masks[:0]
	p.news = 0
	for i := range p.cols {
		p.cols[i] = p.cols[i][:0]
	}
}

// add appends a record for id with mask m whose values are c against baseline b.
func (p *payload) add(id uint16, m uint8, b, c *Entity) {
	p.ids = append(p.ids, id)
	p.masks = append(p.masks, m)
	if m&FlagNew != 0 {
		p.news++
	}
	for i := range columns {
		col := &columns[i]
		if m&col.group != 0 {
			p.cols[i] = append(p.cols[i], col.get(b, c))
		}
	}
}

// appendPlanes appends n u16 values as two byte planes: the n low bytes, then the n high
// bytes (zstd compresses the mostly-constant high bytes of small deltas to almost nothing).
func appendPlanes(b []byte, vals []uint16) []byte {
	for _, v := range vals {
		b = append(b, byte(v))
	}
	for _, v := range vals {
		b = append(b, byte(v>>8))
	}
	return b
}

func readPlanes(dst []uint16, b []byte, n int) []uint16 {
	lo, hi := b[:n], b[n:2*n]
	for i := range n {
		dst = append(dst, uint16(lo[i])|uint16(hi[i])<<8)
	}
	return dst
}

// gaps turns ascending ids into differences from the previous id (the first from 0).
func gaps(dst, ids []uint16) []uint16 {
	prev := uint16(0)
	for _, id := range ids {
		dst = append(dst, id-prev)
		prev = id
	}
	return dst
}

// ungap turns gaps back into ids in place; gaps must be ≥ 1 and ids stay ≤ MaxWireID.
func ungap(g []uint16) bool {
	prev := 0
	for i, d := range g {
		if d == 0 || prev+int(d) > MaxWireID {
			return false
		}
		prev += int(d)
		g[i] = uint16(prev)
	}
	return true
}

// append appends the payload layout of p to b, using tmp as scratch. Lists must be
// ascending and the columns consistent with the masks (as add keeps them).
func (p *payload) append(b []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(len(p.rem)))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(p.ids)))
	p.tmp = gaps(p.tmp[:0], p.rem)
	b = appendPlanes(b, p.tmp)
	p.tmp = gaps(p.tmp[:0], p.ids)
	b = appendPlanes(b, p.tmp)
	b = append(b, p.masks...)
	for i := range columns {
		if columns[i].size == 1 {
			for _, v := range p.cols[i] {
				b = append(b, byte(v))
			}
		} else {
			b = appendPlanes(b, p.cols[i])
		}
	}
	return b
}

// parse decodes a payload into p, checking every length before reading. It returns
// ErrCorrupt unwrapped on any malformation.
func (p *payload) parse(b []byte) error {
	p.reset()
	if len(b) < 4 {
		return ErrCorrupt
	}
	nrem := int(binary.LittleEndian.Uint16(b))
	nrec := int(binary.LittleEndian.Uint16(b[2:]))
	off := 4
	if len(b)-off < 2*nrem+3*nrec {
		return ErrCorrupt
	}
	p.rem = readPlanes(p.rem, b[off:], nrem)
	off += 2 * nrem
	p.ids = readPlanes(p.ids, b[off:], nrec)
	off += 2 * nrec
	if !ungap(p.rem) || !ungap(p.ids) {
		return ErrCorrupt
	}
	p.masks = append(p.masks, b[off:off+nrec]...)
	off += nrec
	for _, m := range p.masks {
		if m&GroupPos != 0 && m&GroupPos8 != 0 {
			return ErrCorrupt
		}
	}
	var groups [8]int
	for _, m := range p.masks {
		for g := range 8 {
			groups[g] += int(m >> g & 1)
		}
	}
	need := 0
	for i := range columns {
		need += columns[i].size * groups[bitIndex(columns[i].group)]
	}
	if len(b)-off != need {
		return ErrCorrupt
	}
	for i := range columns {
		col := &columns[i]
		n := groups[bitIndex(col.group)]
		if col.size == 1 {
			for _, v := range b[off : off+n] {
				p.cols[i] = append(p.cols[i], uint16(v))
			}
		} else {
			p.cols[i] = readPlanes(p.cols[i], b[off:], n)
		}
		off += col.size * n
	}
	return nil
}

func bitIndex(g uint8) int {
	for i := range 8 {
		if g == 1<<i {
			return i
		}
	}
	panic("game: group is not a single bit")
}

// SnapshotHeader is the fixed part of a snapshot message.
type SnapshotHeader struct {
	ID   uint32 // snapshot id (never 0)
	Base uint32 // id of the baseline table the delta applies to; 0 = full (empty baseline)
	// Merge: bit i set = the records of snapshot ID−1−i are merged into the baseline
	// before the delta applies (i < 31; see doc.go).
	Merge uint32
	Tick  uint64 // server tick the snapshot shows
	Hash  uint64 // table hash of the client's table after applying (see Table.Hash)
	Size  uint32 // uncompressed payload size
}

// AppendSnapshotHeader appends the header h (with the type byte) to b; the zstd frame of
// h.Size bytes of payload follows it.
func AppendSnapshotHeader(b []byte, h *SnapshotHeader) []byte {
	b = append(b, byte(TypeSnapshot))
	b = binary.LittleEndian.AppendUint32(b, h.ID)
	b = binary.LittleEndian.AppendUint32(b, h.Base)
	b = binary.LittleEndian.AppendUint32(b, h.Merge)
	b = binary.LittleEndian.AppendUint64(b, h.Tick)
	b = binary.LittleEndian.AppendUint64(b, h.Hash)
	return binary.LittleEndian.AppendUint32(b, h.Size)
}

// ParseSnapshotHeader parses the header of a snapshot message and returns it with the
// zstd frame that follows (aliasing b). It checks the header's own invariants (id not 0,
// baseline older than the id, size within MaxPayload) but does not decompress.
func ParseSnapshotHeader(b []byte) (SnapshotHeader, []byte, error) {
	var h SnapshotHeader
	if len(b) == 0 {
		return h, nil, ErrShort
	}
	if MsgType(b[0]) != TypeSnapshot {
		return h, nil, ErrType
	}
	if len(b) < SnapshotHeaderSize {
		return h, nil, ErrShort
	}
	h.ID = binary.LittleEndian.Uint32(b[1:])
	h.Base = binary.LittleEndian.Uint32(b[5:])
	h.Merge = binary.LittleEndian.Uint32(b[9:])
	h.Tick = binary.LittleEndian.Uint64(b[13:])
	h.Hash = binary.LittleEndian.Uint64(b[21:])
	h.Size = binary.LittleEndian.Uint32(b[29:])
	if h.ID == 0 || (h.Base != 0 && h.ID-h.Base-1 >= KeepTables-1) {
		// h.ID-h.Base in [1, KeepTables-1], modulo 2^32
		return h, nil, ErrRange
	}
	if h.Merge>>(KeepTables-1) != 0 {
		return h, nil, ErrRange // ID−KeepTables: the client cannot hold it
	}
	if h.Size > MaxPayload {
		return h, nil, ErrTooLarge
	}
	return h, b[SnapshotHeaderSize:], nil
}
