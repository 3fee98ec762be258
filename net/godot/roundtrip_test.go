package godot

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var versions = []Version{V3, V4}

// TestVariantRoundTrip encodes every supported type and decodes it back.
func TestVariantRoundTrip(t *testing.T) {
	nested := Array{Array{Dictionary{{Vector2{1, 2}, Array{nil}}}}}
	for _, x := range []any{
		nil, true, false,
		int64(0), int64(-7), int64(math.MaxInt32), int64(math.MinInt32),
		int64(math.MaxInt32) + 1, int64(math.MinInt32) - 1, int64(math.MaxInt64), int64(math.MinInt64),
		0.0, -2.5, 1e300, math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), float64(float32(0.1)),
		"", "a", "ab", "abc", "abcd", "abcde", "héllo, 世界",
		Vector2{}, Vector2{-1.5, 3e38}, Vector3{1, 2, 3}, Vector3{float32(math.Inf(-1)), 0, -0},
		[]byte{}, []byte{0}, []byte{1, 2, 3, 4, 5}, bytes.Repeat([]byte{0xFF}, 1001),
		Array{}, Array{nil, true, int64(1), 2.0, "s", Vector3{}, []byte{7}},
		Dictionary{}, Dictionary{{"a", int64(1)}, {int64(2), Array{"x"}}, {nil, Dictionary{}}},
		nested,
	} {
		for _, v := range versions {
			b, err := AppendVariant([]byte{0xEE}, v, x) // a prefix: appends, does not overwrite
			if err != nil {
				t.Fatalf("%v AppendVariant(%#v): %v", v, x, err)
			}
			if b[0] != 0xEE || len(b)%4 != 1 {
				t.Fatalf("%v AppendVariant(%#v) = % x: prefix lost or not padded", v, x, b)
			}
			got, n, err := ParseVariant(b[1:], v)
			if err != nil || n != len(b)-1 {
				t.Fatalf("%v ParseVariant(% x) = %v, %d, %v", v, b[1:], got, n, err)
			}
			if diff := cmp.Diff(x, got); diff != "" {
				t.Errorf("%v round trip of %#v (-want +got):\n%s", v, x, diff)
			}
		}
	}
}

func TestVariantNaN(t *testing.T) {
	// encode_variant: `double(float(d)) != d` holds for NaN, so NaN is always a double.
	b, err := AppendVariant(nil, V3, math.NaN())
	if err != nil || len(b) != 12 || b[2] != 1 {
		t.Fatalf("NaN = % x, %v; want a 64-bit float", b, err)
	}
	x, _, err := ParseVariant(b, V3)
	if f, ok := x.(float64); err != nil || !ok || !math.IsNaN(f) {
		t.Fatalf("ParseVariant(NaN) = %v, %v", x, err)
	}
}

func TestVariantConveniences(t *testing.T) {
	for _, tc := range []struct{ in, want any }{
		{int(5), int64(5)}, {int32(-5), int64(-5)}, {float32(0.25), 0.25}, {[]any{int(1)}, Array{int64(1)}},
	} {
		b, err := AppendVariant(nil, V4, tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := ParseVariant(b, V4)
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("%#v decoded as %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
}

func TestVariantEncodeErrors(t *testing.T) {
	deep := Array{}
	for range MaxDepth + 1 {
		deep = Array{deep}
	}
	cyclic := Array{nil}
	cyclic[0] = cyclic
	for _, tc := range []struct {
		x    any
		want error
	}{
		{uint8(1), ErrVariantType},
		{struct{}{}, ErrVariantType},
		{map[string]any{}, ErrVariantType},
		{Array{1, uint(2)}, ErrVariantType},
		{"\xff", ErrUTF8},
		{deep, ErrTooDeep},
		{cyclic, ErrTooDeep},
	} {
		b := []byte{1, 2}
		got, err := AppendVariant(b, V3, tc.x)
		if !errors.Is(err, tc.want) {
			t.Errorf("AppendVariant(%T) error = %v, want %v", tc.x, err, tc.want)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("AppendVariant(%T) on error returned % x, want the input", tc.x, got)
		}
	}
	var ute *UnsupportedTypeError
	if _, err := AppendVariant(nil, V4, uint16(1)); !errors.As(err, &ute) || ute.GoType != "uint16" {
		t.Errorf("error %v is not an UnsupportedTypeError for uint16", err)
	}
}

func TestVariantDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    Version
		in   string
		want error
	}{
		{"empty", V3, "", ErrShort},
		{"short header", V3, "000000", ErrShort},
		{"bool no value", V3, "01000000", ErrShort},
		{"int no value", V3, "02000000 0100", ErrShort},
		{"int64 short", V3, "02000100 01000000", ErrShort},
		{"float64 short", V4, "03000100 01000000", ErrShort},
		{"string short", V3, "04000000 05000000 6869", ErrShort},
		{"string missing pad", V3, "04000000 02000000 6869", ErrShort},
		{"string negative", V3, "04000000 ffffffff", ErrCount},
		{"string bad utf8", V3, "04000000 01000000 ff000000", ErrUTF8},
		{"vector2 short", V3, "05000000 00000000", ErrShort},
		{"vector3 short", V4, "09000000 00000000 00000000", ErrShort},
		{"bytes too long", V3, "14000000 10000000 00", ErrShort},
		{"array count too big", V3, "13000000 ffffff7f", ErrCount},
		{"array elem short", V3, "13000000 01000000 0200", ErrCount},
		{"array elem truncated", V3, "13000000 01000000 02000000 0100", ErrShort},
		{"dict count too big", V4, "1b000000 01000000 00000000", ErrCount},
		{"unsupported type rect2 (v3)", V3, "06000000 00000000 00000000 00000000 00000000", ErrVariantType},
		{"unsupported type vector2i (v4)", V4, "06000000 00000000 00000000", ErrVariantType},
		{"v3 vector3 id in v4", V4, "07000000 00000000 00000000 00000000", ErrVariantType},
		{"type beyond max", V3, "ff000000", ErrVariantType},
		{"flag on string", V3, "04000100 00000000", ErrVariantFlags},
		{"double vector2 (v4)", V4, "05000100 00000000 00000000 00000000 00000000", ErrVariantFlags},
		{"typed array (v4)", V4, "1c000100 02000000 00000000", ErrVariantFlags},
		{"high bits", V3, "00000001", ErrVariantFlags},
		{"too deep", V3, strings.Repeat("13000000 01000000 ", MaxDepth+1) + "00000000", ErrTooDeep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, n, err := ParseVariant(h(tc.in), tc.v)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseVariant = %v, %d, %v; want %v", x, n, err, tc.want)
			}
		})
	}
	// Godot accepts any non-zero bool and the old "shared" bit in counts.
	x, _, err := ParseVariant(h("01000000 02000000"), V3)
	if err != nil || x != true {
		t.Errorf("bool 2 = %v, %v; want true", x, err)
	}
	x, _, err = ParseVariant(h("13000000 00000080"), V3)
	if err != nil || !cmp.Equal(x, Array{}) {
		t.Errorf("shared empty array = %v, %v", x, err)
	}
}

// TestMessageRoundTrip encodes every message type and parses it back.
func TestMessageRoundTrip(t *testing.T) {
	t.Run("frame3", func(t *testing.T) {
		for _, f := range []Frame{{1, 0, []byte{4, 1}}, {0xFFFFFFFF, math.MinInt32, []byte{}}, {2, -5, []byte{0}}} {
			got, err := ParseFrame3(AppendFrame3(nil, f.Src, f.Dst, f.Payload))
			if err != nil || !cmp.Equal(got, f) {
				t.Errorf("frame %+v -> %+v, %v", f, got, err)
			}
		}
	})
	t.Run("peer events", func(t *testing.T) {
		for _, c := range []Codec{For(V3), For(V4)} {
			for _, e := range []PeerEvent{{PeerAdded, 2}, {PeerRemoved, 0x7FFFFFFF}} {
				ch, b := c.AppendPeerEvent(nil, e)
				got, err := c.ParsePeerEvent(ch, b)
				if err != nil || got != e {
					t.Errorf("%v event %+v -> %+v, %v", c.Version(), e, got, err)
				}
			}
		}
	})
	t.Run("raw", func(t *testing.T) {
		for _, data := range [][]byte{{0}, []byte("token"), bytes.Repeat([]byte{9}, 1200)} {
			if got, err := ParseRaw3(AppendRaw3(nil, data)); err != nil || !bytes.Equal(got, data) {
				t.Errorf("raw3 %q -> %q, %v", data, got, err)
			}
			if got, err := ParseRaw4(AppendRaw4(nil, data)); err != nil || !bytes.Equal(got, data) {
				t.Errorf("raw4 %q -> %q, %v", data, got, err)
			}
		}
	})
	t.Run("sys4", func(t *testing.T) {
		for _, s := range []Sys4{
			{Sub: Sys4Auth, Data: []byte{}}, {Sub: Sys4Auth, Data: []byte("secret")},
			{Sub: Sys4AddPeer, Peer: 9}, {Sub: Sys4DelPeer, Peer: 9},
			{Sub: Sys4Relay, Peer: -4, Data: []byte{3, 1}},
		} {
			got, err := ParseSys4(AppendSys4(nil, s))
			if err != nil || !cmp.Equal(got, s, cmp.Comparer(bytes.Equal)) {
				t.Errorf("sys4 %+v -> %+v, %v", s, got, err)
			}
		}
	})
	t.Run("paths3", func(t *testing.T) {
		b, _ := AppendSimplifyPath3(nil, 42, "World/Player")
		id, p, err := ParseSimplifyPath3(b)
		if err != nil || id != 42 || p != "World/Player" {
			t.Errorf("simplify -> %d %q %v", id, p, err)
		}
		b, _ = AppendConfirmPath3(nil, "World/Player")
		if p, err := ParseConfirmPath3(b); err != nil || p != "World/Player" {
			t.Errorf("confirm -> %q %v", p, err)
		}
	})
	args := []any{nil, true, int64(-3), int64(1 << 40), 0.5, "héllo", Vector2{1, 2}, Vector3{3, 4, 5}, []byte{1}, Array{"a"}, Dictionary{{"k", "v"}}}
	t.Run("rpc3", func(t *testing.T) {
		for _, r := range []RPC3{
			{NodeID: 1, Method: "f"},
			{NodeID: 7, Method: "move", Args: args},
			{Path: "World/Player", Method: "jump", Args: []any{int64(3)}},
			{Path: "P", Method: "", Args: []any{}},
			{Set: true, NodeID: 3, Method: "hp", Args: []any{int64(10)}},
			{Set: true, Path: "World", Method: "pos", Args: []any{Vector3{}}},
		} {
			b, err := AppendRPC3(nil, r)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseRPC3(b)
			if err != nil || !cmp.Equal(got, r, cmpEmpty) {
				t.Errorf("rpc3 %+v -> %+v, %v", r, got, err)
			}
		}
	})
	t.Run("rpc4", func(t *testing.T) {
		for _, r := range []RPC4{
			{NodeID: 1},
			{NodeID: 255, MethodID: 255, Args: args},
			{NodeID: 256, MethodID: 256, Args: []any{int64(127), int64(128), int64(-32768), int64(-32769), int64(math.MaxInt64)}},
			{NodeID: 70000, MethodID: 0x8000, Args: []any{false}},
			{NodeID: 1, Args: []any{[]byte{1, 2, 3}}},
			{Path: "World/Player", MethodID: 1, Args: []any{"x", []byte{}}},
			{Path: "World/Player", Args: []any{[]byte{5}}},
		} {
			b, err := AppendRPC4(nil, r)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseRPC4(b)
			if err != nil || !cmp.Equal(got, r, cmpEmpty) {
				t.Errorf("rpc4 %+v -> % x -> %+v, %v", r, b, got, err)
			}
		}
	})
}

// cmpEmpty treats nil and empty slices alike.
var cmpEmpty = cmp.FilterValues(func(x, y []any) bool { return len(x) == 0 && len(y) == 0 }, cmp.Ignore())

func TestMessageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"frame short", err1(ParseFrame3(h("01000000 000000"))), ErrShort},
		{"sys3 short", err1(ParseSys3(h("00000000"))), ErrShort},
		{"sys3 long", err1(ParseSys3(h("00000000 02000000 00"))), ErrTrailing},
		{"sys3 kind", err1(ParseSys3(h("02000000 02000000"))), ErrSysKind},
		{"raw3 empty", err1(ParseRaw3(nil)), ErrShort},
		{"raw3 no data", err1(ParseRaw3(h("04"))), ErrEmptyRaw},
		{"raw3 other", err1(ParseRaw3(h("03 00"))), ErrNotRaw},
		{"raw3 unknown", err1(ParseRaw3(h("05 00"))), ErrUnknownCommand},
		{"raw4 no data", err1(ParseRaw4(h("03"))), ErrEmptyRaw},
		{"raw4 other", err1(ParseRaw4(h("00 00"))), ErrNotRaw},
		{"sys4 short", err1(ParseSys4(h("07"))), ErrShort},
		{"sys4 not sys", err1(ParseSys4(h("03 00"))), ErrUnknownCommand},
		{"sys4 kind", err1(ParseSys4(h("07 09 00000000"))), ErrSysKind},
		{"sys4 add short", err1(ParseSys4(h("07 01 000000"))), ErrShort},
		{"sys4 add long", err1(ParseSys4(h("07 01 00000000 00"))), ErrTrailing},
		{"sys4 relay empty", err1(ParseSys4(h("07 03 00000000"))), ErrShort},
		{"simplify no nul", err3(ParseSimplifyPath3(h("02 01000000 41"))), ErrCString},
		{"simplify inner nul", err3(ParseSimplifyPath3(h("02 01000000 410042 00"))), ErrCString},
		{"confirm short", err1(ParseConfirmPath3(h("03"))), ErrShort},
		{"rpc3 not rpc", err1(ParseRPC3(h("04 00"))), ErrNotRPC},
		{"rpc3 short", err1(ParseRPC3(h("00 01000000"))), ErrShort},
		{"rpc3 no name end", err1(ParseRPC3(h("00 01000000 6666"))), ErrCString},
		{"rpc3 no argc", err1(ParseRPC3(h("00 01000000 6600"))), ErrShort},
		{"rpc3 argc too big", err1(ParseRPC3(h("00 01000000 6600 02 00000000"))), ErrShort},
		{"rpc3 trailing", err1(ParseRPC3(h("00 01000000 6600 00 00"))), ErrTrailing},
		{"rpc3 path offset before args", err1(ParseRPC3(h("00 05000080 6600 00 5000"))), ErrPathOffset},
		{"rpc3 path offset past end", err1(ParseRPC3(h("00 ff000080 6600 00 5000"))), ErrPathOffset},
		{"rpc3 path no nul", err1(ParseRPC3(h("00 08000080 6600 00 50"))), ErrCString},
		{"rpc3 empty path", err1(ParseRPC3(h("00 08000080 6600 00 00"))), ErrPathOffset},
		{"rpc3 args overrun path", err1(ParseRPC3(h("00 09000080 6600 01 00 5000"))), ErrShort},
		{"rpc4 not rpc", err1(ParseRPC4(h("03 00"))), ErrNotRPC},
		{"rpc4 bad node comp", err1(ParseRPC4(h("30 00 00 00"))), ErrRPCMeta},
		{"rpc4 bit 3", err1(ParseRPC4(h("08 00 00 00"))), ErrRPCMeta},
		{"rpc4 short node", err1(ParseRPC4(h("20 0000"))), ErrShort},
		{"rpc4 short name", err1(ParseRPC4(h("40 01 00"))), ErrShort},
		{"rpc4 no argc", err1(ParseRPC4(h("00 01 00"))), ErrShort},
		{"rpc4 int short", err1(ParseRPC4(h("00 01 00 01 c2 0000"))), ErrShort},
		{"rpc4 trailing", err1(ParseRPC4(h("00 01 00 01 01 00"))), ErrTrailing},
		{"rpc4 bad variant", err1(ParseRPC4(h("00 01 00 01 45 000000"))), ErrVariantType},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"rpc3 nul in method", err1(AppendRPC3(nil, RPC3{Method: "a\x00"})), ErrCString},
		{"rpc3 node flag", err1(AppendRPC3(nil, RPC3{NodeID: pathFlag})), ErrPathOffset},
		{"rpc3 256 args", err1(AppendRPC3(nil, RPC3{Args: make([]any, 256)})), ErrTooManyArgs},
		{"rset 2 values", err1(AppendRPC3(nil, RPC3{Set: true, Args: make([]any, 2)})), ErrTooManyArgs},
		{"rpc3 bad arg", err1(AppendRPC3(nil, RPC3{Args: []any{uint(1)}})), ErrVariantType},
		{"rpc4 nul in path", err1(AppendRPC4(nil, RPC4{Path: "\x00"})), ErrCString},
		{"rpc4 bad arg", err1(AppendRPC4(nil, RPC4{Args: []any{1, uint(1)}})), ErrVariantType},
		{"simplify nul", err1(AppendSimplifyPath3(nil, 1, "\x00")), ErrCString},
		{"confirm nul", err1(AppendConfirmPath3(nil, "\x00")), ErrCString},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}

func err1[T any](_ T, err error) error         { return err }
func err3[T, U any](_ T, _ U, err error) error { return err }

func TestUnframe(t *testing.T) {
	c3, c4 := For(V3), For(V4)
	for _, tc := range []struct {
		name string
		c    Codec
		ch   uint8
		in   string
		from uint32
		want Packet
		err  error
	}{
		{"v3 raw to server", c3, 1, "05000000 01000000 04 61", 5, Packet{Src: 5, Dst: 1, Cmd: Cmd3Raw, Payload: h("04 61")}, nil},
		// send_bytes' default target is 0 (broadcast), which includes the server.
		{"v3 raw broadcast", c3, 2, "05000000 00000000 04 61", 5, Packet{Src: 5, Dst: 0, Cmd: Cmd3Raw, Payload: h("04 61")}, nil},
		{"v3 all but 7", c3, 1, "05000000 f9ffffff 04 61", 5, Packet{Src: 5, Dst: -7, Cmd: Cmd3Raw, Payload: h("04 61")}, nil},
		{"v3 custom channel", c3, 5, "05000000 01000000 00 01", 5, Packet{Src: 5, Dst: 1, Cmd: Cmd3RemoteCall, Payload: h("00 01")}, nil},
		{"v3 all but server", c3, 1, "05000000 ffffffff 04 61", 5, Packet{}, ErrNotForServer},
		{"v3 to other peer", c3, 1, "05000000 07000000 04 61", 5, Packet{}, ErrNotForServer},
		{"v3 spoofed", c3, 1, "06000000 01000000 04 61", 5, Packet{}, ErrSpoofedSource},
		{"v3 system channel", c3, 0, "00000000 05000000", 5, Packet{}, ErrSystemChannel},
		{"v3 header only", c3, 1, "05000000 01000000", 5, Packet{}, ErrShort},
		{"v3 unknown cmd", c3, 1, "05000000 01000000 09", 5, Packet{}, ErrUnknownCommand},
		{"v4 direct", c4, 0, "03 61", 5, Packet{Src: 5, Dst: 1, Cmd: Cmd4Raw, Payload: h("03 61")}, nil},
		{"v4 rpc flags", c4, 1, "80 01 00", 5, Packet{Src: 5, Dst: 1, Cmd: Cmd4RemoteCall, Payload: h("80 01 00")}, nil},
		{"v4 relay broadcast", c4, 0, "07 03 00000000 03 61", 5, Packet{Src: 5, Dst: 0, Relayed: true, Cmd: Cmd4Raw, Payload: h("03 61")}, nil},
		{"v4 relay all but 3", c4, 0, "07 03 fdffffff 03 61", 5, Packet{Src: 5, Dst: -3, Relayed: true, Cmd: Cmd4Raw, Payload: h("03 61")}, nil},
		{"v4 auth", c4, 0, "07 00 01", 5, Packet{Src: 5, Dst: 1, Cmd: Cmd4Sys, Payload: h("07 00 01")}, nil},
		{"v4 relay to peer", c4, 0, "07 03 03000000 03 61", 5, Packet{}, ErrNotForServer},
		{"v4 relay all but server", c4, 0, "07 03 ffffffff 03 61", 5, Packet{}, ErrNotForServer},
		{"v4 relay of sys", c4, 0, "07 03 00000000 07 00", 5, Packet{}, ErrUnknownCommand},
		{"v4 relay short", c4, 0, "07 03 00000000", 5, Packet{}, ErrShort},
		{"v4 empty", c4, 0, "", 5, Packet{}, ErrShort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.Unframe(tc.ch, h(tc.in), tc.from)
			if !errors.Is(err, tc.err) || !cmp.Equal(got, tc.want, cmp.Comparer(bytes.Equal)) {
				t.Fatalf("Unframe = %+v, %v; want %+v, %v", got, err, tc.want, tc.err)
			}
		})
	}
	if _, err := c3.ParseRaw(1, h("05000000 01000000 00 01000000 6600 00"), 5); !errors.Is(err, ErrNotRaw) {
		t.Errorf("ParseRaw of an rpc: %v, want ErrNotRaw", err)
	}
	if d, err := c4.ParseRaw(0, h("07 03 00000000 03 6162"), 5); err != nil || string(d) != "ab" {
		t.Errorf("ParseRaw of a relayed raw: %q, %v", d, err)
	}
	if _, err := c3.ParsePeerEvent(1, h("00000000 02000000")); !errors.Is(err, ErrSystemChannel) {
		t.Errorf("ParsePeerEvent on channel 1: %v", err)
	}
	if _, err := c4.ParsePeerEvent(0, h("07 03 00000000 03 61")); !errors.Is(err, ErrSysKind) {
		t.Errorf("ParsePeerEvent of a relay: %v", err)
	}
}

func TestCodecBasics(t *testing.T) {
	c3, c4 := For(V3), For(V4)
	if c3.Channels() != 3 || c3.Channel(true) != 1 || c3.Channel(false) != 2 {
		t.Error("godot3 channel layout")
	}
	if c4.Channels() != 2 || c4.Channel(true) != 0 || c4.Channel(false) != 1 {
		t.Error("godot4 channel layout")
	}
	if got := c4.AppendHeader([]byte{1}, 5); !bytes.Equal(got, []byte{1}) {
		t.Errorf("godot4 header = % x", got)
	}
	b, _ := c3.AppendVariant(nil, "x")
	if x, _, err := c3.ParseVariant(b); err != nil || x != "x" {
		t.Errorf("codec variant: %v %v", x, err)
	}
	for _, v := range []Version{0, 2, 5} {
		if v.Valid() || v.String() != "godot?" {
			t.Errorf("Version(%d) is valid", v)
		}
	}
	mustPanic(t, "For(0)", func() { For(0) })
	mustPanic(t, "AppendVariant(0)", func() { _, _ = AppendVariant(nil, 0, nil) })
	mustPanic(t, "ParseVariant(0)", func() { _, _, _ = ParseVariant(nil, 0) })
	mustPanic(t, "AppendSys3(kind 0)", func() { AppendSys3(nil, PeerEvent{}) })
	mustPanic(t, "AppendSys4(sub 9)", func() { AppendSys4(nil, Sys4{Sub: 9}) })
	mustPanic(t, "AppendPeerEvent(kind 0)", func() { c4.AppendPeerEvent(nil, PeerEvent{}) })
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", name)
		}
	}()
	f()
}

func TestCheckClientID(t *testing.T) {
	for id, ok := range map[uint32]bool{0: false, 1: false, 2: true, 0x7FFFFFFF: true, 0x80000000: false, 0xFFFFFFFF: false} {
		if err := CheckClientID(id); (err == nil) != ok || (err != nil && !errors.Is(err, ErrPeerID)) {
			t.Errorf("CheckClientID(%#x) = %v", id, err)
		}
	}
}
