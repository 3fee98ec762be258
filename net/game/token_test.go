package game

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

var (
	testKey  = bytes.Repeat([]byte{0x42}, KeySize)
	testNow  = time.Unix(1_700_000_000, 0)
	otherKey = bytes.Repeat([]byte{0x43}, KeySize)
)

func TestToken(t *testing.T) {
	good := MintToken(testKey, 77, testNow.Add(time.Minute))
	if strings.ContainsAny(good, "+/=\n ") || !strings.HasPrefix(good, "v1.77.1700000060.") {
		t.Fatalf("token %q is not the documented URL-safe form", good)
	}
	mac := good[strings.LastIndexByte(good, '.')+1:]
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name  string
		key   []byte
		token string
		now   time.Time
		id    uint64
		err   error
	}{
		{"valid", testKey, good, testNow, 77, nil},
		{"valid until the last second", testKey, good, testNow.Add(59*time.Second + 999*time.Millisecond), 77, nil},
		{"expired", testKey, good, testNow.Add(time.Minute), 0, ErrTokenExpired},
		{"max id", testKey, MintToken(testKey, 1<<64-1, testNow.Add(time.Hour)), testNow, 1<<64 - 1, nil},
		{"wrong key", otherKey, good, testNow, 0, ErrTokenSignature},
		{"tampered id", testKey, strings.Replace(good, "v1.77.", "v1.78.", 1), testNow, 0, ErrTokenSignature},
		{"tampered expiry", testKey, strings.Replace(good, ".1700000060.", ".1700000061.", 1), testNow, 0, ErrTokenSignature},
		{"tampered mac", testKey, flip(good, len(good)-5), testNow, 0, ErrTokenSignature},
		{"expired and tampered", testKey, flip(good, len(good)-5), testNow.Add(time.Hour), 0, ErrTokenSignature},
		{"empty", testKey, "", testNow, 0, ErrTokenMalformed},
		{"version", testKey, "v2" + good[2:], testNow, 0, ErrTokenMalformed},
		{"leading zero", testKey, strings.Replace(good, "v1.77.", "v1.077.", 1), testNow, 0, ErrTokenMalformed},
		{"sign", testKey, strings.Replace(good, "v1.77.", "v1.+77.", 1), testNow, 0, ErrTokenMalformed},
		{"id overflow", testKey, strings.Replace(good, "v1.77.", "v1.18446744073709551616.", 1), testNow, 0, ErrTokenMalformed},
		{"missing field", testKey, "v1.77." + mac, testNow, 0, ErrTokenMalformed},
		{"extra field", testKey, strings.Replace(good, "v1.77.", "v1.77.1.", 1), testNow, 0, ErrTokenMalformed},
		{"padded mac", testKey, good + "=", testNow, 0, ErrTokenMalformed},
		{"short mac", testKey, good[:len(good)-1], testNow, 0, ErrTokenMalformed},
		{"std base64", testKey, good[:len(good)-3] + "+" + good[len(good)-2:], testNow, 0, ErrTokenMalformed},
		{"non-canonical mac bits", testKey, good[:len(good)-1] + string(nonCanonicalLast(good[len(good)-1])), testNow, 0, ErrTokenMalformed},
		{"too long", testKey, good + strings.Repeat("A", MaxTokenSize), testNow, 0, ErrTokenMalformed},
		{"newline", testKey, good + "\n", testNow, 0, ErrTokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := VerifyToken(tt.key, []byte(tt.token), tt.now)
			if !errors.Is(err, tt.err) || id != tt.id {
				t.Fatalf("VerifyToken(%q) = %d, %v; want %d, %v", tt.token, id, err, tt.id, tt.err)
			}
		})
	}
}

// nonCanonicalLast returns a base64url digit that differs from c only in the two bits
// a 32-byte value leaves unused at the end.
func nonCanonicalLast(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return alphabet[strings.IndexByte(alphabet, c)^1]
}

func TestTokenKeyMisusePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("short key did not panic")
		}
	}()
	MintToken([]byte("short"), 1, testNow)
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cfg", "shardsim", "server.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != KeySize || bytes.Equal(k1, make([]byte, KeySize)) {
		t.Fatalf("key %x", k1)
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load: %x, %v; want the same key", k2, err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %#o, want 0600", st.Mode().Perm())
	}
	st, _ = os.Stat(filepath.Dir(path))
	if st.Mode().Perm() != 0o700 {
		t.Errorf("key dir mode %#o, want 0700", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}

	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); !errors.Is(err, ErrKeyPermissions) {
		t.Errorf("group-readable key: %v, want ErrKeyPermissions", err)
	}
	if err := os.Chmod(path, 0o604); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); !errors.Is(err, ErrKeyPermissions) {
		t.Errorf("world-readable key: %v, want ErrKeyPermissions", err)
	}

	short := filepath.Join(dir, "short.key")
	if err := os.WriteFile(short, []byte("too short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(short); !errors.Is(err, ErrKeyFile) {
		t.Errorf("short key: %v, want ErrKeyFile", err)
	}
	if _, err := LoadOrCreateKey(dir); !errors.Is(err, ErrKeyFile) {
		t.Errorf("directory as key: %v, want ErrKeyFile", err)
	}
}

func TestDefaultKeyPath(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/cfg")
	t.Setenv("HOME", "/home/x")
	p, err := DefaultKeyPath()
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "linux" && p != "/cfg/shardsim/server.key" {
		t.Fatalf("DefaultKeyPath = %q", p)
	}
}
