package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/shardsim/shardsim/art"
	"github.com/shardsim/shardsim/render"
	"github.com/shardsim/shardsim/replay"
)

func init() {
	register("render", "draw a replay as an animated GIF (or a PNG strip)", runRender)
}

func runRender(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("render", "FILE --out session.gif [flags]", stderr)
	out := fs.String("out", "", "picture to write: an animated GIF, or a PNG with --png-strip (required)")
	size := fs.Int("size", 512, "width and height of a frame, pixels")
	speed := fs.Float64("speed", 4, "playback speed relative to the recording")
	fps := fs.Int("fps", 10, "frames per second of playback")
	from := fs.String("from", "", "first tick to draw: a tick number or a time since the start (15s)")
	to := fs.String("to", "", "last tick to draw: a tick number or a time since the start")
	artDir := fs.String("art-dir", "", "art store holding the canvases' images (else placeholders)")
	strip := fs.Int("png-strip", 0, "write a PNG strip of this many frames instead of a GIF")
	// FILE may come before the flags.
	var file string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	if code := parseFlags(fs, args, 1); code >= 0 {
		return code
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	if file == "" || *out == "" {
		fmt.Fprintln(stderr, "shardsim render: a replay FILE and --out are required")
		fs.Usage()
		return 2
	}
	r, c, err := replay.OpenFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "shardsim render: %v\n", err)
		return 1
	}
	defer c.Close()
	h := r.Header()
	opt := render.Options{Size: *size, Speed: *speed, FPS: *fps}
	for _, b := range []struct {
		s   string
		dst *uint64
	}{{*from, &opt.From}, {*to, &opt.To}} {
		if b.s == "" {
			continue
		}
		if *b.dst, err = render.ParseTick(b.s, h.StartTick, h.Scenario.Rate); err != nil {
			fmt.Fprintf(stderr, "shardsim render: %v\n", err)
			return 2
		}
	}
	if *artDir != "" {
		if opt.Art, err = art.Open(*artDir, art.Options{}); err != nil {
			fmt.Fprintf(stderr, "shardsim render: %v\n", err)
			return 1
		}
	}
	plan, err := render.PlanFor(r, opt)
	if err != nil {
		fmt.Fprintf(stderr, "shardsim render: %v\n", err)
		return 2
	}
	term := isTerminal(stderr)
	opt.Progress = func(done, total int) {
		if term {
			fmt.Fprintf(stderr, "\rrender: frame %d/%d\033[K", done, total)
			if done == total {
				fmt.Fprint(stderr, "\r\033[K")
			}
		} else if done == total || done%50 == 0 {
			fmt.Fprintf(stderr, "render: frame %d/%d\n", done, total)
		}
	}
	err = writeReplayFile(*out, func(w io.Writer) error {
		var err error
		if *strip > 0 {
			plan, err = render.Strip(w, r, opt, *strip)
		} else {
			plan, err = render.GIF(w, r, opt)
		}
		return err
	})
	if err != nil {
		fmt.Fprintf(stderr, "shardsim render: %v\n", err)
		return 1
	}
	frames := plan.Frames
	if *strip > 0 {
		frames = *strip
	}
	fmt.Fprintf(stdout, "rendered %s: %d frames of %d×%d px, ticks %d–%d every %d ticks, to %s\n",
		filepath.Base(file), frames, plan.Size, plan.Size, plan.From, plan.To, plan.TicksPerFrame, *out)
	return 0
}
