// Package e2e runs the stock Godot 3.2 client (clients/godot) against shardsim:
// its GDScript snapshot decoder against the Go reference decoder on the same
// messages, and the whole client against a live shard over ENet.
package e2e

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"

	"github.com/shardsim/shardsim/clients/godot/godottest"
	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/shard/shardtest"
	"github.com/shardsim/shardsim/systems"
)

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// newProject writes a throwaway Godot 3 project holding the client's
// protocol.gd and the given files.
func newProject(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	proto, err := os.ReadFile(filepath.Join(godottest.ClientDir(t), "protocol.gd"))
	if err != nil {
		t.Fatal(err)
	}
	files["protocol.gd"] = proto
	files["project.godot"] = []byte("config_version=4\n\n[application]\n\nconfig/name=\"e2e\"\n")
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// dropReason is the SNAP_DROP reason protocol.gd prints for a Decoder.Apply error.
func dropReason(err error) string {
	for _, r := range []struct {
		err    error
		reason string
	}{
		{game.ErrShort, "short"}, {game.ErrRange, "range"}, {game.ErrTooLarge, "too_large"},
		{game.ErrDuplicate, "duplicate"}, {game.ErrStale, "stale"},
		{game.ErrBaselineMissing, "baseline"}, {game.ErrCompressed, "zstd"}, {game.ErrCorrupt, "corrupt"},
	} {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "?" + err.Error()
}

// goLine is what protocol.gd must print for msg, from the Go reference decoder.
func goLine(d *game.Decoder, msg []byte) string {
	h, _, herr := game.ParseSnapshotHeader(msg)
	t, err := d.Apply(msg)
	switch {
	case err == nil:
		return fmt.Sprintf("SNAP %d %d %d %d %016x match", h.ID, h.Base, h.Tick, t.Len(), t.Hash())
	case errors.Is(err, game.ErrHashMismatch):
		return fmt.Sprintf("SNAP %d %d %d MISMATCH", h.ID, h.Base, h.Tick) // compared by prefix and suffix
	case herr != nil && errors.Is(err, game.ErrShort):
		return "SNAP_DROP 0 short"
	}
	return fmt.Sprintf("SNAP_DROP %d %s", h.ID, dropReason(err))
}

// headingsDigest folds game.HeadingOf over every velocity (as bytes x, y) as decode.gd
// folds protocol.gd's heading_of.
func headingsDigest() uint32 {
	var h uint32
	for x := range 256 {
		for y := range 256 {
			h = h*31 + uint32(game.HeadingOf(int8(x), int8(y)))
		}
	}
	return h
}

// decodeGD feeds msgN.bin to protocol.gd in order and prints, per message, the
// decoder's line and its ack afterwards; HASH lines check hash_entity alone.
const decodeGD = `extends SceneTree
const Protocol = preload("res://protocol.gd")
func _initialize():
	var p = Protocol.new()
	var us := 0
	for i in range(%d):
		var f := File.new()
		if f.open("res://msg%%d.bin" %% i, File.READ) != OK:
			print("OPEN_ERROR %%d" %% i)
			continue
		var data := f.get_buffer(f.get_len())
		f.close()
		var t0 := OS.get_ticks_usec()
		var out: String = p.apply_snapshot(data)
		us += OS.get_ticks_usec() - t0
		for line in out.split("\n"):
			print("CASE %%d %%s" %% [i, line])
		var a = p.ack()
		print("ACK %%d %%d %%d" %% [i, a[0], a[1]])
		var t = p.newest_table()
		if t != null and Protocol.rehash(t) != Protocol.table_hash(t.sum, t.count):
			print("REHASH_MISMATCH %%d" %% i)
	print("ELAPSED_US %%d" %% us)
	# heading_of for every velocity, folded into one number (as headingsDigest).
	var hd := 0
	for x in range(256):
		for y in range(256):
			hd = (hd * 31 + Protocol.heading_of(x, y)) & 0xffffffff
	print("HEADINGS %%d" %% hd)
%s	print("DONE")
	quit(0)
`

// TestDecoderMatchesGo encodes a real world's snapshots with the server's
// encoder (losses, late acks, a reordered delta, leaves and joins, and
// damaged messages) and checks that protocol.gd, run by the real engine,
// prints for every message exactly what the Go Decoder decides, and acks the
// same way.
func TestDecoderMatchesGo(t *testing.T) {
	godottest.Find(t)
	w, sim, err := shard.NewWorld(&shard.HeadlessConfig{World: ecs.Config{Seed: 3, Rate: 30}, Systems: systems.DefaultConfig(), Entities: 60})
	if err != nil {
		t.Fatal(err)
	}
	ring, enc, view, dec := game.NewFrameRing(0), game.NewEncoder(), game.NewClientView(1), game.NewDecoder()
	var msgs [][]byte
	var want, wantAck []string
	merges := 0  // snapshots delivered that merge others
	farBase := 0 // snapshots delivered whose baseline is KeepTables or more older (pinned)
	deliver := func(msg []byte) {
		if h, _, err := game.ParseSnapshotHeader(msg); err == nil && h.Merge != 0 {
			merges++
		}
		if h, _, err := game.ParseSnapshotHeader(msg); err == nil && h.Base != 0 && h.ID-h.Base >= game.KeepTables {
			farBase++
		}
		msgs = append(msgs, msg)
		want = append(want, goLine(dec, msg))
		a := dec.Ack()
		wantAck = append(wantAck, fmt.Sprintf("%d %d", a.Newest, a.Bits))
	}
	var held []byte
	var lagged []game.Ack
	var old [][]byte
	for i := range 230 {
		var cmds []ecs.Command
		switch i {
		case 40, 41, 42:
			cmds = append(cmds, ecs.Command{Kind: ecs.CmdLeave, Player: ecs.NetID(5 + i)})
		case 70:
			for k := range 4 {
				cmds = append(cmds, ecs.Command{Kind: ecs.CmdJoin, Arg: uint32(k + 1)})
			}
		}
		sim.Step(w, cmds)
		f := ring.Capture(w)
		msg, err := enc.AppendSnapshot(nil, f, view)
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, msg)
		switch {
		case i == 100:
			// Pretend the client acked this one before it arrived: the next snapshot
			// is a delta on it and arrives first (baseline missing), then both arrive.
			held = msg
			view.Ack(ring, game.Ack{Newest: f.ID})
			continue
		case i == 101:
			deliver(msg)
			deliver(held)
			deliver(msg)
		case i%7 == 3: // lost
			continue
		default:
			deliver(msg)
		}
		switch {
		case i >= 110 && i < 150: // acks two snapshots late: snapshots merge others
			lagged = append(lagged, dec.Ack())
			if len(lagged) > 2 {
				view.Ack(ring, lagged[0])
				lagged = lagged[1:]
			}
		case i >= 150 && i < 215: // acks 20 late: merged snapshots unmerged, far baselines
			lagged = append(lagged, dec.Ack())
			if len(lagged) > 20 {
				view.Ack(ring, lagged[0])
				lagged = lagged[1:]
			}
		case i%5 != 2: // some acks are lost too
			view.Ack(ring, dec.Ack())
		}
	}
	// Damaged and late messages.
	last := old[len(old)-1]
	damaged := func(f func(b []byte)) []byte {
		b := append([]byte{}, last...)
		f(b)
		return b
	}
	deliver(last)                                                                      // duplicate
	deliver(old[10])                                                                   // stale
	deliver(last[:20])                                                                 // short
	deliver(damaged(func(b []byte) { copy(b[5:9], b[1:5]) }))                          // base = id: range
	deliver(damaged(func(b []byte) { b[1]++; b[33] ^= 0xff }))                         // new id, broken zstd frame (magic)
	deliver(damaged(func(b []byte) { b[1] += 2; b[29]++ }))                            // new id, size past the frame
	deliver(damaged(func(b []byte) { b[1] += 4; copy(b[29:33], []byte{1, 0, 1, 0}) })) // too large
	deliver(damaged(func(b []byte) { b[1] += 5; b[12] |= 0x80 }))                      // merge bit 31: range
	deliver(damaged(func(b []byte) { b[1] += 6; b[9] |= 0x1e }))                       // merges snapshots not held: baseline
	// A snapshot that decodes but whose hash is wrong (one more frame: damaging an old
	// snapshot's id would change the ages its position codes depend on).
	sim.Step(w, nil)
	fresh, err := enc.AppendSnapshot(nil, ring.Capture(w), view)
	if err != nil {
		t.Fatal(err)
	}
	fresh[21] ^= 1
	deliver(fresh)
	// Payloads that decompress but do not parse (re-framed with their new size).
	repayload := func(bump byte, f func(p []byte) []byte) []byte {
		h, frame, err := game.ParseSnapshotHeader(last)
		if err != nil {
			t.Fatal(err)
		}
		zd, _ := zstd.NewReader(nil)
		defer zd.Close()
		p, err := zd.DecodeAll(frame, nil)
		if err != nil {
			t.Fatal(err)
		}
		p = f(p)
		h.ID += uint32(bump)
		h.Size = uint32(len(p))
		ze, _ := zstd.NewWriter(nil)
		return ze.EncodeAll(p, game.AppendSnapshotHeader(nil, &h))
	}
	deliver(repayload(7, func(p []byte) []byte { return append(p, 0) }))            // a trailing byte
	deliver(repayload(8, func(p []byte) []byte { return p[:len(p)-1] }))            // the bitstream cut short
	deliver(repayload(9, func(p []byte) []byte { p[0] ^= 2; return p }))            // the record count's first bit flipped
	deliver(repayload(10, func(p []byte) []byte { p[len(p)-1] |= 0x80; return p })) // the last byte's top bit: padding or a value

	// hash_entity on extreme values, against game.HashEntity.
	rng := mrand.New(mrand.NewPCG(1, 2))
	var hashGD strings.Builder
	var wantHash []string
	for k := range 40 {
		e := game.Entity{
			X: uint16(rng.Uint32()), Y: uint16(rng.Uint32()), Head: uint8(rng.Uint32()),
			VX: int8(rng.Uint32()), VY: int8(rng.Uint32()), Machine: uint16(rng.Uint32()), State: uint16(rng.Uint32()),
			Clip: uint16(rng.Uint32()), Speed: uint16(rng.Uint32()), TimeRef: uint16(rng.Uint32()),
			PrevClip: uint16(rng.Uint32()), Fade: uint8(rng.Uint32()), Team: uint8(rng.Uint32()),
		}
		if k == 0 {
			e = game.Entity{X: 0xffff, Y: 0xffff, Head: 0xff, VX: -1, VY: -128, Machine: 0xffff, State: 0xffff, Clip: 0xffff,
				Speed: 0xffff, TimeRef: 0xffff, PrevClip: 0xffff, Fade: 0xff, Team: 0xff}
		}
		id := ecs.NetID(1 + rng.IntN(65535))
		fmt.Fprintf(&hashGD, "\tprint(\"HASH %d \", Protocol.hex64(Protocol.hash_entity(%d, [%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, 0])))\n",
			k, id, e.X, e.Y, e.Head, uint8(e.VX), uint8(e.VY), e.Machine, e.State, e.Clip, e.Speed, e.TimeRef, e.PrevClip, e.Fade, e.Team)
		wantHash = append(wantHash, fmt.Sprintf("%d %016x", k, game.HashEntity(id, &e)))
	}

	files := map[string][]byte{"decode.gd": fmt.Appendf(nil, decodeGD, len(msgs), hashGD.String())}
	for i, m := range msgs {
		files[fmt.Sprintf("msg%d.bin", i)] = m
	}
	dir := newProject(t, files)
	start := time.Now()
	out, err := godottest.Run(timeout(t, 60*time.Second), t, dir, "-s", "res://decode.gd", "--")
	if err != nil || !strings.Contains(out, "\nDONE") {
		t.Fatalf("godot: %v\n%s", err, out)
	}
	t.Logf("Godot ran in %v; apply_snapshot took %v µs in all for %d messages",
		time.Since(start).Round(time.Millisecond), godottest.Lines(out, "ELAPSED_US"), len(msgs))
	if testing.Verbose() {
		t.Log(out)
	}

	var got, gotAck []string
	for _, l := range godottest.Lines(out, "CASE") {
		_, rest, _ := strings.Cut(l, " ")
		if strings.HasPrefix(rest, "SNAP_HASH") {
			continue
		}
		got = append(got, rest)
	}
	for _, l := range godottest.Lines(out, "ACK") {
		_, rest, _ := strings.Cut(l, " ")
		gotAck = append(gotAck, rest)
	}
	// A mismatch line holds the hash Godot computed; compare its ends only.
	for i := range min(len(got), len(want)) {
		if strings.HasSuffix(want[i], " MISMATCH") {
			f := strings.Fields(got[i])
			if len(f) == 7 && f[6] == "MISMATCH" && strings.Join(f[:4], " ")+" MISMATCH" == want[i] {
				got[i] = want[i]
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Godot's decoder differs from Go's (-go +godot):\n%s", diff)
	}
	if diff := cmp.Diff(wantAck, gotAck); diff != "" {
		t.Errorf("Godot's acks differ from Go's (-go +godot):\n%s", diff)
	}
	if diff := cmp.Diff(wantHash, godottest.Lines(out, "HASH")); diff != "" {
		t.Errorf("hash_entity differs from game.HashEntity (-go +godot):\n%s", diff)
	}
	if got, want := godottest.Lines(out, "HEADINGS"), []string{strconv.FormatUint(uint64(headingsDigest()), 10)}; !slices.Equal(got, want) {
		t.Errorf("protocol.gd heading_of differs from game's heading prediction: digest %v, want %v", got, want)
	}
	if r := godottest.Lines(out, "REHASH_MISMATCH"); len(r) > 0 {
		t.Errorf("incremental table hash differs from a recomputed one after messages %v", r)
	}
	// The schedule must have exercised what it claims to.
	kinds := map[string]int{}
	for _, l := range want {
		f := strings.Fields(l)
		switch {
		case f[0] == "SNAP_DROP":
			kinds[f[2]]++
		case f[len(f)-1] == "MISMATCH":
			kinds["mismatch"]++
		case f[2] == "0":
			kinds["full"]++
		default:
			kinds["delta"]++
		}
	}
	t.Logf("%d messages: %v, %d merging others, %d on a baseline %d or more older", len(msgs), kinds, merges, farBase, game.KeepTables)
	if merges < 20 {
		t.Errorf("only %d snapshots merge others", merges)
	}
	if farBase < 5 {
		t.Errorf("only %d snapshots on a baseline kept beyond the last %d tables", farBase, game.KeepTables)
	}
	for _, k := range []string{"full", "delta", "baseline", "duplicate", "stale", "short", "range", "zstd", "too_large", "corrupt", "mismatch"} {
		if kinds[k] == 0 {
			t.Errorf("the schedule has no %q case", k)
		}
	}
}

type liveShard struct {
	*shard.Live
	port   int
	inputs *atomic.Int64 // CmdInput commands the shard applied
}

// startLive starts a live shard on loopback (50 NPCs, 30 Hz, 20 snapshots/s)
// and stops it when the test ends.
func startLive(t *testing.T, key []byte) liveShard {
	t.Helper()
	inputs := new(atomic.Int64)
	live, _ := shardtest.Start(t, shard.LiveConfig{
		Addr: "127.0.0.1:0", World: ecs.Config{Seed: 1, Rate: 30}, Systems: systems.DefaultConfig(),
		Entities: 50, SnapshotRate: 20, Server: server.Config{Key: key},
		OnTick: func(_ *ecs.World, cmds []ecs.Command, _ uint64) {
			for _, c := range cmds {
				if c.Kind == ecs.CmdInput {
					inputs.Add(1)
				}
			}
		},
	})
	return liveShard{live, live.Addr().(*net.UDPAddr).Port, inputs}
}

func newKey(t *testing.T) []byte {
	key := make([]byte, game.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return key
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// TestGodotClientLive runs the stock Godot 3.2 client against a live shard
// until it has decoded 30 snapshots, and checks every one hashed to the
// server's value, deltas were used (so acks flow), and the server counted the
// client's Input messages.
func TestGodotClientLive(t *testing.T) {
	godottest.Find(t)
	key := newKey(t)
	live := startLive(t, key)
	tok := game.MintToken(key, 7, time.Now().Add(time.Hour))

	start := time.Now()
	out, err := godottest.Run(timeout(t, 40*time.Second), t, godottest.ClientDir(t),
		"--host=127.0.0.1", fmt.Sprintf("--port=%d", live.port), "--token="+tok, "--snapshots=30", "--timeout=30")
	elapsed := time.Since(start)
	st := live.Stats()
	if err != nil {
		t.Fatalf("client: %v (after %v)\n%s", err, elapsed, out)
	}
	t.Logf("client done in %v; server: tick %d, %+v", elapsed.Round(time.Millisecond), st.Tick, st.Server)
	if testing.Verbose() {
		t.Log(out)
	}

	if c := godottest.Lines(out, "CONNECTED"); len(c) != 1 {
		t.Errorf("CONNECTED lines %q", c)
	}
	if p := godottest.Lines(out, "PACKET"); len(p) != 0 {
		t.Errorf("%d PACKET lines without --dump=1", len(p))
	}
	welcome := godottest.Lines(out, "WELCOME")
	if len(welcome) != 1 {
		t.Fatalf("WELCOME lines %q\n%s", welcome, out)
	}
	var netID, wtick, rate int
	if _, err := fmt.Sscanf(welcome[0], "%d %d %d", &netID, &wtick, &rate); err != nil || netID <= 50 || rate != 30 {
		t.Errorf("WELCOME %q: want a net id past the 50 NPCs and rate 30 (%v)", welcome[0], err)
	}
	snaps := godottest.Lines(out, "SNAP")
	deltas, prevID, maxEnts := 0, 0, 0
	for _, l := range snaps {
		f := strings.Fields(l)
		if len(f) != 6 || f[5] != "match" || len(f[4]) != 16 {
			t.Errorf("SNAP %s", l)
			continue
		}
		id, _ := strconv.Atoi(f[0])
		base, _ := strconv.Atoi(f[1])
		ents, _ := strconv.Atoi(f[3])
		if id <= prevID {
			t.Errorf("SNAP %s: id not increasing (after %d)", l, prevID)
		}
		prevID = id
		if base != 0 {
			deltas++
		}
		maxEnts = max(maxEnts, ents)
	}
	if len(snaps) < 30 {
		t.Errorf("%d SNAP lines, want >= 30", len(snaps))
	}
	if deltas == 0 {
		t.Errorf("no delta snapshot: the server never adopted an ack")
	}
	if maxEnts < 2 {
		t.Errorf("client tables hold at most %d entities", maxEnts)
	}
	t.Logf("%d snapshots, %d deltas, %d drops, up to %d entities", len(snaps), deltas, len(godottest.Lines(out, "SNAP_DROP")), maxEnts)
	sum := godottest.Lines(out, "SUMMARY")
	if len(sum) != 1 || !strings.HasPrefix(sum[0], "connected=true ") || !strings.Contains(sum[0], " mismatched=0 ") {
		t.Errorf("SUMMARY %q", sum)
	}
	if st.Server.Admitted != 1 || st.Server.InputMsgs == 0 || st.Server.Snapshots < 30 || st.Server.Kicked != 0 {
		t.Errorf("server stats: admitted %d, input msgs %d, snapshots %d, kicked %d; want 1, > 0, >= 30, 0",
			st.Server.Admitted, st.Server.InputMsgs, st.Server.Snapshots, st.Server.Kicked)
	}
	if n := live.inputs.Load(); n == 0 {
		t.Errorf("the shard applied no input command from the client")
	} else {
		t.Logf("the shard applied %d input changes from the client", n)
	}
	for r, n := range st.Server.Dropped {
		if n != 0 && r != server.DropState {
			t.Errorf("server dropped %d messages for reason %d", n, r)
		}
	}
}

// TestGodotClientBadToken: a token signed with another key gets Kick
// ReasonBadToken, which the client prints before exiting with status 3.
func TestGodotClientBadToken(t *testing.T) {
	godottest.Find(t)
	live := startLive(t, newKey(t))
	tok := game.MintToken(newKey(t), 7, time.Now().Add(time.Hour))

	out, err := godottest.Run(timeout(t, 30*time.Second), t, godottest.ClientDir(t),
		"--host=127.0.0.1", fmt.Sprintf("--port=%d", live.port), "--token="+tok, "--snapshots=30", "--timeout=15")
	if code := exitCode(err); code != 3 {
		t.Errorf("client exit: %v (code %d), want status 3 (kicked)\n%s", err, code, out)
	}
	if testing.Verbose() {
		t.Log(out)
	}
	kick := godottest.Lines(out, "KICK")
	if len(kick) != 1 || !strings.HasPrefix(kick[0], fmt.Sprintf("%d ", game.ReasonBadToken)) {
		t.Errorf("KICK lines %q, want one \"%d <text>\"\n%s", kick, game.ReasonBadToken, out)
	}
	if w := godottest.Lines(out, "WELCOME"); len(w) != 0 {
		t.Errorf("WELCOME with a bad token: %q", w)
	}
	st := live.Stats()
	if st.Server.Admitted != 0 || st.Server.Kicked != 1 || st.Server.Dropped[server.DropBadToken] != 1 {
		t.Errorf("server stats: admitted %d, kicked %d, bad tokens %d; want 0, 1, 1",
			st.Server.Admitted, st.Server.Kicked, st.Server.Dropped[server.DropBadToken])
	}
}
