package bots_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/bots"
	"github.com/shardsim/shardsim/net/client"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/shard/shardtest"
	"github.com/shardsim/shardsim/systems"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func startLive(t *testing.T) *shard.Live {
	t.Helper()
	live, _ := shardtest.Start(t, shard.LiveConfig{
		Addr: "127.0.0.1:0", World: ecs.Config{Seed: 1, Rate: 30}, Systems: systems.DefaultConfig(),
		Entities: 50, Server: server.Config{Key: key},
	})
	return live
}

func TestRun(t *testing.T) {
	live := startLive(t)
	var progress atomic.Int64
	cfg := bots.Config{
		Server: live.Addr().String(), Key: key, Clients: 20, Duration: 3 * time.Second, Ramp: time.Second, Seed: 5,
		Progress: func(p bots.Progress) {
			progress.Add(1)
			t.Logf("%+v", p)
		},
	}
	r, err := bots.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	if r.Connected != 20 || r.Failed != 0 || r.Ended != 0 {
		t.Errorf("connected %d, failed %d (%v), ended %d (%v)", r.Connected, r.Failed, r.Failures, r.Ended, r.EndReason)
	}
	if r.Snapshots == 0 || r.Applied == 0 || r.Bad != 0 || r.Delivery <= 0 || r.Delivery > 1 || r.SnapshotsPerSec.Min <= 0 {
		t.Errorf("snapshots: %+v", r)
	}
	if r.DownBytesPerSec.Min <= 0 || r.UpBytesPerSec.Min <= 0 || r.RTTP99 < r.RTTP50 {
		t.Errorf("bytes or rtt: %+v", r)
	}
	// The server's default budget holds each client's downlink to 64 kbit/s of ENet
	// datagrams, framing included; 3 s also carry the Welcome and the full first
	// snapshots (the token bucket starts full), hence a little slack.
	if down := r.DownBytesPerSec.Max * 8; down > server.DownlinkBitsPerSec*1.05 {
		t.Errorf("down %.0f bit/s for a client, want ≤ %d", down, server.DownlinkBitsPerSec)
	}
	if progress.Load() == 0 {
		t.Error("no progress report")
	}
	if st := live.Stats().Server; st.Admitted != 20 {
		t.Errorf("server admitted %d", st.Admitted)
	}

	// With the wrong key every bot is kicked, and the report says why.
	cfg.Key, cfg.Clients, cfg.Duration, cfg.Ramp, cfg.Progress = []byte("the wrong key, but long enough.."), 3, time.Second, 0, nil
	r, err = bots.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Connected != 0 || r.Failed != 3 || len(r.Failures) != 1 || r.Failures[0] != (bots.Failure{Reason: "kicked: bad token", Count: 3}) {
		t.Errorf("wrong key: %+v", r)
	}
}

// TestRunParallelEncode: with enough clients the server encodes their snapshots on
// several goroutines; every bot still decodes every snapshot it gets, table hash
// included (a view used by two goroutines at once, or a mixed-up buffer, shows as Bad).
func TestRunParallelEncode(t *testing.T) {
	live, _ := shardtest.Start(t, shard.LiveConfig{
		Addr: "127.0.0.1:0", World: ecs.Config{Seed: 2, Rate: 20}, Systems: systems.DefaultConfig(),
		Entities: 50, Server: server.Config{Key: key, EncodeWorkers: 3},
	})
	const clients = 120 // ≥ 32 per worker
	r, err := bots.Run(context.Background(), bots.Config{
		Server: live.Addr().String(), Key: key, Clients: clients, Duration: 3 * time.Second, Ramp: 500 * time.Millisecond, Seed: 9,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Connected != clients || r.Failed != 0 || r.Ended != 0 {
		t.Errorf("connected %d, failed %d (%v), ended %d (%v)", r.Connected, r.Failed, r.Failures, r.Ended, r.EndReason)
	}
	if r.Snapshots == 0 || r.Applied != r.Snapshots || r.Bad != 0 {
		t.Errorf("snapshots %d, applied %d, bad %d", r.Snapshots, r.Applied, r.Bad)
	}
	if st := live.Stats().Server; st.Snapshots < int64(r.Snapshots) {
		t.Errorf("server counted %d snapshots, bots got %d", st.Snapshots, r.Snapshots)
	}
}

// TestRunDecodeEvery: one bot in four decodes; the others follow the snapshots from
// their headers, and the server sees no difference: every bot gets snapshots, none
// is refused for a baseline it lacks.
func TestRunDecodeEvery(t *testing.T) {
	live := startLive(t)
	r, err := bots.Run(context.Background(), bots.Config{
		Server: live.Addr().String(), Key: key, Clients: 20, Duration: 3 * time.Second, Ramp: 500 * time.Millisecond, Seed: 3,
		DecodeEvery: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	if r.Connected != 20 || r.Decoders != 5 {
		t.Errorf("connected %d, decoders %d; want 20 and 5", r.Connected, r.Decoders)
	}
	if r.Applied == 0 || r.Tracked == 0 || r.Bad != 0 || r.SnapshotsPerSec.Min <= 0 {
		t.Errorf("applied %d, tracked %d, bad %d, min %.1f snapshots/s", r.Applied, r.Tracked, r.Bad, r.SnapshotsPerSec.Min)
	}
	// Three bots in four track: about three times the snapshots applied.
	if ratio := float64(r.Tracked) / float64(r.Applied); ratio < 2 || ratio > 4.5 {
		t.Errorf("tracked/applied = %.2f, want about 3", ratio)
	}
}

// TestRunCells: bots that ask for cell streams (protocol version 5) beside bots that
// do not, on one server: every snapshot a decoding bot gets applies and hashes to the
// server's value, and the trackers ack theirs.
func TestRunCells(t *testing.T) {
	live := startLive(t)
	run := func(cells bool, first uint64, res **bots.Report, errp *error, done chan<- struct{}) {
		*res, *errp = bots.Run(context.Background(), bots.Config{
			Server: live.Addr().String(), Key: key, Clients: 12, Duration: 3 * time.Second, Ramp: 500 * time.Millisecond, Seed: 4,
			FirstClientID: first, DecodeEvery: 3, Client: client.Options{Cells: cells},
		})
		done <- struct{}{}
	}
	var rc, rd *bots.Report
	var ec, ed error
	done := make(chan struct{}, 2)
	go run(true, 1, &rc, &ec, done)
	go run(false, 100, &rd, &ed, done)
	<-done
	<-done
	for _, x := range []struct {
		name string
		r    *bots.Report
		err  error
	}{{"cells", rc, ec}, {"deltas", rd, ed}} {
		if x.err != nil {
			t.Fatalf("%s: %v", x.name, x.err)
		}
		r := x.r
		t.Logf("%s: %+v", x.name, r)
		if r.Connected != 12 || r.Applied == 0 || r.Tracked == 0 || r.Bad != 0 || r.SnapshotsPerSec.Min <= 0 {
			t.Errorf("%s: connected %d, applied %d, tracked %d, bad %d, min %.1f snapshots/s",
				x.name, r.Connected, r.Applied, r.Tracked, r.Bad, r.SnapshotsPerSec.Min)
		}
	}
}

func TestConfig(t *testing.T) {
	for _, cfg := range []bots.Config{
		{Server: "127.0.0.1:1", Key: key, Clients: 0, Duration: time.Second},
		{Server: "127.0.0.1:1", Key: key, Clients: 1},
		{Server: "127.0.0.1:1", Key: key, Clients: 1, Duration: time.Second, Ramp: 2 * time.Second},
		{Server: "127.0.0.1:1", Key: key[:8], Clients: 1, Duration: time.Second},
		{Key: key, Clients: 1, Duration: time.Second},
		{Server: "127.0.0.1:1", Key: key, Clients: 1, Duration: time.Second, DecodeEvery: -1},
	} {
		if _, err := bots.Run(context.Background(), cfg); !errors.Is(err, bots.ErrConfig) {
			t.Errorf("%+v: err = %v, want ErrConfig", cfg, err)
		}
	}
}
