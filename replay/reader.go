package replay

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/shardsim/shardsim/ecs"
)

// decoder is shared by all readers: DecodeAll is safe for concurrent use and holds no
// per-stream state. The cap limit makes DecodeAll stop at cap(dst), which the reader
// sets to the block's declared (and limit-checked) uncompressed length.
var decoder = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecodeAllCapLimit(true), zstd.WithDecoderConcurrency(0))
})

// BlockInfo describes one block of the body, as its header states it.
type BlockInfo struct {
	Kind         BlockKind
	Offset       int64  // byte offset of the block header
	FirstTick    uint64 // ticks: first record; initial: StartTick; keyframe: its tick
	LastTick     uint64 // ticks: last record; otherwise equal to FirstTick
	Compressed   int64  // payload bytes in the file
	Uncompressed int64  // payload bytes after decompression
}

// KeyframeInfo locates a keyframe.
type KeyframeInfo struct {
	Tick   uint64 // the keyframe is the world after this tick
	Offset int64  // byte offset of its block header
}

type blockEntry struct {
	BlockInfo
	crc uint32
}

// Reader reads a replay. [Open] checks the file header and scans the block headers to
// index the body without reading payloads; payloads are read, checked against their
// CRC-32C and decompressed when asked for. A Reader is safe for concurrent use; a
// [TickIter] is not.
//
// A file that ends before its end block (a writer killed mid-way) opens: everything up
// to its last complete block reads, and [Reader.Err] returns a [*TruncatedError].
// Any other damage the scan finds makes Open fail; damage inside a payload is reported
// when the payload is read.
type Reader struct {
	ra       io.ReaderAt
	size     int64
	lim      Limits
	hdr      Header
	blocks   []blockEntry
	ticks    []int // indexes into blocks of the tick blocks, in tick order
	keys     []KeyframeInfo
	keyIdx   []int // indexes into blocks of the keyframes
	initial  int   // index of the initial block, or -1
	last     uint64
	haveLast bool
	tail     error // nil or *TruncatedError
}

// Open opens a replay of size bytes read through r, with the default [Limits].
func Open(r io.ReaderAt, size int64) (*Reader, error) {
	return OpenWithLimits(r, size, Limits{})
}

// OpenFile opens the replay file at path. The returned closer closes the file; it is
// nil when err is not.
func OpenFile(path string) (*Reader, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("replay: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("replay: %w", err)
	}
	r, err := Open(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return r, f, nil
}

// OpenWithLimits is like [Open] with caps on lengths; zero fields take their defaults.
func OpenWithLimits(r io.ReaderAt, size int64, lim Limits) (*Reader, error) {
	lim = lim.resolve()
	rd := &Reader{ra: r, size: size, lim: lim, initial: -1}
	if size < 0 {
		return nil, errorf(ErrMalformed, "negative size %d", size)
	}
	var prefix [fileHeaderFixed]byte
	n, err := readAt(r, prefix[:min(int64(len(prefix)), size)], 0)
	if err != nil {
		return nil, err
	}
	if n < len(Magic) && string(prefix[:n]) == Magic[:n] {
		return nil, &TruncatedError{NoTicks: true}
	}
	hlen, err := parseFilePrefix(prefix[:n], lim)
	if err != nil {
		if n < fileHeaderFixed && errors.Is(err, ErrMalformed) {
			return nil, &TruncatedError{NoTicks: true}
		}
		return nil, err
	}
	if int64(hlen) > size {
		return nil, &TruncatedError{NoTicks: true}
	}
	hb := make([]byte, hlen)
	if _, err := readAt(r, hb, 0); err != nil {
		return nil, err
	}
	rd.hdr, _, err = parseFileHeader(hb, lim)
	if err != nil {
		return nil, err
	}
	if err := rd.scan(int64(hlen)); err != nil {
		return nil, err
	}
	return rd, nil
}

// readAt reads exactly len(b) bytes at off; the caller has checked they exist.
func readAt(r io.ReaderAt, b []byte, off int64) (int, error) {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return n, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, fmt.Errorf("replay: read %d bytes at offset %d: %w", len(b), off, err)
}

// scan indexes the body from off, checking every block header and the order of blocks.
func (r *Reader) scan(off int64) error {
	var hb [blockHeaderSize]byte
	var haveKey bool
	var lastKey uint64
	for i := 0; ; i++ {
		if r.size-off < blockHeaderSize {
			r.tail = r.truncatedAt(off)
			return nil
		}
		if _, err := readAt(r.ra, hb[:], off); err != nil {
			return err
		}
		bh, err := parseBlockHeader(hb[:])
		fail := func(err error) error {
			return &BlockError{Index: i, Offset: off, Kind: BlockKind(hb[0]), Err: err}
		}
		if err != nil {
			return fail(err)
		}
		if err := r.checkBlock(i, &bh, haveKey, lastKey); err != nil {
			return fail(err)
		}
		if bh.kind == BlockEnd {
			if end := off + blockHeaderSize; end != r.size {
				return errorf(ErrTrailingGarbage, "%d bytes at byte offset %d", r.size-end, end)
			}
			return nil
		}
		if int64(bh.clen) > r.size-off-blockHeaderSize {
			r.tail = r.truncatedAt(off)
			return nil
		}
		r.blocks = append(r.blocks, blockEntry{BlockInfo: BlockInfo{
			Kind: bh.kind, Offset: off, FirstTick: bh.first, LastTick: bh.last,
			Compressed: int64(bh.clen), Uncompressed: int64(bh.ulen),
		}, crc: bh.crc})
		switch bh.kind {
		case BlockInitial:
			r.initial = i
		case BlockTicks:
			r.ticks = append(r.ticks, i)
			r.last, r.haveLast = bh.last, true
		case BlockKeyframe:
			r.keys = append(r.keys, KeyframeInfo{Tick: bh.first, Offset: off})
			r.keyIdx = append(r.keyIdx, i)
			lastKey, haveKey = bh.first, true
		}
		off += blockHeaderSize + int64(bh.clen)
	}
}

func (r *Reader) truncatedAt(off int64) *TruncatedError {
	return &TruncatedError{AfterTick: r.last, NoTicks: !r.haveLast, Offset: off}
}

// checkBlock checks the kind-specific rules of block i's header against what precedes it.
func (r *Reader) checkBlock(i int, bh *blockHeader, haveKey bool, lastKey uint64) error {
	if (i == 0) != (bh.kind == BlockInitial) {
		if i == 0 {
			return errorf(ErrBlockOrder, "first block is %v, want initial", bh.kind)
		}
		return errorf(ErrBlockOrder, "second initial block")
	}
	if bh.kind != BlockTicks && bh.first != bh.last {
		return errorf(ErrMalformed, "%v block spans ticks %d to %d", bh.kind, bh.first, bh.last)
	}
	if uint64(bh.clen) > maxCompressed(bh.ulen) {
		return errorf(ErrTooLarge, "compressed length %d for %d bytes", bh.clen, bh.ulen)
	}
	switch bh.kind {
	case BlockInitial, BlockKeyframe:
		if bh.ulen > uint32(r.lim.MaxSnapshot) {
			return errorf(ErrTooLarge, "snapshot is %d bytes, max %d", bh.ulen, r.lim.MaxSnapshot)
		}
		if bh.kind == BlockInitial && bh.first != r.hdr.StartTick {
			return errorf(ErrMalformed, "initial block at tick %d, header says StartTick %d", bh.first, r.hdr.StartTick)
		}
		if bh.kind == BlockKeyframe {
			if !r.haveLast || bh.first != r.last {
				if !r.haveLast {
					return errorf(ErrBlockOrder, "keyframe at tick %d before any tick", bh.first)
				}
				return errorf(ErrBlockOrder, "keyframe at tick %d after tick %d", bh.first, r.last)
			}
			if haveKey && bh.first <= lastKey {
				return errorf(ErrBlockOrder, "keyframe at tick %d after keyframe at tick %d", bh.first, lastKey)
			}
		}
	case BlockTicks:
		if bh.ulen > uint32(r.lim.MaxTickBlock) {
			return errorf(ErrTooLarge, "tick block is %d bytes, max %d", bh.ulen, r.lim.MaxTickBlock)
		}
		want := r.hdr.StartTick
		if r.haveLast {
			if r.last == math.MaxUint64 {
				return errorf(ErrTickGap, "ticks after tick %d", r.last)
			}
			want = r.last + 1
		}
		if bh.first != want {
			return errorf(ErrTickGap, "block starts at tick %d, want %d", bh.first, want)
		}
		if bh.last < bh.first || bh.last-bh.first >= uint64(bh.ulen)/minTickRecord {
			return errorf(ErrMalformed, "ticks %d to %d do not fit in %d bytes", bh.first, bh.last, bh.ulen)
		}
	case BlockEnd:
		if bh.first != 0 || bh.ulen != 0 || bh.clen != 0 || bh.crc != 0 {
			return errorf(ErrMalformed, "end block with nonzero fields")
		}
	}
	return nil
}

// Header returns the file header.
func (r *Reader) Header() Header {
	h := r.hdr
	h.Scenario.Params = append([]byte(nil), h.Scenario.Params...)
	return h
}

// Err reports whether the replay is complete: nil if it ends with an end block,
// otherwise a [*TruncatedError] saying where the readable content ends.
func (r *Reader) Err() error { return r.tail }

// LastTick returns the last tick whose record is complete; ok is false if there is none.
func (r *Reader) LastTick() (tick uint64, ok bool) { return r.last, r.haveLast }

// Blocks describes the complete blocks of the body, in file order (the end block is not
// listed).
func (r *Reader) Blocks() []BlockInfo {
	out := make([]BlockInfo, len(r.blocks))
	for i := range r.blocks {
		out[i] = r.blocks[i].BlockInfo
	}
	return out
}

// Keyframes lists the keyframes in tick order.
func (r *Reader) Keyframes() []KeyframeInfo {
	return append([]KeyframeInfo(nil), r.keys...)
}

// Initial returns the initial snapshot (a new slice).
func (r *Reader) Initial() ([]byte, error) {
	if r.initial < 0 {
		return nil, r.tail
	}
	return r.payload(r.initial, nil)
}

// Keyframe returns the snapshot of the keyframe at tick (a new slice). It returns an
// error matching [ErrNoKeyframe] if there is none, or the [*TruncatedError] if the
// file is truncated at or before tick.
func (r *Reader) Keyframe(tick uint64) ([]byte, error) {
	i := sort.Search(len(r.keys), func(i int) bool { return r.keys[i].Tick >= tick })
	if i == len(r.keys) || r.keys[i].Tick != tick {
		// The keyframe of the last complete tick may be in the part that was cut off.
		if r.tail != nil && (!r.haveLast || tick >= r.last) {
			return nil, r.tail
		}
		return nil, fmt.Errorf("%w %d", ErrNoKeyframe, tick)
	}
	return r.payload(r.keyIdx[i], nil)
}

// scratch holds reusable buffers for reading payloads.
type scratch struct {
	dst   []byte // decompressed payload
	cbuf  []byte // compressed payload
	reuse bool   // grow with headroom: blocks of a run vary in size
}

// grow returns b with capacity for n bytes.
func (s *scratch) grow(b []byte, n int64) []byte {
	if int64(cap(b)) >= n {
		return b
	}
	if s.reuse {
		n += n / 4
	}
	return make([]byte, 0, n)
}

// payload reads block i's payload, checks its CRC and decompresses it. With a non-nil
// scratch the result lives in s.dst and is valid until the next use of s; with nil it
// is a new slice.
func (r *Reader) payload(i int, s *scratch) ([]byte, error) {
	if s == nil {
		s = new(scratch)
	}
	e := &r.blocks[i]
	fail := func(err error) error {
		return &BlockError{Index: i, Offset: e.Offset, Kind: e.Kind, Err: err}
	}
	s.cbuf = s.grow(s.cbuf, e.Compressed)
	cbuf := s.cbuf[:e.Compressed]
	if _, err := readAt(r.ra, cbuf, e.Offset+blockHeaderSize); err != nil {
		return nil, fail(err)
	}
	if got := crc(cbuf); got != e.crc {
		return nil, fail(errorf(ErrChecksum, "payload: stored %#08x, computed %#08x", e.crc, got))
	}
	dec, err := decoder()
	if err != nil {
		return nil, fmt.Errorf("replay: zstd decoder: %w", err)
	}
	s.dst = s.grow(s.dst, e.Uncompressed)
	// The cap limit stops decoding at the declared length.
	out, err := dec.DecodeAll(cbuf, s.dst[:0:e.Uncompressed])
	if err != nil {
		return nil, fail(errorf(ErrMalformed, "payload does not decompress: %v", err))
	}
	if int64(len(out)) != e.Uncompressed {
		return nil, fail(errorf(ErrMalformed, "payload decompresses to %d bytes, header says %d", len(out), e.Uncompressed))
	}
	return out, nil
}

// Verify reads every block, checking checksums and decoding every tick record. It
// returns the first problem, or [Reader.Err] if everything present is sound.
func (r *Reader) Verify() error {
	s := scratch{reuse: true}
	for i := range r.blocks {
		if r.blocks[i].Kind == BlockTicks {
			continue // read by the iterator below
		}
		if _, err := r.payload(i, &s); err != nil {
			return err
		}
	}
	it := r.Ticks(0)
	for it.Next() {
	}
	return it.Err()
}

// KindStats sums the blocks of one kind.
type KindStats struct {
	Blocks       int
	Compressed   int64 // payload bytes in the file
	Uncompressed int64 // payload bytes after decompression
}

// Ratio returns Uncompressed/Compressed (0 if nothing is compressed).
func (k KindStats) Ratio() float64 {
	if k.Compressed == 0 {
		return 0
	}
	return float64(k.Uncompressed) / float64(k.Compressed)
}

// Stats summarises a replay from its block index, without reading payloads.
type Stats struct {
	FileSize  int64
	Ticks     uint64 // complete tick records
	Initial   KindStats
	TickData  KindStats
	Keyframes KindStats
	Total     KindStats // all of the above
	Complete  bool      // the file ends with its end block
}

// Stats returns the replay's [Stats].
func (r *Reader) Stats() Stats {
	s := Stats{FileSize: r.size, Complete: r.tail == nil}
	for i := range r.blocks {
		e := &r.blocks[i]
		var k *KindStats
		switch e.Kind {
		case BlockInitial:
			k = &s.Initial
		case BlockTicks:
			k = &s.TickData
			s.Ticks += e.LastTick - e.FirstTick + 1
		default:
			k = &s.Keyframes
		}
		for _, k := range []*KindStats{k, &s.Total} {
			k.Blocks++
			k.Compressed += e.Compressed
			k.Uncompressed += e.Uncompressed
		}
	}
	return s
}

// Ticks returns an iterator over the tick records from tick from (or the first
// recorded tick, if later) to the end. It seeks directly to the block holding from;
// past the last tick it yields nothing.
func (r *Reader) Ticks(from uint64) *TickIter {
	i := sort.Search(len(r.ticks), func(i int) bool { return r.blocks[r.ticks[i]].LastTick >= from })
	return &TickIter{r: r, from: from, next: i, s: scratch{reuse: true}}
}

// TickIter iterates over tick records:
//
//	it := r.Ticks(from)
//	for it.Next() {
//		rec := it.Tick()
//		...
//	}
//	if err := it.Err(); err != nil { ... }
//
// It reuses its buffers: a record's Commands are valid only until the next call to Next.
type TickIter struct {
	r      *Reader
	from   uint64
	next   int // index into r.ticks of the next block to load
	block  int // index into r.blocks of the loaded block
	loaded bool
	dec    tickDecoder
	s      scratch
	cmds   []ecs.Command
	cur    TickRecord
	err    error
	done   bool
}

// Next advances to the next record, reporting whether there is one. At the end of a
// truncated file it returns false and Err returns the [*TruncatedError].
func (it *TickIter) Next() bool {
	for it.err == nil && !it.done {
		if !it.loaded {
			it.load()
			continue
		}
		fin, err := it.dec.done()
		if err == nil && fin {
			it.loaded = false
			continue
		}
		var rec TickRecord
		if err == nil {
			rec, err = it.dec.decode(it.cmds)
		}
		if err != nil {
			e := &it.r.blocks[it.block]
			it.err = &BlockError{Index: it.block, Offset: e.Offset, Kind: e.Kind, Err: err}
			return false
		}
		it.cmds = rec.Commands
		if rec.Tick >= it.from {
			it.cur = rec
			return true
		}
	}
	return false
}

// load reads the next tick block, or ends the iteration.
func (it *TickIter) load() {
	if it.next >= len(it.r.ticks) {
		it.done = true
		it.err = it.r.tail
		return
	}
	it.block = it.r.ticks[it.next]
	it.next++
	buf, err := it.r.payload(it.block, &it.s)
	if err != nil {
		it.err = err
		return
	}
	e := &it.r.blocks[it.block]
	it.dec.reset(buf, e.FirstTick, e.LastTick, it.r.lim)
	it.loaded = true
}

// Tick returns the current record. Its Commands slice is reused by Next.
func (it *TickIter) Tick() TickRecord { return it.cur }

// Err returns the error that ended the iteration, if any: a [*BlockError] for a damaged
// block, or the [*TruncatedError] of a truncated file.
func (it *TickIter) Err() error { return it.err }
