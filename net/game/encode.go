package game

import (
	"fmt"
	"math/bits"

	"github.com/klauspost/compress/zstd"

	"github.com/shardsim/shardsim/ecs"
)

// DefaultBytesPerSnapshot is the bandwidth budget NewClientView sets: 400 bytes per
// snapshot is 64 kbit/s at 20 snapshots per second.
const DefaultBytesPerSnapshot = 400

// MaxRemovalsPerSnapshot bounds the removals one snapshot carries; the rest follow.
const MaxRemovalsPerSnapshot = 256

// ClientView is the server's per-client snapshot state: the table the client holds at its
// newest usable ack (the delta baseline), the priority accumulators of interest
// management, a bandwidth budget and the snapshots in flight. One goroutine at a time
// may use a view.
type ClientView struct {
	// Self is the client's own entity: always sent first when it changed, and the centre
	// of interest.
	Self ecs.NetID
	// BytesPerSnapshot is the average snapshot size the view aims for (a token bucket
	// refilled by this much per snapshot, holding at most MaxPacket).
	BytesPerSnapshot int

	credit int
	est    int // estimated compressed bytes per record, ×256

	// The baseline: the client's table as of snapshot base (0 = empty table).
	base  uint32
	ents  []Entity
	live  []bool
	count int
	sum   uint64

	acc  []uint32 // priority accumulator per NetID
	sent [KeepTables]sentSnap
}

// sentSnap remembers what a snapshot in flight changed, to adopt it as the baseline once
// acked.
type sentSnap struct {
	id, base uint32
	ids      []uint16 // entities written (values are those of frame id)
	rem      []uint16 // entities removed
	sum      uint64
	count    int
}

// NewClientView returns the view of a new client whose entity is self.
func NewClientView(self ecs.NetID) *ClientView {
	v := &ClientView{Self: self, BytesPerSnapshot: DefaultBytesPerSnapshot}
	v.Reset()
	return v
}

// Reset forgets the baseline and the snapshots in flight: the next snapshot is full (and
// as large as the budget allows).
func (v *ClientView) Reset() {
	v.base, v.count, v.sum = 0, 0, 0
	clear(v.live)
	for i := range v.sent {
		v.sent[i].id = 0
	}
	v.credit = MaxPacket
	v.est = 4 << 8
}

// Baseline returns the snapshot id the next delta is encoded against (0 = full).
func (v *ClientView) Baseline() uint32 { return v.base }

// Ack records the client's ack. Among the acked snapshots it adopts the newest one that
// was encoded against the current baseline and whose frame ring still holds its frame:
// the client's table for it is then known exactly. Acks for other snapshots carry no
// usable information and are ignored, as are acks from the past.
func (v *ClientView) Ack(ring *FrameRing, a Ack) {
	var best *sentSnap
	for i := range v.sent {
		s := &v.sent[i]
		if s.id == 0 || s.base != v.base || !a.Has(s.id) {
			continue
		}
		if best == nil || int32(s.id-best.id) > 0 {
			best = s
		}
	}
	if best == nil {
		return
	}
	f := ring.Frame(best.id)
	if f == nil {
		return
	}
	n := len(f.live)
	for _, id := range best.rem {
		v.live[id] = false
	}
	if len(v.live) < n {
		v.ents = extend(v.ents, n)
		v.live = extend(v.live, n)
	}
	for _, id := range best.ids {
		v.ents[id] = f.ents[id]
		v.live[id] = true
	}
	v.base, v.sum, v.count = best.id, best.sum, best.count
	for i := range v.sent {
		if s := &v.sent[i]; s.id != 0 && s.base != v.base {
			s.id = 0 // encoded against an older baseline: never usable now
		}
	}
}

// extend returns s lengthened to n elements (if shorter), keeping its content and
// zeroing the new elements.
func extend[T any](s []T, n int) []T {
	old := len(s)
	if n <= old {
		return s
	}
	if cap(s) < n {
		ns := make([]T, n, n+n/4)
		copy(ns, s)
		return ns
	}
	s = s[:n]
	clear(s[old:])
	return s
}

// Encoder builds snapshots for clients from a shared [Frame]. It holds a zstd encoder and
// scratch buffers, so encoding allocates nothing in steady state. One goroutine at a time
// may use an encoder; run one per worker.
type Encoder struct {
	z       *zstd.Encoder
	p       payload
	raw     []byte
	keys    []uint8  // priority key per candidate
	cands   []uint16 // changed entities in NetID order
	order   []uint16 // candidates by priority
	hist    [256]int32
	picked  []uint64 // bitmap of picked ids
	removed []uint16

	// Stats of the last AppendSnapshot.
	Stats EncodeStats
}

// EncodeStats describes the last snapshot an [Encoder] produced.
type EncodeStats struct {
	Changed  int // entities differing from the baseline (candidates)
	Records  int // entity records sent
	Removals int // removals sent
	Raw      int // uncompressed payload bytes
	Size     int // message bytes (header + zstd frame)
	Tries    int // compressions needed to fit the budget
}

// NewEncoder returns an encoder. Frames are single zstd frames with checksums, no
// dictionary, at zstd's default level.
func NewEncoder() *Encoder {
	z, err := zstd.NewWriter(nil,
		zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(true),
		zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithWindowSize(zstd.MinWindowSize<<6), // 64 KiB ≥ MaxPayload
		zstd.WithLowerEncoderMem(true),
	)
	if err != nil {
		panic(err) // fixed options
	}
	return &Encoder{z: z}
}

// weight is the priority a changed entity r grid cells away (Chebyshev) gains per
// snapshot while not sent: 1+64/(1+r²), so 65 in the own cell, 33 next to it, 1 from
// 8 cells (128 m) on. Entities the client does not hold yet gain 4 times as much.
func weight(r uint32) uint32 { return 1 + 64/(1+r*r) }

// priorityKey maps an accumulator to 0..239, monotonic, logarithmic above 16.
func priorityKey(acc uint32) uint8 {
	if acc < 16 {
		return uint8(acc)
	}
	e := uint32(bits.Len32(acc)) // 5..32
	return uint8(16 + (e-5)*8 + (acc>>(e-4))&7)
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// AppendSnapshot appends to dst the snapshot of frame cur for the client of view v: a
// delta against v's baseline of the entities that changed, the most relevant first, as
// many as fit v's bandwidth budget and MaxPacket; v's own entity always goes first. It
// records the snapshot in v so that a later ack can make it the baseline. Frames must be
// passed in increasing id order; an error means cur is not newer than v's baseline.
func (e *Encoder) AppendSnapshot(dst []byte, cur *Frame, v *ClientView) ([]byte, error) {
	if v.base != 0 && int32(cur.ID-v.base) <= 0 {
		return dst, fmt.Errorf("game: frame %d is not newer than the client's baseline %d", cur.ID, v.base)
	}
	if v.base != 0 && cur.ID-v.base >= KeepTables {
		v.Reset() // the client may have dropped the baseline table: start over
	}
	// Token bucket: refill, cap to one packet.
	v.credit = min(v.credit+v.BytesPerSnapshot, MaxPacket)
	budget := max(v.credit, 128) - SnapshotHeaderSize // self and a few always fit

	n := max(len(cur.live), len(v.live))
	if len(v.live) < n {
		v.ents = extend(v.ents, n)
		v.live = extend(v.live, n)
	}
	v.acc = extend(v.acc, n)

	// Candidates: removed entities, and entities new or changed against the baseline.
	e.cands, e.keys, e.removed = e.cands[:0], e.keys[:0], e.removed[:0]
	var selfCell uint32
	selfLive := cur.has(int(v.Self))
	if selfLive {
		selfCell = cur.cell[v.Self]
	}
	e.hist = [256]int32{}
	for id := 1; id < n; id++ {
		inCur, inBase := cur.has(id), v.live[id]
		if !inCur {
			v.acc[id] = 0
			if inBase && len(e.removed) < MaxRemovalsPerSnapshot {
				e.removed = append(e.removed, uint16(id))
			}
			continue
		}
		if inBase && v.ents[id] == cur.ents[id] {
			v.acc[id] = 0
			continue
		}
		if id == int(v.Self) {
			continue // always sent, first
		}
		var r uint32
		if selfLive {
			c := cur.cell[id]
			r = max(absDiff(c&0xffff, selfCell&0xffff), absDiff(c>>16, selfCell>>16))
		}
		wt := weight(r)
		if !inBase {
			wt *= 4 // an entity the client does not know is worth more than a refresh
		}
		a := v.acc[id] + wt
		if a < v.acc[id] {
			a = ^uint32(0)
		}
		v.acc[id] = a
		k := priorityKey(a)
		e.cands = append(e.cands, uint16(id))
		e.keys = append(e.keys, k)
		e.hist[k]++
	}
	// Counting sort by key, descending; ties stay in NetID order.
	var pos [256]int32
	var at int32
	for k := 255; k >= 0; k-- {
		pos[k] = at
		at += e.hist[k]
	}
	e.order = grow(e.order, len(e.cands))
	for i, id := range e.cands {
		k := e.keys[i]
		e.order[pos[k]] = id
		pos[k]++
	}
	selfChanged := selfLive && !(v.live[v.Self] && v.ents[v.Self] == cur.ents[v.Self])

	// Fit: guess how many records fit from the learned compressed size per record, then
	// shrink until the frame fits the budget.
	nrem := len(e.removed)
	k := len(e.order)
	if guess := (budget - 24 - 2*nrem) * 256 / max(v.est, 64); guess < k {
		k = max(guess, 0)
	}
	start := len(dst)
	var size int
	tries := 0
	for {
		tries++
		e.build(cur, v, k, nrem, selfChanged)
		e.raw = e.p.append(e.raw[:0])
		dst = AppendSnapshotHeader(dst[:start], &SnapshotHeader{ID: cur.ID, Base: v.base, Tick: cur.Tick, Size: uint32(len(e.raw))})
		dst = e.z.EncodeAll(e.raw, dst)
		size = len(dst) - start
		over := size - SnapshotHeaderSize - budget
		if over <= 0 || (k == 0 && nrem == 0) {
			break
		}
		if k > 0 {
			k = min(k-1, k*budget/(budget+over)-1)
			k = max(k, 0)
		} else {
			nrem /= 2
		}
	}
	if recs := len(e.p.ids); recs > 0 {
		per := (size - SnapshotHeaderSize - 16) * 256 / recs
		v.est = (3*v.est + max(per, 64)) / 4
	}
	v.credit -= size
	for _, id := range e.p.ids {
		v.acc[id] = 0
	}

	// Record the snapshot and the hash of the table it leaves the client with.
	s := &v.sent[cur.ID%KeepTables]
	s.id, s.base = cur.ID, v.base
	s.ids = append(s.ids[:0], e.p.ids...)
	s.rem = append(s.rem[:0], e.p.rem...)
	sum, count := v.sum, v.count
	for _, id := range e.p.rem {
		sum -= HashEntity(ecs.NetID(id), &v.ents[id])
		count--
	}
	for i, id := range e.p.ids {
		if e.p.masks[i]&FlagNew != 0 {
			count++
		} else {
			sum -= HashEntity(ecs.NetID(id), &v.ents[id])
		}
		sum += cur.hash[id]
	}
	s.sum, s.count = sum, count
	putUint64(dst[start+17:], tableHash(sum, count))

	e.Stats = EncodeStats{Changed: len(e.cands) + b2i(selfChanged), Records: len(e.p.ids), Removals: len(e.p.rem),
		Raw: len(e.raw), Size: size, Tries: tries}
	return dst, nil
}

var zeroEntity Entity // the baseline of a new entity; never written

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func putUint64(b []byte, v uint64) {
	_ = b[7]
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}

// build fills e.p with self (if changed), the first nrem removals and the first k
// entities by priority, in NetID order.
func (e *Encoder) build(cur *Frame, v *ClientView, k, nrem int, self bool) {
	p := &e.p
	p.reset()
	p.rem = append(p.rem, e.removed[:nrem]...)
	words := (len(cur.live) + 63) / 64
	e.picked = grow(e.picked, words)
	clear(e.picked)
	if self {
		e.picked[v.Self/64] |= 1 << (v.Self % 64)
	}
	for _, id := range e.order[:k] {
		e.picked[id/64] |= 1 << (id % 64)
	}
	for w, word := range e.picked {
		for word != 0 {
			id := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			c := &cur.ents[id]
			if v.live[id] {
				b := &v.ents[id]
				p.add(uint16(id), diffMask(b, c), b, c)
			} else {
				p.add(uint16(id), diffMask(&zeroEntity, c)|FlagNew, &zeroEntity, c)
			}
		}
	}
}
