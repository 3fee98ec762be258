package art

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"image"
	_ "image/jpeg" // DecodeConfig of JPEG uploads
	_ "image/png"  // DecodeConfig of PNG uploads
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/shardsim/shardsim/ecs"
)

// Format is the type of an image.
type Format uint8

// Formats. The values equal the content types of the game protocol.
const (
	PNG  Format = 1
	JPEG Format = 2
)

func (f Format) String() string {
	switch f {
	case PNG:
		return "png"
	case JPEG:
		return "jpeg"
	}
	return fmt.Sprintf("format(%d)", uint8(f))
}

// Sniff returns the format of b from its first bytes (8 suffice), or 0.
func Sniff(b []byte) Format {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return JPEG
	}
	return 0
}

// Defaults of [Options].
const (
	DefaultMaxSize         = 8 << 20
	DefaultMaxSide         = 8192
	DefaultMaxPixels       = 40_000_000
	DefaultMaxPartials     = 64
	DefaultMaxPartialBytes = 256 << 20
	DefaultTimeout         = 2 * time.Minute
)

// Options bound a [Store]. Zero fields take the defaults.
type Options struct {
	MaxSize         int64         // bytes of one image (DefaultMaxSize)
	MaxSide         int           // pixels of a side (DefaultMaxSide; at most ecs.MaxArtSide)
	MaxPixels       int64         // width × height (DefaultMaxPixels)
	MaxPartials     int           // unfinished uploads at once (DefaultMaxPartials)
	MaxPartialBytes int64         // declared bytes of all unfinished uploads (DefaultMaxPartialBytes)
	Timeout         time.Duration // an unfinished upload idle this long is swept (DefaultTimeout)
	Clock           func() time.Time
}

func (o Options) withDefaults() Options {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxSide <= 0 || o.MaxSide > ecs.MaxArtSide {
		o.MaxSide = min(DefaultMaxSide, ecs.MaxArtSide)
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	if o.MaxPartials <= 0 {
		o.MaxPartials = DefaultMaxPartials
	}
	if o.MaxPartialBytes <= 0 {
		o.MaxPartialBytes = DefaultMaxPartialBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return o
}

// Info describes a stored image.
type Info struct {
	Hash          [32]byte
	Size          int64
	Format        Format
	Width, Height int
}

// Key identifies an unfinished upload: its owner (the uploader's client id) and hash.
type Key struct {
	Owner uint64
	Hash  [32]byte
}

// Store is a content-addressed image store in a directory. Its methods are safe from
// any goroutine.
type Store struct {
	dir string
	opt Options

	mu       sync.Mutex
	partials map[Key]*Partial // lookup only; never iterated in an order that matters
	declared int64
	infos    map[[32]byte]Info
}

// Open opens (creating it if needed) the store in dir and removes unfinished upload
// files left behind by an earlier process.
func Open(dir string, opt Options) (*Store, error) {
	opt = opt.withDefaults()
	for _, d := range []string{dir, filepath.Join(dir, "objects"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("art: %w", err)
		}
	}
	ents, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil {
		return nil, fmt.Errorf("art: %w", err)
	}
	for _, e := range ents {
		if err := os.Remove(filepath.Join(dir, "tmp", e.Name())); err != nil {
			return nil, fmt.Errorf("art: removing a stale upload: %w", err)
		}
	}
	return &Store{dir: dir, opt: opt, partials: map[Key]*Partial{}, infos: map[[32]byte]Info{}}, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Options returns the store's bounds (with defaults applied).
func (s *Store) Options() Options { return s.opt }

// Path returns where the image with hash h is (or would be) stored.
func (s *Store) Path(h [32]byte) string {
	x := hex.EncodeToString(h[:])
	return filepath.Join(s.dir, "objects", x[:2], x)
}

// TempDir returns the directory of unfinished uploads.
func (s *Store) TempDir() string { return filepath.Join(s.dir, "tmp") }

// Stat returns the Info of the stored image with hash h, or [ErrNotFound].
func (s *Store) Stat(h [32]byte) (Info, error) {
	s.mu.Lock()
	info, ok := s.infos[h]
	s.mu.Unlock()
	if ok {
		return info, nil
	}
	f, err := os.Open(s.Path(h))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Info{}, fmt.Errorf("%w: %x", ErrNotFound, h[:8])
		}
		return Info{}, fmt.Errorf("art: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Info{}, fmt.Errorf("art: %w", err)
	}
	info, err = s.check(f, h, st.Size(), 0)
	if err != nil {
		return Info{}, err
	}
	s.remember(info)
	return info, nil
}

func (s *Store) remember(info Info) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.infos) >= 4096 {
		clear(s.infos)
	}
	s.infos[info.Hash] = info
}

// OpenArt opens the stored image with hash h for reading; the caller closes it.
func (s *Store) OpenArt(h [32]byte) (*os.File, Info, error) {
	info, err := s.Stat(h)
	if err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(s.Path(h))
	if err != nil {
		return nil, Info{}, fmt.Errorf("art: %w", err)
	}
	return f, info, nil
}

// check decodes the header of the image r of size bytes and checks it against the
// bounds: a PNG or JPEG (of format want, unless 0) whose sides and area are in range.
func (s *Store) check(r io.Reader, h [32]byte, size int64, want Format) (Info, error) {
	cfg, name, err := image.DecodeConfig(bufio.NewReader(r))
	if err != nil {
		return Info{}, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	var f Format
	switch name {
	case "png":
		f = PNG
	case "jpeg":
		f = JPEG
	default:
		return Info{}, fmt.Errorf("%w: %s", ErrNotImage, name)
	}
	if want != 0 && f != want {
		return Info{}, fmt.Errorf("%w: declared %v, is %v", ErrNotImage, want, f)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > s.opt.MaxSide || cfg.Height > s.opt.MaxSide ||
		int64(cfg.Width)*int64(cfg.Height) > s.opt.MaxPixels {
		return Info{}, fmt.Errorf("%w: %d×%d, max %d per side and %d in all", ErrTooManyPixels, cfg.Width, cfg.Height, s.opt.MaxSide, s.opt.MaxPixels)
	}
	return Info{Hash: h, Size: size, Format: f, Width: cfg.Width, Height: cfg.Height}, nil
}

// Put stores data (for tools and tests; uploads use [Store.Begin]) after the same
// checks as an upload, and returns its Info.
func (s *Store) Put(data []byte) (Info, error) {
	h := sha256.Sum256(data)
	p, err := s.Begin(0, h, int64(len(data)), Sniff(data))
	if err != nil {
		return Info{}, err
	}
	if _, err := p.Write(0, data); err != nil {
		return Info{}, err
	}
	return p.Commit()
}

// Begin starts the upload of an image of size bytes with SHA-256 h and format f for
// owner, or returns the owner's unfinished upload of h to resume it (see
// [Partial.Received]); an unfinished upload of h with another size or format is
// discarded first. It fails with [ErrTooLarge], [ErrNotImage] (format unknown) or
// [ErrBusy]. It does not look for h among the stored images: see [Store.Stat].
func (s *Store) Begin(owner uint64, h [32]byte, size int64, f Format) (*Partial, error) {
	if size <= 0 || size > s.opt.MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, max %d", ErrTooLarge, size, s.opt.MaxSize)
	}
	if f != PNG && f != JPEG {
		return nil, fmt.Errorf("%w: content type %d", ErrNotImage, f)
	}
	k := Key{owner, h}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.partials[k]; ok {
		if p.size == size && p.format == f {
			p.touched = s.opt.Clock()
			return p, nil
		}
		s.dropLocked(p)
	}
	if len(s.partials) >= s.opt.MaxPartials || s.declared+size > s.opt.MaxPartialBytes {
		return nil, fmt.Errorf("%w: %d uploads holding %d bytes", ErrBusy, len(s.partials), s.declared)
	}
	name := filepath.Join(s.TempDir(), fmt.Sprintf("%016x-%x.part", owner, h))
	file, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("art: %w", err)
	}
	p := &Partial{s: s, key: k, size: size, format: f, file: file, name: name, sum: sha256.New(), touched: s.opt.Clock()}
	s.partials[k] = p
	s.declared += size
	return p, nil
}

// dropLocked closes and removes p's file and forgets it. s.mu is held.
func (s *Store) dropLocked(p *Partial) {
	if p.file == nil {
		return
	}
	p.file.Close()
	os.Remove(p.name)
	p.file = nil
	if s.partials[p.key] == p {
		delete(s.partials, p.key)
	}
	s.declared -= p.size
}

// Sweep removes the unfinished uploads idle for longer than Options.Timeout and returns
// their keys (in no particular order).
func (s *Store) Sweep() []Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opt.Clock()
	var gone []Key
	for k, p := range s.partials {
		if now.Sub(p.touched) > s.opt.Timeout {
			gone = append(gone, k)
			s.dropLocked(p)
		}
	}
	return gone
}

// Partials returns the number of unfinished uploads.
func (s *Store) Partials() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.partials)
}

// TempFiles lists the files in the store's temporary area (unfinished uploads).
func (s *Store) TempFiles() ([]string, error) {
	ents, err := os.ReadDir(s.TempDir())
	if err != nil {
		return nil, fmt.Errorf("art: %w", err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names, nil
}

// Partial is an unfinished upload. Any error from Write or Commit discards it (its file
// is removed): the uploader must begin again.
type Partial struct {
	s       *Store
	key     Key
	size    int64
	format  Format
	file    *os.File // nil once closed
	name    string
	sum     hash.Hash
	recv    int64
	head    []byte // first bytes, for the early type check
	touched time.Time
}

// Key returns the upload's owner and hash.
func (p *Partial) Key() Key { return p.key }

// Size returns the declared size.
func (p *Partial) Size() int64 { return p.size }

// Received returns the bytes received so far: where the next Write continues.
func (p *Partial) Received() int64 {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	return p.recv
}

// Open reports whether the upload can still be written or committed.
func (p *Partial) Open() bool {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	return p.file != nil
}

// Write stores data at offset off and returns the bytes received. Data below Received
// is skipped (a resent chunk); off past Received fails with [ErrOffset], data past the
// declared size with [ErrTooLarge], first bytes that are not the declared format's
// signature with [ErrNotImage].
func (p *Partial) Write(off int64, data []byte) (int64, error) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if p.file == nil {
		return 0, ErrClosed
	}
	fail := func(err error) (int64, error) {
		p.s.dropLocked(p)
		return 0, err
	}
	if off > p.recv {
		return fail(fmt.Errorf("%w: offset %d, received %d", ErrOffset, off, p.recv))
	}
	end := off + int64(len(data))
	if end <= p.recv {
		return p.recv, nil
	}
	data = data[p.recv-off:]
	if end > p.size {
		return fail(fmt.Errorf("%w: data up to byte %d of a %d-byte upload", ErrTooLarge, end, p.size))
	}
	if _, err := p.file.WriteAt(data, p.recv); err != nil {
		return fail(fmt.Errorf("art: %w", err))
	}
	p.sum.Write(data)
	if len(p.head) < 8 {
		p.head = append(p.head, data[:min(len(data), 8-len(p.head))]...)
		if (len(p.head) == 8 || end == p.size) && Sniff(p.head) != p.format {
			return fail(fmt.Errorf("%w: the data does not start like a %v", ErrNotImage, p.format))
		}
	}
	p.recv = end
	p.touched = p.s.opt.Clock()
	return p.recv, nil
}

// Complete reports whether every declared byte was received.
func (p *Partial) Complete() bool {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	return p.recv == p.size
}

// Commit checks the complete upload (hash, image type, pixel bounds), fsyncs it and
// moves it into the store. The partial is gone afterwards, whatever the outcome.
func (p *Partial) Commit() (Info, error) {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.file == nil {
		return Info{}, ErrClosed
	}
	defer s.dropLocked(p) // removes the temp file unless it was renamed
	if p.recv != p.size {
		return Info{}, fmt.Errorf("%w: %d of %d bytes received", ErrOffset, p.recv, p.size)
	}
	var got [32]byte
	p.sum.Sum(got[:0])
	if got != p.key.Hash {
		return Info{}, fmt.Errorf("%w: declared %x…, bytes hash to %x…", ErrHashMismatch, p.key.Hash[:6], got[:6])
	}
	info, err := s.check(io.NewSectionReader(p.file, 0, p.size), got, p.size, p.format)
	if err != nil {
		return Info{}, err
	}
	if err := p.file.Sync(); err != nil {
		return Info{}, fmt.Errorf("art: %w", err)
	}
	dst := s.Path(got)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return Info{}, fmt.Errorf("art: %w", err)
	}
	if err := os.Rename(p.name, dst); err != nil {
		return Info{}, fmt.Errorf("art: %w", err)
	}
	if d, err := os.Open(filepath.Dir(dst)); err == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	if len(s.infos) >= 4096 {
		clear(s.infos)
	}
	s.infos[got] = info
	return info, nil
}

// Abort discards the upload.
func (p *Partial) Abort() {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	p.s.dropLocked(p)
}

// ParseHash parses a hex SHA-256 (64 digits).
func ParseHash(s string) ([32]byte, error) {
	var h [32]byte
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("art: %q is not a hex SHA-256", s)
	}
	copy(h[:], b)
	return h, nil
}
