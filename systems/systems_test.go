package systems

import (
	"errors"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/ecs"
)

func newTest(t testing.TB, seed uint64) (*ecs.World, *Sim) {
	t.Helper()
	return ecs.New(ecs.Config{Seed: seed}), New(DefaultConfig())
}

// player spawns a non-bot player at p.
func player(w *ecs.World, s *Sim, p ecs.Position) ecs.NetID {
	id := s.SpawnPlayer(w, nil)
	e, _ := w.Entity(id)
	*ecs.Get[ecs.Position](w, e, w.C.Pos) = p
	return id
}

func record(t testing.TB, w *ecs.World, id ecs.NetID) ecs.Record {
	t.Helper()
	r, ok := w.RecordOf(id)
	if !ok {
		t.Fatalf("no player %d", id)
	}
	return r
}

func TestMovementAcceleratesToGaitSpeed(t *testing.T) {
	tests := []struct {
		name    string
		in      ecs.Input
		speed   int32
		heading uint16
	}{
		{"walk +x", ecs.Input{MoveX: 127}, 1400, 0},
		{"run +y", ecs.Input{MoveY: 127, Buttons: ecs.ButtonRun}, 4500, 16384},
		{"walk -x", ecs.Input{MoveX: -127}, 1400, 32768},
		{"half stick", ecs.Input{MoveX: 0, MoveY: -64}, 1400 * 64 / 127, 49152},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, s := newTest(t, 1)
			mid := w.G.ArenaW / 2
			id := player(w, s, ecs.Position{X: mid, Y: mid})
			cmd := []ecs.Command{{Kind: ecs.CmdInput, Player: id, Input: tt.in}}
			s.Step(w, cmd)
			first := record(t, w, id).Vel
			if sp := isqrt(uint64(int64(first.X)*int64(first.X) + int64(first.Y)*int64(first.Y))); sp > uint64(12000/30)+1 {
				t.Fatalf("after one tick speed %d exceeds one tick of acceleration", sp)
			}
			for range 60 {
				s.Step(w, nil)
			}
			r := record(t, w, id)
			sp := int32(isqrt(uint64(int64(r.Vel.X)*int64(r.Vel.X) + int64(r.Vel.Y)*int64(r.Vel.Y))))
			if sp < tt.speed-2 || sp > tt.speed+2 {
				t.Errorf("speed %d mm/s, want %d", sp, tt.speed)
			}
			if d := int16(r.Head.Angle - tt.heading); d > 60 || d < -60 {
				t.Errorf("heading %d, want %d", r.Head.Angle, tt.heading)
			}
		})
	}
}

func TestFrictionAndBrakeStop(t *testing.T) {
	for _, stop := range []bool{false, true} {
		w, s := newTest(t, 1)
		id := player(w, s, ecs.Position{X: w.G.ArenaW / 2, Y: w.G.ArenaH / 2})
		s.Step(w, []ecs.Command{{Kind: ecs.CmdInput, Player: id, Input: ecs.Input{MoveX: 127, Buttons: ecs.ButtonRun}}})
		for range 40 {
			s.Step(w, nil)
		}
		in := ecs.Input{}
		if stop {
			in.Buttons = ecs.ButtonStop
		}
		s.Step(w, []ecs.Command{{Kind: ecs.CmdInput, Player: id, Input: in}})
		ticks := 1
		for record(t, w, id).Vel != (ecs.Velocity{}) {
			s.Step(w, nil)
			ticks++
			if ticks > 100 {
				t.Fatal("never stopped")
			}
		}
		// 4500 mm/s at 8000 (friction) or 25000 (brake) mm/s² at 30 Hz.
		want := 17
		if stop {
			want = 6
		}
		if ticks != want {
			t.Errorf("stop=%v: stopped after %d ticks, want %d", stop, ticks, want)
		}
	}
}

func TestWallsStopNormalMotionAndSlide(t *testing.T) {
	tests := []struct {
		name      string
		start     func(W, H int32) ecs.Position
		in        ecs.Input
		wantX     func(W int32) int32 // -1: free
		wantSlide string              // which axis still moves: "x" or "y"
	}{
		{"left wall", func(W, H int32) ecs.Position { return ecs.Position{X: 1000, Y: H / 2} }, ecs.Input{MoveX: -90, MoveY: 90, Buttons: ecs.ButtonRun}, func(W int32) int32 { return 0 }, "y"},
		{"right wall", func(W, H int32) ecs.Position { return ecs.Position{X: W - 1000, Y: H / 2} }, ecs.Input{MoveX: 90, MoveY: -90, Buttons: ecs.ButtonRun}, func(W int32) int32 { return W }, "y"},
		{"bottom wall", func(W, H int32) ecs.Position { return ecs.Position{X: W / 2, Y: 500} }, ecs.Input{MoveX: 90, MoveY: -90, Buttons: ecs.ButtonRun}, func(W int32) int32 { return -1 }, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, s := newTest(t, 1)
			id := player(w, s, tt.start(w.G.ArenaW, w.G.ArenaH))
			s.Step(w, []ecs.Command{{Kind: ecs.CmdInput, Player: id, Input: tt.in}})
			var prev ecs.Record
			for i := range 90 {
				prev = record(t, w, id)
				s.Step(w, nil)
				r := record(t, w, id)
				if r.Pos.X < 0 || r.Pos.X > w.G.ArenaW || r.Pos.Y < 0 || r.Pos.Y > w.G.ArenaH {
					t.Fatalf("tick %d: left the arena at %+v", i, r.Pos)
				}
			}
			r := record(t, w, id)
			if want := tt.wantX(w.G.ArenaW); want >= 0 && r.Pos.X != want {
				t.Errorf("x = %d, want pinned to the wall at %d", r.Pos.X, want)
			}
			if tt.wantSlide == "y" && (r.Pos.Y == prev.Pos.Y || r.Vel.X != 0) {
				t.Errorf("not sliding along y: pos %+v prev %+v vel %+v", r.Pos, prev.Pos, r.Vel)
			}
			if tt.wantSlide == "x" && (r.Pos.X == prev.Pos.X || r.Vel.Y != 0 || r.Pos.Y != 0) {
				t.Errorf("not sliding along x: pos %+v prev %+v vel %+v", r.Pos, prev.Pos, r.Vel)
			}
		})
	}
}

func TestCornerHoldsAtHighSpeed(t *testing.T) {
	w, s := newTest(t, 1)
	cfg := s.Config()
	cfg.RunSpeed = 90_000 // 3 m per tick at 30 Hz
	id := player(w, s, ecs.Position{X: w.G.ArenaW - 10, Y: w.G.ArenaH - 10})
	s.Step(w, []ecs.Command{{Kind: ecs.CmdInput, Player: id, Input: ecs.Input{MoveX: 127, MoveY: 127, Buttons: ecs.ButtonRun}}})
	for range 30 {
		s.Step(w, nil)
	}
	r := record(t, w, id)
	if r.Pos.X != w.G.ArenaW || r.Pos.Y != w.G.ArenaH || r.Vel != (ecs.Velocity{}) {
		t.Errorf("in the corner: pos %+v vel %+v, want pinned at (%d, %d) with zero velocity", r.Pos, r.Vel, w.G.ArenaW, w.G.ArenaH)
	}
}

func TestCommands(t *testing.T) {
	w, s := newTest(t, 3)
	res := s.Step(w, []ecs.Command{{Kind: ecs.CmdJoin, Arg: 77}, {Kind: ecs.CmdJoin, Arg: 78}})
	if len(res.Joined) != 2 || res.Joined[0] != (Joined{77, 1}) || res.Joined[1] != (Joined{78, 2}) {
		t.Fatalf("joined %+v", res.Joined)
	}
	res = s.Step(w, []ecs.Command{{Kind: ecs.CmdLeave, Player: 1}, {Kind: ecs.CmdLeave, Player: 9}, {Kind: 99}, {Kind: ecs.CmdInput, Player: 5}})
	if len(res.Left) != 1 || res.Ignored != 3 {
		t.Fatalf("left %v ignored %d, want [1] and 3", res.Left, res.Ignored)
	}
	res = s.Step(w, []ecs.Command{{Kind: ecs.CmdJoin, Arg: 1}})
	if res.Joined[0].ID != 1 {
		t.Errorf("freed id 1 not reused: got %d", res.Joined[0].ID)
	}
	s.Step(w, []ecs.Command{{Kind: ecs.CmdInput, Player: 2, Input: ecs.Input{MoveX: -128, MoveY: -128, Buttons: 0xff}}})
	if in := record(t, w, 2).In; in.MoveX != -127 || in.MoveY != -127 || in.Buttons != 7 {
		t.Errorf("input not clamped: %+v", in)
	}
}

func TestTransitions(t *testing.T) {
	w, s := newTest(t, 5)
	player(w, s, ecs.Position{X: 10, Y: 10})

	// Rejected: one player cannot start a round; the live world is untouched.
	before := w.AppendSnapshot(nil)
	err := s.Transition(w, ecs.PhasePlaying)
	if !errors.Is(err, ErrTransition) || !strings.Contains(err.Error(), "need at least 2 players, have 1") {
		t.Fatalf("got %v", err)
	}
	after := w.AppendSnapshot(nil)
	w.G.Rejected-- // the counter is the only change
	if string(w.AppendSnapshot(nil)) != string(before) {
		t.Fatal("a rejected transition changed the live world")
	}
	w.G.Rejected++
	_ = after

	// Rejected: no such edge.
	if err := s.Transition(w, ecs.PhaseIntermission); err == nil || !strings.Contains(err.Error(), "no edge lobby → intermission") {
		t.Fatalf("got %v", err)
	}

	// Accepted: teams alternate, the orphan and the live world agree.
	for range 4 {
		player(w, s, ecs.Position{X: 10, Y: 10})
	}
	orphan := w.Clone()
	s.enter(orphan, ecs.PhasePlaying)
	if err := s.Transition(w, ecs.PhasePlaying); err != nil {
		t.Fatal(err)
	}
	if ecs.Hash(w) != ecs.Hash(orphan) {
		t.Fatal("committed world differs from the validated orphan")
	}
	teams := map[uint8]int{}
	for id := ecs.NetID(1); id <= 5; id++ {
		teams[record(t, w, id).Player.Team]++
	}
	if teams[1] != 3 || teams[2] != 2 || w.G.Round != 1 || w.G.Rejected != 2 {
		t.Errorf("teams %v round %d rejected %d", teams, w.G.Round, w.G.Rejected)
	}
	// Intermission switches every player's animation state machine and freezes motion.
	if err := s.Transition(w, ecs.PhaseIntermission); err != nil {
		t.Fatal(err)
	}
	s.Step(w, []ecs.Command{{Kind: ecs.CmdInput, Player: 1, Input: ecs.Input{MoveX: 127}}})
	r := record(t, w, 1)
	if r.Vel != (ecs.Velocity{}) {
		t.Errorf("moving during intermission: %+v", r.Vel)
	}
	if r.Anim.Machine == record(t, orphan, 1).Anim.Machine {
		t.Errorf("state machine not switched at intermission (still %d)", r.Anim.Machine)
	}
	// Through the command path, a rejection is reported in the step result.
	res := s.Step(w, []ecs.Command{{Kind: ecs.CmdGameState, Arg: uint32(ecs.PhaseIntermission)}})
	if len(res.Rejected) != 1 || res.Rejected[0].From != ecs.PhaseIntermission {
		t.Errorf("rejections %+v", res.Rejected)
	}
}

func BenchmarkStep(b *testing.B) {
	for _, n := range []int{2000, 100_000} {
		b.Run(itoa(n), func(b *testing.B) {
			w, s := newTest(b, 7)
			s.Populate(w, n)
			for range 60 {
				s.Step(w, nil)
			}
			b.ReportAllocs()
			for b.Loop() {
				s.Step(w, nil)
				_ = ecs.Hash(w)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/entity")
		})
	}
}

func itoa(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return itoa(n/1000) + "k"
	}
	s := ""
	for ; n > 0 || s == ""; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func TestTuningRoundTrip(t *testing.T) {
	c := DefaultConfig()
	c.RunSpeed, c.MinPlayers = 40_000, 5
	b := c.AppendTuning(nil)
	got, err := ParseTuning(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.RunSpeed != 40_000 || got.MinPlayers != 5 || got.WalkSpeed != c.WalkSpeed || got.Brake != c.Brake {
		t.Errorf("round trip: %+v", got)
	}
	bad := [][]byte{nil, b[:5], append([]byte{9}, b[1:]...), func() []byte { x := append([]byte(nil), b...); x[1], x[2], x[3], x[4] = 0, 0, 0, 0; return x }()}
	for i, in := range bad {
		if _, err := ParseTuning(in); !errors.Is(err, ErrTuning) {
			t.Errorf("case %d: got %v, want ErrTuning", i, err)
		}
	}
}

func FuzzParseTuning(f *testing.F) {
	c := DefaultConfig()
	f.Add(c.AppendTuning(nil))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := ParseTuning(b)
		if err != nil {
			return
		}
		if again := cfg.AppendTuning(nil); string(again) != string(b) {
			t.Fatalf("parse → append differs: %x vs %x", again, b)
		}
	})
}

func TestPlaceCanvas(t *testing.T) {
	w, s := newTest(t, 4)
	id := player(w, s, ecs.Position{X: 5_000_000, Y: 7_000_000})
	art := ecs.Art{Width: 320, Height: 200}
	art.Hash[3] = 9
	res := s.Step(w, []ecs.Command{
		{Kind: ecs.CmdPlaceCanvas, Player: id, Art: art},
		{Kind: ecs.CmdPlaceCanvas, Player: 99, Art: art},                          // no such player
		{Kind: ecs.CmdPlaceCanvas, Player: id, Art: ecs.Art{Width: 1, Height: 1}}, // no hash
	})
	if len(res.Placed) != 1 || res.Placed[0].Canvas != 1 || res.Ignored != 2 {
		t.Fatalf("placed %+v, ignored %d", res.Placed, res.Ignored)
	}
	c := w.Canvases()[0]
	if c.Owner != id || c.Pos != (ecs.Position{X: 5_000_000, Y: 7_000_000}) || c.Art != art || c.Placed != 0 {
		t.Errorf("canvas %+v", c)
	}
}
