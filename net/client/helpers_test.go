package client_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/systems"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// frames records, on the shard goroutine, a quantized frame of every tick so that
// clients can compare their tables with what the server held at the snapshot's tick.
type frames struct {
	ring *game.FrameRing
	max  uint64 // ticks beyond this are not captured (the ring would wrap)

	mu     sync.Mutex
	byTick map[uint64]*game.Frame
}

const frameHistory = 1024

func newFrames() *frames {
	ring := game.NewFrameRing(frameHistory)
	ring.ClipPeriods = systems.DefaultConfig().Lib.ClipPeriods() // as the shard's server
	return &frames{ring: ring, max: frameHistory - 64, byTick: map[uint64]*game.Frame{}}
}

// capture runs on the shard goroutine after each step.
func (fr *frames) capture(w *ecs.World) {
	if w.G.Tick > fr.max {
		return
	}
	f := fr.ring.Capture(w)
	fr.mu.Lock()
	fr.byTick[f.Tick] = f
	fr.mu.Unlock()
}

func (fr *frames) at(tick uint64) *game.Frame {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return fr.byTick[tick]
}

// maxTestID bounds the NetIDs the tests compare (the worlds hold far fewer).
const maxTestID = 1024

// sameContent reports whether t holds exactly the entities of f with the same values.
func sameContent(t *game.Table, f *game.Frame) bool {
	if t.Len() != f.Len() {
		return false
	}
	for id := ecs.NetID(1); id < maxTestID; id++ {
		fe, fok := f.Get(id)
		te, tok := t.Get(id)
		if fok != tok || fe != te {
			return false
		}
	}
	return true
}

// hashCheck counts, for one client, how the snapshots it applied compare with the
// server: the table hash must always be the hash the snapshot carried; when the table
// holds the server's whole frame, that hash is the frame's.
type hashCheck struct {
	fr *frames

	applied      atomic.Int64
	carriedWrong atomic.Int64 // table hash != carried hash
	complete     atomic.Int64 // table equals the server frame of its tick
	frameWrong   atomic.Int64 // complete but hash != frame hash, or hash == frame hash but not complete
	noFrame      atomic.Int64
}

func (hc *hashCheck) onSnapshot(t *game.Table, h game.SnapshotHeader) {
	hc.applied.Add(1)
	th := t.Hash()
	if th != h.Hash {
		hc.carriedWrong.Add(1)
	}
	f := hc.fr.at(h.Tick)
	if f == nil {
		hc.noFrame.Add(1)
		return
	}
	complete := sameContent(t, f)
	if complete {
		hc.complete.Add(1)
	}
	if complete != (th == f.Hash()) || complete != (h.Hash == f.Hash()) {
		hc.frameWrong.Add(1)
	}
}

// eventually polls cond every 10ms until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
