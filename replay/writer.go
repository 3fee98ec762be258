package replay

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/klauspost/compress/zstd"

	"github.com/shardsim/shardsim/ecs"
)

// encoderWindow is the zstd window of the writer.
const encoderWindow = 1 << 20

// WriterOptions configures a [Writer]. The zero value is usable.
type WriterOptions struct {
	// FlushEvery is the number of ticks per tick block (0 = DefaultFlushEvery). A crash
	// loses at most the ticks of the block being filled.
	FlushEvery int
	// Sync calls w.Sync() after every block, so that a block is durable once written.
	// The writer given to NewWriter must then have a Sync() error method (*os.File has).
	Sync bool
	// Level is the zstd level, 1 (fastest) to 22, mapped onto the levels klauspost/zstd
	// implements (0 = its default, about level 3).
	Level int
	// Limits caps what the writer accepts; zero fields take their defaults. Files written
	// with raised limits need a reader opened with the same limits.
	Limits Limits
}

// Writer streams a replay to an io.Writer: the header and initial snapshot at
// [NewWriter], then tick records, buffered and written as one block every FlushEvery
// ticks, before each keyframe, at [Writer.Flush] and at [Writer.Close]. Each block
// reaches the underlying writer in a single Write call. Memory use is bounded by the
// largest block; it does not grow with the length of the replay.
//
// A Writer is not safe for concurrent use. After an error from the underlying writer
// every method returns that error.
type Writer struct {
	w      io.Writer
	syncer interface{ Sync() error }
	enc    *zstd.Encoder
	lim    Limits
	every  int
	hdr    Header

	ticks    []byte // pending tick records, uncompressed
	pending  int    // number of pending records
	first    uint64 // tick of the first pending record
	last     uint64 // last tick written (valid if haveLast)
	haveLast bool
	lastKey  uint64 // last keyframe tick (valid if haveKey)
	haveKey  bool

	blk    []byte // scratch: block header + compressed payload
	offset int64  // bytes written to w
	err    error  // sticky I/O error
	closed bool
}

// NewWriter writes the file header and the initial snapshot block to w and returns a
// Writer for the ticks that follow. The first tick written must be h.StartTick. If
// h.Scenario.KeyframeEvery is 0 it is recorded as DefaultKeyframeEvery.
func NewWriter(w io.Writer, h Header, initial []byte, opt WriterOptions) (*Writer, error) {
	lim := opt.Limits.resolve()
	if err := h.validate(lim); err != nil {
		return nil, err
	}
	if len(initial) > lim.MaxSnapshot {
		return nil, errorf(ErrTooLarge, "initial snapshot is %d bytes, max %d", len(initial), lim.MaxSnapshot)
	}
	wr := &Writer{w: w, lim: lim, every: opt.FlushEvery, hdr: h}
	if wr.every <= 0 {
		wr.every = DefaultFlushEvery
	}
	if opt.Sync {
		s, ok := w.(interface{ Sync() error })
		if !ok {
			return nil, fmt.Errorf("replay: WriterOptions.Sync is set but %T has no Sync method", w)
		}
		wr.syncer = s
	}
	if wr.hdr.Scenario.KeyframeEvery == 0 {
		wr.hdr.Scenario.KeyframeEvery = DefaultKeyframeEvery
	}
	level := zstd.SpeedDefault
	if opt.Level > 0 {
		level = zstd.EncoderLevelFromZstd(opt.Level)
	}
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(level),
		zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(false), // blocks carry their own CRC-32C
		zstd.WithZeroFrames(true),
		// Blocks over 128 KiB use a history buffer of about twice the window: keep it
		// small. Replay data gains nothing from a larger window.
		zstd.WithWindowSize(encoderWindow),
	)
	if err != nil {
		return nil, fmt.Errorf("replay: zstd encoder: %w", err)
	}
	wr.enc = enc

	wr.blk = appendFileHeader(wr.blk[:0], &wr.hdr)
	if err := wr.write(wr.blk); err != nil {
		return nil, err
	}
	if err := wr.writeBlock(BlockInitial, h.StartTick, h.StartTick, initial); err != nil {
		return nil, err
	}
	return wr, nil
}

// Header returns the header as written (with KeyframeEvery defaulted).
func (w *Writer) Header() Header { return w.hdr }

// Offset returns the number of bytes written to the underlying writer so far.
func (w *Writer) Offset() int64 { return w.offset }

func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrClosed
	}
	return nil
}

// nextTick returns the tick WriteTick expects next; ok is false after MaxUint64.
func (w *Writer) nextTick() (tick uint64, ok bool) {
	if !w.haveLast {
		return w.hdr.StartTick, true
	}
	return w.last + 1, w.last != math.MaxUint64
}

// WriteTick records the commands applied at tick and the state hash after it. Ticks
// must be consecutive, starting at Header.StartTick; commands must be of a known kind
// and at most Limits.MaxCommandsPerTick. WriteTick copies what it needs: cmds may be
// reused after it returns. It does not allocate once its buffers have grown to a
// block's size.
func (w *Writer) WriteTick(tick uint64, cmds []ecs.Command, hash uint64) error {
	if err := w.usable(); err != nil {
		return err
	}
	want, ok := w.nextTick()
	if !ok {
		return errorf(ErrTickOrder, "tick %d after tick %d, the last representable", tick, w.last)
	}
	if tick != want {
		return errorf(ErrTickOrder, "got tick %d, want %d", tick, want)
	}
	if err := validateCommands(cmds, w.lim); err != nil {
		return withContext(err, "tick %d", tick)
	}
	if w.pending > 0 && len(w.ticks)+minTickRecord+2*binary.MaxVarintLen64+maxCommandSize*len(cmds) > w.lim.MaxTickBlock {
		if err := w.flushTicks(); err != nil {
			return err
		}
	}
	before := len(w.ticks)
	var delta uint64
	if w.pending == 0 {
		w.first = tick
	} else {
		delta = 1
	}
	w.ticks = appendTick(w.ticks, delta, cmds, hash)
	if len(w.ticks) > w.lim.MaxTickBlock {
		size := len(w.ticks) - before
		w.ticks = w.ticks[:before]
		return errorf(ErrTooLarge, "tick %d is %d bytes, over the tick block limit %d", tick, size, w.lim.MaxTickBlock)
	}
	w.pending++
	w.last, w.haveLast = tick, true
	if w.pending >= w.every {
		return w.flushTicks()
	}
	return nil
}

// WriteKeyframe records snapshot as the world after tick, which must be the last tick
// written, and later than the previous keyframe. Pending ticks are flushed first, so a
// keyframe never precedes the records of its tick.
func (w *Writer) WriteKeyframe(tick uint64, snapshot []byte) error {
	if err := w.usable(); err != nil {
		return err
	}
	if !w.haveLast || tick != w.last {
		if !w.haveLast {
			return errorf(ErrTickOrder, "keyframe at tick %d before any tick", tick)
		}
		return errorf(ErrTickOrder, "keyframe at tick %d, but the last tick written is %d", tick, w.last)
	}
	if w.haveKey && tick <= w.lastKey {
		return errorf(ErrTickOrder, "keyframe at tick %d after a keyframe at tick %d", tick, w.lastKey)
	}
	if len(snapshot) > w.lim.MaxSnapshot {
		return errorf(ErrTooLarge, "keyframe at tick %d is %d bytes, max %d", tick, len(snapshot), w.lim.MaxSnapshot)
	}
	if err := w.flushTicks(); err != nil {
		return err
	}
	if err := w.writeBlock(BlockKeyframe, tick, tick, snapshot); err != nil {
		return err
	}
	w.lastKey, w.haveKey = tick, true
	return nil
}

// Flush writes the pending tick records as a block (synced if WriterOptions.Sync).
func (w *Writer) Flush() error {
	if err := w.usable(); err != nil {
		return err
	}
	return w.flushTicks()
}

// Close flushes pending ticks and writes the end block that marks the replay complete.
// It does not close the underlying writer. Calling Close again returns the first
// Close's result.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	if w.err != nil {
		w.closed = true
		return w.err
	}
	w.closed = true
	if err := w.flushTicks(); err != nil {
		return err
	}
	var b [blockHeaderSize]byte
	putBlockHeader(b[:], &blockHeader{kind: BlockEnd})
	if err := w.write(b[:]); err != nil {
		return err
	}
	if err := w.sync(); err != nil {
		return err
	}
	if err := w.enc.Close(); err != nil {
		return fmt.Errorf("replay: zstd encoder: %w", err)
	}
	return nil
}

func (w *Writer) flushTicks() error {
	if w.pending == 0 {
		return nil
	}
	err := w.writeBlock(BlockTicks, w.first, w.last, w.ticks)
	w.ticks = w.ticks[:0]
	w.pending = 0
	return err
}

// writeBlock compresses payload and writes header and payload in one Write.
func (w *Writer) writeBlock(kind BlockKind, first, last uint64, payload []byte) error {
	if cap(w.blk) < blockHeaderSize {
		w.blk = make([]byte, blockHeaderSize, 4096)
	}
	w.blk = w.enc.EncodeAll(payload, w.blk[:blockHeaderSize])
	comp := w.blk[blockHeaderSize:]
	if uint64(len(comp)) > maxCompressed(uint32(len(payload))) {
		// Cannot happen with zstd; the reader would reject such a block.
		return errorf(ErrTooLarge, "%v block compresses %d bytes to %d", kind, len(payload), len(comp))
	}
	putBlockHeader(w.blk, &blockHeader{
		kind: kind, first: first, last: last,
		ulen: uint32(len(payload)), clen: uint32(len(comp)), crc: crc(comp),
	})
	if err := w.write(w.blk); err != nil {
		return err
	}
	return w.sync()
}

func (w *Writer) write(b []byte) error {
	n, err := w.w.Write(b)
	w.offset += int64(n)
	if err == nil && n != len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("replay: write at byte offset %d: %w", w.offset, err)
	}
	return w.err
}

func (w *Writer) sync() error {
	if w.syncer == nil {
		return nil
	}
	if err := w.syncer.Sync(); err != nil {
		w.err = fmt.Errorf("replay: sync: %w", err)
		return w.err
	}
	return nil
}
