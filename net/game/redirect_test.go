package game

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestShadowListRoundTrip encodes, parses and re-encodes ShadowList messages.
func TestShadowListRoundTrip(t *testing.T) {
	for _, m := range []ShadowListMsg{
		{},
		{Shadows: []string{"127.0.0.1:7778"}},
		{Shadows: []string{"10.0.0.2:7778", "[::1]:7779", "é:1", strings.Repeat("x", MaxAddressLen)}},
	} {
		b := AppendShadowList(nil, &m)
		got, err := ParseShadowList(b)
		if err != nil {
			t.Fatalf("%v: %v", m, err)
		}
		if !slices.Equal(got.Shadows, m.Shadows) {
			t.Fatalf("round trip: got %q, want %q", got.Shadows, m.Shadows)
		}
		if again := AppendShadowList(nil, &got); !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs: %x vs %x", again, b)
		}
	}
}

func TestParseShadowListRejects(t *testing.T) {
	good := AppendShadowList(nil, &ShadowListMsg{Shadows: []string{"a:1", "b:2"}})
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrShort},
		{"type", []byte{byte(TypeWelcome), 0}, ErrType},
		{"no count", []byte{byte(TypeShadowList)}, ErrShort},
		{"too many", []byte{byte(TypeShadowList), MaxShadows + 1}, ErrRange},
		{"zero length", []byte{byte(TypeShadowList), 1, 0}, ErrRange},
		{"long", append([]byte{byte(TypeShadowList), 1, MaxAddressLen + 1}, bytes.Repeat([]byte{'x'}, MaxAddressLen+1)...), ErrRange},
		{"cut", good[:len(good)-1], ErrShort},
		{"missing length", good[:7], ErrShort},
		{"trailing", append(bytes.Clone(good), 0), ErrTrailing},
		{"utf8", []byte{byte(TypeShadowList), 1, 1, 0xff}, ErrUTF8},
	}
	for _, tt := range tests {
		if _, err := ParseShadowList(tt.b); !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestAppendShadowListPanics(t *testing.T) {
	for _, m := range []ShadowListMsg{
		{Shadows: make([]string, MaxShadows+1)},
		{Shadows: []string{""}},
		{Shadows: []string{strings.Repeat("x", MaxAddressLen+1)}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AppendShadowList(%d addresses) did not panic", len(m.Shadows))
				}
			}()
			AppendShadowList(nil, &m)
		}()
	}
}

func FuzzParseShadowList(f *testing.F) {
	f.Add(AppendShadowList(nil, &ShadowListMsg{}))
	f.Add(AppendShadowList(nil, &ShadowListMsg{Shadows: []string{"127.0.0.1:7778", "127.0.0.1:7779"}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseShadowList(b)
		if err != nil {
			return
		}
		if enc := AppendShadowList(nil, &m); !bytes.Equal(enc, b) {
			t.Fatalf("parse → append differs: %x vs %x", enc, b)
		}
	})
}

func TestRedirectRoundTrip(t *testing.T) {
	for _, a := range []string{"127.0.0.1:7778", "é:1", strings.Repeat("x", MaxAddressLen)} {
		b := AppendRedirect(nil, &RedirectMsg{Address: a})
		got, err := ParseRedirect(b)
		if err != nil || got.Address != a {
			t.Fatalf("%q: got %q, %v", a, got.Address, err)
		}
		for n := range len(b) {
			if _, err := ParseRedirect(b[:n]); err == nil {
				t.Fatalf("%q: %d of %d bytes parse", a, n, len(b))
			}
		}
		if _, err := ParseRedirect(append(b, 0)); !errors.Is(err, ErrTrailing) {
			t.Fatalf("%q: trailing byte: %v", a, err)
		}
	}
	for _, b := range [][]byte{{byte(TypeRedirect), 0}, {byte(TypeRedirect), MaxAddressLen + 1}, {byte(TypeWelcome), 1, 'a'}, {byte(TypeRedirect), 1, 0xff}} {
		if _, err := ParseRedirect(b); err == nil {
			t.Errorf("ParseRedirect(%x) accepted", b)
		}
	}
}

// FuzzParseRedirect checks that no input panics the parser and that what parses
// re-encodes to the same bytes.
func FuzzParseRedirect(f *testing.F) {
	f.Add(AppendRedirect(nil, &RedirectMsg{Address: "127.0.0.1:7778"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseRedirect(b)
		if err != nil {
			return
		}
		if again := AppendRedirect(nil, &m); !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs: %x vs %x", again, b)
		}
	})
}
