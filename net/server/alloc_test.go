package server_test

import (
	"testing"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/enet/enettest"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/net/server"
)

// TestIdleTickAllocs: a tick's Poll and Broadcast with no traffic allocate nothing (the
// counters are published by copy, not by a fresh Stats per call).
func TestIdleTickAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	srv, err := server.New(enettest.NewNetwork(1).Listen(), server.Config{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	w := ecs.New(ecs.Config{Seed: 1})
	var cmds []ecs.Command
	for range game.DefaultFrameHistory + 6 { // fill the frame ring once
		srv.Broadcast(w)
	}
	if n := testing.AllocsPerRun(50, func() {
		cmds = srv.Poll(cmds[:0])
		srv.Broadcast(w)
	}); n != 0 {
		t.Errorf("an idle tick allocates %v times", n)
	}
}
