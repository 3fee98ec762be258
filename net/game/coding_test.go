package game

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// refBits is the reference for bitWriter: bits appended one at a time, least
// significant bit first, as doc.go ("Snapshot payload") describes the stream.
type refBits struct {
	b []byte
	n int // bits written
}

func (r *refBits) bit(one bool) {
	if r.n%8 == 0 {
		r.b = append(r.b, 0)
	}
	if one {
		r.b[r.n/8] |= 1 << (r.n % 8)
	}
	r.n++
}

func (r *refBits) write(v uint32, n uint) {
	for i := range n {
		r.bit(v>>i&1 != 0)
	}
}

// rice writes u with parameter k: q = u>>k one bits and a zero, then the k low bits
// of u; from q = riceEscape on, riceEscape one bits and u in 16 bits.
func (r *refBits) rice(u uint32, k uint) {
	q := u >> k
	if q >= riceEscape {
		r.write(1<<riceEscape-1, riceEscape)
		r.write(u, 16)
		return
	}
	for range q {
		r.bit(true)
	}
	r.bit(false)
	r.write(u&(1<<k-1), k)
}

// TestBitWriter: random mixes of fixed-width writes and Rice-coded lists (parameters
// 0..15 and beyond, per-number shifts, escapes) give the reference's bytes, whatever
// the writer's buffer held before.
func TestBitWriter(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for iter := range 2000 {
		prefix := make([]byte, rng.IntN(5))
		for i := range prefix {
			prefix[i] = byte(rng.Uint32())
		}
		w := bitWriter{b: append(make([]byte, 0, rng.IntN(16)), prefix...)}
		ref := refBits{b: append([]byte(nil), prefix...), n: 8 * len(prefix)}
		for range rng.IntN(12) {
			switch rng.IntN(3) {
			case 0:
				n := uint(rng.IntN(33))
				v := uint32(rng.Uint64() & (1<<n - 1))
				w.write(v, n)
				ref.write(v, n)
			default:
				us := make([]uint32, rng.IntN(40))
				for i := range us {
					us[i] = uint32(rng.IntN(1 << rng.IntN(17))) // up to 65535: escapes too
				}
				base := rng.IntN(20) - 2 // clamped to 0..15 by the writer
				var shifts []uint8
				if rng.IntN(2) == 0 {
					shifts = make([]uint8, len(us))
					for i := range shifts {
						shifts[i] = uint8(rng.IntN(8))
					}
				}
				w.riceList(us, base, shifts)
				for i, u := range us {
					k := base
					if shifts != nil {
						k += int(shifts[i])
					}
					ref.rice(u, uint(min(max(k, 0), maxRiceK)))
				}
			}
		}
		if got := w.flush(); !bytes.Equal(got, ref.b) {
			t.Fatalf("iteration %d: %x, want %x", iter, got, ref.b)
		}
	}
}

// TestDiffMask: the branch-free diffMask finds each group's difference, one field at a
// time and all together.
func TestDiffMask(t *testing.T) {
	fields := []struct {
		group uint8
		set   func(e *Entity)
	}{
		{GroupPos, func(e *Entity) { e.X++ }}, {GroupPos, func(e *Entity) { e.Y ^= 0x8000 }},
		{GroupHead, func(e *Entity) { e.Head-- }},
		{GroupVel, func(e *Entity) { e.VX = -e.VX - 1 }}, {GroupVel, func(e *Entity) { e.VY++ }},
		{GroupAnim, func(e *Entity) { e.State ^= 0x100 }}, {GroupAnim, func(e *Entity) { e.Clip++ }},
		{GroupTime, func(e *Entity) { e.TimeRef ^= 1 }},
		{GroupFade, func(e *Entity) { e.PrevClip ^= 0x8000 }}, {GroupFade, func(e *Entity) { e.Fade++ }},
		{GroupSpeed, func(e *Entity) { e.Speed += 1000 }},
	}
	rng := rand.New(rand.NewPCG(10, 11))
	for range 500 {
		b := Entity{X: uint16(rng.Uint32()), Y: uint16(rng.Uint32()), Head: uint8(rng.Uint32()), VX: int8(rng.Uint32()), VY: int8(rng.Uint32()),
			Machine: 3, State: uint16(rng.Uint32()), Clip: uint16(rng.Uint32()), Speed: uint16(rng.Uint32()), TimeRef: uint16(rng.Uint32()),
			PrevClip: uint16(rng.Uint32()), Fade: uint8(rng.Uint32()), Team: 1}
		if m := diffMask(&b, &b); m != 0 {
			t.Fatalf("equal entities: mask %#x", m)
		}
		c, want := b, uint8(0)
		for _, f := range fields {
			one := b
			f.set(&one)
			if m := diffMask(&b, &one); m != f.group {
				t.Fatalf("%+v → %+v: mask %#x, want %#x", b, one, m, f.group)
			}
			if rng.IntN(2) == 0 {
				f.set(&c)
				want |= f.group
			}
		}
		if m := diffMask(&b, &c); m != want {
			t.Fatalf("%+v → %+v: mask %#x, want %#x", b, c, m, want)
		}
	}
}
