package replay

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shardsim/shardsim/ecs"
)

func TestHeaderRoundTrip(t *testing.T) {
	lim := defaultLimits.resolve()
	tests := []struct {
		name string
		h    Header
	}{
		{"zero", Header{}},
		{"typical", Header{
			Scenario: Scenario{Name: "arena-2000", Seed: 42, Rate: 60, ArenaW: 200_000_000, ArenaH: 100_000_000,
				Entities: 2000, SimVersion: 3, KeyframeEvery: 300, Params: []byte{1, 2, 3}},
			StartTick: 1,
		}},
		{"max values", Header{
			Scenario: Scenario{Name: strings.Repeat("n", MaxNameLen), Seed: math.MaxUint64, Rate: math.MaxUint16,
				ArenaW: math.MaxInt32, ArenaH: math.MaxInt32, Entities: math.MaxUint32, SimVersion: math.MaxUint32,
				KeyframeEvery: math.MaxUint32, Params: bytes.Repeat([]byte{0xff}, lim.MaxParams)},
			StartTick: math.MaxUint64,
		}},
		{"min values", Header{Scenario: Scenario{ArenaW: math.MinInt32, ArenaH: math.MinInt32}}},
		{"utf-8 and binary name", Header{Scenario: Scenario{Name: "µm \x00\xff ümlaut"}}},
		{"name needing a 2-byte varint", Header{Scenario: Scenario{Name: strings.Repeat("x", 200)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.h.validate(lim); err != nil {
				t.Fatal(err)
			}
			b := appendFileHeader([]byte("prefix"), &tt.h)[len("prefix"):]
			got, n, err := parseFileHeader(b, lim)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(b) {
				t.Errorf("consumed %d bytes, want %d", n, len(b))
			}
			if diff := cmp.Diff(tt.h, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("header mismatch (-want +got):\n%s", diff)
			}
			// Every strict prefix fails cleanly.
			for i := range len(b) {
				if _, _, err := parseFileHeader(b[:i], lim); err == nil {
					t.Fatalf("prefix of %d bytes parsed", i)
				}
			}
		})
	}
}

func TestHeaderValidate(t *testing.T) {
	lim := Limits{MaxParams: 4}.resolve()
	for _, h := range []Header{
		{Scenario: Scenario{Name: strings.Repeat("n", MaxNameLen+1)}},
		{Scenario: Scenario{Params: make([]byte, 5)}},
	} {
		if err := h.validate(lim); !errors.Is(err, ErrTooLarge) {
			t.Errorf("validate = %v, want ErrTooLarge", err)
		}
	}
}

func TestHeaderParseErrors(t *testing.T) {
	lim := defaultLimits.resolve()
	good := appendFileHeader(nil, &Header{Scenario: Scenario{Name: "x", Params: []byte{9}}})
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrBadMagic},
		{"bad magic", mod(func(b []byte) []byte { b[0] = 'X'; return b }), ErrBadMagic},
		{"version 2", mod(func(b []byte) []byte { b[8] = 2; return b }), ErrUnknownVersion},
		{"version 0", mod(func(b []byte) []byte { b[8] = 0; return b }), ErrUnknownVersion},
		{"crc", mod(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), ErrChecksum},
		{"body byte", mod(func(b []byte) []byte { b[20] ^= 1; return b }), ErrChecksum},
		{"huge body length", mod(func(b []byte) []byte { b[13] = 0xff; return b }), ErrTooLarge},
		{"short", good[:len(good)-1], ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseFileHeader(tt.b, lim)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	var ve *VersionError
	_, _, err := parseFileHeader(mod(func(b []byte) []byte { b[8] = 7; return b }), lim)
	if !errors.As(err, &ve) || ve.Got != 7 || ve.Want != Version {
		t.Fatalf("err = %#v, want VersionError{7, %d}", err, Version)
	}
	if msg := err.Error(); !strings.Contains(msg, "7") || !strings.Contains(msg, "1") {
		t.Errorf("version error %q does not name both versions", msg)
	}
}

// sealHeaderBody builds a file header around an arbitrary body, with a valid CRC.
func sealHeaderBody(body []byte) []byte {
	b := append([]byte(Magic), byte(Version), byte(Version>>8))
	b = append(b, byte(len(body)), byte(len(body)>>8), byte(len(body)>>16), byte(len(body)>>24))
	b = append(b, body...)
	c := crc(b)
	return append(b, byte(c), byte(c>>8), byte(c>>16), byte(c>>24))
}

func TestHeaderBodyErrors(t *testing.T) {
	lim := Limits{MaxParams: 8}.resolve()
	fixed := make([]byte, headerFixedFields)
	tests := []struct {
		name string
		body []byte
		want error
	}{
		{"trailing byte", append(append([]byte{0}, fixed...), 0, 0), ErrMalformed},
		{"params over limit", append(append([]byte{0}, fixed...), 9), ErrTooLarge},
		{"name over limit", []byte{0x81, 0x08}, ErrTooLarge},
		{"non-canonical name length", append(append([]byte{0x80, 0x00}, fixed...), 0), ErrMalformed},
		{"short fixed fields", append([]byte{0}, fixed[:10]...), ErrMalformed},
		{"params run past end", append(append([]byte{0}, fixed...), 4, 1), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseFileHeader(sealHeaderBody(tt.body), lim)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// edgeCommands holds commands of every kind with edge values.
var edgeCommands = []ecs.Command{
	{Kind: ecs.CmdInput},
	{Kind: ecs.CmdInput, Player: 1, Input: ecs.Input{MoveX: 127, MoveY: -127, Buttons: ecs.ButtonRun}},
	{Kind: ecs.CmdInput, Player: math.MaxUint32, Input: ecs.Input{MoveX: -128, MoveY: -128, Buttons: 0xff, Emote: 0xff}},
	{Kind: ecs.CmdInput, Player: 127, Input: ecs.Input{Emote: 1}},
	{Kind: ecs.CmdInput, Player: 128, Input: ecs.Input{MoveY: 1}},
	{Kind: ecs.CmdJoin, Arg: 0xdeadbeef},
	{Kind: ecs.CmdJoin, Arg: math.MaxUint32},
	{Kind: ecs.CmdJoin},
	{Kind: ecs.CmdLeave, Player: 2000},
	{Kind: ecs.CmdLeave, Player: 1 << 21},
	{Kind: ecs.CmdGameState, Arg: 1},
	{Kind: ecs.CmdGameState, Player: 5, Input: ecs.Input{Buttons: ecs.ButtonStop}, Arg: 7},
	{Kind: ecs.CmdPlaceCanvas, Player: 9, Art: ecs.Art{Hash: [32]byte{1, 2, 3, 31: 0xff}, Width: 640, Height: 480}},
	{Kind: ecs.CmdPlaceCanvas, Player: 5, Input: ecs.Input{Buttons: ecs.ButtonStop}, Arg: 7, // every field set
		Art: ecs.Art{Hash: [32]byte{0xff}, Width: 1}},
}

func TestTickRecordRoundTrip(t *testing.T) {
	lim := defaultLimits.resolve()
	tests := []struct {
		name  string
		first uint64
		recs  []TickRecord
	}{
		{"one empty tick", 0, []TickRecord{{Tick: 0, Hash: 0}}},
		{"every command kind", 10, []TickRecord{{Tick: 10, Commands: edgeCommands, Hash: math.MaxUint64}}},
		{"one command each", 100, func() []TickRecord {
			var recs []TickRecord
			for i, c := range edgeCommands {
				recs = append(recs, TickRecord{Tick: 100 + uint64(i), Commands: []ecs.Command{c}, Hash: uint64(i) * 0x9e3779b97f4a7c15})
			}
			return recs
		}()},
		{"last representable ticks", math.MaxUint64 - 1, []TickRecord{{Tick: math.MaxUint64 - 1, Hash: 1}, {Tick: math.MaxUint64, Hash: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b []byte
			for i, r := range tt.recs {
				b = appendTick(b, min(uint64(i), 1), r.Commands, r.Hash)
			}
			var d tickDecoder
			d.reset(b, tt.first, tt.recs[len(tt.recs)-1].Tick, lim)
			var got []TickRecord
			var reenc []byte
			for {
				done, err := d.done()
				if err != nil {
					t.Fatal(err)
				}
				if done {
					break
				}
				rec, err := d.decode(nil)
				if err != nil {
					t.Fatal(err)
				}
				reenc = appendTick(reenc, min(uint64(len(got)), 1), rec.Commands, rec.Hash)
				got = append(got, rec)
			}
			if diff := cmp.Diff(tt.recs, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("records mismatch (-want +got):\n%s", diff)
			}
			if !bytes.Equal(b, reenc) {
				t.Errorf("re-encoding differs:\n%x\n%x", b, reenc)
			}
		})
	}
}

func TestCommandSizes(t *testing.T) {
	typical := ecs.Command{Kind: ecs.CmdInput, Player: 1999, Input: ecs.Input{MoveX: -90, MoveY: 90, Buttons: ecs.ButtonRun}}
	if n := len(appendCommand(nil, &typical)); n != 7 {
		t.Errorf("typical input command is %d bytes, want 7", n)
	}
	worst := ecs.Command{Kind: ecs.CmdGameState, Player: math.MaxUint32, Input: ecs.Input{MoveX: 1}, Arg: math.MaxUint32}
	if n := len(appendCommand(nil, &worst)); n != maxCommandSize {
		t.Errorf("largest command is %d bytes, want %d", n, maxCommandSize)
	}
}

func TestTickRecordErrors(t *testing.T) {
	lim := Limits{MaxCommandsPerTick: 3}.resolve()
	hash := make([]byte, 8)
	rec := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name        string
		payload     []byte
		first, last uint64
		want        error
	}{
		{"first delta 1", rec([]byte{1, 0}, hash), 5, 5, ErrTickGap},
		{"second delta 2", rec([]byte{0, 0}, hash, []byte{2, 0}, hash), 5, 6, ErrTickGap},
		{"second delta 0", rec([]byte{0, 0}, hash, []byte{0, 0}, hash), 5, 6, ErrTickGap},
		{"trailing byte", rec([]byte{0, 0}, hash, []byte{0}), 5, 5, ErrMalformed},
		{"missing record", rec([]byte{0, 0}, hash), 5, 6, ErrMalformed},
		{"short hash", rec([]byte{0, 0}, hash[:7]), 5, 5, ErrMalformed},
		{"too many commands", rec([]byte{0, 4}, hash), 5, 5, ErrTooLarge},
		{"count over bytes", rec([]byte{0, 3, 0x01}, hash[:1]), 5, 5, ErrMalformed},
		{"unknown kind 0", rec([]byte{0, 1, 0x00}, hash), 5, 5, ErrUnknownCommand},
		{"unknown kind 6", rec([]byte{0, 1, 0x06}, hash), 5, 5, ErrUnknownCommand},
		{"unknown kind 15", rec([]byte{0, 1, 0x0f}, hash), 5, 5, ErrUnknownCommand},
		{"flagged zero art", rec([]byte{0, 1, 0x85}, make([]byte, 36), hash), 5, 5, ErrMalformed},
		{"art runs past end", []byte{0, 1, 0x85, 1, 2, 3}, 5, 5, ErrMalformed},
		{"flagged zero player", rec([]byte{0, 1, 0x11, 0}, hash), 5, 5, ErrMalformed},
		{"player over uint32", rec([]byte{0, 1, 0x11, 0x80, 0x80, 0x80, 0x80, 0x10}, hash), 5, 5, ErrMalformed},
		{"non-canonical player", rec([]byte{0, 1, 0x11, 0x81, 0x00}, hash), 5, 5, ErrMalformed},
		{"flagged zero input", rec([]byte{0, 1, 0x21, 0, 0, 0, 0}, hash), 5, 5, ErrMalformed},
		{"flagged zero arg", rec([]byte{0, 1, 0x42, 0}, hash), 5, 5, ErrMalformed},
		{"varint overflow", rec([]byte{0, 1, 0x42, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, hash), 5, 5, ErrMalformed},
		{"input runs past end", []byte{0, 1, 0x21, 1}, 5, 5, ErrMalformed},
		{"empty", nil, 5, 5, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d tickDecoder
			d.reset(tt.payload, tt.first, tt.last, lim)
			var err error
			for {
				var done bool
				if done, err = d.done(); done || err != nil {
					break
				}
				if _, err = d.decode(nil); err != nil {
					break
				}
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestBlockHeaderRoundTrip(t *testing.T) {
	for _, bh := range []blockHeader{
		{kind: BlockInitial},
		{kind: BlockTicks, first: 1, last: math.MaxUint64, ulen: math.MaxUint32, clen: math.MaxUint32, crc: math.MaxUint32},
		{kind: BlockKeyframe, first: 300, last: 300, ulen: 1, clen: 9, crc: 0x12345678},
		{kind: BlockEnd},
	} {
		var b [blockHeaderSize]byte
		putBlockHeader(b[:], &bh)
		got, err := parseBlockHeader(b[:])
		if err != nil {
			t.Fatal(err)
		}
		if got != bh {
			t.Errorf("got %+v, want %+v", got, bh)
		}
		for i := range b {
			c := b
			c[i] ^= 0x40
			if _, err := parseBlockHeader(c[:]); !errors.Is(err, ErrChecksum) {
				t.Errorf("byte %d flipped: err = %v, want ErrChecksum", i, err)
			}
		}
	}
	var b [blockHeaderSize]byte
	putBlockHeader(b[:], &blockHeader{kind: 9})
	if _, err := parseBlockHeader(b[:]); !errors.Is(err, ErrUnknownBlock) {
		t.Errorf("kind 9: err = %v, want ErrUnknownBlock", err)
	}
	putBlockHeader(b[:], &blockHeader{kind: BlockTicks})
	b[2] = 1
	putCRC := crc(b[:32])
	b[32], b[33], b[34], b[35] = byte(putCRC), byte(putCRC>>8), byte(putCRC>>16), byte(putCRC>>24)
	if _, err := parseBlockHeader(b[:]); !errors.Is(err, ErrMalformed) {
		t.Errorf("reserved byte set: err = %v, want ErrMalformed", err)
	}
	if _, err := parseBlockHeader(b[:35]); !errors.Is(err, ErrMalformed) {
		t.Errorf("short header: err = %v, want ErrMalformed", err)
	}
}
