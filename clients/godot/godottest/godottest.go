// Package godottest runs the real Godot 3.2 engine headless from Go tests:
// [Find] locates the binary (skipping loudly when it is missing, failing when
// CI=true) and [Run] runs a project with a bounded time and a private HOME.
//
// Install the engine with `apt-get install godot3-server` (Debian ships
// 3.2.3 as /usr/bin/godot3-server), or point $GODOT3 at a Godot 3.x binary.
package godottest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultTimeout bounds a [Run] whose context has no earlier deadline.
const DefaultTimeout = 60 * time.Second

// candidates are tried in order after $GODOT3.
var candidates = []string{"godot3-server", "godot3-headless", "godot3", "godot"}

var (
	findOnce sync.Once
	found    string
	findErr  error
)

// Find returns the path of a Godot 3 headless binary: $GODOT3 if set, else
// the first of godot3-server, godot3-headless, godot3 and godot on $PATH
// whose --version starts with "3.". If there is none the test is skipped
// with a loud message, unless the environment has CI=true, where it fails.
func Find(t testing.TB) string {
	t.Helper()
	findOnce.Do(func() { found, findErr = find() })
	if findErr != nil {
		msg := fmt.Sprintf("GODOT 3 NOT FOUND, SKIPPING REAL-ENGINE TEST: %v (apt-get install godot3-server, or set GODOT3)", findErr)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Log(strings.Repeat("!", 72))
		t.Skip(msg)
	}
	return found
}

func find() (string, error) {
	if p := os.Getenv("GODOT3"); p != "" {
		if err := checkVersion(p); err != nil {
			return "", fmt.Errorf("$GODOT3=%s: %w", p, err)
		}
		return p, nil
	}
	var errs []error
	for _, name := range candidates {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if err := checkVersion(p); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		return p, nil
	}
	if len(errs) == 0 {
		return "", fmt.Errorf("none of %v on $PATH", candidates)
	}
	return "", errors.Join(errs...)
}

func checkVersion(path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--version")
	cmd.Env = append(os.Environ(), "HOME="+os.TempDir())
	// Godot 3 prints the version and exits with status 255, so the status
	// is ignored when the output holds a version line.
	out, err := cmd.Output()
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "3.") {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("--version: %w", err)
	}
	return fmt.Errorf("version %q is not Godot 3", strings.TrimSpace(string(out)))
}

// Run runs the Godot 3 binary from [Find] on the project in projectDir and
// returns its combined stdout and stderr.
//
// The command line is `godot --path <projectDir> <engine args> -- <user args>`:
// if args contains "--", the args before it go to the engine (for example
// "-s", "res://script.gd") and those after it to the project; otherwise all
// args go to the project, which reads them with OS.get_cmdline_args(). Godot
// 3.2 keeps parsing engine flags after "--", so user args should be
// --key=value.
//
// HOME and the XDG directories point at a fresh t.TempDir, and the locale is
// C.UTF-8. The run ends at ctx's deadline or after [DefaultTimeout],
// whichever is first; the error is then context.DeadlineExceeded (wrapped).
// A non-zero exit status is returned as an *exec.ExitError.
func Run(ctx context.Context, t testing.TB, projectDir string, args ...string) (string, error) {
	t.Helper()
	bin := Find(t)
	abs, err := filepath.Abs(projectDir)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()

	engine, user := []string(nil), args
	for i, a := range args {
		if a == "--" {
			engine, user = args[:i], args[i+1:]
			break
		}
	}
	argv := append([]string{"--path", abs}, engine...)
	argv = append(argv, "--")
	argv = append(argv, user...)

	home := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.Dir = abs
	cmd.Env = append(os.Environ(),
		"HOME="+home,
		"XDG_DATA_HOME="+filepath.Join(home, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_CACHE_HOME="+filepath.Join(home, "cache"),
		"LANG=C.UTF-8", "LC_ALL=C.UTF-8",
	)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	t.Logf("godot %s (%v, %s)", strings.Join(argv, " "), time.Since(start).Round(time.Millisecond), runtime.GOOS)
	if ctx.Err() != nil {
		return out.String(), fmt.Errorf("godot timed out: %w", ctx.Err())
	}
	return out.String(), err
}

// Lines returns the lines of out that start with prefix followed by a space,
// without the prefix: Lines(out, "PACKET") on "PACKET 3 aabbcc" gives "3 aabbcc".
// Engine noise (ERROR lines, the banner) is ignored that way.
func Lines(out, prefix string) []string {
	var r []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimRight(l, "\r")
		if rest, ok := strings.CutPrefix(l, prefix+" "); ok {
			r = append(r, rest)
		}
	}
	return r
}

// ClientDir returns the directory of the Godot client project
// (clients/godot), found relative to this source file's package directory
// when tests run from it, or by walking up from the working directory.
func ClientDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		for _, c := range []string{filepath.Join(d, "clients", "godot"), d} {
			if st, err := os.Stat(filepath.Join(c, "client.gd")); err == nil && !st.IsDir() {
				if _, err := os.Stat(filepath.Join(c, "project.godot")); err == nil {
					return c
				}
			}
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	t.Fatalf("clients/godot not found above %s", dir)
	return ""
}
