package game

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/shardsim/shardsim/ecs"
)

// MsgType is the first byte of every message of this protocol.
type MsgType uint8

// Message types. Values are part of the wire format: never renumber.
const (
	TypeHello    MsgType = 0x01 // client → server: protocol version + connect token
	TypeInput    MsgType = 0x02 // client → server: snapshot ack + redundant inputs
	TypeWelcome  MsgType = 0x10 // server → client: session accepted
	TypeKick     MsgType = 0x11 // server → client: session closed
	TypeError    MsgType = 0x12 // server → client: non-fatal error report
	TypeSnapshot MsgType = 0x13 // server → client: world snapshot (delta + zstd)
	// TypeCellSnapshot: server → client, protocol version 5: a cell-stream snapshot.
	TypeCellSnapshot MsgType = 0x1C
)

func (t MsgType) String() string {
	switch t {
	case TypeHello:
		return "hello"
	case TypeInput:
		return "input"
	case TypeWelcome:
		return "welcome"
	case TypeKick:
		return "kick"
	case TypeError:
		return "error"
	case TypeSnapshot:
		return "snapshot"
	case TypeCellSnapshot:
		return "cell snapshot"
	}
	return fmt.Sprintf("type(%#02x)", uint8(t))
}

// ProtocolVersion is the version a client announces in [HelloMsg] for per-client
// delta snapshots ([TypeSnapshot]); a client that sends its bare token gets them too.
const ProtocolVersion = 4

// CellProtocolVersion is the version a client announces in [HelloMsg] for cell-stream
// snapshots ([TypeCellSnapshot], see [CellEncoder]). Everything else is as in
// ProtocolVersion.
const CellProtocolVersion = 5

// PeekType returns the type of message b without parsing the rest.
func PeekType(b []byte) (MsgType, error) {
	if len(b) == 0 {
		return 0, ErrShort
	}
	return MsgType(b[0]), nil
}

// ---- Hello ----

// Sizes and limits of [HelloMsg].
const (
	// HelloSize is the exact size of a Hello message. It is padded with zeros to be at
	// least as large as any reply the server sends before the session is authenticated
	// ([WelcomeMsg], [NoticeMsg]), so the server never amplifies.
	HelloSize = 300
	// MaxTokenLen is the longest connect token a Hello carries.
	MaxTokenLen = 255
)

// HelloMsg opens a session: the first message a client sends.
type HelloMsg struct {
	Version uint16
	Token   []byte // connect token text (see [MintToken]); aliases the parsed buffer
}

// AppendHello appends the Hello message m to b. It panics if m.Token is longer than
// [MaxTokenLen].
func AppendHello(b []byte, m *HelloMsg) []byte {
	if len(m.Token) > MaxTokenLen {
		panic("game: connect token longer than MaxTokenLen")
	}
	b = append(b, byte(TypeHello))
	b = binary.LittleEndian.AppendUint16(b, m.Version)
	b = append(b, byte(len(m.Token)))
	b = append(b, m.Token...)
	var pad [HelloSize - 4]byte
	return append(b, pad[:HelloSize-4-len(m.Token)]...)
}

// ParseHello parses a Hello message. The returned Token aliases b.
func ParseHello(b []byte) (HelloMsg, error) {
	if len(b) == 0 {
		return HelloMsg{}, ErrShort
	}
	if MsgType(b[0]) != TypeHello {
		return HelloMsg{}, ErrType
	}
	if len(b) < HelloSize {
		return HelloMsg{}, ErrShort
	}
	if len(b) > HelloSize {
		return HelloMsg{}, ErrTrailing
	}
	n := int(b[3])
	for _, c := range b[4+n:] {
		if c != 0 {
			return HelloMsg{}, ErrRange // padding must be zero
		}
	}
	return HelloMsg{Version: binary.LittleEndian.Uint16(b[1:]), Token: b[4 : 4+n : 4+n]}, nil
}

// ---- Input ----

// MaxInputs is the most inputs one Input message carries.
const MaxInputs = 8

// Ack tells the server which snapshots the client holds: Newest, and bit i of Bits set
// when snapshot Newest-1-i is held too (i in [0, 32)). Newest 0 means none.
type Ack struct {
	Newest uint32
	Bits   uint32
}

// Has reports whether the ack covers snapshot id.
func (a Ack) Has(id uint32) bool {
	if a.Newest == 0 || id == 0 {
		return false
	}
	if id == a.Newest {
		return true
	}
	d := a.Newest - id - 1
	return id < a.Newest && d < 32 && a.Bits&(1<<d) != 0
}

// SeqInput is one input sampled by the client at its tick (sequence number) Seq.
type SeqInput struct {
	Seq uint32
	In  ecs.Input
}

// InputMsg is what a client sends every tick: its newest snapshot ack and its last N
// inputs, newest first, repeated so that a lost packet loses no input.
type InputMsg struct {
	Ack    Ack
	N      int // number of valid entries in Inputs, 0..MaxInputs
	Inputs [MaxInputs]SeqInput
}

const inputHeader = 1 + 4 + 4 + 1

// AppendInput appends the Input message m to b. It panics if m.N is outside [0, MaxInputs].
func AppendInput(b []byte, m *InputMsg) []byte {
	if m.N < 0 || m.N > MaxInputs {
		panic("game: InputMsg.N out of range")
	}
	b = append(b, byte(TypeInput))
	b = binary.LittleEndian.AppendUint32(b, m.Ack.Newest)
	b = binary.LittleEndian.AppendUint32(b, m.Ack.Bits)
	b = append(b, byte(m.N))
	for i := range m.N {
		in := &m.Inputs[i]
		b = binary.LittleEndian.AppendUint32(b, in.Seq)
		b = append(b, byte(in.In.MoveX), byte(in.In.MoveY), in.In.Buttons, in.In.Emote)
	}
	return b
}

// ParseInput parses an Input message. It does not allocate.
func ParseInput(b []byte) (InputMsg, error) {
	var m InputMsg
	if len(b) == 0 {
		return m, ErrShort
	}
	if MsgType(b[0]) != TypeInput {
		return m, ErrType
	}
	if len(b) < inputHeader {
		return m, ErrShort
	}
	n := int(b[9])
	if n > MaxInputs {
		return m, ErrRange
	}
	switch want := inputHeader + 8*n; {
	case len(b) < want:
		return m, ErrShort
	case len(b) > want:
		return m, ErrTrailing
	}
	m.Ack = Ack{Newest: binary.LittleEndian.Uint32(b[1:]), Bits: binary.LittleEndian.Uint32(b[5:])}
	m.N = n
	p := b[inputHeader:]
	for i := range n {
		q := p[8*i : 8*i+8]
		m.Inputs[i] = SeqInput{
			Seq: binary.LittleEndian.Uint32(q),
			In:  ecs.Input{MoveX: int8(q[4]), MoveY: int8(q[5]), Buttons: q[6], Emote: q[7]},
		}
	}
	return m, nil
}

// ---- Welcome ----

// Limits of [WelcomeMsg].
const (
	MaxShadows    = 4  // failover addresses in a Welcome
	MaxAddressLen = 64 // bytes of one failover address
)

// WelcomeMsg accepts a session.
type WelcomeMsg struct {
	NetID        ecs.NetID // the client's own entity
	Tick         uint64    // server tick at sending
	TickRate     uint16    // simulation ticks per second
	ArenaW       int32     // arena width, µm
	ArenaH       int32     // arena height, µm
	SnapshotRate uint16    // snapshots per second
	Shadows      []string  // failover addresses ("host:port"), at most MaxShadows
}

const welcomeHeader = 1 + 4 + 8 + 2 + 4 + 4 + 2 + 1

// AppendWelcome appends the Welcome message m to b. It panics if m holds more than
// [MaxShadows] addresses, an empty one or one longer than [MaxAddressLen] bytes.
func AppendWelcome(b []byte, m *WelcomeMsg) []byte {
	if len(m.Shadows) > MaxShadows {
		panic("game: more than MaxShadows shadow addresses")
	}
	b = append(b, byte(TypeWelcome))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.NetID))
	b = binary.LittleEndian.AppendUint64(b, m.Tick)
	b = binary.LittleEndian.AppendUint16(b, m.TickRate)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.ArenaW))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.ArenaH))
	b = binary.LittleEndian.AppendUint16(b, m.SnapshotRate)
	return appendAddrs(b, m.Shadows)
}

// appendAddrs appends a u8 count and the length-prefixed addresses. It panics on more
// than [MaxShadows] addresses, an empty one or one longer than [MaxAddressLen] bytes.
func appendAddrs(b []byte, addrs []string) []byte {
	if len(addrs) > MaxShadows {
		panic("game: more than MaxShadows shadow addresses")
	}
	b = append(b, byte(len(addrs)))
	for _, s := range addrs {
		if len(s) == 0 || len(s) > MaxAddressLen {
			panic("game: shadow address empty or longer than MaxAddressLen")
		}
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	return b
}

// parseAddrs parses what appendAddrs writes; p must end with it. what names the message
// in errors.
func parseAddrs(p []byte, what string) ([]string, error) {
	if len(p) < 1 {
		return nil, fmt.Errorf("%s: %w: address count", what, ErrShort)
	}
	n := int(p[0])
	if n > MaxShadows {
		return nil, fmt.Errorf("%s: %w: %d shadow addresses, max %d", what, ErrRange, n, MaxShadows)
	}
	p = p[1:]
	var addrs []string
	for i := range n {
		if len(p) < 1 {
			return nil, fmt.Errorf("%s: %w: shadow address %d length", what, ErrShort, i)
		}
		l := int(p[0])
		if l == 0 || l > MaxAddressLen {
			return nil, fmt.Errorf("%s: %w: shadow address %d is %d bytes", what, ErrRange, i, l)
		}
		if len(p) < 1+l {
			return nil, fmt.Errorf("%s: %w: shadow address %d", what, ErrShort, i)
		}
		if !utf8.Valid(p[1 : 1+l]) {
			return nil, fmt.Errorf("%s: shadow address %d: %w", what, i, ErrUTF8)
		}
		addrs = append(addrs, string(p[1:1+l]))
		p = p[1+l:]
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("%s: %w: %d bytes", what, ErrTrailing, len(p))
	}
	return addrs, nil
}

// ParseWelcome parses a Welcome message.
func ParseWelcome(b []byte) (WelcomeMsg, error) {
	var m WelcomeMsg
	if len(b) == 0 {
		return m, ErrShort
	}
	if MsgType(b[0]) != TypeWelcome {
		return m, ErrType
	}
	if len(b) < welcomeHeader {
		return m, fmt.Errorf("welcome: %w: %d bytes, header needs %d", ErrShort, len(b), welcomeHeader)
	}
	m.NetID = ecs.NetID(binary.LittleEndian.Uint32(b[1:]))
	m.Tick = binary.LittleEndian.Uint64(b[5:])
	m.TickRate = binary.LittleEndian.Uint16(b[13:])
	m.ArenaW = int32(binary.LittleEndian.Uint32(b[15:]))
	m.ArenaH = int32(binary.LittleEndian.Uint32(b[19:]))
	m.SnapshotRate = binary.LittleEndian.Uint16(b[23:])
	switch {
	case m.NetID == 0:
		return m, fmt.Errorf("welcome: %w: net id 0", ErrRange)
	case m.TickRate == 0 || m.SnapshotRate == 0:
		return m, fmt.Errorf("welcome: %w: tick rate %d, snapshot rate %d", ErrRange, m.TickRate, m.SnapshotRate)
	case m.ArenaW <= 0 || m.ArenaW > ecs.MaxArena || m.ArenaH <= 0 || m.ArenaH > ecs.MaxArena:
		return m, fmt.Errorf("welcome: %w: arena %d×%d µm", ErrRange, m.ArenaW, m.ArenaH)
	}
	var err error
	if m.Shadows, err = parseAddrs(b[welcomeHeader-1:], "welcome"); err != nil {
		return m, err
	}
	return m, nil
}

// ---- Kick / Error ----

// Reason says why a session was closed ([TypeKick]) or what went wrong ([TypeError]).
type Reason uint16

// Reason codes. Values are part of the wire format: never renumber.
const (
	ReasonUnspecified  Reason = 0
	ReasonBadToken     Reason = 1 // token malformed or signature mismatch
	ReasonTokenExpired Reason = 2
	ReasonVersion      Reason = 3 // unsupported protocol version
	ReasonServerFull   Reason = 4
	ReasonTimeout      Reason = 5 // no input for too long
	ReasonProtocol     Reason = 6 // too many malformed messages
	ReasonShutdown     Reason = 7 // the shard is stopping (see Welcome shadows for failover)
	ReasonReplaced     Reason = 8 // the same client id connected again
	ReasonInternal     Reason = 9
)

// MaxTextLen is the longest text a [NoticeMsg] carries; longer text is truncated on a
// UTF-8 boundary by [AppendKick] and [AppendError].
const MaxTextLen = 255

// NoticeMsg is the body of Kick and Error messages.
type NoticeMsg struct {
	Code Reason
	Text string // UTF-8, at most MaxTextLen bytes
}

// AppendKick appends a Kick message to b.
func AppendKick(b []byte, m *NoticeMsg) []byte { return appendNotice(b, TypeKick, m) }

// AppendError appends an Error message to b.
func AppendError(b []byte, m *NoticeMsg) []byte { return appendNotice(b, TypeError, m) }

// ParseKick parses a Kick message.
func ParseKick(b []byte) (NoticeMsg, error) { return parseNotice(b, TypeKick) }

// ParseError parses an Error message.
func ParseError(b []byte) (NoticeMsg, error) { return parseNotice(b, TypeError) }

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func appendNotice(b []byte, t MsgType, m *NoticeMsg) []byte {
	text := truncateUTF8(strings.ToValidUTF8(m.Text, "\uFFFD"), MaxTextLen)
	b = append(b, byte(t))
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Code))
	b = append(b, byte(len(text)))
	return append(b, text...)
}

func parseNotice(b []byte, t MsgType) (NoticeMsg, error) {
	var m NoticeMsg
	if len(b) == 0 {
		return m, ErrShort
	}
	if MsgType(b[0]) != t {
		return m, ErrType
	}
	if len(b) < 4 {
		return m, fmt.Errorf("%v: %w", t, ErrShort)
	}
	n := int(b[3])
	switch {
	case len(b) < 4+n:
		return m, fmt.Errorf("%v: %w: text of %d bytes, have %d", t, ErrShort, n, len(b)-4)
	case len(b) > 4+n:
		return m, fmt.Errorf("%v: %w", t, ErrTrailing)
	case !utf8.Valid(b[4:]):
		return m, fmt.Errorf("%v: %w", t, ErrUTF8)
	}
	m.Code = Reason(binary.LittleEndian.Uint16(b[1:]))
	m.Text = string(b[4:])
	return m, nil
}
