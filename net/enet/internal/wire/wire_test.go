package wire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func allCommands() []Command {
	pl := []byte("payload")
	return []Command{
		{Number: CmdAcknowledge, ChannelID: 2, ReliableSeq: 7, ReceivedReliableSeq: 7, ReceivedSentTime: 0xBEEF},
		{Number: CmdConnect, Flags: FlagAcknowledge, ChannelID: 0xFF, ReliableSeq: 1, OutgoingPeerID: 3,
			IncomingSessionID: 0xFF, OutgoingSessionID: 0xFF, MTU: 1400, WindowSize: 65536, ChannelCount: 3,
			IncomingBandwidth: 1, OutgoingBandwidth: 2, ThrottleInterval: 5000, ThrottleAcceleration: 2,
			ThrottleDeceleration: 2, ConnectID: 0xDEADBEEF, Data: 12345},
		{Number: CmdVerifyConnect, Flags: FlagAcknowledge, ChannelID: 0xFF, ReliableSeq: 1, OutgoingPeerID: 0,
			IncomingSessionID: 1, OutgoingSessionID: 2, MTU: 1392, WindowSize: 4096, ChannelCount: 255,
			ThrottleInterval: 5000, ThrottleAcceleration: 2, ThrottleDeceleration: 2, ConnectID: 42},
		{Number: CmdDisconnect, Flags: FlagUnsequenced, ChannelID: 0xFF, ReliableSeq: 9, Data: 77},
		{Number: CmdPing, Flags: FlagAcknowledge, ChannelID: 0xFF, ReliableSeq: 65535},
		{Number: CmdSendReliable, Flags: FlagAcknowledge, ChannelID: 1, ReliableSeq: 4096, Payload: pl},
		{Number: CmdSendUnreliable, ChannelID: 1, ReliableSeq: 3, Seq: 9, Payload: pl},
		{Number: CmdSendFragment, Flags: FlagAcknowledge, ChannelID: 0, ReliableSeq: 11, Seq: 10,
			FragmentCount: 3, FragmentNumber: 1, TotalLength: 3000, FragmentOffset: 1364, Payload: pl},
		{Number: CmdSendUnsequenced, Flags: FlagUnsequenced, ChannelID: 4, Seq: 1023, Payload: []byte{}},
		{Number: CmdBandwidthLimit, Flags: FlagAcknowledge, ChannelID: 0xFF, ReliableSeq: 2, IncomingBandwidth: 100, OutgoingBandwidth: 200},
		{Number: CmdThrottleConfigure, Flags: FlagAcknowledge, ChannelID: 0xFF, ReliableSeq: 3,
			ThrottleInterval: 1000, ThrottleAcceleration: 4, ThrottleDeceleration: 8},
		{Number: CmdSendUnreliableFragment, ChannelID: 2, ReliableSeq: 5, Seq: 6,
			FragmentCount: 2, FragmentNumber: 0, TotalLength: 2000, FragmentOffset: 0, Payload: pl},
	}
}

func TestCommandRoundTrip(t *testing.T) {
	for _, c := range allCommands() {
		b, err := AppendCommand([]byte{0xAA}, &c)
		if err != nil {
			t.Fatalf("command %d: %v", c.Number, err)
		}
		if len(b)-1 != c.EncodedSize() {
			t.Fatalf("command %d: wrote %d bytes, EncodedSize %d", c.Number, len(b)-1, c.EncodedSize())
		}
		got, n, err := ParseCommand(b[1:])
		if err != nil {
			t.Fatalf("command %d: %v", c.Number, err)
		}
		if n != len(b)-1 {
			t.Fatalf("command %d: parsed %d of %d bytes", c.Number, n, len(b)-1)
		}
		if !HasPayload(c.Number) {
			c.Payload = nil
		}
		if diff := cmp.Diff(c, got, cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
			t.Fatalf("command %d round trip (-want +got):\n%s", c.Number, diff)
		}
		// Every truncation is an error, never a panic.
		for i := range n {
			if _, _, err := ParseCommand(b[1 : 1+i]); !errors.Is(err, ErrShort) {
				t.Fatalf("command %d truncated to %d: err %v", c.Number, i, err)
			}
		}
	}
}

// TestKnownEncoding pins the byte layout against ENet's packed structs.
func TestKnownEncoding(t *testing.T) {
	c := Command{Number: CmdSendUnreliable, ChannelID: 1, ReliableSeq: 0x0203, Seq: 0x0405, Payload: []byte{9}}
	b, _ := AppendCommand(nil, &c)
	want := []byte{7, 1, 2, 3, 4, 5, 0, 1, 9}
	if !bytes.Equal(b, want) {
		t.Fatalf("got % x want % x", b, want)
	}
	h := Header{PeerID: 0x123, SessionID: 2, HasSentTime: true, SentTime: 0x4567}
	if hb := AppendHeader(nil, &h); !bytes.Equal(hb, []byte{0xA1, 0x23, 0x45, 0x67}) {
		t.Fatalf("header % x", hb)
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, h := range []Header{
		{PeerID: MaximumPeerID},
		{PeerID: 5, SessionID: 3, HasSentTime: true, SentTime: 1},
		{PeerID: 0, SessionID: 1, Compressed: true},
	} {
		b := AppendHeader(nil, &h)
		if len(b) != h.HeaderSize() {
			t.Fatalf("size %d want %d", len(b), h.HeaderSize())
		}
		got, n, err := ParseHeader(b)
		if err != nil || n != len(b) || got != h {
			t.Fatalf("header %+v: got %+v n=%d err=%v", h, got, n, err)
		}
	}
	if _, _, err := ParseHeader([]byte{0x80, 0}); !errors.Is(err, ErrShort) {
		t.Fatalf("sent-time header of 2 bytes: %v", err)
	}
}

func TestBadCommands(t *testing.T) {
	for _, b := range [][]byte{{0, 0, 0, 0}, {13, 0, 0, 0}, {0x8F, 0, 0, 0, 0, 0, 0, 0}} {
		if _, _, err := ParseCommand(b); !errors.Is(err, ErrUnknownCommand) {
			t.Fatalf("% x: %v", b, err)
		}
	}
	c := Command{Number: CmdSendReliable, Payload: make([]byte, 70000)}
	if _, err := AppendCommand(nil, &c); !errors.Is(err, ErrTooLong) {
		t.Fatalf("long payload: %v", err)
	}
}

// FuzzParseCommand checks that any input either fails to parse or
// survives parse → append → parse unchanged.
func FuzzParseCommand(f *testing.F) {
	for _, c := range allCommands() {
		b, _ := AppendCommand(nil, &c)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, n, err := ParseCommand(b)
		if err != nil {
			return
		}
		if n > len(b) || n < 4 {
			t.Fatalf("parsed %d of %d bytes", n, len(b))
		}
		enc, err := AppendCommand(nil, &c)
		if err != nil {
			t.Fatal(err)
		}
		c2, n2, err := ParseCommand(enc)
		if err != nil || n2 != len(enc) {
			t.Fatalf("re-parse: n=%d len=%d err=%v", n2, len(enc), err)
		}
		if !bytes.Equal(enc, b[:n]) {
			t.Fatalf("re-encoding differs:\n% x\n% x", enc, b[:n])
		}
		enc2, _ := AppendCommand(nil, &c2)
		if !bytes.Equal(enc, enc2) {
			t.Fatal("not a fixed point")
		}
	})
}

// FuzzParseDatagram parses a whole datagram as ENet does: a header, then
// commands until the end.
func FuzzParseDatagram(f *testing.F) {
	h := Header{PeerID: 1, SessionID: 1, HasSentTime: true, SentTime: 100}
	b := AppendHeader(nil, &h)
	for _, c := range allCommands() {
		b, _ = AppendCommand(b, &c)
	}
	f.Add(b)
	f.Add([]byte{0x8F, 0xFF, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b)
		if err != nil {
			return
		}
		out := AppendHeader(nil, &h)
		if !bytes.Equal(out, b[:n]) {
			t.Fatalf("header re-encoding differs: % x vs % x", out, b[:n])
		}
		rest := b[n:]
		for len(rest) > 0 {
			c, m, err := ParseCommand(rest)
			if err != nil {
				return
			}
			out, err = AppendCommand(out, &c)
			if err != nil {
				t.Fatal(err)
			}
			rest = rest[m:]
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("datagram re-encoding differs")
		}
	})
}

// BenchmarkParseCommands parses a datagram holding one of every command.
func BenchmarkParseCommands(b *testing.B) {
	h := Header{PeerID: 1, HasSentTime: true, SentTime: 100}
	buf := AppendHeader(nil, &h)
	for _, c := range allCommands() {
		buf, _ = AppendCommand(buf, &c)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		_, n, err := ParseHeader(buf)
		if err != nil {
			b.Fatal(err)
		}
		for rest := buf[n:]; len(rest) > 0; {
			_, m, err := ParseCommand(rest)
			if err != nil {
				b.Fatal(err)
			}
			rest = rest[m:]
		}
	}
}

// BenchmarkAppendCommands encodes one of every command.
func BenchmarkAppendCommands(b *testing.B) {
	cmds := allCommands()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		out := AppendHeader(buf[:0], &Header{PeerID: 1})
		for i := range cmds {
			out, _ = AppendCommand(out, &cmds[i])
		}
	}
}
