package ecs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// testWorld builds a world with n entities of varied content, some despawned so that ids
// have holes, for codec and hash tests.
func testWorld(tb testing.TB, n int) *World {
	tb.Helper()
	w := New(Config{Seed: 42})
	for i := 0; i < n; i++ {
		s := Spawn{
			Pos:     Position{X: int32(w.RandN(uint32(w.G.ArenaW))), Y: int32(w.RandN(uint32(w.G.ArenaH)))},
			Heading: Heading{Angle: uint16(w.RandN(65536))},
			Anim:    Anim{Clip: uint16(i % 5), Time: int32(i * 1000), Speed: 1000},
		}
		if i%3 != 0 {
			s.Brain = &Brain{Mode: uint8(i % 4), NextTick: uint64(i), Input: Input{MoveX: int8(i), Buttons: 1}}
		}
		id := w.Spawn(s)
		e, _ := w.Entity(id)
		*Get[Velocity](w, e, w.C.Vel) = Velocity{X: int32(i) - 50, Y: -int32(i)}
		*Get[Pose](w, e, w.C.Pose) = Pose{V: [PoseChannels]int32{int32(i), -int32(i), 3, Q16}}
		*Get[Player](w, e, w.C.Player) = Player{Team: uint8(i % 3), Score: int32(i * 7)}
	}
	for id := NetID(2); id < w.MaxNetID(); id += 7 {
		w.Despawn(id)
	}
	w.G.Tick = 99
	w.G.Phase = PhasePlaying
	w.G.PhaseSince = 10
	for i := range n / 10 {
		art := Art{Width: uint16(64 + i), Height: 48}
		art.Hash[0], art.Hash[31] = byte(i), 0xaa
		if _, err := w.PlaceCanvas(NetID(i+1), Position{X: int32(i) * 1000, Y: 5000}, Heading{Angle: uint16(i)}, art); err != nil {
			tb.Fatal(err)
		}
	}
	return w
}

func TestSpawnRecyclesLowestFreeID(t *testing.T) {
	w := New(Config{})
	for i := 1; i <= 5; i++ {
		if id := w.Spawn(Spawn{}); id != NetID(i) {
			t.Fatalf("spawn %d: got id %d", i, id)
		}
	}
	w.Despawn(2)
	w.Despawn(4)
	if got := w.Spawn(Spawn{}); got != 2 {
		t.Errorf("after freeing 2 and 4, spawn got %d, want 2", got)
	}
	w.Despawn(5)
	if got := w.MaxNetID(); got != 4 {
		t.Errorf("MaxNetID after removing the last id = %d, want 4 (trailing free ids trimmed)", got)
	}
	if w.Despawn(5) {
		t.Error("despawning a free id reported success")
	}
	if w.Len() != 3 {
		t.Errorf("Len = %d, want 3", w.Len())
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 2, 50, 500} {
		w := testWorld(t, n)
		snap := w.AppendSnapshot(nil)
		st, err := Decode(snap)
		if err != nil {
			t.Fatalf("n=%d: decode: %v", n, err)
		}
		if again := st.Append(nil); !bytes.Equal(again, snap) {
			t.Fatalf("n=%d: decode → append is not byte-identical", n)
		}
		w2, err := Restore(snap)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w2.AppendSnapshot(nil), snap) {
			t.Fatalf("n=%d: restore → snapshot differs", n)
		}
		if Hash(w) != Hash(w2) || Hash(w) != st.Hash() {
			t.Fatalf("n=%d: hashes differ: live %x restored %x state %x", n, Hash(w), Hash(w2), st.Hash())
		}
		if w2.Len() != w.Len() || w2.MaxNetID() != w.MaxNetID() {
			t.Fatalf("n=%d: restored %d entities (max id %d), want %d (%d)", n, w2.Len(), w2.MaxNetID(), w.Len(), w.MaxNetID())
		}
		// The PRNG continues identically.
		if a, b := w.Rand().Uint64(), w2.Rand().Uint64(); a != b {
			t.Fatalf("n=%d: PRNG diverged after restore: %x vs %x", n, a, b)
		}
	}
}

func TestHashSeesEveryField(t *testing.T) {
	w := testWorld(t, 20)
	st := w.State()
	base := st.Hash()
	r := &st.Records[3]
	for i := range fields {
		f := &fields[i]
		if f.name == "Net" || f.name == "HasBrain" {
			continue
		}
		old := f.get(r)
		f.set(r, old^1)
		if st.Hash() == base {
			t.Errorf("flipping %s does not change the hash", f.name)
		}
		f.set(r, old)
	}
	st.G.Round++
	if st.Hash() == base {
		t.Error("changing a global does not change the hash")
	}
}

func TestCloneIsDetached(t *testing.T) {
	w := testWorld(t, 10)
	c := w.Clone()
	h := Hash(w)
	if Hash(c) != h {
		t.Fatal("clone hash differs")
	}
	c.Despawn(1)
	c.G.Phase = PhaseIntermission
	if Hash(w) != h {
		t.Fatal("changing the clone changed the original")
	}
}

func TestDecodeErrors(t *testing.T) {
	good := testWorld(t, 4).AppendSnapshot(nil)
	count := int(binary.LittleEndian.Uint32(good[headerSize-4:]))
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		in   []byte
		is   error
		msg  string
	}{
		{"empty", nil, ErrSnapshotCorrupt, "shorter than"},
		{"magic", mod(func(b []byte) []byte { b[0] = 'X'; return b }), ErrSnapshotCorrupt, "bad magic"},
		{"version", mod(func(b []byte) []byte { b[4] = 9; return b }), ErrSnapshotVersion, "unknown snapshot version 9"},
		{"header truncated", good[:20], ErrSnapshotCorrupt, "header truncated"},
		{"body truncated", good[:len(good)-1], ErrSnapshotCorrupt, "truncated"},
		{"columns truncated", good[:headerSize+3], ErrSnapshotCorrupt, "need"},
		{"trailing", append(bytes.Clone(good), 0), ErrSnapshotCorrupt, "need"},
		{"count huge", mod(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[headerSize-4:], 1<<30); return b }), ErrSnapshotCorrupt, "exceeds limit"},
		{"ids not ascending", mod(func(b []byte) []byte { copy(b[headerSize+4:], b[headerSize:headerSize+4]); return b }), ErrSnapshotCorrupt, "not above previous"},
		{"flag", mod(func(b []byte) []byte { b[headerSize+4*count] = 7; return b }), ErrSnapshotCorrupt, "HasBrain flag 7"},
		{"position", mod(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[headerSize+5*count:], 0xffffffff)
			return b
		}), ErrSnapshotCorrupt, "outside arena"},
		{"phase", mod(func(b []byte) []byte { b[6+26] = 9; return b }), ErrSnapshotCorrupt, "unknown phase"},
		{"rate", mod(func(b []byte) []byte { b[14], b[15] = 0, 0; return b }), ErrSnapshotCorrupt, "globals out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, n := range []int{0, 1, 3, 9} {
		f.Add(testWorld(f, n).AppendSnapshot(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(b)
		if err != nil {
			return
		}
		enc := s.Append(nil)
		if !bytes.Equal(enc, b) {
			t.Fatalf("decode → encode is not identical: %d vs %d bytes", len(enc), len(b))
		}
		w := FromState(s)
		if Hash(w) != s.Hash() {
			t.Fatal("world hash differs from state hash")
		}
		if !bytes.Equal(w.AppendSnapshot(nil), b) {
			t.Fatal("restored world encodes differently")
		}
	})
}

func TestAppendSnapshotAllocs(t *testing.T) {
	w := testWorld(t, 100)
	buf := w.AppendSnapshot(nil)
	if n := testing.AllocsPerRun(20, func() { buf = w.AppendSnapshot(buf[:0]) }); n != 0 {
		t.Errorf("AppendSnapshot allocates %v times per call with a warm buffer", n)
	}
	if n := testing.AllocsPerRun(20, func() { _ = Hash(w) }); n != 0 {
		t.Errorf("Hash allocates %v times per call", n)
	}
}

func BenchmarkHash2000(b *testing.B) {
	w := testWorld(b, 2000)
	b.ReportAllocs()
	for b.Loop() {
		_ = Hash(w)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(w.Len()), "ns/entity")
}

func BenchmarkSnapshot2000(b *testing.B) {
	w := testWorld(b, 2000)
	buf := w.AppendSnapshot(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = w.AppendSnapshot(buf[:0])
	}
}

func TestCanvases(t *testing.T) {
	w := New(Config{Seed: 1})
	art := Art{Width: 640, Height: 480}
	art.Hash[0] = 1
	for i := 1; i <= 3; i++ {
		if id, err := w.PlaceCanvas(1, Position{X: 10, Y: 10}, Heading{}, art); err != nil || id != CanvasID(i) {
			t.Fatalf("place %d: id %d, %v", i, id, err)
		}
	}
	h := Hash(w)
	if !w.RemoveCanvas(2) || w.RemoveCanvas(2) {
		t.Fatal("remove 2 twice")
	}
	if Hash(w) == h {
		t.Fatal("removing a canvas does not change the hash")
	}
	if id, _ := w.PlaceCanvas(1, Position{}, Heading{}, art); id != 2 {
		t.Errorf("freed canvas id not reused: got %d", id)
	}
	got := []CanvasID{}
	for _, c := range w.Canvases() {
		got = append(got, c.ID)
	}
	if len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Errorf("canvases not in id order: %v", got)
	}
	for _, bad := range []Art{{Width: 0, Height: 1, Hash: art.Hash}, {Width: 1, Height: MaxArtSide + 1, Hash: art.Hash}, {Width: 1, Height: 1}} {
		if _, err := w.PlaceCanvas(1, Position{}, Heading{}, bad); err == nil {
			t.Errorf("placing %+v succeeded", bad)
		}
	}
	// Round trip and hash over a snapshot.
	w2, err := Restore(w.AppendSnapshot(nil))
	if err != nil || Hash(w2) != Hash(w) || len(w2.Canvases()) != 3 {
		t.Fatalf("restore: %v", err)
	}
	st := w.State()
	st.Canvases[1].Art.Hash[5] ^= 1
	if st.Hash() == Hash(w) {
		t.Error("the hash does not cover the art hash")
	}
}

func TestDecodeCanvasErrors(t *testing.T) {
	w := testWorld(t, 30) // 3 canvases
	good := w.AppendSnapshot(nil)
	start := len(good) - 3*canvasSize
	mod := func(off int, v byte) []byte { b := bytes.Clone(good); b[off] = v; return b }
	for _, tt := range []struct {
		name string
		in   []byte
		msg  string
	}{
		{"count", mod(start-4, 200), "200 canvases need"},
		{"order", mod(start+canvasSize, 1), "not above previous"},
		{"size", func() []byte { b := bytes.Clone(good); b[start+58], b[start+59] = 0, 0; return b }(), "art size 0×48"},
		{"position", mod(start+11, 0x80), "outside the arena"},
		{"placed", mod(start+25, 1), "after the snapshot's tick"},
	} {
		_, err := Decode(tt.in)
		if !errors.Is(err, ErrSnapshotCorrupt) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.msg)
		}
	}
}
