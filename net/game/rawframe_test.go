package game

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestRawFrame: every size a snapshot payload can have (and the boundaries of the
// frame content size field) decodes with klauspost/compress to the same bytes, and
// a frame cut short does not decode.
func TestRawFrame(t *testing.T) {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 2000)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	for n := range len(src) + 1 {
		frame := appendRawFrame([]byte("prefix"), src[:n])
		if !bytes.HasPrefix(frame, []byte("prefix")) {
			t.Fatal("prefix lost")
		}
		frame = frame[len("prefix"):]
		if n >= 256 && len(frame) != n+rawFrameOverhead {
			t.Fatalf("n=%d: frame of %d bytes, want %d", n, len(frame), n+rawFrameOverhead)
		}
		got, err := d.DecodeAll(frame, nil)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !bytes.Equal(got, src[:n]) {
			t.Fatalf("n=%d: content differs", n)
		}
		if n > 0 {
			if _, err := d.DecodeAll(frame[:len(frame)-1], nil); err == nil {
				t.Fatalf("n=%d: a frame cut short decoded", n)
			}
		}
	}
}

// TestRawFrameRuns: payloads made of random bytes and runs of every length around
// minRun, at the start, the middle and the end, decode to themselves; runs shrink the
// frame.
func TestRawFrameRuns(t *testing.T) {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := range 3000 {
		var src []byte
		for len(src) < 1500 && (len(src) == 0 || rng.IntN(12) != 0) {
			if rng.IntN(2) == 0 {
				alphabet := []int{4, 256}[rng.IntN(2)] // short runs happen too, or hardly
				for range rng.IntN(40) {
					src = append(src, byte(rng.IntN(alphabet)))
				}
			} else {
				src = append(src, bytes.Repeat([]byte{byte(rng.IntN(3))}, 1+rng.IntN(2*minRun+4))...)
			}
		}
		frame := appendRawFrame(nil, src)
		got, err := d.DecodeAll(frame, nil)
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("iteration %d (%d bytes): %v, content equal %v", iter, len(src), err, bytes.Equal(got, src))
		}
		if want := rawFrameSize(src); len(frame) != want {
			t.Fatalf("iteration %d: frame of %d bytes for %d, want %d (one RLE block per run of %d or more)",
				iter, len(frame), len(src), want, minRun)
		}
	}
	zeros := make([]byte, 1000)
	if frame := appendRawFrame(nil, zeros); len(frame) != 4+3+3+1 {
		t.Errorf("1000 zeros: frame of %d bytes, want one RLE block (11)", len(frame))
	}
	short := bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 50) // no run at all
	if frame := appendRawFrame(nil, short); len(frame) != len(short)+rawFrameOverhead {
		t.Errorf("no runs: frame of %d bytes, want %d", len(frame), len(short)+rawFrameOverhead)
	}
}

// rawFrameSize is the size of appendRawFrame's frame of src: the header, an RLE block
// (3+1 bytes) for each maximal run of minRun or more equal bytes, a raw block (3 bytes
// and its content) for each stretch between them.
func rawFrameSize(src []byte) int {
	size := 4 + 2
	if len(src) >= 256 {
		size++
	}
	lit := 0
	for i := 0; i < len(src); {
		j := i + 1
		for j < len(src) && src[j] == src[i] {
			j++
		}
		if j-i >= minRun {
			if lit < i {
				size += 3 + i - lit
			}
			size += 3 + 1
			lit = j
		}
		i = j
	}
	if lit < len(src) || len(src) == 0 {
		size += 3 + len(src) - lit
	}
	return size
}
