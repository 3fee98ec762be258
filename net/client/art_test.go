package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shardsim/shardsim/art"
	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/client"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/replay"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/shard/shardtest"
	"github.com/shardsim/shardsim/systems"
)

// noisePNG encodes a w×h PNG of seeded noise (it barely compresses: ~4 bytes a pixel).
func noisePNG(t testing.TB, w, h int, seed uint64) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.Uint32())
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type artShard struct {
	*shard.Live
	store  *art.Store
	record string
	stop   func() // stops the shard (idempotent); the test's cleanup calls it too
}

// startArtShard runs a live shard with an art store and a recording in t.TempDir.
func startArtShard(t *testing.T, opt art.Options) *artShard {
	t.Helper()
	dir := t.TempDir()
	store, err := art.Open(filepath.Join(dir, "art"), opt)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := os.Create(filepath.Join(dir, "live.replay"))
	if err != nil {
		t.Fatal(err)
	}
	live, stopLive := shardtest.Start(t, shard.LiveConfig{
		World: ecs.Config{Seed: 4, Rate: 30}, Systems: systems.DefaultConfig(),
		Entities: 20, Server: server.Config{Key: testKey, Art: store}, Record: rec,
	})
	var once sync.Once
	stop := func() {
		once.Do(func() {
			stopLive()
			rec.Close()
		})
	}
	t.Cleanup(stop)
	return &artShard{Live: live, store: store, record: rec.Name(), stop: stop}
}

func dialID(t *testing.T, s *artShard, id uint64, opt client.Options) *client.Client {
	t.Helper()
	c, err := client.Dial(testCtx(t, 10*time.Second), s.Addr().String(), game.MintToken(testKey, id, time.Now().Add(time.Hour)), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func emptyTemp(t *testing.T, st *art.Store) {
	t.Helper()
	eventually(t, 5*time.Second, "an empty upload temp area", func() bool {
		names, err := st.TempFiles()
		return err == nil && len(names) == 0
	})
}

// TestArtRoundTrip: client A uploads a PNG; the shard places a canvas at A's player;
// B (already connected) and C (joining later) learn the canvas and fetch bytes with the
// same hash; the recorded session, placement included, verifies.
func TestArtRoundTrip(t *testing.T) {
	s := startArtShard(t, art.Options{})
	var mu sync.Mutex
	var seenB []game.CanvasInfoMsg
	a := dialID(t, s, 1, client.Options{})
	b := dialID(t, s, 2, client.Options{OnCanvas: func(m game.CanvasInfoMsg) {
		mu.Lock()
		seenB = append(seenB, m)
		mu.Unlock()
	}})
	data := noisePNG(t, 120, 80, 1) // ~38 KiB: several acks (reported once each if they come together)
	var acks []int64
	res, err := a.Upload(testCtx(t, 20*time.Second), data, client.UploadOptions{Progress: func(n int64) { acks = append(acks, n) }})
	if err != nil {
		t.Fatal(err)
	}
	hash := sha256.Sum256(data)
	if res.Hash != hash || res.Canvas != 1 || res.Width != 120 || res.Height != 80 || res.ResumedAt != 0 {
		t.Errorf("upload result %+v", res)
	}
	if len(acks) < 2 || acks[0] != 0 || acks[len(acks)-1] != int64(len(data)) || !slices.IsSorted(acks) || len(slices.Compact(slices.Clone(acks))) != len(acks) {
		t.Errorf("progress %v: want 0 first, increasing, %d last", acks, len(data))
	}
	if info, err := s.store.Stat(hash); err != nil || info.Size != int64(len(data)) {
		t.Errorf("store: %+v, %v", info, err)
	}
	eventually(t, 5*time.Second, "B learning the canvas", func() bool { return len(b.Canvases()) == 1 })
	cv := b.Canvases()[0]
	if cv.ID != res.Canvas || cv.Owner != a.Welcome().NetID || cv.Art.Hash != hash || cv.Art.Width != 120 || cv.Size != uint32(len(data)) {
		t.Errorf("B's canvas %+v", cv)
	}
	mu.Lock()
	if len(seenB) != 1 {
		t.Errorf("OnCanvas called %d times", len(seenB))
	}
	mu.Unlock()
	got, err := b.Fetch(testCtx(t, 20*time.Second), cv.Art.Hash)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("B's fetch: %d bytes, %v", len(got), err)
	}
	// C joins after the placement: the canvas comes with the Welcome.
	c := dialID(t, s, 3, client.Options{})
	eventually(t, 5*time.Second, "C learning the canvas", func() bool { return len(c.Canvases()) == 1 })
	if _, err := c.Fetch(testCtx(t, 10*time.Second), [32]byte{9}); !errors.Is(err, client.ErrArt) {
		t.Errorf("fetch of unknown art: %v", err)
	} else if ae := (*client.ArtError)(nil); errors.As(err, &ae) && ae.Code != game.ArtNotFound {
		t.Errorf("fetch of unknown art: code %v", ae.Code)
	}
	// The same art again: stored already, no bytes sent, a second canvas.
	res2, err := c.Upload(testCtx(t, 10*time.Second), data, client.UploadOptions{})
	if err != nil || res2.Canvas != 2 {
		t.Errorf("second upload of the same art: %+v, %v", res2, err)
	}
	st := s.Stats().Server
	if st.UploadsStored != 1 || st.UploadsBegun != 2 || st.FetchBytes != int64(len(data)) {
		t.Errorf("server stats %+v", st)
	}
	emptyTemp(t, s.store)

	s.stop()
	r, closer, err := replay.OpenFile(s.record)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	places := 0
	for it := r.Ticks(r.Header().StartTick); it.Next(); {
		for _, cmd := range it.Tick().Commands {
			if cmd.Kind == ecs.CmdPlaceCanvas && cmd.Art.Hash == hash {
				places++
			}
		}
	}
	if places != 2 {
		t.Errorf("the recording holds %d placements, want 2", places)
	}
	rep, err := replay.Verify(r, replay.VerifyOptions{})
	if err != nil || !rep.OK || rep.Truncated {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}

// TestArtResume: the connection drops a third of the way through; the same client id
// reconnects, begins the same upload and continues from the acknowledged bytes.
func TestArtResume(t *testing.T) {
	s := startArtShard(t, art.Options{})
	data := noisePNG(t, 300, 200, 2) // ~235 KiB
	a := dialID(t, s, 42, client.Options{})
	ctx := testCtx(t, 20*time.Second)
	_, err := a.Upload(ctx, data, client.UploadOptions{Progress: func(n int64) {
		if n > int64(len(data))/3 {
			a.Close()
		}
	}})
	if !errors.Is(err, client.ErrClosed) {
		t.Fatalf("interrupted upload: %v", err)
	}
	if s.store.Partials() != 1 {
		t.Fatalf("%d partial uploads in the store", s.store.Partials())
	}
	a2 := dialID(t, s, 42, client.Options{})
	res, err := a2.Upload(ctx, data, client.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.ResumedAt <= int64(len(data))/3 || res.ResumedAt >= int64(len(data)) {
		t.Errorf("resumed at %d of %d", res.ResumedAt, len(data))
	}
	got, err := a2.Fetch(ctx, res.Hash)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("fetch: %v", err)
	}
	if st := s.Stats().Server; st.UploadsResumed != 1 || st.UploadsStored != 1 {
		t.Errorf("server stats: resumed %d, stored %d", st.UploadsResumed, st.UploadsStored)
	}
	emptyTemp(t, s.store)
}

// TestArtRejected: each refusal reaches the uploader with its code, and leaves nothing
// in the store.
func TestArtRejected(t *testing.T) {
	s := startArtShard(t, art.Options{MaxSize: 256 << 10, MaxPixels: 150 * 150})
	a := dialID(t, s, 5, client.Options{})
	good := noisePNG(t, 40, 40, 3)
	wrong := sha256.Sum256([]byte("something else"))
	notImage := bytes.Repeat([]byte("not an image at all. "), 200)
	badHeader := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 3000)...)
	for _, tc := range []struct {
		name string
		data []byte
		opt  client.UploadOptions
		want game.ArtCode
	}{
		{"oversize", noisePNG(t, 300, 300, 4), client.UploadOptions{}, game.ArtTooLarge},
		{"not an image", notImage, client.UploadOptions{}, game.ArtNotImage},
		{"png header that does not decode", badHeader, client.UploadOptions{}, game.ArtNotImage},
		{"declared jpeg", good, client.UploadOptions{Type: game.ContentJPEG}, game.ArtNotImage},
		{"hash mismatch", good, client.UploadOptions{Hash: &wrong}, game.ArtHashMismatch},
		{"too many pixels", noisePNG(t, 200, 150, 5), client.UploadOptions{}, game.ArtTooManyPix},
	} {
		_, err := a.Upload(testCtx(t, 10*time.Second), tc.data, tc.opt)
		var ae *client.ArtError
		if !errors.As(err, &ae) || ae.Code != tc.want {
			t.Errorf("%s: %v, want code %d (%v)", tc.name, err, tc.want, tc.want)
			continue
		}
		t.Logf("%s: %v", tc.name, err)
		emptyTemp(t, s.store)
	}
	if ents, _ := os.ReadDir(filepath.Join(s.store.Dir(), "objects")); len(ents) != 0 {
		t.Errorf("objects stored: %v", ents)
	}
	// The session survives refusals: a good upload still works.
	if _, err := a.Upload(testCtx(t, 10*time.Second), good, client.UploadOptions{}); err != nil {
		t.Errorf("good upload after refusals: %v", err)
	}
}

// TestArtAbandoned: an upload the client stops sending is swept after the store's
// timeout, and its bytes are removed.
func TestArtAbandoned(t *testing.T) {
	s := startArtShard(t, art.Options{Timeout: 200 * time.Millisecond})
	a := dialID(t, s, 6, client.Options{})
	data := noisePNG(t, 200, 200, 6)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := a.Upload(ctx, data, client.UploadOptions{Progress: func(n int64) {
		if n > 0 {
			cancel() // stop sending after the first progress ack
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("upload: %v", err)
	}
	emptyTemp(t, s.store)
	eventually(t, 5*time.Second, "the sweep counted", func() bool { return s.Stats().Server.UploadsSwept == 1 })
	if s.store.Partials() != 0 {
		t.Errorf("%d partials", s.store.Partials())
	}
}
