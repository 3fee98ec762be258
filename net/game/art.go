package game

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/shardsim/shardsim/ecs"
)

// Art message types. Values are part of the wire format: never renumber. All travel on
// the reliable channel. See doc.go, "Art upload and fetch".
const (
	TypeUploadBegin MsgType = 0x03 // client → server: start or resume an upload
	TypeUploadChunk MsgType = 0x04 // client → server: bytes of the upload
	TypeFetchArt    MsgType = 0x05 // client → server: send me the bytes of this art
	TypeUploadAck   MsgType = 0x14 // server → client: bytes of the upload received
	TypeUploadDone  MsgType = 0x15 // server → client: upload stored and placed
	TypeUploadError MsgType = 0x16 // server → client: upload refused or failed
	TypeCanvasInfo  MsgType = 0x17 // server → client: a canvas of the world
	TypeArtChunk    MsgType = 0x18 // server → client: bytes of fetched art
	TypeFetchError  MsgType = 0x19 // server → client: fetch refused or failed
)

// Content types of an upload ([UploadBeginMsg.Type]).
const (
	ContentPNG  uint8 = 1
	ContentJPEG uint8 = 2
)

// Limits of the art messages.
const (
	// MaxChunk is the most bytes one UploadChunk or ArtChunk carries.
	MaxChunk = 1024
	// MaxArtSize is the largest art size the protocol can describe (u32); servers
	// enforce a much smaller limit of their own.
	MaxArtSize = 1<<32 - 1
)

// ArtCode says why an upload or a fetch failed ([ArtErrorMsg]).
type ArtCode uint16

// Art error codes. Values are part of the wire format: never renumber.
const (
	ArtTooLarge     ArtCode = 1  // declared size above the server's limit (or 0)
	ArtNotImage     ArtCode = 2  // not a PNG or JPEG, or the header does not decode
	ArtTooManyPix   ArtCode = 3  // pixel dimensions above the server's bounds
	ArtHashMismatch ArtCode = 4  // the bytes do not hash to the declared SHA-256
	ArtBusy         ArtCode = 5  // too many uploads in progress (server-wide or per client)
	ArtProtocol     ArtCode = 6  // chunk without a begin, offset past the data received...
	ArtTimeout      ArtCode = 7  // the upload was abandoned and cleaned up
	ArtInternal     ArtCode = 8  // the server could not store or read the art
	ArtNotFound     ArtCode = 9  // fetch: no art with this hash
	ArtPlacement    ArtCode = 10 // stored, but the world refused the canvas (full, player gone)
	ArtNoStore      ArtCode = 11 // this server does not accept art
)

func (c ArtCode) String() string {
	switch c {
	case ArtTooLarge:
		return "too large"
	case ArtNotImage:
		return "not an image"
	case ArtTooManyPix:
		return "too many pixels"
	case ArtHashMismatch:
		return "hash mismatch"
	case ArtBusy:
		return "busy"
	case ArtProtocol:
		return "protocol error"
	case ArtTimeout:
		return "timed out"
	case ArtInternal:
		return "internal error"
	case ArtNotFound:
		return "not found"
	case ArtPlacement:
		return "placement refused"
	case ArtNoStore:
		return "no art store"
	}
	return fmt.Sprintf("art code %d", uint16(c))
}

// artName names the art message types (MsgType.String predates them).
func artName(t MsgType) string {
	switch t {
	case TypeUploadBegin:
		return "upload begin"
	case TypeUploadChunk:
		return "upload chunk"
	case TypeFetchArt:
		return "fetch art"
	case TypeUploadAck:
		return "upload ack"
	case TypeUploadDone:
		return "upload done"
	case TypeUploadError:
		return "upload error"
	case TypeCanvasInfo:
		return "canvas info"
	case TypeArtChunk:
		return "art chunk"
	case TypeFetchError:
		return "fetch error"
	}
	return t.String()
}

// check verifies the type byte and the exact or minimum length of an art message.
func check(b []byte, t MsgType, size int, exact bool) error {
	if len(b) == 0 {
		return ErrShort
	}
	if MsgType(b[0]) != t {
		return ErrType
	}
	if len(b) < size {
		return fmt.Errorf("%s: %w: %d bytes, need %d", artName(t), ErrShort, len(b), size)
	}
	if exact && len(b) > size {
		return fmt.Errorf("%s: %w: %d bytes, want %d", artName(t), ErrTrailing, len(b), size)
	}
	return nil
}

// ---- UploadBegin ----

// UploadBeginSize is the exact size of an UploadBegin message.
const UploadBeginSize = 1 + 4 + 32 + 1

// UploadBeginMsg starts an upload, or resumes the client's unfinished upload of the same
// hash: the server answers with an [UploadAckMsg] giving the offset to continue from.
type UploadBeginMsg struct {
	Size uint32   // total bytes, ≥ 1
	Hash [32]byte // SHA-256 of the bytes
	Type uint8    // ContentPNG or ContentJPEG
}

// AppendUploadBegin appends the UploadBegin message m to b.
func AppendUploadBegin(b []byte, m *UploadBeginMsg) []byte {
	b = append(b, byte(TypeUploadBegin))
	b = binary.LittleEndian.AppendUint32(b, m.Size)
	b = append(b, m.Hash[:]...)
	return append(b, m.Type)
}

// ParseUploadBegin parses an UploadBegin message.
func ParseUploadBegin(b []byte) (UploadBeginMsg, error) {
	var m UploadBeginMsg
	if err := check(b, TypeUploadBegin, UploadBeginSize, true); err != nil {
		return m, err
	}
	m.Size = binary.LittleEndian.Uint32(b[1:])
	copy(m.Hash[:], b[5:37])
	m.Type = b[37]
	if m.Size == 0 {
		return m, fmt.Errorf("upload begin: %w: size 0", ErrRange)
	}
	if m.Type != ContentPNG && m.Type != ContentJPEG {
		return m, fmt.Errorf("upload begin: %w: content type %d", ErrRange, m.Type)
	}
	return m, nil
}

// ---- UploadChunk ----

const uploadChunkHeader = 1 + 4 + 2

// UploadChunkMsg carries bytes [Offset, Offset+len(Data)) of the current upload.
type UploadChunkMsg struct {
	Offset uint32
	Data   []byte // 1..MaxChunk bytes; aliases the parsed buffer
}

// AppendUploadChunk appends the UploadChunk message m to b. It panics if m.Data is
// empty or longer than [MaxChunk].
func AppendUploadChunk(b []byte, m *UploadChunkMsg) []byte {
	if len(m.Data) == 0 || len(m.Data) > MaxChunk {
		panic("game: upload chunk data empty or longer than MaxChunk")
	}
	b = append(b, byte(TypeUploadChunk))
	b = binary.LittleEndian.AppendUint32(b, m.Offset)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(m.Data)))
	return append(b, m.Data...)
}

// ParseUploadChunk parses an UploadChunk message. The returned Data aliases b.
func ParseUploadChunk(b []byte) (UploadChunkMsg, error) {
	var m UploadChunkMsg
	if err := check(b, TypeUploadChunk, uploadChunkHeader, false); err != nil {
		return m, err
	}
	m.Offset = binary.LittleEndian.Uint32(b[1:])
	n := int(binary.LittleEndian.Uint16(b[5:]))
	switch {
	case n == 0 || n > MaxChunk:
		return m, fmt.Errorf("upload chunk: %w: %d bytes", ErrRange, n)
	case uint64(m.Offset)+uint64(n) > MaxArtSize:
		return m, fmt.Errorf("upload chunk: %w: ends past 2^32", ErrRange)
	case len(b) < uploadChunkHeader+n:
		return m, fmt.Errorf("upload chunk: %w: %d data bytes, have %d", ErrShort, n, len(b)-uploadChunkHeader)
	case len(b) > uploadChunkHeader+n:
		return m, fmt.Errorf("upload chunk: %w", ErrTrailing)
	}
	m.Data = b[uploadChunkHeader : uploadChunkHeader+n : uploadChunkHeader+n]
	return m, nil
}

// ---- FetchArt ----

// FetchArtSize is the exact size of a FetchArt message.
const FetchArtSize = 1 + 32

// FetchArtMsg asks for the bytes of the art with SHA-256 Hash: the server answers with
// [ArtChunkMsg]s in order, or an [ArtErrorMsg] (TypeFetchError).
type FetchArtMsg struct {
	Hash [32]byte
}

// AppendFetchArt appends the FetchArt message m to b.
func AppendFetchArt(b []byte, m *FetchArtMsg) []byte {
	b = append(b, byte(TypeFetchArt))
	return append(b, m.Hash[:]...)
}

// ParseFetchArt parses a FetchArt message.
func ParseFetchArt(b []byte) (FetchArtMsg, error) {
	var m FetchArtMsg
	if err := check(b, TypeFetchArt, FetchArtSize, true); err != nil {
		return m, err
	}
	copy(m.Hash[:], b[1:])
	return m, nil
}

// ---- UploadAck ----

// UploadAckSize is the exact size of an UploadAck message.
const UploadAckSize = 1 + 32 + 4

// UploadAckMsg tells the uploader how many bytes the server holds: the answer to a Begin
// (0, or where a resumed upload continues) and progress while chunks arrive.
type UploadAckMsg struct {
	Hash     [32]byte
	Received uint32
}

// AppendUploadAck appends the UploadAck message m to b.
func AppendUploadAck(b []byte, m *UploadAckMsg) []byte {
	b = append(b, byte(TypeUploadAck))
	b = append(b, m.Hash[:]...)
	return binary.LittleEndian.AppendUint32(b, m.Received)
}

// ParseUploadAck parses an UploadAck message.
func ParseUploadAck(b []byte) (UploadAckMsg, error) {
	var m UploadAckMsg
	if err := check(b, TypeUploadAck, UploadAckSize, true); err != nil {
		return m, err
	}
	copy(m.Hash[:], b[1:33])
	m.Received = binary.LittleEndian.Uint32(b[33:])
	return m, nil
}

// ---- UploadDone ----

// UploadDoneSize is the exact size of an UploadDone message.
const UploadDoneSize = 1 + 32 + 4 + 2 + 2

// UploadDoneMsg reports a stored upload and the canvas placed for it.
type UploadDoneMsg struct {
	Hash          [32]byte
	Canvas        ecs.CanvasID // ≥ 1
	Width, Height uint16
}

// AppendUploadDone appends the UploadDone message m to b.
func AppendUploadDone(b []byte, m *UploadDoneMsg) []byte {
	b = append(b, byte(TypeUploadDone))
	b = append(b, m.Hash[:]...)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Canvas))
	b = binary.LittleEndian.AppendUint16(b, m.Width)
	return binary.LittleEndian.AppendUint16(b, m.Height)
}

// ParseUploadDone parses an UploadDone message.
func ParseUploadDone(b []byte) (UploadDoneMsg, error) {
	var m UploadDoneMsg
	if err := check(b, TypeUploadDone, UploadDoneSize, true); err != nil {
		return m, err
	}
	copy(m.Hash[:], b[1:33])
	m.Canvas = ecs.CanvasID(binary.LittleEndian.Uint32(b[33:]))
	m.Width = binary.LittleEndian.Uint16(b[37:])
	m.Height = binary.LittleEndian.Uint16(b[39:])
	if m.Canvas == 0 {
		return m, fmt.Errorf("upload done: %w: canvas id 0", ErrRange)
	}
	return m, nil
}

// ---- UploadError / FetchError ----

const artErrorHeader = 1 + 32 + 2 + 1

// ArtErrorMsg is the body of UploadError and FetchError messages.
type ArtErrorMsg struct {
	Hash [32]byte // the art concerned (zero if unknown)
	Code ArtCode
	Text string // UTF-8, at most MaxTextLen bytes
}

// AppendUploadError appends an UploadError message to b.
func AppendUploadError(b []byte, m *ArtErrorMsg) []byte {
	return appendArtError(b, TypeUploadError, m)
}

// AppendFetchError appends a FetchError message to b.
func AppendFetchError(b []byte, m *ArtErrorMsg) []byte {
	return appendArtError(b, TypeFetchError, m)
}

// ParseUploadError parses an UploadError message.
func ParseUploadError(b []byte) (ArtErrorMsg, error) { return parseArtError(b, TypeUploadError) }

// ParseFetchError parses a FetchError message.
func ParseFetchError(b []byte) (ArtErrorMsg, error) { return parseArtError(b, TypeFetchError) }

func appendArtError(b []byte, t MsgType, m *ArtErrorMsg) []byte {
	text := truncateUTF8(strings.ToValidUTF8(m.Text, "\uFFFD"), MaxTextLen)
	b = append(b, byte(t))
	b = append(b, m.Hash[:]...)
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Code))
	b = append(b, byte(len(text)))
	return append(b, text...)
}

func parseArtError(b []byte, t MsgType) (ArtErrorMsg, error) {
	var m ArtErrorMsg
	if err := check(b, t, artErrorHeader, false); err != nil {
		return m, err
	}
	n := int(b[35])
	switch {
	case len(b) < artErrorHeader+n:
		return m, fmt.Errorf("%s: %w: text of %d bytes, have %d", artName(t), ErrShort, n, len(b)-artErrorHeader)
	case len(b) > artErrorHeader+n:
		return m, fmt.Errorf("%s: %w", artName(t), ErrTrailing)
	case !utf8.Valid(b[artErrorHeader:]):
		return m, fmt.Errorf("%s: %w", artName(t), ErrUTF8)
	}
	copy(m.Hash[:], b[1:33])
	m.Code = ArtCode(binary.LittleEndian.Uint16(b[33:]))
	m.Text = string(b[artErrorHeader:])
	return m, nil
}

// ---- CanvasInfo ----

// CanvasInfoSize is the exact size of a CanvasInfo message.
const CanvasInfoSize = 1 + 4 + 4 + 4 + 4 + 2 + 8 + 32 + 2 + 2 + 4

// CanvasInfoMsg describes one canvas of the world: every existing one after the Welcome,
// and each new one when it is placed.
type CanvasInfoMsg struct {
	ecs.Canvas
	Size uint32 // bytes of the art in the server's store (0: not held)
}

// AppendCanvasInfo appends the CanvasInfo message m to b.
func AppendCanvasInfo(b []byte, m *CanvasInfoMsg) []byte {
	c := &m.Canvas
	b = append(b, byte(TypeCanvasInfo))
	b = binary.LittleEndian.AppendUint32(b, uint32(c.ID))
	b = binary.LittleEndian.AppendUint32(b, uint32(c.Owner))
	b = binary.LittleEndian.AppendUint32(b, uint32(c.Pos.X))
	b = binary.LittleEndian.AppendUint32(b, uint32(c.Pos.Y))
	b = binary.LittleEndian.AppendUint16(b, c.Head.Angle)
	b = binary.LittleEndian.AppendUint64(b, c.Placed)
	b = append(b, c.Art.Hash[:]...)
	b = binary.LittleEndian.AppendUint16(b, c.Art.Width)
	b = binary.LittleEndian.AppendUint16(b, c.Art.Height)
	return binary.LittleEndian.AppendUint32(b, m.Size)
}

// ParseCanvasInfo parses a CanvasInfo message.
func ParseCanvasInfo(b []byte) (CanvasInfoMsg, error) {
	var m CanvasInfoMsg
	if err := check(b, TypeCanvasInfo, CanvasInfoSize, true); err != nil {
		return m, err
	}
	c := &m.Canvas
	c.ID = ecs.CanvasID(binary.LittleEndian.Uint32(b[1:]))
	c.Owner = ecs.NetID(binary.LittleEndian.Uint32(b[5:]))
	c.Pos = ecs.Position{X: int32(binary.LittleEndian.Uint32(b[9:])), Y: int32(binary.LittleEndian.Uint32(b[13:]))}
	c.Head = ecs.Heading{Angle: binary.LittleEndian.Uint16(b[17:])}
	c.Placed = binary.LittleEndian.Uint64(b[19:])
	copy(c.Art.Hash[:], b[27:59])
	c.Art.Width = binary.LittleEndian.Uint16(b[59:])
	c.Art.Height = binary.LittleEndian.Uint16(b[61:])
	m.Size = binary.LittleEndian.Uint32(b[63:])
	switch {
	case c.ID == 0:
		return m, fmt.Errorf("canvas info: %w: id 0", ErrRange)
	case c.Pos.X < 0 || c.Pos.X > ecs.MaxArena || c.Pos.Y < 0 || c.Pos.Y > ecs.MaxArena:
		return m, fmt.Errorf("canvas info: %w: position (%d, %d)", ErrRange, c.Pos.X, c.Pos.Y)
	case c.Art.Width == 0 || c.Art.Height == 0 || c.Art.Width > ecs.MaxArtSide || c.Art.Height > ecs.MaxArtSide:
		return m, fmt.Errorf("canvas info: %w: art %d×%d", ErrRange, c.Art.Width, c.Art.Height)
	}
	return m, nil
}

// ---- ArtChunk ----

const artChunkHeader = 1 + 32 + 4 + 4 + 2

// ArtChunkMsg carries bytes [Offset, Offset+len(Data)) of fetched art of Total bytes.
// Chunks of one fetch arrive in order on the reliable channel.
type ArtChunkMsg struct {
	Hash   [32]byte
	Total  uint32 // ≥ 1
	Offset uint32
	Data   []byte // 1..MaxChunk bytes, Offset+len(Data) ≤ Total; aliases the parsed buffer
}

// AppendArtChunk appends the ArtChunk message m to b. It panics if m.Data is empty,
// longer than [MaxChunk] or ends past m.Total.
func AppendArtChunk(b []byte, m *ArtChunkMsg) []byte {
	if len(m.Data) == 0 || len(m.Data) > MaxChunk || uint64(m.Offset)+uint64(len(m.Data)) > uint64(m.Total) {
		panic("game: art chunk data empty, longer than MaxChunk or past Total")
	}
	b = append(b, byte(TypeArtChunk))
	b = append(b, m.Hash[:]...)
	b = binary.LittleEndian.AppendUint32(b, m.Total)
	b = binary.LittleEndian.AppendUint32(b, m.Offset)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(m.Data)))
	return append(b, m.Data...)
}

// ParseArtChunk parses an ArtChunk message. The returned Data aliases b.
func ParseArtChunk(b []byte) (ArtChunkMsg, error) {
	var m ArtChunkMsg
	if err := check(b, TypeArtChunk, artChunkHeader, false); err != nil {
		return m, err
	}
	copy(m.Hash[:], b[1:33])
	m.Total = binary.LittleEndian.Uint32(b[33:])
	m.Offset = binary.LittleEndian.Uint32(b[37:])
	n := int(binary.LittleEndian.Uint16(b[41:]))
	switch {
	case n == 0 || n > MaxChunk:
		return m, fmt.Errorf("art chunk: %w: %d bytes", ErrRange, n)
	case uint64(m.Offset)+uint64(n) > uint64(m.Total):
		return m, fmt.Errorf("art chunk: %w: bytes %d+%d past total %d", ErrRange, m.Offset, n, m.Total)
	case len(b) < artChunkHeader+n:
		return m, fmt.Errorf("art chunk: %w: %d data bytes, have %d", ErrShort, n, len(b)-artChunkHeader)
	case len(b) > artChunkHeader+n:
		return m, fmt.Errorf("art chunk: %w", ErrTrailing)
	}
	m.Data = b[artChunkHeader : artChunkHeader+n : artChunkHeader+n]
	return m, nil
}
