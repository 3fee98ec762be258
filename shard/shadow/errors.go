package shadow

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error the package returns for bad bytes matches one of them with
// [errors.Is]; the text names the message type and field.
var (
	// ErrTruncated: a message ends before one of its fields.
	ErrTruncated = errors.New("shadow: message truncated")
	// ErrTrailing: bytes follow a complete message.
	ErrTrailing = errors.New("shadow: trailing bytes after message")
	// ErrUnknownType: the first byte is not a message [Type] this version defines.
	ErrUnknownType = errors.New("shadow: unknown message type")
	// ErrTooLarge: a count or length is over its limit ([MaxCommands], [MaxSnapshot], ...).
	ErrTooLarge = errors.New("shadow: field over its limit")
	// ErrKeyframe: a keyframe's snapshot does not decompress to its announced length.
	ErrKeyframe = errors.New("shadow: bad keyframe")
	// ErrVersion: a Hello speaks another protocol version.
	ErrVersion = errors.New("shadow: protocol version mismatch")
	// ErrRankTaken: a Hello claims a rank another connected shadow already holds.
	ErrRankTaken = errors.New("shadow: rank already taken")
	// ErrNoShadow: [Primary.HandOver] names a rank no connected, synced shadow holds.
	ErrNoShadow = errors.New("shadow: no synced shadow with that rank")
	// ErrClosed: the [Primary] or [Shadow] was closed.
	ErrClosed = errors.New("shadow: closed")
)

// fieldError reports a problem with field of a message of type t.
func fieldError(sentinel error, t Type, field string, format string, args ...any) error {
	detail := ""
	if format != "" {
		detail = ": " + fmt.Sprintf(format, args...)
	}
	return fmt.Errorf("%w: %s.%s%s", sentinel, t, field, detail)
}
