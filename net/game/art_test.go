package game

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shardsim/shardsim/ecs"
)

func artHash(seed byte) [32]byte {
	var h [32]byte
	for i := range h {
		h[i] = seed + byte(i)
	}
	return h
}

func sampleCanvas() *CanvasInfoMsg {
	return &CanvasInfoMsg{Canvas: ecs.Canvas{
		ID: 3, Owner: 101, Pos: ecs.Position{X: 12_000_000, Y: 250_000_000}, Head: ecs.Heading{Angle: 0xc000},
		Placed: 1234, Art: ecs.Art{Hash: artHash(7), Width: 640, Height: 8192},
	}, Size: 123_456}
}

// artParsers parses b with the parser of its type and appends the result again.
func artReencode(b []byte) (any, []byte, error) {
	if len(b) == 0 {
		return nil, nil, ErrShort
	}
	switch MsgType(b[0]) {
	case TypeUploadBegin:
		m, err := ParseUploadBegin(b)
		return m, AppendUploadBegin(nil, &m), err
	case TypeUploadChunk:
		m, err := ParseUploadChunk(b)
		if err != nil {
			return m, nil, err
		}
		return m, AppendUploadChunk(nil, &m), nil
	case TypeFetchArt:
		m, err := ParseFetchArt(b)
		return m, AppendFetchArt(nil, &m), err
	case TypeUploadAck:
		m, err := ParseUploadAck(b)
		return m, AppendUploadAck(nil, &m), err
	case TypeUploadDone:
		m, err := ParseUploadDone(b)
		return m, AppendUploadDone(nil, &m), err
	case TypeUploadError:
		m, err := ParseUploadError(b)
		return m, AppendUploadError(nil, &m), err
	case TypeFetchError:
		m, err := ParseFetchError(b)
		return m, AppendFetchError(nil, &m), err
	case TypeCanvasInfo:
		m, err := ParseCanvasInfo(b)
		return m, AppendCanvasInfo(nil, &m), err
	case TypeArtChunk:
		m, err := ParseArtChunk(b)
		if err != nil {
			return m, nil, err
		}
		return m, AppendArtChunk(nil, &m), nil
	}
	return nil, nil, ErrType
}

func artSamples() []struct {
	name string
	msg  any
	enc  []byte
	size int
} {
	data := bytes.Repeat([]byte{0xab}, MaxChunk)
	begin := UploadBeginMsg{Size: 8 << 20, Hash: artHash(1), Type: ContentJPEG}
	chunk := UploadChunkMsg{Offset: 4096, Data: data}
	fetch := FetchArtMsg{Hash: artHash(2)}
	ack := UploadAckMsg{Hash: artHash(3), Received: 65536}
	done := UploadDoneMsg{Hash: artHash(4), Canvas: 9, Width: 200, Height: 100}
	uerr := ArtErrorMsg{Hash: artHash(5), Code: ArtHashMismatch, Text: "bytes hash to 0123…"}
	ferr := ArtErrorMsg{Code: ArtNotFound, Text: ""}
	cv := *sampleCanvas()
	ac := ArtChunkMsg{Hash: artHash(6), Total: 5000, Offset: 4096, Data: data[:904]}
	return []struct {
		name string
		msg  any
		enc  []byte
		size int
	}{
		{"UploadBegin", begin, AppendUploadBegin(nil, &begin), UploadBeginSize},
		{"UploadChunk", chunk, AppendUploadChunk(nil, &chunk), 7 + MaxChunk},
		{"FetchArt", fetch, AppendFetchArt(nil, &fetch), FetchArtSize},
		{"UploadAck", ack, AppendUploadAck(nil, &ack), UploadAckSize},
		{"UploadDone", done, AppendUploadDone(nil, &done), UploadDoneSize},
		{"UploadError", uerr, AppendUploadError(nil, &uerr), 36 + len(uerr.Text)},
		{"FetchError", ferr, AppendFetchError(nil, &ferr), 36},
		{"CanvasInfo", cv, AppendCanvasInfo(nil, &cv), CanvasInfoSize},
		{"ArtChunk", ac, AppendArtChunk(nil, &ac), 43 + 904},
	}
}

// TestArtMessageRoundTrip encodes, decodes and compares every art message type.
func TestArtMessageRoundTrip(t *testing.T) {
	seen := map[MsgType]bool{}
	for _, tc := range artSamples() {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.enc) != tc.size {
				t.Errorf("size %d, want %d", len(tc.enc), tc.size)
			}
			typ := MsgType(tc.enc[0])
			if seen[typ] {
				t.Errorf("type %#x used twice", typ)
			}
			seen[typ] = true
			switch typ {
			case TypeHello, TypeInput, TypeWelcome, TypeKick, TypeError, TypeSnapshot:
				t.Errorf("type %#x collides with msg.go", typ)
			}
			got, re, err := artReencode(tc.enc)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.msg, got); diff != "" {
				t.Errorf("decoded differs (-want +got):\n%s", diff)
			}
			if !bytes.Equal(re, tc.enc) {
				t.Errorf("re-encoding differs")
			}
			// Every truncation and an extra byte are refused.
			for n := range len(tc.enc) {
				if _, _, err := artReencode(tc.enc[:n]); err == nil {
					t.Fatalf("%d of %d bytes parsed", n, len(tc.enc))
				}
			}
			if _, _, err := artReencode(append(append([]byte{}, tc.enc...), 0)); !errors.Is(err, ErrTrailing) {
				t.Errorf("trailing byte: %v", err)
			}
		})
	}
}

func TestArtParseErrors(t *testing.T) {
	begin := AppendUploadBegin(nil, &UploadBeginMsg{Size: 10, Hash: artHash(1), Type: ContentPNG})
	chunk := AppendUploadChunk(nil, &UploadChunkMsg{Offset: 0, Data: []byte("abc")})
	ac := AppendArtChunk(nil, &ArtChunkMsg{Hash: artHash(1), Total: 3, Data: []byte("abc")})
	cv := AppendCanvasInfo(nil, sampleCanvas())
	uerr := AppendUploadError(nil, &ArtErrorMsg{Code: ArtBusy, Text: "ab"})
	mod := func(b []byte, f func(b []byte)) []byte {
		b = append([]byte{}, b...)
		f(b)
		return b
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"begin size 0", mod(begin, func(b []byte) { copy(b[1:5], []byte{0, 0, 0, 0}) }), ErrRange},
		{"begin content type", mod(begin, func(b []byte) { b[37] = 3 }), ErrRange},
		{"chunk len 0", mod(chunk, func(b []byte) { b[5], b[6] = 0, 0 }), ErrRange},
		{"chunk len past MaxChunk", mod(chunk, func(b []byte) { b[5], b[6] = 0x01, 0x04 }), ErrRange},
		{"chunk past 2^32", mod(chunk, func(b []byte) { copy(b[1:5], []byte{0xff, 0xff, 0xff, 0xff}) }), ErrRange},
		{"chunk len > data", mod(chunk, func(b []byte) { b[5] = 4 }), ErrShort},
		{"art chunk past total", mod(ac, func(b []byte) { b[33] = 2 }), ErrRange},
		{"canvas id 0", mod(cv, func(b []byte) { copy(b[1:5], []byte{0, 0, 0, 0}) }), ErrRange},
		{"canvas width 0", mod(cv, func(b []byte) { b[59], b[60] = 0, 0 }), ErrRange},
		{"canvas x negative", mod(cv, func(b []byte) { b[12] = 0x80 }), ErrRange},
		{"error text utf8", mod(uerr, func(b []byte) { b[36] = 0xff }), ErrUTF8},
		{"wrong type", mod(begin, func(b []byte) { b[0] = byte(TypeFetchArt) }), ErrType},
		{"done canvas 0", AppendUploadDone(nil, &UploadDoneMsg{}), ErrRange},
	} {
		_, _, err := artReencode(tc.b)
		if tc.name == "wrong type" {
			_, err = ParseUploadBegin(tc.b)
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestArtAppendPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"empty chunk":     func() { AppendUploadChunk(nil, &UploadChunkMsg{}) },
		"long chunk":      func() { AppendUploadChunk(nil, &UploadChunkMsg{Data: make([]byte, MaxChunk+1)}) },
		"art past total":  func() { AppendArtChunk(nil, &ArtChunkMsg{Total: 1, Data: []byte("ab")}) },
		"empty art chunk": func() { AppendArtChunk(nil, &ArtChunkMsg{Total: 1}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// FuzzParseArt: every art message that parses re-encodes to the same bytes and parses
// again to the same message.
func FuzzParseArt(f *testing.F) {
	for _, tc := range artSamples() {
		f.Add(tc.enc)
	}
	f.Add(AppendUploadChunk(nil, &UploadChunkMsg{Offset: 1<<32 - 2, Data: []byte{1}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, enc, err := artReencode(b)
		if err != nil {
			return
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("parse → append differs: %x vs %x", enc, b)
		}
		m2, _, err := artReencode(enc)
		if err != nil {
			t.Fatalf("re-encoding does not parse: %v", err)
		}
		if diff := cmp.Diff(m, m2); diff != "" {
			t.Fatalf("parse → append → parse differs:\n%s", diff)
		}
	})
}
