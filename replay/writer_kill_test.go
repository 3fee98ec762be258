package replay

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shardsim/shardsim/ecs"
)

// helperEnv carries the output path to TestHelperWriter in a child process.
const helperEnv = "SHARDSIM_REPLAY_HELPER_OUT"

// helperTick is the record the helper writes for tick: a pure function of tick, so the
// parent can check what it reads back.
func helperTick(tick uint64) TickRecord {
	var cmds []ecs.Command
	for p := range tick % 5 {
		cmds = append(cmds, ecs.Command{Kind: ecs.CmdInput, Player: ecs.NetID(p + 1),
			Input: ecs.Input{MoveX: int8(tick), MoveY: int8(p), Buttons: ecs.ButtonRun}})
	}
	if tick%7 == 0 {
		cmds = append(cmds, ecs.Command{Kind: ecs.CmdJoin, Arg: uint32(tick)})
	}
	return TickRecord{Tick: tick, Commands: cmds, Hash: tick * 0x9e3779b97f4a7c15}
}

func helperSnapshot(tick uint64) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("world@%d;", tick)), 50)
}

const helperKeyEvery = 25

// TestHelperWriter is not a test: TestKill9 runs it in a child process, which writes a
// replay with fsync'd blocks until it is killed, reporting on stdout each tick that is
// durable ("durable N") and each keyframe ("keyframe N").
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process for TestKill9")
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	h := Header{Scenario: Scenario{Name: "kill-9", Rate: 60, KeyframeEvery: helperKeyEvery}}
	w, err := NewWriter(f, h, helperSnapshot(0), WriterOptions{FlushEvery: 10, Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	out := bufio.NewWriter(os.Stdout)
	deadline := time.Now().Add(time.Minute) // in case the parent is gone
	for tick := uint64(0); time.Now().Before(deadline); tick++ {
		rec := helperTick(tick)
		before := w.Offset()
		if err := w.WriteTick(tick, rec.Commands, rec.Hash); err != nil {
			t.Fatal(err)
		}
		if w.Offset() != before { // a block was written and synced
			fmt.Fprintf(out, "durable %d\n", tick)
		}
		if (tick+1)%helperKeyEvery == 0 {
			if err := w.WriteKeyframe(tick, helperSnapshot(tick)); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(out, "keyframe %d\n", tick)
		}
		if err := out.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("not killed in time")
}

func TestKill9(t *testing.T) {
	switch runtime.GOOS {
	case "js", "wasip1", "ios", "android", "plan9", "windows":
		t.Skipf("no subprocess kill test on %s", runtime.GOOS)
	}
	for _, tc := range []struct {
		killAfter int           // durable blocks reported
		delay     time.Duration // then let the child run on for this long
	}{
		{1, 0}, {7, 500 * time.Microsecond}, {23, 2 * time.Millisecond},
	} {
		killAfter := tc.killAfter
		t.Run(fmt.Sprintf("after %d blocks + %v", killAfter, tc.delay), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "killed.replay")
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
			cmd.Env = append(os.Environ(), helperEnv+"="+path)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var durable uint64
			var keyframes []uint64
			blocks := 0
			sc := bufio.NewScanner(stdout)
			for blocks < killAfter && sc.Scan() {
				var n uint64
				if _, err := fmt.Sscanf(sc.Text(), "durable %d", &n); err == nil {
					durable = n
					blocks++
				} else if _, err := fmt.Sscanf(sc.Text(), "keyframe %d", &n); err == nil {
					keyframes = append(keyframes, n)
				}
			}
			// The child keeps writing: the kill lands anywhere in a block or between two.
			time.Sleep(tc.delay)
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			if blocks < killAfter {
				t.Fatalf("child reported %d blocks, then: %v\n%s", blocks, err, stderr.Bytes())
			}

			r, closer, err := OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer closer.Close()
			var te *TruncatedError
			if !errors.As(r.Err(), &te) {
				t.Fatalf("Err = %v, want a TruncatedError", r.Err())
			}
			if last, ok := r.LastTick(); !ok || last < durable || te.AfterTick != last {
				t.Fatalf("LastTick = %d, %v; durable %d; %v", last, ok, durable, te)
			}
			it := r.Ticks(0)
			next := uint64(0)
			for it.Next() {
				want := helperTick(next)
				if diff := cmp.Diff(want, it.Tick(), cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("tick %d (-want +got):\n%s", next, diff)
				}
				next++
			}
			if !errors.As(it.Err(), &te) || next != te.AfterTick+1 {
				t.Fatalf("ticks end at %d with %v", next, it.Err())
			}
			for _, k := range keyframes {
				snap, err := r.Keyframe(k)
				if err != nil {
					t.Fatalf("reported keyframe %d: %v", k, err)
				}
				if !bytes.Equal(snap, helperSnapshot(k)) {
					t.Fatalf("keyframe %d differs", k)
				}
			}
			if init, err := r.Initial(); err != nil || !bytes.Equal(init, helperSnapshot(0)) {
				t.Fatalf("initial: %v", err)
			}
			if err := r.Verify(); !errors.As(err, &te) {
				t.Fatalf("Verify = %v", err)
			}
			t.Logf("killed after tick %d was durable: %d ticks read, %v", durable, next, te)
			if strings.Contains(stderr.String(), "panic") {
				t.Fatalf("child panicked:\n%s", stderr.Bytes())
			}
		})
	}
}
