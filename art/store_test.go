package art_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shardsim/shardsim/art"
)

// noisePNG encodes a w×h PNG of seeded noise (it barely compresses).
func noisePNG(t testing.TB, w, h int, seed uint64) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.Uint32())
	}
	img.Set(0, 0, color.NRGBA{255, 0, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func emptyTemp(t *testing.T, s *art.Store) {
	t.Helper()
	if names, err := s.TempFiles(); err != nil || len(names) != 0 {
		t.Errorf("temp area holds %q (%v)", names, err)
	}
}

func TestUploadResumeCommit(t *testing.T) {
	s, err := art.Open(t.TempDir(), art.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data := noisePNG(t, 64, 48, 1)
	h := sha256.Sum256(data)
	p, err := s.Begin(7, h, int64(len(data)), art.PNG)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := p.Write(0, data[:1000]); err != nil || n != 1000 {
		t.Fatalf("write: %d, %v", n, err)
	}
	// The same owner begins again: the same partial, continuing at 1000.
	p2, err := s.Begin(7, h, int64(len(data)), art.PNG)
	if err != nil || p2 != p || p2.Received() != 1000 {
		t.Fatalf("resume: %p vs %p, received %d, %v", p2, p, p2.Received(), err)
	}
	// Another owner gets its own.
	p3, err := s.Begin(8, h, int64(len(data)), art.PNG)
	if err != nil || p3 == p || p3.Received() != 0 {
		t.Fatalf("other owner: %v", err)
	}
	p3.Abort()
	// A resent overlapping chunk keeps only its new tail.
	if n, err := p.Write(500, data[500:2000]); err != nil || n != 2000 {
		t.Fatalf("overlap: %d, %v", n, err)
	}
	if _, err := p.Write(2000, data[2000:]); err != nil {
		t.Fatal(err)
	}
	info, err := p.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if info.Hash != h || info.Width != 64 || info.Height != 48 || info.Format != art.PNG || info.Size != int64(len(data)) {
		t.Errorf("info %+v", info)
	}
	got, err := os.ReadFile(s.Path(h))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("stored bytes differ (%v)", err)
	}
	emptyTemp(t, s)
	// A fresh Store of the same directory finds it.
	s2, err := art.Open(s.Dir(), art.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if info2, err := s2.Stat(h); err != nil || info2 != info {
		t.Errorf("stat after reopen: %+v, %v", info2, err)
	}
	if _, err := s2.Stat(sha256.Sum256([]byte("x"))); !errors.Is(err, art.ErrNotFound) {
		t.Errorf("stat of a missing hash: %v", err)
	}
}

func TestRejections(t *testing.T) {
	s, err := art.Open(t.TempDir(), art.Options{MaxSize: 1 << 20, MaxPixels: 100 * 100})
	if err != nil {
		t.Fatal(err)
	}
	small := noisePNG(t, 20, 20, 2)
	big := noisePNG(t, 200, 100, 3)
	badHeader := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte("x"), 100)...)
	put := func(data []byte, h [32]byte, f art.Format) error {
		p, err := s.Begin(1, h, int64(len(data)), f)
		if err != nil {
			return err
		}
		if _, err := p.Write(0, data); err != nil {
			return err
		}
		_, err = p.Commit()
		return err
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"too large", put(make([]byte, 1<<20+1), [32]byte{1}, art.PNG), art.ErrTooLarge},
		{"text", put([]byte("hello, this is not an image"), sha256.Sum256([]byte("hello, this is not an image")), art.PNG), art.ErrNotImage},
		{"png declared jpeg", put(small, sha256.Sum256(small), art.JPEG), art.ErrNotImage},
		{"bad png header", put(badHeader, sha256.Sum256(badHeader), art.PNG), art.ErrNotImage},
		{"hash mismatch", put(small, sha256.Sum256([]byte("other")), art.PNG), art.ErrHashMismatch},
		{"too many pixels", put(big, sha256.Sum256(big), art.PNG), art.ErrTooManyPixels},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	emptyTemp(t, s)
	if s.Partials() != 0 {
		t.Errorf("%d partials left", s.Partials())
	}
	// A chunk past the data received discards the upload.
	p, _ := s.Begin(1, sha256.Sum256(small), int64(len(small)), art.PNG)
	if _, err := p.Write(10, small[10:20]); !errors.Is(err, art.ErrOffset) {
		t.Errorf("gap: %v", err)
	}
	if _, err := p.Write(0, small); !errors.Is(err, art.ErrClosed) {
		t.Errorf("write after failure: %v", err)
	}
	emptyTemp(t, s)
	ents, _ := os.ReadDir(filepath.Join(s.Dir(), "objects"))
	if len(ents) != 0 {
		t.Errorf("objects stored after rejections: %v", ents)
	}
}

func TestBoundsAndSweep(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	s, err := art.Open(t.TempDir(), art.Options{MaxPartials: 2, MaxPartialBytes: 3000, Timeout: time.Minute, Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Begin(1, [32]byte{1}, 1000, art.PNG); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Begin(2, [32]byte{1}, 2500, art.PNG); !errors.Is(err, art.ErrBusy) {
		t.Errorf("bytes bound: %v", err)
	}
	clk.add(50 * time.Second)
	p2, err := s.Begin(2, [32]byte{2}, 1000, art.PNG)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Begin(3, [32]byte{3}, 10, art.PNG); !errors.Is(err, art.ErrBusy) {
		t.Errorf("count bound: %v", err)
	}
	clk.add(20 * time.Second) // the first is idle 70 s, the second 20 s
	if gone := s.Sweep(); len(gone) != 1 || gone[0].Owner != 1 {
		t.Errorf("swept %v", gone)
	}
	if names, _ := s.TempFiles(); len(names) != 1 || !p2.Open() {
		t.Errorf("temp files %v", names)
	}
	clk.add(2 * time.Minute)
	s.Sweep()
	emptyTemp(t, s)
	// Files a crash left behind are removed on Open.
	if err := os.WriteFile(filepath.Join(s.TempDir(), "stale.part"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s2, err := art.Open(s.Dir(), art.Options{})
	if err != nil {
		t.Fatal(err)
	}
	emptyTemp(t, s2)
}
