package godot

import (
	"errors"
	"fmt"
)

// Errors returned by the parsers. Match them with [errors.Is]; parsers on the
// per-packet path (frames, raw payloads, system messages) return these
// sentinels unwrapped so that rejecting a bad packet never allocates.
var (
	// ErrShort: the input ends before a field the format requires.
	ErrShort = errors.New("godot: packet too short")
	// ErrTrailing: bytes follow a message that has a fixed or self-delimited length.
	ErrTrailing = errors.New("godot: trailing bytes after message")
	// ErrSystemChannel: a Godot 3 packet arrived on the system channel (0)
	// where only game traffic is allowed, or vice versa.
	ErrSystemChannel = errors.New("godot: packet on the wrong channel")
	// ErrChannel: the ENet channel does not exist for this version.
	ErrChannel = errors.New("godot: unknown channel")
	// ErrSpoofedSource: a Godot 3 frame's source id is not the sender's peer id
	// (Godot's server drops these: "Someone is cheating and trying to fake the source!").
	ErrSpoofedSource = errors.New("godot: frame source id is not the sender's peer id")
	// ErrNotForServer: the packet targets another peer only; we do not relay.
	ErrNotForServer = errors.New("godot: packet is not addressed to the server")
	// ErrUnknownCommand: the command byte is not one this version defines.
	ErrUnknownCommand = errors.New("godot: unknown network command")
	// ErrNotRaw: a well-formed packet that carries another command than raw bytes.
	ErrNotRaw = errors.New("godot: not a raw-bytes packet")
	// ErrEmptyRaw: a raw-bytes command with no bytes (Godot refuses to send and to receive these).
	ErrEmptyRaw = errors.New("godot: empty raw payload")
	// ErrNotRPC: a well-formed packet that carries another command than a remote call.
	ErrNotRPC = errors.New("godot: not a remote-call packet")
	// ErrRPCMeta: a Godot 4 remote call whose meta byte uses an undefined id compression.
	ErrRPCMeta = errors.New("godot: bad RPC meta byte")
	// ErrSysKind: a system message of a kind this version does not define.
	ErrSysKind = errors.New("godot: unknown system message kind")
	// ErrPeerID: a peer id outside what Godot allows (clients are >= 2, server is 1).
	ErrPeerID = errors.New("godot: invalid peer id")

	// ErrVariantType: an encoded variant type that is not supported (see [UnsupportedTypeError]).
	ErrVariantType = errors.New("godot: unsupported variant type")
	// ErrVariantFlags: a variant header with flag bits the type does not define.
	ErrVariantFlags = errors.New("godot: unsupported variant header flags")
	// ErrTooDeep: arrays and dictionaries nest deeper than [MaxDepth].
	ErrTooDeep = errors.New("godot: variant nested too deeply")
	// ErrCount: an element or byte count is negative or larger than the input can hold.
	ErrCount = errors.New("godot: invalid count")
	// ErrUTF8: a string is not valid UTF-8.
	ErrUTF8 = errors.New("godot: invalid UTF-8")
	// ErrCString: a NUL-terminated string has no terminator, or contains a NUL.
	ErrCString = errors.New("godot: bad NUL-terminated string")
	// ErrTooManyArgs: an RPC with more than 255 arguments.
	ErrTooManyArgs = errors.New("godot: too many RPC arguments")
	// ErrPathOffset: an RPC node-path offset that does not point at the path.
	ErrPathOffset = errors.New("godot: bad RPC node path offset")
	// ErrVersion: a [Version] other than [V3] or [V4].
	ErrVersion = errors.New("godot: unknown version")
)

// UnsupportedTypeError reports a variant type this package does not encode or
// decode: on decode the Godot type id, on encode the Go type. It matches
// [ErrVariantType] with [errors.Is].
type UnsupportedTypeError struct {
	Version Version
	TypeID  uint32 // Godot type id when decoding, else 0
	GoType  string // Go type when encoding, else ""
}

func (e *UnsupportedTypeError) Error() string {
	if e.GoType != "" {
		return fmt.Sprintf("godot: %v cannot encode Go type %s as a variant", e.Version, e.GoType)
	}
	return fmt.Sprintf("godot: %v variant type %d is not supported", e.Version, e.TypeID)
}

// Is makes UnsupportedTypeError match ErrVariantType.
func (e *UnsupportedTypeError) Is(target error) bool { return target == ErrVariantType }

// at wraps a sentinel with the absolute byte offset where decoding failed.
func at(off int, err error) error { return &offsetError{Off: off, Err: err} }

// offsetError carries the offset of a variant/RPC decoding failure.
type offsetError struct {
	Off int
	Err error
}

func (e *offsetError) Error() string { return fmt.Sprintf("%v (at byte %d)", e.Err, e.Off) }
func (e *offsetError) Unwrap() error { return e.Err }
