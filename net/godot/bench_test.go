package godot

import (
	"bytes"
	"testing"
)

// The per-packet path: framing a snapshot out, unframing a client packet in.

func BenchmarkAppendRaw(b *testing.B) {
	data := bytes.Repeat([]byte{0xAB}, 1200)
	for _, v := range versions {
		b.Run(v.String(), func(b *testing.B) {
			c := For(v)
			buf := make([]byte, 0, 2048)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				buf = c.AppendRaw(buf[:0], 7, data)
			}
		})
	}
}

func BenchmarkParseRaw(b *testing.B) {
	data := bytes.Repeat([]byte{0xCD}, 64)
	for _, tc := range []struct {
		name string
		c    Codec
		pkt  []byte
	}{
		{"godot3", For(V3), AppendFrame3(nil, 7, 0, AppendRaw3(nil, data))},
		{"godot4", For(V4), AppendRaw4(nil, data)},
		{"godot4-relayed", For(V4), AppendSys4(nil, Sys4{Sub: Sys4Relay, Data: AppendRaw4(nil, data)})},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ch := tc.c.Channel(true)
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.pkt)))
			for b.Loop() {
				if _, err := tc.c.ParseRaw(ch, tc.pkt, 7); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseRawReject measures dropping garbage: sentinel errors, no allocation.
func BenchmarkParseRawReject(b *testing.B) {
	c := For(V3)
	pkt := AppendFrame3(nil, 8, 0, AppendRaw3(nil, []byte{1})) // spoofed source
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ParseRaw(1, pkt, 7); err == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkPeerEvent(b *testing.B) {
	c := For(V3)
	buf := make([]byte, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		var ch uint8
		ch, buf = c.AppendPeerEvent(buf[:0], PeerEvent{PeerAdded, 9})
		if _, err := c.ParsePeerEvent(ch, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVariantRoundTrip(b *testing.B) {
	x := Array{int64(1), 0.5, "hello", Vector3{1, 2, 3}, []byte{1, 2, 3}}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendVariant(buf[:0], V3, x)
		if _, _, err := ParseVariant(buf, V3); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRawPathDoesNotAllocate(t *testing.T) {
	data := []byte("token")
	buf := make([]byte, 0, 64)
	for _, v := range versions {
		c := For(v)
		pkt := c.AppendRaw(nil, 0, data)
		if v == V3 {
			pkt = AppendFrame3(nil, 7, 0, AppendRaw3(nil, data))
		}
		n := testing.AllocsPerRun(100, func() {
			buf = c.AppendRaw(buf[:0], 7, data)
			_, _ = c.ParseRaw(c.Channel(false), pkt, 7)
			_, _ = c.ParseRaw(c.Channel(false), pkt, 8)
			_, buf = c.AppendPeerEvent(buf[:0], PeerEvent{PeerRemoved, 7})
		})
		if n != 0 {
			t.Errorf("%v raw path: %v allocations per run", v, n)
		}
	}
}
