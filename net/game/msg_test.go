package game

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shardsim/shardsim/ecs"
)

func sampleInput() *InputMsg {
	m := &InputMsg{Ack: Ack{Newest: 1234, Bits: 0xdeadbeef}, N: 3}
	for i := range m.N {
		m.Inputs[i] = SeqInput{Seq: uint32(900 - i), In: ecs.Input{MoveX: int8(-127 + i), MoveY: 127, Buttons: ecs.ButtonRun, Emote: uint8(i)}}
	}
	return m
}

// TestMessageRoundTrip encodes, parses and re-encodes every message type.
func TestMessageRoundTrip(t *testing.T) {
	full := &InputMsg{N: MaxInputs}
	for i := range full.Inputs {
		full.Inputs[i].Seq = ^uint32(i)
	}
	tests := []struct {
		name  string
		msg   any
		enc   func([]byte) []byte
		parse func([]byte) (any, error)
	}{
		{"hello", &HelloMsg{Version: ProtocolVersion, Token: []byte("v1.1.2.abc")},
			func(b []byte) []byte {
				return AppendHello(b, &HelloMsg{Version: ProtocolVersion, Token: []byte("v1.1.2.abc")})
			},
			func(b []byte) (any, error) { m, err := ParseHello(b); return &m, err }},
		{"hello max token", &HelloMsg{Version: 7, Token: bytes.Repeat([]byte{'x'}, MaxTokenLen)},
			func(b []byte) []byte {
				return AppendHello(b, &HelloMsg{Version: 7, Token: bytes.Repeat([]byte{'x'}, MaxTokenLen)})
			},
			func(b []byte) (any, error) { m, err := ParseHello(b); return &m, err }},
		{"input", sampleInput(),
			func(b []byte) []byte { return AppendInput(b, sampleInput()) },
			func(b []byte) (any, error) { m, err := ParseInput(b); return &m, err }},
		{"input empty", &InputMsg{},
			func(b []byte) []byte { return AppendInput(b, &InputMsg{}) },
			func(b []byte) (any, error) { m, err := ParseInput(b); return &m, err }},
		{"input full", full,
			func(b []byte) []byte { return AppendInput(b, full) },
			func(b []byte) (any, error) { m, err := ParseInput(b); return &m, err }},
		{"welcome", sampleWelcome(),
			func(b []byte) []byte { return AppendWelcome(b, sampleWelcome()) },
			func(b []byte) (any, error) { m, err := ParseWelcome(b); return &m, err }},
		{"welcome no shadows", &WelcomeMsg{NetID: 1, TickRate: 30, SnapshotRate: 20, ArenaW: 1, ArenaH: 1},
			func(b []byte) []byte {
				return AppendWelcome(b, &WelcomeMsg{NetID: 1, TickRate: 30, SnapshotRate: 20, ArenaW: 1, ArenaH: 1})
			},
			func(b []byte) (any, error) { m, err := ParseWelcome(b); return &m, err }},
		{"kick", &NoticeMsg{Code: ReasonServerFull, Text: "server full — try later"},
			func(b []byte) []byte {
				return AppendKick(b, &NoticeMsg{Code: ReasonServerFull, Text: "server full — try later"})
			},
			func(b []byte) (any, error) { m, err := ParseKick(b); return &m, err }},
		{"error", &NoticeMsg{Code: ReasonProtocol},
			func(b []byte) []byte { return AppendError(b, &NoticeMsg{Code: ReasonProtocol}) },
			func(b []byte) (any, error) { m, err := ParseError(b); return &m, err }},
		{"snapshot header", &SnapshotHeader{ID: 40, Base: 9, Tick: 1 << 40, Hash: 0x0123456789abcdef, Size: MaxPayload},
			func(b []byte) []byte {
				return AppendSnapshotHeader(b, &SnapshotHeader{ID: 40, Base: 9, Tick: 1 << 40, Hash: 0x0123456789abcdef, Size: MaxPayload})
			},
			func(b []byte) (any, error) { h, _, err := ParseSnapshotHeader(b); return &h, err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("prefix")
			b := tt.enc(bytes.Clone(prefix))
			if !bytes.HasPrefix(b, prefix) {
				t.Fatal("append clobbered the prefix")
			}
			b = b[len(prefix):]
			got, err := tt.parse(b)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if d := cmp.Diff(tt.msg, got); d != "" {
				t.Fatalf("round trip differs (-want +got):\n%s", d)
			}
			if again := tt.enc(nil); !bytes.Equal(again, b) {
				t.Fatal("encoding is not deterministic")
			}
			// Every strict prefix is rejected, never panics.
			for i := range len(b) {
				if _, err := tt.parse(b[:i]); err == nil && tt.name != "snapshot header" {
					t.Fatalf("prefix of %d bytes parsed", i)
				}
			}
			if _, err := tt.parse(append(bytes.Clone(b), 0)); err == nil && tt.name != "snapshot header" {
				t.Fatal("trailing byte accepted")
			}
		})
	}
}

func sampleWelcome() *WelcomeMsg {
	return &WelcomeMsg{NetID: 17, Tick: 123456789, TickRate: 30, ArenaW: 256_000_000, ArenaH: 128_000_000,
		SnapshotRate: 20, Shadows: []string{"10.0.0.2:7777", "[::1]:7778", "shadow.example:9", strings.Repeat("a", MaxAddressLen)}}
}

func TestParseErrors(t *testing.T) {
	in := AppendInput(nil, sampleInput())
	w := AppendWelcome(nil, sampleWelcome())
	h := AppendHello(nil, &HelloMsg{Token: []byte("tok")})
	tests := []struct {
		name  string
		parse func([]byte) error
		in    []byte
		want  error
	}{
		{"input empty", func(b []byte) error { _, err := ParseInput(b); return err }, nil, ErrShort},
		{"input type", func(b []byte) error { _, err := ParseInput(b); return err }, []byte{byte(TypeHello)}, ErrType},
		{"input count", func(b []byte) error { _, err := ParseInput(b); return err }, func() []byte { b := bytes.Clone(in); b[9] = 9; return b }(), ErrRange},
		{"input short", func(b []byte) error { _, err := ParseInput(b); return err }, in[:len(in)-1], ErrShort},
		{"input trailing", func(b []byte) error { _, err := ParseInput(b); return err }, append(bytes.Clone(in), 1), ErrTrailing},
		{"hello padding", func(b []byte) error { _, err := ParseHello(b); return err }, func() []byte { b := bytes.Clone(h); b[HelloSize-1] = 1; return b }(), ErrRange},
		{"hello short", func(b []byte) error { _, err := ParseHello(b); return err }, h[:HelloSize-1], ErrShort},
		{"welcome netid", func(b []byte) error { _, err := ParseWelcome(b); return err }, func() []byte { b := bytes.Clone(w); clear(b[1:5]); return b }(), ErrRange},
		{"welcome shadows", func(b []byte) error { _, err := ParseWelcome(b); return err }, func() []byte { b := bytes.Clone(w); b[25] = 5; return b }(), ErrRange},
		{"welcome utf8", func(b []byte) error { _, err := ParseWelcome(b); return err }, func() []byte { b := bytes.Clone(w); b[27] = 0xff; return b }(), ErrUTF8},
		{"welcome trailing", func(b []byte) error { _, err := ParseWelcome(b); return err }, append(bytes.Clone(w), 0), ErrTrailing},
		{"kick utf8", func(b []byte) error { _, err := ParseKick(b); return err }, []byte{byte(TypeKick), 0, 0, 1, 0xff}, ErrUTF8},
		{"kick as error", func(b []byte) error { _, err := ParseError(b); return err }, AppendKick(nil, &NoticeMsg{}), ErrType},
		{"snapshot base too old", func(b []byte) error { _, _, err := ParseSnapshotHeader(b); return err }, AppendSnapshotHeader(nil, &SnapshotHeader{ID: 100, Base: 100 - MaxBaseDistance - 1}), ErrRange},
		{"snapshot base not older", func(b []byte) error { _, _, err := ParseSnapshotHeader(b); return err }, AppendSnapshotHeader(nil, &SnapshotHeader{ID: 100, Base: 100}), ErrRange},
		{"snapshot id 0", func(b []byte) error { _, _, err := ParseSnapshotHeader(b); return err }, AppendSnapshotHeader(nil, &SnapshotHeader{}), ErrRange},
		{"snapshot size", func(b []byte) error { _, _, err := ParseSnapshotHeader(b); return err }, AppendSnapshotHeader(nil, &SnapshotHeader{ID: 1, Size: MaxPayload + 1}), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.parse(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNoticeTruncatesOnRuneBoundary(t *testing.T) {
	text := strings.Repeat("é", 200) // 400 bytes
	m, err := ParseKick(AppendKick(nil, &NoticeMsg{Text: text}))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Text) != 254 || !strings.HasPrefix(text, m.Text) {
		t.Fatalf("truncated to %d bytes", len(m.Text))
	}
}

func TestAckHas(t *testing.T) {
	a := Ack{Newest: 100, Bits: 1 | 1<<31}
	for id, want := range map[uint32]bool{100: true, 99: true, 98: false, 68: true, 67: false, 101: false, 0: false} {
		if a.Has(id) != want {
			t.Errorf("Has(%d) = %v", id, !want)
		}
	}
}

func TestParseInputNoAlloc(t *testing.T) {
	b := AppendInput(nil, sampleInput())
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(100, func() {
		m, err := ParseInput(b)
		if err != nil {
			t.Fatal(err)
		}
		buf = AppendInput(buf[:0], &m)
	}); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}
