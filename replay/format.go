package replay

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/shardsim/shardsim/ecs"
)

// Format constants. See the package documentation for the byte layout.
const (
	// Magic opens every replay file.
	Magic = "SHRDRPL\x00"
	// Version is the format version this package writes and the only one it reads.
	Version uint16 = 1

	// DefaultKeyframeEvery is the keyframe interval [NewWriter] records in a header whose
	// Scenario.KeyframeEvery is 0.
	DefaultKeyframeEvery = 300
	// DefaultFlushEvery is the number of ticks per tick block when
	// WriterOptions.FlushEvery is 0.
	DefaultFlushEvery = 60
	// MaxNameLen caps Scenario.Name, in bytes.
	MaxNameLen = 1024

	fileHeaderFixed = len(Magic) + 2 + 4 // magic, version, body length
	blockHeaderSize = 36
	// A tick record is at least: delta (1) + command count (1) + hash (8).
	minTickRecord = 10
	// A command is at most: head (1) + player (5) + input (4) + arg (5).
	maxCommandSize = 15
	// Scenario fields after Name and before Params, plus StartTick.
	headerFixedFields = 8 + 2 + 4 + 4 + 4 + 4 + 4 + 8
	// Lengths are stored as uint32.
	maxFormatLen = math.MaxUint32
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// BlockKind is the kind of a body block. Values are part of the format.
type BlockKind uint8

// Block kinds.
const (
	BlockInitial  BlockKind = 1 // the initial world snapshot; always block 0
	BlockTicks    BlockKind = 2 // a run of tick records
	BlockKeyframe BlockKind = 3 // a world snapshot after a tick
	BlockEnd      BlockKind = 4 // written by Close; nothing may follow it
)

func (k BlockKind) String() string {
	switch k {
	case BlockInitial:
		return "initial"
	case BlockTicks:
		return "ticks"
	case BlockKeyframe:
		return "keyframe"
	case BlockEnd:
		return "end"
	}
	return fmt.Sprintf("kind %d", uint8(k))
}

// Scenario is the configuration a replay was recorded with.
type Scenario struct {
	Name          string // at most MaxNameLen bytes
	Seed          uint64 // world PRNG seed
	Rate          uint16 // ticks per second
	ArenaW        int32  // arena width, µm
	ArenaH        int32  // arena height, µm
	Entities      uint32 // entity count the scenario starts with
	SimVersion    uint32 // simulation version of the code that recorded the replay
	KeyframeEvery uint32 // ticks between keyframes; 0 means DefaultKeyframeEvery to NewWriter
	Params        []byte // opaque scenario-specific bytes, at most Limits.MaxParams
}

// Header is the file header of a replay.
type Header struct {
	Scenario Scenario
	// StartTick is the first recorded tick. The initial snapshot is the world before
	// StartTick is stepped.
	StartTick uint64
}

// Limits caps the lengths a [Reader] accepts and a [Writer] produces, so that hostile or
// corrupt input cannot make the reader allocate without bound. A zero field takes its
// default, which is what [Open] and a zero [WriterOptions] use. A reader must be given
// limits at least as large as the writer's to read its files.
type Limits struct {
	MaxSnapshot        int // bytes of the initial snapshot or a keyframe, uncompressed (64 MiB)
	MaxTickBlock       int // uncompressed bytes of one tick block (16 MiB)
	MaxCommandsPerTick int // commands in one tick record (65536)
	MaxParams          int // bytes of Scenario.Params (64 KiB)
}

var defaultLimits = Limits{
	MaxSnapshot:        64 << 20,
	MaxTickBlock:       16 << 20,
	MaxCommandsPerTick: 1 << 16,
	MaxParams:          64 << 10,
}

// resolve fills zero fields with defaults and clamps to what the format can hold.
func (l Limits) resolve() Limits {
	fix := func(v, def int) int {
		if v <= 0 {
			v = def
		}
		return int(min(int64(v), int64(maxFormatLen)))
	}
	return Limits{
		MaxSnapshot:        fix(l.MaxSnapshot, defaultLimits.MaxSnapshot),
		MaxTickBlock:       fix(l.MaxTickBlock, defaultLimits.MaxTickBlock),
		MaxCommandsPerTick: fix(l.MaxCommandsPerTick, defaultLimits.MaxCommandsPerTick),
		MaxParams:          fix(l.MaxParams, defaultLimits.MaxParams),
	}
}

// maxHeaderBody is the largest header body the limits allow.
func (l Limits) maxHeaderBody() int {
	return binary.MaxVarintLen64 + MaxNameLen + headerFixedFields + binary.MaxVarintLen64 + l.MaxParams
}

// maxCompressed bounds the size of a zstd frame holding n bytes: zstd adds at most a
// frame header and 3 bytes per 128 KiB block; this leaves generous room above that.
func maxCompressed(n uint32) uint64 {
	return uint64(n) + uint64(n)>>7 + 512
}

// ---- file header ----

func (h *Header) validate(lim Limits) error {
	if len(h.Scenario.Name) > MaxNameLen {
		return errorf(ErrTooLarge, "scenario name is %d bytes, max %d", len(h.Scenario.Name), MaxNameLen)
	}
	if len(h.Scenario.Params) > lim.MaxParams {
		return errorf(ErrTooLarge, "scenario params are %d bytes, max %d", len(h.Scenario.Params), lim.MaxParams)
	}
	return nil
}

// appendFileHeader appends the file header (magic to CRC) of h. h must be valid.
func appendFileHeader(b []byte, h *Header) []byte {
	start := len(b)
	s := &h.Scenario
	b = append(b, Magic...)
	b = binary.LittleEndian.AppendUint16(b, Version)
	lenAt := len(b)
	b = append(b, 0, 0, 0, 0)
	bodyAt := len(b)
	b = binary.AppendUvarint(b, uint64(len(s.Name)))
	b = append(b, s.Name...)
	b = binary.LittleEndian.AppendUint64(b, s.Seed)
	b = binary.LittleEndian.AppendUint16(b, s.Rate)
	b = binary.LittleEndian.AppendUint32(b, uint32(s.ArenaW))
	b = binary.LittleEndian.AppendUint32(b, uint32(s.ArenaH))
	b = binary.LittleEndian.AppendUint32(b, s.Entities)
	b = binary.LittleEndian.AppendUint32(b, s.SimVersion)
	b = binary.LittleEndian.AppendUint32(b, s.KeyframeEvery)
	b = binary.LittleEndian.AppendUint64(b, h.StartTick)
	b = binary.AppendUvarint(b, uint64(len(s.Params)))
	b = append(b, s.Params...)
	binary.LittleEndian.PutUint32(b[lenAt:], uint32(len(b)-bodyAt))
	return binary.LittleEndian.AppendUint32(b, crc(b[start:]))
}

// parseFilePrefix checks the fixed part of the file header (magic, version, body
// length) and returns the total header length (fixed part, body and CRC).
func parseFilePrefix(b []byte, lim Limits) (int, error) {
	if len(b) < len(Magic) || string(b[:len(Magic)]) != Magic {
		return 0, ErrBadMagic
	}
	if len(b) < fileHeaderFixed {
		return 0, errorf(ErrMalformed, "file header is %d bytes, want at least %d", len(b), fileHeaderFixed)
	}
	if v := binary.LittleEndian.Uint16(b[len(Magic):]); v != Version {
		return 0, &VersionError{Got: v, Want: Version}
	}
	n := binary.LittleEndian.Uint32(b[len(Magic)+2:])
	if uint64(n) > uint64(lim.maxHeaderBody()) {
		return 0, errorf(ErrTooLarge, "header body is %d bytes, max %d", n, lim.maxHeaderBody())
	}
	return fileHeaderFixed + int(n) + 4, nil
}

// parseFileHeader parses a whole file header, as sized by parseFilePrefix.
func parseFileHeader(b []byte, lim Limits) (Header, int, error) {
	var h Header
	n, err := parseFilePrefix(b, lim)
	if err != nil {
		return h, 0, err
	}
	if len(b) < n {
		return h, 0, errorf(ErrMalformed, "file header is %d bytes, want %d", len(b), n)
	}
	if want, got := binary.LittleEndian.Uint32(b[n-4:]), crc(b[:n-4]); want != got {
		return h, 0, errorf(ErrChecksum, "file header: stored %#08x, computed %#08x", want, got)
	}
	body := b[fileHeaderFixed : n-4]
	p := parser{b: body}
	s := &h.Scenario
	if l := p.length(MaxNameLen, "scenario name"); p.err == nil {
		s.Name = string(p.bytes(l))
	}
	s.Seed = p.u64()
	s.Rate = p.u16()
	s.ArenaW = int32(p.u32())
	s.ArenaH = int32(p.u32())
	s.Entities = p.u32()
	s.SimVersion = p.u32()
	s.KeyframeEvery = p.u32()
	h.StartTick = p.u64()
	if l := p.length(lim.MaxParams, "scenario params"); p.err == nil && l > 0 {
		s.Params = append([]byte(nil), p.bytes(l)...)
	}
	if p.err == nil && p.off != len(body) {
		p.err = errorf(ErrMalformed, "%d trailing bytes in file header", len(body)-p.off)
	}
	if p.err != nil {
		return Header{}, 0, p.err
	}
	return h, n, nil
}

// ---- block header ----

type blockHeader struct {
	kind        BlockKind
	first, last uint64 // tick range (see the package documentation per kind)
	ulen, clen  uint32 // uncompressed and compressed payload lengths
	crc         uint32 // CRC-32C of the compressed payload
}

// putBlockHeader writes bh into b[:blockHeaderSize].
func putBlockHeader(b []byte, bh *blockHeader) {
	_ = b[blockHeaderSize-1]
	b[0] = byte(bh.kind)
	b[1], b[2], b[3] = 0, 0, 0
	binary.LittleEndian.PutUint64(b[4:], bh.first)
	binary.LittleEndian.PutUint64(b[12:], bh.last)
	binary.LittleEndian.PutUint32(b[20:], bh.ulen)
	binary.LittleEndian.PutUint32(b[24:], bh.clen)
	binary.LittleEndian.PutUint32(b[28:], bh.crc)
	binary.LittleEndian.PutUint32(b[32:], crc(b[:32]))
}

// parseBlockHeader parses and checks a block header: its own CRC, reserved bytes and
// known kind. Kind-specific rules are checked by the reader's scan.
func parseBlockHeader(b []byte) (blockHeader, error) {
	var bh blockHeader
	if len(b) < blockHeaderSize {
		return bh, errorf(ErrMalformed, "block header is %d bytes, want %d", len(b), blockHeaderSize)
	}
	if want, got := binary.LittleEndian.Uint32(b[32:]), crc(b[:32]); want != got {
		return bh, errorf(ErrChecksum, "block header: stored %#08x, computed %#08x", want, got)
	}
	bh = blockHeader{
		kind:  BlockKind(b[0]),
		first: binary.LittleEndian.Uint64(b[4:]),
		last:  binary.LittleEndian.Uint64(b[12:]),
		ulen:  binary.LittleEndian.Uint32(b[20:]),
		clen:  binary.LittleEndian.Uint32(b[24:]),
		crc:   binary.LittleEndian.Uint32(b[28:]),
	}
	if b[1]|b[2]|b[3] != 0 {
		return bh, errorf(ErrMalformed, "reserved block header bytes are %#x %#x %#x, want 0", b[1], b[2], b[3])
	}
	if bh.kind < BlockInitial || bh.kind > BlockEnd {
		return bh, ErrUnknownBlock
	}
	return bh, nil
}

// ---- commands and tick records ----

// Command head byte: kind in the low nibble, then presence bits.
const (
	cmdKindMask  = 0x0f
	cmdHasPlayer = 0x10
	cmdHasInput  = 0x20
	cmdHasArg    = 0x40
	cmdHasArt    = 0x80 // followed by the art SHA-256 [32]byte, width u16, height u16
)

// knownCommand reports whether k is a command kind this format version defines.
func knownCommand(k ecs.CommandKind) bool { return k.Valid() && k <= 15 }

func validateCommands(cmds []ecs.Command, lim Limits) error {
	if len(cmds) > lim.MaxCommandsPerTick {
		return errorf(ErrTooLarge, "%d commands in a tick, max %d", len(cmds), lim.MaxCommandsPerTick)
	}
	for i := range cmds {
		if !knownCommand(cmds[i].Kind) {
			return errorf(ErrUnknownCommand, "command %d has kind %d", i, cmds[i].Kind)
		}
	}
	return nil
}

// appendCommand appends the encoding of c, whose kind must be known.
func appendCommand(b []byte, c *ecs.Command) []byte {
	head := byte(c.Kind) & cmdKindMask
	in := c.Input
	hasInput := in != (ecs.Input{})
	if c.Player != 0 {
		head |= cmdHasPlayer
	}
	if hasInput {
		head |= cmdHasInput
	}
	if c.Arg != 0 {
		head |= cmdHasArg
	}
	hasArt := !c.Art.IsZero()
	if hasArt {
		head |= cmdHasArt
	}
	b = append(b, head)
	if c.Player != 0 {
		b = binary.AppendUvarint(b, uint64(c.Player))
	}
	if hasInput {
		b = append(b, byte(in.MoveX), byte(in.MoveY), in.Buttons, in.Emote)
	}
	if c.Arg != 0 {
		b = binary.AppendUvarint(b, uint64(c.Arg))
	}
	if hasArt {
		b = append(b, c.Art.Hash[:]...)
		b = binary.LittleEndian.AppendUint16(b, c.Art.Width)
		b = binary.LittleEndian.AppendUint16(b, c.Art.Height)
	}
	return b
}

// appendTick appends one tick record. delta is 0 for the first record of a block and
// 1 after it. The commands must have passed validateCommands.
func appendTick(b []byte, delta uint64, cmds []ecs.Command, hash uint64) []byte {
	b = binary.AppendUvarint(b, delta)
	b = binary.AppendUvarint(b, uint64(len(cmds)))
	for i := range cmds {
		b = appendCommand(b, &cmds[i])
	}
	return binary.LittleEndian.AppendUint64(b, hash)
}

// TickRecord is one recorded tick: the commands applied at Tick and the state hash
// after stepping it.
type TickRecord struct {
	Tick     uint64
	Commands []ecs.Command
	Hash     uint64
}

// tickDecoder decodes the records of one tick block payload, one at a time.
type tickDecoder struct {
	p         parser
	next      uint64 // tick of the next record
	remaining uint64 // records still to decode
	maxCmds   int
}

func (d *tickDecoder) reset(payload []byte, first, last uint64, lim Limits) {
	*d = tickDecoder{p: parser{b: payload}, next: first, remaining: last - first + 1, maxCmds: lim.MaxCommandsPerTick}
}

// done reports whether every record was decoded, and checks nothing is left over.
func (d *tickDecoder) done() (bool, error) {
	if d.remaining > 0 {
		return false, nil
	}
	if d.p.off != len(d.p.b) {
		return true, errorf(ErrMalformed, "%d trailing bytes after the last tick record", len(d.p.b)-d.p.off)
	}
	return true, nil
}

// decode decodes the next record, appending its commands to cmds[:0].
// The caller must have checked done.
func (d *tickDecoder) decode(cmds []ecs.Command) (TickRecord, error) {
	p := &d.p
	at := p.off
	delta := p.uvarint()
	if p.err != nil {
		return TickRecord{}, p.err
	}
	want := uint64(1)
	if at == 0 {
		want = 0 // the first record is the block's first tick
	}
	if delta != want {
		return TickRecord{}, errorf(ErrTickGap, "tick delta %d at payload byte %d, want %d", delta, at, want)
	}
	n := p.length(d.maxCmds, "commands in a tick")
	if p.err != nil {
		return TickRecord{}, p.err
	}
	// Each command is at least one byte: check before growing the slice.
	if n > len(p.b)-p.off {
		return TickRecord{}, errorf(ErrMalformed, "tick %d claims %d commands in %d bytes", d.next, n, len(p.b)-p.off)
	}
	cmds = cmds[:0]
	for range n {
		c, err := p.command()
		if err != nil {
			return TickRecord{}, withContext(err, "tick %d", d.next)
		}
		cmds = append(cmds, c)
	}
	hash := p.u64()
	if p.err != nil {
		return TickRecord{}, p.err
	}
	rec := TickRecord{Tick: d.next, Commands: cmds, Hash: hash}
	d.next++
	d.remaining--
	return rec, nil
}

// ---- parser ----

// parser reads little-endian fields and canonical uvarints from b, checking lengths
// before every read. The first error sticks in err; reads after it return zeros.
type parser struct {
	b   []byte
	off int
	err error
}

func (p *parser) need(n int, what string) bool {
	if p.err != nil {
		return false
	}
	if n > len(p.b)-p.off {
		p.err = errorf(ErrMalformed, "%s at byte %d runs past the end (%d bytes left, want %d)", what, p.off, len(p.b)-p.off, n)
		return false
	}
	return true
}

func (p *parser) u16() uint16 {
	if !p.need(2, "uint16") {
		return 0
	}
	v := binary.LittleEndian.Uint16(p.b[p.off:])
	p.off += 2
	return v
}

func (p *parser) u32() uint32 {
	if !p.need(4, "uint32") {
		return 0
	}
	v := binary.LittleEndian.Uint32(p.b[p.off:])
	p.off += 4
	return v
}

func (p *parser) u64() uint64 {
	if !p.need(8, "uint64") {
		return 0
	}
	v := binary.LittleEndian.Uint64(p.b[p.off:])
	p.off += 8
	return v
}

func (p *parser) byte1() byte {
	if !p.need(1, "byte") {
		return 0
	}
	v := p.b[p.off]
	p.off++
	return v
}

func (p *parser) bytes(n int) []byte {
	if !p.need(n, "byte string") {
		return nil
	}
	v := p.b[p.off : p.off+n]
	p.off += n
	return v
}

// uvarint reads a canonical (shortest-form) unsigned varint.
func (p *parser) uvarint() uint64 {
	if p.err != nil {
		return 0
	}
	v, n := binary.Uvarint(p.b[p.off:])
	switch {
	case n == 0:
		p.err = errorf(ErrMalformed, "varint at byte %d runs past the end", p.off)
		return 0
	case n < 0:
		p.err = errorf(ErrMalformed, "varint at byte %d overflows 64 bits", p.off)
		return 0
	case n > 1 && p.b[p.off+n-1] == 0:
		p.err = errorf(ErrMalformed, "non-canonical varint at byte %d", p.off)
		return 0
	}
	p.off += n
	return v
}

// length reads a uvarint length or count and checks it against max.
func (p *parser) length(max int, what string) int {
	at := p.off
	v := p.uvarint()
	if p.err == nil && v > uint64(max) {
		p.err = errorf(ErrTooLarge, "%s: %d at byte %d, max %d", what, v, at, max)
		return 0
	}
	return int(v)
}

// u32varint reads a canonical uvarint that must fit uint32 and be nonzero (zero values
// are encoded by omission).
func (p *parser) u32varint(what string) uint32 {
	at := p.off
	v := p.uvarint()
	if p.err != nil {
		return 0
	}
	if v == 0 || v > math.MaxUint32 {
		p.err = errorf(ErrMalformed, "%s %d at byte %d is out of range [1, 2^32)", what, v, at)
		return 0
	}
	return uint32(v)
}

func (p *parser) command() (ecs.Command, error) {
	at := p.off
	head := p.byte1()
	if p.err != nil {
		return ecs.Command{}, p.err
	}
	c := ecs.Command{Kind: ecs.CommandKind(head & cmdKindMask)}
	if !knownCommand(c.Kind) {
		return ecs.Command{}, errorf(ErrUnknownCommand, "kind %d at byte %d", c.Kind, at)
	}
	if head&cmdHasPlayer != 0 {
		c.Player = ecs.NetID(p.u32varint("player"))
	}
	if head&cmdHasInput != 0 {
		if in := p.bytes(4); p.err == nil {
			c.Input = ecs.Input{MoveX: int8(in[0]), MoveY: int8(in[1]), Buttons: in[2], Emote: in[3]}
			if c.Input == (ecs.Input{}) {
				p.err = errorf(ErrMalformed, "command at byte %d flags an all-zero input", at)
			}
		}
	}
	if head&cmdHasArg != 0 {
		c.Arg = p.u32varint("arg")
	}
	if head&cmdHasArt != 0 {
		if a := p.bytes(36); p.err == nil {
			copy(c.Art.Hash[:], a)
			c.Art.Width = binary.LittleEndian.Uint16(a[32:])
			c.Art.Height = binary.LittleEndian.Uint16(a[34:])
			if c.Art.IsZero() {
				p.err = errorf(ErrMalformed, "command at byte %d flags an all-zero art reference", at)
			}
		}
	}
	return c, p.err
}
