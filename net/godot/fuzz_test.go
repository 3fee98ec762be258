package godot

import (
	"bytes"
	"testing"
)

// Every fuzz target checks that the parser never panics and that whatever it
// accepts survives parse -> append -> parse: the re-encoding of the parsed
// value parses again and encodes to the same bytes (byte equality also
// covers NaN).

func seedVariants(f *testing.F) {
	for _, tc := range goldenVariants {
		f.Add(byte(3), h(tc.v3))
		f.Add(byte(4), h(tc.v4))
	}
	deep, _ := AppendVariant(nil, V3, Array{Dictionary{{"k", Array{[]byte{1}, Vector3{}}}}, 0.1, int64(1) << 40})
	f.Add(byte(3), deep)
}

func versionOf(sel byte) Version {
	if sel&1 == 0 {
		return V4
	}
	return V3
}

func FuzzDecodeVariant(f *testing.F) {
	seedVariants(f)
	f.Fuzz(func(t *testing.T, sel byte, b []byte) {
		v := versionOf(sel)
		x, n, err := ParseVariant(b, v)
		if err != nil {
			return
		}
		if n <= 0 || n > len(b) || n%4 != 0 {
			t.Fatalf("ParseVariant used %d of %d bytes", n, len(b))
		}
		e1, err := AppendVariant(nil, v, x)
		if err != nil {
			t.Fatalf("AppendVariant(%#v): %v", x, err)
		}
		x2, n2, err := ParseVariant(e1, v)
		if err != nil || n2 != len(e1) {
			t.Fatalf("re-parse of % x: %v, %d", e1, err, n2)
		}
		if e2, _ := AppendVariant(nil, v, x2); !bytes.Equal(e1, e2) {
			t.Fatalf("unstable: % x then % x", e1, e2)
		}
	})
}

func FuzzParseFrame3(f *testing.F) {
	f.Add(h("01000000 00000000 04 61"))
	f.Add(h("05000000 f9ffffff 00 01000000 6600 00"))
	f.Add(h("00000000 05000000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ParseFrame3(b)
		if err != nil {
			return
		}
		e := AppendFrame3(nil, fr.Src, fr.Dst, fr.Payload)
		if !bytes.Equal(e, b) {
			t.Fatalf("frame % x re-encoded as % x", b, e)
		}
		if s, err := ParseSys3(b); err == nil {
			if e := AppendSys3(nil, s); !bytes.Equal(e, b) {
				t.Fatalf("sys3 % x re-encoded as % x", b, e)
			}
		}
	})
}

func FuzzUnframe(f *testing.F) {
	for _, s := range []string{"05000000 01000000 04 61", "05000000 00000000 04 6162", "03 61", "07 03 00000000 03 61", "07 01 05000000", "07 00 01"} {
		f.Add(byte(3), byte(1), h(s))
		f.Add(byte(4), byte(0), h(s))
	}
	f.Fuzz(func(t *testing.T, sel, ch byte, b []byte) {
		c := For(versionOf(sel))
		const from = 5
		p, err := c.Unframe(ch, b, from)
		if err != nil {
			return
		}
		if len(p.Payload) == 0 || p.Src != from {
			t.Fatalf("Unframe(% x) = %+v", b, p)
		}
		if data, err := c.ParseRaw(ch, b, from); err == nil {
			// Rebuild the client's packet and unframe it again.
			var e []byte
			switch {
			case c.Version() == V3:
				e = AppendFrame3(nil, from, p.Dst, AppendRaw3(nil, data))
			case p.Relayed:
				e = AppendSys4(nil, Sys4{Sub: Sys4Relay, Peer: p.Dst, Data: AppendRaw4(nil, data)})
			default:
				e = AppendRaw4(nil, data)
			}
			data2, err := c.ParseRaw(ch, e, from)
			if err != nil || !bytes.Equal(data, data2) {
				t.Fatalf("raw % x -> % x -> %v", data, e, err)
			}
		}
		if s, err := ParseSys4(p.Payload); err == nil && c.Version() == V4 {
			if s2, err := ParseSys4(AppendSys4(nil, s)); err != nil || s2.Sub != s.Sub || s2.Peer != s.Peer || !bytes.Equal(s2.Data, s.Data) {
				t.Fatalf("sys4 %+v -> %+v, %v", s, s2, err)
			}
		}
	})
}

func FuzzParseRPC3(f *testing.F) {
	for _, r := range []RPC3{
		{NodeID: 1, Method: "f", Args: []any{int64(7)}},
		{Path: "World/Player", Method: "move", Args: []any{Vector2{1, 2}, "x", Dictionary{{"a", []byte{1}}}}},
		{Set: true, Path: "W", Method: "hp", Args: []any{0.1}},
	} {
		b, _ := AppendRPC3(nil, r)
		f.Add(b)
	}
	f.Add(h("02 01000000 4d61696e00"))
	f.Add(h("03 4d61696e00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := ParseRPC3(b); err == nil {
			e1, err := AppendRPC3(nil, r)
			if err != nil {
				t.Fatalf("AppendRPC3(%+v): %v", r, err)
			}
			r2, err := ParseRPC3(e1)
			if err != nil {
				t.Fatalf("re-parse of % x: %v", e1, err)
			}
			if e2, _ := AppendRPC3(nil, r2); !bytes.Equal(e1, e2) {
				t.Fatalf("unstable: % x then % x", e1, e2)
			}
		}
		if id, p, err := ParseSimplifyPath3(b); err == nil {
			if e, _ := AppendSimplifyPath3(nil, id, p); !bytes.Equal(e, b) {
				t.Fatalf("simplify % x -> % x", b, e)
			}
		}
		if p, err := ParseConfirmPath3(b); err == nil {
			if e, _ := AppendConfirmPath3(nil, p); !bytes.Equal(e, b) {
				t.Fatalf("confirm % x -> % x", b, e)
			}
		}
	})
}

func FuzzParseRPC4(f *testing.F) {
	for _, r := range []RPC4{
		{NodeID: 1, Args: []any{int64(7)}},
		{NodeID: 300, MethodID: 0x8001, Args: []any{true, int64(300), int64(1) << 40, "a", 0.1}},
		{Path: "World/Player", Args: []any{[]byte{9}}},
		{NodeID: 1},
	} {
		b, _ := AppendRPC4(nil, r)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRPC4(b)
		if err != nil {
			return
		}
		e1, err := AppendRPC4(nil, r)
		if err != nil {
			t.Fatalf("AppendRPC4(%+v): %v", r, err)
		}
		r2, err := ParseRPC4(e1)
		if err != nil {
			t.Fatalf("re-parse of % x: %v", e1, err)
		}
		if e2, _ := AppendRPC4(nil, r2); !bytes.Equal(e1, e2) {
			t.Fatalf("unstable: % x then % x", e1, e2)
		}
	})
}
