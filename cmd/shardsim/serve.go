package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shardsim/shardsim/art"
	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/metrics"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/net/godot"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/shard/shadow"
	"github.com/shardsim/shardsim/systems"
)

func init() {
	register("serve", "run a live shard that Godot clients and bots connect to", runServe)
	register("token", "print a connect token for a client", runToken)
}

// keyFlag adds --key-file and returns a loader for the key it names.
// profileFlag defines --cpuprofile on fs. The function it returns starts the profile
// the flag asks for (if any) and returns the function that stops it and closes the
// file.
func profileFlag(fs *flag.FlagSet) func() (stop func(), err error) {
	path := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	return func() (func(), error) {
		if *path == "" {
			return func() {}, nil
		}
		f, err := os.Create(*path)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		return func() {
			pprof.StopCPUProfile()
			f.Close()
		}, nil
	}
}

func keyFlag(fs *flag.FlagSet) func() ([]byte, string, error) {
	path := fs.String("key-file", "", "HMAC key signing connect tokens (default: server.key under the user config dir, created 0600 on first use)")
	return func() ([]byte, string, error) {
		p := *path
		if p == "" {
			var err error
			if p, err = game.DefaultKeyPath(); err != nil {
				return nil, "", err
			}
		}
		k, err := game.LoadOrCreateKey(p)
		return k, p, err
	}
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("serve", "[flags]", stderr)
	addr := fs.String("addr", "127.0.0.1:7777", "UDP address to listen on")
	entities := fs.Int("entities", 100, "scripted NPC players")
	rate := fs.Uint("rate", ecs.DefaultRate, "tick rate, ticks per second")
	snapRate := fs.Uint("snapshot-rate", 20, "snapshots per second to each client (at most the tick rate)")
	seed := fs.Uint64("seed", 7, "world seed")
	gv := fs.Int("godot", 3, "Godot multiplayer framing of the clients: 3 or 4")
	maxClients := fs.Int("max-clients", 2048, "most clients at once")
	workers := fs.Int("encode-workers", 0, "goroutines encoding snapshots (0: GOMAXPROCS); fewer leave the machine's other processes more CPU")
	maxLocal := fs.Int("max-local-clients", 0, "with --shadow-addr: clients served here before newly admitted ones are redirected to a relaying shadow (shadow --relay), when one is attached (0: no limit)")
	shadows := fs.String("shadows", "", "comma-separated failover addresses announced to clients")
	record := fs.String("record", "", "record the session as a replay to this file")
	rotateSize := fs.String("record-rotate-size", "", "with --record: start a new replay file when the current one reaches this size (e.g. 64MiB; checked as blocks are written: a keyframe or a full tick block); files are FILE.000.replay, FILE.001.replay… (FILE without .replay)")
	rotateEvery := fs.Duration("record-rotate-every", 0, "with --record: start a new replay file after this long (e.g. 1h)")
	artDir := fs.String("art-dir", "", "directory of the uploaded-art store (empty: uploads and fetches are refused)")
	maxUpload := fs.String("max-upload", "8MiB", "largest image a client may upload")
	duration := fs.Duration("duration", 0, "stop after this long (0: until interrupted)")
	startProfile := profileFlag(fs)
	metricsAddr := fs.String("metrics", "", "serve Prometheus /metrics and /debug/pprof/ on this TCP address, e.g. 127.0.0.1:9090 (empty: off)")
	shadowAddr := fs.String("shadow-addr", "", "UDP address of the sync port shadow shards follow (empty: none); clients are told the shadows that joined, highest rank first, unless --shadows is set")
	handoverRank := fs.Int("handover-rank", -1, "with --shadow-addr: on SIGUSR1, hand the shard over to the shadow of this rank (-1: the highest rank attached) and exit")
	flushEvery := fs.Int("record-flush-every", 0, "with --record: ticks per recorded block (0: the replay default; 1: every tick reaches the file before shadows get it, so a killed shard's recording covers what they stepped)")
	loadKey := keyFlag(fs)
	if code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	if *rate == 0 || *rate > 1000 || *snapRate == 0 || *snapRate > 1000 {
		fmt.Fprintln(stderr, "shardsim serve: --rate and --snapshot-rate must be in [1, 1000]")
		return 2
	}
	if !godot.Version(*gv).Valid() {
		fmt.Fprintf(stderr, "shardsim serve: --godot must be 3 or 4, not %d\n", *gv)
		return 2
	}
	if *entities < 0 || *entities > ecs.MaxEntities || *maxClients <= 0 || *maxClients > 4095 {
		fmt.Fprintln(stderr, "shardsim serve: --entities or --max-clients out of range (max clients ≤ 4095, ENet's peer limit)")
		return 2
	}
	if *workers < 0 || *workers > 256 {
		fmt.Fprintf(stderr, "shardsim serve: --encode-workers must be in [0, 256], not %d\n", *workers)
		return 2
	}
	var rotSize int64
	if *rotateSize != "" {
		var err error
		if rotSize, err = parseSize(*rotateSize); err != nil || rotSize <= 0 {
			fmt.Fprintf(stderr, "shardsim serve: --record-rotate-size: %v\n", err)
			return 2
		}
	}
	if *handoverRank < -1 || *handoverRank > 255 || *flushEvery < 0 {
		fmt.Fprintln(stderr, "shardsim serve: --handover-rank must be in [-1, 255] and --record-flush-every ≥ 0")
		return 2
	}
	if (rotSize > 0 || *rotateEvery != 0) && *record == "" || *rotateEvery < 0 {
		fmt.Fprintln(stderr, "shardsim serve: --record-rotate-size and --record-rotate-every need --record (and a positive value)")
		return 2
	}
	maxUp, err := parseSize(*maxUpload)
	if err != nil || maxUp <= 0 || maxUp > game.MaxArtSize {
		fmt.Fprintf(stderr, "shardsim serve: --max-upload: %v\n", err)
		return 2
	}
	key, keyPath, err := loadKey()
	if err != nil {
		fmt.Fprintf(stderr, "shardsim serve: %v\n", err)
		return 1
	}
	var shadowList []string
	if *shadows != "" {
		shadowList = strings.Split(*shadows, ",")
		if len(shadowList) > game.MaxShadows {
			fmt.Fprintf(stderr, "shardsim serve: at most %d --shadows\n", game.MaxShadows)
			return 2
		}
	}
	cfg := shard.LiveConfig{
		Addr:             *addr,
		World:            ecs.Config{Seed: *seed, Rate: uint16(*rate)},
		Systems:          systems.DefaultConfig(),
		Entities:         *entities,
		SnapshotRate:     uint16(*snapRate),
		Server:           server.Config{Godot: godot.Version(*gv), MaxClients: *maxClients, Key: key, Shadows: shadowList, MaxLocalClients: *maxLocal, EncodeWorkers: *workers},
		RecordFlushEvery: *flushEvery,
	}
	switch {
	case *record != "" && (rotSize > 0 || *rotateEvery > 0):
		rot, err := newRotatingFiles(*record, rotSize, *rotateEvery)
		if err != nil {
			fmt.Fprintf(stderr, "shardsim serve: %v\n", err)
			return 1
		}
		defer func() {
			rot.Close()
			fmt.Fprintf(stdout, "recorded %d replay files: %s\n", len(rot.names), strings.Join(rot.names, " "))
		}()
		cfg.Record, cfg.Rotate = rot.Writer(), rot
	case *record != "":
		f, err := os.Create(*record)
		if err != nil {
			fmt.Fprintf(stderr, "shardsim serve: %v\n", err)
			return 1
		}
		defer f.Close()
		cfg.Record = f
	}
	if *artDir != "" {
		st, err := art.Open(*artDir, art.Options{MaxSize: maxUp})
		if err != nil {
			fmt.Fprintf(stderr, "shardsim serve: %v\n", err)
			return 1
		}
		cfg.Server.Art = st
	}
	stopProfile, err := startProfile()
	if err != nil {
		fmt.Fprintf(stderr, "shardsim serve: %v\n", err)
		return 1
	}
	defer stopProfile()
	var logMu sync.Mutex
	logf := func(f string, a ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		fmt.Fprintf(stderr, "serve: "+f+"\n", a...)
	}
	prim, stopSync, err := shadow.ServeSync(&cfg, *shadowAddr, logf)
	if err != nil {
		fmt.Fprintf(stderr, "shardsim serve: %v\n", err)
		return 1
	}
	defer stopSync()
	live, err := shard.StartLive(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "shardsim serve: %v\n", err)
		return 1
	}
	reg := metrics.NewRegistry()
	if _, err := metrics.Register(reg, live); err != nil {
		fmt.Fprintf(stderr, "shardsim serve: %v\n", err)
		return 1
	}
	closeMetrics, err := metrics.Serve(*metricsAddr, reg)
	if err != nil {
		fmt.Fprintf(stderr, "shardsim serve: --metrics: %v\n", err)
		return 1
	}
	defer closeMetrics()
	if *metricsAddr != "" {
		fmt.Fprintf(stdout, "metrics on http://%s/metrics, profiles on http://%s/debug/pprof/\n", *metricsAddr, *metricsAddr)
	}
	fmt.Fprintf(stdout, "serving on %s (Godot %d framing, %d Hz, %d NPCs, key %s)\n", live.Addr(), *gv, *rate, *entities, keyPath)
	if prim != nil {
		fmt.Fprintf(stdout, "shadow sync port on %s\n", prim.Addr())
		if shadowList == nil {
			prim.WatchRoster(func(r []shadow.RosterEntry) {
				addrs := shadow.ClientAddrs(r)
				live.SetShadows(addrs)
				logf("failover addresses announced to clients: [%s]", strings.Join(addrs, " "))
			})
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	liveCtx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	usr1 := make(chan os.Signal, 1)
	if prim != nil {
		signal.Notify(usr1, syscall.SIGUSR1)
		defer signal.Stop(usr1)
	}
	done := make(chan error, 1)
	go func() { done <- live.Run(liveCtx) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	term := isTerminal(stderr)
	handover := -1 // rank being handed over to
	for {
		select {
		case <-usr1:
			if handover >= 0 {
				continue
			}
			rank, addrs, err := pickSuccessor(prim.Roster(), *handoverRank)
			if err != nil {
				logf("hand-over refused: %v", err)
				continue
			}
			handover = rank
			// Drain: clients learn the successor first, then the shard stops stepping
			// (the recording ends at its last tick) and disconnects them; they fail
			// over to the successor, which promotes at exactly that tick.
			live.SetShadows(addrs)
			logf("handing over to rank %d (%s): draining", rank, addrs[0])
			time.AfterFunc(200*time.Millisecond, stopLive)
		case err := <-done:
			st := live.Stats()
			if term {
				fmt.Fprintln(stderr)
			}
			fmt.Fprintf(stdout, "stopped at tick %d, hash %016x: %d connects, %d admitted, %d kicked, %d snapshots sent (%d bytes; %d entity records, %.2f B each after delta and compression; %d unreliable packets dropped by ENet's throttle; %d datagrams in, %d out), %d tick overruns\n",
				st.Tick, st.Hash, st.Server.Connects, st.Server.Admitted, st.Server.Kicked, st.Server.Snapshots, st.Server.SnapshotSize,
				st.Server.Records, float64(st.Server.RecordBytes)/float64(max(st.Server.Records, 1)), st.Server.Host.ThrottleDropped,
				st.Server.Host.PacketsIn, st.Server.Host.PacketsOut, st.Overruns)
			if err != nil {
				fmt.Fprintf(stderr, "shardsim serve: %v\n", err)
				return 1
			}
			if handover >= 0 {
				hctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := prim.HandOver(hctx, uint8(handover))
				cancel()
				if err != nil {
					fmt.Fprintf(stderr, "shardsim serve: hand-over: %v\n", err)
					return 1
				}
				fmt.Fprintf(stdout, "handed over at tick %d, hash %016x to rank %d\n", st.Tick, st.Hash, handover)
			}
			return 0
		case <-tick.C:
			st := live.Stats()
			line := fmt.Sprintf("serve: tick %d, %d entities, %d clients, step %s, %d snapshots, %d overruns",
				st.Tick, st.Entities, st.Server.Clients, st.LastStep.Round(time.Microsecond), st.Server.Snapshots, st.Overruns)
			if term {
				fmt.Fprintf(stderr, "\r%s\033[K", line)
			} else {
				fmt.Fprintln(stderr, line)
			}
		}
	}
}

// pickSuccessor chooses the shadow a hand-over goes to (rank, or the highest attached
// when rank is -1) and returns its rank and the failover list with it first.
func pickSuccessor(roster []shadow.RosterEntry, rank int) (int, []string, error) {
	i := 0
	if rank >= 0 {
		i = slices.IndexFunc(roster, func(e shadow.RosterEntry) bool { return int(e.Rank) == rank })
	}
	if i < 0 || len(roster) == 0 {
		return 0, nil, fmt.Errorf("%w: rank %d (attached: %d)", shadow.ErrNoShadow, rank, len(roster))
	}
	succ := roster[i]
	rest := slices.Delete(slices.Clone(roster), i, i+1)
	addrs := shadow.ClientAddrs(append([]shadow.RosterEntry{succ}, rest...))
	if len(addrs) == 0 || addrs[0] != succ.ClientAddr {
		return 0, nil, fmt.Errorf("rank %d announced no usable client address (%q)", succ.Rank, succ.ClientAddr)
	}
	return int(succ.Rank), addrs, nil
}

func runToken(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("token", "--client-id ID [--ttl 1h] [--key-file F]", stderr)
	id := fs.Uint64("client-id", 0, "the client's id (required, > 0)")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	loadKey := keyFlag(fs)
	if code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	if *id == 0 || *ttl <= 0 {
		fmt.Fprintln(stderr, "shardsim token: --client-id must be > 0 and --ttl positive")
		fs.Usage()
		return 2
	}
	key, _, err := loadKey()
	if err != nil {
		fmt.Fprintf(stderr, "shardsim token: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, game.MintToken(key, *id, time.Now().Add(*ttl)))
	return 0
}
