package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/godot"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard/shadow"
)

func init() {
	register("shadow", "follow a live shard as a verified hot standby; take over when it dies", runShadow)
}

func runShadow(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("shadow", "--primary ADDR [--addr CLIENT_ADDR] [--rank N] [--timeout 1s] [--key-file F]", stderr)
	primary := fs.String("primary", "", "sync address of the primary (serve --shadow-addr) (required)")
	addr := fs.String("addr", "127.0.0.1:7778", "UDP address to serve clients on once promoted")
	syncAddr := fs.String("sync-addr", "127.0.0.1:0", "UDP address of this shadow's sync port (other shadows attach here once it is promoted)")
	rank := fs.Uint("rank", 1, "take-over priority, 0..255: the highest rank alive takes over first")
	timeout := fs.Duration("timeout", shadow.DefaultTimeout, "primary silence that starts a take-over")
	backlog := fs.Int("max-backlog", shadow.DefaultMaxBacklog, "ticks waiting to be stepped before the shadow drops them and resyncs")
	gv := fs.Int("godot", 3, "Godot multiplayer framing of the clients once promoted: 3 or 4")
	grace := fs.Duration("session-grace", 0, "once promoted, how long the entity of a client of the old primary waits for it to reconnect (0: the server's input timeout, 10 s)")
	duration := fs.Duration("duration", 0, "stop after this long (0: until interrupted)")
	relay := fs.Bool("relay", false, "serve clients the primary redirects (serve --max-local-clients) on --addr while still a shadow: their inputs go to the primary, their snapshots come from this shadow's verified world")
	snapRate := fs.Uint("snapshot-rate", 20, "with --relay, and once promoted: snapshots per second to each client (at most the tick rate)")
	loadKey := keyFlag(fs)
	if code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	switch {
	case *primary == "":
		fmt.Fprintln(stderr, "shardsim shadow: --primary is required")
		fs.Usage()
		return 2
	case *rank > 255:
		fmt.Fprintln(stderr, "shardsim shadow: --rank must be in [0, 255]")
		return 2
	case *timeout <= 0 || *backlog <= 0 || *duration < 0 || *grace < 0:
		fmt.Fprintln(stderr, "shardsim shadow: --timeout and --max-backlog must be positive")
		return 2
	case !godot.Version(*gv).Valid():
		fmt.Fprintf(stderr, "shardsim shadow: --godot must be 3 or 4, not %d\n", *gv)
		return 2
	}
	key, keyPath, err := loadKey()
	if err != nil {
		fmt.Fprintf(stderr, "shardsim shadow: %v\n", err)
		return 1
	}
	var logMu, outMu sync.Mutex
	var firstLive atomic.Bool
	logf := func(format string, a ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		fmt.Fprintf(stderr, format+"\n", a...)
	}
	sh, err := shadow.NewShadow(shadow.ShadowOptions{
		Primary:      *primary,
		SyncAddr:     *syncAddr,
		ClientAddr:   *addr,
		Rank:         uint8(*rank),
		Timeout:      *timeout,
		MaxBacklog:   *backlog,
		Server:       server.Config{Godot: godot.Version(*gv), Key: key},
		SessionGrace: *grace,
		Relay:        *relay,
		SnapshotRate: uint16(min(*snapRate, 65535)),
		Logf:         logf,
		// Parseable lines for scripts and tests: the take-over tick and hash (compare
		// with a replay of the primary's recording), and the first tick served.
		OnPromote: func(p shadow.Promotion) {
			outMu.Lock()
			defer outMu.Unlock()
			fmt.Fprintf(stdout, "promoted: tick=%d hash=%016x clients=%s sync=%s planned=%v sessions=%d\n", p.Tick, p.Hash, p.ClientAddr, p.SyncAddr, p.Planned, p.Sessions)
		},
		OnLiveTick: func(w *ecs.World, _ []ecs.Command, _ uint64) {
			if !firstLive.Swap(true) {
				outMu.Lock()
				defer outMu.Unlock()
				fmt.Fprintf(stdout, "first promoted tick %d\n", w.G.Tick)
			}
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "shardsim shadow: %v\n", err)
		return 1
	}
	defer sh.Close()
	outMu.Lock()
	fmt.Fprintf(stdout, "shadow rank %d following %s (sync port %s, clients on %s once promoted, key %s)\n", *rank, *primary, sh.SyncAddr(), sh.ClientAddr(), keyPath)
	outMu.Unlock()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	done := make(chan error, 1)
	go func() { done <- sh.Run(ctx) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	term := isTerminal(stderr)
	for {
		select {
		case err := <-done:
			outMu.Lock()
			defer outMu.Unlock()
			st := sh.Stats()
			if term {
				fmt.Fprintln(stderr)
			}
			fmt.Fprintf(stdout, "stopped at tick %d: %d ticks compared, %d mismatches, %d divergences, %d resyncs, %d keyframes\n",
				st.Tick, st.Compared, st.Mismatches, st.Divergences, st.Resyncs, st.Keyframes)
			if st.Last != nil {
				fmt.Fprintf(stdout, "last divergence: %s\n", st.Last)
			}
			if p := st.Promoted; p != nil {
				lst := sh.Live().Stats()
				fmt.Fprintf(stdout, "took over after tick %d (hash %016x); served clients on %s up to tick %d\n", p.Tick, p.Hash, p.ClientAddr, lst.Tick)
			} else {
				fmt.Fprintln(stdout, "not promoted")
			}
			if err != nil {
				fmt.Fprintf(stderr, "shardsim shadow: %v\n", err)
				return 1
			}
			return 0
		case <-tick.C:
			var line string
			if live := sh.Live(); live != nil {
				lst := live.Stats()
				line = fmt.Sprintf("shadow: promoted; tick %d, %d entities, %d clients, %d shadows; sessions: %d taken over, %d waiting, %d expired",
					lst.Tick, lst.Entities, lst.Server.Clients, sh.Primary().Stats().Shadows, lst.Server.Reclaimed, lst.Server.Orphans, lst.Server.Expired)
			} else {
				st := sh.Stats()
				line = fmt.Sprintf("shadow: tick %d, %d compared, %d mismatches, primary %s, synced %v, %d sessions", st.Tick, st.Compared, st.Mismatches, st.Primary, st.Synced, st.Sessions)
				if *relay {
					line += fmt.Sprintf("; relaying %d clients, %d snapshots sent", st.Relay.Clients, st.Relay.Snapshots)
				}
			}
			logMu.Lock()
			if term {
				fmt.Fprintf(stderr, "\r%s\033[K", line)
			} else {
				fmt.Fprintln(stderr, line)
			}
			logMu.Unlock()
		}
	}
}
