package game

import (
	"bytes"
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
// newest usable ack with the acked snapshots it merges (the delta baseline, see doc.go
// "Merging"), the priority accumulators of interest management, a bandwidth budget and
// the snapshots in flight. One goroutine at a time may use a view.
type ClientView struct {
	// Self is the client's own entity: always sent first when it changed, and the centre
	// of interest.
	Self ecs.NetID
	// BytesPerSnapshot is the average snapshot size the view aims for (a token bucket
	// refilled by this much per snapshot, holding at most MaxPacket).
	BytesPerSnapshot int

	credit int
	est    int // estimated compressed bytes per record, ×256

	// The baseline: the client's table as of snapshot base (0 = empty table), with the
	// merged snapshots merged into it: what the client applies the next snapshot's
	// records to. merged is a bitmap of sent slots (by snapshot id mod KeepTables): a
	// merged snapshot was acked but not adopted, so the client holds it, and the next
	// snapshots name it for the client to merge its records too (see doc.go: no acked
	// record is wasted when acks arrive after the next snapshots were encoded).
	// The other slots with an id are in flight.
	base   uint32
	merged uint32
	// basePredK: the position prediction's scale of the baseline's frame, which the
	// client's baseline table has too (a snapshot with the same one says so in a bit).
	basePredK [2]uint16
	held      []uint64 // bitmap of the entities held
	count     int
	sum       uint64
	// The baseline alone, without the merged snapshots: the frame whose value of each
	// NetID the client's table of snapshot base holds, and which NetIDs it holds. A
	// merged snapshot that leaves the client's reach before a snapshot naming it was
	// adopted is taken out of the view's table with them (see unmerge).
	baseAt   []uint32
	baseHeld []uint64
	// retired: merged snapshots unmerge took out of the view's table, by id mod
	// 2·KeepTables, with their records' NetIDs: a snapshot that named one may still
	// be adopted (the client's table of it has its records) while it is in flight, up
	// to 2·KeepTables − 2 ids after it.
	retired [2 * KeepTables]retiredSnap

	st     []entState // per NetID
	fresh  bool       // st must be initialized (after Reset)
	cursor int        // next NetID of the far sweep
	carry  []uint16   // best candidates left unsent by the last snapshot

	// The snapshots sent, by id mod KeepTables: their ids (0 = free slot), baselines and
	// merge bits (as in their header) apart from the rest, so that an ack scans a few
	// contiguous cache lines.
	sentID, sentBase, sentMerge [KeepTables]uint32
	sent                        [KeepTables]sentSnap
	wasted                      int // records sent in snapshots that never reached the client's baseline
}

// entState is a view's per-entity state.
type entState struct {
	hash  uint64 // entity hash of the value held (if held; the value itself is in frame at)
	at    uint32 // frame whose value of the entity the baseline holds (if it holds it)
	acc   uint32 // priority accumulated while it differs from the baseline and is not sent
	seen  uint32 // snapshot up to which acc is accumulated
	since uint32 // snapshot since which acc accumulates (last sent or found current)
}

// retiredSnap is a merged snapshot taken out of the view's table (see unmerge).
type retiredSnap struct {
	id  uint32
	ids []uint16
}

// sentSnap remembers what a snapshot in flight changed, to adopt it as the baseline once
// acked (its id and baseline are in ClientView.sentID and sentBase).
type sentSnap struct {
	ids  []uint16 // entities written (values are those of the snapshot's frame)
	wait []uint16 // per record: id − the entity's since before this snapshot (saturated)
	rem  []uint16 // entities removed
}

// NewClientView returns the view of a new client whose entity is self.
func NewClientView(self ecs.NetID) *ClientView {
	v := &ClientView{Self: self, BytesPerSnapshot: DefaultBytesPerSnapshot}
	v.Reset()
	return v
}

// Reset forgets the baseline and the snapshots in flight: the next snapshot is full (as
// large as the budget allows). The budget's token bucket is kept: a new view starts
// empty (its first snapshot has BytesPerSnapshot), and resets do not add to it, so a
// client's downlink stays within BytesPerSnapshot per snapshot, give or take the last
// snapshot's overshoot (at most BytesPerSnapshot/8).
func (v *ClientView) Reset() {
	v.base, v.merged, v.count, v.sum = 0, 0, 0, 0
	clear(v.held)
	clear(v.baseHeld)
	for i := range v.retired {
		v.retired[i].id = 0
	}
	v.sentID = [KeepTables]uint32{}
	v.est = 4 << 8
	v.fresh = true
	v.carry = v.carry[:0]
}

// Baseline returns the snapshot id the next delta is encoded against (0 = full).
func (v *ClientView) Baseline() uint32 { return v.base }

func (v *ClientView) holds(id int) bool {
	w := id / 64
	return w < len(v.held) && v.held[w]&(1<<(id%64)) != 0
}

// size makes room in v for NetIDs below n.
func (v *ClientView) size(n int) {
	if len(v.st) < n {
		v.st = extend(v.st, n)
		v.baseAt = extend(v.baseAt, n)
	}
	v.held = extend(v.held, (len(v.st)+63)/64)
	v.baseHeld = extend(v.baseHeld, len(v.held))
}

// Ack records the client's ack. Among the acked snapshots it adopts the newest one that
// was encoded against the current baseline: the client's table for it is then known
// exactly (the baseline, the snapshots it merged, its records). The other acked
// snapshots are merged: the next snapshots name them, and the client merges their
// records into the baseline before applying the delta; the view merges them at once.
// Acks for snapshots no longer in flight are ignored.
func (v *ClientView) Ack(ring *FrameRing, a Ack) {
	bi := -1
	for i, id := range v.sentID {
		if id == 0 || v.merged&(1<<i) != 0 || v.sentBase[i] != v.base || !a.Has(id) || ring.Frame(id) == nil {
			continue
		}
		if bi < 0 || int32(id-v.sentID[bi]) > 0 {
			bi = i
		}
	}
	if bi >= 0 {
		v.adopt(ring, bi)
	}
	for i, id := range v.sentID {
		if id != 0 && v.merged&(1<<i) == 0 && a.Has(id) {
			if f := ring.Frame(id); f != nil {
				v.merge(f, v.sent[i].ids, nil, nil)
				v.merged |= 1 << i
			}
		}
	}
}

// adopt makes the sent snapshot in slot bi, encoded against the current baseline, the
// baseline. The client's table for it is the baseline, the snapshots merged when it
// was encoded, then its removals and records; the snapshots merged since (the view's
// table holds them already) are merged into that: where they wrote entities that the
// adopted snapshot's removals or records touched, they win if newer (a removed entity
// comes back).
func (v *ClientView) adopt(ring *FrameRing, bi int) {
	sid, s := v.sentID[bi], &v.sent[bi]
	f := ring.Frame(sid)
	v.size(len(f.live))
	var named uint32   // slots of the snapshots it merged
	var retired uint64 // those that unmerge took out of the view since, by index in v.retired
	for x := v.sentMerge[bi]; x != 0; x &= x - 1 {
		m := sid - 1 - uint32(bits.TrailingZeros32(x))
		if slot := m % KeepTables; v.sentID[slot] == m {
			named |= 1 << slot
		} else if r := m % (2 * KeepTables); v.retired[r].id == m {
			retired |= 1 << r
			if ring.Frame(m) == nil {
				v.Reset()
				return
			}
		}
	}
	for x := v.merged &^ named; x != 0; x &= x - 1 {
		if ring.Frame(v.sentID[bits.TrailingZeros32(x)]) == nil {
			v.Reset() // a ring shallower than KeepTables lost a merged frame: start over
			return
		}
	}
	// The baseline alone becomes the client's table of the adopted snapshot: the old
	// baseline with the snapshots it named merged, then its removals and records.
	mergeBase := func(mid uint32, ids []uint16) {
		for _, id := range ids {
			if !bitSet(v.baseHeld, int(id)) || int32(mid-v.baseAt[id]) > 0 {
				v.baseHeld[id/64] |= 1 << (id % 64)
				v.baseAt[id] = mid
			}
		}
	}
	for x := named; x != 0; x &= x - 1 {
		i := bits.TrailingZeros32(x)
		mergeBase(v.sentID[i], v.sent[i].ids)
	}
	for x := retired; x != 0; x &= x - 1 {
		r := &v.retired[bits.TrailingZeros64(x)]
		mergeBase(r.id, r.ids)
	}
	for _, id := range s.rem {
		v.baseHeld[id/64] &^= 1 << (id % 64)
	}
	for _, id := range s.ids {
		v.baseHeld[id/64] |= 1 << (id % 64)
		v.baseAt[id] = sid
	}
	for _, id := range s.rem {
		if v.holds(int(id)) {
			v.sum -= v.st[id].hash
			v.count--
			v.held[id/64] &^= 1 << (id % 64)
		}
	}
	for _, id := range s.ids {
		v.set(f, int(id))
	}
	for x := v.merged &^ named; x != 0; x &= x - 1 {
		i := bits.TrailingZeros32(x)
		v.merge(ring.Frame(v.sentID[i]), v.sent[i].ids, s.ids, s.rem)
	}
	// The client merged the retired snapshots it named too, before its removals and
	// records: the view takes their values but where those wrote.
	for x := retired; x != 0; x &= x - 1 {
		r := &v.retired[bits.TrailingZeros64(x)]
		mf := ring.Frame(r.id)
		rem, ids := s.rem, s.ids
		for _, id := range r.ids {
			if inEither(id, &rem, &ids) || v.holds(int(id)) && int32(mf.ID-v.st[id].at) <= 0 {
				continue
			}
			v.set(mf, int(id))
		}
	}
	// The snapshots it merged are in the baseline now: their slots are free, as is its own.
	for x := named | 1<<bi; x != 0; x &= x - 1 {
		i := bits.TrailingZeros32(x)
		v.merged &^= 1 << i
		v.sentID[i] = 0
	}
	v.base, v.basePredK = sid, f.predK
}

// merge merges into the view's table the records ids (ascending) of the snapshot of
// frame mf, as the client does: each entity it does not hold or holds with an older
// value takes the frame's. Non-nil only lists (ascending) restrict it to the ids in
// either of them.
func (v *ClientView) merge(mf *Frame, ids, only1, only2 []uint16) {
	restrict := only1 != nil || only2 != nil
	for _, id := range ids {
		if restrict && !inEither(id, &only1, &only2) {
			continue
		}
		if v.holds(int(id)) && int32(mf.ID-v.st[id].at) <= 0 {
			continue
		}
		v.set(mf, int(id))
	}
}

// set gives entity id the value of frame f in the view's table (written by snapshot
// f.ID), keeping the table hash.
func (v *ClientView) set(f *Frame, id int) {
	if v.holds(id) {
		v.sum -= v.st[id].hash
	} else {
		v.count++
		v.held[id/64] |= 1 << (id % 64)
	}
	v.st[id].hash = f.hash[id]
	v.st[id].at = f.ID
	v.sum += f.hash[id]
}

// unmerge takes the merged snapshot in slot out of the view's table: it leaves the
// client's reach (its slot is reused) before any snapshot naming it was adopted, so
// the client's next tables will not have its records. Each entity whose value in the
// view is the snapshot's gets back the newest of the baseline's and the other merged
// snapshots' values, or is no longer held. A snapshot in flight that named it may
// still be adopted (the client's table of it has its records): v.retired keeps its
// NetIDs for adopt. It reports false when a value to go back to is no longer in the
// ring (the view must then start over).
func (v *ClientView) unmerge(ring *FrameRing, slot int) bool {
	mid := v.sentID[slot]
	others := v.merged &^ (1 << slot)
	var rest [KeepTables][]uint16 // per other merged slot, its ids from the current one on
	for x := others; x != 0; x &= x - 1 {
		i := bits.TrailingZeros32(x)
		rest[i] = v.sent[i].ids
	}
	for _, id := range v.sent[slot].ids {
		if !v.holds(int(id)) || v.st[id].at != mid {
			continue // a newer value replaced the snapshot's
		}
		at, held := v.baseAt[id], bitSet(v.baseHeld, int(id))
		for x := others; x != 0; x &= x - 1 { // ids ascending: each list is walked once
			i := bits.TrailingZeros32(x)
			r := rest[i]
			for len(r) > 0 && r[0] < id {
				r = r[1:]
			}
			rest[i] = r
			if len(r) > 0 && r[0] == id && (!held || int32(v.sentID[i]-at) > 0) {
				at, held = v.sentID[i], true
			}
		}
		v.sum -= v.st[id].hash
		if !held {
			v.count--
			v.held[id/64] &^= 1 << (id % 64)
			continue
		}
		f := ring.valueFrame(int(id), at)
		if f == nil {
			return false
		}
		v.st[id].at, v.st[id].hash = at, f.hash[id]
		v.sum += f.hash[id]
	}
	r := &v.retired[mid%(2*KeepTables)]
	r.id, r.ids = mid, append(r.ids[:0], v.sent[slot].ids...)
	v.unsend(slot)
	v.merged &^= 1 << slot
	v.sentID[slot] = 0
	return true
}

// bitSet reports whether bit i of bitmap b is set.
func bitSet(b []uint64, i int) bool {
	w := i / 64
	return w < len(b) && b[w]&(1<<(i%64)) != 0
}

// inEither reports whether id is in ascending list a or b, for ids asked in ascending
// order: it drops the elements below id from both as it goes.
func inEither(id uint16, a, b *[]uint16) bool {
	for len(*a) > 0 && (*a)[0] < id {
		*a = (*a)[1:]
	}
	for len(*b) > 0 && (*b)[0] < id {
		*b = (*b)[1:]
	}
	return len(*a) > 0 && (*a)[0] == id || len(*b) > 0 && (*b)[0] == id
}

// unsend forgets the sent snapshot in slot, which will never be in the baseline: it was
// lost (not acked within KeepTables snapshots; acked snapshots are adopted or merged).
// Its entities get back the wait they had before it, unless sent again since: an
// overdue entity stays overdue instead of waiting StaleLimit snapshots more.
func (v *ClientView) unsend(slot int) {
	s, sid := &v.sent[slot], v.sentID[slot]
	v.wasted += len(s.ids)
	for j, id := range s.ids {
		if int(id) < len(v.st) && v.st[id].since == sid {
			v.st[id].since = sid - uint32(s.wait[j])
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
	z        *zstd.Encoder
	p        payload
	raw      []byte
	keys     []uint8  // priority key per candidate
	farCands []uint16 // candidates beyond NearRadius, appended to cands after the near ones
	farKeys  []uint8
	cands    []uint16 // candidates in the order examined
	order    []uint16 // candidates by priority
	hist     [256]int32
	picked   []uint64 // bitmap of picked ids
	exam     []uint64 // bitmap of the ids a snapshot examines
	wait     []uint16 // how long the entities written had waited (saturated at 65535)
	touch    uint32   // keeps the prefetching loads of AppendSnapshot alive
	removed  []uint16
	respawn  []uint16  // scratch: held entities whose identity changed (removed, then new)
	bases    []*Entity // scratch: the baseline values of the entities a payload writes
	remBuf   []uint16  // scratch: the removals with the respawned entities

	// The last payload compressed and the frame sent for it: identical payloads (an
	// idle world, a client with nothing to catch up) reuse the frame.
	lastRaw, lastZ []byte
	rle            []byte // scratch: the raw-and-RLE frame of a sampled payload

	// Whether compressing pays: gain[kind] is the running average (×256) of what zstd
	// saved against a frame of raw and RLE blocks (appendRawFrame) on the payloads of
	// that kind compressed; below minZstdGain the encoder stores payloads of that kind
	// in raw and RLE blocks and compresses only one in zstdSampleEvery, to keep
	// measuring. The kinds are mostly-delta payloads (0) and payloads with richPayload
	// or more new entities or removals (1), whose constant columns may compress well.
	gain   [2]int
	sample [2]uint32

	// Stats of the last AppendSnapshot.
	Stats EncodeStats
}

// EncodeStats describes the last snapshot an [Encoder] produced.
type EncodeStats struct {
	Changed  int  // entities found differing from the baseline among those examined (candidates)
	Examined int  // entities examined (near cells, far sweep, carried-over candidates)
	Records  int  // entity records sent
	Removals int  // removals sent
	Raw      int  // uncompressed payload bytes
	Size     int  // message bytes (header + zstd frame)
	Tries    int  // payloads built to fit the budget
	Zstd     bool // the frame is zstd-compressed (otherwise raw and RLE blocks)
}

// Compression policy (see Encoder.gain).
const (
	minZstdGain     = 256 / 10 // 10%
	zstdSampleEvery = 32
	// richPayload is the number of new-entity records or removals from which a payload
	// is of the rich kind: its constant columns (Machine, Speed, Team…) may form
	// matches that zstd takes and RLE blocks do not. A few alone do not.
	richPayload = 8
)

// NewEncoder returns an encoder. Frames are single zstd frames without content
// checksum (the snapshot's state hash checks the decoded result) or dictionary, at
// zstd's fastest level without entropy coding of literals: on payloads of a few
// hundred bytes of Rice codes, Huffman-coding the literals saves nothing
// (klauspost/compress ends up storing them raw) but costs three quarters of the time.
func NewEncoder() *Encoder {
	z, err := zstd.NewWriter(nil,
		zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(false),
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithWindowSize(zstd.MinWindowSize<<6), // 64 KiB ≥ MaxPayload
		zstd.WithLowerEncoderMem(true),
		zstd.WithNoEntropyCompression(true),
	)
	if err != nil {
		panic(err) // fixed options
	}
	return &Encoder{z: z}
}

// Interest management: which entities a snapshot examines (see doc.go).
const (
	// NearRadius is the radius, in cells (Chebyshev), of the square around the client's
	// own entity whose entities every snapshot examines.
	NearRadius = 1
	// SweepPeriod is the number of snapshots in which the far sweep examines every
	// NetID once: each snapshot examines the next 1/SweepPeriod of the NetID range.
	SweepPeriod = 32
	// StaleLimit is the number of snapshots after which an entity that still differs
	// from the baseline and was not sent goes before every entity that is not overdue
	// (the starvation bound, give or take SweepPeriod and the budget).
	StaleLimit = 200
	// carryMax bounds the best unsent candidates a snapshot hands to the next one.
	carryMax = 32
	// minSweep is the least number of NetIDs the sweep examines per snapshot.
	minSweep = 64
	// recentMax: when a frame changed at most this many entities, every snapshot of it
	// examines them all (the changes of a quiet world go out at once, not at the sweep).
	recentMax = 256
)

// weights[r] is the priority a changed entity r grid cells away (Chebyshev) gains per
// snapshot while not sent: 1+64/(1+r²), so 65 in the own cell, 33 next to it, 1 from
// 8 cells (128 m) on. Entities the client does not hold yet gain 4 times as much.
var weights = [9]uint32{65, 33, 13, 7, 4, 3, 2, 2, 1}

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
// delta against v's baseline of entities that changed, the most relevant first, as
// many as fit v's bandwidth budget and MaxPacket; v's own entity always goes first. It
// records the snapshot in v so that a later ack can make it the baseline. Frames must be
// passed in increasing id order; an error means cur is not newer than v's baseline.
//
// The work is proportional to the entities examined, not to the world: those in the
// cells within NearRadius of the client's entity (from the frame's shared cell index),
// 1/SweepPeriod of the NetID range (a sweep that covers every entity once every
// SweepPeriod snapshots), and the best candidates the previous snapshot left unsent.
// Priority accumulates lazily: an entity examined after m snapshots gains m times its
// weight.
func (e *Encoder) AppendSnapshot(dst []byte, cur *Frame, v *ClientView) ([]byte, error) {
	if v.base != 0 && int32(cur.ID-v.base) <= 0 {
		return dst, fmt.Errorf("game: frame %d is not newer than the client's baseline %d", cur.ID, v.base)
	}
	if v.base != 0 && cur.ID-v.base > MaxBaseDistance {
		v.Reset() // the client may have dropped the baseline table: start over
	}
	// The slot of this snapshot: its snapshot of KeepTables ids ago is out of the
	// client's reach now.
	slot := int(cur.ID % KeepTables)
	switch {
	case v.merged&(1<<slot) != 0:
		// A merged snapshot leaves the client's reach before any snapshot naming it
		// became the baseline (acks a dozen snapshots late or more): the client's next
		// tables will not have its records. Take them out of the view's table.
		if !v.unmerge(cur.ring, slot) {
			v.Reset()
		}
	case v.sentID[slot] != 0:
		v.unsend(slot) // never acked in KeepTables snapshots: lost
		v.sentID[slot] = 0
	}
	var mergeBits uint32
	for x := v.merged; x != 0; x &= x - 1 {
		mergeBits |= 1 << (cur.ID - 1 - v.sentID[bits.TrailingZeros32(x)]) // < 31: slot reuse resets
	}
	// Token bucket: refill, cap to one packet.
	v.credit = min(v.credit+v.BytesPerSnapshot, MaxPacket)
	budget := max(v.credit, 128) - SnapshotHeaderSize // self and a few always fit

	n := len(cur.live)
	v.size(n)
	if v.fresh {
		for i := range v.st {
			v.st[i] = entState{seen: cur.ID - 1, since: cur.ID - 1}
		}
		v.fresh = false
	}
	// Removals: entities of the baseline that the frame no longer has.
	e.removed = e.removed[:0]
	for w, h := range v.held {
		var l uint64
		if w < len(cur.liveBits) {
			l = cur.liveBits[w]
		}
		for x := h &^ l; x != 0 && len(e.removed) < MaxRemovalsPerSnapshot; x &= x - 1 {
			e.removed = append(e.removed, uint16(w*64+bits.TrailingZeros64(x)))
		}
	}

	// Candidates: entities examined that are new or changed against the baseline. The
	// ids to examine are gathered in a bitmap first and examined in ascending order:
	// each one costs a load of the view's state, cold in the cache when thousands of
	// clients share the machine, and ascending loads let the hardware prefetch and
	// overlap them.
	words := (n + 63) / 64
	e.exam = grow(e.exam, words)
	clear(e.exam)
	self := int(v.Self)
	selfLive := cur.has(self)
	var selfCell uint32
	if selfLive {
		selfCell = cur.cell[self]
		c := cur.cellIndex(selfCell)
		scx, scy := c%cur.cols, c/cur.cols
		for cy := max(scy-NearRadius, 0); cy <= min(scy+NearRadius, cur.rows-1); cy++ {
			row := cy * cur.cols
			for cx := max(scx-NearRadius, 0); cx <= min(scx+NearRadius, cur.cols-1); cx++ {
				for _, id := range cur.byCell[cur.cellStart[row+cx]:cur.cellStart[row+cx+1]] {
					e.exam[id/64] |= 1 << (id % 64)
				}
			}
		}
	}
	for _, id := range v.carry {
		if int(id) < n {
			e.exam[id/64] |= 1 << (id % 64)
		}
	}
	if n > 1 {
		if len(cur.changed) <= recentMax {
			for _, id := range cur.changed {
				e.exam[id/64] |= 1 << (id % 64)
			}
		}
		// The far sweep: the next ids of [1, n), wrapping.
		left := min(max((n-1+SweepPeriod-1)/SweepPeriod, minSweep), n-1)
		id := v.cursor
		for left > 0 {
			if id < 1 || id >= n {
				id = 1
			}
			k := min(left, n-id)
			setBits(e.exam, id, id+k)
			id += k
			left -= k
		}
		v.cursor = id
	}
	if selfLive {
		e.exam[self/64] &^= 1 << (self % 64) // always sent, first
	}
	e.cands, e.keys = e.cands[:0], e.keys[:0]
	e.farCands, e.farKeys = e.farCands[:0], e.farKeys[:0]
	e.hist = [256]int32{}
	// Touch the view's state of every examined id first, in a loop that does nothing
	// else: its loads are independent, so the cache misses overlap (a prefetch), and
	// considerAll then finds the lines in the cache.
	examined := 0
	var touch uint32
	st := v.st
	for w, word := range e.exam {
		examined += bits.OnesCount64(word)
		for ; word != 0; word &= word - 1 {
			touch += st[w*64+bits.TrailingZeros64(word)].at
		}
	}
	e.touch = touch
	e.considerAll(cur, v, selfCell, selfLive)
	e.cands = append(e.cands, e.farCands...) // near first: they win ties
	e.keys = append(e.keys, e.farKeys...)
	selfChanged := selfLive
	if b := v.value(cur, self); selfLive && b != nil {
		selfChanged = *b != cur.ents[self]
	}

	// Counting sort by key, descending; ties keep near before far, then NetID order.
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

	// Fit: guess how many records fit from the learned compressed size per record, then
	// shrink until the frame fits the budget (give or take slack: the token bucket pays
	// an overshoot back on the next snapshots; MaxPacket is never exceeded).
	nrem := len(e.removed)
	k := len(e.order)
	if guess := (budget - 24 - 2*nrem) * 256 / max(v.est, 64); guess < k {
		k = max(guess, 0)
	}
	slack := v.BytesPerSnapshot / 8
	start := len(dst)
	var size int
	tries := 0
	compressed := false
	sampled := -1 // the kind whose sample counter this snapshot advanced
	for {
		tries++
		e.build(cur, v, k, nrem, selfChanged)
		e.raw = e.p.append(e.raw[:0])
		dst = AppendSnapshotHeader(dst[:start], &SnapshotHeader{ID: cur.ID, Base: v.base, Merge: mergeBits, Tick: cur.Tick, Size: uint32(len(e.raw))})
		kind := b2i(e.p.news >= richPayload || len(e.p.rem) >= richPayload)
		if sampled != kind {
			e.sample[kind]++
			sampled = kind
		}
		sample := e.sample[kind]%zstdSampleEvery == 0
		compressed = e.gain[kind] >= minZstdGain || sample
		switch {
		case !compressed:
			dst = appendRawFrame(dst, e.raw)
		case bytes.Equal(e.raw, e.lastRaw) && e.lastZ != nil:
			dst = append(dst, e.lastZ...)
		default:
			z := len(dst)
			dst = e.z.EncodeAll(e.raw, dst)
			// Measure against the frame of raw and RLE blocks; send the smaller.
			zLen := len(dst) - z
			e.rle = appendRawFrame(e.rle[:0], e.raw)
			e.gain[kind] = (7*e.gain[kind] + (len(e.rle)-zLen)*256/len(e.rle)) / 8
			if len(e.rle) <= zLen {
				dst = append(dst[:z], e.rle...)
				compressed = false
			}
			e.lastRaw = append(e.lastRaw[:0], e.raw...)
			e.lastZ = append(e.lastZ[:0], dst[z:]...)
		}
		size = len(dst) - start
		over := size - SnapshotHeaderSize - budget
		if over <= 0 || (over <= slack && size <= MaxPacket) || (k == 0 && nrem == 0) {
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
	e.wait = e.wait[:0]
	for _, id := range e.p.ids {
		e.wait = append(e.wait, uint16(min(cur.ID-v.st[id].since, 65535)))
		v.st[id].acc, v.st[id].seen, v.st[id].since = 0, cur.ID, cur.ID
	}
	// The best candidates left out are examined again next time, and so are the
	// entities just sent: until a baseline holding them is acked they still differ, and
	// are sent again if the budget allows.
	v.carry = append(v.carry[:0], e.order[min(k, len(e.order)):min(k+carryMax, len(e.order))]...)
	if k >= len(e.order) { // budget not saturated: worth re-sending
		v.carry = append(v.carry, e.p.ids...)
	}

	// Record the snapshot and the hash of the table it leaves the client with.
	s := &v.sent[slot]
	v.sentID[slot], v.sentBase[slot], v.sentMerge[slot] = cur.ID, v.base, mergeBits
	if cap(s.ids) < len(e.p.ids) {
		s.ids = make([]uint16, 0, max(len(e.p.ids)*2, 64)) // grows rarely, by doubling
		s.wait = make([]uint16, 0, cap(s.ids))
	}
	s.ids = append(s.ids[:0], e.p.ids...)
	s.wait = append(s.wait[:0], e.wait...)
	s.rem = append(s.rem[:0], e.p.rem...)
	sum, count := v.sum, v.count
	for _, id := range e.p.rem {
		sum -= v.st[id].hash
		count--
	}
	for i, id := range e.p.ids {
		if e.p.masks[i]&FlagNew != 0 {
			count++
		} else {
			sum -= v.st[id].hash
		}
		sum += cur.hash[id]
	}
	putUint64(dst[start+snapshotHashOffset:], tableHash(sum, count))

	e.Stats = EncodeStats{Changed: len(e.cands) + b2i(selfChanged), Examined: examined, Records: len(e.p.ids),
		Removals: len(e.p.rem), Raw: len(e.raw), Size: size, Tries: tries, Zstd: compressed}
	return dst, nil
}

// considerAll examines the entities of e.exam (< len(cur.live)) for v's snapshot of
// cur, once per snapshot, in one loop (no call per entity): an entity new or changed
// against the baseline accumulates its priority and becomes a candidate; otherwise its
// priority restarts.
func (e *Encoder) considerAll(cur *Frame, v *ClientView, selfCell uint32, selfLive bool) {
	st, held, live, ver, cell := v.st, v.held, cur.live, cur.ver, cur.cell
	for w, word := range e.exam {
		hw := held[w]
		for ; word != 0; word &= word - 1 {
			b := bits.TrailingZeros64(word)
			id := w*64 + b
			if !live[id] {
				continue
			}
			s := &st[id]
			isHeld := hw&(1<<b) != 0
			if isHeld && int32(ver[id]-s.at) <= 0 {
				s.acc, s.seen, s.since = 0, cur.ID, cur.ID // the client holds the current value
				continue
			}
			age := min(max(int32(cur.ID-s.seen), 0), 1<<12)
			var r uint32
			if selfLive {
				c := cell[id]
				r = max(absDiff(c&0xffff, selfCell&0xffff), absDiff(c>>16, selfCell>>16))
			}
			wt := weights[min(r, 8)]
			if !isHeld {
				wt *= 4 // an entity the client does not know is worth more than a refresh
			}
			a := s.acc + uint32(age)*wt
			if a < s.acc {
				a = ^uint32(0)
			}
			s.acc, s.seen = a, cur.ID
			k := priorityKey(a)
			if wait := cur.ID - s.since; wait >= StaleLimit && wait < 1<<31 {
				k = uint8(min(240+(wait-StaleLimit)/16, 255)) // overdue: before any accumulator, oldest first
			}
			if r <= NearRadius {
				e.cands = append(e.cands, uint16(id))
				e.keys = append(e.keys, k)
			} else {
				e.farCands = append(e.farCands, uint16(id))
				e.farKeys = append(e.farKeys, k)
			}
			e.hist[k]++
		}
	}
}

var zeroEntity Entity // the baseline of a new entity; never written

// value returns the value of entity id (< the view's size) in the client's baseline, read
// from the frame it was taken from (or an older one of the ring that has the same
// value), or nil if v does not hold it or the ring no longer has that value.
func (v *ClientView) value(cur *Frame, id int) *Entity {
	if !v.holds(id) {
		return nil
	}
	if f := cur.ring.valueFrame(id, v.st[id].at); f != nil {
		return &f.ents[id]
	}
	return nil
}

// valueFrame returns a frame of r holding entity id's value of frame at: that frame,
// or the oldest one if the entity has had that value since; nil if r has neither.
func (r *FrameRing) valueFrame(id int, at uint32) *Frame {
	if f := r.Frame(at); f != nil {
		return f
	}
	if g := r.Oldest(); g != nil && g.has(id) && int32(g.ver[id]-at) <= 0 {
		return g
	}
	return nil
}

// snapshotHashOffset is where the state hash sits in a snapshot message.
const snapshotHashOffset = 1 + 4 + 4 + 4 + 8

// setBits sets bits [lo, hi) of bitmap b.
func setBits(b []uint64, lo, hi int) {
	for lo < hi {
		w, o := lo/64, lo%64
		k := min(64-o, hi-lo)
		b[w] |= (^uint64(0) >> (64 - k)) << o
		lo += k
	}
}

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
// entities by priority, in NetID order. A candidate whose value turns out to equal the
// baseline's (it changed and changed back) is written with no group: once adopted its
// value is known current, and the client's record of which snapshot wrote each value
// stays the view's (merging compares them).
func (e *Encoder) build(cur *Frame, v *ClientView, k, nrem int, self bool) {
	p := &e.p
	p.reset()
	p.predK = cur.predK
	p.predSame = v.base != 0 && v.basePredK == cur.predK
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
	// The baseline values first, in a loop that only loads them: they sit in older
	// frames, cold in the cache, and independent loads overlap their misses.
	e.bases = e.bases[:0]
	var touch uint32
	for w, word := range e.picked {
		for ; word != 0; word &= word - 1 {
			b := v.value(cur, w*64+bits.TrailingZeros64(word))
			if b != nil {
				touch += uint32(b.Machine)
			}
			e.bases = append(e.bases, b)
		}
	}
	e.touch += touch
	j := 0
	for w, word := range e.picked {
		for word != 0 {
			id := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			c := &cur.ents[id]
			held := v.holds(id)
			b := e.bases[j]
			j++
			if held && b != nil && sameIdentity(b, c) {
				// A record with no group when the value changed back: once adopted,
				// the view knows it current (the client's table records which snapshot
				// wrote each value, and merging relies on the two agreeing).
				p.add(uint16(id), diffMask(b, c), b, c, cur.ID-v.st[id].at)
				continue
			}
			if held { // a new identity, or a value older than the ring: removed and new again
				e.respawn = append(e.respawn, uint16(id))
			}
			p.add(uint16(id), diffMask(&zeroEntity, c)|FlagNew, &zeroEntity, c, 0)
		}
	}
	if len(e.respawn) > 0 { // both lists ascending, disjoint (removals are not live)
		e.remBuf = mergeSorted(e.remBuf[:0], p.rem, e.respawn)
		p.rem, e.remBuf = e.remBuf, p.rem
		e.respawn = e.respawn[:0]
	}
}

// mergeSorted appends to dst the union of ascending, disjoint lists a and b, ascending,
// and returns it.
func mergeSorted(dst, a, b []uint16) []uint16 {
	for len(a) > 0 && len(b) > 0 {
		if a[0] < b[0] {
			dst, a = append(dst, a[0]), a[1:]
		} else {
			dst, b = append(dst, b[0]), b[1:]
		}
	}
	return append(append(dst, a...), b...)
}
