// Package replay reads and writes .replay files: the scenario a shard ran, its initial
// world snapshot, and per tick the commands applied and the state hash after the step,
// with a keyframe snapshot every K ticks. A [Writer] streams a replay as it is recorded;
// a [Reader] opens one for random access ([Reader.Keyframe], [Reader.Ticks]).
//
// World snapshots are opaque bytes here (see package ecs for their encoding).
//
// # Crash safety
//
// The body is a sequence of independently compressed, checksummed blocks, each handed to
// the underlying writer in one Write. Tick records are buffered and written as a block
// every WriterOptions.FlushEvery ticks and before every keyframe; with
// WriterOptions.Sync each block is fsync'd. A writer killed at any point leaves a file
// whose complete blocks all read: [Open] succeeds, every complete tick and keyframe
// reads, and [Reader.Err] and [TickIter.Err] return a [*TruncatedError] giving the last
// complete tick and the byte offset where complete data ends. Only [Writer.Close] writes
// the end block, so a file is known complete exactly when it has one.
//
// # Strictness
//
// The reader trusts nothing: every length is checked against the data left and against
// [Limits] before it is used, and every kind of damage is a distinct error matched with
// [errors.Is] (ErrBadMagic, ErrUnknownVersion, ErrChecksum, ErrTruncated, ErrTooLarge,
// ErrTickGap, ErrBlockOrder, ErrUnknownBlock, ErrUnknownCommand, ErrMalformed,
// ErrTrailingGarbage) and located with [errors.As] ([*BlockError], [*TruncatedError],
// [*VersionError]). No input makes the reader panic. Encodings are canonical (shortest
// varints, absent zero fields), so decoding and re-encoding a tick payload gives the
// same bytes.
//
// # Byte layout (format version 1)
//
// All fixed-width integers are little-endian. uvarint is the unsigned LEB128 varint of
// encoding/binary, in its shortest form (a longer form is an error). CRC is CRC-32C
// (Castagnoli).
//
// File header:
//
//	offset  size  field
//	0       8     magic "SHRDRPL\x00"
//	8       2     format version, uint16 (1)
//	10      4     body length H, uint32 (at most what Limits allow)
//	14      H     body:
//	                uvarint  len(Name) (<= 1024), then Name bytes
//	                uint64   Seed
//	                uint16   Rate (ticks/s)
//	                int32    ArenaW (µm)
//	                int32    ArenaH (µm)
//	                uint32   Entities
//	                uint32   SimVersion
//	                uint32   KeyframeEvery
//	                uint64   StartTick
//	                uvarint  len(Params) (<= Limits.MaxParams), then Params bytes
//	              the body must be exactly H bytes
//	14+H    4     CRC of bytes [0, 14+H)
//
// Body: blocks, back to back, each a 36-byte header then a payload:
//
//	offset  size  field
//	0       1     kind: 1 initial, 2 ticks, 3 keyframe, 4 end
//	1       3     reserved, zero
//	4       8     first tick, uint64
//	12      8     last tick, uint64
//	20      4     uncompressed payload length U, uint32
//	24      4     compressed payload length C, uint32 (C <= U + U/128 + 512)
//	28      4     CRC of the C payload bytes
//	32      4     CRC of header bytes [0, 32)
//	36      C     payload: one or more zstd frames decompressing to exactly U bytes
//
// The header CRC makes the lengths trustworthy, so the reader indexes the body by reading
// headers only. Blocks, in order:
//
//   - initial (exactly one, first): first = last = StartTick; payload is the world
//     snapshot before tick StartTick is stepped; U <= Limits.MaxSnapshot.
//   - ticks: records for ticks first..last, contiguous with the previous tick block (the
//     first tick block starts at StartTick); U <= Limits.MaxTickBlock and there are at
//     most U/10 records.
//   - keyframe: first = last = T, the last tick recorded so far, later than the previous
//     keyframe; payload is the world snapshot after tick T (its hash is tick T's hash);
//     U <= Limits.MaxSnapshot.
//   - end: written by [Writer.Close]; all other header fields zero, no payload; it must
//     be the last bytes of the file.
//
// A tick block's payload is last-first+1 tick records and nothing else:
//
//	uvarint  tick delta: 0 for the first record of the block (its tick is "first"),
//	         1 for each following record (version 1 has no gaps)
//	uvarint  command count n (<= Limits.MaxCommandsPerTick)
//	n ×      command, in the order applied
//	uint64   state hash after the tick
//
// A command ([ecs.Command]) is a head byte and the fields it flags; a field that is zero
// is omitted, and a flagged field must be nonzero:
//
//	head byte  bits 0-3 kind (1 input, 2 join, 3 leave, 4 game state, 5 place canvas;
//	           others are an error), bit 4 Player present, bit 5 Input present,
//	           bit 6 Arg present, bit 7 Art present
//	uvarint    Player (1 .. 2^32-1), if bit 4
//	4 bytes    Input: MoveX (int8), MoveY (int8), Buttons, Emote, if bit 5 (not all zero)
//	uvarint    Arg (1 .. 2^32-1), if bit 6
//	36 bytes   Art: SHA-256 [32]byte, width u16, height u16, if bit 7 (not all zero)
//
// A typical input command is 6 or 7 bytes before compression.
package replay
