package godot

import "encoding/binary"

// Godot 3 command bytes: MultiplayerAPI::NetworkCommands (core/io/multiplayer_api.h, 3.2).
// The command is the first byte of every game-channel payload.
const (
	Cmd3RemoteCall   = 0 // rpc: [0][u32 node][method\0][u8 argc][variants...][path\0]?
	Cmd3RemoteSet    = 1 // rset: [1][u32 node][property\0][variant][path\0]?
	Cmd3SimplifyPath = 2 // [2][u32 cache id][path\0]
	Cmd3ConfirmPath  = 3 // [3][path\0]
	Cmd3Raw          = 4 // send_bytes: [4][bytes...]
)

// Godot 4 command bytes: SceneMultiplayer::NetworkCommands
// (modules/multiplayer/scene_multiplayer.h). Only the low three bits
// (CMD_MASK = 7) select the command; the upper bits carry per-command flags.
const (
	Cmd4RemoteCall   = 0
	Cmd4SimplifyPath = 1
	Cmd4ConfirmPath  = 2
	Cmd4Raw          = 3
	Cmd4Spawn        = 4
	Cmd4Despawn      = 5
	Cmd4Sync         = 6
	Cmd4Sys          = 7
	Cmd4Mask         = 7
)

// Godot 4 system sub-commands: SceneMultiplayer::SysCommands. A system
// message is [7][sub][i32 peer][data...] (SYS_CMD_SIZE = 6), except
// authentication, which is [7][0][data...].
const (
	Sys4Auth    = 0
	Sys4AddPeer = 1
	Sys4DelPeer = 2
	Sys4Relay   = 3
	sys4CmdSize = 6
)

// AppendRaw3 appends a Godot 3 raw-bytes command (MultiplayerAPI::send_bytes):
// the byte 4 and then data. Godot refuses to send an empty data.
func AppendRaw3(b, data []byte) []byte {
	b = append(b, Cmd3Raw)
	return append(b, data...)
}

// ParseRaw3 returns the bytes of a Godot 3 raw-bytes command payload
// (MultiplayerAPI::_process_raw); they alias p.
func ParseRaw3(p []byte) ([]byte, error) {
	if len(p) < 1 {
		return nil, ErrShort
	}
	switch {
	case p[0] > Cmd3Raw:
		return nil, ErrUnknownCommand
	case p[0] != Cmd3Raw:
		return nil, ErrNotRaw
	case len(p) < 2:
		return nil, ErrEmptyRaw
	}
	return p[1:], nil
}

// AppendRaw4 appends a Godot 4 raw-bytes command (SceneMultiplayer::send_bytes):
// the byte 3 and then data.
func AppendRaw4(b, data []byte) []byte {
	b = append(b, Cmd4Raw)
	return append(b, data...)
}

// ParseRaw4 returns the bytes of a Godot 4 raw-bytes command payload
// (SceneMultiplayer::_process_raw); they alias p. Like Godot it looks only at
// the command bits of the first byte. A relayed packet must be unwrapped first
// (see [Codec.Unframe]).
func ParseRaw4(p []byte) ([]byte, error) {
	if len(p) < 1 {
		return nil, ErrShort
	}
	switch {
	case p[0]&Cmd4Mask != Cmd4Raw:
		return nil, ErrNotRaw
	case len(p) < 2:
		return nil, ErrEmptyRaw
	}
	return p[1:], nil
}

// Sys4 is a Godot 4 system message (command 7).
type Sys4 struct {
	Sub  uint8  // Sys4Auth, Sys4AddPeer, Sys4DelPeer or Sys4Relay
	Peer int32  // add/del: the peer; relay: target (client to server) or source (server to client); unused for auth
	Data []byte // auth: the authentication bytes (empty = "auth complete"); relay: the inner command payload. Aliases the input.
}

// AppendSys4 appends a Godot 4 system message
// (SceneMultiplayer::_admit_peer, _del_peer, send_command, send_auth). It
// panics if s.Sub is not one of the four sub-commands.
func AppendSys4(b []byte, s Sys4) []byte {
	b = append(b, Cmd4Sys, s.Sub)
	switch s.Sub {
	case Sys4Auth:
	case Sys4AddPeer, Sys4DelPeer, Sys4Relay:
		b = binary.LittleEndian.AppendUint32(b, uint32(s.Peer))
	default:
		panic("godot: AppendSys4 with unknown sub-command")
	}
	return append(b, s.Data...)
}

// ParseSys4 parses a Godot 4 system-message payload (SceneMultiplayer::poll
// and _process_sys). Add/del peer must be exactly 6 bytes, a relay at least 7.
func ParseSys4(p []byte) (Sys4, error) {
	if len(p) < 2 {
		return Sys4{}, ErrShort
	}
	if p[0]&Cmd4Mask != Cmd4Sys {
		return Sys4{}, ErrUnknownCommand
	}
	s := Sys4{Sub: p[1]}
	switch s.Sub {
	case Sys4Auth:
		s.Data = p[2:]
		return s, nil
	case Sys4AddPeer, Sys4DelPeer, Sys4Relay:
	default:
		return Sys4{}, ErrSysKind
	}
	if len(p) < sys4CmdSize {
		return Sys4{}, ErrShort
	}
	s.Peer = int32(binary.LittleEndian.Uint32(p[2:]))
	if s.Sub == Sys4Relay {
		if len(p) < sys4CmdSize+1 {
			return Sys4{}, ErrShort
		}
		s.Data = p[sys4CmdSize:]
	} else if len(p) > sys4CmdSize {
		return Sys4{}, ErrTrailing
	}
	return s, nil
}

// AppendSimplifyPath3 appends a Godot 3 SIMPLIFY_PATH command: the sender
// announces that id stands for path in its later remote calls
// (MultiplayerAPI::_send_confirm_path). It returns ErrCString if path holds a NUL.
func AppendSimplifyPath3(b []byte, id uint32, path string) ([]byte, error) {
	if !validCString(path) {
		return b, ErrCString
	}
	b = append(b, Cmd3SimplifyPath)
	b = binary.LittleEndian.AppendUint32(b, id)
	return appendCString(b, path), nil
}

// ParseSimplifyPath3 parses a Godot 3 SIMPLIFY_PATH payload.
func ParseSimplifyPath3(p []byte) (id uint32, path string, err error) {
	if len(p) < 5 {
		return 0, "", ErrShort
	}
	if p[0] != Cmd3SimplifyPath {
		return 0, "", ErrUnknownCommand
	}
	path, err = parseCStringToEnd(p[5:])
	if err != nil {
		return 0, "", err
	}
	return binary.LittleEndian.Uint32(p[1:]), path, nil
}

// AppendConfirmPath3 appends a Godot 3 CONFIRM_PATH command, the answer to a
// SIMPLIFY_PATH (MultiplayerAPI::_process_simplify_path).
func AppendConfirmPath3(b []byte, path string) ([]byte, error) {
	if !validCString(path) {
		return b, ErrCString
	}
	b = append(b, Cmd3ConfirmPath)
	return appendCString(b, path), nil
}

// ParseConfirmPath3 parses a Godot 3 CONFIRM_PATH payload.
func ParseConfirmPath3(p []byte) (string, error) {
	if len(p) < 2 {
		return "", ErrShort
	}
	if p[0] != Cmd3ConfirmPath {
		return "", ErrUnknownCommand
	}
	return parseCStringToEnd(p[1:])
}

func validCString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return false
		}
	}
	return true
}

// appendCString is encode_cstring: the UTF-8 bytes and a NUL.
func appendCString(b []byte, s string) []byte {
	b = append(b, s...)
	return append(b, 0)
}

// parseCStringToEnd parses a NUL-terminated string that must fill p exactly.
func parseCStringToEnd(p []byte) (string, error) {
	if len(p) == 0 || p[len(p)-1] != 0 {
		return "", ErrCString
	}
	s := p[:len(p)-1]
	for _, c := range s {
		if c == 0 {
			return "", ErrCString
		}
	}
	if !validUTF8(s) {
		return "", ErrUTF8
	}
	return string(s), nil
}
