package replay_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/replay"
)

// Record three ticks with a keyframe, then read them back, as `verify` would.
func Example() {
	var file bytes.Buffer
	h := replay.Header{
		Scenario:  replay.Scenario{Name: "duel", Seed: 7, Rate: 60, ArenaW: 20_000_000, ArenaH: 20_000_000, Entities: 2, SimVersion: 1},
		StartTick: 1,
	}
	w, err := replay.NewWriter(&file, h, []byte("initial world"), replay.WriterOptions{})
	if err != nil {
		log.Fatal(err)
	}
	ticks := [][]ecs.Command{
		{{Kind: ecs.CmdJoin, Arg: 1001}, {Kind: ecs.CmdJoin, Arg: 1002}},
		{{Kind: ecs.CmdInput, Player: 1, Input: ecs.Input{MoveX: 127, Buttons: ecs.ButtonRun}}},
		nil,
	}
	for i, cmds := range ticks {
		tick := uint64(1 + i)
		if err := w.WriteTick(tick, cmds, 0xabc0+tick); err != nil { // hash from ecs.Hash in real use
			log.Fatal(err)
		}
	}
	if err := w.WriteKeyframe(3, []byte("world after tick 3")); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	r, err := replay.Open(bytes.NewReader(file.Bytes()), int64(file.Len()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: keyframe every %d ticks\n", r.Header().Scenario.Name, r.Header().Scenario.KeyframeEvery)
	it := r.Ticks(0)
	for it.Next() {
		rec := it.Tick()
		fmt.Printf("tick %d: %d commands, hash %#x\n", rec.Tick, len(rec.Commands), rec.Hash)
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
	for _, k := range r.Keyframes() {
		snap, _ := r.Keyframe(k.Tick)
		fmt.Printf("keyframe %d: %q\n", k.Tick, snap)
	}

	// A writer killed before Close leaves a truncated file whose complete blocks read.
	cut := file.Bytes()[:file.Len()-40]
	r, err = replay.Open(bytes.NewReader(cut), int64(len(cut)))
	if err != nil {
		log.Fatal(err)
	}
	var te *replay.TruncatedError
	fmt.Println(errors.As(r.Err(), &te), te.AfterTick)
	// Output:
	// duel: keyframe every 300 ticks
	// tick 1: 2 commands, hash 0xabc1
	// tick 2: 1 commands, hash 0xabc2
	// tick 3: 0 commands, hash 0xabc3
	// keyframe 3: "world after tick 3"
	// true 3
}
