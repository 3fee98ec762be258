package e2e

// Protocol version 5 (cell streams) in the Godot client: protocol.gd's cell decoder
// against game.CellDecoder on the same messages, and the client with --protocol=5
// against a live shard.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"

	"github.com/shardsim/shardsim/clients/godot/godottest"
	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/systems"
)

// cellState is what the client holds after a message, as decodeCellsGD prints it: the
// distinct entities of the newest copies of the cells (CellDecoder.Each), their count
// and table hash.
func cellState(d *game.CellDecoder) string {
	var sum uint64
	n := 0
	d.Each(func(id uint16, e *game.Entity) {
		sum += game.HashEntity(ecs.NetID(id), e)
		n++
	})
	return fmt.Sprintf("%d %016x", n, ecs.HashFinal(sum+uint64(n)))
}

// decodeCellsGD feeds msgN.bin to protocol.gd's apply_cell_snapshot in order and
// prints, per message, its line, its ack and its state afterwards.
const decodeCellsGD = `extends SceneTree
const Protocol = preload("res://protocol.gd")
func _initialize():
	var p = Protocol.new()
	p.version = 5
	var us := 0
	for i in range(%d):
		var f := File.new()
		if f.open("res://msg%%d.bin" %% i, File.READ) != OK:
			print("OPEN_ERROR %%d" %% i)
			continue
		var data := f.get_buffer(f.get_len())
		f.close()
		var t0 := OS.get_ticks_usec()
		var out: String = p.on_packet(data)[0]
		us += OS.get_ticks_usec() - t0
		for line in out.split("\n"):
			print("CASE %%d %%s" %% [i, line])
		var a = p.ack()
		print("ACK %%d %%d %%d" %% [i, a[0], a[1]])
		print("STATE %%d %%d %%s" %% [i, p.entities(), Protocol.hex64(p.cell_hash())])
	print("ELAPSED_US %%d" %% us)
	print("DONE")
	quit(0)
`

// TestCellDecoderMatchesGo encodes a real world's cell-stream snapshots with the
// server's encoder (losses, late acks, snapshots naming copies not yet received,
// joins and leaves, damaged messages) and checks that protocol.gd, run by the real
// engine, decides for every message what game.CellDecoder decides, acks the same, and
// holds the same entities.
func TestCellDecoderMatchesGo(t *testing.T) {
	godottest.Find(t)
	w, sim, err := shard.NewWorld(&shard.HeadlessConfig{World: ecs.Config{Seed: 3, Rate: 30}, Systems: systems.DefaultConfig(), Entities: 60})
	if err != nil {
		t.Fatal(err)
	}
	ring, enc, view, dec := game.NewFrameRing(0), game.NewCellEncoder(), game.NewCellView(1), game.NewCellDecoder()
	var msgs [][]byte
	var want, wantAck, wantState []string
	deliver := func(msg []byte) {
		msgs = append(msgs, msg)
		h, _, herr := game.ParseCellSnapshotHeader(msg)
		_, err := dec.Apply(msg)
		switch {
		case err == nil:
			want = append(want, fmt.Sprintf("%d %d %016x match", h.ID, h.Tick, h.Hash))
		case errors.Is(err, game.ErrHashMismatch):
			want = append(want, fmt.Sprintf("%d %d %016x MISMATCH", h.ID, h.Tick, h.Hash))
		case herr != nil && errors.Is(err, game.ErrShort):
			want = append(want, "SNAP_DROP 0 short")
		default:
			want = append(want, fmt.Sprintf("SNAP_DROP %d %s", h.ID, dropReason(err)))
		}
		a := dec.Ack()
		wantAck = append(wantAck, fmt.Sprintf("%d %d", a.Newest, a.Bits))
		wantState = append(wantState, cellState(dec))
	}
	next := func(cmds []ecs.Command) []byte {
		sim.Step(w, cmds)
		msg, err := enc.AppendSnapshot(nil, ring.Capture(w), view)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	var held [][]byte
	var lagged []game.Ack
	var old [][]byte
	var last []byte // the last snapshot delivered
	for i := range 200 {
		var cmds []ecs.Command
		switch i {
		case 40, 41, 42:
			cmds = append(cmds, ecs.Command{Kind: ecs.CmdLeave, Player: ecs.NetID(5 + i)})
		case 70:
			for k := range 4 {
				cmds = append(cmds, ecs.Command{Kind: ecs.CmdJoin, Arg: uint32(k + 1)})
			}
		}
		msg := next(cmds)
		old = append(old, msg)
		h, _, _ := game.ParseCellSnapshotHeader(msg)
		switch {
		case i == 90 || i == 91:
			// Pretend the client acked these before they arrived: the next snapshot
			// names copies of them (baseline missing), then all arrive.
			held = append(held, msg)
			view.Ack(game.Ack{Newest: h.ID})
			continue
		case i == 92:
			deliver(msg)
			for _, m := range held {
				deliver(m)
			}
			deliver(msg)
		case i%7 == 3: // lost
			continue
		default:
			deliver(msg)
		}
		last = msg
		switch {
		case i >= 100 && i < 140: // acks three snapshots late
			lagged = append(lagged, dec.Ack())
			if len(lagged) > 3 {
				view.Ack(lagged[0])
				lagged = lagged[1:]
			}
		case i >= 140 && i < 180: // acks 20 late
			lagged = append(lagged, dec.Ack())
			if len(lagged) > 20 {
				view.Ack(lagged[0])
				lagged = lagged[1:]
			}
		case i%5 != 2: // some acks are lost too
			view.Ack(dec.Ack())
		}
	}
	// Damaged and late messages.
	damaged := func(f func(b []byte)) []byte {
		b := append([]byte{}, last...)
		f(b)
		return b
	}
	deliver(last)                                                                      // duplicate
	deliver(old[10])                                                                   // stale
	deliver(last[:20])                                                                 // short
	deliver(damaged(func(b []byte) { clear(b[1:5]) }))                                 // id 0: range
	deliver(damaged(func(b []byte) { b[1]++; b[25] ^= 0xff }))                         // new id, broken zstd frame (magic)
	deliver(damaged(func(b []byte) { b[1] += 2; copy(b[21:25], []byte{1, 0, 1, 0}) })) // too large
	// Snapshots not delivered yet: one whose hash is wrong, and payloads that
	// decompress but do not parse (re-framed with their new size); each then arrives
	// intact.
	repayload := func(msg []byte, f func(p []byte) []byte) []byte {
		h, frame, err := game.ParseCellSnapshotHeader(msg)
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
		h.Size = uint32(len(p))
		ze, _ := zstd.NewWriter(nil)
		return ze.EncodeAll(p, game.AppendCellSnapshotHeader(nil, &h))
	}
	for k, f := range []func(b []byte) []byte{
		func(b []byte) []byte { b[13] ^= 1; return b },                                               // the hash: mismatch
		func(b []byte) []byte { return repayload(b, func(p []byte) []byte { return append(p, 0) }) }, // a trailing byte: a block cut short
		func(b []byte) []byte { return repayload(b, func(p []byte) []byte { return p[:len(p)-1] }) }, // the last block cut short
		func(b []byte) []byte {
			return repayload(b, func(p []byte) []byte { return append(append(p[:7:7], 0x80, 0x80, 0x01), p[8:]...) })
		}, // the first block's cell: MaxCells
		func(b []byte) []byte { return repayload(b, func(p []byte) []byte { return p[:6] }) }, // no parameter section
	} {
		msg := next(nil)
		deliver(f(append([]byte{}, msg...)))
		deliver(msg)
		if k%2 == 0 {
			view.Ack(dec.Ack())
		}
	}

	files := map[string][]byte{"decode.gd": fmt.Appendf(nil, decodeCellsGD, len(msgs))}
	for i, m := range msgs {
		files[fmt.Sprintf("msg%d.bin", i)] = m
	}
	dir := newProject(t, files)
	start := time.Now()
	out, err := godottest.Run(timeout(t, 60*time.Second), t, dir, "-s", "res://decode.gd", "--")
	if err != nil || !strings.Contains(out, "\nDONE") {
		t.Fatalf("godot: %v\n%s", err, out)
	}
	t.Logf("Godot ran in %v; apply_cell_snapshot took %v µs in all for %d messages",
		time.Since(start).Round(time.Millisecond), godottest.Lines(out, "ELAPSED_US"), len(msgs))
	if testing.Verbose() {
		t.Log(out)
	}

	var got, gotAck, gotState []string
	kinds := map[string]int{}
	for _, l := range godottest.Lines(out, "CASE") {
		_, rest, _ := strings.Cut(l, " ")
		f := strings.Fields(rest)
		switch {
		case f[0] == "SNAP_HASH":
			continue
		case f[0] == "CSNAP" && len(f) == 8:
			// CSNAP id tick blocks deltas entities hash status: Go's decoder gives the
			// header's hash (the one a match equals); a mismatch prints the one decoded.
			blocks, _ := strconv.Atoi(f[3])
			deltas, _ := strconv.Atoi(f[4])
			if f[7] == "match" {
				kinds["blocks"] += blocks
				kinds["deltas"] += deltas
				got = append(got, strings.Join([]string{f[1], f[2], f[6], f[7]}, " "))
				continue
			}
			kinds["mismatch"]++
			got = append(got, f[1]+" "+f[2]+" ? "+f[7])
			continue
		case f[0] == "SNAP_DROP":
			kinds[f[len(f)-1]]++
		}
		got = append(got, rest)
	}
	for i, w := range want { // a mismatch line: the decoded hash differs from the header's
		if f := strings.Fields(w); len(f) == 4 && f[3] == "MISMATCH" {
			want[i] = f[0] + " " + f[1] + " ? MISMATCH"
		}
	}
	for _, l := range godottest.Lines(out, "ACK") {
		_, rest, _ := strings.Cut(l, " ")
		gotAck = append(gotAck, rest)
	}
	for _, l := range godottest.Lines(out, "STATE") {
		_, rest, _ := strings.Cut(l, " ")
		gotState = append(gotState, rest)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Godot's cell decoder differs from Go's (-go +godot):\n%s", diff)
	}
	if diff := cmp.Diff(wantAck, gotAck); diff != "" {
		t.Errorf("Godot's acks differ from Go's (-go +godot):\n%s", diff)
	}
	if diff := cmp.Diff(wantState, gotState); diff != "" {
		t.Errorf("Godot's entities differ from Go's (-go +godot):\n%s", diff)
	}
	t.Logf("%d messages: %v", len(msgs), kinds)
	for _, k := range []string{"blocks", "deltas", "baseline", "duplicate", "stale", "short", "range", "zstd", "too_large", "corrupt", "mismatch"} {
		if kinds[k] == 0 {
			t.Errorf("the schedule has no %q case", k)
		}
	}
	if kinds["deltas"] == kinds["blocks"] {
		t.Errorf("no block coded against no copy")
	}
}

// TestGodotClientCellsLive runs the Godot client with --protocol=5 against a live
// shard (50 NPCs, 30 Hz, 20 snapshots/s) until it has applied 30 cell snapshots,
// and checks every one hashed to the server's value, blocks were coded against
// copies the client acked, and the server counted the client's Input messages.
func TestGodotClientCellsLive(t *testing.T) {
	godottest.Find(t)
	key := newKey(t)
	live := startLive(t, key)
	port := live.port
	tok := game.MintToken(key, 7, time.Now().Add(time.Hour))

	start := time.Now()
	out, err := godottest.Run(timeout(t, 40*time.Second), t, godottest.ClientDir(t),
		"--host=127.0.0.1", fmt.Sprintf("--port=%d", port), "--token="+tok, "--protocol=5", "--snapshots=30", "--timeout=30")
	elapsed := time.Since(start)
	st := live.Stats()
	if err != nil {
		t.Fatalf("client: %v (after %v)\n%s", err, elapsed, out)
	}
	t.Logf("client done in %v; server: tick %d, %+v", elapsed.Round(time.Millisecond), st.Tick, st.Server)
	if testing.Verbose() {
		t.Log(out)
	}
	if w := godottest.Lines(out, "WELCOME"); len(w) != 1 {
		t.Fatalf("WELCOME lines %q\n%s", w, out)
	}
	if s := godottest.Lines(out, "SNAP"); len(s) != 0 {
		t.Errorf("version 4 SNAP lines with --protocol=5: %q", s)
	}
	snaps := godottest.Lines(out, "CSNAP")
	prevID, deltas, maxEnts := 0, 0, 0
	for _, l := range snaps {
		f := strings.Fields(l)
		if len(f) != 7 || f[6] != "match" || len(f[5]) != 16 {
			t.Errorf("CSNAP %s", l)
			continue
		}
		id, _ := strconv.Atoi(f[0])
		d, _ := strconv.Atoi(f[3])
		ents, _ := strconv.Atoi(f[4])
		if id <= prevID {
			t.Errorf("CSNAP %s: id not increasing (after %d)", l, prevID)
		}
		prevID = id
		deltas += d
		maxEnts = max(maxEnts, ents)
	}
	if len(snaps) < 30 {
		t.Errorf("%d CSNAP lines, want >= 30", len(snaps))
	}
	if deltas == 0 {
		t.Errorf("no block against a copy: the server never took an ack")
	}
	t.Logf("%d snapshots, %d blocks against copies, %d drops, up to %d entities", len(snaps), deltas, len(godottest.Lines(out, "SNAP_DROP")), maxEnts)
	sum := godottest.Lines(out, "SUMMARY")
	var packets, n, matched, mismatched, ents int
	if len(sum) != 1 {
		t.Fatalf("SUMMARY %q", sum)
	}
	if _, err := fmt.Sscanf(sum[0], "connected=true packets=%d snapshots=%d matched=%d mismatched=%d entities=%d",
		&packets, &n, &matched, &mismatched, &ents); err != nil {
		t.Fatalf("SUMMARY %q: %v", sum[0], err)
	}
	if n < 30 || matched != n || mismatched != 0 || ents < 2 {
		t.Errorf("SUMMARY %q: want >= 30 snapshots, all matched, >= 2 entities", sum[0])
	}
	if st.Server.Admitted != 1 || st.Server.InputMsgs == 0 || st.Server.Snapshots < 30 || st.Server.Kicked != 0 {
		t.Errorf("server stats: admitted %d, input msgs %d, snapshots %d, kicked %d; want 1, > 0, >= 30, 0",
			st.Server.Admitted, st.Server.InputMsgs, st.Server.Snapshots, st.Server.Kicked)
	}
	for r, n := range st.Server.Dropped {
		if n != 0 && r != server.DropState {
			t.Errorf("server dropped %d messages for reason %d", n, r)
		}
	}
}
