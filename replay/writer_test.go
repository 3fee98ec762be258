package replay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shardsim/shardsim/ecs"
)

// content is everything a replay holds, for comparisons.
type content struct {
	Header    Header
	Initial   []byte
	Ticks     []TickRecord
	Keyframes []keyframe
}

type keyframe struct {
	Tick     uint64
	Snapshot []byte
}

// genContent builds deterministic content: players drifting their sticks, joins,
// leaves, game-state changes, and a keyframe every keyEvery ticks.
func genContent(seed uint64, start uint64, ticks, players, keyEvery int) content {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	c := content{
		Header: Header{Scenario: Scenario{
			Name: fmt.Sprintf("gen-%d", seed), Seed: seed, Rate: 60, ArenaW: 100_000_000, ArenaH: 50_000_000,
			Entities: uint32(players), SimVersion: 1, KeyframeEvery: uint32(keyEvery), Params: []byte("p"),
		}, StartTick: start},
		Initial: snapshot(rng, 64+players*8),
	}
	for i := range ticks {
		tick := start + uint64(i)
		var cmds []ecs.Command
		for p := 1; p <= players; p++ {
			if rng.IntN(4) == 0 {
				cmds = append(cmds, ecs.Command{Kind: ecs.CmdInput, Player: ecs.NetID(p), Input: ecs.Input{
					MoveX: int8(rng.IntN(255) - 127), MoveY: int8(rng.IntN(255) - 127), Buttons: uint8(rng.IntN(8)),
				}})
			}
		}
		switch rng.IntN(50) {
		case 0:
			cmds = append(cmds, ecs.Command{Kind: ecs.CmdJoin, Arg: rng.Uint32()})
		case 1:
			cmds = append(cmds, ecs.Command{Kind: ecs.CmdLeave, Player: ecs.NetID(1 + rng.IntN(players+1))})
		case 2:
			cmds = append(cmds, ecs.Command{Kind: ecs.CmdGameState, Arg: uint32(rng.IntN(4))})
		}
		c.Ticks = append(c.Ticks, TickRecord{Tick: tick, Commands: cmds, Hash: rng.Uint64()})
		if keyEvery > 0 && (i+1)%keyEvery == 0 {
			c.Keyframes = append(c.Keyframes, keyframe{Tick: tick, Snapshot: snapshot(rng, 64+players*8)})
		}
	}
	return c
}

// snapshot returns n bytes that compress somewhat, like a real snapshot.
func snapshot(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		if i%4 == 0 {
			b[i] = byte(rng.IntN(256))
		}
	}
	return b
}

// encode writes c as a replay through a Writer.
func encode(t testing.TB, c content, opt WriterOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := writeContent(&buf, c, opt, true); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeContent(out io.Writer, c content, opt WriterOptions, close bool) error {
	w, err := NewWriter(out, c.Header, c.Initial, opt)
	if err != nil {
		return err
	}
	k := 0
	for _, rec := range c.Ticks {
		if err := w.WriteTick(rec.Tick, rec.Commands, rec.Hash); err != nil {
			return err
		}
		for k < len(c.Keyframes) && c.Keyframes[k].Tick == rec.Tick {
			if err := w.WriteKeyframe(rec.Tick, c.Keyframes[k].Snapshot); err != nil {
				return err
			}
			k++
		}
	}
	if k != len(c.Keyframes) {
		return fmt.Errorf("keyframe at tick %d matches no tick", c.Keyframes[k].Tick)
	}
	if close {
		return w.Close()
	}
	return w.Flush()
}

// readAll reads everything r holds; it returns what it read and the first error
// (a TruncatedError for a truncated file).
func readAll(r *Reader) (content, error) {
	c := content{Header: r.Header()}
	var err error
	if c.Initial, err = r.Initial(); err != nil {
		return c, err
	}
	for _, k := range r.Keyframes() {
		snap, err := r.Keyframe(k.Tick)
		if err != nil {
			return c, err
		}
		c.Keyframes = append(c.Keyframes, keyframe{Tick: k.Tick, Snapshot: snap})
	}
	it := r.Ticks(0)
	for it.Next() {
		rec := it.Tick()
		rec.Commands = append([]ecs.Command(nil), rec.Commands...)
		c.Ticks = append(c.Ticks, rec)
	}
	return c, it.Err()
}

func diffContent(want, got content) string {
	return cmp.Diff(want, got, cmpopts.EquateEmpty())
}

func TestRoundTrip(t *testing.T) {
	defaulted := func(c content) content {
		if c.Header.Scenario.KeyframeEvery == 0 {
			c.Header.Scenario.KeyframeEvery = DefaultKeyframeEvery
		}
		return c
	}
	edge := content{
		Header:  Header{StartTick: 7},
		Initial: nil,
		Ticks: []TickRecord{
			{Tick: 7, Commands: edgeCommands, Hash: math.MaxUint64},
			{Tick: 8},
			{Tick: 9, Commands: edgeCommands[1:2], Hash: 1},
		},
		Keyframes: []keyframe{{Tick: 7, Snapshot: []byte{}}, {Tick: 9, Snapshot: bytes.Repeat([]byte{0xab}, 100_000)}},
	}
	tests := []struct {
		name string
		c    content
		opt  WriterOptions
	}{
		{"no ticks", content{Header: Header{Scenario: Scenario{Name: "empty"}}, Initial: []byte("world")}, WriterOptions{}},
		{"edge values", edge, WriterOptions{}},
		{"edge values, block per tick", edge, WriterOptions{FlushEvery: 1}},
		{"end of tick space", content{Header: Header{StartTick: math.MaxUint64 - 2}, Ticks: []TickRecord{
			{Tick: math.MaxUint64 - 2}, {Tick: math.MaxUint64 - 1}, {Tick: math.MaxUint64, Hash: 3},
		}, Keyframes: []keyframe{{Tick: math.MaxUint64, Snapshot: []byte{1}}}}, WriterOptions{FlushEvery: 2}},
		{"generated", genContent(1, 0, 1000, 40, 300), WriterOptions{}},
		{"generated, odd flush", genContent(2, 1, 777, 10, 50), WriterOptions{FlushEvery: 7}},
		{"generated, fastest", genContent(3, 5, 200, 10, 30), WriterOptions{Level: 1}},
		{"generated, best", genContent(4, 5, 200, 10, 30), WriterOptions{Level: 22}},
		{"tiny tick blocks", genContent(5, 0, 100, 20, 0), WriterOptions{Limits: Limits{MaxTickBlock: 400}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := encode(t, tt.c, tt.opt)
			r, err := OpenWithLimits(bytes.NewReader(b), int64(len(b)), tt.opt.Limits)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Verify(); err != nil {
				t.Fatal(err)
			}
			got, err := readAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if diff := diffContent(defaulted(tt.c), got); diff != "" {
				t.Fatalf("content mismatch (-want +got):\n%s", diff)
			}
			last, ok := r.LastTick()
			if ok != (len(tt.c.Ticks) > 0) || ok && last != tt.c.Ticks[len(tt.c.Ticks)-1].Tick {
				t.Errorf("LastTick = %d, %v", last, ok)
			}
			s := r.Stats()
			if !s.Complete || s.FileSize != int64(len(b)) || s.Ticks != uint64(len(tt.c.Ticks)) ||
				s.Initial.Blocks != 1 || s.Keyframes.Blocks != len(tt.c.Keyframes) ||
				s.Total.Blocks != len(r.Blocks()) || s.Total.Compressed+int64(len(r.Blocks())+1)*blockHeaderSize >= s.FileSize {
				t.Errorf("Stats = %+v", s)
			}
			if tt.opt.Limits.MaxTickBlock > 0 {
				for _, bi := range r.Blocks() {
					if bi.Uncompressed > int64(tt.opt.Limits.MaxTickBlock) {
						t.Errorf("block %+v over the tick block limit", bi)
					}
				}
			}
		})
	}
}

func TestWriterIsDeterministic(t *testing.T) {
	c := genContent(9, 0, 300, 30, 100)
	if a, b := encode(t, c, WriterOptions{}), encode(t, c, WriterOptions{}); !bytes.Equal(a, b) {
		t.Fatal("two writes of the same content differ")
	}
}

func TestTicksFrom(t *testing.T) {
	c := genContent(6, 100, 500, 5, 0)
	b := encode(t, c, WriterOptions{FlushEvery: 60})
	r, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range []uint64{0, 99, 100, 101, 159, 160, 161, 400, 599, 600, math.MaxUint64} {
		it := r.Ticks(from)
		want := max(from, 100)
		n := 0
		for it.Next() {
			if got := it.Tick(); got.Tick != want || got.Hash != c.Ticks[want-100].Hash {
				t.Fatalf("from %d: got tick %d hash %x, want tick %d", from, got.Tick, got.Hash, want)
			}
			want++
			n++
		}
		if err := it.Err(); err != nil {
			t.Fatalf("from %d: %v", from, err)
		}
		if want := max(0, 600-int(max(from, 100))); from > 600 && n != 0 || from <= 600 && n != want {
			t.Errorf("from %d: %d ticks, want %d", from, n, want)
		}
	}
}

type failWriter struct {
	n    int // writes before failing
	sync int
}

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func (f *failWriter) Sync() error {
	f.sync++
	return nil
}

func TestWriterErrors(t *testing.T) {
	h := Header{StartTick: 10}
	newW := func(t *testing.T) *Writer {
		t.Helper()
		w, err := NewWriter(io.Discard, h, nil, WriterOptions{Limits: Limits{MaxCommandsPerTick: 2, MaxSnapshot: 4}})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	input := ecs.Command{Kind: ecs.CmdInput, Player: 1}
	t.Run("first tick not StartTick", func(t *testing.T) {
		if err := newW(t).WriteTick(11, nil, 0); !errors.Is(err, ErrTickOrder) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("repeated and skipped ticks", func(t *testing.T) {
		w := newW(t)
		if err := w.WriteTick(10, nil, 0); err != nil {
			t.Fatal(err)
		}
		for _, tick := range []uint64{10, 12, 9} {
			if err := w.WriteTick(tick, nil, 0); !errors.Is(err, ErrTickOrder) {
				t.Fatalf("tick %d: err = %v", tick, err)
			}
		}
		if err := w.WriteTick(11, nil, 0); err != nil {
			t.Fatalf("after rejected ticks: %v", err)
		}
	})
	t.Run("tick after MaxUint64", func(t *testing.T) {
		w, err := NewWriter(io.Discard, Header{StartTick: math.MaxUint64}, nil, WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteTick(math.MaxUint64, nil, 0); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteTick(0, nil, 0); !errors.Is(err, ErrTickOrder) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown command kind", func(t *testing.T) {
		w := newW(t)
		for _, k := range []ecs.CommandKind{0, ecs.CmdLast + 1, 16, 255} {
			if err := w.WriteTick(10, []ecs.Command{input, {Kind: k}}, 0); !errors.Is(err, ErrUnknownCommand) {
				t.Fatalf("kind %d: err = %v", k, err)
			}
		}
	})
	t.Run("too many commands", func(t *testing.T) {
		if err := newW(t).WriteTick(10, []ecs.Command{input, input, input}, 0); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("keyframe order", func(t *testing.T) {
		w := newW(t)
		if err := w.WriteKeyframe(10, nil); !errors.Is(err, ErrTickOrder) {
			t.Fatalf("keyframe before ticks: err = %v", err)
		}
		for tick := uint64(10); tick < 13; tick++ {
			if err := w.WriteTick(tick, nil, 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.WriteKeyframe(11, nil); !errors.Is(err, ErrTickOrder) {
			t.Fatalf("keyframe for an old tick: err = %v", err)
		}
		if err := w.WriteKeyframe(12, nil); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteKeyframe(12, nil); !errors.Is(err, ErrTickOrder) {
			t.Fatalf("second keyframe for a tick: err = %v", err)
		}
		if err := w.WriteKeyframe(12, []byte("12345")); !errors.Is(err, ErrTickOrder) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("snapshot too large", func(t *testing.T) {
		w := newW(t)
		if err := w.WriteTick(10, nil, 0); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteKeyframe(10, []byte("12345")); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v", err)
		}
		if _, err := NewWriter(io.Discard, h, []byte("12345"), WriterOptions{Limits: Limits{MaxSnapshot: 4}}); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("initial: err = %v", err)
		}
	})
	t.Run("header too large", func(t *testing.T) {
		_, err := NewWriter(io.Discard, Header{Scenario: Scenario{Params: make([]byte, 9)}}, nil, WriterOptions{Limits: Limits{MaxParams: 8}})
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("tick over the block limit", func(t *testing.T) {
		w, err := NewWriter(io.Discard, Header{}, nil, WriterOptions{Limits: Limits{MaxTickBlock: 20}})
		if err != nil {
			t.Fatal(err)
		}
		moving := ecs.Command{Kind: ecs.CmdInput, Player: 1, Input: ecs.Input{MoveX: 1}}
		if err := w.WriteTick(0, []ecs.Command{moving, moving}, 0); !errors.Is(err, ErrTooLarge) { // 10+2*6 bytes
			t.Fatalf("err = %v", err)
		}
		if err := w.WriteTick(0, []ecs.Command{moving}, 0); err != nil {
			t.Fatalf("smaller tick after a rejected one: %v", err)
		}
	})
	t.Run("sync without Sync method", func(t *testing.T) {
		if _, err := NewWriter(io.Discard, h, nil, WriterOptions{Sync: true}); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("write error is sticky", func(t *testing.T) {
		fw := &failWriter{n: 2} // file header, initial block
		w, err := NewWriter(fw, h, nil, WriterOptions{FlushEvery: 1, Sync: true})
		if err != nil {
			t.Fatal(err)
		}
		if fw.sync != 1 {
			t.Errorf("%d syncs after the initial block, want 1", fw.sync)
		}
		if err := w.WriteTick(10, nil, 0); err == nil {
			t.Fatal("no error from a failing writer")
		}
		if err := w.WriteTick(11, nil, 0); err == nil {
			t.Fatal("error not sticky")
		}
		if err := w.Close(); err == nil {
			t.Fatal("Close after a write error returned nil")
		}
	})
	t.Run("use after close", func(t *testing.T) {
		w := newW(t)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := w.WriteTick(10, nil, 0); !errors.Is(err, ErrClosed) {
			t.Fatalf("err = %v", err)
		}
		if err := w.Flush(); !errors.Is(err, ErrClosed) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestWriterFileSync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.replay")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	c := genContent(7, 0, 130, 8, 100)
	if err := writeContent(f, c, WriterOptions{Sync: true}, true); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	r, closer, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	got, err := readAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if diff := diffContent(c, got); diff != "" {
		t.Fatalf("content mismatch (-want +got):\n%s", diff)
	}
	if _, _, err := OpenFile(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v", err)
	}
}

// typicalTicks returns n ticks of play by players: each player changes its input about
// 7 times a second (1 tick in 8 at 60 Hz), mostly to one of the 8 keyboard directions
// or a stop, sometimes to an analog stick position, with run toggled now and then.
func typicalTicks(players, n int) []TickRecord {
	rng := rand.New(rand.NewPCG(7, 7))
	dirs := []int8{-127, 0, 127}
	recs := make([]TickRecord, n)
	for i := range recs {
		var cmds []ecs.Command
		for p := 1; p <= players; p++ {
			if rng.IntN(8) != 0 {
				continue
			}
			in := ecs.Input{MoveX: dirs[rng.IntN(3)], MoveY: dirs[rng.IntN(3)]}
			if rng.IntN(5) == 0 {
				in.MoveX, in.MoveY = int8(rng.IntN(255)-127), int8(rng.IntN(255)-127)
			}
			if rng.IntN(3) == 0 {
				in.Buttons = ecs.ButtonRun
			}
			cmds = append(cmds, ecs.Command{Kind: ecs.CmdInput, Player: ecs.NetID(p), Input: in})
		}
		recs[i] = TickRecord{Tick: uint64(i), Commands: cmds, Hash: rng.Uint64()}
	}
	return recs
}

// countingWriter counts bytes and discards them.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// BenchmarkWriteTick measures one WriteTick in steady state (block flushes included,
// amortised over FlushEvery ticks) and reports the compressed bytes per tick.
func BenchmarkWriteTick(b *testing.B) {
	for _, bc := range []struct {
		name    string
		players int
		level   int
	}{
		{"players=64", 64, 0},
		{"players=64/level=1", 64, 1},
		{"players=2000", 2000, 0},
		{"players=2000/level=1", 2000, 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			// Ten seconds of play, replayed in a loop.
			c := content{Header: Header{Scenario: Scenario{Rate: 60}}, Ticks: typicalTicks(bc.players, 600)}
			cw := &countingWriter{}
			w, err := NewWriter(cw, c.Header, nil, WriterOptions{Level: bc.level})
			if err != nil {
				b.Fatal(err)
			}
			var raw int64
			for _, rec := range c.Ticks {
				raw += int64(len(appendTick(nil, 1, rec.Commands, rec.Hash)))
			}
			start := cw.n
			b.ReportAllocs()
			tick := uint64(0)
			for b.Loop() {
				rec := &c.Ticks[tick%uint64(len(c.Ticks))]
				if err := w.WriteTick(tick, rec.Commands, rec.Hash); err != nil {
					b.Fatal(err)
				}
				tick++
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(cw.n-start)/float64(tick), "B/tick")
			b.ReportMetric(float64(raw)/float64(len(c.Ticks)), "rawB/tick")
		})
	}
}

// TestWriteTickAllocs guards the no-allocation-per-tick promise in plain test runs.
func TestWriteTickAllocs(t *testing.T) {
	for _, players := range []int{64, 2000} {
		recs := typicalTicks(players, 600)
		w, err := NewWriter(io.Discard, Header{}, nil, WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tick := uint64(0)
		step := func() {
			rec := &recs[tick%uint64(len(recs))]
			if err := w.WriteTick(tick, rec.Commands, rec.Hash); err != nil {
				t.Fatal(err)
			}
			tick++
		}
		for range 600 { // warm up: buffers reach their steady size
			step()
		}
		if n := testing.AllocsPerRun(600, step); n != 0 {
			t.Errorf("%d players: WriteTick allocates %v times per tick, want 0", players, n)
		}
	}
}

// BenchmarkTicks measures reading: decompression and decoding, per tick.
func BenchmarkTicks(b *testing.B) {
	for _, players := range []int{64, 2000} {
		b.Run(fmt.Sprintf("players=%d", players), func(b *testing.B) {
			c := content{Ticks: typicalTicks(players, 3600)} // a minute of play
			file := encode(b, c, WriterOptions{})
			r, err := Open(bytes.NewReader(file), int64(len(file)))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			it := r.Ticks(0)
			for b.Loop() {
				if !it.Next() {
					if it.Err() != nil {
						b.Fatal(it.Err())
					}
					it = r.Ticks(0)
				}
			}
		})
	}
}
