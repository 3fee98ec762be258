package replay

import (
	"testing"

	"github.com/shardsim/shardsim/ecs"
)

func TestDiffStates(t *testing.T) {
	rec := &ecs.State{
		G:        ecs.Globals{Tick: 5, Rate: 30, ArenaW: 10, ArenaH: 10},
		Records:  []ecs.Record{{Net: 1}, {Net: 2, Pos: ecs.Position{X: 3}}, {Net: 4}},
		Canvases: []ecs.Canvas{{ID: 1, Art: ecs.Art{Width: 2, Height: 2}}, {ID: 3}},
	}
	comp := &ecs.State{
		G:        ecs.Globals{Tick: 6, Rate: 30, ArenaW: 10, ArenaH: 10},
		Records:  []ecs.Record{{Net: 1}, {Net: 2, Pos: ecs.Position{X: 4}}, {Net: 3}},
		Canvases: []ecs.Canvas{{ID: 1, Art: ecs.Art{Width: 2, Height: 3}}},
	}
	got := DiffStates(rec, comp)
	want := []FieldDiff{
		{Component: "Globals", Field: "Tick", Recorded: "5", Computed: "6"},
		{Component: "Canvas 1", Field: "Art.Height", Recorded: "2", Computed: "3"},
		{Component: "Canvas 3", Field: "(canvas)", Recorded: "present", Computed: "absent"},
		{Entity: 2, Component: "Pos", Field: "X", Recorded: "3", Computed: "4"},
		{Entity: 3, Component: "Entity", Field: "(entity)", Recorded: "absent", Computed: "present"},
		{Entity: 4, Component: "Entity", Field: "(entity)", Recorded: "present", Computed: "absent"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d diffs:\n%v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("diff %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
