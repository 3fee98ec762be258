package game

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shardsim/shardsim/ecs"
)

// session is one server-side client view talking to one client decoder.
type session struct {
	tb   testing.TB
	ring *FrameRing
	enc  *Encoder
	view *ClientView
	dec  *Decoder
	buf  []byte
}

func newSession(tb testing.TB, self ecs.NetID) *session {
	return &session{tb: tb, ring: NewFrameRing(0), enc: NewEncoder(), view: NewClientView(self), dec: NewDecoder()}
}

// send captures w and encodes a snapshot for the view.
func (s *session) send(w *ecs.World) (*Frame, []byte) {
	s.tb.Helper()
	f := s.ring.Capture(w)
	var err error
	s.buf, err = s.enc.AppendSnapshot(s.buf[:0], f, s.view)
	if err != nil {
		s.tb.Fatal(err)
	}
	if len(s.buf) > MaxPacket {
		s.tb.Fatalf("snapshot %d is %d bytes > MaxPacket", f.ID, len(s.buf))
	}
	return f, bytes.Clone(s.buf)
}

// deliver applies msg at the client and checks the entities it updated against f.
func (s *session) deliver(f *Frame, msg []byte) (*Table, error) {
	s.tb.Helper()
	tbl, err := s.dec.Apply(msg)
	if err != nil {
		return nil, err
	}
	if tbl.Hash() != tableHash(tbl.sum, tbl.count) {
		s.tb.Fatal("incremental table hash differs from the recomputed one")
	}
	for id := ecs.NetID(1); id < tbl.MaxNetID(); id++ {
		if tbl.LastUpdate(id) == f.ID {
			got, _ := tbl.Get(id)
			if want, ok := f.Get(id); !ok || got != want {
				s.tb.Fatalf("snapshot %d: entity %d = %+v, frame has %+v (%v)", f.ID, id, got, want, ok)
			}
		}
	}
	return tbl, nil
}

func (s *session) roundTrip(w *ecs.World) (*Frame, *Table) {
	s.tb.Helper()
	f, msg := s.send(w)
	tbl, err := s.deliver(f, msg)
	if err != nil {
		s.tb.Fatalf("snapshot %d: %v", f.ID, err)
	}
	s.view.Ack(s.ring, s.dec.Ack())
	return f, tbl
}

func TestSnapshotFullRoundTrip(t *testing.T) {
	sm := newSim(t, 60, 3)
	w := sm.w
	// Vary every field.
	for i, id := range sm.ids {
		e, _ := w.Entity(id)
		a := ecs.Get[ecs.Anim](w, e, w.C.Anim)
		*a = ecs.Anim{Machine: uint16(i), State: uint16(i * 3), Clip: uint16(i * 7), PrevClip: uint16(i + 1),
			Time: int32(i) * 12345, FadeLeft: int32(i % 5 * 1000), FadeTotal: 4000, Speed: int32(500 + i*100)}
	}
	w.Despawn(sm.ids[10])
	sm.step(1)
	s := newSession(t, sm.ids[0])
	s.view.BytesPerSnapshot = MaxPacket
	f, tbl := s.roundTrip(w)
	if s.enc.Stats.Records != f.Len() {
		t.Fatalf("full snapshot of %d entities sent %d records", f.Len(), s.enc.Stats.Records)
	}
	if tbl.Len() != w.Len() || tbl.Hash() != f.Hash() {
		t.Fatalf("client table: %d entities, hash %x; server frame: %d, %x", tbl.Len(), tbl.Hash(), f.Len(), f.Hash())
	}
	for id := ecs.NetID(1); id < w.MaxNetID(); id++ {
		got, ok1 := tbl.Get(id)
		want, ok2 := f.Get(id)
		if ok1 != ok2 || got != want {
			t.Fatalf("entity %d: client %+v (%v), server %+v (%v)", id, got, ok1, want, ok2)
		}
	}
}

// TestSnapshotDeltaConverges moves, spawns and despawns entities while the client acks
// with a lag, then checks the client's table equals the server's frame once the world is
// still.
func TestSnapshotDeltaConverges(t *testing.T) {
	sm := newSim(t, 500, 4)
	w := sm.w
	s := newSession(t, sm.ids[7])
	var pending []Ack
	for i := range 120 {
		sm.step(0.3)
		if i == 30 {
			for _, id := range sm.ids[100:140] {
				w.Despawn(id)
			}
		}
		if i == 50 {
			for range 20 { // recycles freed ids
				w.Spawn(ecs.Spawn{Pos: ecs.Position{X: 5_000_000, Y: 5_000_000}, Anim: ecs.Anim{Clip: 99, Speed: 1000}})
			}
		}
		f, msg := s.send(w)
		if _, err := s.deliver(f, msg); err != nil {
			t.Fatalf("snapshot %d: %v", f.ID, err)
		}
		pending = append(pending, s.dec.Ack())
		if len(pending) > 2 { // acks arrive two snapshots late
			s.view.Ack(s.ring, pending[0])
			pending = pending[1:]
		}
	}
	var f *Frame
	var tbl *Table
	sm.freeze()
	for range 60 { // the world stands still; the budget drains the backlog
		sm.step(0)
		f, tbl = s.roundTrip(w)
	}
	if tbl.Hash() != f.Hash() || tbl.Len() != w.Len() {
		t.Fatalf("not converged: client %d entities %x, server %d %x", tbl.Len(), tbl.Hash(), f.Len(), f.Hash())
	}
	if s.enc.Stats.Records != 0 || s.enc.Stats.Size > 64 {
		t.Errorf("snapshot of a converged still world: %+v", s.enc.Stats)
	}
}

func TestPacketSizeLimit(t *testing.T) {
	for _, budget := range []int{DefaultBytesPerSnapshot, MaxPacket, 1} {
		sm := newSim(t, 2000, 5)
		s := newSession(t, sm.ids[0])
		s.view.BytesPerSnapshot = budget
		total := 0
		const n = 60
		for range n {
			sm.step(1)
			s.roundTrip(sm.w) // send fails the test on > MaxPacket
			total += s.enc.Stats.Size
		}
		if budget > 1 && total > n*budget+MaxPacket {
			t.Errorf("budget %d B/snapshot: sent %d B in %d snapshots", budget, total, n)
		}
	}
}

// TestFarEntitiesUpdate checks the priority accumulator: with 2000 entities all moving
// and a 400-byte budget, every entity is updated within a bounded number of snapshots,
// and near entities much more often than far ones.
func TestFarEntitiesUpdate(t *testing.T) {
	sm := newSim(t, 2000, 6)
	w := sm.w
	self := sm.ids[0]
	s := newSession(t, self)
	const warm, run = 300, 800
	last := make([]uint32, w.MaxNetID())
	worst := make([]uint32, w.MaxNetID())
	updates := make([]int, w.MaxNetID())
	for i := range warm + run {
		sm.step(1)
		f, tbl := s.roundTrip(w)
		if i < warm {
			continue
		}
		if i == warm && tbl.Len() != w.Len() {
			t.Fatalf("after %d snapshots the client knows %d of %d entities", warm, tbl.Len(), w.Len())
		}
		for id := ecs.NetID(1); id < w.MaxNetID(); id++ {
			if u := tbl.LastUpdate(id); u == f.ID {
				if last[id] != 0 {
					worst[id] = max(worst[id], u-last[id])
				}
				last[id] = u
				updates[id]++
			}
		}
		if tbl.LastUpdate(self) != f.ID {
			t.Fatalf("snapshot %d does not update the client's own moving entity", f.ID)
		}
	}
	var maxGap uint32
	var nearN, nearUp, farN, farUp int
	sf := s.ring.Latest()
	sc := sf.cell[self]
	for id := ecs.NetID(1); id < w.MaxNetID(); id++ {
		if updates[id] < 3 {
			t.Fatalf("entity %d updated %d times in %d snapshots", id, updates[id], run)
		}
		maxGap = max(maxGap, worst[id])
		c := sf.cell[id]
		r := max(absDiff(c&0xffff, sc&0xffff), absDiff(c>>16, sc>>16))
		switch {
		case r <= 1:
			nearN, nearUp = nearN+1, nearUp+updates[id]
		case r >= 6:
			farN, farUp = farN+1, farUp+updates[id]
		}
	}
	t.Logf("worst gap between updates %d snapshots; near entities %.1f updates, far %.1f", maxGap,
		float64(nearUp)/float64(nearN), float64(farUp)/float64(farN))
	if maxGap > 400 {
		t.Errorf("an entity waited %d snapshots for an update", maxGap)
	}
	if nearUp*farN < 5*farUp*nearN {
		t.Errorf("near entities are not favoured: %d updates for %d near, %d for %d far", nearUp, nearN, farUp, farN)
	}
}

// TestLossAndReordering drops, delays and reorders snapshots and acks; every snapshot
// that arrives either decodes to the server's hash or is refused for a missing baseline,
// and the client converges once the world is still.
func TestLossAndReordering(t *testing.T) {
	sm := newSim(t, 300, 7)
	w := sm.w
	s := newSession(t, sm.ids[1])
	rng := rand.New(rand.NewPCG(7, 7))
	type packet struct {
		f   *Frame
		msg []byte
		at  int
	}
	var inflight []packet
	var acks []struct {
		a  Ack
		at int
	}
	applied, missing := 0, 0
	for tick := range 400 {
		still := tick >= 300
		if tick == 300 {
			sm.freeze()
		}
		if still {
			sm.step(0)
		} else {
			sm.step(0.5)
		}
		outage := tick >= 100 && tick < 150 // long enough to outlive KeepTables
		f, msg := s.send(w)
		if !outage && (still || rng.IntN(10) >= 3) {
			inflight = append(inflight, packet{f, msg, tick + rng.IntN(4)})
		}
		// Deliver what is due, in arrival order (so reordered).
		keep := inflight[:0]
		for _, p := range inflight {
			if p.at > tick {
				keep = append(keep, p)
				continue
			}
			_, err := s.deliver(p.f, p.msg)
			switch {
			case err == nil:
				applied++
			case errors.Is(err, ErrBaselineMissing) || errors.Is(err, ErrStale):
				missing++
			default:
				t.Fatalf("snapshot %d: %v", p.f.ID, err)
			}
		}
		inflight = keep
		if !outage && (still || rng.IntN(10) >= 3) {
			acks = append(acks, struct {
				a  Ack
				at int
			}{s.dec.Ack(), tick + rng.IntN(3)})
		}
		keepA := acks[:0]
		for _, a := range acks {
			if a.at > tick {
				keepA = append(keepA, a)
				continue
			}
			s.view.Ack(s.ring, a.a)
		}
		acks = keepA
	}
	tbl := s.dec.Newest()
	f := s.ring.Latest()
	t.Logf("applied %d, refused for a missing baseline %d", applied, missing)
	if tbl != nil && tbl.Hash() != f.Hash() {
		for id := 1; id < len(f.live); id++ {
			a, ok1 := tbl.Get(ecs.NetID(id))
			b, ok2 := f.Get(ecs.NetID(id))
			if ok1 != ok2 || a != b {
				t.Logf("DBG id %d client %v %+v frame %v %+v st %+v ver %d held %v base %d tbl %d", id, ok1, a, ok2, b, s.view.st[id], f.ver[id], s.view.holds(id), s.view.base, tbl.ID)
			}
		}
	}
	if tbl == nil || tbl.Hash() != f.Hash() {
		t.Fatal("client did not converge to the server's frame")
	}
}

func TestApplyErrors(t *testing.T) {
	sm := newSim(t, 20, 8)
	s := newSession(t, sm.ids[0])
	s.view.BytesPerSnapshot = MaxPacket
	f1, full := s.send(sm.w)
	if _, err := s.deliver(f1, full); err != nil {
		t.Fatal(err)
	}
	if _, err := s.dec.Apply(full); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate: %v", err)
	}
	s.view.Ack(s.ring, s.dec.Ack())
	sm.step(1)
	_, delta := s.send(sm.w)
	if h, _, _ := ParseSnapshotHeader(delta); h.Base != f1.ID {
		t.Fatalf("second snapshot has baseline %d, want %d", h.Base, f1.ID)
	}
	if _, err := NewDecoder().Apply(delta); !errors.Is(err, ErrBaselineMissing) {
		t.Errorf("delta on a fresh decoder: %v", err)
	}
	mod := func(b []byte, f func(b []byte)) []byte { b = bytes.Clone(b); f(b); return b }
	fresh := func(msg []byte) error { _, err := NewDecoder().Apply(msg); return err }
	tests := []struct {
		name string
		err  error
		msg  []byte
	}{
		{"hash", ErrHashMismatch, mod(full, func(b []byte) { b[21] ^= 1 })},
		{"magic", ErrCompressed, mod(full, func(b []byte) { b[SnapshotHeaderSize] ^= 1 })},
		{"truncated frame", ErrCompressed, full[:len(full)-5]},
		{"size larger than content", ErrCompressed, mod(full, func(b []byte) { b[29]++ })},
		{"size smaller than content", ErrTooLarge, mod(full, func(b []byte) { b[29]-- })},
		{"not zstd", ErrCompressed, append(bytes.Clone(full[:SnapshotHeaderSize]), "hello"...)},
		{"zstd bomb", ErrTooLarge, bomb(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := fresh(tt.msg); !errors.Is(err, tt.err) {
				t.Fatalf("got %v, want %v", err, tt.err)
			}
		})
	}
}

// bomb returns a snapshot message whose small zstd frame inflates to 1 GiB.
func bomb(t *testing.T) []byte {
	t.Helper()
	msg := AppendSnapshotHeader(nil, &SnapshotHeader{ID: 1, Size: MaxPayload})
	big := make([]byte, 8<<20)
	enc := NewEncoder()
	frame := enc.z.EncodeAll(big, nil)
	if len(frame) > 4096 {
		t.Fatalf("bomb frame %d bytes", len(frame))
	}
	return append(msg, frame...)
}

func TestSnapshotAllocs(t *testing.T) {
	sm := newSim(t, 2000, 9)
	s := newSession(t, sm.ids[0])
	for range DefaultFrameHistory + 10 { // fill the frame ring and the views' history

		sm.step(1)
		s.roundTrip(sm.w)
	}
	f := s.ring.Latest()
	buf := make([]byte, 0, MaxPacket)
	if n := testing.AllocsPerRun(50, func() {
		sm.step(1)
		f = s.ring.Capture(sm.w)
		var err error
		buf, err = s.enc.AppendSnapshot(buf[:0], f, s.view)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.dec.Apply(buf); err != nil {
			t.Fatal(err)
		}
		s.view.Ack(s.ring, s.dec.Ack())
	}); n != 0 {
		t.Fatalf("capture + encode + apply + ack allocate %v times per snapshot", n)
	}
}

func TestQuantize(t *testing.T) {
	q := Quantizer{ArenaW: 256_000_000, ArenaH: 1_000, Rate: 30}
	var a ecs.Anim
	for _, tt := range []struct {
		in   int32
		want uint16
	}{{-5, 0}, {0, 0}, {1953, 0}, {1954, 1}, {256_000_000, 65535}, {300_000_000, 65535}} {
		if e := q.Entity(0, ecs.Position{X: tt.in}, ecs.Velocity{}, ecs.Heading{}, &a, 0); e.X != tt.want {
			t.Errorf("X(%d) = %d, want %d", tt.in, e.X, tt.want)
		}
	}
	for _, tt := range []struct {
		in   int32
		want int8
	}{{31, 0}, {32, 1}, {-32, 0}, {-33, -1}, {1 << 30, 127}, {-1 << 30, -127}} {
		if e := q.Entity(0, ecs.Position{}, ecs.Velocity{X: tt.in}, ecs.Heading{}, &a, 0); e.VX != tt.want {
			t.Errorf("VX(%d) = %d, want %d", tt.in, e.VX, tt.want)
		}
	}
	if e := q.Entity(0, ecs.Position{}, ecs.Velocity{}, ecs.Heading{Angle: 65535}, &a, 0); e.Head != 0 {
		t.Errorf("heading just below a full turn quantizes to %d, want 0", e.Head)
	}
	// TimeRef is constant while a clip plays at constant speed and gives back the time.
	tickUs := int64(ecs.MicrosPerSecond / 30)
	for _, speed := range []int32{1000, 1500, 250} {
		a := ecs.Anim{Speed: speed, Time: 123_456}
		var ref uint16
		for tick := uint64(1_000_000); tick < 1_000_100; tick++ {
			e := q.Entity(tick, ecs.Position{}, ecs.Velocity{}, ecs.Heading{}, &a, 0)
			if tick > 1_000_000 && e.TimeRef != ref && speed == 1000 {
				t.Fatalf("speed %d: TimeRef changed at tick %d", speed, tick)
			}
			ref = e.TimeRef
			if got := TimeAt(e.TimeRef, e.Speed, tick, tickUs, 0); got/1000 < int64(a.Time)/1000-1 || got/1000 > int64(a.Time)/1000+1 {
				t.Fatalf("speed %d tick %d: TimeAt = %d µs, anim time %d µs", speed, tick, got, a.Time)
			}
			a.Time += int32(tickUs * int64(speed) / 1000)
		}
	}
	// A looping clip's TimeRef is taken modulo its period: constant across loops, and
	// TimeAt with the period gives back the time within the loop.
	const period = 700_000 // µs
	ql := q
	ql.ClipPeriods = []int32{3: period}
	for _, speed := range []int32{1000, 1500} {
		a := ecs.Anim{Clip: 3, Speed: speed, Time: 654_321}
		var ref uint16
		for tick := uint64(2_000_000); tick < 2_000_200; tick++ { // 6.7 s: several loops
			e := ql.Entity(tick, ecs.Position{}, ecs.Velocity{}, ecs.Heading{}, &a, 0)
			if tick > 2_000_000 && e.TimeRef != ref && speed == 1000 {
				t.Fatalf("looping, speed %d: TimeRef changed at tick %d (%d → %d)", speed, tick, ref, e.TimeRef)
			}
			ref = e.TimeRef
			got := TimeAt(e.TimeRef, e.Speed, tick, tickUs, period)
			if d := (got - int64(a.Time) + period) % period; d > 1000 && d < period-1000 {
				t.Fatalf("looping, speed %d tick %d: TimeAt = %d µs, anim time %d µs", speed, tick, got, a.Time)
			}
			a.Time = int32((int64(a.Time) + tickUs*int64(speed)/1000) % period)
		}
	}
}

// stillSession returns a frozen world of 3 entities and a session whose client holds
// all of them (the full snapshot applied and acked): tests then change one entity.
func stillSession(t *testing.T) (*sim, *session) {
	t.Helper()
	sm := newSim(t, 3, 9)
	sm.freeze()
	s := newSession(t, sm.ids[0])
	s.roundTrip(sm.w)
	return sm, s
}

// TestPositionWidth: a position delta takes bits by its size (Rice-coded zigzag), and
// every size decodes to the frame's value.
func TestPositionWidth(t *testing.T) {
	sm, s := stillSession(t)
	w := sm.w
	move := func(id ecs.NetID, dx int32) {
		e, _ := w.Entity(id)
		ecs.Get[ecs.Position](w, e, w.C.Pos).X += dx
	}
	var prev int
	for _, tc := range []struct {
		name string
		dx   int32 // µm: a step of the 256 m arena is ≈ 3,906 µm
	}{
		{"one step", 3906},
		{"small step back", -20 * 3906},
		{"large step", 2000 * 3906},
		{"across the arena", -60000 * 3906},
	} {
		move(sm.ids[1], tc.dx)
		w.G.Tick++
		f, _ := s.roundTrip(w) // deliver checks the decoded values against f
		if len(s.enc.p.ids) != 1 || s.enc.p.masks[0] != GroupPos {
			t.Fatalf("%s: records %v masks %v, want one position record", tc.name, s.enc.p.ids, s.enc.p.masks)
		}
		if n := s.enc.Stats.Raw; n < prev {
			t.Errorf("%s: payload %d bytes, less than the smaller step's %d (frame %d)", tc.name, n, prev, f.ID)
		} else {
			prev = n
		}
	}
}

// TestPayloadCoding: payloads round-trip at the edges of every column's range and of
// the Rice codes (escapes), parse → append gives the same bytes, and malformed
// bitstreams are corrupt.
func TestPayloadCoding(t *testing.T) {
	var p payload
	edge := []Entity{
		{},
		{X: 1, Y: 0xffff, Head: 255, VX: -128, VY: 127, Machine: 0xffff, State: 0xffff, Clip: 1, Speed: 0xffff, TimeRef: 0x8000, PrevClip: 0xffff, Fade: 255, Team: 255},
		{X: 0x7fff, Y: 0x8000, Head: 1, VX: 127, VY: -128, Machine: 1, State: 300, Clip: 0xffff, Speed: 1000, TimeRef: 0x7fff, PrevClip: 2, Fade: 1, Team: 1},
	}
	const snap = 1000
	seen := seenMap{} // the baseline values' snapshots: ages 1 to 3,000
	for i := range edge {
		p.add(uint16(1+i*1000), diffMask(&zeroEntity, &edge[i])|FlagNew, &zeroEntity, &edge[i], 0)
		for j := range edge {
			if b, c := &edge[i], &edge[j]; sameIdentity(b, c) && i != j {
				id, age := uint16(40000+i*10+j), uint32(1+(i*7+j*300)%3000)
				p.add(id, diffMask(b, c), b, c, age)
				seen[id] = snap - age
			}
		}
	}
	p.rem = append(p.rem, 7, 8, MaxWireID)
	raw := p.append(nil)
	var q payload
	if err := q.parse(raw, snap, seen); err != nil {
		t.Fatalf("parse: %v", err)
	}
	if !slices.Equal(q.ids, p.ids) || !slices.Equal(q.masks, p.masks) || !slices.Equal(q.rem, p.rem) {
		t.Fatalf("ids %v masks %v rem %v, want %v %v %v", q.ids, q.masks, q.rem, p.ids, p.masks, p.rem)
	}
	for c := range columns {
		if !slices.Equal(q.cols[c], p.cols[c]) {
			t.Errorf("column %d: %v, want %v", c, q.cols[c], p.cols[c])
		}
	}
	if again := q.append(nil); !bytes.Equal(again, raw) {
		t.Fatalf("parse → append: %x, want %x", again, raw)
	}

	// One record (id 5, mask GroupHead, Head h) coded by hand: counts (nrem 0 with k 0,
	// nrec 1 with k 5), the prediction scale of the baseline (1 bit), then the lists.
	one := func(bitsLSB ...[2]uint32) []byte {
		w := bitWriter{}
		w.write(0, 1)
		w.write(0, 1)
		w.write(1, 5)
		w.write(1, 1)
		for _, x := range bitsLSB {
			w.write(x[0], uint(x[1]))
		}
		return w.flush()
	}
	if maskIndex[GroupHead] != 33 || maskAt[33] != GroupHead {
		t.Fatalf("GroupHead at index %d of the mask order, want 33 (the hand-coded payloads say so)", maskIndex[GroupHead])
	}
	ids := [][2]uint32{{0, 4}, {0xf, 5}}                  // k 0, id gap 5 − 1 (4 ones, a zero)
	dict := [][2]uint32{{0, 3}, {5, 4}, {0x1, 2}, {1, 5}} // d − 1 = 0 (k 2); k 5, index 33 (q 1, low 1)
	rank := [][2]uint32{{0, 4}, {0, 1}}                   // k 0, rank 0
	cat := func(parts ...[][2]uint32) [][2]uint32 { return slices.Concat(parts...) }
	valid := one(cat(ids, dict, rank, [][2]uint32{{7, 4}, {0x1, 2}, {0x7f, 7}})...) // k 7, Head 255 (q 1, low 127)
	if err := new(payload).parse(valid, 2, seenMap{5: 1}); err != nil {
		t.Fatalf("hand-coded payload: %v", err)
	}
	if err := new(payload).parse(valid, 2, emptyTable{}); err != ErrCorrupt {
		t.Errorf("the baseline's prediction scale with no baseline: %v, want ErrCorrupt", err)
	}
	for _, tc := range []struct {
		name string
		raw  []byte
	}{
		{"trailing byte", append(slices.Clone(valid), 0)},
		{"padding not zero", func() []byte { b := slices.Clone(valid); b[len(b)-1] |= 0x80; return b }()},
		{"short", valid[:len(valid)-1]},
		{"head above 255", one(cat(ids, dict, rank, [][2]uint32{{8, 4}, {0x1, 2}, {0, 8}})...)}, // k 8, q 1: 256
		{"escape coding a short number", one(cat(ids, dict, rank, [][2]uint32{{0, 4}, {0xffff, 16}, {3, 16}})...)},
		{"rank beyond the dictionary", one(cat(ids, dict, [][2]uint32{{0, 4}, {1, 2}, {0, 4}, {0, 1}})...)},
		{"mask index beyond 255", one(cat(ids, [][2]uint32{{0, 3}, {0, 4}, {0xffff, 16}, {256, 16}}, rank)...)},
		{"id beyond MaxWireID", one([2]uint32{0, 4}, [2]uint32{0xffff, 16}, [2]uint32{0xffff, 16})}, // a gap of 65536
	} {
		if err := new(payload).parse(tc.raw, 2, seenMap{5: 1}); err != ErrCorrupt {
			t.Errorf("%s: %v, want ErrCorrupt", tc.name, err)
		}
	}
}

// TestIdentityChange: Machine and Team travel only in new records, so an entity whose
// team changes is removed and sent new in the same snapshot; the client's table follows
// (deliver checks it against the frame, Apply the hash).
func TestIdentityChange(t *testing.T) {
	sm, s := stillSession(t)
	w := sm.w
	id := sm.ids[1]
	e, _ := w.Entity(id)
	ecs.Get[ecs.Player](w, e, w.C.Player).Team = 3
	w.G.Tick++
	_, tbl := s.roundTrip(w)
	if got, _ := tbl.Get(id); got.Team != 3 {
		t.Fatalf("team %d after the change, want 3", got.Team)
	}
	if !slices.Contains(s.enc.p.rem, uint16(id)) {
		t.Errorf("removals %v lack entity %d", s.enc.p.rem, id)
	}
	for i, rid := range s.enc.p.ids {
		if rid == uint16(id) && s.enc.p.masks[i]&FlagNew == 0 {
			t.Errorf("entity %d sent with mask %#x, want a new record", id, s.enc.p.masks[i])
		}
	}
	w.G.Tick++
	if _, tbl = s.roundTrip(w); tbl.Len() != 3 {
		t.Fatalf("%d entities after the change, want 3", tbl.Len())
	}
}

// TestBudgetAcrossResets: a client whose acks stop for longer than MaxBaseDistance
// snapshots, again and again, has its view reset each time (full snapshots again), yet
// its downlink stays within the token bucket: BytesPerSnapshot per snapshot, give or
// take the last snapshot's overshoot.
func TestBudgetAcrossResets(t *testing.T) {
	sm := newSim(t, 1000, 3)
	s := newSession(t, sm.ids[0])
	const silence = MaxBaseDistance + 8
	const snaps = 6 * silence
	total, resets := 0, 0
	for i := range snaps {
		sm.step(1)
		f, msg := s.send(sm.w)
		total += len(msg)
		if h, _, _ := ParseSnapshotHeader(msg); h.Base == 0 && i > 0 {
			resets++
		}
		if i%silence == 0 { // one ack, then silence
			s.view.Ack(s.ring, Ack{Newest: f.ID})
		}
	}
	if resets < 4 {
		t.Fatalf("%d full snapshots after the first, want resets", resets)
	}
	if limit := snaps*s.view.BytesPerSnapshot + s.view.BytesPerSnapshot/8; total > limit {
		t.Fatalf("%d bytes in %d snapshots with %d resets, want ≤ %d", total, snaps, resets, limit)
	}
}

// TestValueOlderThanRing: a view reads the values its baseline holds from the frames
// they came from. In a world of walkers with a budget that leaves far entities unsent
// for longer than a short ring, their old values are gone when they are sent at last:
// they go out as a removal and a new record, and the client follows (deliver checks
// every value written against the frame, Apply the hash).
func TestValueOlderThanRing(t *testing.T) {
	sm := newSim(t, 300, 9)
	s := newSession(t, sm.ids[0])
	s.ring = NewFrameRing(KeepTables + 8)
	s.view.BytesPerSnapshot = 120
	respawned := 0
	for range 400 {
		sm.step(1)
		s.roundTrip(sm.w)
		for i, id := range s.enc.p.ids {
			if s.enc.p.masks[i]&FlagNew != 0 && slices.Contains(s.enc.p.rem, id) {
				respawned++
			}
		}
	}
	if respawned == 0 {
		t.Fatal("no entity was sent as removed and new: the ring never lost a baseline value")
	}
	if tbl := s.dec.Newest(); tbl.Len() != s.ring.Latest().Len() {
		t.Fatalf("client holds %d entities, the world %d", tbl.Len(), s.ring.Latest().Len())
	}
	t.Logf("%d records sent as removed and new", respawned)
}

// TestNewRecordDeltas: the values of new records in a column that most of them share
// (Speed, Machine, Team) are delta-coded, those that differ (positions) whole, and
// both decode back.
func TestNewRecordDeltas(t *testing.T) {
	var p payload
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 40 {
		e := Entity{X: uint16(rng.Uint32()), Y: uint16(rng.Uint32()), Machine: 3, State: 1, Clip: 7, Speed: 1000, TimeRef: uint16(rng.Uint32()), Team: 2}
		if i == 17 {
			e.Speed, e.Team = 1500, 255 // one differs
		}
		p.add(uint16(10+i*3), diffMask(&zeroEntity, &e)|FlagNew, &zeroEntity, &e, 0)
	}
	raw := p.append(nil)
	for i, want := range map[int]bool{0: false, 1: false, 10: true, 11: true, 12: true} { // X, Y, Speed, Machine, Team
		if p.delta[i] != want {
			t.Errorf("column %d delta-coded: %v, want %v", i, p.delta[i], want)
		}
	}
	var q payload
	if err := q.parse(raw, 1, seenMap{}); err != nil {
		t.Fatal(err)
	}
	for c := range columns {
		if !slices.Equal(q.cols[c], p.cols[c]) {
			t.Errorf("column %d: %v, want %v", c, q.cols[c], p.cols[c])
		}
	}
	if again := q.append(nil); !bytes.Equal(again, raw) {
		t.Fatal("parse → append differs")
	}
}

// TestAddDelta: the unrolled addValues adds what the columns table says for every
// group of a record, new or not.
func TestAddDelta(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ent := func() Entity {
		return Entity{X: uint16(rng.Uint32()), Y: uint16(rng.Uint32()), Head: uint8(rng.Uint32()), VX: int8(rng.Uint32()), VY: int8(rng.Uint32()),
			State: uint16(rng.Uint32()), Clip: uint16(rng.Uint32()), Speed: uint16(rng.Uint32()), TimeRef: uint16(rng.Uint32()),
			PrevClip: uint16(rng.Uint32()), Fade: uint8(rng.Uint32())}
	}
	var fast, generic payload
	for range 200 {
		b, c := ent(), ent()
		c.Machine, c.Team = uint16(rng.Uint32()), uint8(rng.Uint32())
		m := uint8(rng.Uint32())
		if m&FlagNew != 0 {
			fast.add(1, m, &zeroEntity, &c, 0)
			addGeneric(&generic, m, listNew, &zeroEntity, &c)
		} else {
			fast.add(1, m, &b, &c, 1)
			addGeneric(&generic, m, listCols, &b, &c)
		}
	}
	for i := range columns {
		for _, l := range []int{listCols, listNew} {
			if !slices.Equal(fast.wire[l+i], generic.wire[l+i]) || fast.sum[l+i] != generic.sum[l+i] {
				t.Errorf("list %d: add and the columns table differ", l+i)
			}
		}
		if !slices.Equal(fast.cols[i], generic.cols[i]) || fast.dsum[i] != generic.dsum[i] {
			t.Errorf("column %d: add and the columns table differ", i)
		}
	}
}

// addGeneric is the reference for payload.addValues: it adds the values of a record to
// the lists that start at l (listCols or listNew) by walking the columns table.
func addGeneric(p *payload, m uint8, l int, b, c *Entity) {
	for i := range columns {
		col := &columns[i]
		if m&col.group != 0 {
			v := col.get(b, c)
			u := toWire(col.kind, v)
			p.cols[i] = append(p.cols[i], v)
			p.wire[l+i] = append(p.wire[l+i], u)
			p.sum[l+i] += uint64(u)
			if l == listNew {
				p.dsum[i] += uint64(toDelta(col.kind, v, p.prevNew[i]))
				p.prevNew[i] = v
			}
		}
	}
}
