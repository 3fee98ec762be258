package systems

import (
	"errors"
	"fmt"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/systems/anim"
)

// ErrTransition is wrapped by every rejection of a game-state transition.
var ErrTransition = errors.New("game-state transition rejected")

// allowed lists the edges of the session's phase graph.
var allowed = [3][3]bool{
	ecs.PhaseLobby:        {ecs.PhasePlaying: true},
	ecs.PhasePlaying:      {ecs.PhaseIntermission: true, ecs.PhaseLobby: true},
	ecs.PhaseIntermission: {ecs.PhasePlaying: true, ecs.PhaseLobby: true},
}

// Transition moves the session to phase target the safe way:
//
//  1. preserve the current state: a detached ("orphan") copy of w is made through the
//     canonical snapshot;
//  2. identify the target: the edge from the current phase must exist in the phase graph
//     (lobby → playing → intermission → playing | lobby; playing → lobby);
//  3. transition the orphan: set the phase, assign teams, switch every player's animation
//     state machine (the intermission uses the celebration machine);
//  4. validate the orphan (enough players, balanced teams, every animation reference
//     valid, every player inside the arena);
//  5. commit: only then is the same deterministic transition applied to the live world.
//
// A rejected transition leaves w untouched except for the Rejected counter (which is
// state, so replays and shadows agree on it) and returns an error wrapping ErrTransition
// with the reason.
func (s *Sim) Transition(w *ecs.World, target ecs.Phase) error {
	from := w.G.Phase
	if int(target) >= len(allowed) || !allowed[from][target] {
		w.G.Rejected++
		return fmt.Errorf("%w: no edge %v → %v", ErrTransition, from, target)
	}
	orphan := w.Clone()
	s.enter(orphan, target)
	if err := s.validate(orphan); err != nil {
		w.G.Rejected++
		return fmt.Errorf("%w: %v → %v: %v", ErrTransition, from, target, err)
	}
	s.enter(w, target)
	return nil
}

// enter applies the transition into phase p to w.
func (s *Sim) enter(w *ecs.World, p ecs.Phase) {
	w.G.Phase = p
	w.G.PhaseSince = w.G.Tick
	if p == ecs.PhasePlaying {
		w.G.Round++
	}
	machine := anim.MachinePlayer
	if p == ecs.PhaseIntermission {
		machine = anim.MachineCelebrate
	}
	n := 0
	for id := ecs.NetID(1); id < w.MaxNetID(); id++ { // NetID order: teams alternate
		e, ok := w.Entity(id)
		if !ok {
			continue
		}
		pl := ecs.Get[ecs.Player](w, e, w.C.Player)
		switch p {
		case ecs.PhasePlaying:
			if w.G.Round == 1 || pl.Team == 0 {
				pl.Team = uint8(1 + n%2)
			}
			pl.Score = 0
		case ecs.PhaseLobby:
			pl.Team = 0
		}
		n++
		if err := anim.SetMachine(s.cfg.Lib, ecs.Get[ecs.Anim](w, e, w.C.Anim), machine); err != nil {
			panic(err) // the library was validated in New
		}
	}
}

// validate checks the invariants a committed phase must hold.
func (s *Sim) validate(w *ecs.World) error {
	var teams [3]int
	for id := ecs.NetID(1); id < w.MaxNetID(); id++ {
		r, ok := w.RecordOf(id)
		if !ok {
			continue
		}
		if r.Pos.X < 0 || r.Pos.X > w.G.ArenaW || r.Pos.Y < 0 || r.Pos.Y > w.G.ArenaH {
			return fmt.Errorf("player %d outside the arena", id)
		}
		if err := s.cfg.Lib.CheckAnim(&r.Anim); err != nil {
			return fmt.Errorf("player %d: %w", id, err)
		}
		if r.Player.Team < 3 {
			teams[r.Player.Team]++
		}
	}
	if w.G.Phase == ecs.PhasePlaying {
		if n := w.Len(); n < s.cfg.MinPlayers {
			return fmt.Errorf("need at least %d players, have %d", s.cfg.MinPlayers, n)
		}
		if teams[0] != 0 {
			return fmt.Errorf("%d players without a team", teams[0])
		}
		if d := teams[1] - teams[2]; d > 1 || d < -1 {
			return fmt.Errorf("teams unbalanced: %d vs %d", teams[1], teams[2])
		}
	}
	return nil
}
