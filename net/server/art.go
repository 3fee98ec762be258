package server

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/shardsim/shardsim/art"
	"github.com/shardsim/shardsim/ecs"
	"github.com/shardsim/shardsim/net/game"
	"github.com/shardsim/shardsim/systems"
)

// Defaults of the art settings of [Config].
const (
	DefaultFetchBytesPerTick = 32 << 10
	DefaultMaxFetches        = 8
	// UploadAckEvery is how many bytes an uploader may send between two UploadAcks the
	// server sends it (it also acks the Begin and the last byte).
	UploadAckEvery = 8 << 10
	sweepEvery     = time.Second
)

// upload is a client's current upload.
type upload struct {
	p       *art.Partial
	hash    [32]byte
	acked   int64 // newest Received sent in an UploadAck
	errSent bool
}

// fetch is one art stream queued for a client.
type fetch struct {
	hash [32]byte
	f    *os.File
	size int64
	off  int64
}

// placement is a CmdPlaceCanvas issued by Poll, resolved by Placed.
type placement struct {
	c    *client
	art  ecs.Art
	size int64
}

func artCode(err error) game.ArtCode {
	switch {
	case errors.Is(err, art.ErrTooLarge):
		return game.ArtTooLarge
	case errors.Is(err, art.ErrNotImage):
		return game.ArtNotImage
	case errors.Is(err, art.ErrTooManyPixels):
		return game.ArtTooManyPix
	case errors.Is(err, art.ErrHashMismatch):
		return game.ArtHashMismatch
	case errors.Is(err, art.ErrBusy):
		return game.ArtBusy
	case errors.Is(err, art.ErrOffset), errors.Is(err, art.ErrClosed):
		return game.ArtProtocol
	case errors.Is(err, art.ErrNotFound):
		return game.ArtNotFound
	}
	return game.ArtInternal
}

func (s *Server) sendArtError(c *client, fetch bool, h [32]byte, code game.ArtCode, text string) {
	m := game.ArtErrorMsg{Hash: h, Code: code, Text: text}
	if fetch {
		s.out = game.AppendFetchError(s.out[:0], &m)
		s.st.FetchErrors++
	} else {
		s.out = game.AppendUploadError(s.out[:0], &m)
		s.st.UploadErrors++
	}
	s.send(c, true)
}

func (s *Server) sendUploadAck(c *client, h [32]byte, n int64) {
	s.out = game.AppendUploadAck(s.out[:0], &game.UploadAckMsg{Hash: h, Received: uint32(n)})
	s.send(c, true)
}

// artMessage handles an art message (upload, fetch) of a playing client.
func (s *Server) artMessage(c *client, pkt []byte, cmds []ecs.Command) []ecs.Command {
	switch game.MsgType(pkt[0]) {
	case game.TypeUploadBegin:
		m, err := game.ParseUploadBegin(pkt)
		if err != nil {
			s.st.Dropped[DropMessage]++
			s.sendArtError(c, false, [32]byte{}, game.ArtProtocol, err.Error())
			return s.bad(c, cmds)
		}
		return s.uploadBegin(c, &m, cmds)
	case game.TypeUploadChunk:
		m, err := game.ParseUploadChunk(pkt)
		if err != nil {
			s.st.Dropped[DropMessage]++
			return s.bad(c, cmds)
		}
		return s.uploadChunk(c, &m, cmds)
	case game.TypeFetchArt:
		m, err := game.ParseFetchArt(pkt)
		if err != nil {
			s.st.Dropped[DropMessage]++
			return s.bad(c, cmds)
		}
		s.fetchArt(c, m.Hash)
		return cmds
	}
	s.st.Dropped[DropMessage]++
	return s.bad(c, cmds)
}

func (s *Server) uploadBegin(c *client, m *game.UploadBeginMsg, cmds []ecs.Command) []ecs.Command {
	st := s.cfg.Art
	if st == nil {
		s.sendArtError(c, false, m.Hash, game.ArtNoStore, "this server does not accept art")
		return cmds
	}
	c.up = nil // an earlier upload stays resumable in the store until it times out
	s.st.UploadsBegun++
	if info, err := st.Stat(m.Hash); err == nil {
		// Already stored: nothing to send.
		if info.Size != int64(m.Size) {
			s.sendArtError(c, false, m.Hash, game.ArtHashMismatch, fmt.Sprintf("art %x… is %d bytes, not %d", m.Hash[:6], info.Size, m.Size))
			return cmds
		}
		s.sendUploadAck(c, m.Hash, info.Size)
		return s.place(c, info, cmds)
	}
	p, err := st.Begin(c.clientID, m.Hash, int64(m.Size), art.Format(m.Type))
	if err != nil {
		s.sendArtError(c, false, m.Hash, artCode(err), err.Error())
		return cmds
	}
	for _, o := range s.clients { // the same client id from an older session
		if o != c && o.up != nil && o.up.p == p {
			o.up = nil
		}
	}
	n := p.Received()
	if n > 0 {
		s.st.UploadsResumed++
	}
	c.up = &upload{p: p, hash: m.Hash, acked: n}
	s.sendUploadAck(c, m.Hash, n)
	return cmds
}

func (s *Server) uploadChunk(c *client, m *game.UploadChunkMsg, cmds []ecs.Command) []ecs.Command {
	u := c.up
	if u == nil || !u.p.Open() {
		s.st.Dropped[DropState]++
		if u != nil && !u.errSent {
			u.errSent = true
			s.sendArtError(c, false, u.hash, game.ArtTimeout, "the upload is no longer open (timed out)")
		}
		return cmds
	}
	n, err := u.p.Write(int64(m.Offset), m.Data)
	if err != nil {
		c.up = nil
		s.sendArtError(c, false, u.hash, artCode(err), err.Error())
		return cmds
	}
	s.st.UploadBytes += int64(len(m.Data))
	if n < u.p.Size() {
		if n-u.acked >= UploadAckEvery {
			u.acked = n
			s.sendUploadAck(c, u.hash, n)
		}
		return cmds
	}
	c.up = nil
	s.sendUploadAck(c, u.hash, n)
	info, err := u.p.Commit()
	if err != nil {
		s.sendArtError(c, false, u.hash, artCode(err), err.Error())
		return cmds
	}
	s.st.UploadsStored++
	return s.place(c, info, cmds)
}

// place issues the command that places info as c's canvas; Placed reports the outcome.
func (s *Server) place(c *client, info art.Info, cmds []ecs.Command) []ecs.Command {
	a := ecs.Art{Hash: info.Hash, Width: uint16(info.Width), Height: uint16(info.Height)}
	s.pending = append(s.pending, placement{c: c, art: a, size: info.Size})
	return append(cmds, ecs.Command{Kind: ecs.CmdPlaceCanvas, Player: c.id, Art: a})
}

// Placed reports the canvases a step placed: each uploader whose CmdPlaceCanvas (from
// the last Poll) took effect gets UploadDone, the others an UploadError; every playing
// client gets the CanvasInfo of each new canvas. Call it after the step that applied
// Poll's commands.
func (s *Server) Placed(placed []systems.Placed, w *ecs.World) {
	used := make([]bool, len(placed))
	for _, pl := range s.pending {
		found := -1
		for i := range placed {
			if !used[i] && placed[i].Player == pl.c.id && placed[i].Art == pl.art {
				found = i
				break
			}
		}
		if pl.c.state != playing {
			continue // gone meanwhile; the canvas is still announced below
		}
		if found < 0 {
			s.sendArtError(pl.c, false, pl.art.Hash, game.ArtPlacement, "the world refused the canvas")
			continue
		}
		used[found] = true
		s.out = game.AppendUploadDone(s.out[:0], &game.UploadDoneMsg{Hash: pl.art.Hash, Canvas: placed[found].Canvas, Width: pl.art.Width, Height: pl.art.Height})
		s.send(pl.c, true)
	}
	s.pending = s.pending[:0]
	for _, p := range placed {
		cv, ok := findCanvas(w, p.Canvas)
		if !ok {
			continue
		}
		s.out = game.AppendCanvasInfo(s.out[:0], &game.CanvasInfoMsg{Canvas: cv, Size: s.artSize(cv.Art.Hash)})
		for _, c := range s.clients {
			if c.state == playing {
				s.send(c, true)
			}
		}
	}
	s.publish()
}

func findCanvas(w *ecs.World, id ecs.CanvasID) (ecs.Canvas, bool) {
	for _, cv := range w.Canvases() {
		if cv.ID == id {
			return cv, true
		}
	}
	return ecs.Canvas{}, false
}

func (s *Server) artSize(h [32]byte) uint32 {
	if s.cfg.Art == nil {
		return 0
	}
	info, err := s.cfg.Art.Stat(h)
	if err != nil {
		return 0
	}
	return uint32(info.Size)
}

// sendCanvases sends c the CanvasInfo of every canvas of w.
func (s *Server) sendCanvases(c *client, w *ecs.World) {
	for _, cv := range w.Canvases() {
		s.out = game.AppendCanvasInfo(s.out[:0], &game.CanvasInfoMsg{Canvas: cv, Size: s.artSize(cv.Art.Hash)})
		s.send(c, true)
	}
}

func (s *Server) fetchArt(c *client, h [32]byte) {
	s.st.Fetches++
	if s.cfg.Art == nil {
		s.sendArtError(c, true, h, game.ArtNoStore, "this server holds no art")
		return
	}
	if len(c.fetches) >= s.cfg.MaxFetches {
		s.sendArtError(c, true, h, game.ArtBusy, fmt.Sprintf("at most %d fetches at once", s.cfg.MaxFetches))
		return
	}
	f, info, err := s.cfg.Art.OpenArt(h)
	if err != nil {
		s.sendArtError(c, true, h, artCode(err), err.Error())
		return
	}
	c.fetches = append(c.fetches, &fetch{hash: h, f: f, size: info.Size})
}

// pumpArt streams queued fetches, at most FetchBytesPerTick per client per call.
func (s *Server) pumpArt() {
	var chunk [game.MaxChunk]byte
	for _, c := range s.clients {
		budget := s.cfg.FetchBytesPerTick
		for len(c.fetches) > 0 && budget > 0 && c.state == playing {
			ft := c.fetches[0]
			n := int(min(int64(len(chunk)), ft.size-ft.off))
			if _, err := ft.f.ReadAt(chunk[:n], ft.off); err != nil {
				s.sendArtError(c, true, ft.hash, game.ArtInternal, "reading the art failed")
				s.popFetch(c)
				continue
			}
			s.out = game.AppendArtChunk(s.out[:0], &game.ArtChunkMsg{Hash: ft.hash, Total: uint32(ft.size), Offset: uint32(ft.off), Data: chunk[:n]})
			s.send(c, true)
			s.st.FetchBytes += int64(n)
			ft.off += int64(n)
			budget -= n
			if ft.off == ft.size {
				s.popFetch(c)
			}
		}
	}
}

func (s *Server) popFetch(c *client) {
	c.fetches[0].f.Close()
	c.fetches[0] = nil
	c.fetches = c.fetches[1:]
}

// dropArt releases what a leaving client holds (its upload stays resumable).
func (s *Server) dropArt(c *client) {
	for _, ft := range c.fetches {
		ft.f.Close()
	}
	c.fetches = nil
	c.up = nil
}

// sweepArt removes uploads idle past the store's timeout and tells their uploaders.
func (s *Server) sweepArt(now time.Time) {
	if s.cfg.Art == nil || now.Before(s.nextSweep) {
		return
	}
	s.nextSweep = now.Add(sweepEvery)
	gone := s.cfg.Art.Sweep()
	s.st.UploadsSwept += int64(len(gone))
	for _, c := range s.clients {
		if c.up != nil && !c.up.p.Open() {
			h := c.up.hash
			c.up = nil
			s.sendArtError(c, false, h, game.ArtTimeout, "upload abandoned: idle past the timeout")
		}
	}
}
