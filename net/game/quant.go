package game

import (
	"math/bits"

	"github.com/shardsim/shardsim/ecs"
)

// Quantization of one entity for snapshots (see doc.go, "Entity record").
const (
	// PosSteps is the largest quantized coordinate: X = round(Pos.X·PosSteps/ArenaW).
	PosSteps = 65535
	// VelUnit is the velocity quantum, mm/s: VX = clamp(round(Vel.X/VelUnit), -127, 127).
	VelUnit = 64
	// CellSize is the side of an interest-management grid cell, µm.
	CellSize = 16 * ecs.MicrometresPerMetre
	// MaxWireID is the largest NetID a snapshot carries (ids are u16 on the wire).
	MaxWireID = 65535
)

// Entity is the quantized network view of one player entity: what a snapshot carries and
// what a client's [Table] holds. Field groups change together on the wire (see doc.go).
type Entity struct {
	X, Y     uint16 // position, arena-relative: µm = X·ArenaW/PosSteps
	Head     uint8  // heading, binary angle (256 = full turn)
	VX, VY   int8   // velocity in units of VelUnit mm/s (coarse, for extrapolation)
	Machine  uint16 // animation state machine resource id
	State    uint16 // state index in Machine
	Clip     uint16 // animation playing in State
	Speed    uint16 // playback speed of Clip, per-mille (clamped to [0, 65535])
	TimeRef  uint16 // playback time of Clip extrapolated back to tick 0, ms mod 65536 (see TimeAt)
	PrevClip uint16 // animation fading out (when Fade > 0)
	Fade     uint8  // crossfade left: 0 none, else 1 + 254·FadeLeft/FadeTotal
	Team     uint8
}

// Quantizer maps the components of an entity to its network view.
type Quantizer struct {
	ArenaW, ArenaH int32  // arena, µm (> 0)
	Rate           uint16 // ticks per second (> 0)
	// ClipPeriods[c] is the time, in µs, after which the playback of clip c repeats
	// (its length for a linear loop, twice that for ping-pong); 0, or c beyond the
	// slice, for a clip that does not loop. TimeRef of a looping clip is taken modulo
	// its period, so it stays constant across loops (see doc.go).
	ClipPeriods []int32
}

// period returns the period of clip c in µs, or 0 when TimeRef is taken modulo
// 65,536 ms (the clip does not loop, or its period is not shorter).
func (q *Quantizer) period(c uint16) int64 {
	if int(c) >= len(q.ClipPeriods) {
		return 0
	}
	if p := int64(q.ClipPeriods[c]); p > 0 && p < timeMod {
		return p
	}
	return 0
}

// timeMod is 65536 ms in µs: TimeRef arithmetic is modulo this.
const timeMod = 65536 * 1000

// elapsed returns the playback time a clip at speed (per-mille) gains from tick 0 to
// tick at tickUs µs per tick, modulo timeMod µs.
func elapsed(tick uint64, tickUs int64, speed int64) int64 {
	hi, lo := bits.Mul64(tick, uint64(tickUs*speed))
	r := bits.Rem64(hi, lo, 1000*timeMod) // floor(x/1000) mod M = floor((x mod 1000M)/1000)
	return int64(r / 1000)
}

// TimeAt returns the playback time in µs of a clip with reference time ref
// (Entity.TimeRef) and speed (Entity.Speed) at the given tick, with ticks of tickUs µs
// (1_000_000/rate, integer division): modulo period µs for a clip that repeats after
// period (see Quantizer.ClipPeriods; the client knows its clips), else modulo 65,536 s
// (clients reduce it to the clip's length).
func TimeAt(ref, speed uint16, tick uint64, tickUs, period int64) int64 {
	t := int64(ref)*1000 + elapsed(tick, tickUs, int64(speed))
	if period > 0 && period < timeMod {
		return t % period
	}
	return t % timeMod
}

// Entity returns the network view at the given tick of an entity with these components.
// Positions outside the arena are clamped to it.
func (q Quantizer) Entity(tick uint64, pos ecs.Position, vel ecs.Velocity, head ecs.Heading, anim *ecs.Anim, team uint8) Entity {
	speed := uint16(max(0, min(anim.Speed, 65535)))
	tickUs := int64(ecs.MicrosPerSecond / int64(max(q.Rate, 1)))
	el := elapsed(tick, tickUs, int64(speed))
	ref := (int64(anim.Time)%timeMod - el + 2*timeMod) % timeMod
	if p := q.period(anim.Clip); p > 0 {
		ref = ((int64(anim.Time)-el)%p + p) % p // constant while the clip loops at one speed
	}
	e := Entity{
		X:       quantPos(pos.X, q.ArenaW),
		Y:       quantPos(pos.Y, q.ArenaH),
		Head:    uint8((uint32(head.Angle) + 128) >> 8),
		VX:      quantVel(vel.X),
		VY:      quantVel(vel.Y),
		Machine: anim.Machine,
		State:   anim.State,
		Clip:    anim.Clip,
		Speed:   speed,
		TimeRef: uint16(ref / 1000),
		Team:    team,
	}
	if anim.FadeLeft > 0 && anim.FadeTotal > 0 {
		f := 1 + int64(anim.FadeLeft)*254/int64(anim.FadeTotal)
		e.Fade = uint8(min(f, 255))
		e.PrevClip = anim.PrevClip
	}
	return e
}

func quantPos(v, size int32) uint16 {
	v = max(0, min(v, size))
	return uint16((uint64(v)*PosSteps + uint64(size)/2) / uint64(size))
}

func quantVel(v int32) int8 {
	q := (int64(v) + VelUnit/2) >> 6 // floor((v+32)/64): round half up
	return int8(max(-127, min(q, 127)))
}

// Pos returns the centre of the quantization step of e's position, in µm.
func (e *Entity) Pos(arenaW, arenaH int32) ecs.Position {
	return ecs.Position{
		X: int32(uint64(e.X) * uint64(arenaW) / PosSteps),
		Y: int32(uint64(e.Y) * uint64(arenaH) / PosSteps),
	}
}

// Entity hash, "NQH1" (documented in doc.go, "State hash"): 64-bit words folded with
// the same mix as ecs.Hash (ecs.HashMix), then the MurmurHash3 finalizer (ecs.HashFinal).
const hashSeed = ecs.HashSeed

func mix(h, w uint64) uint64 { return ecs.HashMix(h, w) }
func fmix64(k uint64) uint64 { return ecs.HashFinal(k) }

// HashEntity returns the hash of entity id holding e: its contribution to a table hash.
func HashEntity(id ecs.NetID, e *Entity) uint64 {
	h := uint64(hashSeed)
	h = mix(h, uint64(uint32(id))|uint64(e.X)<<32|uint64(e.Y)<<48)
	h = mix(h, uint64(e.Machine)|uint64(e.State)<<16|uint64(e.Clip)<<32|uint64(e.PrevClip)<<48)
	h = mix(h, uint64(e.TimeRef)|uint64(e.Head)<<16|uint64(uint8(e.VX))<<24|uint64(uint8(e.VY))<<32|
		uint64(e.Fade)<<40|uint64(e.Team)<<48|uint64(e.Speed&0xff)<<56)
	h = mix(h, uint64(e.Speed>>8))
	return fmix64(h)
}

// tableHash combines the wrapping sum of the entity hashes of a table with its size.
func tableHash(sum uint64, count int) uint64 { return fmix64(sum + uint64(count)) }

// Frame is the whole world quantized once at one tick: the entity views indexed by NetID,
// their hashes and interest-grid cells. Every client's snapshot of that tick is selected
// and delta-encoded from it; it is read-only once captured.
type Frame struct {
	ID   uint32 // snapshot id (sequence number of the capture; never 0)
	Tick uint64 // world tick captured
	Quantizer
	// Skipped counts entities left out because their NetID exceeds MaxWireID.
	Skipped int

	ring *FrameRing // the ring that captured f (views read older values from it)
	// predK: the scale per axis of the position prediction of snapshots of f (see
	// predict), from the ticks per snapshot over the ring.
	predK [2]uint16
	ents  []Entity // by NetID
	live  []bool
	hash  []uint64
	cell  []uint32 // cx | cy<<16
	count int
	sum   uint64

	// Shared selection data, computed once per capture for every client's encoding.
	// ver[id] is the id of the oldest frame since which entity id has had its current
	// value (and liveness) in every frame up to this one: a client holding the entity's
	// value of frame at ≥ ver[id] holds its current value.
	ver      []uint32
	liveBits []uint64 // live as a bitmap
	changed  []uint16 // entities whose ver is this frame (changed, new or removed)
	// The entities by interest cell: those of cell (cx, cy) are
	// byCell[cellStart[cy*cols+cx]:cellStart[cy*cols+cx+1]], ascending.
	cols, rows int
	cellStart  []int32
	byCell     []uint16
	// sc: the stream cells of cell-stream snapshots (the cells with hysteresis).
	sc streamCells
}

// Len returns the number of entities in f.
func (f *Frame) Len() int { return f.count }

// Get returns the view of entity id, and whether id is in f.
func (f *Frame) Get(id ecs.NetID) (Entity, bool) {
	if int(id) >= len(f.live) || !f.live[id] {
		return Entity{}, false
	}
	return f.ents[id], true
}

// Hash returns the table hash of f's whole content: a client [Table] holding exactly the
// entities of f has this [Table.Hash].
func (f *Frame) Hash() uint64 { return tableHash(f.sum, f.count) }

func (f *Frame) has(id int) bool { return id < len(f.live) && f.live[id] }

// FrameRing captures frames and keeps the most recent ones, the baselines of snapshots in
// flight. It is not safe for concurrent use; in particular Capture must not run while
// encoders read frames of the ring (capture, then fan out the encoding, then wait).
type FrameRing struct {
	// ClipPeriods, set before the first Capture, gives the frames' quantizers the
	// periods of looping clips (Quantizer.ClipPeriods).
	ClipPeriods []int32

	frames []*Frame
	next   uint32
}

// DefaultFrameHistory is the ring size NewFrameRing(0) uses: 512 snapshots, 25.6 s at
// 20 Hz. Client views read the values their baselines hold from the frames they were
// taken from (ClientView keeps only their hashes), so the ring reaches back past
// StaleLimit, and past the values of clients whose acks are so late that some of their
// entities' baseline values are many seconds old (a value older than the ring costs
// a removal and a new record, or the view's restart when a merged snapshot is taken
// out; with 256 snapshots the load run restarted ≈ 1,700 views a minute): ≈ 86 KB per
// frame at 2,100 entities, 44 MB in all, for 46 KB less per client.
const DefaultFrameHistory = 512

// NewFrameRing returns a ring keeping the n most recent frames (0 means
// DefaultFrameHistory). n should exceed MaxBaseDistance, the deepest baseline a client holds.
// It panics if n < 2.
func NewFrameRing(n int) *FrameRing {
	if n == 0 {
		n = DefaultFrameHistory
	}
	if n < 2 {
		panic("game: frame ring smaller than 2")
	}
	return &FrameRing{frames: make([]*Frame, n), next: 1}
}

// Frame returns the frame with snapshot id, or nil when it is not (or no longer) held.
func (r *FrameRing) Frame(id uint32) *Frame {
	if id == 0 {
		return nil
	}
	f := r.frames[id%uint32(len(r.frames))]
	if f == nil || f.ID != id {
		return nil
	}
	return f
}

// Oldest returns the least recent frame the ring holds, or nil.
func (r *FrameRing) Oldest() *Frame {
	n := uint32(len(r.frames))
	for i := range n {
		if f := r.Frame(r.next - n + i); f != nil {
			return f
		}
	}
	return nil
}

// Latest returns the most recently captured frame, or nil.
func (r *FrameRing) Latest() *Frame {
	id := r.next - 1
	if id == 0 {
		id = ^uint32(0) // wrapped
	}
	return r.Frame(id)
}

// Capture quantizes every entity of w into a new frame with the next snapshot id, reusing
// the memory of the oldest frame. The returned frame stays valid until the ring wraps.
func (r *FrameRing) Capture(w *ecs.World) *Frame {
	id := r.next
	r.next++
	if r.next == 0 {
		r.next = 1
	}
	slot := &r.frames[id%uint32(len(r.frames))]
	if *slot == nil {
		*slot = &Frame{}
	}
	tps := int64(256) // ticks per snapshot ×256, over the frames held (the oldest is in slot)
	if o := r.Oldest(); o != nil && w.G.Tick > o.Tick {
		tps = int64(w.G.Tick-o.Tick) * 256 / int64(id-o.ID)
	}
	f := *slot
	f.predK = [2]uint16{predScale(tps, w.G.Rate, w.G.ArenaW), predScale(tps, w.G.Rate, w.G.ArenaH)}
	n := min(int(w.MaxNetID()), MaxWireID+1)
	f.ID, f.Tick, f.ring = id, w.G.Tick, r
	f.Quantizer = Quantizer{ArenaW: w.G.ArenaW, ArenaH: w.G.ArenaH, Rate: w.G.Rate, ClipPeriods: r.ClipPeriods}
	f.Skipped, f.count, f.sum = 0, 0, 0
	f.ents = grow(f.ents, n)
	f.live = grow(f.live, n)
	f.hash = grow(f.hash, n)
	f.cell = grow(f.cell, n)
	clear(f.live)

	c := &w.C
	q := w.Arche().Query(w.Players())
	for q.Next() {
		id := (*ecs.ID)(q.Get(c.ID)).Net
		if id > MaxWireID {
			f.Skipped++
			continue
		}
		pos := *(*ecs.Position)(q.Get(c.Pos))
		e := f.Quantizer.Entity(f.Tick, pos, *(*ecs.Velocity)(q.Get(c.Vel)), *(*ecs.Heading)(q.Get(c.Heading)),
			(*ecs.Anim)(q.Get(c.Anim)), (*ecs.Player)(q.Get(c.Player)).Team)
		f.ents[id] = e
		f.live[id] = true
		h := HashEntity(id, &e)
		f.hash[id] = h
		f.sum += h
		f.count++
		cx := uint32(max(0, pos.X) / CellSize)
		cy := uint32(max(0, pos.Y) / CellSize)
		f.cell[id] = min(cx, 0xffff) | min(cy, 0xffff)<<16
	}
	prev := r.Frame(id - 1)
	f.index(prev)
	f.indexStreamCells(prev)
	return f
}

// index computes the shared selection data of f (ver, liveBits, the cell index), given
// the previous frame (nil if the ring does not hold it).
func (f *Frame) index(prev *Frame) {
	n := len(f.live)
	f.ver = grow(f.ver, n)
	f.liveBits = grow(f.liveBits, (n+63)/64)
	clear(f.liveBits)
	f.changed = f.changed[:0]
	if prev != nil && len(prev.ver) != len(prev.live) {
		prev = nil // not indexed
	}
	for id := range n {
		live := f.live[id]
		if live {
			f.liveBits[id/64] |= 1 << (id % 64)
		}
		if prev != nil && id < len(prev.live) && prev.live[id] == live && (!live || prev.ents[id] == f.ents[id]) {
			f.ver[id] = prev.ver[id]
		} else {
			f.ver[id] = f.ID
			if id > 0 {
				f.changed = append(f.changed, uint16(id))
			}
		}
	}
	// Cell index (counting sort by cell; cells clamped to the arena's grid).
	f.cols = int(max(f.ArenaW, 0)/CellSize) + 1
	f.rows = int(max(f.ArenaH, 0)/CellSize) + 1
	cells := f.cols * f.rows
	f.cellStart = grow(f.cellStart, cells+1)
	clear(f.cellStart)
	f.byCell = grow(f.byCell, f.count)
	for id := range n {
		if f.live[id] {
			f.cellStart[f.cellIndex(f.cell[id])+1]++
		}
	}
	for i := range cells {
		f.cellStart[i+1] += f.cellStart[i]
	}
	// Fill using cellStart[c] as the cursor of cell c, then shift back.
	for id := range n {
		if f.live[id] {
			c := f.cellIndex(f.cell[id])
			f.byCell[f.cellStart[c]] = uint16(id)
			f.cellStart[c]++
		}
	}
	copy(f.cellStart[1:], f.cellStart[:cells])
	f.cellStart[0] = 0
}

// cellIndex returns the index in the cell grid of packed cell c, clamped to the grid.
func (f *Frame) cellIndex(c uint32) int {
	cx := min(int(c&0xffff), f.cols-1)
	cy := min(int(c>>16), f.rows-1)
	return cy*f.cols + cx
}

// grow returns s resized to n elements, reusing its memory when it can.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}
