package replay

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/ecs"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed files in testdata/fuzz")

// fuzzLimits keep the fuzzer from spending its time allocating what hostile lengths ask.
var fuzzLimits = Limits{MaxSnapshot: 1 << 20, MaxTickBlock: 1 << 20, MaxCommandsPerTick: 1 << 12, MaxParams: 1 << 10}

// seedReplays are real small replays: the fuzz seeds.
func seedReplays(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	_, small := smallReplay(t)
	out["small"] = small
	out["edge-commands"] = encode(t, content{
		Header: Header{Scenario: Scenario{Name: "edge", Params: []byte{0, 1}}, StartTick: 1},
		Ticks: []TickRecord{
			{Tick: 1, Commands: edgeCommands, Hash: 1<<64 - 1},
			{Tick: 2}, {Tick: 3, Hash: 3},
		},
		Keyframes: []keyframe{{Tick: 2, Snapshot: []byte("kf")}},
	}, WriterOptions{FlushEvery: 2})
	out["no-ticks"] = encode(t, content{Initial: []byte("only the world")}, WriterOptions{})
	var buf bytes.Buffer
	if err := writeContent(&buf, genContent(21, 0, 12, 2, 5), WriterOptions{FlushEvery: 4}, false); err != nil {
		t.Fatal(err)
	}
	out["unclosed"] = buf.Bytes()
	out["cut-mid-block"] = small[:len(small)-50]
	return out
}

// rewrite writes c again through a Writer.
func rewrite(c content) ([]byte, error) {
	var buf bytes.Buffer
	err := writeContent(&buf, c, WriterOptions{Limits: fuzzLimits, FlushEvery: 3}, true)
	return buf.Bytes(), err
}

func FuzzOpen(f *testing.F) {
	for _, b := range seedReplays(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := OpenWithLimits(bytes.NewReader(b), int64(len(b)), fuzzLimits)
		if err != nil {
			return
		}
		_ = r.Stats()
		_ = r.Blocks()
		verr := r.Verify()
		c, err := readAll(r)
		if (err == nil) != (verr == nil) && !errors.Is(verr, ErrNoKeyframe) {
			t.Fatalf("readAll: %v, Verify: %v", err, verr)
		}
		if err != nil {
			return
		}
		// Everything read: writing it again gives a file with the same content.
		if c.Header.Scenario.KeyframeEvery == 0 {
			c.Header.Scenario.KeyframeEvery = DefaultKeyframeEvery
		}
		b2, err := rewrite(c)
		if err != nil {
			t.Fatalf("rewriting what was read: %v", err)
		}
		r2, err := OpenWithLimits(bytes.NewReader(b2), int64(len(b2)), fuzzLimits)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := readAll(r2)
		if err != nil {
			t.Fatal(err)
		}
		if diff := diffContent(c, c2); diff != "" {
			t.Fatalf("content changed by a rewrite (-read +reread):\n%s", diff)
		}
	})
}

// FuzzTickPayload fuzzes the tick record decoder on uncompressed payloads, which the
// fuzzer can mutate meaningfully; whatever decodes re-encodes to the same bytes.
func FuzzTickPayload(f *testing.F) {
	f.Add(ticksPayload(TickRecord{Tick: 0, Commands: edgeCommands, Hash: 7}, TickRecord{Tick: 1}), uint64(0), uint8(2))
	f.Add(ticksPayload(genContent(1, 0, 5, 4, 0).Ticks...), uint64(1<<64-3), uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, first uint64, count uint8) {
		if count == 0 {
			return
		}
		last := first + uint64(count) - 1
		if last < first {
			return
		}
		var d tickDecoder
		d.reset(b, first, last, fuzzLimits.resolve())
		var re []byte
		var cmds []ecs.Command
		for i := 0; ; i++ {
			done, err := d.done()
			if err != nil {
				return
			}
			if done {
				break
			}
			rec, err := d.decode(cmds)
			if err != nil {
				return
			}
			if rec.Tick != first+uint64(i) {
				t.Fatalf("record %d has tick %d", i, rec.Tick)
			}
			if err := validateCommands(rec.Commands, fuzzLimits.resolve()); err != nil {
				t.Fatalf("decoded commands the writer refuses: %v", err)
			}
			re = appendTick(re, min(uint64(i), 1), rec.Commands, rec.Hash)
			cmds = rec.Commands
		}
		if !bytes.Equal(b, re) {
			t.Fatalf("re-encoding differs:\n%x\n%x", b, re)
		}
	})
}

// FuzzFileHeader fuzzes the file header parser; whatever parses re-encodes to the same
// bytes.
func FuzzFileHeader(f *testing.F) {
	for _, b := range seedReplays(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		lim := fuzzLimits.resolve()
		h, n, err := parseFileHeader(b, lim)
		if err != nil {
			return
		}
		if err := h.validate(lim); err != nil {
			t.Fatalf("parsed a header the writer refuses: %v", err)
		}
		if re := appendFileHeader(nil, &h); !bytes.Equal(re, b[:n]) {
			t.Fatalf("re-encoding differs:\n%x\n%x", b[:n], re)
		}
	})
}

// TestFuzzSeeds keeps the checked-in seed replays readable (old files must keep reading)
// and rewrites them with -update-seeds.
func TestFuzzSeeds(t *testing.T) {
	seeds := seedReplays(t)
	for _, target := range []string{"FuzzOpen", "FuzzFileHeader"} {
		dir := filepath.Join("testdata", "fuzz", target)
		if *updateSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, b := range seeds {
				data := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
				if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		for name := range seeds {
			path := filepath.Join(dir, "seed-"+name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update-seeds)", err)
			}
			b, err := parseSeed(data)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			r, err := Open(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if err := r.Verify(); err != nil && !(errors.Is(err, ErrTruncated) && (name == "unclosed" || strings.HasPrefix(name, "cut"))) {
				t.Fatalf("%s: %v", path, err)
			}
		}
	}
}

func parseSeed(data []byte) ([]byte, error) {
	s, ok := strings.CutPrefix(string(data), "go test fuzz v1\n[]byte(")
	if !ok {
		return nil, fmt.Errorf("not a one-[]byte corpus file")
	}
	s, ok = strings.CutSuffix(s, ")\n")
	if !ok {
		return nil, fmt.Errorf("not a one-[]byte corpus file")
	}
	v, err := strconv.Unquote(s)
	return []byte(v), err
}
