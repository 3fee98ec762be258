package replay

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error the package returns for bad input matches one of them with
// [errors.Is]; most also carry a location ([*BlockError], [*TruncatedError]) found with
// [errors.As].
var (
	// ErrBadMagic: the data does not start with [Magic].
	ErrBadMagic = errors.New("replay: not a replay file (bad magic)")
	// ErrUnknownVersion: the format version is not [Version]; see [*VersionError].
	ErrUnknownVersion = errors.New("replay: unknown format version")
	// ErrChecksum: a stored CRC-32C does not match the bytes it covers.
	ErrChecksum = errors.New("replay: checksum mismatch")
	// ErrTruncated: the file ends before its end block; see [*TruncatedError].
	ErrTruncated = errors.New("replay: truncated")
	// ErrTooLarge: a length or count is over a [Limits] cap or the format's own bounds.
	ErrTooLarge = errors.New("replay: length over limit")
	// ErrTickGap: tick numbers are not contiguous.
	ErrTickGap = errors.New("replay: tick gap")
	// ErrBlockOrder: blocks are not in the order the format requires (initial snapshot
	// first, keyframes only for the last recorded tick, ...).
	ErrBlockOrder = errors.New("replay: block out of order")
	// ErrUnknownBlock: a block kind this version does not define.
	ErrUnknownBlock = errors.New("replay: unknown block kind")
	// ErrUnknownCommand: a command kind this version does not define.
	ErrUnknownCommand = errors.New("replay: unknown command kind")
	// ErrMalformed: bytes that do not parse as the record they should hold (short
	// record, non-canonical varint, reserved bits set, wrong decompressed length, ...).
	ErrMalformed = errors.New("replay: malformed data")
	// ErrTrailingGarbage: bytes after the end block.
	ErrTrailingGarbage = errors.New("replay: trailing garbage after end block")
	// ErrNoKeyframe: [Reader.Keyframe] was asked for a tick that has no keyframe.
	ErrNoKeyframe = errors.New("replay: no keyframe at tick")

	// ErrTickOrder: [Writer.WriteTick] or [Writer.WriteKeyframe] got a tick out of order.
	ErrTickOrder = errors.New("replay: tick out of order")
	// ErrClosed: the [Writer] was used after Close.
	ErrClosed = errors.New("replay: writer closed")
)

// errorf returns an error matching sentinel whose text is the sentinel's followed by
// ": " and the formatted detail.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}

// trimPrefix drops the package prefix of a wrapped error's text so that messages do not
// stutter ("replay: block 3 ...: replay: ...").
func trimPrefix(err error) string {
	return strings.TrimPrefix(err.Error(), "replay: ")
}

// contextError adds context to an error's text while keeping it matchable.
type contextError struct {
	msg string
	err error
}

func (e *contextError) Error() string { return e.msg }
func (e *contextError) Unwrap() error { return e.err }

// withContext returns err with "replay: <context>: " in front of its text.
func withContext(err error, format string, args ...any) error {
	return &contextError{msg: "replay: " + fmt.Sprintf(format, args...) + ": " + trimPrefix(err), err: err}
}

// VersionError reports a file whose format version this package cannot read.
// It matches [ErrUnknownVersion].
type VersionError struct {
	Got  uint16 // version stored in the file
	Want uint16 // the version this package reads ([Version])
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("replay: unknown format version %d (this reader reads version %d)", e.Got, e.Want)
}

// Is reports whether target is [ErrUnknownVersion].
func (e *VersionError) Is(target error) bool { return target == ErrUnknownVersion }

// TruncatedError reports a replay that ends before its end block, as a writer killed
// mid-way leaves it. Everything before Offset reads; the error says how far.
// It matches [ErrTruncated].
type TruncatedError struct {
	// AfterTick is the last tick whose record is complete. Meaningless if NoTicks.
	AfterTick uint64
	// NoTicks is set when no tick record is complete.
	NoTicks bool
	// Offset is the byte offset where complete data ends: the first byte of the
	// incomplete block (or the file size, if the writer died between blocks).
	Offset int64
}

func (e *TruncatedError) Error() string {
	if e.NoTicks {
		return fmt.Sprintf("replay: truncated before the first tick (byte offset %d)", e.Offset)
	}
	return fmt.Sprintf("replay: truncated after tick %d (byte offset %d)", e.AfterTick, e.Offset)
}

// Is reports whether target is [ErrTruncated].
func (e *TruncatedError) Is(target error) bool { return target == ErrTruncated }

// BlockError locates a problem in a block of the body: its index (0 is the initial
// snapshot block), the byte offset of its header and its kind as stored. Err is the
// problem itself and matches one of the sentinels ([ErrChecksum], [ErrMalformed], ...).
type BlockError struct {
	Index  int
	Offset int64
	Kind   BlockKind
	Err    error
}

func (e *BlockError) Error() string {
	return fmt.Sprintf("replay: block %d (%v, byte offset %d): %s", e.Index, e.Kind, e.Offset, trimPrefix(e.Err))
}

// Unwrap returns e.Err.
func (e *BlockError) Unwrap() error { return e.Err }
