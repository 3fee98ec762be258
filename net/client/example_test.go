package client_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/client"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/systems"
)

// A client connects to a live shard with a token minted from the server's key, steers
// its entity and reads its table; a bad token gets it kicked with a reason.
func Example() {
	key := []byte("0123456789abcdef0123456789abcdef")
	live, err := shard.StartLive(shard.LiveConfig{
		Addr: "127.0.0.1:0", World: ecs.Config{Seed: 1, Rate: 30}, Systems: systems.DefaultConfig(),
		Entities: 10, Server: server.Config{Key: key},
	})
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go live.Run(ctx)
	addr := live.Addr().String()

	token := game.MintToken(key, 1, time.Now().Add(time.Hour))
	c, err := client.Dial(ctx, addr, token, client.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	w := c.Welcome()
	fmt.Printf("welcome: %d Hz, %d snapshots/s\n", w.TickRate, w.SnapshotRate)
	c.SetInput(ecs.Input{MoveX: 127})

	// Wait until the table holds the world: the 10 NPCs and our own entity.
	for n := 0; n != 11; time.Sleep(10 * time.Millisecond) {
		c.Table(func(t *game.Table) {
			if t != nil {
				n = t.Len()
			}
		})
	}
	c.Table(func(t *game.Table) {
		_, ok := t.Get(w.NetID)
		fmt.Println("own entity in the table:", ok)
	})

	_, err = client.Dial(ctx, addr, "not a token", client.Options{})
	var kick *client.KickError
	fmt.Println(errors.Is(err, client.ErrKicked), errors.As(err, &kick) && kick.Reason == game.ReasonBadToken)
	// Output:
	// welcome: 30 Hz, 20 snapshots/s
	// own entity in the table: true
	// true true
}
