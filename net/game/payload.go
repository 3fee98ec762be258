package game

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// Snapshot limits.
const (
	// MaxPacket is the largest snapshot message the encoder produces, in bytes.
	MaxPacket = 1200
	// MaxPayload bounds the uncompressed payload of a snapshot; decoders reject larger
	// sizes before decompressing.
	MaxPayload = 64 << 10
	// KeepTables is how many recent tables a client keeps as baselines, and so how far
	// behind a snapshot the snapshots it merges may be.
	KeepTables = 32
	// MaxBaseDistance is how far behind a snapshot its baseline may be: a client keeps,
	// beyond its last KeepTables tables, the table of the baseline that the newest
	// snapshot it applied names (acks up to ≈ 30 snapshots late keep a baseline).
	MaxBaseDistance = 2*KeepTables - 2
	// SnapshotHeaderSize is the size of the fixed header before the zstd frame.
	SnapshotHeaderSize = 1 + 4 + 4 + 4 + 8 + 8 + 4
)

// Field groups: bit i of a record's mask says group i is present (see doc.go).
const (
	GroupPos   = 1 << 0 // X, Y as deltas (mod 65536) from the baseline
	GroupHead  = 1 << 1 // Head
	GroupVel   = 1 << 2 // VX, VY
	GroupAnim  = 1 << 3 // State, Clip
	GroupTime  = 1 << 4 // TimeRef as a delta (mod 65536) from the baseline
	GroupFade  = 1 << 5 // PrevClip, Fade
	GroupSpeed = 1 << 6 // Speed
	FlagNew    = 1 << 7 // entity not in the baseline: Machine, Team, then groups applied to a zero Entity
)

// Column value kinds: how a column's value (as get returns it and set takes it) maps to
// the unsigned number the bitstream codes.
const (
	plain8  = iota // 0..255, coded as is
	plain16        // 0..65535, coded as is
	zig8           // an int8 (as its byte), zigzag-coded: 0, −1, 1, −2… → 0, 1, 2, 3…
	zig16          // an int16 (as its u16, a delta mod 65536), zigzag-coded
)

type column struct {
	group uint8
	kind  uint8
	get   func(b, c *Entity) uint16 // value of c against baseline b
	set   func(e *Entity, v uint16) // applies a value onto e, which holds the baseline
}

// columns lists the payload columns in wire order.
var columns = [...]column{
	{GroupPos, zig16, func(b, c *Entity) uint16 { return c.X - b.X }, func(e *Entity, v uint16) { e.X += v }},
	{GroupPos, zig16, func(b, c *Entity) uint16 { return c.Y - b.Y }, func(e *Entity, v uint16) { e.Y += v }},
	{GroupVel, zig8, func(_, c *Entity) uint16 { return uint16(uint8(c.VX)) }, func(e *Entity, v uint16) { e.VX = int8(v) }},
	{GroupVel, zig8, func(_, c *Entity) uint16 { return uint16(uint8(c.VY)) }, func(e *Entity, v uint16) { e.VY = int8(v) }},
	// Head: the difference from the heading of the velocity (applied after it).
	{GroupHead, zig8, func(_, c *Entity) uint16 { return uint16(c.Head - HeadingOf(c.VX, c.VY)) },
		func(e *Entity, v uint16) { e.Head = uint8(v) + HeadingOf(e.VX, e.VY) }},
	{GroupAnim, plain16, func(_, c *Entity) uint16 { return c.State }, func(e *Entity, v uint16) { e.State = v }},
	{GroupAnim, plain16, func(_, c *Entity) uint16 { return c.Clip }, func(e *Entity, v uint16) { e.Clip = v }},
	{GroupTime, zig16, func(b, c *Entity) uint16 { return c.TimeRef - b.TimeRef }, func(e *Entity, v uint16) { e.TimeRef += v }},
	{GroupFade, plain16, func(_, c *Entity) uint16 { return c.PrevClip }, func(e *Entity, v uint16) { e.PrevClip = v }},
	{GroupFade, plain8, func(_, c *Entity) uint16 { return uint16(c.Fade) }, func(e *Entity, v uint16) { e.Fade = uint8(v) }},
	{GroupSpeed, plain16, func(_, c *Entity) uint16 { return c.Speed }, func(e *Entity, v uint16) { e.Speed = v }},
	// The identity of a new entity: what an entity keeps for life (the encoder sends a
	// removal and a new record when one changes).
	{FlagNew, plain16, func(_, c *Entity) uint16 { return c.Machine }, func(e *Entity, v uint16) { e.Machine = v }},
	{FlagNew, plain8, func(_, c *Entity) uint16 { return uint16(c.Team) }, func(e *Entity, v uint16) { e.Team = uint8(v) }},
}

const numColumns = len(columns)

// toWire maps a column value of the given kind to the number the bitstream codes.
func toWire(kind uint8, v uint16) uint32 {
	switch kind {
	case zig8:
		x := int32(int8(v))
		return uint32(x<<1 ^ x>>31)
	case zig16:
		x := int32(int16(v))
		return uint32(x<<1 ^ x>>31)
	}
	return uint32(v)
}

// fromWire inverts toWire; ok is false for a number no value of the kind codes to.
func fromWire(kind uint8, u uint32) (v uint16, ok bool) {
	switch kind {
	case plain8, zig8:
		if u > 0xff {
			return 0, false
		}
	default:
		if u > 0xffff {
			return 0, false
		}
	}
	switch kind {
	case zig8:
		return uint16(uint8(u>>1 ^ -(u & 1))), true // zigzag back, as the int8's byte
	case zig16:
		return uint16(u>>1 ^ -(u & 1)), true
	}
	return uint16(u), true
}

// sameIdentity reports whether b and c have the same Machine and Team, which only a
// new record sets.
func sameIdentity(b, c *Entity) bool { return b.Machine == c.Machine && b.Team == c.Team }

// diffMask returns the groups in which c differs from b (of the same identity),
// without a branch per group (the encoder calls it for every record).
func diffMask(b, c *Entity) uint8 {
	return uint8(b2i((b.X^c.X)|(b.Y^c.Y) != 0))*GroupPos |
		uint8(b2i(b.Head != c.Head))*GroupHead |
		uint8(b2i(b.VX != c.VX || b.VY != c.VY))*GroupVel |
		uint8(b2i((b.State^c.State)|(b.Clip^c.Clip) != 0))*GroupAnim |
		uint8(b2i(b.TimeRef != c.TimeRef))*GroupTime |
		uint8(b2i((b.PrevClip^c.PrevClip)|uint16(b.Fade^c.Fade) != 0))*GroupFade |
		uint8(b2i(b.Speed != c.Speed))*GroupSpeed
}

// payload is the decoded (still delta) content of a snapshot: what sits inside the zstd
// frame. Its slices are reused from message to message.
type payload struct {
	rem   []uint16 // removed ids, ascending
	ids   []uint16 // record ids, ascending
	masks []uint8  // per record
	cols  [numColumns][]uint16
	news  int // records with FlagNew

	// The coding parameters, which append chooses (wireLists) or parse reads (parsed):
	// the distinct masks by rank (most frequent first) and the Rice parameter of each
	// list (for the position lists, the base coded as base + 8: see posK).
	parsed bool
	// predSame: the prediction's scale (predK) is the baseline table's, coded as one
	// bit (see doc.go); the encoder sets it, parse reads it.
	predSame bool
	dict     []uint8
	k        [numLists]uint8
	rank     [256]uint8 // scratch: mask → rank
	hist     [256]uint16
	wire     [numLists][]uint32 // scratch: the numbers each list codes
	dw       []uint32           // scratch
	scratch  []uint16
	// posShift: the age shift of each record that is not new and has GroupPos, in
	// record order (see ageShift); sumPos: the sums of its X and Y numbers, each
	// shifted left by 8 minus its age shift (for the base parameter).
	posShift []uint8
	sumPos   [2]uint64
	// posAge: the age (capped at maxPredAge) of the same records; predK: the position
	// prediction's scale per axis (see predict), which the encoder takes from the frame.
	posAge []uint32
	predK  [2]uint16
	// What add sums for the encoder's choice of parameters: the numbers of each list,
	// and the delta codes of the new records' values per column (after prevNew).
	sum     [numLists]uint64
	dsum    [numColumns]uint64
	prevNew [numColumns]uint16
	// delta[i]: the values of column i in new records are delta-coded (see toDelta).
	delta [numColumns]bool
	// shared, when not nil, holds Rice parameters that the blocks of one cell-stream
	// snapshot share (protocol version 5; nil for version 4 payloads): append neither
	// chooses nor writes the parameters of the removed ids, the record
	// ids, the masks and the columns of the records that are not new, parse does not
	// read them, and a record's mask is coded as its index in the common order
	// (maskIndex) instead of its rank in a dictionary, which is not sent.
	shared *[numLists]uint8
	// prefix: parse reads a payload at the start of its input and sets consumed to its
	// length (its bits padded to a byte with zero bits) instead of rejecting what
	// follows it (a cell-stream snapshot's blocks, one after another; false for
	// version 4 payloads).
	prefix   bool
	consumed int
	// byMembers: the record ids are coded against members, the ids of the entities the
	// client holds in the cell (ascending; cell streams, false for version 4 payloads):
	// a bit per member (it has a record or not), then the ids of the records
	// of entities that are not members, as gaps. memberBit and extra are append's
	// scratch: the bits, and the ids that are not members.
	byMembers bool
	members   []uint16
	memberBit []uint8
	extra     []uint16
}

// The lists of the bitstream with a Rice parameter each: the removed id gaps, the
// record id gaps, the mask ranks, then per column the values of the records that are
// not new (deltas, mostly small) and those of the new records (whole values).
const (
	listRem = iota
	listIDs
	listDict // the dictionary's masks, as their indices in the common order (maskIndex)
	listRanks
	listCols
	listNew  = listCols + numColumns
	numLists = listNew + numColumns
)

func (p *payload) reset() {
	for _, m := range p.dict {
		p.hist[m] = 0
	}
	p.dict = p.dict[:0]
	p.rem, p.ids, p.masks = p.rem[:0], p.ids[:0], p.masks[:0]
	p.news = 0
	p.parsed, p.predSame = false, false
	for i := range p.cols {
		p.cols[i] = p.cols[i][:0]
		p.wire[listCols+i] = p.wire[listCols+i][:0]
		p.wire[listNew+i] = p.wire[listNew+i][:0]
	}
	p.sum, p.dsum, p.prevNew = [numLists]uint64{}, [numColumns]uint64{}, [numColumns]uint16{}
	p.posShift, p.sumPos, p.posAge = p.posShift[:0], [2]uint64{}, p.posAge[:0]
}

// add appends a record for id with mask m whose values are c against baseline b.
// For a record that is not new, age is the number of snapshots since the one that
// wrote its baseline value (the position lists' parameters scale with it).
func (p *payload) add(id uint16, m uint8, b, c *Entity, age uint32) {
	p.ids = append(p.ids, id)
	p.masks = append(p.masks, m)
	if p.hist[m] == 0 {
		p.dict = append(p.dict, m) // ordered by wireLists
	}
	p.hist[m]++
	if m&FlagNew == 0 {
		if m&GroupPos != 0 {
			a := min(age, maxPredAge)
			p.put(listCols, 0, zig16, c.X-b.X-predict(b.VX, c.VX, a, p.predK[0]))
			p.put(listCols, 1, zig16, c.Y-b.Y-predict(b.VY, c.VY, a, p.predK[1]))
			s := ageShift(age)
			p.posShift, p.posAge = append(p.posShift, s), append(p.posAge, a)
			for i := range 2 {
				u := p.wire[listCols+i][len(p.wire[listCols+i])-1]
				p.sumPos[i] += uint64(u) << 8 >> s
			}
		}
		p.addValues(m&^GroupPos, listCols, b, c)
		return
	}
	p.news++
	p.addValues(m, listNew, &zeroEntity, c)
}

// maxPredAge caps the age the position prediction extrapolates over (3.2 s at 20
// snapshots per second): older velocities say little about the path since.
const maxPredAge = 64

// predict returns the position change, in steps, that the mean of the baseline
// velocity bv and the current one cv (VelUnit steps) predicts over age snapshots at
// scale k (steps per velocity unit per snapshot, ×4096): ((bv + cv)·age·k + 4096) >> 13
// (an arithmetic shift), mod 65536. A record's X and Y deltas are coded minus it.
func predict(bv, cv int8, age uint32, k uint16) uint16 {
	return uint16(((int64(bv)+int64(cv))*int64(age)*int64(k) + 4096) >> 13)
}

// predScale returns the scale of the position prediction (see predict) for an axis
// of arena µm with ticksPer256 ticks per snapshot (×256) at rate ticks per second:
// the steps one VelUnit of velocity covers in one snapshot, ×4096, rounded and
// capped at 65535.
func predScale(ticksPer256 int64, rate uint16, arena int32) uint16 {
	num := int64(VelUnit*1000) * PosSteps * 16 * ticksPer256 // ×4096/256
	den := int64(max(rate, 1)) * int64(max(arena, 1))
	return uint16(min((num+den/2)/den, 65535))
}

// ageShift returns by how many bits the Rice parameter of a position delta of a
// baseline age snapshots old exceeds the list's base: bits.Len32(age) − 1, at least 0.
func ageShift(age uint32) uint8 { return uint8(max(bits.Len32(age), 1) - 1) }

// posK returns the Rice parameter of a position delta: the list's base parameter
// (coded as base + 8) plus its age shift, within 0..15.
func posK(coded uint8, shift uint8) uint {
	return uint(min(max(int(coded)-8+int(shift), 0), maxRiceK))
}

// applyRecord applies record k of p to e, which holds the entity's baseline value (or
// zero, for a new record): the values of its groups, then, for a position delta of a
// record that is not new, the prediction it was coded against. cur and pos count the
// values and position records of p applied so far.
func (p *payload) applyRecord(k int, e *Entity, cur *[numColumns]int, pos *int) {
	m := p.masks[k]
	bvx, bvy := e.VX, e.VY
	for c := range columns {
		if col := &columns[c]; m&col.group != 0 {
			col.set(e, p.cols[c][cur[c]])
			cur[c]++
		}
	}
	if m&GroupPos != 0 && m&FlagNew == 0 {
		a := p.posAge[*pos]
		*pos++
		e.X += predict(bvx, e.VX, a, p.predK[0])
		e.Y += predict(bvy, e.VY, a, p.predK[1])
	}
}

// addValues adds the values of a record's groups to the lists, as the columns table
// says, unrolled (the encoder adds tens of records per snapshot):
// l is listCols for a record that is not new, or listNew for a new one, whose
// baseline b is the zero entity. TestAddDelta checks it against the columns table.
func (p *payload) addValues(m uint8, l int, b, c *Entity) {
	if m&GroupPos != 0 {
		p.put(l, 0, zig16, c.X-b.X)
		p.put(l, 1, zig16, c.Y-b.Y)
	}
	if m&GroupVel != 0 {
		p.put(l, 2, zig8, uint16(uint8(c.VX)))
		p.put(l, 3, zig8, uint16(uint8(c.VY)))
	}
	if m&GroupHead != 0 {
		p.put(l, 4, zig8, uint16(c.Head-HeadingOf(c.VX, c.VY)))
	}
	if m&GroupAnim != 0 {
		p.put(l, 5, plain16, c.State)
		p.put(l, 6, plain16, c.Clip)
	}
	if m&GroupTime != 0 {
		p.put(l, 7, zig16, c.TimeRef-b.TimeRef)
	}
	if m&GroupFade != 0 {
		p.put(l, 8, plain16, c.PrevClip)
		p.put(l, 9, plain8, uint16(c.Fade))
	}
	if m&GroupSpeed != 0 {
		p.put(l, 10, plain16, c.Speed)
	}
	if l == listNew {
		p.put(l, 11, plain16, c.Machine)
		p.put(l, 12, plain8, uint16(c.Team))
	}
}

// put adds value v of column i (of the kind) to the lists that start at l; for a
// new record (l = listNew) it also sums its delta code (see toDelta).
func (p *payload) put(l, i int, kind uint8, v uint16) {
	u := toWire(kind, v)
	p.cols[i] = append(p.cols[i], v)
	p.wire[l+i] = append(p.wire[l+i], u)
	p.sum[l+i] += uint64(u)
	if l == listNew {
		p.dsum[i] += uint64(toDelta(kind, v, p.prevNew[i]))
		p.prevNew[i] = v
	}
}

// Rice codes (see doc.go, "Snapshot payload"): a number u with parameter k is q = u>>k
// one bits and a zero bit, then the k low bits of u; when q ≥ riceEscape, riceEscape
// one bits and then u in 16 bits.
const (
	riceEscape = 16
	maxRiceK   = 15
)

// riceParam returns the Rice parameter for n numbers summing to sum and an estimate
// of the bits they take: for geometrically distributed numbers of mean μ the best k
// is near log2(μ·ln 2), and the bits are about sum>>k + n·(k+1); the estimate of k
// and k+1 decides.
func riceParam(sum uint64, n int) (k uint8, bitsN uint) {
	if n == 0 {
		return 0, 0
	}
	m := uint(min(max(bits.Len64(sum*177/256/uint64(n))-1, 0), maxRiceK-1))
	c0 := uint(sum>>m) + uint(n)*(m+1)
	c1 := uint(sum>>(m+1)) + uint(n)*(m+2)
	if c0 <= c1 {
		return uint8(m), c0
	}
	return uint8(m + 1), c1
}

// width8 reports whether a column of the kind holds 8-bit values.
func width8(kind uint8) bool { return kind == plain8 || kind == zig8 }

// toDelta returns the number that codes value v after value prev in a column of the
// kind whose new records' values are delta-coded: their difference in the column's
// width, zigzag-coded.
func toDelta(kind uint8, v, prev uint16) uint32 {
	if width8(kind) {
		return toWire(zig8, uint16(uint8(v)-uint8(prev)))
	}
	return toWire(zig16, v-prev)
}

// fromDelta inverts toDelta.
func fromDelta(kind uint8, u uint32, prev uint16) (uint16, bool) {
	if width8(kind) {
		d, ok := fromWire(zig8, u)
		return uint16(uint8(prev) + uint8(d)), ok
	}
	d, ok := fromWire(zig16, u)
	return prev + d, ok
}

// wireLists fills p.wire with the numbers each list codes; unless p was parsed, it
// chooses the coding parameters first: the mask dictionary, most frequent first
// (ties by mask), and each list's Rice parameter.
func (p *payload) wireLists() {
	if !p.parsed {
		// add counted the masks in hist and listed them in dict: order them most
		// frequent first, ties by mask (an insertion sort: a few dozen at most).
		less := func(a, b uint8) bool { return p.hist[a] > p.hist[b] || p.hist[a] == p.hist[b] && a < b }
		for i := 1; i < len(p.dict); i++ {
			for j := i; j > 0 && less(p.dict[j], p.dict[j-1]); j-- {
				p.dict[j], p.dict[j-1] = p.dict[j-1], p.dict[j]
			}
		}
	}
	for i, m := range p.dict {
		p.rank[m] = uint8(i)
	}
	gapsMinusOne := func(dst []uint32, ids []uint16) []uint32 {
		prev := uint16(0)
		for _, id := range ids {
			dst = append(dst, uint32(id-prev)-1)
			prev = id
		}
		return dst
	}
	p.wire[listRem] = gapsMinusOne(p.wire[listRem][:0], p.rem)
	if p.byMembers {
		p.memberBit, p.extra = p.memberBit[:0], p.extra[:0]
		j := 0
		for _, m := range p.members {
			for j < len(p.ids) && p.ids[j] < m {
				p.extra = append(p.extra, p.ids[j])
				j++
			}
			bit := uint8(0)
			if j < len(p.ids) && p.ids[j] == m {
				bit = 1
				j++
			}
			p.memberBit = append(p.memberBit, bit)
		}
		p.extra = append(p.extra, p.ids[j:]...)
		p.wire[listIDs] = gapsMinusOne(p.wire[listIDs][:0], p.extra)
	} else {
		p.wire[listIDs] = gapsMinusOne(p.wire[listIDs][:0], p.ids)
	}
	dw := p.wire[listDict][:0]
	for _, m := range p.dict {
		dw = append(dw, uint32(maskIndex[m]))
	}
	p.wire[listDict] = dw
	w := p.wire[listRanks][:0]
	for _, m := range p.masks {
		if p.shared != nil {
			w = append(w, uint32(maskIndex[m]))
		} else {
			w = append(w, uint32(p.rank[m]))
		}
	}
	p.wire[listRanks] = w
	for i := range columns {
		if !p.parsed {
			break // add filled the columns' lists
		}
		col := &columns[i]
		old, nw := p.wire[listCols+i][:0], p.wire[listNew+i][:0]
		if len(p.cols[i]) > 0 {
			vals := p.cols[i]
			for _, m := range p.masks {
				if m&col.group == 0 {
					continue
				}
				if u := toWire(col.kind, vals[0]); m&FlagNew == 0 {
					old = append(old, u)
				} else {
					nw = append(nw, u)
				}
				vals = vals[1:]
			}
		}
		p.wire[listCols+i], p.wire[listNew+i] = old, nw
	}
	if p.parsed {
		for i := range columns { // delta-coded new values, as parse found them
			if p.delta[i] {
				p.deltaList(i)
			}
		}
		return
	}
	for i := range listCols { // add summed the columns' lists
		for _, u := range p.wire[i] {
			p.sum[i] += uint64(u)
		}
	}
	for i := range p.wire {
		p.k[i], _ = riceParam(p.sum[i], len(p.wire[i]))
	}
	for i := range 2 { // the positions' base parameters, coded as base + 8
		p.k[listCols+i], _ = riceParam(p.sumPos[i], len(p.wire[listCols+i]))
	}
	for i := range columns {
		// The values of new records are coded whole or, when that is shorter, each as
		// its difference from the previous one (columns that most entities share a
		// value of: Speed, Machine, Team…).
		nw := listNew + i
		p.delta[i] = false
		if n := len(p.wire[nw]); n >= 2 {
			_, whole := riceParam(p.sum[nw], n)
			if k, d := riceParam(p.dsum[i], n); d+1 < whole {
				p.delta[i], p.k[nw] = true, k
				p.deltaList(i)
			}
		}
	}
}

// deltaList replaces the whole values of column i's new records in p.wire by their
// delta codes (using p.dw, swapped in).
func (p *payload) deltaList(i int) {
	kind, nw := columns[i].kind, listNew+i
	d := p.dw[:0]
	var prev uint16
	for _, u := range p.wire[nw] {
		v, _ := fromWire(kind, u)
		d = append(d, toDelta(kind, v, prev))
		prev = v
	}
	p.wire[nw], p.dw = d, p.wire[nw]
}

// bitWriter appends bits to a byte slice, least significant bit first. Whole bytes
// go out at once: acc holds the n < 8 bits of the last partial byte, and each code is
// stored with one 8-byte write (into room reserve made) instead of a branch per word.
type bitWriter struct {
	b   []byte
	acc uint64
	n   uint
}

// reserve makes room in w.b for k codes of up to 32 bits each and the slack of the
// 8-byte stores.
func (w *bitWriter) reserve(k int) {
	if need := 4*k + 8; cap(w.b)-len(w.b) < need {
		w.b = slices.Grow(w.b, need)
	}
}

// write appends the n ≤ 32 low bits of v (v < 1<<n).
func (w *bitWriter) write(v uint32, n uint) {
	w.reserve(1)
	b, pos := w.b[:cap(w.b)], len(w.b)
	acc := w.acc | uint64(v)<<w.n
	n += w.n
	binary.LittleEndian.PutUint64(b[pos:], acc)
	w.b = b[:pos+int(n>>3)]
	w.acc, w.n = acc>>(n&^7), n&7
}

// rice writes u Rice-coded with parameter k.
func (w *bitWriter) rice(u uint32, k int) {
	us := [1]uint32{u}
	w.riceList(us[:], k, nil)
}

// riceList writes the numbers us (≤ 65535: an escape codes 16 bits) Rice-coded,
// number j with parameter base + shifts[j] within 0..15 (base alone when shifts is
// nil), with the writer's state in
// registers and no branch on the output: the encoder's hottest loop.
func (w *bitWriter) riceList(us []uint32, base int, shifts []uint8) {
	w.reserve(len(us))
	b, pos := w.b[:cap(w.b)], len(w.b)
	acc, n := w.acc, w.n
	if shifts != nil {
		shifts = shifts[:len(us)]
	}
	k := uint(min(max(base, 0), maxRiceK))
	for j, u := range us {
		if shifts != nil {
			k = uint(min(max(base+int(shifts[j]), 0), maxRiceK))
		}
		var v uint64
		var l uint
		if q := uint(u >> k); q < riceEscape {
			v, l = uint64(u&(1<<k-1))<<(q+1)|(1<<q-1), q+1+k
		} else {
			v, l = 1<<riceEscape-1|uint64(u&0xffff)<<riceEscape, riceEscape+16
		}
		acc |= v << n
		n += l // ≤ 7 + 32
		binary.LittleEndian.PutUint64(b[pos:pos+8], acc)
		pos += int(n >> 3)
		acc >>= n &^ 7
		n &= 7
	}
	w.b, w.acc, w.n = b[:pos], acc, n
}

// flush pads the last byte with zero bits and returns the bytes.
func (w *bitWriter) flush() []byte {
	if w.n > 0 {
		w.b = append(w.b, byte(w.acc))
	}
	w.acc, w.n = 0, 0
	return w.b
}

// The fixed Rice parameters of the payload's counts: removals (mostly none), records
// (tens), distinct masks (about ten) less one.
const (
	remCountK  = 0
	recCountK  = 5
	dictCountK = 2
)

// commonMasks are the masks most snapshots' dictionaries hold, the most frequent
// first (measured on the shard's scripted world, the load run's players and walkers).
// A dictionary entry is coded as its index in the order of all 256 masks that starts
// with these and goes on with the others ascending (maskIndex; maskAt inverts it):
// 4 to 6 bits for the common ones instead of 8.
var commonMasks = [...]uint8{
	0x01, 0x07, 0x1f, 0x3f, 0x1d, 0x17, 0x3d, 0x20, 0x05, 0x21, 0x27, 0x37, 0x18, 0x0f, 0x25, 0x38,
	0x10, 0x1b, 0x13, 0xdf, 0x08, 0x30, 0x2f, 0x0d, 0xc1, 0x3c, 0xd9, 0xff, 0x03, 0x33, 0x3b, 0x1c,
}

var maskIndex, maskAt [256]uint8

func init() {
	var listed [256]bool
	for i, m := range commonMasks {
		maskIndex[m], maskAt[i], listed[m] = uint8(i), m, true
	}
	i := len(commonMasks)
	for m := range 256 {
		if !listed[m] {
			maskIndex[m], maskAt[i] = uint8(i), uint8(m)
			i++
		}
	}
}

// append appends the payload layout of p to b, coded with the parameters parse read
// or else the best ones. Lists must be ascending and the columns consistent with the
// masks (as add keeps them). Bytes of b's capacity beyond the result may be written
// (the bit writer stores 8 bytes at a time).
func (p *payload) append(b []byte) []byte {
	p.wireLists()
	w := bitWriter{b: b}
	w.rice(uint32(len(p.rem)), remCountK)
	w.rice(uint32(len(p.ids)), recCountK)
	if p.predSame {
		w.write(1, 1)
	} else {
		w.write(0, 1)
		w.write(uint32(p.predK[0])|uint32(p.predK[1])<<16, 32)
	}
	list := func(i int) {
		if p.shared != nil && i != listDict {
			p.k[i] = p.shared[i]
		} else {
			w.write(uint32(p.k[i]), 4)
		}
		w.riceList(p.wire[i], int(p.k[i]), nil)
	}
	if len(p.rem) > 0 {
		list(listRem)
	}
	if len(p.ids) > 0 {
		if !p.byMembers {
			list(listIDs)
		} else {
			for _, bit := range p.memberBit {
				w.write(uint32(bit), 1)
			}
			if len(p.extra) > 0 {
				list(listIDs)
			}
		}
		if p.shared == nil {
			w.rice(uint32(len(p.dict)-1), dictCountK)
			list(listDict)
		}
		list(listRanks)
	}
	for i := range columns {
		if len(p.cols[i]) == 0 {
			continue
		}
		// The parameters of the present classes, then the values in record order.
		old, nw := p.wire[listCols+i], p.wire[listNew+i]
		if p.shared != nil {
			p.k[listCols+i] = p.shared[listCols+i]
		}
		ko, kn := uint(p.k[listCols+i]), uint(p.k[listNew+i])
		if len(old) > 0 && p.shared == nil {
			w.write(uint32(ko), 4)
		}
		if len(nw) > 0 {
			w.write(uint32(b2i(p.delta[i]))|uint32(kn)<<1, 5)
		}
		if i < 2 { // position deltas: base (coded + 8) plus each record's age shift
			w.riceList(old, int(p.k[listCols+i])-8, p.posShift)
		} else {
			w.riceList(old, int(ko), nil)
		}
		w.riceList(nw, int(kn), nil)
	}
	return w.flush()
}

// bitReader reads what bitWriter wrote. A read past the end sets bad.
type bitReader struct {
	b   []byte
	off int
	acc uint64
	n   uint
	bad bool
}

func (r *bitReader) refill() {
	if r.off+8 <= len(r.b) { // whole bytes up to 56+ bits with one load
		r.acc |= binary.LittleEndian.Uint64(r.b[r.off:]) << r.n
		r.off += int(63-r.n) >> 3
		r.n |= 56
		return
	}
	for r.n <= 56 && r.off < len(r.b) {
		r.acc |= uint64(r.b[r.off]) << r.n
		r.off++
		r.n += 8
	}
}

func (r *bitReader) read(n uint) uint32 {
	if r.n < n {
		r.refill()
		if r.n < n {
			r.bad = true
			return 0
		}
	}
	v := uint32(r.acc & (1<<n - 1))
	r.acc >>= n
	r.n -= n
	return v
}

// rice reads a Rice-coded number with parameter k, rejecting an escape that codes a
// number the short form codes (encodings are canonical).
func (r *bitReader) rice(k uint) uint32 {
	if r.n < riceEscape+1+maxRiceK {
		r.refill()
	}
	q := uint(bits.TrailingZeros64(^r.acc)) // the one bits; acc is 0 beyond n
	if q >= riceEscape {
		r.acc >>= riceEscape
		r.n -= riceEscape
		u := r.read(16)
		if u>>k < riceEscape {
			r.bad = true
		}
		return u
	}
	if q+1+k > r.n {
		r.bad = true
		return 0
	}
	r.acc >>= q + 1
	r.n -= q + 1
	return uint32(q)<<k | r.read(k)
}

// parse decodes a payload into p, checking every length and value before using it;
// src holds the table the payload applies to (its baseline with the merged
// snapshots), snap the snapshot's id: the positions' parameters depend on how old
// the values of the records' entities are. It returns ErrCorrupt unwrapped on any
// malformation.
func (p *payload) parse(b []byte, snap uint32, src seenSource) error {
	p.reset()
	r := bitReader{b: b}
	nrem, nrec := int(r.rice(remCountK)), int(r.rice(recCountK))
	// Every number takes at least one bit: a cheap bound before reading.
	if r.bad || 8*(len(b)-r.off)+int(r.n) < nrem+2*nrec {
		return ErrCorrupt
	}
	if p.predSame = r.read(1) == 1; p.predSame {
		k, ok := src.basePredK()
		if !ok {
			return ErrCorrupt // no baseline to take it from
		}
		p.predK = k
	} else {
		p.predK = [2]uint16{uint16(r.read(16)), uint16(r.read(16))}
	}
	var ok bool
	sh := p.shared
	if sh != nil {
		p.k[listRem], p.k[listIDs] = sh[listRem], sh[listIDs]
	}
	if nrem > 0 {
		if p.rem, ok = r.ids(p.rem, nrem, &p.k[listRem], sh == nil); !ok {
			return ErrCorrupt
		}
	}
	var groups, newGroups [8]int
	if nrec > 0 && sh != nil {
		if !p.readIDs(&r, nrec, false) {
			return ErrCorrupt
		}
		p.k[listRanks] = sh[listRanks]
		for range nrec {
			i := r.rice(uint(sh[listRanks]))
			if i > 255 || r.bad {
				return ErrCorrupt
			}
			m := maskAt[i]
			p.masks = append(p.masks, m)
			for g := range 8 {
				groups[g] += int(m >> g & 1)
				if m&FlagNew != 0 {
					newGroups[g] += int(m >> g & 1)
				}
			}
		}
	} else if nrec > 0 {
		if !p.readIDs(&r, nrec, true) {
			return ErrCorrupt
		}
		d := int(r.rice(dictCountK)) + 1
		if d > nrec || r.bad {
			return ErrCorrupt
		}
		kd := r.read(4)
		p.k[listDict] = uint8(kd)
		for range d { // reset left hist zero and dict empty
			i := r.rice(uint(kd))
			if i > 255 || r.bad {
				return ErrCorrupt
			}
			m := maskAt[i]
			if p.hist[m] != 0 {
				return ErrCorrupt // a mask twice
			}
			p.hist[m] = 1
			p.dict = append(p.dict, m)
		}
		k := r.read(4)
		p.k[listRanks] = uint8(k)
		for range nrec {
			i := r.rice(uint(k))
			if i >= uint32(d) || r.bad {
				return ErrCorrupt
			}
			m := p.dict[i]
			p.masks = append(p.masks, m)
			for g := range 8 {
				groups[g] += int(m >> g & 1)
			}
			if m&FlagNew != 0 {
				for g := range 8 {
					newGroups[g] += int(m >> g & 1)
				}
			}
		}
	}
	for i := range columns {
		col := &columns[i]
		g := bits.TrailingZeros8(col.group)
		if groups[g] == 0 {
			continue
		}
		if groups[g] > newGroups[g] {
			if sh != nil {
				p.k[listCols+i] = sh[listCols+i]
			} else {
				p.k[listCols+i] = uint8(r.read(4))
			}
		}
		p.delta[i] = false
		if newGroups[g] > 0 {
			p.delta[i] = r.read(1) == 1
			p.k[listNew+i] = uint8(r.read(4))
		}
		// The values of the records that are not new, then those of the new ones.
		ko, kn := uint(p.k[listCols+i]), uint(p.k[listNew+i])
		vals := p.cols[i]
		if i == 0 && groups[g] > newGroups[g] { // the position records' ages and the prediction's scale
			for j, m := range p.masks {
				if m&GroupPos != 0 && m&FlagNew == 0 {
					var age uint32
					if seen, ok := src.seenOf(p.ids[j]); ok {
						age = snap - seen
					}
					p.posShift, p.posAge = append(p.posShift, ageShift(age)), append(p.posAge, min(age, maxPredAge))
				}
			}
		}
		for j := range groups[g] - newGroups[g] {
			k := ko
			if i < 2 {
				k = posK(p.k[listCols+i], p.posShift[j])
			}
			v, ok := fromWire(col.kind, r.rice(k))
			if !ok || r.bad {
				return ErrCorrupt
			}
			vals = append(vals, v)
		}
		var prev uint16 // the previous new record's value
		for range newGroups[g] {
			var v uint16
			var ok bool
			if p.delta[i] {
				v, ok = fromDelta(col.kind, r.rice(kn), prev)
				prev = v
			} else {
				v, ok = fromWire(col.kind, r.rice(kn))
			}
			if !ok || r.bad {
				return ErrCorrupt
			}
			vals = append(vals, v)
		}
		if newGroups[g] > 0 && newGroups[g] < groups[g] { // both: into record order
			p.scratch = append(p.scratch[:0], vals...)
			old, nw := p.scratch[:groups[g]-newGroups[g]], p.scratch[groups[g]-newGroups[g]:]
			vals = vals[:0]
			for _, m := range p.masks {
				switch {
				case m&col.group == 0:
				case m&FlagNew == 0:
					vals, old = append(vals, old[0]), old[1:]
				default:
					vals, nw = append(vals, nw[0]), nw[1:]
				}
			}
		}
		p.cols[i] = vals
	}
	if p.prefix && !r.bad {
		used := 8*r.off - int(r.n)
		pad := -used & 7
		if r.acc&(1<<pad-1) != 0 {
			return ErrCorrupt // padding that is not zero
		}
		p.consumed = (used + pad) / 8
	} else if r.bad || r.off != len(r.b) || r.n >= 8 || r.acc != 0 {
		return ErrCorrupt // short, trailing bytes, or padding that is not zero
	}
	for _, m := range p.masks {
		if m&FlagNew != 0 {
			p.news++
		}
	}
	p.parsed = true
	return nil
}

// seenSource is the table a payload applies to ([Table] and the tests' reference
// tables): seenOf tells which snapshot wrote the value of entity id, if the table
// holds it; basePredK returns the prediction scale of the baseline's snapshot, if the
// table is a baseline's (not the empty table).
type seenSource interface {
	seenOf(id uint16) (uint32, bool)
	basePredK() ([2]uint16, bool)
}

// readIDs reads the ids of nrec records into p.ids, the Rice parameter of the gaps
// first when readK (see the byMembers field).
func (p *payload) readIDs(r *bitReader, nrec int, readK bool) bool {
	var ok bool
	if !p.byMembers {
		p.ids, ok = r.ids(p.ids, nrec, &p.k[listIDs], readK)
		return ok
	}
	held := p.scratch[:0]
	for _, m := range p.members {
		if r.read(1) == 1 {
			held = append(held, m)
		}
	}
	p.scratch = held
	if r.bad || len(held) > nrec {
		return false
	}
	p.extra = p.extra[:0]
	if n := nrec - len(held); n > 0 {
		if p.extra, ok = r.ids(p.extra, n, &p.k[listIDs], readK); !ok {
			return false
		}
	}
	// Both ascending: merge them. An id that is a member is coded by its bit only.
	j, mi := 0, 0
	for _, id := range p.extra {
		for mi < len(p.members) && p.members[mi] < id {
			mi++
		}
		if mi < len(p.members) && p.members[mi] == id {
			return false
		}
		for j < len(held) && held[j] < id {
			p.ids = append(p.ids, held[j])
			j++
		}
		p.ids = append(p.ids, id)
	}
	p.ids = append(p.ids, held[j:]...)
	return true
}

// ids reads n Rice-coded id gaps into dst as ascending ids ≤ MaxWireID, with the
// parameter *kp, read first (into *kp) when readK.
func (r *bitReader) ids(dst []uint16, n int, kp *uint8, readK bool) ([]uint16, bool) {
	if readK {
		*kp = uint8(r.read(4))
	}
	k := uint32(*kp)
	prev := uint32(0)
	for range n {
		prev += r.rice(uint(k)) + 1
		if prev > MaxWireID || r.bad {
			return dst, false
		}
		dst = append(dst, uint16(prev))
	}
	return dst, true
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
	if h.ID == 0 || (h.Base != 0 && h.ID-h.Base-1 >= MaxBaseDistance) {
		// h.ID-h.Base in [1, MaxBaseDistance], modulo 2^32
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
