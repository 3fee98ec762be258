package golden

import (
	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/systems"
)

// Scenario is a deterministic simulation: a world, its bots, its systems tuning and a
// script of external commands per tick.
type Scenario struct {
	Name     string
	Seed     uint64
	Entities int // scripted bots spawned before the first tick
	Ticks    uint64
	// Tune adjusts the default systems configuration (nil: defaults).
	Tune func(*systems.Config)
	// Script returns the external commands of a tick (nil: none). It must depend only
	// on its arguments.
	Script func(tick uint64, w *ecs.World, buf []ecs.Command) []ecs.Command
}

// Config returns the scenario's systems configuration.
func (s *Scenario) Config() systems.Config {
	c := systems.DefaultConfig()
	if s.Tune != nil {
		s.Tune(&c)
	}
	return c
}

// Scenarios lists every golden scenario. Their recordings are testdata/<Name>.replay.
var Scenarios = []Scenario{
	{Name: "crowd", Seed: 7, Entities: 2000, Ticks: 900},
	{Name: "walls", Seed: 11, Ticks: 240, Tune: fastRunners, Script: wallScript},
	{Name: "animation", Seed: 13, Ticks: 720, Script: animationScript},
	{Name: "churn", Seed: 17, Entities: 60, Ticks: 600, Script: churnScript},
	{Name: "gamestate", Seed: 19, Ticks: 450, Script: gameStateScript},
	{Name: "idleburst", Seed: 23, Ticks: 900, Script: idleBurstScript},
}

// Lookup returns the scenario called name.
func Lookup(name string) (*Scenario, bool) {
	for i := range Scenarios {
		if Scenarios[i].Name == name {
			return &Scenarios[i], true
		}
	}
	return nil, false
}

func input(id ecs.NetID, mx, my int8, buttons uint8) ecs.Command {
	return ecs.Command{Kind: ecs.CmdInput, Player: id, Input: ecs.Input{MoveX: mx, MoveY: my, Buttons: buttons}}
}

func fastRunners(c *systems.Config) {
	c.RunSpeed = 40_000 // 1.3 m per tick at 30 Hz: wall contact overshoots by a lot
	c.Accel = 200_000
}

// wallScript: 24 players join, then run in eight directions (the four walls head-on and
// the four corners diagonally), turn along the walls, and stop.
func wallScript(tick uint64, w *ecs.World, buf []ecs.Command) []ecs.Command {
	dirs := [8][2]int8{{127, 0}, {-127, 0}, {0, 127}, {0, -127}, {127, 127}, {-127, 127}, {127, -127}, {-127, -127}}
	switch {
	case tick == 0:
		for i := range 24 {
			buf = append(buf, ecs.Command{Kind: ecs.CmdJoin, Arg: uint32(i)})
		}
	case tick == 1:
		for id := ecs.NetID(1); id <= 24; id++ {
			d := dirs[int(id)%8]
			buf = append(buf, input(id, d[0], d[1], ecs.ButtonRun))
		}
	case tick == 150: // slide along the walls
		for id := ecs.NetID(1); id <= 24; id++ {
			d := dirs[(int(id)+2)%8]
			buf = append(buf, input(id, d[0], d[1], ecs.ButtonRun))
		}
	case tick == 210:
		for id := ecs.NetID(1); id <= 24; id++ {
			buf = append(buf, input(id, 0, 0, ecs.ButtonStop))
		}
	}
	return buf
}

// animationScript drives 6 players through every state of the player machine: idle,
// walk, run, brake, walk again, wave (ping-pong), dance (nearest keys, no loop), and
// every crossfade between them.
func animationScript(tick uint64, w *ecs.World, buf []ecs.Command) []ecs.Command {
	if tick == 0 {
		for i := range 6 {
			buf = append(buf, ecs.Command{Kind: ecs.CmdJoin, Arg: uint32(i)})
		}
		return buf
	}
	phases := []struct {
		at      uint64
		mx, my  int8
		buttons uint8
		emote   uint8
	}{
		{10, 127, 0, 0, 0},               // idle → walk
		{70, 127, 0, ecs.ButtonRun, 0},   // walk → run
		{130, 0, 0, ecs.ButtonStop, 0},   // run → brake → idle
		{170, 0, 127, 0, 0},              // idle → walk
		{200, 0, 0, 0, 0},                // walk → idle (friction)
		{260, 0, 0, ecs.ButtonEmote, 0},  // idle → wave
		{330, 0, 0, 0, 0},                // wave → idle at end of a cycle
		{440, 0, 0, ecs.ButtonEmote, 1},  // idle → dance
		{520, -127, 0, 0, 0},             // dance → walk
		{540, -60, 60, ecs.ButtonRun, 0}, // half-stick run
		{600, 0, 0, 0, 0},                // run → idle
	}
	for _, p := range phases {
		// Players start the sequence staggered by 7 ticks, so fades overlap differently.
		for id := ecs.NetID(1); id <= 6; id++ {
			if tick == p.at+uint64(id)*7 {
				c := input(id, p.mx, p.my, p.buttons)
				c.Input.Emote = p.emote
				buf = append(buf, c)
			}
		}
	}
	return buf
}

// churnScript: players join and leave continuously; freed ids are recycled.
func churnScript(tick uint64, w *ecs.World, buf []ecs.Command) []ecs.Command {
	if tick%5 == 0 {
		buf = append(buf, ecs.Command{Kind: ecs.CmdJoin, Arg: uint32(tick)})
	}
	if tick%3 == 0 && w.Len() > 0 {
		// Leave the id picked by a fixed walk over the id space (may be free: ignored).
		id := ecs.NetID(1 + (tick*7919)%uint64(w.MaxNetID()))
		buf = append(buf, ecs.Command{Kind: ecs.CmdLeave, Player: id})
	}
	if tick%11 == 0 {
		for id := ecs.NetID(1); id < w.MaxNetID(); id += 3 {
			buf = append(buf, input(id, int8(tick), int8(tick>>1), uint8(tick%4)))
		}
	}
	return buf
}

// gameStateScript: a lone player tries to start a round (rejected on the orphan copy and
// rolled back), friends join, the round starts, an invalid edge is refused, two players
// place canvases, the intermission switches state machines, and a second round begins.
func gameStateScript(tick uint64, w *ecs.World, buf []ecs.Command) []ecs.Command {
	gs := func(p ecs.Phase) ecs.Command { return ecs.Command{Kind: ecs.CmdGameState, Arg: uint32(p)} }
	switch tick {
	case 0:
		buf = append(buf, ecs.Command{Kind: ecs.CmdJoin, Arg: 1})
	case 30:
		buf = append(buf, gs(ecs.PhasePlaying)) // rejected: 1 player
	case 40:
		for i := range 7 {
			buf = append(buf, ecs.Command{Kind: ecs.CmdJoin, Arg: uint32(10 + i)})
		}
	case 60:
		buf = append(buf, gs(ecs.PhaseIntermission)) // rejected: no edge from lobby
	case 61:
		buf = append(buf, gs(ecs.PhasePlaying))
	case 62:
		for id := ecs.NetID(1); id <= 8; id++ {
			buf = append(buf, input(id, int8(id*15), -int8(id*10), ecs.ButtonRun))
		}
	case 100, 101: // two players hang an artwork each where they stand
		art := ecs.Art{Width: 640, Height: 480}
		art.Hash[0], art.Hash[1] = byte(tick), 0x5a
		buf = append(buf, ecs.Command{Kind: ecs.CmdPlaceCanvas, Player: ecs.NetID(1 + tick%2), Art: art})
	case 250:
		buf = append(buf, gs(ecs.PhaseIntermission))
	case 330:
		buf = append(buf, ecs.Command{Kind: ecs.CmdJoin, Arg: 99}, gs(ecs.PhasePlaying))
	case 400:
		buf = append(buf, gs(ecs.PhaseLobby))
	}
	return buf
}

// idleBurstScript: 300 players stand still for 600 ticks, then everyone runs at once.
func idleBurstScript(tick uint64, w *ecs.World, buf []ecs.Command) []ecs.Command {
	switch tick {
	case 0:
		for i := range 300 {
			buf = append(buf, ecs.Command{Kind: ecs.CmdJoin, Arg: uint32(i)})
		}
	case 600:
		for id := ecs.NetID(1); id <= 300; id++ {
			buf = append(buf, input(id, int8(id*37), int8(id*53), ecs.ButtonRun))
		}
	case 800:
		for id := ecs.NetID(1); id <= 300; id += 2 {
			buf = append(buf, input(id, 0, 0, ecs.ButtonStop))
		}
	}
	return buf
}
