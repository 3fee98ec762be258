package ecs

import (
	"encoding/binary"
	"fmt"
)

// CanvasID identifies a placed canvas. Ids are dense from 1; a removed canvas's id is
// reused (lowest free first), like NetIDs.
type CanvasID uint32

// MaxCanvases bounds the canvases a world (and a snapshot) may hold.
const MaxCanvases = 4096

// MaxArtSide bounds the pixel width and height of placed art.
const MaxArtSide = 8192

// Canvas is a framed artwork standing on the arena: an uploaded image (by content
// hash), where it stands, who placed it and when. Canvases take part in the state hash,
// snapshots and replays like players do; they have no per-tick systems, so the world
// keeps them in a list ordered by id instead of in arche.
type Canvas struct {
	ID     CanvasID
	Owner  NetID // the uploader's player id at placement
	Pos    Position
	Head   Heading
	Placed uint64 // tick of placement
	Art    Art
}

// canvasSize is the snapshot size of one canvas record.
const canvasSize = 4 + 4 + 4 + 4 + 2 + 8 + 32 + 2 + 2

// Canvases returns the world's canvases in id order. The slice is the world's own:
// do not modify it.
func (w *World) Canvases() []Canvas { return w.canvases }

// PlaceCanvas adds a canvas showing art at pos, facing head, owned by owner, and returns
// its id, or an error if art is not a valid reference or the world is full.
func (w *World) PlaceCanvas(owner NetID, pos Position, head Heading, art Art) (CanvasID, error) {
	if art.Width == 0 || art.Height == 0 || art.Width > MaxArtSide || art.Height > MaxArtSide {
		return 0, fmt.Errorf("ecs: art size %d×%d out of range [1, %d]", art.Width, art.Height, MaxArtSide)
	}
	if art.Hash == ([32]byte{}) {
		return 0, fmt.Errorf("ecs: art has no content hash")
	}
	if len(w.canvases) >= MaxCanvases {
		return 0, fmt.Errorf("ecs: the arena already holds %d canvases", MaxCanvases)
	}
	id, at := CanvasID(1), 0
	for at < len(w.canvases) && w.canvases[at].ID == id { // lowest free id
		id++
		at++
	}
	c := Canvas{ID: id, Owner: owner, Pos: pos, Head: head, Placed: w.G.Tick, Art: art}
	w.canvases = append(w.canvases, Canvas{})
	copy(w.canvases[at+1:], w.canvases[at:])
	w.canvases[at] = c
	return id, nil
}

// RemoveCanvas removes canvas id and reports whether it existed.
func (w *World) RemoveCanvas(id CanvasID) bool {
	for i := range w.canvases {
		if w.canvases[i].ID == id {
			w.canvases = append(w.canvases[:i], w.canvases[i+1:]...)
			return true
		}
	}
	return false
}

func appendCanvases(b []byte, cs []Canvas) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(cs)))
	for i := range cs {
		c := &cs[i]
		b = binary.LittleEndian.AppendUint32(b, uint32(c.ID))
		b = binary.LittleEndian.AppendUint32(b, uint32(c.Owner))
		b = binary.LittleEndian.AppendUint32(b, uint32(c.Pos.X))
		b = binary.LittleEndian.AppendUint32(b, uint32(c.Pos.Y))
		b = binary.LittleEndian.AppendUint16(b, c.Head.Angle)
		b = binary.LittleEndian.AppendUint64(b, c.Placed)
		b = append(b, c.Art.Hash[:]...)
		b = binary.LittleEndian.AppendUint16(b, c.Art.Width)
		b = binary.LittleEndian.AppendUint16(b, c.Art.Height)
	}
	return b
}

// parseCanvases decodes the canvas section at b[off:], which must end the snapshot.
func parseCanvases(b []byte, off int, g *Globals) ([]Canvas, error) {
	if len(b)-off < 4 {
		return nil, corrupt("canvas count truncated at byte %d", off)
	}
	n := binary.LittleEndian.Uint32(b[off:])
	off += 4
	if n > MaxCanvases {
		return nil, corrupt("canvas count %d exceeds limit %d", n, MaxCanvases)
	}
	if want := off + int(n)*canvasSize; len(b) != want {
		return nil, corrupt("%d canvases need %d bytes, have %d", n, want, len(b))
	}
	cs := make([]Canvas, n)
	var prev CanvasID
	for i := range cs {
		p := b[off:]
		c := &cs[i]
		c.ID = CanvasID(binary.LittleEndian.Uint32(p))
		c.Owner = NetID(binary.LittleEndian.Uint32(p[4:]))
		c.Pos = Position{X: int32(binary.LittleEndian.Uint32(p[8:])), Y: int32(binary.LittleEndian.Uint32(p[12:]))}
		c.Head = Heading{Angle: binary.LittleEndian.Uint16(p[16:])}
		c.Placed = binary.LittleEndian.Uint64(p[18:])
		copy(c.Art.Hash[:], p[26:58])
		c.Art.Width = binary.LittleEndian.Uint16(p[58:])
		c.Art.Height = binary.LittleEndian.Uint16(p[60:])
		switch {
		case c.ID <= prev:
			return nil, corrupt("canvas %d: id %d not above previous %d (byte %d)", i, c.ID, prev, off)
		case c.Pos.X < 0 || c.Pos.X > g.ArenaW || c.Pos.Y < 0 || c.Pos.Y > g.ArenaH:
			return nil, corrupt("canvas %d: position (%d, %d) outside the arena", c.ID, c.Pos.X, c.Pos.Y)
		case c.Art.Width == 0 || c.Art.Height == 0 || c.Art.Width > MaxArtSide || c.Art.Height > MaxArtSide:
			return nil, corrupt("canvas %d: art size %d×%d out of range", c.ID, c.Art.Width, c.Art.Height)
		case c.Placed > g.Tick:
			return nil, corrupt("canvas %d: placed at tick %d, after the snapshot's tick %d", c.ID, c.Placed, g.Tick)
		}
		prev = c.ID
		off += canvasSize
	}
	return cs, nil
}

// hashCanvases folds the canvases, in id order, into one word (SSH1 word fold).
func hashCanvases(cs []Canvas) uint64 {
	h := uint64(hashSeed) ^ uint64(len(cs))
	for i := range cs {
		c := &cs[i]
		h = mix(h, uint64(c.ID)|uint64(c.Owner)<<32)
		h = mix(h, u32(c.Pos.X)|u32(c.Pos.Y)<<32)
		h = mix(h, uint64(c.Head.Angle)|uint64(c.Art.Width)<<16|uint64(c.Art.Height)<<32)
		h = mix(h, c.Placed)
		for j := 0; j < 32; j += 8 {
			h = mix(h, binary.LittleEndian.Uint64(c.Art.Hash[j:]))
		}
	}
	return fmix64(h)
}
