package shadow

import (
	"encoding/binary"
	"fmt"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/server"
)

// Wire format of the sync protocol. Every message is one ENet packet on channel 0,
// reliable and ordered; integers are little-endian; an address is a u8 length and that
// many bytes of "host:port". The first byte is the message [Type]:
//
//	Hello     1 | version u8 | rank u8 | client addr
//	Keyframe  2 | tick u64 | tuning: u8 len + bytes | raw len u32 | zstd len u32 + bytes
//	Tick      3 | tick u64 | hash u64 | n u32 | n × command (49 bytes:
//	              kind u8, player u32, moveX i8, moveY i8, buttons u8, emote u8, arg u32,
//	              art SHA-256 [32]byte, art width u16, art height u16; art zero unless
//	              the kind is CmdPlaceCanvas)
//	Heartbeat 4 | tick u64
//	Roster    5 | n u8 | n × (rank u8 | client addr | sync addr)
//	HandOver  6 | tick u64 | rank u8
//	Promote   7 | tick u64 | rank u8 | client addr
//	Sessions  8 | tick u64 | full u8 (0 or 1) | n u32 | n × (client id u64 | netid u32)
//	Relay     9 | n u32 | n × command (as in Tick)
//
// Parsers check every length before reading, reject trailing bytes, and never panic.

// Version is the sync protocol version a Hello carries.
const Version = 1

// Type identifies a message. Values are part of the wire format: never renumber.
type Type uint8

// Message types.
const (
	TypeHello     Type = 1 // shadow → primary: join
	TypeKeyframe  Type = 2 // primary → shadow: full state
	TypeTick      Type = 3 // primary → shadow: one step's commands and resulting hash
	TypeHeartbeat Type = 4 // primary → shadow: alive, not stepping
	TypeRoster    Type = 5 // primary → shadow: who would take over
	TypeHandOver  Type = 6 // primary → shadow: planned hand-over to a rank
	TypePromote   Type = 7 // promoted shadow → other shadows: I am the primary now
	TypeSessions  Type = 8 // primary → shadow: the client sessions' entities (changes or all)
	TypeRelay     Type = 9 // relaying shadow → primary: its clients' commands (none: "I relay")
)

func (t Type) String() string {
	switch t {
	case TypeHello:
		return "Hello"
	case TypeKeyframe:
		return "Keyframe"
	case TypeTick:
		return "Tick"
	case TypeHeartbeat:
		return "Heartbeat"
	case TypeRoster:
		return "Roster"
	case TypeHandOver:
		return "HandOver"
	case TypePromote:
		return "Promote"
	case TypeSessions:
		return "Sessions"
	case TypeRelay:
		return "Relay"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Limits of the format.
const (
	MaxCommands = 1 << 20 // commands in one Tick
	MaxSnapshot = 1 << 28 // decompressed keyframe snapshot bytes
	MaxRoster   = 64      // entries in a Roster
	MaxSessions = 1 << 20 // entries in a Sessions
	sessionSize = 12      // encoded size of one Sessions entry
	CommandSize = 49      // encoded size of one command
	maxTuning   = 255     // encoded tuning bytes (u8 length)
	maxAddr     = 255     // address bytes (u8 length)
	maxZstd     = 1 << 28 // compressed keyframe bytes
)

// Message is any decoded sync message.
type Message interface {
	Type() Type
	// Append appends the encoded message to b.
	Append(b []byte) []byte
}

// Hello is a shadow's request to follow a primary.
type Hello struct {
	Version    uint8
	Rank       uint8  // take-over priority: the highest rank alive takes over first
	ClientAddr string // where the shadow serves clients once promoted
}

// Keyframe is the full state at the end of Tick: a zstd frame of an ecs snapshot of
// RawLen bytes, and the systems tuning ([systems.Config.AppendTuning]) it runs with.
type Keyframe struct {
	Tick   uint64
	Tuning []byte // aliases the parsed buffer
	RawLen uint32
	Zstd   []byte // aliases the parsed buffer
}

// Tick is one step: the commands it applied, in order, and the state hash after it.
type Tick struct {
	Tick uint64
	Hash uint64
	Cmds []ecs.Command
}

// Heartbeat says the primary is alive while it is not stepping (before its first tick).
type Heartbeat struct {
	Tick uint64
}

// RosterEntry is one shadow the primary serves.
type RosterEntry struct {
	Rank       uint8
	ClientAddr string // where it would serve clients
	SyncAddr   string // where it takes shadows once promoted (as the primary sees it)
}

// Roster lists the shadows of a primary, so each knows who would take over.
type Roster struct {
	Entries []RosterEntry
}

// HandOver names the shadow (by rank) that takes over after Tick, the primary's last.
type HandOver struct {
	Tick uint64
	Rank uint8
}

// Promote is sent by a shadow that took over: it continues after Tick.
type Promote struct {
	Tick       uint64
	Rank       uint8
	ClientAddr string // where it serves clients now
}

// Sessions carries the primary's session map (token client id → NetID of the client's
// entity), which a promoted shadow needs to hand reconnecting clients their entities.
// Full, sent right after each keyframe, replaces the map; otherwise Entries are the
// changes made by step Tick (sent right after its Tick message), in order: ID 0 ends
// a binding.
type Sessions struct {
	Tick    uint64
	Full    bool
	Entries []server.Binding
}

// Relay carries the commands of a relaying shadow's clients (CmdJoin with a session of
// its relay range, CmdInput, CmdLeave) for the primary's next tick. An empty Relay,
// sent right after the Hello, says the shadow accepts redirected clients.
type Relay struct {
	Cmds []ecs.Command
}

// Type implements [Message].
func (*Hello) Type() Type { return TypeHello }

// Type implements [Message].
func (*Relay) Type() Type { return TypeRelay }

// Type implements [Message].
func (*Sessions) Type() Type { return TypeSessions }

// Type implements [Message].
func (*Keyframe) Type() Type { return TypeKeyframe }

// Type implements [Message].
func (*Tick) Type() Type { return TypeTick }

// Type implements [Message].
func (*Heartbeat) Type() Type { return TypeHeartbeat }

// Type implements [Message].
func (*Roster) Type() Type { return TypeRoster }

// Type implements [Message].
func (*HandOver) Type() Type { return TypeHandOver }

// Type implements [Message].
func (*Promote) Type() Type { return TypePromote }

func appendU64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }
func appendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }

// appendAddr appends a u8-length string; a longer string is cut to 255 bytes
// (callers validate addresses before they reach the wire).
func appendAddr(b []byte, s string) []byte {
	if len(s) > maxAddr {
		s = s[:maxAddr]
	}
	b = append(b, uint8(len(s)))
	return append(b, s...)
}

// Append implements [Message].
func (m *Hello) Append(b []byte) []byte {
	b = append(b, byte(TypeHello), m.Version, m.Rank)
	return appendAddr(b, m.ClientAddr)
}

// Append implements [Message]. Tuning is cut to 255 bytes.
func (m *Keyframe) Append(b []byte) []byte {
	b = append(b, byte(TypeKeyframe))
	b = appendU64(b, m.Tick)
	t := m.Tuning
	if len(t) > maxTuning {
		t = t[:maxTuning]
	}
	b = append(b, uint8(len(t)))
	b = append(b, t...)
	b = appendU32(b, m.RawLen)
	b = appendU32(b, uint32(len(m.Zstd)))
	return append(b, m.Zstd...)
}

// AppendCommand appends the CommandSize-byte encoding of c.
func AppendCommand(b []byte, c *ecs.Command) []byte {
	b = append(b, byte(c.Kind))
	b = appendU32(b, uint32(c.Player))
	b = append(b, uint8(c.Input.MoveX), uint8(c.Input.MoveY), c.Input.Buttons, c.Input.Emote)
	b = appendU32(b, c.Arg)
	b = append(b, c.Art.Hash[:]...)
	return append(b, byte(c.Art.Width), byte(c.Art.Width>>8), byte(c.Art.Height), byte(c.Art.Height>>8))
}

// Append implements [Message]. It does not allocate when b has room.
func (m *Tick) Append(b []byte) []byte {
	return AppendTick(b, m.Tick, m.Hash, m.Cmds)
}

// AppendTick appends a Tick message without building a [Tick].
func AppendTick(b []byte, tick, hash uint64, cmds []ecs.Command) []byte {
	b = append(b, byte(TypeTick))
	b = appendU64(b, tick)
	b = appendU64(b, hash)
	b = appendU32(b, uint32(len(cmds)))
	for i := range cmds {
		b = AppendCommand(b, &cmds[i])
	}
	return b
}

// Append implements [Message].
func (m *Heartbeat) Append(b []byte) []byte {
	return appendU64(append(b, byte(TypeHeartbeat)), m.Tick)
}

// Append implements [Message]. Entries beyond [MaxRoster] are left out.
func (m *Roster) Append(b []byte) []byte {
	es := m.Entries
	if len(es) > MaxRoster {
		es = es[:MaxRoster]
	}
	b = append(b, byte(TypeRoster), uint8(len(es)))
	for i := range es {
		b = append(b, es[i].Rank)
		b = appendAddr(b, es[i].ClientAddr)
		b = appendAddr(b, es[i].SyncAddr)
	}
	return b
}

// Append implements [Message].
func (m *HandOver) Append(b []byte) []byte {
	b = appendU64(append(b, byte(TypeHandOver)), m.Tick)
	return append(b, m.Rank)
}

// Append implements [Message].
func (m *Promote) Append(b []byte) []byte {
	b = appendU64(append(b, byte(TypePromote)), m.Tick)
	b = append(b, m.Rank)
	return appendAddr(b, m.ClientAddr)
}

// Append implements [Message]. Entries beyond [MaxSessions] are left out.
func (m *Sessions) Append(b []byte) []byte {
	return AppendSessions(b, m.Tick, m.Full, m.Entries)
}

// AppendSessions appends a Sessions message without building a [Sessions].
func AppendSessions(b []byte, tick uint64, full bool, es []server.Binding) []byte {
	if len(es) > MaxSessions {
		es = es[:MaxSessions]
	}
	f := uint8(0)
	if full {
		f = 1
	}
	b = appendU64(append(b, byte(TypeSessions)), tick)
	b = appendU32(append(b, f), uint32(len(es)))
	for _, e := range es {
		b = appendU32(appendU64(b, e.Client), uint32(e.ID))
	}
	return b
}

// Append implements [Message].
func (m *Relay) Append(b []byte) []byte { return AppendRelay(b, m.Cmds) }

// AppendRelay appends a Relay message without building a [Relay].
func AppendRelay(b []byte, cmds []ecs.Command) []byte {
	b = appendU32(append(b, byte(TypeRelay)), uint32(len(cmds)))
	for i := range cmds {
		b = AppendCommand(b, &cmds[i])
	}
	return b
}

// reader reads the fields of one message, checking each length first. After the first
// failure every read returns zero and err holds the failure.
type reader struct {
	b   []byte
	off int
	t   Type
	err error
}

func (r *reader) need(n int, field string) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || len(r.b)-r.off < n {
		r.err = fieldError(ErrTruncated, r.t, field, "need %d bytes at offset %d, have %d", n, r.off, len(r.b)-r.off)
		return false
	}
	return true
}

func (r *reader) u8(field string) uint8 {
	if !r.need(1, field) {
		return 0
	}
	v := r.b[r.off]
	r.off++
	return v
}

func (r *reader) u32(field string) uint32 {
	if !r.need(4, field) {
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) u64(field string) uint64 {
	if !r.need(8, field) {
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b[r.off:])
	r.off += 8
	return v
}

func (r *reader) bytes(n int, field string) []byte {
	if !r.need(n, field) {
		return nil
	}
	v := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return v
}

func (r *reader) addr(field string) string {
	n := int(r.u8(field))
	return string(r.bytes(n, field))
}

// start checks the type byte.
func (r *reader) start() {
	if len(r.b) == 0 {
		r.err = fieldError(ErrTruncated, r.t, "type", "empty message")
		return
	}
	if Type(r.b[0]) != r.t {
		r.err = fmt.Errorf("%w: %s where %s expected", ErrUnknownType, Type(r.b[0]), r.t)
		return
	}
	r.off = 1
}

// finish returns the bytes read and checks for trailing bytes.
func (r *reader) finish() (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.off != len(r.b) {
		return 0, fieldError(ErrTrailing, r.t, "end", "%d bytes", len(r.b)-r.off)
	}
	return r.off, nil
}

// ParseHello decodes a Hello message (the whole of b).
func ParseHello(b []byte) (Hello, int, error) {
	r := reader{b: b, t: TypeHello}
	r.start()
	m := Hello{Version: r.u8("version"), Rank: r.u8("rank")}
	m.ClientAddr = r.addr("client_addr")
	n, err := r.finish()
	if err != nil {
		return Hello{}, 0, err
	}
	return m, n, nil
}

// ParseKeyframe decodes a Keyframe message. Tuning and Zstd alias b.
func ParseKeyframe(b []byte) (Keyframe, int, error) {
	r := reader{b: b, t: TypeKeyframe}
	r.start()
	m := Keyframe{Tick: r.u64("tick")}
	m.Tuning = r.bytes(int(r.u8("tuning")), "tuning")
	m.RawLen = r.u32("raw_len")
	if r.err == nil && m.RawLen > MaxSnapshot {
		r.err = fieldError(ErrTooLarge, r.t, "raw_len", "%d bytes, limit %d", m.RawLen, MaxSnapshot)
	}
	zl := r.u32("zstd_len")
	if r.err == nil && zl > maxZstd {
		r.err = fieldError(ErrTooLarge, r.t, "zstd_len", "%d bytes, limit %d", zl, maxZstd)
	}
	m.Zstd = r.bytes(int(zl), "zstd")
	n, err := r.finish()
	if err != nil {
		return Keyframe{}, 0, err
	}
	return m, n, nil
}

// commands reads a u32 count and that many commands into cmds[:0].
func (r *reader) commands(cmds []ecs.Command) []ecs.Command {
	cnt := r.u32("count")
	if r.err == nil && cnt > MaxCommands {
		r.err = fieldError(ErrTooLarge, r.t, "count", "%d commands, limit %d", cnt, MaxCommands)
	}
	if r.err == nil && uint64(len(r.b)-r.off) < uint64(cnt)*CommandSize {
		r.err = fieldError(ErrTruncated, r.t, "commands", "%d commands need %d bytes, have %d", cnt, uint64(cnt)*CommandSize, len(r.b)-r.off)
	}
	if r.err != nil {
		return nil
	}
	cmds = cmds[:0]
	for range cnt {
		c := r.bytes(CommandSize, "command")
		cmd := ecs.Command{
			Kind:   ecs.CommandKind(c[0]),
			Player: ecs.NetID(binary.LittleEndian.Uint32(c[1:])),
			Input:  ecs.Input{MoveX: int8(c[5]), MoveY: int8(c[6]), Buttons: c[7], Emote: c[8]},
			Arg:    binary.LittleEndian.Uint32(c[9:]),
		}
		copy(cmd.Art.Hash[:], c[13:45])
		cmd.Art.Width = binary.LittleEndian.Uint16(c[45:])
		cmd.Art.Height = binary.LittleEndian.Uint16(c[47:])
		cmds = append(cmds, cmd)
	}
	return cmds
}

// ParseRelay decodes a Relay message, appending its commands to cmds[:0].
func ParseRelay(b []byte, cmds []ecs.Command) (Relay, int, error) {
	r := reader{b: b, t: TypeRelay}
	r.start()
	m := Relay{Cmds: r.commands(cmds)}
	n, err := r.finish()
	if err != nil {
		return Relay{}, 0, err
	}
	return m, n, nil
}

// ParseTick decodes a Tick message, appending its commands to cmds[:0] (pass the
// previous Tick's Cmds to decode without allocating).
func ParseTick(b []byte, cmds []ecs.Command) (Tick, int, error) {
	r := reader{b: b, t: TypeTick}
	r.start()
	m := Tick{Tick: r.u64("tick"), Hash: r.u64("hash")}
	m.Cmds = r.commands(cmds)
	n, err := r.finish()
	if err != nil {
		return Tick{}, 0, err
	}
	return m, n, nil
}

// ParseHeartbeat decodes a Heartbeat message.
func ParseHeartbeat(b []byte) (Heartbeat, int, error) {
	r := reader{b: b, t: TypeHeartbeat}
	r.start()
	m := Heartbeat{Tick: r.u64("tick")}
	n, err := r.finish()
	if err != nil {
		return Heartbeat{}, 0, err
	}
	return m, n, nil
}

// ParseRoster decodes a Roster message.
func ParseRoster(b []byte) (Roster, int, error) {
	r := reader{b: b, t: TypeRoster}
	r.start()
	cnt := int(r.u8("count"))
	if r.err == nil && cnt > MaxRoster {
		r.err = fieldError(ErrTooLarge, r.t, "count", "%d entries, limit %d", cnt, MaxRoster)
	}
	// Each entry takes at least 3 bytes: check before allocating.
	if r.err == nil && len(b)-r.off < 3*cnt {
		r.err = fieldError(ErrTruncated, r.t, "entries", "%d entries need at least %d bytes, have %d", cnt, 3*cnt, len(b)-r.off)
	}
	var m Roster
	if r.err == nil && cnt > 0 {
		m.Entries = make([]RosterEntry, 0, cnt)
	}
	for i := 0; i < cnt && r.err == nil; i++ {
		e := RosterEntry{Rank: r.u8("rank")}
		e.ClientAddr = r.addr("client_addr")
		e.SyncAddr = r.addr("sync_addr")
		m.Entries = append(m.Entries, e)
	}
	n, err := r.finish()
	if err != nil {
		return Roster{}, 0, err
	}
	return m, n, nil
}

// ParseHandOver decodes a HandOver message.
func ParseHandOver(b []byte) (HandOver, int, error) {
	r := reader{b: b, t: TypeHandOver}
	r.start()
	m := HandOver{Tick: r.u64("tick"), Rank: r.u8("rank")}
	n, err := r.finish()
	if err != nil {
		return HandOver{}, 0, err
	}
	return m, n, nil
}

// ParsePromote decodes a Promote message.
func ParsePromote(b []byte) (Promote, int, error) {
	r := reader{b: b, t: TypePromote}
	r.start()
	m := Promote{Tick: r.u64("tick"), Rank: r.u8("rank")}
	m.ClientAddr = r.addr("client_addr")
	n, err := r.finish()
	if err != nil {
		return Promote{}, 0, err
	}
	return m, n, nil
}

// ParseSessions decodes a Sessions message, appending its entries to es[:0].
func ParseSessions(b []byte, es []server.Binding) (Sessions, int, error) {
	r := reader{b: b, t: TypeSessions}
	r.start()
	m := Sessions{Tick: r.u64("tick")}
	switch f := r.u8("full"); {
	case r.err != nil:
	case f > 1:
		r.err = fieldError(ErrTooLarge, r.t, "full", "%d, want 0 or 1", f)
	default:
		m.Full = f == 1
	}
	cnt := r.u32("count")
	if r.err == nil && cnt > MaxSessions {
		r.err = fieldError(ErrTooLarge, r.t, "count", "%d entries, limit %d", cnt, MaxSessions)
	}
	if r.err == nil && uint64(len(b)-r.off) < uint64(cnt)*sessionSize {
		r.err = fieldError(ErrTruncated, r.t, "entries", "%d entries need %d bytes, have %d", cnt, uint64(cnt)*sessionSize, len(b)-r.off)
	}
	if r.err != nil {
		return Sessions{}, 0, r.err
	}
	es = es[:0]
	for range cnt {
		es = append(es, server.Binding{Client: r.u64("client"), ID: ecs.NetID(r.u32("netid"))})
	}
	m.Entries = es
	n, err := r.finish()
	if err != nil {
		return Sessions{}, 0, err
	}
	return m, n, nil
}

// Parse decodes any message by its type byte. Byte slices in the result alias b.
func Parse(b []byte) (Message, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty message", ErrTruncated)
	}
	var (
		m   Message
		err error
	)
	switch Type(b[0]) {
	case TypeHello:
		var v Hello
		v, _, err = ParseHello(b)
		m = &v
	case TypeKeyframe:
		var v Keyframe
		v, _, err = ParseKeyframe(b)
		m = &v
	case TypeTick:
		var v Tick
		v, _, err = ParseTick(b, nil)
		m = &v
	case TypeHeartbeat:
		var v Heartbeat
		v, _, err = ParseHeartbeat(b)
		m = &v
	case TypeRoster:
		var v Roster
		v, _, err = ParseRoster(b)
		m = &v
	case TypeHandOver:
		var v HandOver
		v, _, err = ParseHandOver(b)
		m = &v
	case TypePromote:
		var v Promote
		v, _, err = ParsePromote(b)
		m = &v
	case TypeSessions:
		var v Sessions
		v, _, err = ParseSessions(b, nil)
		m = &v
	case TypeRelay:
		var v Relay
		v, _, err = ParseRelay(b, nil)
		m = &v
	default:
		return nil, fmt.Errorf("%w: %d", ErrUnknownType, b[0])
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}
