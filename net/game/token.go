package game

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"
)

// Connect tokens admit a client to a session. A token is one line of URL-safe text:
//
//	v1.<clientID>.<expiry>.<mac>
//
// clientID and expiry (Unix seconds) are canonical unsigned decimals (no sign, no leading
// zeros), mac is the unpadded base64url HMAC-SHA256 under the server key of
// tokenContext followed by the text before the last dot ("v1.<clientID>.<expiry>").

// Key and token sizes.
const (
	// KeySize is the size of a server key as LoadOrCreateKey creates it.
	KeySize = 32
	// MinKeySize is the smallest key MintToken and VerifyToken accept.
	MinKeySize = 16
	// MaxTokenSize bounds a token's text; VerifyToken rejects longer input unread.
	MaxTokenSize = 128
)

const (
	tokenPrefix  = "v1."
	tokenContext = "shardsim connect token\x00"
	macB64Len    = 43 // base64url of 32 bytes, unpadded
)

var macEncoding = base64.RawURLEncoding.Strict()

func tokenMAC(key, signed []byte) []byte {
	if len(key) < MinKeySize {
		panic("game: token key shorter than MinKeySize")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tokenContext))
	m.Write(signed)
	return m.Sum(nil)
}

// MintToken returns a connect token for clientID valid until expires (exclusive, whole
// seconds). It panics if key is shorter than [MinKeySize] or expires is before 1970.
func MintToken(key []byte, clientID uint64, expires time.Time) string {
	exp := expires.Unix()
	if exp < 0 {
		panic("game: token expiry before 1970")
	}
	b := make([]byte, 0, MaxTokenSize)
	b = append(b, tokenPrefix...)
	b = strconv.AppendUint(b, clientID, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(exp), 10)
	mac := tokenMAC(key, b)
	b = append(b, '.')
	b = macEncoding.AppendEncode(b, mac)
	return string(b)
}

// parseDecimal parses a canonical unsigned decimal (no leading zeros except "0").
func parseDecimal(s []byte) (uint64, bool) {
	if len(s) == 0 || len(s) > 20 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var v uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// VerifyToken checks a connect token against key at time now and returns the client id
// it admits. It returns [ErrTokenMalformed], [ErrTokenSignature] (checked in constant
// time, before the expiry) or [ErrTokenExpired] unwrapped. It panics if key is shorter
// than [MinKeySize].
func VerifyToken(key []byte, token []byte, now time.Time) (clientID uint64, err error) {
	if len(token) > MaxTokenSize || len(token) < len(tokenPrefix) || string(token[:len(tokenPrefix)]) != tokenPrefix {
		return 0, ErrTokenMalformed
	}
	rest := token[len(tokenPrefix):]
	var parts [3][]byte
	for i := range 2 {
		j := 0
		for j < len(rest) && rest[j] != '.' {
			j++
		}
		if j == len(rest) {
			return 0, ErrTokenMalformed
		}
		parts[i], rest = rest[:j], rest[j+1:]
	}
	parts[2] = rest
	id, ok1 := parseDecimal(parts[0])
	exp, ok2 := parseDecimal(parts[1])
	if !ok1 || !ok2 || exp > 1<<63-1 || len(parts[2]) != macB64Len {
		return 0, ErrTokenMalformed
	}
	var mac [sha256.Size]byte
	if n, err := macEncoding.Decode(mac[:], parts[2]); err != nil || n != len(mac) {
		return 0, ErrTokenMalformed
	}
	signed := token[:len(token)-macB64Len-1]
	if !hmac.Equal(mac[:], tokenMAC(key, signed)) {
		return 0, ErrTokenSignature
	}
	if now.Unix() >= int64(exp) {
		return 0, ErrTokenExpired
	}
	return id, nil
}

// DefaultKeyPath returns where the server key lives by default:
// os.UserConfigDir()/shardsim/server.key.
func DefaultKeyPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("game: default key path: %w", err)
	}
	return filepath.Join(dir, "shardsim", "server.key"), nil
}

// LoadOrCreateKey returns the server key stored at path. If no file exists there it
// creates one holding [KeySize] random bytes with mode 0600, creating missing parent
// directories with mode 0700; two processes racing to create it end up with the same key.
// It refuses (with [ErrKeyPermissions]) a key file that group or others may access, and
// (with [ErrKeyFile]) one that is not a regular file of exactly KeySize bytes.
// Permission bits are not checked on Windows.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("game: create key directory: %w", err)
	}
	key = make([]byte, KeySize)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return nil, fmt.Errorf("game: generate key: %w", err)
	}
	// Write a temporary file, then link it into place: the key appears complete or not
	// at all, and an existing key is never overwritten.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".server.key-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("game: create key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(key)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("game: write key: %w", werr)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKey(path) // another process won the race
		}
		return nil, fmt.Errorf("game: install key: %w", err)
	}
	return key, nil
}

func readKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("game: open key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("game: stat key: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("game: %w: %s is not a regular file", ErrKeyFile, path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("game: %w: %s has mode %#o, want 0600", ErrKeyPermissions, path, perm)
	}
	if st.Size() != KeySize {
		return nil, fmt.Errorf("game: %w: %s is %d bytes, want %d", ErrKeyFile, path, st.Size(), KeySize)
	}
	key := make([]byte, KeySize)
	if _, err := io.ReadFull(f, key); err != nil {
		return nil, fmt.Errorf("game: read key: %w", err)
	}
	return key, nil
}
