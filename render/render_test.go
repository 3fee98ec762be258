package render_test

import (
	"bytes"
	"crypto/sha256"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"testing"

	"github.com/shardsim/shardsim/art"
	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/render"
	"github.com/shardsim/shardsim/replay"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/systems"
)

// picture is a 32×16 PNG: left half red, right half blue.
func picture(t *testing.T) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 32, 16))
	for y := range 16 {
		for x := range 32 {
			c := color.NRGBA{255, 0, 0, 255}
			if x >= 16 {
				c = color.NRGBA{0, 0, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// recordReplay records 300 ticks (10 s at 30 Hz) of 30 NPCs and one network player that
// places a canvas of pic at tick 20.
func recordReplay(t *testing.T, pic []byte) *replay.Reader {
	t.Helper()
	cfg := shard.HeadlessConfig{World: ecs.Config{Seed: 9, Rate: 30}, Systems: systems.DefaultConfig(), Entities: 30}
	w, sim, err := shard.NewWorld(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	rec, err := replay.NewRecorder(&buf, w, &cfg.Systems, replay.RecorderOptions{Name: "render"})
	if err != nil {
		t.Fatal(err)
	}
	var player ecs.NetID
	for i := range 300 {
		var cmds []ecs.Command
		switch i {
		case 5:
			cmds = append(cmds, ecs.Command{Kind: ecs.CmdJoin, Arg: 1})
		case 20:
			cmds = append(cmds, ecs.Command{Kind: ecs.CmdPlaceCanvas, Player: player, Art: ecs.Art{Hash: sha256.Sum256(pic), Width: 32, Height: 16}})
		}
		res := sim.Step(w, cmds)
		if len(res.Joined) > 0 {
			player = res.Joined[0].ID
		}
		if i == 20 && len(res.Placed) != 1 {
			t.Fatal("canvas not placed")
		}
		if err := rec.Tick(w, cmds, ecs.Hash(w)); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := replay.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGIF(t *testing.T) {
	pic := picture(t)
	r := recordReplay(t, pic)
	var progress []int
	var out bytes.Buffer
	plan, err := render.GIF(&out, r, render.Options{Size: 128, Speed: 4, FPS: 10, Progress: func(done, _ int) { progress = append(progress, done) }})
	if err != nil {
		t.Fatal(err)
	}
	// 300 ticks at 30 Hz, 4× speed at 10 fps: 12 ticks a frame, frames at 0, 12 … 300.
	if plan.TicksPerFrame != 12 || plan.Frames != 26 || plan.From != 0 || plan.To != 300 {
		t.Errorf("plan %+v", plan)
	}
	g, err := gif.DecodeAll(&out)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Image) != plan.Frames || len(progress) != plan.Frames {
		t.Fatalf("%d frames, %d progress calls, want %d", len(g.Image), len(progress), plan.Frames)
	}
	changed := 0
	for i, img := range g.Image {
		if img.Rect.Dx() != 128 || img.Rect.Dy() != 128 || g.Delay[i] != 10 {
			t.Errorf("frame %d: %v, delay %d", i, img.Rect, g.Delay[i])
		}
		if i > 0 && !bytes.Equal(img.Pix, g.Image[i-1].Pix) {
			changed++
		}
	}
	if changed < plan.Frames-2 {
		t.Errorf("only %d of %d frames differ from the one before", changed, plan.Frames-1)
	}

	// A sub-range by ticks.
	plan2, err := render.GIF(&bytes.Buffer{}, r, render.Options{Size: 64, Speed: 1, FPS: 10, From: 30, To: 90})
	if err != nil || plan2.Frames != 21 || plan2.TicksPerFrame != 3 {
		t.Errorf("sub-range: %+v, %v", plan2, err)
	}
	if _, err := render.GIF(&bytes.Buffer{}, r, render.Options{From: 400}); err == nil {
		t.Error("a range past the end rendered")
	}
}

// TestCanvasThumbnail: with the art in a store the canvas shows the picture's red and
// blue halves; without, a placeholder.
func TestCanvasThumbnail(t *testing.T) {
	pic := picture(t)
	r := recordReplay(t, pic)
	store, err := art.Open(t.TempDir(), art.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(pic); err != nil {
		t.Fatal(err)
	}
	count := func(opt render.Options) (red, blue int) {
		var last *image.Paletted
		if _, err := render.Frames(r, opt, func(img *image.Paletted, _ uint64) error {
			last = img
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, i := range last.Pix {
			switch last.Palette[i] {
			case color.RGBA{255, 0, 0, 255}:
				red++
			case color.RGBA{0, 0, 255, 255}:
				blue++
			}
		}
		return
	}
	opt := render.Options{Size: 256, From: 100, To: 100}
	if red, blue := count(opt); red != 0 || blue != 0 {
		t.Errorf("placeholder shows %d red, %d blue pixels", red, blue)
	}
	opt.Art = store
	if red, blue := count(opt); red < 10 || blue < 10 {
		t.Errorf("thumbnail shows %d red, %d blue pixels", red, blue)
	}
}

func TestStrip(t *testing.T) {
	r := recordReplay(t, picture(t))
	var out bytes.Buffer
	if _, err := render.Strip(&out, r, render.Options{Size: 64}, 5); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&out)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 5*64 || b.Dy() != 64 {
		t.Errorf("strip %v", b)
	}
}
