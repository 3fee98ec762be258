package ecs

// State hash, algorithm "SSH2" (documented here because replays and shadows compare it
// across builds and machines; changing it changes every golden file):
//
//   - Each entity's record is packed into 12 little-endian 64-bit words (see packRecord)
//     and folded with h = mix(h ^ word) starting from h = 0x243f6a8885a308d3, where
//     mix(x) = (x ^ x>>31) * 0x9e3779b97f4a7c15; the entity hash is fmix64(h) with
//     fmix64 the MurmurHash3 64-bit finalizer.
//   - The world hash is fmix64(G ^ fmix64(S + count)), where S is the wrapping sum of
//     all entity hashes (order-free, so arche's storage order does not matter) and G is
//     fmix64(globals ^ canvases·mul): the same word fold over the globals and the PRNG
//     state, and over the canvases in id order (SSH2 added the canvases to SSH1).
//
// It is a divergence detector, not a cryptographic hash.

const (
	hashSeed = 0x243f6a8885a308d3
	hashMul  = 0x9e3779b97f4a7c15
)

func mix(h, w uint64) uint64 {
	x := h ^ w
	return (x ^ x>>31) * hashMul
}

func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// HashSeed, HashMix and HashFinal are SSH2's starting value, word fold and finalizer,
// exported so that other layers (the network table hash, NQH1) hash the same way.
const HashSeed = hashSeed

// HashMix folds word w into hash h: (x ^ x>>31)·0x9e3779b97f4a7c15 with x = h ^ w.
func HashMix(h, w uint64) uint64 { return mix(h, w) }

// HashFinal is the MurmurHash3 64-bit finalizer.
func HashFinal(k uint64) uint64 { return fmix64(k) }

func u32(v int32) uint64 { return uint64(uint32(v)) }

// HashRecord returns the hash of one entity's canonical record (its contribution to the
// world hash), for tools that bisect a divergence entity by entity.
func HashRecord(r *Record) uint64 {
	var b *Brain
	if r.HasBrain {
		b = &r.Brain
	}
	return hashEntity(r.Net, &r.Pos, &r.Vel, r.Head, &r.In, &r.Anim, &r.Pose, &r.Player, b)
}

// hashEntity hashes an entity from its components; b is nil for an entity without a
// brain (hashed as a zero brain with the flag clear).
func hashEntity(id NetID, pos *Position, vel *Velocity, head Heading, in *Input, a *Anim, pose *Pose, pl *Player, b *Brain) uint64 {
	var brain Brain
	hasBrain := b != nil
	if hasBrain {
		brain = *b
	}
	bin := &brain.Input
	h := uint64(hashSeed)
	h = mix(h, uint64(id)|b2u(hasBrain)<<32|uint64(head.Angle)<<40|uint64(pl.Team)<<56)
	h = mix(h, u32(pos.X)|u32(pos.Y)<<32)
	h = mix(h, u32(vel.X)|u32(vel.Y)<<32)
	h = mix(h, uint64(uint8(in.MoveX))|uint64(uint8(in.MoveY))<<8|uint64(in.Buttons)<<16|uint64(in.Emote)<<24|
		uint64(uint8(bin.MoveX))<<32|uint64(uint8(bin.MoveY))<<40|uint64(bin.Buttons)<<48|uint64(bin.Emote)<<56)
	h = mix(h, uint64(a.Machine)|uint64(a.State)<<16|uint64(a.Clip)<<32|uint64(a.PrevClip)<<48)
	h = mix(h, u32(a.Time)|u32(a.PrevTime)<<32)
	h = mix(h, u32(a.FadeLeft)|u32(a.FadeTotal)<<32)
	h = mix(h, u32(a.Speed)|u32(a.InState)<<32)
	h = mix(h, u32(pose.V[0])|u32(pose.V[1])<<32)
	h = mix(h, u32(pose.V[2])|u32(pose.V[3])<<32)
	h = mix(h, u32(pl.Score)|uint64(brain.Mode)<<32)
	h = mix(h, brain.NextTick)
	return fmix64(h)
}

func hashGlobals(g *Globals, rng *[16]byte) uint64 {
	h := uint64(hashSeed)
	h = mix(h, g.Tick)
	h = mix(h, uint64(g.Rate)|u32(g.ArenaW)<<16)
	h = mix(h, u32(g.ArenaH)|uint64(g.Phase)<<32)
	h = mix(h, g.Seed)
	h = mix(h, g.PhaseSince)
	h = mix(h, uint64(g.Round)|uint64(g.Rejected)<<32)
	for i := 0; i < 16; i += 8 {
		h = mix(h, uint64(rng[i])|uint64(rng[i+1])<<8|uint64(rng[i+2])<<16|uint64(rng[i+3])<<24|
			uint64(rng[i+4])<<32|uint64(rng[i+5])<<40|uint64(rng[i+6])<<48|uint64(rng[i+7])<<56)
	}
	return fmix64(h)
}

func hashWorldLevel(g *Globals, rng *[16]byte, cs []Canvas) uint64 {
	return fmix64(hashGlobals(g, rng) ^ hashCanvases(cs)*hashMul)
}

func combine(g, sum uint64, count int) uint64 {
	return fmix64(g ^ fmix64(sum+uint64(count)))
}

// Hash returns the state hash of w (algorithm SSH2 above). It does not allocate.
func Hash(w *World) uint64 {
	var sum uint64
	c := &w.C
	q := w.ecs.Query(&w.all)
	for q.Next() {
		var b *Brain
		if q.Has(c.Brain) {
			b = (*Brain)(q.Get(c.Brain))
		}
		sum += hashEntity((*ID)(q.Get(c.ID)).Net, (*Position)(q.Get(c.Pos)), (*Velocity)(q.Get(c.Vel)),
			*(*Heading)(q.Get(c.Heading)), (*Input)(q.Get(c.Input)), (*Anim)(q.Get(c.Anim)),
			(*Pose)(q.Get(c.Pose)), (*Player)(q.Get(c.Player)), b)
	}
	rng := w.randState()
	return combine(hashWorldLevel(&w.G, &rng, w.canvases), sum, w.count)
}

// Hash returns the state hash of s; it equals [Hash] of the world s describes.
func (s *State) Hash() uint64 {
	var sum uint64
	for i := range s.Records {
		sum += HashRecord(&s.Records[i])
	}
	return combine(hashWorldLevel(&s.G, &s.Rand, s.Canvases), sum, len(s.Records))
}
