package metrics_test

import (
	"context"
	"fmt"
	"time"

	"github.com/shardsim/shardsim/metrics"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/systems"
)

// A live shard with its figures on /metrics and profiles on /debug/pprof/.
func Example() {
	live, err := shard.StartLive(shard.LiveConfig{Addr: "127.0.0.1:0", Systems: systems.DefaultConfig(), Entities: 10, Server: server.Config{Key: make([]byte, 32)}})
	if err != nil {
		fmt.Println(err)
		return
	}
	reg := metrics.NewRegistry()
	if _, err := metrics.Register(reg, live); err != nil { // before Run
		fmt.Println(err)
		return
	}
	closeMetrics, err := metrics.Serve("127.0.0.1:0", reg) // e.g. "127.0.0.1:9090"
	if err != nil {
		fmt.Println(err)
		return
	}
	defer closeMetrics()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	fmt.Println(live.Run(ctx))
	// Output: <nil>
}
