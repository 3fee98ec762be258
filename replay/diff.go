package replay

import (
	"fmt"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/shardsim/shardsim/ecs"
)

// FieldDiff is one field that differs between a recorded and a recomputed world.
type FieldDiff struct {
	Entity    ecs.NetID `json:"entity"`    // 0 for world globals
	Component string    `json:"component"` // e.g. "Pos", "Anim", "Globals"
	Field     string    `json:"field"`     // e.g. "X", "Time"; "(entity)" when an entity exists on one side only
	Recorded  string    `json:"recorded"`
	Computed  string    `json:"computed"`
}

func (d FieldDiff) String() string {
	who := "globals"
	if d.Entity != 0 {
		who = fmt.Sprintf("entity %d", d.Entity)
	}
	return fmt.Sprintf("%s %s.%s: recorded %s, recomputed %s", who, d.Component, d.Field, d.Recorded, d.Computed)
}

// leafReporter is a cmp.Reporter collecting the differing leaves of a comparison.
type leafReporter struct {
	path  cmp.Path
	diffs []FieldDiff
	id    ecs.NetID
	comp  string // component name used when the path has a single element
}

func (r *leafReporter) PushStep(ps cmp.PathStep) { r.path = append(r.path, ps) }
func (r *leafReporter) PopStep()                 { r.path = r.path[:len(r.path)-1] }
func (r *leafReporter) Report(rs cmp.Result) {
	if rs.Equal() {
		return
	}
	vx, vy := r.path.Last().Values()
	p := strings.TrimPrefix(r.path.GoString(), "{"+r.path.Index(0).Type().String()+"}")
	p = strings.TrimPrefix(p, ".")
	comp, field, ok := strings.Cut(p, ".")
	if !ok {
		comp, field = r.comp, p
	}
	r.diffs = append(r.diffs, FieldDiff{Entity: r.id, Component: comp, Field: field,
		Recorded: fmt.Sprint(vx), Computed: fmt.Sprint(vy)})
}

// DiffStates lists the fields that differ between a recorded and a recomputed state:
// globals first, then entities in NetID order. Entities are first compared by their
// record hash (ecs.HashRecord), and only those whose hashes differ are diffed field by
// field, so a large world with one divergent entity costs one hash per entity.
func DiffStates(recorded, computed *ecs.State) []FieldDiff {
	var out []FieldDiff
	rep := &leafReporter{comp: "Globals"}
	cmp.Equal(recorded.G, computed.G, cmp.Reporter(rep))
	out = append(out, rep.diffs...)
	if recorded.Rand != computed.Rand {
		out = append(out, FieldDiff{Component: "Globals", Field: "Rand",
			Recorded: fmt.Sprintf("%x", recorded.Rand), Computed: fmt.Sprintf("%x", computed.Rand)})
	}
	out = append(out, diffCanvases(recorded.Canvases, computed.Canvases)...)
	a, b := recorded.Records, computed.Records
	for len(a) > 0 || len(b) > 0 {
		switch {
		case len(b) == 0 || (len(a) > 0 && a[0].Net < b[0].Net):
			out = append(out, FieldDiff{Entity: a[0].Net, Component: "Entity", Field: "(entity)", Recorded: "present", Computed: "absent"})
			a = a[1:]
		case len(a) == 0 || b[0].Net < a[0].Net:
			out = append(out, FieldDiff{Entity: b[0].Net, Component: "Entity", Field: "(entity)", Recorded: "absent", Computed: "present"})
			b = b[1:]
		default:
			if ecs.HashRecord(&a[0]) != ecs.HashRecord(&b[0]) {
				rep := &leafReporter{id: a[0].Net, comp: "Record"}
				cmp.Equal(a[0], b[0], cmp.Reporter(rep))
				out = append(out, rep.diffs...)
			}
			a, b = a[1:], b[1:]
		}
	}
	return out
}

// diffCanvases lists canvases that differ or exist on one side only (Entity 0,
// Component "Canvas <id>").
func diffCanvases(rec, comp []ecs.Canvas) []FieldDiff {
	var out []FieldDiff
	for len(rec) > 0 || len(comp) > 0 {
		switch {
		case len(comp) == 0 || (len(rec) > 0 && rec[0].ID < comp[0].ID):
			out = append(out, FieldDiff{Component: fmt.Sprintf("Canvas %d", rec[0].ID), Field: "(canvas)", Recorded: "present", Computed: "absent"})
			rec = rec[1:]
		case len(rec) == 0 || comp[0].ID < rec[0].ID:
			out = append(out, FieldDiff{Component: fmt.Sprintf("Canvas %d", comp[0].ID), Field: "(canvas)", Recorded: "absent", Computed: "present"})
			comp = comp[1:]
		default:
			rep := &leafReporter{comp: fmt.Sprintf("Canvas %d", rec[0].ID)}
			cmp.Equal(rec[0], comp[0], cmp.Reporter(rep))
			for _, d := range rep.diffs {
				d.Field = d.Component + "." + d.Field
				d.Component = rep.comp
				out = append(out, d)
			}
			rec, comp = rec[1:], comp[1:]
		}
	}
	return out
}
