package game

import "errors"

// Errors returned by this package. Match them with [errors.Is]. Parsers on the per-packet
// path ([ParseInput], [ParseSnapshotHeader], [Decoder.Apply]) return these sentinels
// unwrapped so that rejecting a bad packet never allocates; the rare-message parsers and
// the key-file functions wrap them with context.
var (
	// ErrShort: the message ends before a field the layout requires.
	ErrShort = errors.New("game: message too short")
	// ErrTrailing: bytes follow a message of fixed or self-delimited length.
	ErrTrailing = errors.New("game: trailing bytes after message")
	// ErrType: the first byte is not the message type the parser reads.
	ErrType = errors.New("game: wrong message type")
	// ErrRange: a field holds a value outside its documented range.
	ErrRange = errors.New("game: field out of range")
	// ErrUTF8: a text field is not valid UTF-8.
	ErrUTF8 = errors.New("game: text is not valid UTF-8")

	// ErrTokenMalformed: a connect token does not have the v1 text form.
	ErrTokenMalformed = errors.New("game: malformed connect token")
	// ErrTokenSignature: a well-formed token whose MAC does not verify under the key.
	ErrTokenSignature = errors.New("game: connect token signature mismatch")
	// ErrTokenExpired: an authentic token past its expiry.
	ErrTokenExpired = errors.New("game: connect token expired")

	// ErrKeyPermissions: the key file is readable or writable by group or others.
	ErrKeyPermissions = errors.New("game: key file permissions too open")
	// ErrKeyFile: the key file is not a regular file of exactly KeySize bytes.
	ErrKeyFile = errors.New("game: bad key file")

	// ErrTooLarge: a snapshot announces an uncompressed size above MaxPayload, or its
	// zstd frame would decompress to more (a zstd bomb).
	ErrTooLarge = errors.New("game: snapshot payload too large")
	// ErrCompressed: the zstd frame does not decode (corrupt data or checksum).
	ErrCompressed = errors.New("game: bad zstd frame")
	// ErrCorrupt: the decompressed snapshot payload breaks the layout (ids not ascending,
	// a removal or delta for an entity the baseline does not hold, unknown mask bits...).
	ErrCorrupt = errors.New("game: corrupt snapshot payload")
	// ErrBaselineMissing: the snapshot is a delta against a table the client no longer
	// (or never) held. The client keeps acking what it holds; the server then falls back
	// to an older baseline or a full snapshot.
	ErrBaselineMissing = errors.New("game: snapshot baseline not held")
	// ErrHashMismatch: the table built from the snapshot does not hash to the value the
	// server sent; the table is discarded.
	ErrHashMismatch = errors.New("game: snapshot state hash mismatch")
	// ErrDuplicate: a snapshot with this id was already applied.
	ErrDuplicate = errors.New("game: duplicate snapshot")
)

// ErrStale: a snapshot older than every table the client keeps; it is dropped.
var ErrStale = errors.New("game: snapshot too old to keep")
