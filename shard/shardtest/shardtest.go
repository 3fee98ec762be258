// Package shardtest runs live shards in tests: started on a loopback port, stepped in the
// background, and stopped when the test ends.
package shardtest

import (
	"context"
	"sync"
	"testing"

	"github.com/shardsim/shardsim/shard"
)

// Start starts a live shard for cfg (Addr defaults to "127.0.0.1:0") and runs it until
// the test ends. The returned stop ends it earlier, waits for Run to return and reports
// its error on t; it may be called more than once.
func Start(t testing.TB, cfg shard.LiveConfig) (live *shard.Live, stop func()) {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	live, err := shard.StartLive(cfg)
	if err != nil {
		t.Fatalf("shardtest: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- live.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("shardtest: live.Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return live, stop
}
