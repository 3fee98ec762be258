package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/png"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shardsim/shardsim/art"
	"github.com/shardsim/shardsim/clients/godot/godottest"
	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/shard/shardtest"
	"github.com/shardsim/shardsim/systems"
)

// TestGodotArtUpload: Godot client A uploads a PNG (~90 KiB: many chunks and acks);
// Godot client B, joining afterwards, learns the canvas and fetches bytes with the same
// hash.
func TestGodotArtUpload(t *testing.T) {
	godottest.Find(t)
	key := newKey(t)
	store, err := art.Open(filepath.Join(t.TempDir(), "art"), art.Options{})
	if err != nil {
		t.Fatal(err)
	}
	live, _ := shardtest.Start(t, shard.LiveConfig{
		Addr: "127.0.0.1:0", World: ecs.Config{Seed: 1, Rate: 30}, Systems: systems.DefaultConfig(),
		Entities: 10, Server: server.Config{Key: key, Art: store},
	})
	port := live.Addr().(*net.UDPAddr).Port

	rng := mrand.New(mrand.NewPCG(5, 6))
	img := image.NewNRGBA(image.Rect(0, 0, 160, 140))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.Uint32())
	}
	var pngBytes bytes.Buffer
	if err := png.Encode(&pngBytes, img); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(pngBytes.Bytes())
	hash := hex.EncodeToString(sum[:])
	path := filepath.Join(t.TempDir(), "art.png")
	if err := os.WriteFile(path, pngBytes.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	outA, err := godottest.Run(timeout(t, 40*time.Second), t, godottest.ClientDir(t),
		"--host=127.0.0.1", fmt.Sprintf("--port=%d", port), "--token="+game.MintToken(key, 11, time.Now().Add(time.Hour)),
		"--upload="+path, "--timeout=30")
	if testing.Verbose() {
		t.Log(outA)
	}
	if err != nil {
		t.Fatalf("client A: %v\n%s", err, outA)
	}
	doneA := godottest.Lines(outA, "UPLOAD_DONE")
	if len(doneA) != 1 || doneA[0] != hash+" 1" {
		t.Fatalf("A's UPLOAD_DONE lines %q, want %q\n%s", doneA, hash+" 1", outA)
	}
	if info, err := store.Stat(sum); err != nil || info.Width != 160 || info.Height != 140 {
		t.Errorf("store: %+v, %v", info, err)
	}

	outB, err := godottest.Run(timeout(t, 40*time.Second), t, godottest.ClientDir(t),
		"--host=127.0.0.1", fmt.Sprintf("--port=%d", port), "--token="+game.MintToken(key, 12, time.Now().Add(time.Hour)),
		"--fetch=1", "--canvases=1", "--timeout=30")
	if testing.Verbose() {
		t.Log(outB)
	}
	if err != nil {
		t.Fatalf("client B: %v\n%s", err, outB)
	}
	cv := godottest.Lines(outB, "CANVAS")
	if len(cv) != 1 {
		t.Fatalf("B's CANVAS lines %q\n%s", cv, outB)
	}
	f := strings.Fields(cv[0])
	if len(f) != 5 || f[0] != "1" || f[2] != hash || f[3] != "160" || f[4] != "140" {
		t.Errorf("CANVAS %q, want id 1, hash %s, 160×140", cv[0], hash)
	}
	arts := godottest.Lines(outB, "ART")
	if len(arts) != 1 || arts[0] != hash+" "+hash {
		t.Errorf("B's ART lines %q, want %q", arts, hash+" "+hash)
	}
	st := live.Stats().Server
	if st.UploadsStored != 1 || st.FetchBytes != int64(pngBytes.Len()) {
		t.Errorf("server: stored %d, fetch bytes %d", st.UploadsStored, st.FetchBytes)
	}
}
