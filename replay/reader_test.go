package replay

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// smallReplay is a complete replay of a few hundred bytes with every block kind.
func smallReplay(t testing.TB) (content, []byte) {
	t.Helper()
	c := genContent(11, 3, 25, 3, 10)
	return c, encode(t, c, WriterOptions{FlushEvery: 6})
}

func open(t testing.TB, b []byte) *Reader {
	t.Helper()
	r, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rawBlock is a block built by hand: payload is compressed unless raw is set; ulen, clen
// and crc are computed, then fix may alter the header.
type rawBlock struct {
	kind        BlockKind
	first, last uint64
	payload     []byte
	raw         []byte
	fix         func(*blockHeader)
}

func build(t testing.TB, h Header, blocks ...rawBlock) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	b := appendFileHeader(nil, &h)
	for _, blk := range blocks {
		comp := blk.raw
		if comp == nil && blk.kind != BlockEnd {
			comp = enc.EncodeAll(blk.payload, nil)
		}
		bh := blockHeader{kind: blk.kind, first: blk.first, last: blk.last,
			ulen: uint32(len(blk.payload)), clen: uint32(len(comp)), crc: crc(comp)}
		if blk.fix != nil {
			blk.fix(&bh)
		}
		var hb [blockHeaderSize]byte
		putBlockHeader(hb[:], &bh)
		b = append(append(b, hb[:]...), comp...)
	}
	return b
}

func ticksPayload(recs ...TickRecord) []byte {
	var b []byte
	for i, r := range recs {
		b = appendTick(b, min(uint64(i), 1), r.Commands, r.Hash)
	}
	return b
}

func TestCraftedFiles(t *testing.T) {
	h := Header{StartTick: 5}
	initial := rawBlock{kind: BlockInitial, first: 5, last: 5, payload: []byte("world")}
	ticks := func(first, last uint64) rawBlock {
		var recs []TickRecord
		for tick := first; tick <= last; tick++ {
			recs = append(recs, TickRecord{Tick: tick, Hash: tick})
		}
		return rawBlock{kind: BlockTicks, first: first, last: last, payload: ticksPayload(recs...)}
	}
	key := func(tick uint64) rawBlock {
		return rawBlock{kind: BlockKeyframe, first: tick, last: tick, payload: []byte("kf")}
	}
	end := rawBlock{kind: BlockEnd}
	withFix := func(b rawBlock, fix func(*blockHeader)) rawBlock { b.fix = fix; return b }

	tests := []struct {
		name   string
		file   []byte
		want   error // from Open, or (if openOK) from Verify
		openOK bool
		block  int // index in the BlockError, -1 for none expected
	}{
		{"well formed", build(t, h, initial, ticks(5, 9), key(9), ticks(10, 12), end), nil, true, -1},
		{"unknown block kind", build(t, h, initial, withFix(ticks(5, 9), func(bh *blockHeader) { bh.kind = 9 }), end), ErrUnknownBlock, false, 1},
		{"tick gap between blocks", build(t, h, initial, ticks(5, 9), ticks(11, 12), end), ErrTickGap, false, 2},
		{"ticks overlap", build(t, h, initial, ticks(5, 9), ticks(9, 12), end), ErrTickGap, false, 2},
		{"first ticks not at StartTick", build(t, h, initial, ticks(6, 9), end), ErrTickGap, false, 1},
		{"no initial block", build(t, h, ticks(5, 9), end), ErrBlockOrder, false, 0},
		{"empty body", build(t, h, end), ErrBlockOrder, false, 0},
		{"two initial blocks", build(t, h, initial, initial, end), ErrBlockOrder, false, 1},
		{"keyframe before ticks", build(t, h, initial, key(5), end), ErrBlockOrder, false, 1},
		{"keyframe for an old tick", build(t, h, initial, ticks(5, 9), key(8), end), ErrBlockOrder, false, 2},
		{"keyframe for a future tick", build(t, h, initial, ticks(5, 9), key(10), end), ErrBlockOrder, false, 2},
		{"duplicate keyframe", build(t, h, initial, ticks(5, 9), key(9), key(9), end), ErrBlockOrder, false, 3},
		{"keyframe spanning ticks", build(t, h, initial, ticks(5, 9), withFix(key(9), func(bh *blockHeader) { bh.first = 8 }), end), ErrMalformed, false, 2},
		{"initial not at StartTick", build(t, h, withFix(initial, func(bh *blockHeader) { bh.first, bh.last = 4, 4 }), end), ErrMalformed, false, 0},
		{"ticks last before first", build(t, h, initial, withFix(ticks(5, 9), func(bh *blockHeader) { bh.last = 4 }), end), ErrMalformed, false, 1},
		{"more ticks than bytes allow", build(t, h, initial, withFix(ticks(5, 9), func(bh *blockHeader) { bh.last = 1000 }), end), ErrMalformed, false, 1},
		{"compressed length absurd", build(t, h, initial, rawBlock{kind: BlockKeyframe, first: 5, last: 5, raw: make([]byte, 1000)}, end), ErrTooLarge, false, 1},
		{"end block with a length", build(t, h, initial, withFix(end, func(bh *blockHeader) { bh.ulen = 1 })), ErrMalformed, false, 1},
		{"trailing garbage", append(build(t, h, initial, end), 0), ErrTrailingGarbage, false, -1},
		{"a whole block after end", build(t, h, initial, end, ticks(5, 9)), ErrTrailingGarbage, false, -1},
		{"snapshot over limit", build(t, h, withFix(initial, func(bh *blockHeader) { bh.ulen = 1 << 30 }), end), ErrTooLarge, false, 0},
		{"tick block over limit", build(t, h, initial, withFix(ticks(5, 9), func(bh *blockHeader) { bh.ulen = 1 << 30 }), end), ErrTooLarge, false, 1},

		// Found when reading payloads.
		{"payload not zstd", build(t, h, rawBlock{kind: BlockInitial, first: 5, last: 5, raw: []byte("not zstd at all"), fix: func(bh *blockHeader) { bh.ulen = 15 }}, end), ErrMalformed, true, 0},
		{"payload shorter than stated", build(t, h, withFix(initial, func(bh *blockHeader) { bh.ulen++ }), end), ErrMalformed, true, 0},
		{"payload longer than stated", build(t, h, withFix(initial, func(bh *blockHeader) { bh.ulen-- }), end), ErrMalformed, true, 0},
		{"payload crc", build(t, h, withFix(initial, func(bh *blockHeader) { bh.crc++ }), end), ErrChecksum, true, 0},
		{"unknown command kind", build(t, h, initial, rawBlock{kind: BlockTicks, first: 5, last: 5,
			payload: []byte{0, 1, 0x07, 0, 0, 0, 0, 0, 0, 0, 0}}, end), ErrUnknownCommand, true, 1},
		{"tick gap inside a block", build(t, h, initial, rawBlock{kind: BlockTicks, first: 5, last: 6,
			payload: append(ticksPayload(TickRecord{Tick: 5}), 2, 0, 0, 0, 0, 0, 0, 0, 0, 0)}, end), ErrTickGap, true, 1},
		{"fewer records than stated", build(t, h, initial, withFix(ticks(5, 6), func(bh *blockHeader) { bh.last = 7; bh.ulen += 10 }), end), ErrMalformed, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(bytes.NewReader(tt.file), int64(len(tt.file)))
			if tt.openOK {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				err = r.Verify()
				if r.Err() != nil {
					t.Fatalf("complete file reported %v", r.Err())
				}
			}
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var be *BlockError
			if errors.As(err, &be) != (tt.block >= 0) || tt.block >= 0 && be.Index != tt.block {
				t.Fatalf("err = %v, want a BlockError for block %d", err, tt.block)
			}
			if !strings.HasPrefix(err.Error(), "replay: ") || strings.Contains(err.Error(), ": replay:") {
				t.Errorf("message %q", err)
			}
		})
	}
}

func TestOpenHeaderErrors(t *testing.T) {
	_, good := smallReplay(t)
	mod := func(i int, v byte) []byte {
		b := bytes.Clone(good)
		b[i] = v
		return b
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"magic prefix", []byte("SHRD"), ErrTruncated},
		{"magic only", []byte(Magic), ErrTruncated},
		{"not a replay", []byte("PK\x03\x04 a zip file, say"), ErrBadMagic},
		{"short non-replay", []byte("x"), ErrBadMagic},
		{"bad magic", mod(7, 'X'), ErrBadMagic},
		{"unknown version", mod(8, 9), ErrUnknownVersion},
		{"header body cut", good[:20], ErrTruncated},
		{"header crc", mod(fileHeaderFixed+2, 0xee), ErrChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(bytes.NewReader(tt.b), int64(len(tt.b)))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestOpenLimits(t *testing.T) {
	c := genContent(12, 0, 30, 40, 10)
	c.Header.Scenario.Params = make([]byte, 100)
	b := encode(t, c, WriterOptions{})
	for _, tt := range []struct {
		lim     Limits
		atOpen  bool
		wantMsg string
	}{
		{Limits{MaxParams: 99}, true, "scenario params"},
		{Limits{MaxSnapshot: 100}, true, "snapshot"},
		{Limits{MaxTickBlock: 100}, true, "tick block"},
		{Limits{MaxCommandsPerTick: 2}, false, "commands in a tick"},
	} {
		r, err := OpenWithLimits(bytes.NewReader(b), int64(len(b)), tt.lim)
		if !tt.atOpen {
			if err != nil {
				t.Fatalf("%+v: Open: %v", tt.lim, err)
			}
			err = r.Verify()
		}
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("%+v: err = %v, want ErrTooLarge about %s", tt.lim, err, tt.wantMsg)
		}
	}
}

func TestKeyframeLookup(t *testing.T) {
	c, b := smallReplay(t)
	r := open(t, b)
	if _, err := r.Keyframe(c.Keyframes[0].Tick + 1); !errors.Is(err, ErrNoKeyframe) {
		t.Fatalf("err = %v", err)
	}
	got := r.Keyframes()
	if len(got) != len(c.Keyframes) {
		t.Fatalf("%d keyframes, want %d", len(got), len(c.Keyframes))
	}
	for i, k := range got {
		if k.Tick != c.Keyframes[i].Tick || k.Offset <= 0 {
			t.Errorf("keyframe %d = %+v", i, k)
		}
	}
	// In a truncated file, a keyframe past the end is reported as truncation.
	cut := open(t, b[:got[len(got)-1].Offset])
	if _, err := cut.Keyframe(c.Keyframes[len(c.Keyframes)-1].Tick); !errors.Is(err, ErrTruncated) {
		t.Fatalf("err = %v, want ErrTruncated", err)
	}
}

// region names the part of the file a byte belongs to.
func regions(t *testing.T, b []byte) func(i int) (block int, inHeader bool) {
	r := open(t, b)
	blocks := r.Blocks()
	endAt := int64(len(b)) - blockHeaderSize
	return func(i int) (int, bool) {
		off := int64(i)
		if off < blocks[0].Offset {
			return -1, true
		}
		if off >= endAt {
			return len(blocks), true
		}
		for k := len(blocks) - 1; k >= 0; k-- {
			if off >= blocks[k].Offset {
				return k, off < blocks[k].Offset+blockHeaderSize
			}
		}
		panic("unreachable")
	}
}

func TestCorruptEveryByte(t *testing.T) {
	c, good := smallReplay(t)
	region := regions(t, good)
	blocks := open(t, good).Blocks()
	for i := range good {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(good)
			b[i] ^= x
			block, inHeader := region(i)
			r, err := Open(bytes.NewReader(b), int64(len(b)))
			var be *BlockError
			switch {
			case block < 0: // file header
				if err == nil {
					t.Fatalf("byte %d ^ %#x in the file header: Open succeeded", i, x)
				}
				if !errors.Is(err, ErrBadMagic) && !errors.Is(err, ErrUnknownVersion) && !errors.Is(err, ErrChecksum) &&
					!errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrTruncated) {
					t.Fatalf("byte %d ^ %#x in the file header: err = %v", i, x, err)
				}
			case inHeader:
				if !errors.As(err, &be) || be.Index != block || !errors.Is(err, ErrChecksum) {
					t.Fatalf("byte %d ^ %#x in the header of block %d: err = %v", i, x, block, err)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("block %d ", block)) || !strings.Contains(err.Error(), fmt.Sprintf("offset %d", be.Offset)) {
					t.Fatalf("message %q does not locate the block", err)
				}
			default: // payload
				if err != nil {
					t.Fatalf("byte %d ^ %#x in the payload of block %d: Open: %v", i, x, block, err)
				}
				err = r.Verify()
				if !errors.As(err, &be) || be.Index != block || !errors.Is(err, ErrChecksum) {
					t.Fatalf("byte %d ^ %#x in the payload of block %d: err = %v", i, x, block, err)
				}
				if want := fmt.Sprintf("replay: block %d (%v, byte offset %d): checksum mismatch", block, blocks[block].Kind, blocks[block].Offset); !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("message %q, want prefix %q", err, want)
				}
				// Every other block still reads.
				if blocks[block].Kind != BlockTicks {
					it := r.Ticks(0)
					n := 0
					for it.Next() {
						n++
					}
					if it.Err() != nil || n != len(c.Ticks) {
						t.Fatalf("payload of block %d damaged: ticks read %d, %v", block, n, it.Err())
					}
				}
			}
		}
	}
}

func TestTruncateEveryOffset(t *testing.T) {
	c, good := smallReplay(t)
	blocks := open(t, good).Blocks()
	for n := range len(good) {
		b := good[:n]
		r, err := Open(bytes.NewReader(b), int64(n))
		var te *TruncatedError
		if n < int(blocks[0].Offset) {
			if !errors.As(err, &te) || !te.NoTicks || te.Offset != 0 {
				t.Fatalf("cut at %d (file header): err = %v", n, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("cut at %d: Open: %v", n, err)
		}
		// What the complete blocks hold.
		var want content
		want.Header = c.Header
		end := blocks[0].Offset
		var last uint64
		haveLast := false
		for _, bi := range blocks {
			if bi.Offset+blockHeaderSize+bi.Compressed > int64(n) {
				break
			}
			end = bi.Offset + blockHeaderSize + bi.Compressed
			switch bi.Kind {
			case BlockInitial:
				want.Initial = c.Initial
			case BlockTicks:
				last, haveLast = bi.LastTick, true
			case BlockKeyframe:
				want.Keyframes = append(want.Keyframes, c.Keyframes[len(want.Keyframes)])
			}
		}
		if haveLast {
			want.Ticks = c.Ticks[:last-c.Header.StartTick+1]
		}
		if !errors.As(r.Err(), &te) || te.Offset != end || te.NoTicks == haveLast || haveLast && te.AfterTick != last {
			t.Fatalf("cut at %d: Err = %#v, want offset %d after tick %d (%v)", n, r.Err(), end, last, haveLast)
		}
		got, err := readAll(r)
		if want.Initial == nil {
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("cut at %d: initial: err = %v", n, err)
			}
			continue
		}
		if !errors.As(err, &te) {
			t.Fatalf("cut at %d: err = %v, want TruncatedError", n, err)
		}
		if diff := diffContent(want, got); diff != "" {
			t.Fatalf("cut at %d: content mismatch (-want +got):\n%s", n, diff)
		}
		if err := r.Verify(); !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d: Verify = %v", n, err)
		}
		if s := r.Stats(); s.Complete || s.Ticks != uint64(len(want.Ticks)) {
			t.Fatalf("cut at %d: Stats = %+v", n, s)
		}
	}
}

func TestTruncatedBetweenBlocks(t *testing.T) {
	// A writer that died after a block (or never got to Close) leaves no end block.
	c := genContent(13, 0, 20, 2, 0)
	var buf bytes.Buffer
	if err := writeContent(&buf, c, WriterOptions{FlushEvery: 5}, false); err != nil {
		t.Fatal(err)
	}
	r := open(t, buf.Bytes())
	got, err := readAll(r)
	var te *TruncatedError
	if !errors.As(err, &te) || te.AfterTick != 19 || te.Offset != int64(buf.Len()) {
		t.Fatalf("err = %v", err)
	}
	if want := "replay: truncated after tick 19 (byte offset "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message %q", err)
	}
	if len(got.Ticks) != 20 {
		t.Errorf("read %d ticks, want 20", len(got.Ticks))
	}
}

func TestTickIterReusesCommands(t *testing.T) {
	c := genContent(14, 0, 200, 30, 0)
	r := open(t, encode(t, c, WriterOptions{}))
	it := r.Ticks(0)
	it.Next()
	allocs := testing.AllocsPerRun(150, func() {
		if !it.Next() {
			t.Fatal(it.Err())
		}
	})
	// Block loads allocate in the zstd decoder's first use only; commands are reused.
	if allocs > 1 {
		t.Errorf("%v allocations per tick", allocs)
	}
}

func TestConcurrentReaders(t *testing.T) {
	c := genContent(15, 0, 300, 10, 50)
	r := open(t, encode(t, c, WriterOptions{FlushEvery: 20}))
	var wg sync.WaitGroup
	errs := make([]string, 8)
	for g := range errs {
		wg.Go(func() {
			got, err := readAll(r)
			if err != nil {
				errs[g] = err.Error()
				return
			}
			errs[g] = diffContent(c, got)
		})
	}
	wg.Wait()
	for g, e := range errs {
		if e != "" {
			t.Errorf("reader %d: %s", g, e)
		}
	}
}
