package client_test

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/client"
	"github.com/shardsim/shardsim/net/enet"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/net/godot"
	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
	"github.com/shardsim/shardsim/shard/shardtest"
	"github.com/shardsim/shardsim/systems"
)

const (
	liveNPCs    = 100
	liveClients = 50
)

// startLive runs a live shard on 127.0.0.1:0 for the test and records its frames.
func startLive(t *testing.T, fr *frames, inputs *atomic.Int64) *shard.Live {
	t.Helper()
	live, _ := shardtest.Start(t, shard.LiveConfig{
		Addr:     "127.0.0.1:0",
		World:    ecs.Config{Seed: 1, Rate: 30},
		Systems:  systems.DefaultConfig(),
		Entities: liveNPCs,
		Server: server.Config{
			Key:          testKey,
			HelloTimeout: 300 * time.Millisecond,
			// A budget large enough for a client's table to catch up with the whole
			// world, so that the hash comparison with the server's frame happens.
			BytesPerSnapshot: game.MaxPacket,
		},
		OnTick: func(w *ecs.World, cmds []ecs.Command, _ uint64) {
			fr.capture(w)
			for _, c := range cmds {
				if c.Kind == ecs.CmdInput {
					inputs.Add(1)
				}
			}
		},
	})
	return live
}

func TestLive(t *testing.T) {
	fr := newFrames()
	var inputs atomic.Int64
	live := startLive(t, fr, &inputs)
	addr := live.Addr().String()
	exp := time.Now().Add(time.Hour)

	// 50 clients connect at once; each gets its own hash check.
	clients := make([]*client.Client, liveClients)
	checks := make([]*hashCheck, liveClients)
	errs := make([]error, liveClients)
	var wg sync.WaitGroup
	for i := range clients {
		checks[i] = &hashCheck{fr: fr}
		wg.Go(func() {
			tok := game.MintToken(testKey, uint64(1000+i), exp)
			clients[i], errs[i] = client.Dial(testCtx(t, 20*time.Second), addr, tok, client.Options{
				ID: uint32(2 + i), OnSnapshot: checks[i].onSnapshot,
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	t.Cleanup(func() {
		for _, c := range clients {
			c.Close()
		}
	})
	netIDs := map[ecs.NetID]bool{}
	for i, c := range clients {
		w := c.Welcome()
		if w.TickRate != 30 || w.SnapshotRate == 0 || w.NetID == 0 || netIDs[w.NetID] {
			t.Fatalf("client %d: welcome %+v", i, w)
		}
		netIDs[w.NetID] = true
		c.SetInput(ecs.Input{MoveX: int8(i%5*50 - 100), MoveY: int8(100 - i%7*30)})
	}
	eventually(t, 10*time.Second, "every client's entity in the world", func() bool {
		return live.Stats().Entities == liveNPCs+liveClients
	})

	t.Run("kicks", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			token string
			want  game.Reason
		}{
			{"bad token", "v1.not-a-token", game.ReasonBadToken},
			{"forged", game.MintToken([]byte("another key, 32 bytes long......"), 7, exp), game.ReasonBadToken},
			{"expired", game.MintToken(testKey, 7, time.Now().Add(-time.Minute)), game.ReasonTokenExpired},
		} {
			_, err := client.Dial(testCtx(t, 10*time.Second), addr, tc.token, client.Options{})
			var ke *client.KickError
			if !errors.As(err, &ke) || !errors.Is(err, client.ErrKicked) || ke.Reason != tc.want {
				t.Errorf("%s: Dial = %v, want a kick with reason %d (%s)", tc.name, err, tc.want, client.ReasonString(tc.want))
			}
		}
	})

	t.Run("no token", func(t *testing.T) {
		reason, err := silentClient(addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if reason != game.ReasonTimeout {
			t.Fatalf("kicked with reason %d, want %d (timeout)", reason, game.ReasonTimeout)
		}
	})

	t.Run("garbage", func(t *testing.T) {
		before := live.Stats().Server.Host
		applied := make([]uint64, len(clients))
		for i, c := range clients {
			applied[i] = c.Stats().Applied
		}
		sendGarbage(t, addr)
		var dropped uint64
		eventually(t, 10*time.Second, "the server to count the garbage as dropped", func() bool {
			after := live.Stats().Server.Host.Dropped
			dropped = 0
			for i := range before.Dropped {
				dropped += after[i] - before.Dropped[i]
			}
			return dropped >= garbageDatagrams/2 // the rest may look like connects to no one
		})
		t.Logf("%d of %d garbage datagrams counted as dropped", dropped, garbageDatagrams)
		eventually(t, 10*time.Second, "every client to keep applying snapshots", func() bool {
			for i, c := range clients {
				if c.Stats().Applied <= applied[i]+5 {
					return false
				}
			}
			return true
		})
	})

	// Let them play until every client has seen its table match the server's frame.
	eventually(t, 20*time.Second, "every client's table to match a server frame", func() bool {
		for _, hc := range checks {
			if hc.complete.Load() == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(2 * time.Second)

	var applied, complete int64
	for i, c := range clients {
		st := c.Stats()
		hc := checks[i]
		applied += hc.applied.Load()
		complete += hc.complete.Load()
		if st.Applied == 0 || st.Inputs == 0 || st.BytesIn == 0 || st.BytesOut == 0 {
			t.Errorf("client %d: %+v", i, st)
		}
		if st.Bad != 0 || st.HashMismatch != 0 {
			t.Errorf("client %d: %d snapshots did not decode (%d hash mismatches)", i, st.Bad, st.HashMismatch)
		}
		if n := hc.carriedWrong.Load(); n != 0 {
			t.Errorf("client %d: %d tables whose hash differs from the carried one", i, n)
		}
		if n := hc.frameWrong.Load(); n != 0 {
			t.Errorf("client %d: %d snapshots where table == frame disagrees with hash == frame hash", i, n)
		}
		if err := c.Err(); err != nil {
			t.Errorf("client %d ended: %v", i, err)
		}
	}
	t.Logf("%d snapshots applied, %d with the table equal to the server's frame; %d input commands", applied, complete, inputs.Load())
	if inputs.Load() < liveClients {
		t.Errorf("%d input commands reached the step, want at least %d", inputs.Load(), liveClients)
	}
	if st := live.Stats(); st.Server.Clients != liveClients || st.Server.Admitted != liveClients {
		t.Errorf("server: %d clients, %d admitted, want %d", st.Server.Clients, st.Server.Admitted, liveClients)
	}
	// The record counters: every snapshot of a new client carries records, each at
	// least an id and a mask (2 bytes) and at most a whole packet.
	if st := live.Stats().Server; st.Records == 0 || st.RecordBytes < 2*st.Records/3 || st.RecordBytes > st.SnapshotSize {
		t.Errorf("server: %d records in %d bytes (snapshots: %d bytes)", st.Records, st.RecordBytes, st.SnapshotSize)
	}

	// Half of the clients leave: their entities go.
	for _, c := range clients[:liveClients/2] {
		c.Close()
		if err := c.Err(); !errors.Is(err, client.ErrClosed) {
			t.Errorf("Err after Close = %v", err)
		}
	}
	eventually(t, 10*time.Second, "the entities of the clients that left to go", func() bool {
		return live.Stats().Entities == liveNPCs+liveClients-liveClients/2
	})
}

// silentClient connects with a raw ENet client, sends no token and returns the reason of
// the kick that follows.
func silentClient(addr string, limit time.Duration) (game.Reason, error) {
	conn, err := net.ListenUDP("udp4", nil)
	if err != nil {
		return 0, err
	}
	h, err := enet.NewClient(conn, enet.Config{MaxPeers: 1})
	if err != nil {
		return 0, err
	}
	defer h.Close()
	ra, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return 0, err
	}
	if _, err := h.Connect(ra, 3, 77); err != nil {
		return 0, err
	}
	var reason game.Reason
	kicked := false
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		ev, err := h.Service(50 * time.Millisecond)
		if err != nil {
			return 0, err
		}
		switch ev.Type {
		case enet.EventReceive:
			f, err := godot.ParseFrame3(ev.Packet)
			if err != nil {
				continue
			}
			data, err := godot.ParseRaw3(f.Payload)
			if err != nil {
				continue
			}
			if k, err := game.ParseKick(data); err == nil {
				reason, kicked = k.Code, true
			}
		case enet.EventDisconnect:
			if !kicked {
				return 0, fmt.Errorf("disconnected (data %d) without a kick", ev.Data)
			}
			return reason, nil
		}
	}
	return 0, errors.New("no kick before the limit")
}

const garbageDatagrams = 200

// sendGarbage sends malformed datagrams from a raw UDP socket: empty, short, random,
// ENet-shaped headers with broken commands, and oversized ones.
func sendGarbage(t *testing.T, addr string) {
	t.Helper()
	ra, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialUDP("udp4", nil, ra)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	seed := uint32(12345)
	next := func() byte { // xorshift: fixed garbage on every run
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		return byte(seed)
	}
	for i := range garbageDatagrams {
		var b []byte
		switch i % 5 {
		case 0:
			b = []byte{next()}
		case 1: // a peer id of a connected client, then junk commands
			b = []byte{0x00, 0x01, next(), next(), next(), next(), next()}
		case 2:
			b = make([]byte, 5000)
		default:
			b = make([]byte, 4+int(next()))
		}
		for j := range b {
			if i%5 != 1 {
				b[j] = next()
			}
		}
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond) // do not overflow the socket's receive buffer
	}
}

// TestHeaderOnly: a client that does not decode still receives snapshots and acks
// them (its acks make the server's deltas smaller than full snapshots would be); it
// has no table.
func TestHeaderOnly(t *testing.T) {
	fr := newFrames()
	var inputs atomic.Int64
	live := startLive(t, fr, &inputs)
	tok := game.MintToken(testKey, 4242, time.Now().Add(time.Hour))
	c, err := client.Dial(testCtx(t, 10*time.Second), live.Addr().String(), tok, client.Options{
		HeaderOnly: true,
		OnSnapshot: func(*game.Table, game.SnapshotHeader) { t.Error("OnSnapshot called on a header-only client") },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	eventually(t, 10*time.Second, "60 snapshots tracked", func() bool { return c.Stats().Tracked >= 60 })
	st := c.Stats()
	if st.Applied != 0 || st.Bad != 0 || st.NoBaseline != 0 || st.Inputs == 0 {
		t.Errorf("stats %+v: want snapshots tracked only, none bad or without a baseline, inputs sent", st)
	}
	c.Table(func(tbl *game.Table) {
		if tbl != nil {
			t.Error("a header-only client has a table")
		}
	})
	// The server adopted its acks: records carry deltas (measured: 2.6 bytes each),
	// where without acks every snapshot is full (7.3 bytes per record).
	s := live.Stats().Server
	if per := float64(s.RecordBytes) / float64(max(s.Records, 1)); s.Records == 0 || per > 5 {
		t.Errorf("server: %d records, %.2f bytes each: the client's acks did not make deltas", s.Records, per)
	}
}
