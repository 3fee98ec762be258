package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/shardsim/shardsim/golden"
	"github.com/shardsim/shardsim/replay"
)

func init() {
	register("verify", "re-simulate replays and check every tick's hash", runVerify)
	register("replay", "inspect a replay file: shardsim replay info FILE", runReplay)
	register("record", "record a built-in golden scenario to a replay file", runRecord)
}

// verifyResult is one file's line of `verify --json`.
type verifyResult struct {
	File string `json:"file"`
	*replay.Report
	Error string `json:"error,omitempty"`
}

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("verify", "[flags] FILE...", stderr)
	from := fs.Int64("from-keyframe", -1, "start from the keyframe at this tick instead of the initial snapshot")
	asJSON := fs.Bool("json", false, "print one JSON object per file")
	if code := parseFlags(fs, args, -1); code >= 0 {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "shardsim verify: no replay files given")
		fs.Usage()
		return 2
	}
	code := 0
	for _, path := range fs.Args() {
		res := verifyResult{File: path}
		rep, err := verifyFile(path, *from, stderr, *asJSON)
		res.Report = rep
		switch {
		case err != nil:
			res.Error = err.Error()
			code = 1
		case !rep.OK || rep.Truncated:
			code = 1
		}
		if *asJSON {
			b, _ := json.Marshal(res)
			fmt.Fprintln(stdout, string(b))
			continue
		}
		switch {
		case err != nil:
			fmt.Fprintf(stdout, "%s: FAIL: %v\n", path, err)
		case !rep.OK:
			fmt.Fprintf(stdout, "%s: DIVERGED\n  %s\n", path, strings.ReplaceAll(rep.Divergence.String(), "\n", "\n  "))
		case rep.Truncated:
			fmt.Fprintf(stdout, "%s: TRUNCATED after tick %d: the %d ticks before it verify (%s)\n", path, rep.TruncatedAfter, rep.Ticks, tickRange(rep))
		default:
			fmt.Fprintf(stdout, "%s: ok: %d ticks verified (%s, scenario %q) at %.0f ticks/s\n", path, rep.Ticks, tickRange(rep), rep.Scenario, rep.TicksPerSec)
		}
	}
	return code
}

func tickRange(r *replay.Report) string {
	if r.Ticks == 0 {
		return "no ticks"
	}
	return fmt.Sprintf("ticks %d–%d", r.FirstTick, r.LastTick)
}

func verifyFile(path string, from int64, stderr io.Writer, quiet bool) (*replay.Report, error) {
	r, c, err := replay.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	opt := replay.VerifyOptions{UseKeyframe: from >= 0, FromKeyframe: uint64(max(from, 0))}
	if !quiet && isTerminal(stderr) {
		opt.Progress = func(done, total uint64) {
			fmt.Fprintf(stderr, "\r%s: %d/%d ticks\033[K", filepath.Base(path), done, total)
			if done == total {
				fmt.Fprint(stderr, "\r\033[K")
			}
		}
	}
	return replay.Verify(r, opt)
}

func runReplay(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "info" {
		fmt.Fprintln(stderr, "usage: shardsim replay info [--json] FILE")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return 0
		}
		return 2
	}
	fs := newFlags("replay info", "[--json] FILE", stderr)
	asJSON := fs.Bool("json", false, "print the information as JSON")
	if code := parseFlags(fs, args[1:], 1); code >= 0 {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	r, c, err := replay.OpenFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "shardsim replay info: %v\n", err)
		return 1
	}
	defer c.Close()
	h, st := r.Header(), r.Stats()
	last, hasTicks := r.LastTick()
	keys := r.Keyframes()
	if *asJSON {
		b, _ := json.Marshal(map[string]any{"header": h, "stats": st, "last_tick": last, "has_ticks": hasTicks, "keyframes": keys})
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	sc := h.Scenario
	fmt.Fprintf(stdout, "file        %s (%d bytes)\n", fs.Arg(0), st.FileSize)
	fmt.Fprintf(stdout, "scenario    %q seed %d, %d Hz, arena %.1f×%.1f m, %d entities at start, sim version %d\n",
		sc.Name, sc.Seed, sc.Rate, float64(sc.ArenaW)/1e6, float64(sc.ArenaH)/1e6, sc.Entities, sc.SimVersion)
	if hasTicks {
		fmt.Fprintf(stdout, "ticks       %d (%d–%d)\n", st.Ticks, h.StartTick, last)
	} else {
		fmt.Fprintln(stdout, "ticks       none")
	}
	kt := make([]string, 0, len(keys))
	for _, k := range keys {
		kt = append(kt, fmt.Sprint(k.Tick))
	}
	fmt.Fprintf(stdout, "keyframes   %d every %d ticks: %s\n", len(keys), sc.KeyframeEvery, strings.Join(kt, " "))
	for _, k := range []struct {
		name string
		s    replay.KindStats
	}{{"initial", st.Initial}, {"ticks", st.TickData}, {"keyframes", st.Keyframes}, {"total", st.Total}} {
		fmt.Fprintf(stdout, "%-11s %d blocks, %d bytes compressed from %d (ratio %.2f)\n", k.name, k.s.Blocks, k.s.Compressed, k.s.Uncompressed, k.s.Ratio())
	}
	if st.Ticks > 0 {
		fmt.Fprintf(stdout, "per tick    %.0f bytes on disk\n", float64(st.FileSize)/float64(st.Ticks))
	}
	if err := r.Err(); err != nil {
		fmt.Fprintf(stdout, "status      %v\n", err)
		var te *replay.TruncatedError
		if errors.As(err, &te) {
			return 1
		}
	} else {
		fmt.Fprintln(stdout, "status      complete")
	}
	return 0
}

func runRecord(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("record", "--scenario NAME --out FILE", stderr)
	name := fs.String("scenario", "", "golden scenario to record: "+scenarioNames())
	out := fs.String("out", "", "replay file to write")
	if code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	sc, ok := golden.Lookup(*name)
	if !ok || *out == "" {
		fmt.Fprintf(stderr, "shardsim record: --scenario must be one of %s, and --out is required\n", scenarioNames())
		return 2
	}
	if err := writeReplayFile(*out, sc.Record); err != nil {
		fmt.Fprintf(stderr, "shardsim record: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "recorded scenario %q (%d ticks) to %s\n", sc.Name, sc.Ticks, *out)
	return 0
}

func scenarioNames() string {
	names := make([]string, len(golden.Scenarios))
	for i, s := range golden.Scenarios {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// writeReplayFile writes a replay through a temporary file that is renamed into place
// only when complete, so a failure never leaves a half-written file or replaces a good one.
func writeReplayFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
