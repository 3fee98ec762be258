package game

import (
	"errors"

	"github.com/klauspost/compress/zstd"

	"github.com/shardsim/shardsim/ecs"
)

// Table is a client's entity table as of one snapshot: the quantized view of every
// entity the server has told it about.
type Table struct {
	ID   uint32 // snapshot id the table is as of
	Tick uint64 // server tick of that snapshot

	ents  []Entity
	live  []bool
	seen  []uint32 // snapshot id of the last update, per NetID
	count int
	sum   uint64
}

// Len returns the number of entities in t.
func (t *Table) Len() int { return t.count }

// MaxNetID returns one more than the largest NetID t has room for; ids in [1, MaxNetID)
// may be looked up.
func (t *Table) MaxNetID() ecs.NetID { return ecs.NetID(len(t.live)) }

// Get returns entity id, and whether t holds it.
func (t *Table) Get(id ecs.NetID) (Entity, bool) {
	if !t.has(int(id)) {
		return Entity{}, false
	}
	return t.ents[id], true
}

// LastUpdate returns the id of the snapshot that last changed entity id (0 if t does not
// hold it): how fresh its values are.
func (t *Table) LastUpdate(id ecs.NetID) uint32 {
	if !t.has(int(id)) {
		return 0
	}
	return t.seen[id]
}

// Hash recomputes the table hash of t from its content (see doc.go, "State hash"). It
// equals [Frame.Hash] of a frame with the same entities and values.
func (t *Table) Hash() uint64 {
	var sum uint64
	n := 0
	for id, ok := range t.live {
		if ok {
			sum += HashEntity(ecs.NetID(id), &t.ents[id])
			n++
		}
	}
	return tableHash(sum, n)
}

func (t *Table) has(id int) bool { return id < len(t.live) && t.live[id] }

func (t *Table) ensure(id int) {
	if id < len(t.live) {
		return
	}
	n := id + 1
	t.ents = extend(t.ents, n)
	t.live = extend(t.live, n)
	t.seen = extend(t.seen, n)
}

func (t *Table) copyFrom(b *Table) {
	t.ents = append(t.ents[:0], b.ents...)
	t.live = append(t.live[:0], b.live...)
	t.seen = append(t.seen[:0], b.seen...)
	t.count, t.sum, t.ID, t.Tick = b.count, b.sum, b.ID, b.Tick
}

func (t *Table) reset() {
	clear(t.live)
	t.count, t.sum, t.ID, t.Tick = 0, 0, 0, 0
}

// Decoder is the client side of snapshots: it decodes each snapshot against the baseline
// table it names, keeps the last KeepTables tables by snapshot id, and produces the
// [Ack] the client sends back. A Decoder is not safe for concurrent use.
type Decoder struct {
	z      *zstd.Decoder
	tables [KeepTables]*Table
	spare  *Table
	newest uint32
	raw    []byte
	p      payload
}

// NewDecoder returns a decoder holding no tables. Its zstd decoder refuses frames that
// would decompress beyond MaxPayload or use a larger window.
func NewDecoder() *Decoder {
	z, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxMemory(MaxPayload),
		zstd.WithDecoderMaxWindow(MaxPayload),
		zstd.WithDecodeAllCapLimit(true),
	)
	if err != nil {
		panic(err) // fixed options
	}
	d := &Decoder{z: z, spare: &Table{}, raw: make([]byte, MaxPayload)}
	for i := range d.tables {
		d.tables[i] = &Table{}
	}
	return d
}

// Table returns the table as of snapshot id, or nil if the decoder does not hold it.
func (d *Decoder) Table(id uint32) *Table {
	t := d.tables[id%KeepTables]
	if id == 0 || t.ID != id {
		return nil
	}
	return t
}

// Newest returns the table of the newest snapshot applied, or nil.
func (d *Decoder) Newest() *Table { return d.Table(d.newest) }

// Ack returns the ack to send: the newest snapshot held and which of the 32 before it
// are held too.
func (d *Decoder) Ack() Ack {
	a := Ack{Newest: d.newest}
	if d.newest == 0 {
		return a
	}
	for i := range uint32(32) {
		if id := d.newest - 1 - i; d.Table(id) != nil {
			a.Bits |= 1 << i
		}
	}
	return a
}

// Apply decodes snapshot message msg against the baseline table it names and returns
// the resulting table, now held under the snapshot's id. The table stays valid until
// a snapshot KeepTables ids newer is applied.
//
// It returns one of these errors unwrapped, holding no new table: the header errors of
// [ParseSnapshotHeader]; [ErrDuplicate] or [ErrStale] for a snapshot already held or
// older than all tables kept; [ErrBaselineMissing] if the baseline is not held (keep
// acking: the server falls back); [ErrTooLarge], [ErrCompressed] for a bad zstd frame;
// [ErrCorrupt] for a payload that breaks the layout or does not fit the baseline;
// [ErrHashMismatch] if the result does not hash to the value the server sent.
// Steady-state calls do not allocate.
func (d *Decoder) Apply(msg []byte) (*Table, error) {
	h, frame, err := ParseSnapshotHeader(msg)
	if err != nil {
		return nil, err
	}
	if slot := d.tables[h.ID%KeepTables]; slot.ID == h.ID {
		return nil, ErrDuplicate
	} else if slot.ID != 0 && int32(slot.ID-h.ID) > 0 {
		return nil, ErrStale
	}
	var base *Table
	if h.Base != 0 {
		if base = d.Table(h.Base); base == nil {
			return nil, ErrBaselineMissing
		}
	}
	raw, err := d.z.DecodeAll(frame, d.raw[:0:h.Size])
	if err != nil {
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return nil, ErrTooLarge
		}
		return nil, ErrCompressed
	}
	if len(raw) != int(h.Size) || (len(raw) > 0 && &raw[0] != &d.raw[0]) {
		return nil, ErrCompressed
	}
	if err := d.p.parse(raw); err != nil {
		return nil, err
	}
	t := d.spare
	if base != nil {
		t.copyFrom(base)
	} else {
		t.reset()
	}
	if err := t.apply(&d.p, h.ID); err != nil {
		return nil, err
	}
	if tableHash(t.sum, t.count) != h.Hash {
		return nil, ErrHashMismatch
	}
	t.ID, t.Tick = h.ID, h.Tick
	d.spare, d.tables[h.ID%KeepTables] = d.tables[h.ID%KeepTables], t
	if d.newest == 0 || int32(h.ID-d.newest) > 0 {
		d.newest = h.ID
	}
	return t, nil
}

// apply applies a parsed payload to t, which holds the baseline.
func (t *Table) apply(p *payload, snap uint32) error {
	for _, id := range p.rem {
		if !t.has(int(id)) {
			return ErrCorrupt
		}
		t.live[id] = false
		t.sum -= HashEntity(ecs.NetID(id), &t.ents[id])
		t.count--
	}
	var cur [numColumns]int
	for i, id := range p.ids {
		m := p.masks[i]
		if m&FlagNew != 0 {
			if t.has(int(id)) {
				return ErrCorrupt
			}
			t.ensure(int(id))
			t.ents[id] = Entity{}
			t.count++
		} else {
			if !t.has(int(id)) {
				return ErrCorrupt
			}
			t.sum -= HashEntity(ecs.NetID(id), &t.ents[id])
		}
		e := &t.ents[id]
		for c := range columns {
			if col := &columns[c]; m&col.group != 0 {
				col.set(e, p.cols[c][cur[c]])
				cur[c]++
			}
		}
		t.live[id] = true
		t.seen[id] = snap
		t.sum += HashEntity(ecs.NetID(id), e)
	}
	return nil
}
