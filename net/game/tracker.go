package game

import "math/bits"

// Tracker follows a snapshot stream from the headers alone: it holds, by snapshot id,
// exactly the snapshots a [Decoder] fed the same messages would hold if every payload
// decoded, and gives the same [Ack]. It is for load generators that need to speak the
// protocol (acks drive the server's baselines and merges) without the cost of
// decoding: the server cannot tell its acks from a decoding client's. It checks
// nothing a header does not say: a corrupt payload or a wrong state hash goes
// unnoticed. A Tracker is not safe for concurrent use; the zero value is ready.
type Tracker struct {
	ids      [KeepTables]uint32 // the snapshot held in each slot (id mod KeepTables), 0 = none
	pinned   uint32             // the baseline kept when its slot was reused, as Decoder.pinned
	lastBase uint32             // the baseline that the newest snapshot held names
	newest   uint32
}

// Holds reports whether t holds snapshot id (as [Decoder.Table] would return it).
func (t *Tracker) Holds(id uint32) bool { return id != 0 && t.ids[id%KeepTables] == id }

// Apply takes snapshot message msg as a [Decoder.Apply] that decodes it would, and
// returns its header. It returns the errors Apply returns before decoding the payload,
// unwrapped: the header errors of [ParseSnapshotHeader], [ErrDuplicate], [ErrStale],
// [ErrBaselineMissing]; t is then unchanged. It does not allocate.
func (t *Tracker) Apply(msg []byte) (SnapshotHeader, error) {
	h, _, err := ParseSnapshotHeader(msg)
	if err != nil {
		return h, err
	}
	slot := h.ID % KeepTables
	if old := t.ids[slot]; old == h.ID {
		return h, ErrDuplicate
	} else if old != 0 && int32(old-h.ID) > 0 {
		return h, ErrStale
	}
	if h.Base != 0 && !t.Holds(h.Base) && t.pinned != h.Base {
		return h, ErrBaselineMissing
	}
	for x := h.Merge; x != 0; x &= x - 1 {
		if !t.Holds(h.ID - 1 - uint32(bits.TrailingZeros32(x))) {
			return h, ErrBaselineMissing
		}
	}
	if t.newest == 0 || int32(h.ID-t.newest) > 0 {
		t.newest, t.lastBase = h.ID, h.Base
	}
	if old := t.ids[slot]; old != 0 && old == t.lastBase {
		t.pinned = old // the baseline outlives its slot
	}
	t.ids[slot] = h.ID
	return h, nil
}

// Ack returns the ack to send: the newest snapshot held and which of the 32 before it
// are held too.
func (t *Tracker) Ack() Ack {
	a := Ack{Newest: t.newest}
	if t.newest == 0 {
		return a
	}
	for i := range uint32(32) {
		if t.Holds(t.newest - 1 - i) {
			a.Bits |= 1 << i
		}
	}
	return a
}
