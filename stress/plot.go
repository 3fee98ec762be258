package stress

import (
	"fmt"
	"image/color"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// series is one line of a plot: a value of each sample and of each step summary.
type series struct {
	name   string
	sample func(Sample) float64
	step   func(StepSummary) float64
}

var palette = []color.RGBA{
	{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
}

// Plot renders the plots into dir: cpu.png, memory.png, tick.png and bandwidth.png
// against the client count (dots: the per-second samples; lines: the step holds), and
// timeline.png (memory and goroutines against time, for soaks).
func (r *Report) Plot(dir string) error {
	mib := func(v float64) float64 { return v / (1 << 20) }
	plots := []struct {
		file, title, y string
		ref            float64 // a target line (0: none)
		s              []series
	}{
		{"cpu.png", "CPU against clients", "cores", TargetCores, []series{
			{"server", func(s Sample) float64 { return s.ServerCPU }, func(s StepSummary) float64 { return s.ServerCPU }},
			{"bots", func(s Sample) float64 { return s.BotsCPU }, func(s StepSummary) float64 { return s.BotsCPU }},
		}},
		{"memory.png", "Memory against clients", "MiB", 0, []series{
			{"server RSS", func(s Sample) float64 { return mib(float64(s.RSS)) }, func(s StepSummary) float64 { return mib(s.RSS) }},
			{"server Go heap", func(s Sample) float64 { return mib(float64(s.Heap)) }, func(s StepSummary) float64 { return mib(s.Heap) }},
		}},
		{"tick.png", "Tick work time against clients", "ms", float64(TargetTickP99.Milliseconds()), []series{
			{"p50", func(s Sample) float64 { return s.TickP50 }, func(s StepSummary) float64 { return s.TickP50 }},
			{"p99", func(s Sample) float64 { return s.TickP99 }, func(s StepSummary) float64 { return s.TickP99 }},
			{"max", func(s Sample) float64 { return s.TickMax }, func(s StepSummary) float64 { return s.TickMax }},
		}},
		{"bandwidth.png", "Bandwidth per client against clients", "kbit/s", TargetDownKbitPerClient, []series{
			{"down", func(s Sample) float64 { return s.DownKbit }, func(s StepSummary) float64 { return s.DownKbit }},
			{"up", func(s Sample) float64 { return s.UpKbit }, func(s StepSummary) float64 { return s.UpKbit }},
		}},
	}
	steps := r.Steps
	if r.Baseline != nil {
		steps = append([]StepSummary{*r.Baseline}, steps...)
	}
	for _, pd := range plots {
		p := plot.New()
		p.Title.Text = pd.title
		p.X.Label.Text = "clients"
		p.Y.Label.Text = pd.y
		p.Y.Min = 0
		p.Add(plotter.NewGrid())
		maxX := 1.0
		for i, s := range pd.s {
			col := palette[i%len(palette)]
			pts := make(plotter.XYs, 0, len(r.Samples))
			for _, smp := range r.Samples {
				pts = append(pts, plotter.XY{X: float64(smp.Clients), Y: s.sample(smp)})
				maxX = max(maxX, float64(smp.Clients))
			}
			if len(pts) > 0 {
				sc, err := plotter.NewScatter(pts)
				if err != nil {
					return fmt.Errorf("stress: plot %s: %w", pd.file, err)
				}
				sc.GlyphStyle.Color = color.NRGBA{R: col.R, G: col.G, B: col.B, A: 0x60}
				sc.GlyphStyle.Radius = vg.Points(1.5)
				p.Add(sc)
			}
			lpts := make(plotter.XYs, 0, len(steps))
			for _, st := range steps {
				lpts = append(lpts, plotter.XY{X: st.Clients, Y: s.step(st)})
			}
			if len(lpts) > 0 {
				l, lp, err := plotter.NewLinePoints(lpts)
				if err != nil {
					return fmt.Errorf("stress: plot %s: %w", pd.file, err)
				}
				l.Color, l.Width = col, vg.Points(1.5)
				lp.Color, lp.Shape = col, draw.CircleGlyph{}
				p.Add(l, lp)
				p.Legend.Add(s.name+" (step holds)", l, lp)
			}
		}
		if pd.ref > 0 {
			ref, err := plotter.NewLine(plotter.XYs{{X: 0, Y: pd.ref}, {X: maxX, Y: pd.ref}})
			if err == nil {
				ref.Color, ref.Dashes = color.Gray{Y: 0x80}, []vg.Length{vg.Points(4), vg.Points(3)}
				p.Add(ref)
				p.Legend.Add("target", ref)
			}
		}
		p.Legend.Top, p.Legend.Left = true, true
		if err := p.Save(8*vg.Inch, 5*vg.Inch, filepath.Join(dir, pd.file)); err != nil {
			return fmt.Errorf("stress: plot %s: %w", pd.file, err)
		}
	}
	return r.plotTimeline(filepath.Join(dir, "timeline.png"))
}

// plotTimeline draws RSS, Go heap and the bots' RSS (MiB, left) and goroutines ÷ 100
// against time, with the client count ÷ 100, for soak runs.
func (r *Report) plotTimeline(path string) error {
	p := plot.New()
	p.Title.Text = "Memory, goroutines and clients over time"
	p.X.Label.Text = "seconds"
	p.Y.Label.Text = "MiB  |  goroutines ÷ 100  |  clients ÷ 100"
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	lines := []struct {
		name string
		f    func(Sample) float64
	}{
		{"server RSS MiB", func(s Sample) float64 { return float64(s.RSS) / (1 << 20) }},
		{"server heap MiB", func(s Sample) float64 { return float64(s.Heap) / (1 << 20) }},
		{"goroutines ÷ 100", func(s Sample) float64 { return float64(s.Goroutines) / 100 }},
		{"clients ÷ 100", func(s Sample) float64 { return float64(s.Clients) / 100 }},
	}
	for i, ln := range lines {
		pts := make(plotter.XYs, 0, len(r.Samples))
		for _, s := range r.Samples {
			pts = append(pts, plotter.XY{X: s.T, Y: ln.f(s)})
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("stress: plot timeline: %w", err)
		}
		l.Color, l.Width = palette[i%len(palette)], vg.Points(1.2)
		p.Add(l)
		p.Legend.Add(ln.name, l)
	}
	p.Legend.Top, p.Legend.Left = true, true
	if err := p.Save(10*vg.Inch, 5*vg.Inch, path); err != nil {
		return fmt.Errorf("stress: plot timeline: %w", err)
	}
	return nil
}
