package ecs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"

	arche "github.com/mlange-42/arche/ecs"
)

// Snapshot format (version 2). All integers little-endian.
//
//	magic    [4]byte "SHSN"
//	version  u16
//	globals  Tick u64, Rate u16, ArenaW i32, ArenaH i32, Seed u64,
//	         Phase u8, PhaseSince u64, Round u32, Rejected u32
//	rng      [16]byte PCG state (high then low word, big-endian, as PCG.MarshalBinary)
//	count    u32 number of entities
//	columns  for each field of [fields], in that order, count values of the field's
//	         width, entities in ascending NetID order (structure of arrays)
//	canvases u32 count, then per canvas in ascending id order: id u32, owner u32,
//	         x i32, y i32, heading u16, placed tick u64, art SHA-256 [32]byte,
//	         art width u16, art height u16
//
// Version 2 added the canvas section; version 1 snapshots are refused.
// The encoding is canonical: one world content has exactly one encoding, and [Decode]
// rejects anything [State.Append] would not produce (ids not strictly ascending, flags
// other than 0/1, brain fields set on an entity without a brain, trailing bytes).
const (
	snapshotMagic   = "SHSN"
	SnapshotVersion = 2
	headerSize      = 4 + 2 + 8 + 2 + 4 + 4 + 8 + 1 + 8 + 4 + 4 + 16 + 4
)

// Errors returned (wrapped) by [Decode] and [Restore].
var (
	ErrSnapshotVersion = errors.New("unknown snapshot version")
	ErrSnapshotCorrupt = errors.New("corrupt snapshot")
)

// Record is the canonical content of one player entity: all of its components.
type Record struct {
	Net      NetID
	HasBrain bool
	Pos      Position
	Vel      Velocity
	Head     Heading
	In       Input
	Anim     Anim
	Pose     Pose
	Player   Player
	Brain    Brain // zero unless HasBrain
}

// State is a world's canonical content: its globals, PRNG state and entity records in
// ascending NetID order. It is what snapshots encode and what replay diffs compare.
type State struct {
	G        Globals
	Rand     [16]byte
	Records  []Record
	Canvases []Canvas // in ascending id order
}

type field struct {
	name string // Go path within Record, as diffs report it
	size int    // bytes: 1, 2, 4 or 8
	get  func(r *Record) uint64
	set  func(r *Record, v uint64)
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// fields lists the snapshot columns in order. Appending a field needs a new version.
var fields = [...]field{
	{"Net", 4, func(r *Record) uint64 { return uint64(r.Net) }, func(r *Record, v uint64) { r.Net = NetID(v) }},
	{"HasBrain", 1, func(r *Record) uint64 { return b2u(r.HasBrain) }, func(r *Record, v uint64) { r.HasBrain = v != 0 }},
	{"Pos.X", 4, func(r *Record) uint64 { return uint64(uint32(r.Pos.X)) }, func(r *Record, v uint64) { r.Pos.X = int32(v) }},
	{"Pos.Y", 4, func(r *Record) uint64 { return uint64(uint32(r.Pos.Y)) }, func(r *Record, v uint64) { r.Pos.Y = int32(v) }},
	{"Vel.X", 4, func(r *Record) uint64 { return uint64(uint32(r.Vel.X)) }, func(r *Record, v uint64) { r.Vel.X = int32(v) }},
	{"Vel.Y", 4, func(r *Record) uint64 { return uint64(uint32(r.Vel.Y)) }, func(r *Record, v uint64) { r.Vel.Y = int32(v) }},
	{"Head.Angle", 2, func(r *Record) uint64 { return uint64(r.Head.Angle) }, func(r *Record, v uint64) { r.Head.Angle = uint16(v) }},
	{"In.MoveX", 1, func(r *Record) uint64 { return uint64(uint8(r.In.MoveX)) }, func(r *Record, v uint64) { r.In.MoveX = int8(v) }},
	{"In.MoveY", 1, func(r *Record) uint64 { return uint64(uint8(r.In.MoveY)) }, func(r *Record, v uint64) { r.In.MoveY = int8(v) }},
	{"In.Buttons", 1, func(r *Record) uint64 { return uint64(r.In.Buttons) }, func(r *Record, v uint64) { r.In.Buttons = uint8(v) }},
	{"In.Emote", 1, func(r *Record) uint64 { return uint64(r.In.Emote) }, func(r *Record, v uint64) { r.In.Emote = uint8(v) }},
	{"Anim.Machine", 2, func(r *Record) uint64 { return uint64(r.Anim.Machine) }, func(r *Record, v uint64) { r.Anim.Machine = uint16(v) }},
	{"Anim.State", 2, func(r *Record) uint64 { return uint64(r.Anim.State) }, func(r *Record, v uint64) { r.Anim.State = uint16(v) }},
	{"Anim.Clip", 2, func(r *Record) uint64 { return uint64(r.Anim.Clip) }, func(r *Record, v uint64) { r.Anim.Clip = uint16(v) }},
	{"Anim.PrevClip", 2, func(r *Record) uint64 { return uint64(r.Anim.PrevClip) }, func(r *Record, v uint64) { r.Anim.PrevClip = uint16(v) }},
	{"Anim.Time", 4, func(r *Record) uint64 { return uint64(uint32(r.Anim.Time)) }, func(r *Record, v uint64) { r.Anim.Time = int32(v) }},
	{"Anim.PrevTime", 4, func(r *Record) uint64 { return uint64(uint32(r.Anim.PrevTime)) }, func(r *Record, v uint64) { r.Anim.PrevTime = int32(v) }},
	{"Anim.FadeLeft", 4, func(r *Record) uint64 { return uint64(uint32(r.Anim.FadeLeft)) }, func(r *Record, v uint64) { r.Anim.FadeLeft = int32(v) }},
	{"Anim.FadeTotal", 4, func(r *Record) uint64 { return uint64(uint32(r.Anim.FadeTotal)) }, func(r *Record, v uint64) { r.Anim.FadeTotal = int32(v) }},
	{"Anim.Speed", 4, func(r *Record) uint64 { return uint64(uint32(r.Anim.Speed)) }, func(r *Record, v uint64) { r.Anim.Speed = int32(v) }},
	{"Anim.InState", 4, func(r *Record) uint64 { return uint64(uint32(r.Anim.InState)) }, func(r *Record, v uint64) { r.Anim.InState = int32(v) }},
	{"Pose.V[0]", 4, func(r *Record) uint64 { return uint64(uint32(r.Pose.V[0])) }, func(r *Record, v uint64) { r.Pose.V[0] = int32(v) }},
	{"Pose.V[1]", 4, func(r *Record) uint64 { return uint64(uint32(r.Pose.V[1])) }, func(r *Record, v uint64) { r.Pose.V[1] = int32(v) }},
	{"Pose.V[2]", 4, func(r *Record) uint64 { return uint64(uint32(r.Pose.V[2])) }, func(r *Record, v uint64) { r.Pose.V[2] = int32(v) }},
	{"Pose.V[3]", 4, func(r *Record) uint64 { return uint64(uint32(r.Pose.V[3])) }, func(r *Record, v uint64) { r.Pose.V[3] = int32(v) }},
	{"Player.Team", 1, func(r *Record) uint64 { return uint64(r.Player.Team) }, func(r *Record, v uint64) { r.Player.Team = uint8(v) }},
	{"Player.Score", 4, func(r *Record) uint64 { return uint64(uint32(r.Player.Score)) }, func(r *Record, v uint64) { r.Player.Score = int32(v) }},
	{"Brain.Mode", 1, func(r *Record) uint64 { return uint64(r.Brain.Mode) }, func(r *Record, v uint64) { r.Brain.Mode = uint8(v) }},
	{"Brain.NextTick", 8, func(r *Record) uint64 { return r.Brain.NextTick }, func(r *Record, v uint64) { r.Brain.NextTick = v }},
	{"Brain.Input.MoveX", 1, func(r *Record) uint64 { return uint64(uint8(r.Brain.MoveX)) }, func(r *Record, v uint64) { r.Brain.MoveX = int8(v) }},
	{"Brain.Input.MoveY", 1, func(r *Record) uint64 { return uint64(uint8(r.Brain.MoveY)) }, func(r *Record, v uint64) { r.Brain.MoveY = int8(v) }},
	{"Brain.Input.Buttons", 1, func(r *Record) uint64 { return uint64(r.Brain.Buttons) }, func(r *Record, v uint64) { r.Brain.Buttons = uint8(v) }},
	{"Brain.Input.Emote", 1, func(r *Record) uint64 { return uint64(r.Brain.Emote) }, func(r *Record, v uint64) { r.Brain.Emote = uint8(v) }},
}

// recordSize is the number of snapshot bytes one entity takes.
var recordSize = func() int {
	n := 0
	for _, f := range fields {
		n += f.size
	}
	return n
}()

// RecordOf returns the canonical record of entity id, and whether id is in use.
func (w *World) RecordOf(id NetID) (Record, bool) {
	e, ok := w.Entity(id)
	if !ok {
		return Record{}, false
	}
	c := &w.C
	r := Record{
		Net:    id,
		Pos:    *Get[Position](w, e, c.Pos),
		Vel:    *Get[Velocity](w, e, c.Vel),
		Head:   *Get[Heading](w, e, c.Heading),
		In:     *Get[Input](w, e, c.Input),
		Anim:   *Get[Anim](w, e, c.Anim),
		Pose:   *Get[Pose](w, e, c.Pose),
		Player: *Get[Player](w, e, c.Player),
	}
	if w.HasBrain(e) {
		r.HasBrain = true
		r.Brain = *Get[Brain](w, e, c.Brain)
	}
	return r, true
}

// State returns the canonical content of w.
func (w *World) State() *State {
	return &State{G: w.G, Rand: w.randState(), Records: w.appendRecords(make([]Record, 0, w.count)),
		Canvases: append([]Canvas(nil), w.canvases...)}
}

func (w *World) randState() [16]byte {
	// PCG.MarshalBinary is "pcg:" + 16 bytes and allocates; AppendBinary into an array
	// does not.
	var buf [20]byte
	b, _ := w.rng.AppendBinary(buf[:0])
	var s [16]byte
	copy(s[:], b[len(b)-16:])
	return s
}

// AppendSnapshot appends the canonical snapshot of w to b and returns the extended slice.
// It reuses a scratch buffer held by w, so it allocates only when b must grow.
func (w *World) AppendSnapshot(b []byte) []byte {
	w.scratch = w.appendRecords(w.scratch[:0])
	st := State{G: w.G, Rand: w.randState(), Records: w.scratch, Canvases: w.canvases}
	return st.Append(b)
}

// appendRecords appends the records of all entities in NetID order.
func (w *World) appendRecords(rs []Record) []Record {
	for id := NetID(1); id < w.MaxNetID(); id++ {
		if r, ok := w.RecordOf(id); ok {
			rs = append(rs, r)
		}
	}
	return rs
}

// Append appends the canonical snapshot of s to b and returns the extended slice.
// s.Records must be in ascending NetID order.
func (s *State) Append(b []byte) []byte {
	b = appendHeader(b, &s.G, s.Rand, len(s.Records))
	for i := range fields {
		f := &fields[i]
		for j := range s.Records {
			b = appendUint(b, f.size, f.get(&s.Records[j]))
		}
	}
	return appendCanvases(b, s.Canvases)
}

func appendHeader(b []byte, g *Globals, rng [16]byte, count int) []byte {
	b = append(b, snapshotMagic...)
	b = binary.LittleEndian.AppendUint16(b, SnapshotVersion)
	b = binary.LittleEndian.AppendUint64(b, g.Tick)
	b = binary.LittleEndian.AppendUint16(b, g.Rate)
	b = binary.LittleEndian.AppendUint32(b, uint32(g.ArenaW))
	b = binary.LittleEndian.AppendUint32(b, uint32(g.ArenaH))
	b = binary.LittleEndian.AppendUint64(b, g.Seed)
	b = append(b, byte(g.Phase))
	b = binary.LittleEndian.AppendUint64(b, g.PhaseSince)
	b = binary.LittleEndian.AppendUint32(b, g.Round)
	b = binary.LittleEndian.AppendUint32(b, g.Rejected)
	b = append(b, rng[:]...)
	return binary.LittleEndian.AppendUint32(b, uint32(count))
}

func appendUint(b []byte, size int, v uint64) []byte {
	switch size {
	case 1:
		return append(b, byte(v))
	case 2:
		return binary.LittleEndian.AppendUint16(b, uint16(v))
	case 4:
		return binary.LittleEndian.AppendUint32(b, uint32(v))
	default:
		return binary.LittleEndian.AppendUint64(b, v)
	}
}

func readUint(b []byte, size int) uint64 {
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	default:
		return binary.LittleEndian.Uint64(b)
	}
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("ecs: %w: %s", ErrSnapshotCorrupt, fmt.Sprintf(format, args...))
}

// Decode parses a canonical snapshot. Every malformation is reported as an error wrapping
// [ErrSnapshotCorrupt] or [ErrSnapshotVersion] that names what was wrong and where.
func Decode(b []byte) (*State, error) {
	if len(b) < 6 {
		return nil, corrupt("%d bytes is shorter than the 6-byte magic and version", len(b))
	}
	if string(b[:4]) != snapshotMagic {
		return nil, corrupt("bad magic %q at byte 0, want %q", b[:4], snapshotMagic)
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != SnapshotVersion {
		return nil, fmt.Errorf("ecs: %w %d (this build reads version %d)", ErrSnapshotVersion, v, SnapshotVersion)
	}
	if len(b) < headerSize {
		return nil, corrupt("header truncated: %d bytes, want %d", len(b), headerSize)
	}
	s := &State{}
	p := b[6:]
	g := &s.G
	g.Tick = binary.LittleEndian.Uint64(p)
	g.Rate = binary.LittleEndian.Uint16(p[8:])
	g.ArenaW = int32(binary.LittleEndian.Uint32(p[10:]))
	g.ArenaH = int32(binary.LittleEndian.Uint32(p[14:]))
	g.Seed = binary.LittleEndian.Uint64(p[18:])
	g.Phase = Phase(p[26])
	g.PhaseSince = binary.LittleEndian.Uint64(p[27:])
	g.Round = binary.LittleEndian.Uint32(p[35:])
	g.Rejected = binary.LittleEndian.Uint32(p[39:])
	copy(s.Rand[:], p[43:59])
	count := binary.LittleEndian.Uint32(p[59:])
	if err := (Config{Rate: g.Rate, ArenaW: g.ArenaW, ArenaH: g.ArenaH}).Validate(); err != nil || g.Rate == 0 {
		return nil, corrupt("globals out of range (rate %d, arena %d×%d)", g.Rate, g.ArenaW, g.ArenaH)
	}
	if g.Phase >= phaseCount {
		return nil, corrupt("unknown phase %d at byte %d", g.Phase, 6+26)
	}
	if g.PhaseSince > g.Tick {
		return nil, corrupt("phase entered at tick %d, after current tick %d", g.PhaseSince, g.Tick)
	}
	if count > MaxEntities {
		return nil, corrupt("entity count %d exceeds limit %d", count, MaxEntities)
	}
	if want := headerSize + int(count)*recordSize; len(b) < want {
		return nil, corrupt("%d entities need %d bytes, have %d", count, want, len(b))
	}
	s.Records = make([]Record, count)
	off := headerSize
	for i := range fields {
		f := &fields[i]
		for j := range s.Records {
			f.set(&s.Records[j], readUint(b[off:], f.size))
			off += f.size
		}
	}
	colOff := func(name string) int { // byte offset of a column, for messages
		o := headerSize
		for i := range fields {
			if fields[i].name == name {
				break
			}
			o += fields[i].size * int(count)
		}
		return o
	}
	var prev NetID
	for j := range s.Records {
		r := &s.Records[j]
		if r.Net <= prev {
			return nil, corrupt("entity %d: net id %d not above previous %d (column Net at byte %d)", j, r.Net, prev, colOff("Net")+4*j)
		}
		prev = r.Net
		if flag := b[colOff("HasBrain")+j]; flag > 1 {
			return nil, corrupt("entity %d (net id %d): HasBrain flag %d is not 0 or 1", j, r.Net, flag)
		}
		if !r.HasBrain && r.Brain != (Brain{}) {
			return nil, corrupt("entity %d (net id %d): brain fields set on an entity without a brain", j, r.Net)
		}
		if r.Pos.X < 0 || r.Pos.X > g.ArenaW || r.Pos.Y < 0 || r.Pos.Y > g.ArenaH {
			return nil, corrupt("entity %d (net id %d): position (%d, %d) outside arena %d×%d", j, r.Net, r.Pos.X, r.Pos.Y, g.ArenaW, g.ArenaH)
		}
	}
	if uint64(prev) >= MaxEntities*2 {
		return nil, corrupt("net id %d out of range", prev)
	}
	cs, err := parseCanvases(b, headerSize+int(count)*recordSize, g)
	if err != nil {
		return nil, err
	}
	s.Canvases = cs
	var pcg rand.PCG
	if err := pcg.UnmarshalBinary(append([]byte("pcg:"), s.Rand[:]...)); err != nil {
		return nil, corrupt("rng state: %v", err)
	}
	return s, nil
}

// Restore decodes a snapshot into a fresh world.
func Restore(b []byte) (*World, error) {
	s, err := Decode(b)
	if err != nil {
		return nil, err
	}
	return FromState(s), nil
}

// FromState builds a fresh world holding s. s must be valid (as [Decode] returns it).
func FromState(s *State) *World {
	w := newWorld()
	w.G = s.G
	if err := w.rng.UnmarshalBinary(append([]byte("pcg:"), s.Rand[:]...)); err != nil {
		panic(err) // Decode checked it
	}
	for i := range s.Records {
		r := &s.Records[i]
		for NetID(len(w.byNet)) <= r.Net {
			w.byNet = append(w.byNet, arche.Entity{})
		}
		sp := Spawn{Pos: r.Pos, Heading: r.Head, Anim: r.Anim}
		if r.HasBrain {
			sp.Brain = &r.Brain
		}
		w.spawnAt(r.Net, sp)
		e := w.byNet[r.Net]
		*Get[Velocity](w, e, w.C.Vel) = r.Vel
		*Get[Input](w, e, w.C.Input) = r.In
		*Get[Pose](w, e, w.C.Pose) = r.Pose
		*Get[Player](w, e, w.C.Player) = r.Player
	}
	w.canvases = append(w.canvases[:0], s.Canvases...)
	return w
}
