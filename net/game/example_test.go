package game_test

import (
	"fmt"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/game"
)

func ExampleMintToken() {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_700_000_000, 0)
	tok := game.MintToken(key, 42, now.Add(time.Hour))
	id, err := game.VerifyToken(key, []byte(tok), now)
	fmt.Println(id, err)
	_, err = game.VerifyToken(key, []byte(tok), now.Add(2*time.Hour))
	fmt.Println(err)
	// Output:
	// 42 <nil>
	// game: connect token expired
}

func ExampleAppendInput() {
	m := game.InputMsg{Ack: game.Ack{Newest: 7, Bits: 0b11}, N: 1}
	m.Inputs[0] = game.SeqInput{Seq: 100, In: ecs.Input{MoveX: 127, Buttons: ecs.ButtonRun}}
	b := game.AppendInput(nil, &m)
	got, err := game.ParseInput(b)
	fmt.Printf("%d bytes, %v, newest %d, input %+v\n", len(b), err, got.Ack.Newest, got.Inputs[0])
	// Output: 18 bytes, <nil>, newest 7, input {Seq:100 In:{MoveX:127 MoveY:0 Buttons:1 Emote:0}}
}

// A server captures the world once per snapshot tick and encodes a snapshot per client;
// the client applies it and acks; the next snapshot is a delta on the acked one.
func Example_snapshot() {
	w := ecs.New(ecs.Config{Seed: 1})
	self := w.Spawn(ecs.Spawn{Pos: ecs.Position{X: 10_000_000, Y: 10_000_000}})
	w.Spawn(ecs.Spawn{Pos: ecs.Position{X: 12_000_000, Y: 10_000_000}})

	ring := game.NewFrameRing(0)
	enc := game.NewEncoder()
	view := game.NewClientView(self)
	dec := game.NewDecoder()

	for range 2 {
		f := ring.Capture(w)
		msg, err := enc.AppendSnapshot(nil, f, view)
		if err != nil {
			panic(err)
		}
		tbl, err := dec.Apply(msg)
		if err != nil {
			panic(err)
		}
		view.Ack(ring, dec.Ack())
		h, _, _ := game.ParseSnapshotHeader(msg)
		fmt.Printf("snapshot %d on %d: %d records, %d entities, hash matches server: %v\n",
			h.ID, h.Base, enc.Stats.Records, tbl.Len(), tbl.Hash() == f.Hash())

		e, _ := w.Entity(self) // move: the next snapshot carries only that change
		ecs.Get[ecs.Position](w, e, w.C.Pos).X += 500_000
		w.G.Tick++
	}
	// Output:
	// snapshot 1 on 0: 2 records, 2 entities, hash matches server: true
	// snapshot 2 on 1: 1 records, 2 entities, hash matches server: true
}

// HeadingOf is the heading an entity's velocity points to: what the Head field of a
// snapshot record is coded against.
func ExampleHeadingOf() {
	fmt.Println(game.HeadingOf(10, 0), game.HeadingOf(0, 10), game.HeadingOf(-10, 0), game.HeadingOf(7, 7), game.HeadingOf(0, 0))
	// Output: 0 64 128 32 0
}

// A load generator's client follows snapshots from their headers with a Tracker and
// acks what a decoding client would hold: the server's view adopts its acks as
// baselines all the same.
func ExampleTracker() {
	w := ecs.New(ecs.Config{Seed: 1})
	self := w.Spawn(ecs.Spawn{Pos: ecs.Position{X: 10_000_000, Y: 10_000_000}})
	w.Spawn(ecs.Spawn{Pos: ecs.Position{X: 12_000_000, Y: 10_000_000}})

	ring := game.NewFrameRing(0)
	enc := game.NewEncoder()
	view := game.NewClientView(self)
	var tr game.Tracker

	for range 3 {
		f := ring.Capture(w)
		msg, err := enc.AppendSnapshot(nil, f, view)
		if err != nil {
			panic(err)
		}
		h, err := tr.Apply(msg)
		fmt.Printf("snapshot %d on baseline %d: %v; ack %+v\n", h.ID, h.Base, err, tr.Ack())
		_, err = tr.Apply(msg) // the same datagram twice
		fmt.Println("again:", err)
		view.Ack(ring, tr.Ack())
		w.G.Tick++
	}
	// Output:
	// snapshot 1 on baseline 0: <nil>; ack {Newest:1 Bits:0}
	// again: game: duplicate snapshot
	// snapshot 2 on baseline 1: <nil>; ack {Newest:2 Bits:1}
	// again: game: duplicate snapshot
	// snapshot 3 on baseline 2: <nil>; ack {Newest:3 Bits:3}
	// again: game: duplicate snapshot
}
