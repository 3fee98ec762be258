package shadow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/klauspost/compress/zstd"
	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/systems"
)

// realKeyframe returns a Keyframe of a populated world, as a primary sends it.
func realKeyframe(t testing.TB) *Keyframe {
	t.Helper()
	cfg := systems.DefaultConfig()
	w, sim, err := shard.NewWorld(&shard.HeadlessConfig{World: ecs.Config{Seed: 9}, Systems: cfg, Entities: 5})
	if err != nil {
		t.Fatal(err)
	}
	sim.Step(w, nil)
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	snap := w.AppendSnapshot(nil)
	return &Keyframe{Tick: w.G.Tick, Tuning: cfg.AppendTuning(nil), RawLen: uint32(len(snap)), Zstd: enc.EncodeAll(snap, nil)}
}

func sampleMessages(t testing.TB) []Message {
	return []Message{
		&Hello{Version: Version, Rank: 3, ClientAddr: "127.0.0.1:7777"},
		&Hello{},
		realKeyframe(t),
		&Keyframe{Tick: 1<<63 + 5},
		&Tick{Tick: 42, Hash: 0xdeadbeefcafef00d, Cmds: []ecs.Command{
			{Kind: ecs.CmdInput, Player: 7, Input: ecs.Input{MoveX: -127, MoveY: 127, Buttons: ecs.ButtonRun, Emote: 2}},
			{Kind: ecs.CmdJoin, Arg: 0xffffffff},
			{Kind: ecs.CmdLeave, Player: 1 << 20},
			{Kind: ecs.CmdGameState, Arg: 1},
			{Kind: ecs.CmdPlaceCanvas, Player: 3, Art: ecs.Art{Hash: [32]byte{1, 31: 9}, Width: 640, Height: 0x1234}},
		}},
		&Tick{Tick: 1},
		&Heartbeat{Tick: 99},
		&Roster{Entries: []RosterEntry{{Rank: 2, ClientAddr: "10.0.0.2:7777", SyncAddr: "10.0.0.2:7800"}, {Rank: 1}}},
		&Roster{},
		&HandOver{Tick: 300, Rank: 2},
		&Promote{Tick: 301, Rank: 2, ClientAddr: "[::1]:7777"},
		&Sessions{Tick: 7, Full: true, Entries: []server.Binding{{Client: 1, ID: 51}, {Client: 1<<64 - 1, ID: 1<<32 - 1}}},
		&Sessions{Tick: 8, Entries: []server.Binding{{Client: 1}}},
		&Sessions{},
		&Relay{Cmds: []ecs.Command{
			{Kind: ecs.CmdJoin, Arg: server.RelaySessionBase(2) | 1},
			{Kind: ecs.CmdInput, Player: 7, Input: ecs.Input{MoveX: -1, MoveY: 127, Buttons: 3}},
			{Kind: ecs.CmdLeave, Player: 9},
		}},
		&Relay{},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range sampleMessages(t) {
		t.Run(m.Type().String(), func(t *testing.T) {
			b := m.Append(nil)
			got, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse(%x): %v", b, err)
			}
			if diff := cmp.Diff(m, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("round trip (-sent +parsed):\n%s", diff)
			}
			if again := got.Append(nil); !bytes.Equal(again, b) {
				t.Errorf("re-encoding differs:\n got %x\nwant %x", again, b)
			}
			// Every strict prefix is truncated, and one extra byte is trailing garbage.
			for n := range len(b) {
				if _, err := Parse(b[:n]); !errors.Is(err, ErrTruncated) {
					t.Fatalf("Parse of %d of %d bytes: %v, want ErrTruncated", n, len(b), err)
				}
			}
			if _, err := Parse(append(b, 0)); !errors.Is(err, ErrTrailing) {
				t.Errorf("Parse with a trailing byte: %v, want ErrTrailing", err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	huge := AppendTick(nil, 1, 2, nil)
	huge[17], huge[18], huge[19], huge[20] = 0xff, 0xff, 0xff, 0xff
	kf := (&Keyframe{Tick: 1, RawLen: MaxSnapshot + 1}).Append(nil)
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"unknown type", []byte{0}, ErrUnknownType},
		{"unknown type 200", []byte{200, 1, 2}, ErrUnknownType},
		{"too many commands", huge, ErrTooLarge},
		{"snapshot too large", kf, ErrTooLarge},
		{"roster too long", []byte{byte(TypeRoster), MaxRoster + 1}, ErrTooLarge},
		{"roster entries missing", []byte{byte(TypeRoster), 3, 1, 0, 0}, ErrTruncated},
		{"address cut", []byte{byte(TypeHello), 1, 1, 5, 'a'}, ErrTruncated},
		{"sessions too many", binary.LittleEndian.AppendUint32(append(AppendSessions(nil, 1, false, nil)[:10], 0), MaxSessions+1), ErrTooLarge},
		{"sessions entries missing", binary.LittleEndian.AppendUint32(append(AppendSessions(nil, 1, false, nil)[:10], 1), 2), ErrTruncated},
		{"relay too many", binary.LittleEndian.AppendUint32([]byte{byte(TypeRelay)}, MaxCommands+1), ErrTooLarge},
		{"relay commands missing", binary.LittleEndian.AppendUint32([]byte{byte(TypeRelay)}, 2), ErrTruncated},
		{"sessions bad full flag", append(append(AppendSessions(nil, 1, false, nil)[:9], 2), 0, 0, 0, 0), ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(tc.b); !errors.Is(err, tc.want) {
				t.Errorf("Parse(%x) = %v, want %v", tc.b, err, tc.want)
			}
		})
	}
	// The specific parsers refuse another type.
	if _, _, err := ParseHello((&Heartbeat{}).Append(nil)); !errors.Is(err, ErrUnknownType) {
		t.Errorf("ParseHello(Heartbeat) = %v, want ErrUnknownType", err)
	}
}

func TestAppendTickDoesNotAllocate(t *testing.T) {
	cmds := make([]ecs.Command, 50)
	buf := make([]byte, 0, 4096)
	parsed := make([]ecs.Command, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendTick(buf[:0], 7, 8, cmds)
		tk, _, err := ParseTick(buf, parsed)
		if err != nil || len(tk.Cmds) != 50 {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("AppendTick+ParseTick allocate %v times per tick", allocs)
	}
}

// FuzzParse checks that no input panics the parser and that whatever parses re-encodes
// to bytes that parse to the same message (parse → append → parse).
func FuzzParse(f *testing.F) {
	for _, m := range sampleMessages(f) {
		f.Add(m.Append(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		enc := m.Append(nil)
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding differs: got %x, parsed from %x", enc, b)
		}
		m2, err := Parse(enc)
		if err != nil {
			t.Fatalf("re-encoded message does not parse: %v", err)
		}
		if diff := cmp.Diff(m, m2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("parse → append → parse differs:\n%s", diff)
		}
	})
}

// FuzzParseTick fuzzes the allocation-free Tick parser with a reused command slice.
func FuzzParseTick(f *testing.F) {
	for _, m := range sampleMessages(f) {
		if m.Type() == TypeTick {
			f.Add(m.Append(nil))
		}
	}
	cmds := make([]ecs.Command, 0, 8)
	f.Fuzz(func(t *testing.T, b []byte) {
		tk, n, err := ParseTick(b, cmds)
		if err != nil {
			return
		}
		if n != len(b) {
			t.Fatalf("consumed %d of %d bytes", n, len(b))
		}
		if enc := tk.Append(nil); !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding differs: %x vs %x", enc, b)
		}
	})
}
