package game

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func FuzzParseInput(f *testing.F) {
	f.Add(AppendInput(nil, sampleInput()))
	f.Add(AppendInput(nil, &InputMsg{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseInput(b)
		if err != nil {
			return
		}
		enc := AppendInput(nil, &m)
		if !bytes.Equal(enc, b) {
			t.Fatalf("parse → append differs")
		}
	})
}

func FuzzParseMessages(f *testing.F) {
	f.Add(AppendHello(nil, &HelloMsg{Version: 1, Token: []byte("v1.2.3.x")}))
	f.Add(AppendWelcome(nil, sampleWelcome()))
	f.Add(AppendKick(nil, &NoticeMsg{Code: ReasonTimeout, Text: "timeout"}))
	f.Add(AppendError(nil, &NoticeMsg{Code: ReasonProtocol, Text: "é"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var enc []byte
		if m, err := ParseHello(b); err == nil {
			enc = AppendHello(nil, &m)
		} else if m, err := ParseWelcome(b); err == nil {
			enc = AppendWelcome(nil, &m)
		} else if m, err := ParseKick(b); err == nil {
			enc = AppendKick(nil, &m)
		} else if m, err := ParseError(b); err == nil {
			enc = AppendError(nil, &m)
		} else {
			return
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("parse → append differs: %x vs %x", enc, b)
		}
	})
}

func FuzzVerifyToken(f *testing.F) {
	f.Add([]byte(MintToken(testKey, 1, testNow.Add(time.Hour))))
	f.Add([]byte(MintToken(testKey, 1<<64-1, testNow.Add(-time.Hour))))
	f.Add([]byte("v1.0.0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := VerifyToken(testKey, b, testNow)
		if err != nil {
			return
		}
		// Only a token we minted verifies, and it is canonical.
		exp := time.Unix(int64(parseExpiry(t, b)), 0)
		if got := MintToken(testKey, id, exp); got != string(b) {
			t.Fatalf("verified token %q is not the canonical %q", b, got)
		}
	})
}

func parseExpiry(t *testing.T, b []byte) uint64 {
	parts := bytes.Split(b, []byte("."))
	v, ok := parseDecimal(parts[2])
	if !ok {
		t.Fatalf("verified token %q has a bad expiry", b)
	}
	return v
}

// FuzzSnapshotPayload checks the payload codec inside the zstd frame: parse → append
// reproduces the input exactly.
func FuzzSnapshotPayload(f *testing.F) {
	sm := newSim(f, 200, 11)
	s := newSession(f, sm.ids[0])
	for range 5 {
		sm.step(1)
		s.roundTrip(sm.w)
		f.Add(bytes.Clone(s.enc.raw))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p payload
		if err := p.parse(b, 100, fuzzSeen{}); err != nil {
			return
		}
		if enc := p.append(nil); !bytes.Equal(enc, b) {
			t.Fatalf("parse → append differs")
		}
	})
}

// FuzzDecodeSnapshot feeds whole snapshot messages to a decoder that holds real
// baselines: it must never panic, and whatever it accepts hashes to the header's value.
// A Tracker fed the same messages must agree with it on all a header decides.
func FuzzDecodeSnapshot(f *testing.F) {
	// A stream whose acks arrive a snapshot late, so that its later snapshots merge
	// earlier ones: the fuzz decoder holds all but the last, and b may name any.
	sm := newSim(f, 100, 12)
	s := newSession(f, sm.ids[0])
	var msgs [][]byte
	var ack Ack
	merged := false
	for i := range 6 {
		sm.step(1)
		fr, msg := s.send(sm.w)
		if _, err := s.deliver(fr, msg); err != nil {
			f.Fatal(err)
		}
		if i > 0 {
			s.view.Ack(s.ring, ack)
		}
		ack = s.dec.Ack()
		h, _, _ := ParseSnapshotHeader(msg)
		merged = merged || h.Merge != 0
		msgs = append(msgs, msg)
		f.Add(msg)
	}
	if !merged {
		f.Fatal("no seed merges a snapshot")
	}
	held := msgs[:len(msgs)-1]
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder()
		var tr Tracker
		for _, m := range held {
			if _, err := d.Apply(m); err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Apply(m); err != nil {
				t.Fatal(err)
			}
		}
		// A Tracker refuses what the Decoder refuses before the payload, with the
		// same error, and accepts the rest.
		_, terr := tr.Apply(b)
		tbl, err := d.Apply(b)
		if terr != nil && !errors.Is(err, terr) {
			t.Fatalf("tracker: %v, decoder: %v", terr, err)
		}
		if err != nil {
			return
		}
		if terr != nil {
			t.Fatalf("tracker refused what the decoder accepted: %v", terr)
		}
		if d.Ack() != tr.Ack() {
			t.Fatalf("decoder acks %+v, tracker %+v", d.Ack(), tr.Ack())
		}
		h, _, _ := ParseSnapshotHeader(b)
		if tbl.Hash() != h.Hash {
			t.Fatalf("accepted table hashes to %x, header says %x", tbl.Hash(), h.Hash)
		}
	})
}

// fuzzSeen holds every entity, its value written id%40 snapshots before snapshot 100.
type fuzzSeen struct{}

func (fuzzSeen) seenOf(id uint16) (uint32, bool) { return 100 - uint32(id%40), true }

func (fuzzSeen) basePredK() ([2]uint16, bool) { return [2]uint16{1000, 2000}, true }
