package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// rotatingFiles is the shard.Rotator of `serve --record FILE` with a rotation flag:
// FILE.000.replay, FILE.001.replay… (a trailing .replay of FILE is dropped first), each a
// complete replay, the next begun when the current one reaches size bytes or has run
// for every (0: no limit). The wall clock only decides when a file ends.
type rotatingFiles struct {
	base  string
	size  int64
	every time.Duration
	n     int
	cur   *os.File
	start time.Time
	head  int64 // bytes written at the current file's first tick (-1: not yet seen)
	names []string
}

func newRotatingFiles(path string, size int64, every time.Duration) (*rotatingFiles, error) {
	r := &rotatingFiles{base: strings.TrimSuffix(path, ".replay"), size: size, every: every}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rotatingFiles) open() error {
	name := fmt.Sprintf("%s.%03d.replay", r.base, r.n)
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	r.n++
	r.cur, r.start, r.head = f, time.Now(), -1
	r.names = append(r.names, name)
	return nil
}

// Writer is the current file.
func (r *rotatingFiles) Writer() io.Writer { return r.cur }

// Due implements shard.Rotator. A file ends by size only once it holds a block beyond
// its header and initial snapshot (the bytes written at its first tick), so a size
// below the header's still makes progress.
func (r *rotatingFiles) Due(written int64) bool {
	if r.head < 0 {
		r.head = written
	}
	return (r.size > 0 && written >= r.size && written > r.head) || (r.every > 0 && time.Since(r.start) >= r.every)
}

// Next implements shard.Rotator: it syncs and closes the finished file and opens the next.
func (r *rotatingFiles) Next() (io.Writer, error) {
	if err := r.finish(); err != nil {
		return nil, err
	}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r.cur, nil
}

func (r *rotatingFiles) finish() error {
	if r.cur == nil {
		return nil
	}
	err := r.cur.Sync()
	if cerr := r.cur.Close(); err == nil {
		err = cerr
	}
	r.cur = nil
	return err
}

// Close closes the current file.
func (r *rotatingFiles) Close() error { return r.finish() }

// parseSize parses a byte size: a number with an optional suffix K, M, G (powers of
// 1000), KiB, MiB, GiB (powers of 1024) or B.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"B", 1}} {
		if strings.HasSuffix(t, u.suf) {
			t, mult = strings.TrimSuffix(t, u.suf), u.m
			break
		}
	}
	var n int64
	if _, err := fmt.Sscanf(t, "%d", &n); err != nil || n < 0 || fmt.Sprint(n) != t || n > (1<<62)/mult {
		return 0, fmt.Errorf("bad size %q (want e.g. 8MiB, 500K, 1048576)", s)
	}
	return n * mult, nil
}
