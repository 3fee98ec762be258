package systems

import (
	"slices"

	"github.com/shardsim/shardsim/ecs"
)

// BotMode is the behaviour a scripted bot is in (ecs.Brain.Mode).
type BotMode uint8

// Scripted bot behaviours.
const (
	BotIdle   BotMode = iota // stand still
	BotWander                // walk in a random direction
	BotRun                   // run in a random direction
	BotStop                  // brake hard
	BotEmote                 // play an emote
)

// runBots lets every scripted bot whose decision is due pick a new behaviour. Bots draw
// from the one world PRNG, so the due bots are found in arche's storage order, then
// sorted and served in NetID order (DESIGN.md: order is canonical).
func (s *Sim) runBots(w *ecs.World) {
	tick := w.G.Tick
	rate := uint32(w.G.Rate)
	s.due = s.due[:0]
	q := w.Arche().Query(w.Bots())
	for q.Next() {
		if (*ecs.Brain)(q.Get(w.C.Brain)).NextTick <= tick {
			s.due = append(s.due, (*ecs.ID)(q.Get(w.C.ID)).Net)
		}
	}
	slices.Sort(s.due)
	for _, id := range s.due {
		e, _ := w.Entity(id)
		b := ecs.Get[ecs.Brain](w, e, w.C.Brain)
		// Durations in ticks: base + random, in units of half a second.
		half := max(rate/2, 1)
		var in ecs.Input
		var mode BotMode
		var dur uint32
		switch r := w.RandN(100); {
		case r < 25:
			mode, dur = BotIdle, 2+w.RandN(6)
		case r < 60:
			mode, dur = BotWander, 4+w.RandN(8)
		case r < 80:
			mode, dur = BotRun, 2+w.RandN(4)
			in.Buttons = ecs.ButtonRun
		case r < 88:
			mode, dur = BotStop, 1+w.RandN(2)
			in.Buttons = ecs.ButtonStop
		default:
			mode, dur = BotEmote, 4+w.RandN(4)
			in.Buttons = ecs.ButtonEmote
			in.Emote = uint8(w.RandN(2))
		}
		if mode == BotWander || mode == BotRun {
			in.MoveX = int8(int32(w.RandN(255)) - 127)
			in.MoveY = int8(int32(w.RandN(255)) - 127)
		}
		b.Mode = uint8(mode)
		b.Input = in
		b.NextTick = tick + uint64(dur*half)
		*ecs.Get[ecs.Input](w, e, w.C.Input) = in
	}
}
