package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/shardsim/shardsim/net/bots"
	"github.com/shardsim/shardsim/net/client"
	"github.com/shardsim/shardsim/net/game"
)

func init() {
	register("bots", "connect many Go bots to a shard and report how it served them", runBots)
}

func runBots(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("bots", "--server ADDR [--clients N] [--duration D] [--ramp D] [--decode-every N] [--protocol 4|5] [--json] [--key-file F] [--cpuprofile F]", stderr)
	server := fs.String("server", "", "the shard's UDP address, host:port (required)")
	clients := fs.Int("clients", 100, "number of bots")
	duration := fs.Duration("duration", 60*time.Second, "length of the run, ramp included")
	ramp := fs.Duration("ramp", 10*time.Second, "connect the bots gradually over this long")
	seed := fs.Uint64("seed", 1, "seed of the bots' wandering")
	firstID := fs.Uint64("first-client-id", 1, "token client id of the first bot (bot i gets this + i)")
	dialTimeout := fs.Duration("dial-timeout", client.DefaultDialTimeout, "how long a bot waits for its welcome")
	failover := fs.Bool("failover", true, "when the shard is lost, reconnect to the shadows it announced (highest rank first)")
	decodeEvery := fs.Int("decode-every", 1, "1 in N bots decodes its snapshots and checks their state hashes; the others ack from the headers alone, as a decoding client would (1: all decode)")
	protocol := fs.Int("protocol", game.ProtocolVersion, "snapshots the bots ask for: 4, per-client deltas (what the Godot client speaks by default), or 5, cell streams (blocks shared per cell: cheaper to serve)")
	asJSON := fs.Bool("json", false, "print the report as one JSON object on the last stdout line")
	loadKey := keyFlag(fs)
	startProfile := profileFlag(fs)
	if code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	if *server == "" {
		fmt.Fprintln(stderr, "shardsim bots: --server is required")
		fs.Usage()
		return 2
	}
	if _, _, err := net.SplitHostPort(*server); err != nil {
		fmt.Fprintf(stderr, "shardsim bots: --server: %v\n", err)
		return 2
	}
	if *clients <= 0 || *clients > 65000 {
		fmt.Fprintln(stderr, "shardsim bots: --clients must be in [1, 65000]")
		return 2
	}
	if *duration <= 0 || *ramp < 0 || *ramp > *duration || *dialTimeout <= 0 {
		fmt.Fprintln(stderr, "shardsim bots: --duration and --dial-timeout must be positive and --ramp in [0, duration]")
		return 2
	}
	if *protocol != game.ProtocolVersion && *protocol != game.CellProtocolVersion {
		fmt.Fprintf(stderr, "shardsim bots: --protocol must be %d or %d\n", game.ProtocolVersion, game.CellProtocolVersion)
		return 2
	}
	if *decodeEvery < 1 {
		fmt.Fprintln(stderr, "shardsim bots: --decode-every must be at least 1")
		return 2
	}
	if *firstID == 0 {
		fmt.Fprintln(stderr, "shardsim bots: --first-client-id must be > 0")
		return 2
	}
	key, _, err := loadKey()
	if err != nil {
		fmt.Fprintf(stderr, "shardsim bots: %v\n", err)
		return 1
	}
	stopProfile, err := startProfile()
	if err != nil {
		fmt.Fprintf(stderr, "shardsim bots: %v\n", err)
		return 1
	}
	defer stopProfile()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	term := isTerminal(stderr)
	r, err := bots.Run(ctx, bots.Config{
		Server: *server, Key: key, Clients: *clients, Duration: *duration, Ramp: *ramp,
		Seed: *seed, FirstClientID: *firstID, DecodeEvery: *decodeEvery, Client: client.Options{DialTimeout: *dialTimeout, Failover: *failover, Cells: *protocol == game.CellProtocolVersion},
		Progress: func(p bots.Progress) {
			line := fmt.Sprintf("bots: %s, %d/%d started, %d connected, %d failed, %d ended, %.1f snapshots/s, %.1f/%.1f kbit/s down/up, rtt %s",
				p.Elapsed.Round(time.Second), p.Started, *clients, p.Connected, p.Failed, p.Ended,
				p.SnapshotsPerSec, p.DownBytesPerSec*8/1000, p.UpBytesPerSec*8/1000, p.RTT)
			if term {
				fmt.Fprintf(stderr, "\r%s\033[K", line)
			} else {
				fmt.Fprintln(stderr, line)
			}
		},
	})
	if term {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "shardsim bots: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d clients against %s for %s: %d connected, %d failed, %d ended early\n",
		r.Clients, *server, r.Duration.Round(time.Millisecond), r.Connected, r.Failed, r.Ended)
	for _, f := range r.Failures {
		fmt.Fprintf(stdout, "  failed: %d × %s\n", f.Count, f.Reason)
	}
	for _, f := range r.EndReason {
		fmt.Fprintf(stdout, "  ended: %d × %s\n", f.Count, f.Reason)
	}
	if r.Reconnects > 0 {
		fmt.Fprintf(stdout, "failover: %d reconnects by %d bots, time lost p50 %.0f ms, max %.0f ms\n",
			r.Reconnects, r.Reconnected, r.ReconnectTime.P50*1000, r.ReconnectTime.Max*1000)
	}
	if r.Connected > 0 {
		fmt.Fprintf(stdout, "per client: %.1f snapshots/s (min %.1f), %.1f kbit/s down (p99 %.1f), %.1f kbit/s up\n",
			r.SnapshotsPerSec.Mean, r.SnapshotsPerSec.Min, r.DownBytesPerSec.Mean*8/1000, r.DownBytesPerSec.P99*8/1000, r.UpBytesPerSec.Mean*8/1000)
		fmt.Fprintf(stdout, "delivery %.4f by snapshot id (loss %.4f), %.4f of the announced rate; %d snapshots, %d applied, %d bad\n",
			r.Delivery, r.Loss, r.DeliveryByRate, r.Snapshots, r.Applied, r.Bad)
		if r.Tracked > 0 || r.Decoders < r.Connected {
			fmt.Fprintf(stdout, "decoding: %d of %d bots decode and check hashes; %d snapshots followed from their headers alone\n",
				r.Decoders, r.Connected, r.Tracked)
		}
		fmt.Fprintf(stdout, "rtt p50 %.0f ms, p99 %.0f ms; dial p50 %.0f ms, max %.0f ms\n",
			r.RTTP50, r.RTTP99, r.DialTime.P50*1000, r.DialTime.Max*1000)
	}
	if *asJSON {
		b, err := json.Marshal(r)
		if err != nil {
			fmt.Fprintf(stderr, "shardsim bots: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", b)
	}
	if r.Connected == 0 {
		return 1
	}
	return 0
}
