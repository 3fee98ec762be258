package godot

import "encoding/binary"

// Codec frames and unframes ENet packet payloads for one Godot version. It is
// a small comparable value; the zero Codec is invalid, get one with [For].
//
//	codec := godot.For(godot.V3)
//	out = codec.AppendRaw(out[:0], int32(peer), snapshot)   // send on codec.Channel(reliable)
//	data, err := codec.ParseRaw(ch, packet, peer)           // token / inputs from a client
type Codec struct{ v Version }

// For returns the codec for v. It panics if v is not V3 or V4: the version is
// configuration, not network input (use [Version.Valid] to check a flag).
func For(v Version) Codec {
	if !v.Valid() {
		panic("godot: For with unknown version")
	}
	return Codec{v}
}

// Version returns the codec's Godot version.
func (c Codec) Version() Version { return c.v }

// Channels is the number of ENet channels Godot's default peer opens:
// 3 for Godot 3, 2 for Godot 4.
func (c Codec) Channels() int {
	if c.v == V3 {
		return Channels3
	}
	return Channels4
}

// Channel returns the ENet channel Godot uses for reliable (TRANSFER_MODE_RELIABLE)
// or unreliable traffic. Reliable packets carry ENet's reliable flag, unreliable
// ones Godot sends unsequenced.
func (c Codec) Channel(reliable bool) uint8 {
	switch {
	case c.v == V3 && reliable:
		return Channel3Reliable
	case c.v == V3:
		return Channel3Unreliable
	case reliable:
		return Channel4Reliable
	}
	return Channel4Unreliable
}

// AppendHeader appends what precedes a command in a server-to-client packet:
// for Godot 3 the 8-byte frame header with source [ServerID] and target dst
// (Godot writes the addressed peer, or 0 for a broadcast; clients ignore it);
// nothing for Godot 4. Append any command after it.
func (c Codec) AppendHeader(b []byte, dst int32) []byte {
	if c.v == V3 {
		return appendHeader3(b, ServerID, dst)
	}
	return b
}

// AppendRaw appends a complete server-to-client raw-bytes packet carrying
// data, which the client receives as network_peer_packet (Godot 3) or
// peer_packet (Godot 4). Send it on [Codec.Channel]. It does not allocate when
// b has room.
func (c Codec) AppendRaw(b []byte, dst int32, data []byte) []byte {
	if c.v == V3 {
		return AppendRaw3(appendHeader3(b, ServerID, dst), data)
	}
	return AppendRaw4(b, data)
}

// Packet is a client-to-server packet with its transport framing removed.
type Packet struct {
	Src     uint32 // sending peer (checked against the ENet peer's id)
	Dst     int32  // 0 broadcast, 1 server, -n all but n (Godot 3 header target or Godot 4 relay target)
	Relayed bool   // Godot 4: the payload came wrapped in SYS_COMMAND_RELAY
	Cmd     uint8  // command (Godot 4: command bits only)
	Payload []byte // the command payload, command byte first; aliases the input
}

// Unframe removes the transport framing from a packet that client from sent on
// ENet channel ch, and checks it is meant for the server, as Godot's server
// does before dispatching it:
//
//   - Godot 3 (NetworkedMultiplayerENet::poll): the 8-byte header's source must
//     equal from ([ErrSpoofedSource]); the target must include the server: 1, 0
//     or -n with n != 1 ([ErrNotForServer]); channel 0 is the server's own
//     ([ErrSystemChannel]).
//   - Godot 4 (SceneMultiplayer::_process_sys): a SYS_COMMAND_RELAY wrapper,
//     which a client with server_relay on puts around everything not sent to
//     peer 1 (send_bytes' default target is 0), is removed; its target must
//     be 0 or -n with n != 1.
//
// The payload is at least one byte. Unframe does not allocate.
func (c Codec) Unframe(ch uint8, b []byte, from uint32) (Packet, error) {
	if c.v == V3 {
		if ch == Channel3System {
			return Packet{}, ErrSystemChannel
		}
		if len(b) < Frame3HeaderLen+1 {
			return Packet{}, ErrShort
		}
		f, _ := ParseFrame3(b)
		if f.Src != from {
			return Packet{}, ErrSpoofedSource
		}
		if !forServer(f.Dst, true) {
			return Packet{}, ErrNotForServer
		}
		if f.Payload[0] > Cmd3Raw {
			return Packet{}, ErrUnknownCommand
		}
		return Packet{Src: f.Src, Dst: f.Dst, Cmd: f.Payload[0], Payload: f.Payload}, nil
	}
	if len(b) < 1 {
		return Packet{}, ErrShort
	}
	cmd := b[0] & Cmd4Mask
	if cmd != Cmd4Sys || len(b) < 2 || b[1] != Sys4Relay {
		return Packet{Src: from, Dst: ServerID, Cmd: cmd, Payload: b}, nil
	}
	if len(b) < sys4CmdSize+1 {
		return Packet{}, ErrShort
	}
	dst := int32(binary.LittleEndian.Uint32(b[2:]))
	if !forServer(dst, false) {
		return Packet{}, ErrNotForServer
	}
	inner := b[sys4CmdSize:]
	cmd = inner[0] & Cmd4Mask
	if cmd == Cmd4Sys { // _process_packet has no case for SYS
		return Packet{}, ErrUnknownCommand
	}
	return Packet{Src: from, Dst: dst, Relayed: true, Cmd: cmd, Payload: inner}, nil
}

// forServer reports whether target dst includes the server. A Godot 3 header
// may name the server (1); a Godot 4 relay never does.
func forServer(dst int32, allowServer bool) bool {
	return dst == 0 || (dst == ServerID && allowServer) || (dst < 0 && dst != -ServerID)
}

// ParseRaw unframes a client-to-server packet (see [Codec.Unframe]) and
// returns the bytes of its raw-bytes command; they alias b. Other commands
// give [ErrNotRaw]. ParseRaw does not allocate.
func (c Codec) ParseRaw(ch uint8, b []byte, from uint32) ([]byte, error) {
	p, err := c.Unframe(ch, b, from)
	if err != nil {
		return nil, err
	}
	if c.v == V3 {
		return ParseRaw3(p.Payload)
	}
	return ParseRaw4(p.Payload)
}

// AppendPeerEvent appends a server-to-client message announcing that a peer
// joined or left, and returns the channel to send it on, reliably: Godot 3's
// 8-byte system message on channel 0; Godot 4's [7][1|2][i32 id] on the
// reliable channel (acted on only by clients with server_relay on). It panics
// if e.Kind is invalid.
func (c Codec) AppendPeerEvent(b []byte, e PeerEvent) (uint8, []byte) {
	if c.v == V3 {
		return Channel3System, AppendSys3(b, e)
	}
	sub := uint8(Sys4AddPeer)
	switch e.Kind {
	case PeerAdded:
	case PeerRemoved:
		sub = Sys4DelPeer
	default:
		panic("godot: AppendPeerEvent with invalid PeerEventKind")
	}
	return Channel4Reliable, AppendSys4(b, Sys4{Sub: sub, Peer: int32(e.Peer)})
}

// ParsePeerEvent parses a peer join/leave message as a client receives it on
// channel ch (the client side of [Codec.AppendPeerEvent], for bots and tests).
func (c Codec) ParsePeerEvent(ch uint8, b []byte) (PeerEvent, error) {
	if c.v == V3 {
		if ch != Channel3System {
			return PeerEvent{}, ErrSystemChannel
		}
		return ParseSys3(b)
	}
	s, err := ParseSys4(b)
	if err != nil {
		return PeerEvent{}, err
	}
	switch s.Sub {
	case Sys4AddPeer:
		return PeerEvent{Kind: PeerAdded, Peer: uint32(s.Peer)}, nil
	case Sys4DelPeer:
		return PeerEvent{Kind: PeerRemoved, Peer: uint32(s.Peer)}, nil
	}
	return PeerEvent{}, ErrSysKind
}

// AppendVariant appends x encoded as Godot's encode_variant (var2bytes) does.
// See [AppendVariant].
func (c Codec) AppendVariant(b []byte, x any) ([]byte, error) { return AppendVariant(b, c.v, x) }

// ParseVariant decodes one variant from the start of b. See [ParseVariant].
func (c Codec) ParseVariant(b []byte) (any, int, error) { return ParseVariant(b, c.v) }
