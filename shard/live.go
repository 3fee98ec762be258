package shard

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/enet"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/replay"
	"github.com/shardsim/shardsim/systems"
)

// LiveConfig describes a live shard: a world with scripted NPC players plus connected
// players, stepped at the tick rate, served over the network.
type LiveConfig struct {
	Addr         string // UDP address to listen on, e.g. "127.0.0.1:7777" (port 0: any)
	World        ecs.Config
	Systems      systems.Config
	Entities     int    // scripted NPC players
	SnapshotRate uint16 // snapshots per second sent to clients (default 20, at most the tick rate)
	Server       server.Config
	// Record, when set, receives a replay of the session (applied inputs, hashes,
	// keyframes) as it runs.
	Record io.Writer
	// Rotate, when set with Record, splits the recording into several replays: after
	// each recorded tick Rotate.Due decides whether the current one ends; it is then
	// closed and the next, from Rotate.Next, starts from a keyframe of the world as it is.
	Rotate Rotator
	// OnTick, when set, sees every step from the shard goroutine (for example to
	// forward the applied commands and keyframes to shadow shards).
	OnTick func(w *ecs.World, cmds []ecs.Command, hash uint64)
	// OnSessions, when set, gets the changes of the server's session map (token client
	// id → NetID, see server.Server.TakeBindings) of each step that changed it, on the
	// shard goroutine, just before that step's OnTick.
	OnSessions func(changes []server.Binding)
	// Inject, when set, appends commands from elsewhere (a relaying shadow's clients,
	// see shadow.Primary.TakeRelayed) to each step's commands after the server's, on the
	// shard goroutine. They are applied, recorded and forwarded like the server's own.
	Inject func(cmds []ecs.Command) []ecs.Command
	// Initial, when set, is the world to continue (a promoted shadow's copy) instead of
	// a new one; World and Entities are then ignored.
	Initial *ecs.World
	// Transport, when set, is the socket clients reach the shard on (a promoted shadow
	// binds its client port up front); Addr is then ignored. The shard owns it.
	Transport enet.Transport
	// RecordFlushEvery is the number of ticks per recorded tick block (0: the replay
	// default). 1 makes every tick reach the file before the shard forwards it (OnTick),
	// so a killed shard's recording holds every tick its shadows stepped.
	RecordFlushEvery int
}

// Rotator decides when a live recording moves to its next file and provides it.
type Rotator interface {
	// Due reports, after each recorded tick, whether the current replay (written bytes
	// so far) should end.
	Due(written int64) bool
	// Next is called once the current replay is complete (its end block written): it
	// finishes the current file and returns the writer of the next replay.
	Next() (io.Writer, error)
}

// LiveStats are a live shard's figures, readable from any goroutine.
type LiveStats struct {
	Tick       uint64
	Hash       uint64
	Entities   int
	Overruns   uint64        // ticks that started late by more than one tick period
	LastStep   time.Duration // wall time of the last tick's work (step + hash + I/O)
	SnapshotID uint32
	FrameHash  uint64 // table hash of the last snapshot frame
	Server     server.Stats
}

// Live is a running live shard.
type Live struct {
	cfg LiveConfig
	srv *server.Server
	w   *ecs.World
	sim *systems.Sim
	rec *replay.Recorder

	mu sync.Mutex
	st LiveStats
	// stepTimes receives each tick's work duration when non-nil (for load reports).
	stepTimes func(d time.Duration)
}

// StartLive builds the world and binds the server; Run steps it.
func StartLive(cfg LiveConfig) (*Live, error) {
	var w *ecs.World
	var sim *systems.Sim
	if cfg.Initial != nil {
		if err := cfg.Systems.Validate(); err != nil {
			return nil, err
		}
		w, sim = cfg.Initial, systems.New(cfg.Systems)
	} else {
		hc := HeadlessConfig{World: cfg.World, Systems: cfg.Systems, Entities: cfg.Entities}
		var err error
		if w, sim, err = NewWorld(&hc); err != nil {
			return nil, err
		}
	}
	if cfg.SnapshotRate == 0 {
		cfg.SnapshotRate = 20
	}
	cfg.SnapshotRate = min(cfg.SnapshotRate, w.G.Rate)
	cfg.Server.SnapshotRate = cfg.SnapshotRate
	if cfg.Server.ClipPeriods == nil {
		cfg.Server.ClipPeriods = sim.Config().Lib.ClipPeriods()
	}
	var srv *server.Server
	var err error
	if cfg.Transport != nil {
		if srv, err = server.New(cfg.Transport, cfg.Server); err != nil {
			cfg.Transport.Close()
		}
	} else {
		srv, err = server.Listen(cfg.Addr, cfg.Server)
	}
	if err != nil {
		return nil, err
	}
	l := &Live{cfg: cfg, srv: srv, w: w, sim: sim}
	if cfg.Record != nil {
		if l.rec, err = l.newRecorder(cfg.Record); err != nil {
			srv.Close()
			return nil, err
		}
	}
	return l, nil
}

func (l *Live) newRecorder(out io.Writer) (*replay.Recorder, error) {
	return replay.NewRecorder(out, l.w, &l.cfg.Systems, replay.RecorderOptions{Name: "live", Writer: replay.WriterOptions{Sync: true, FlushEvery: l.cfg.RecordFlushEvery}})
}

// rotate ends the current replay and starts the next one from the world as it is.
func (l *Live) rotate() error {
	if err := l.rec.Close(); err != nil {
		return err
	}
	l.rec = nil
	out, err := l.cfg.Rotate.Next()
	if err != nil {
		return err
	}
	l.rec, err = l.newRecorder(out)
	return err
}

// SetShadows replaces the failover addresses announced to clients (see
// server.Server.SetShadows); safe from any goroutine.
func (l *Live) SetShadows(addrs []string) { l.srv.SetShadows(addrs) }

// Addr is the address clients connect to.
func (l *Live) Addr() net.Addr { return l.srv.Addr() }

// Stats returns the current figures.
func (l *Live) Stats() LiveStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.st
	st.Server = l.srv.Stats()
	return st
}

// SetStepObserver makes every tick report its work duration to fn (called on the shard
// goroutine). Set it before Run.
func (l *Live) SetStepObserver(fn func(time.Duration)) { l.stepTimes = fn }

// Run steps the shard at its tick rate until ctx ends, then closes the server (and the
// replay, if recording). The wall clock only decides when a tick runs; what it does
// depends only on the commands it applies.
func (l *Live) Run(ctx context.Context) error {
	defer l.srv.Close()
	period := time.Second / time.Duration(l.w.G.Rate)
	next := time.Now()
	var cmds, carry []ecs.Command
	var binds []server.Binding
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			if l.rec != nil {
				if err := l.rec.Close(); err != nil {
					return err
				}
			}
			return nil
		case <-timer.C:
		}
		start := time.Now()
		cmds = append(cmds[:0], carry...)
		carry = carry[:0]
		cmds = l.srv.Poll(cmds)
		if l.cfg.Inject != nil {
			cmds = l.cfg.Inject(cmds)
		}
		res := l.sim.Step(l.w, cmds)
		carry = l.srv.Joined(res.Joined, l.w, carry)
		l.srv.Placed(res.Placed, l.w)
		binds = l.srv.TakeBindings(binds[:0])
		hash := ecs.Hash(l.w)
		if l.rec != nil {
			if err := l.rec.Tick(l.w, cmds, hash); err != nil {
				return fmt.Errorf("shard: record: %w", err)
			}
			if l.cfg.Rotate != nil && l.cfg.Rotate.Due(l.rec.Offset()) {
				if err := l.rotate(); err != nil {
					return fmt.Errorf("shard: record rotation: %w", err)
				}
			}
		}
		if l.cfg.OnSessions != nil && len(binds) > 0 {
			l.cfg.OnSessions(binds)
		}
		if l.cfg.OnTick != nil {
			l.cfg.OnTick(l.w, cmds, hash)
		}
		var snapID uint32
		var frameHash uint64
		if snapshotDue(l.w.G.Tick, l.w.G.Rate, l.cfg.SnapshotRate) {
			f := l.srv.Broadcast(l.w)
			snapID, frameHash = f.ID, f.Hash()
		}
		work := time.Since(start)
		if l.stepTimes != nil {
			l.stepTimes(work)
		}
		l.mu.Lock()
		l.st.Tick, l.st.Hash, l.st.Entities, l.st.LastStep = l.w.G.Tick, hash, l.w.Len(), work
		if snapID != 0 {
			l.st.SnapshotID, l.st.FrameHash = snapID, frameHash
		}
		l.mu.Unlock()

		next = next.Add(period)
		if now := time.Now(); next.Before(now) {
			// The tick's work ran past the next tick's start: an overrun. Far behind, do
			// not try to catch up with a burst of ticks.
			l.mu.Lock()
			l.st.Overruns++
			l.mu.Unlock()
			if next.Before(now.Add(-period)) {
				next = now
			}
		}
		timer.Reset(time.Until(next))
	}
}

// snapshotDue reports whether a snapshot goes out after tick: exactly snapRate of every
// rate ticks, spread evenly (when tick·snapRate/rate crosses an integer), so rates that
// do not divide each other are still honoured.
func snapshotDue(tick uint64, rate, snapRate uint16) bool {
	if tick == 0 {
		return false
	}
	r, s := uint64(rate), uint64(snapRate)
	return tick*s/r != (tick-1)*s/r
}
