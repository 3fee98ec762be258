package render

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	_ "image/jpeg" // canvas thumbnails
	"image/png"
	"io"
	"strconv"
	"time"

	"github.com/shardsim/shardsim/art"
	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/replay"
	"github.com/shardsim/shardsim/systems"
	"github.com/shardsim/shardsim/systems/anim"
)

// Options configure a rendering. Zero fields take the defaults.
type Options struct {
	Size  int     // width and height of a frame in pixels (default 512, 16..4096)
	Speed float64 // playback speed relative to the recording's real time (default 4)
	FPS   int     // frames per second of playback (default 10, at most 100)
	// From and To bound the rendered ticks (world ticks, inclusive); 0 means the start
	// and the end of the replay.
	From, To uint64
	// Art provides canvas thumbnails; nil draws placeholders.
	Art *art.Store
	// Progress, when set, is called after each frame with the frames done and total.
	Progress func(done, total int)
}

// ErrRange: the tick range selects no frame.
var ErrRange = errors.New("render: tick range selects no frame")

// Plan is what a rendering will produce.
type Plan struct {
	Start, End    uint64 // first and last world tick of the replay
	From, To      uint64 // ticks of the first and last frame
	TicksPerFrame uint64
	Frames        int
	Delay         int // centiseconds per GIF frame
	Size          int
}

// Colours of the fixed palette.
var (
	colBackground = color.RGBA{24, 26, 32, 255}
	colGrid       = color.RGBA{40, 44, 54, 255}
	colBorder     = color.RGBA{110, 116, 130, 255}
	colFrame      = color.RGBA{200, 170, 90, 255}
	colHolder     = color.RGBA{70, 70, 84, 255}
	colText       = color.RGBA{235, 235, 235, 255}
	colUnknown    = color.RGBA{255, 255, 255, 255}
)

// stateColours are the dot colours of MachinePlayer's states, by state id.
var stateColours = []color.RGBA{
	anim.StateIdle:  {150, 150, 160, 255},
	anim.StateWalk:  {80, 200, 100, 255},
	anim.StateRun:   {255, 150, 40, 255},
	anim.StateWave:  {70, 150, 255, 255},
	anim.StateDance: {230, 80, 220, 255},
	anim.StateBrake: {235, 60, 60, 255},
}

// celebrateColours are MachineCelebrate's (cheer, dance).
var celebrateColours = []color.RGBA{
	anim.StateCheer:      {250, 230, 60, 255},
	anim.StateCelebDance: {255, 130, 180, 255},
}

// Palette is the fixed palette of every frame: the named colours, then a 6×6×6 colour
// cube for thumbnails.
var Palette = func() color.Palette {
	p := color.Palette{colBackground, colGrid, colBorder, colFrame, colHolder, colText, colUnknown}
	for _, c := range stateColours {
		p = append(p, c)
	}
	for _, c := range celebrateColours {
		p = append(p, c)
	}
	for r := range 6 {
		for g := range 6 {
			for b := range 6 {
				p = append(p, color.RGBA{uint8(r * 51), uint8(g * 51), uint8(b * 51), 255})
			}
		}
	}
	return p
}()

func (o *Options) defaults() error {
	if o.Size == 0 {
		o.Size = 512
	}
	if o.Speed == 0 {
		o.Speed = 4
	}
	if o.FPS == 0 {
		o.FPS = 10
	}
	if o.Size < 16 || o.Size > 4096 || o.Speed <= 0 || o.Speed > 10000 || o.FPS < 1 || o.FPS > 100 {
		return fmt.Errorf("render: size %d (16..4096), speed %g (> 0), fps %d (1..100) out of range", o.Size, o.Speed, o.FPS)
	}
	return nil
}

// PlanFor returns what rendering r with opt produces, without rendering.
func PlanFor(r *replay.Reader, opt Options) (Plan, error) {
	if err := opt.defaults(); err != nil {
		return Plan{}, err
	}
	h := r.Header()
	p := Plan{Start: h.StartTick, End: h.StartTick, Size: opt.Size, Delay: max(1, 100/opt.FPS)}
	if last, ok := r.LastTick(); ok {
		p.End = last + 1 // the world after the last recorded step
	}
	p.TicksPerFrame = max(1, uint64(opt.Speed*float64(h.Scenario.Rate)/float64(opt.FPS)+0.5))
	p.From, p.To = max(opt.From, p.Start), p.End
	if opt.To != 0 {
		p.To = min(opt.To, p.End)
	}
	if p.From > p.To {
		return p, fmt.Errorf("%w: ticks %d–%d of a replay holding %d–%d", ErrRange, opt.From, opt.To, p.Start, p.End)
	}
	p.Frames = int((p.To-p.From)/p.TicksPerFrame) + 1
	p.To = p.From + uint64(p.Frames-1)*p.TicksPerFrame
	return p, nil
}

// Frames re-simulates r and calls fn with each frame (valid during the call only) and
// its tick.
func Frames(r *replay.Reader, opt Options, fn func(img *image.Paletted, tick uint64) error) (Plan, error) {
	p, err := PlanFor(r, opt)
	if err != nil {
		return p, err
	}
	opt.defaults()
	h := r.Header()
	if h.Scenario.SimVersion != systems.SimVersion {
		return p, fmt.Errorf("render: %w: file has %d, this build simulates %d", replay.ErrSimVersion, h.Scenario.SimVersion, systems.SimVersion)
	}
	cfg, err := systems.ParseTuning(h.Scenario.Params)
	if err != nil {
		return p, fmt.Errorf("render: scenario params: %w", err)
	}
	snap, err := r.Initial()
	if err != nil {
		return p, fmt.Errorf("render: initial snapshot: %w", err)
	}
	w, err := replay.LoadWorld(snap, &cfg)
	if err != nil {
		return p, fmt.Errorf("render: initial snapshot: %w", err)
	}
	sim := systems.New(cfg)
	d := newDrawer(opt.Size, w.G.ArenaW, w.G.ArenaH, opt.Art)
	done := 0
	emit := func() error {
		t := w.G.Tick
		if t < p.From || t > p.To || (t-p.From)%p.TicksPerFrame != 0 {
			return nil
		}
		if err := fn(d.draw(w), t); err != nil {
			return err
		}
		done++
		if opt.Progress != nil {
			opt.Progress(done, p.Frames)
		}
		return nil
	}
	if err := emit(); err != nil {
		return p, err
	}
	it := r.Ticks(h.StartTick)
	for w.G.Tick < p.To && it.Next() {
		rec := it.Tick()
		if rec.Tick != w.G.Tick {
			return p, fmt.Errorf("render: record for tick %d while the world is at tick %d", rec.Tick, w.G.Tick)
		}
		sim.Step(w, rec.Commands)
		if err := emit(); err != nil {
			return p, err
		}
	}
	if err := it.Err(); err != nil && done < p.Frames {
		var te *replay.TruncatedError
		if !errors.As(err, &te) {
			return p, fmt.Errorf("render: %w", err)
		}
	}
	if done != p.Frames {
		return p, fmt.Errorf("render: %d of %d frames drawn: the replay ends early", done, p.Frames)
	}
	return p, nil
}

// GIF renders r as an animated GIF (looping) to out.
func GIF(out io.Writer, r *replay.Reader, opt Options) (Plan, error) {
	var g gif.GIF
	p, err := Frames(r, opt, func(img *image.Paletted, _ uint64) error {
		c := image.NewPaletted(img.Rect, img.Palette)
		copy(c.Pix, img.Pix)
		g.Image = append(g.Image, c)
		g.Delay = append(g.Delay, max(1, 100/max(opt.FPS, 1)))
		return nil
	})
	if err != nil {
		return p, err
	}
	for i := range g.Delay {
		g.Delay[i] = p.Delay
	}
	if err := gif.EncodeAll(out, &g); err != nil {
		return p, fmt.Errorf("render: %w", err)
	}
	return p, nil
}

// Strip renders n frames evenly spread over the range (n ≥ 1) side by side as one PNG.
func Strip(out io.Writer, r *replay.Reader, opt Options, n int) (Plan, error) {
	if n < 1 || n > 64 {
		return Plan{}, fmt.Errorf("render: strip of %d frames (1..64)", n)
	}
	p, err := PlanFor(r, opt)
	if err != nil {
		return p, err
	}
	// Re-plan so that the range gives n frames.
	span := p.To - p.From
	if p.TicksPerFrame = max(1, span/uint64(max(n-1, 1))); n == 1 {
		p.TicksPerFrame = span + 1
	}
	opt.From, opt.To = p.From, p.From+uint64(n-1)*p.TicksPerFrame
	fps := opt.FPS
	if fps == 0 {
		fps = 10
	}
	opt.Speed = float64(p.TicksPerFrame) * float64(fps) / float64(r.Header().Scenario.Rate)
	strip := image.NewPaletted(image.Rect(0, 0, p.Size*n, p.Size), Palette)
	i := 0
	p, err = Frames(r, opt, func(img *image.Paletted, _ uint64) error {
		if i < n {
			draw.Draw(strip, img.Rect.Add(image.Pt(i*p.Size, 0)), img, image.Point{}, draw.Src)
		}
		i++
		return nil
	})
	if err != nil {
		return p, err
	}
	if err := png.Encode(out, strip); err != nil {
		return p, fmt.Errorf("render: %w", err)
	}
	return p, nil
}

// drawer draws worlds onto one reused frame.
type drawer struct {
	img          *image.Paletted
	size         int
	aw, ah       int32
	store        *art.Store
	thumbs       map[[32]byte]*image.Paletted // nil entry: no bytes, placeholder
	bg           []uint8
	stateIdx     []uint8
	celebrateIdx []uint8
}

func newDrawer(size int, aw, ah int32, store *art.Store) *drawer {
	d := &drawer{img: image.NewPaletted(image.Rect(0, 0, size, size), Palette), size: size, aw: aw, ah: ah, store: store, thumbs: map[[32]byte]*image.Paletted{}}
	for _, c := range stateColours {
		d.stateIdx = append(d.stateIdx, uint8(Palette.Index(c)))
	}
	for _, c := range celebrateColours {
		d.celebrateIdx = append(d.celebrateIdx, uint8(Palette.Index(c)))
	}
	// Background: the arena, a 16 m grid and its border.
	bg := image.NewPaletted(d.img.Rect, Palette)
	grid, border := uint8(Palette.Index(colGrid)), uint8(Palette.Index(colBorder))
	for m := int32(0); m <= aw; m += 16_000_000 {
		x := d.px(m, aw)
		for y := range size {
			bg.SetColorIndex(x, y, grid)
		}
	}
	for m := int32(0); m <= ah; m += 16_000_000 {
		y := d.px(m, ah)
		for x := range size {
			bg.SetColorIndex(x, y, grid)
		}
	}
	for i := range size {
		bg.SetColorIndex(i, 0, border)
		bg.SetColorIndex(i, size-1, border)
		bg.SetColorIndex(0, i, border)
		bg.SetColorIndex(size-1, i, border)
	}
	d.bg = bg.Pix
	return d
}

// px maps a coordinate in [0, extent] µm to a pixel in [0, size).
func (d *drawer) px(v, extent int32) int {
	return min(d.size-1, max(0, int(int64(v)*int64(d.size-1)/int64(max(extent, 1)))))
}

func (d *drawer) draw(w *ecs.World) *image.Paletted {
	copy(d.img.Pix, d.bg)
	st := w.State()
	for _, cv := range st.Canvases {
		d.canvas(&cv)
	}
	r := max(1, d.size/170)
	for i := range st.Records {
		rec := &st.Records[i]
		c := uint8(Palette.Index(colUnknown))
		switch a := rec.Anim; {
		case a.Machine == anim.MachinePlayer && int(a.State) < len(d.stateIdx):
			c = d.stateIdx[a.State]
		case a.Machine == anim.MachineCelebrate && int(a.State) < len(d.celebrateIdx):
			c = d.celebrateIdx[a.State]
		}
		x, y := d.px(rec.Pos.X, w.G.ArenaW), d.px(rec.Pos.Y, w.G.ArenaH)
		d.fill(image.Rect(x-r, y-r, x+r+1, y+r+1), c)
	}
	return d.img
}

func (d *drawer) fill(r image.Rectangle, c uint8) {
	r = r.Intersect(d.img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := d.img.Pix[y*d.img.Stride:]
		for x := r.Min.X; x < r.Max.X; x++ {
			row[x] = c
		}
	}
}

// canvasPx is the longest side of a canvas on the picture: 8 m of arena, at least 10 px.
func (d *drawer) canvasPx() int {
	return max(10, int(int64(8_000_000)*int64(d.size)/int64(max(d.aw, 1))))
}

func (d *drawer) canvas(cv *ecs.Canvas) {
	side := d.canvasPx()
	w, h := side, side
	if cv.Art.Width >= cv.Art.Height {
		h = max(4, side*int(cv.Art.Height)/int(cv.Art.Width))
	} else {
		w = max(4, side*int(cv.Art.Width)/int(cv.Art.Height))
	}
	cx, cy := d.px(cv.Pos.X, d.aw), d.px(cv.Pos.Y, d.ah)
	r := image.Rect(cx-w/2, cy-h/2, cx-w/2+w, cy-h/2+h)
	frame := uint8(Palette.Index(colFrame))
	d.fill(r.Inset(-1), frame)
	thumb, ok := d.thumbs[cv.Art.Hash]
	if !ok {
		thumb = d.loadThumb(cv.Art.Hash, w, h)
		d.thumbs[cv.Art.Hash] = thumb
	}
	if thumb != nil && thumb.Rect.Dx() == w && thumb.Rect.Dy() == h {
		draw.Draw(d.img, r, thumb, image.Point{}, draw.Src)
		return
	}
	d.fill(r, uint8(Palette.Index(colHolder)))
	d.text(r.Min.X+2, r.Min.Y+2, fmt.Sprintf("%x", cv.Art.Hash[:2]), r)
}

// loadThumb decodes the art from the store and scales it to w×h (nearest neighbour) in
// the palette; nil when the store does not hold it or it does not decode.
func (d *drawer) loadThumb(h [32]byte, w, hh int) *image.Paletted {
	if d.store == nil {
		return nil
	}
	f, _, err := d.store.OpenArt(h)
	if err != nil {
		return nil
	}
	defer f.Close()
	src, _, err := image.Decode(f)
	if err != nil {
		return nil
	}
	b := src.Bounds()
	scaled := image.NewRGBA(image.Rect(0, 0, w, hh))
	for y := range hh {
		for x := range w {
			scaled.Set(x, y, src.At(b.Min.X+x*b.Dx()/w, b.Min.Y+y*b.Dy()/hh))
		}
	}
	t := image.NewPaletted(scaled.Rect, Palette)
	draw.Draw(t, t.Rect, scaled, image.Point{}, draw.Src)
	return t
}

// glyphs is a 3×5 font of the hex digits, one row per 3 bits.
var glyphs = map[rune][5]uint8{
	'0': {7, 5, 5, 5, 7}, '1': {2, 6, 2, 2, 7}, '2': {7, 1, 7, 4, 7}, '3': {7, 1, 7, 1, 7},
	'4': {5, 5, 7, 1, 1}, '5': {7, 4, 7, 1, 7}, '6': {7, 4, 7, 5, 7}, '7': {7, 1, 1, 1, 1},
	'8': {7, 5, 7, 5, 7}, '9': {7, 5, 7, 1, 7}, 'a': {7, 5, 7, 5, 5}, 'b': {6, 5, 6, 5, 6},
	'c': {7, 4, 4, 4, 7}, 'd': {6, 5, 5, 5, 6}, 'e': {7, 4, 7, 4, 7}, 'f': {7, 4, 7, 4, 4},
}

// text draws s at (x, y), clipped to clip.
func (d *drawer) text(x, y int, s string, clip image.Rectangle) {
	c := uint8(Palette.Index(colText))
	for _, ch := range s {
		g := glyphs[ch]
		for row := range 5 {
			for col := range 3 {
				if g[row]&(4>>col) != 0 {
					if p := image.Pt(x+col, y+row); p.In(clip) {
						d.img.SetColorIndex(p.X, p.Y, c)
					}
				}
			}
		}
		x += 4
	}
}

// ParseTick parses a tick bound of a replay starting at tick start with rate ticks per
// second: a tick number ("450"), or a time since the start ("15s", "1m30s").
func ParseTick(s string, start uint64, rate uint16) (uint64, error) {
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("render: %q is neither a tick nor a duration like 15s", s)
	}
	return start + uint64(d.Seconds()*float64(rate)+0.5), nil
}
