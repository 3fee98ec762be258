package client

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"

	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/enet"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/net/godot"
)

// UploadWindow is how many bytes an upload sends beyond the newest UploadAck.
const UploadWindow = 64 << 10

// MaxFetchSize bounds the art a Fetch accepts.
const MaxFetchSize = 64 << 20

// ErrArt matches every [*ArtError] with errors.Is.
var ErrArt = errors.New("client: art refused")

// ArtError is the error of an upload or fetch the server refused (UploadError or
// FetchError). It matches [ErrArt].
type ArtError struct {
	Code game.ArtCode
	Text string
}

func (e *ArtError) Error() string { return fmt.Sprintf("client: art: %v: %s", e.Code, e.Text) }

// Is reports whether target is [ErrArt].
func (e *ArtError) Is(target error) bool { return target == ErrArt }

// UploadOptions configure [Client.Upload]. The zero value is usable.
type UploadOptions struct {
	// Type is the declared content type (game.ContentPNG or game.ContentJPEG); 0 takes it
	// from the data's first bytes (PNG when they are neither).
	Type uint8
	// Hash, when non-nil, is declared instead of the data's SHA-256 (a wrong one makes
	// the server refuse the upload: for tests of that path).
	Hash *[32]byte
	// Progress, when set, is called on the caller's goroutine with the bytes the server
	// acknowledged, increasing, whenever it sees a newer acknowledgement (several that
	// arrive together are reported once), the last one included.
	Progress func(acked int64)
}

// UploadResult is a finished upload.
type UploadResult struct {
	Hash          [32]byte
	Canvas        ecs.CanvasID
	Width, Height uint16
	// ResumedAt is where the server continued the upload from (bytes kept from an
	// earlier, interrupted upload of the same hash by the same client id; 0 if none).
	ResumedAt int64
}

// upState is the state of the running upload, updated by the client goroutine.
type upState struct {
	hash    [32]byte
	acked   int64
	gotAck  bool
	done    *game.UploadDoneMsg
	err     *ArtError
	changed chan struct{} // cap 1: something above changed
}

type fetchState struct {
	total int64
	buf   []byte
	err   error
	done  chan struct{}
}

func (c *Client) sendRaw(msg []byte) error {
	out := godot.AppendFrame3(nil, c.id, godot.ServerID, nil)
	out = godot.AppendRaw3(out, msg)
	if err := c.currentPeer().Send(chanReliable, out, enet.Reliable); err != nil {
		if e := c.Err(); e != nil {
			return e // the session ended: say why
		}
		return fmt.Errorf("%w: %w", ErrDisconnected, err)
	}
	return nil
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Upload sends data (a PNG or JPEG) to the server, which stores it and places a canvas
// at the client's player. It returns when the server reports the canvas placed, with an
// [*ArtError] when the server refuses the upload, or when ctx ends or the session ends.
// An upload interrupted by a lost connection resumes, after Dial with a token of the
// same client id, by calling Upload again with the same data. One upload runs at a time
// per client; concurrent calls wait.
func (c *Client) Upload(ctx context.Context, data []byte, opt UploadOptions) (UploadResult, error) {
	if len(data) == 0 || int64(len(data)) > game.MaxArtSize {
		return UploadResult{}, fmt.Errorf("%w: upload of %d bytes", ErrBadOptions, len(data))
	}
	c.upLock.Lock()
	defer c.upLock.Unlock()
	h := sha256.Sum256(data)
	if opt.Hash != nil {
		h = *opt.Hash
	}
	typ := opt.Type
	if typ == 0 {
		typ = game.ContentPNG
		if len(data) >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff {
			typ = game.ContentJPEG
		}
	}
	u := &upState{hash: h, changed: make(chan struct{}, 1)}
	c.mu.Lock()
	c.up = u
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.up = nil
		c.mu.Unlock()
	}()
	if err := c.sendRaw(game.AppendUploadBegin(nil, &game.UploadBeginMsg{Size: uint32(len(data)), Hash: h, Type: typ})); err != nil {
		return UploadResult{}, err
	}
	res := UploadResult{Hash: h}
	var next int64 = -1 // next byte to send; -1 until the Begin is acked
	var reported int64 = -1
	progress := func(acked int64) { // each newer ack once, the last one included
		if opt.Progress != nil && acked > reported {
			reported = acked
			opt.Progress(acked)
		}
	}
	var msg []byte
	for {
		c.mu.Lock()
		acked, gotAck, done, aerr := u.acked, u.gotAck, u.done, u.err
		c.mu.Unlock()
		switch {
		case aerr != nil:
			return res, aerr
		case done != nil:
			// The last UploadAck may have come with the UploadDone, before this loop saw it.
			progress(acked)
			res.Canvas, res.Width, res.Height = done.Canvas, done.Width, done.Height
			return res, nil
		}
		if gotAck {
			if next < 0 {
				next, res.ResumedAt = acked, acked
			}
			progress(acked)
			for next < int64(len(data)) && next-acked < UploadWindow {
				end := min(next+game.MaxChunk, int64(len(data)))
				msg = game.AppendUploadChunk(msg[:0], &game.UploadChunkMsg{Offset: uint32(next), Data: data[next:end]})
				if err := c.sendRaw(msg); err != nil {
					return res, err
				}
				next = end
			}
		}
		select {
		case <-u.changed:
		case <-ctx.Done():
			return res, ctx.Err()
		case <-c.done:
			return res, c.Err()
		}
	}
}

// Fetch asks the server for the bytes of the art with SHA-256 hash and returns them once
// all arrived (checked against the hash), an [*ArtError] if the server refuses, or when
// ctx or the session ends. Concurrent fetches of the same hash share one stream.
func (c *Client) Fetch(ctx context.Context, hash [32]byte) ([]byte, error) {
	c.mu.Lock()
	fs, ok := c.fetches[hash]
	if !ok {
		fs = &fetchState{done: make(chan struct{})}
		c.fetches[hash] = fs
	}
	c.mu.Unlock()
	if !ok {
		if err := c.sendRaw(game.AppendFetchArt(nil, &game.FetchArtMsg{Hash: hash})); err != nil {
			c.endFetch(hash, fs, err)
		}
	}
	select {
	case <-fs.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return nil, c.Err()
	}
	if fs.err != nil {
		return nil, fs.err
	}
	if sha256.Sum256(fs.buf) != hash {
		return nil, fmt.Errorf("client: fetched art does not hash to %x…", hash[:6])
	}
	return fs.buf, nil
}

// endFetch completes fs with err (nil: success). c.mu must not be held.
func (c *Client) endFetch(hash [32]byte, fs *fetchState, err error) {
	c.mu.Lock()
	mine := c.fetches[hash] == fs
	if mine {
		delete(c.fetches, hash)
	}
	c.mu.Unlock()
	if !mine {
		return // already ended
	}
	fs.err = err
	close(fs.done)
}

// Canvases returns the canvases the server announced, in id order.
func (c *Client) Canvases() []game.CanvasInfoMsg {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := make([]game.CanvasInfoMsg, 0, len(c.canvases))
	for _, cv := range c.canvases {
		r = append(r, cv)
	}
	sort.Slice(r, func(i, j int) bool { return r[i].ID < r[j].ID })
	return r
}

// artMessage handles a server art message on the client goroutine; it reports whether
// the message was one.
func (c *Client) artMessage(t game.MsgType, data []byte) bool {
	switch t {
	case game.TypeUploadAck, game.TypeUploadDone, game.TypeUploadError:
		c.mu.Lock()
		defer c.mu.Unlock()
		u := c.up
		if u == nil {
			c.st.Ignored++
			return true
		}
		switch t {
		case game.TypeUploadAck:
			m, err := game.ParseUploadAck(data)
			if err != nil || m.Hash != u.hash {
				c.st.Ignored++
				return true
			}
			u.acked, u.gotAck = max(u.acked, int64(m.Received)), true
		case game.TypeUploadDone:
			m, err := game.ParseUploadDone(data)
			if err != nil || m.Hash != u.hash {
				c.st.Ignored++
				return true
			}
			u.done = &m
		case game.TypeUploadError:
			m, err := game.ParseUploadError(data)
			if err != nil {
				m = game.ArtErrorMsg{Hash: u.hash, Code: game.ArtProtocol, Text: "malformed upload error"}
			}
			if m.Hash != u.hash && m.Hash != ([32]byte{}) {
				c.st.Ignored++
				return true
			}
			u.err = &ArtError{Code: m.Code, Text: m.Text}
		}
		signal(u.changed)
	case game.TypeCanvasInfo:
		m, err := game.ParseCanvasInfo(data)
		if err != nil {
			c.ignored()
			return true
		}
		c.mu.Lock()
		c.canvases[m.ID] = m
		c.mu.Unlock()
		if c.opt.OnCanvas != nil {
			c.opt.OnCanvas(m)
		}
	case game.TypeArtChunk:
		m, err := game.ParseArtChunk(data)
		if err != nil {
			c.ignored()
			return true
		}
		c.mu.Lock()
		fs := c.fetches[m.Hash]
		c.mu.Unlock()
		if fs == nil {
			c.ignored()
			return true
		}
		switch {
		case m.Total > MaxFetchSize:
			c.endFetch(m.Hash, fs, fmt.Errorf("client: art of %d bytes, more than %d", m.Total, MaxFetchSize))
		case int64(m.Offset) != int64(len(fs.buf)) || (fs.total != 0 && fs.total != int64(m.Total)):
			c.endFetch(m.Hash, fs, fmt.Errorf("client: art chunk at %d of %d, expected %d", m.Offset, m.Total, len(fs.buf)))
		default:
			if fs.buf == nil {
				fs.total, fs.buf = int64(m.Total), make([]byte, 0, m.Total)
			}
			fs.buf = append(fs.buf, m.Data...)
			if int64(len(fs.buf)) == fs.total {
				c.endFetch(m.Hash, fs, nil)
			}
		}
	case game.TypeFetchError:
		m, err := game.ParseFetchError(data)
		if err != nil {
			c.ignored()
			return true
		}
		c.mu.Lock()
		fs := c.fetches[m.Hash]
		c.mu.Unlock()
		if fs != nil {
			c.endFetch(m.Hash, fs, &ArtError{Code: m.Code, Text: m.Text})
		}
	default:
		return false
	}
	return true
}
