package godot

import "encoding/binary"

// Version selects the Godot major version whose multiplayer framing is spoken.
type Version int

const (
	// V3 is Godot 3.x (NetworkedMultiplayerENet + MultiplayerAPI), verified against 3.2.
	V3 Version = 3
	// V4 is Godot 4.x (ENetMultiplayerPeer + SceneMultiplayer), read from 4.2+ sources.
	V4 Version = 4
)

func (v Version) String() string {
	switch v {
	case V3:
		return "godot3"
	case V4:
		return "godot4"
	}
	return "godot?"
}

// Valid reports whether v is V3 or V4.
func (v Version) Valid() bool { return v == V3 || v == V4 }

// ServerID is the peer id of the server in every Godot version; clients pick
// an id >= 2 and send it as the ENet connect data.
const ServerID = 1

// ENet channel layout.
//
// Godot 3 (networked_multiplayer_enet.h: SYSCH_CONFIG, SYSCH_RELIABLE,
// SYSCH_UNRELIABLE) uses 3 channels; Godot 4 (enet_multiplayer_peer.h:
// SYSCH_RELIABLE = 0, SYSCH_UNRELIABLE = 1, SYSCH_MAX = 2) uses 2, plus any
// custom channels above them.
const (
	Channel3System     = 0
	Channel3Reliable   = 1
	Channel3Unreliable = 2
	Channels3          = 3

	Channel4Reliable   = 0
	Channel4Unreliable = 1
	Channels4          = 2
)

// Frame3HeaderLen is the size of the header Godot 3 puts before every packet on
// the reliable and unreliable channels.
const Frame3HeaderLen = 8

// Frame is a Godot 3 game-channel packet: NetworkedMultiplayerENet::put_packet
// writes `u32 source id, i32 target id` (little-endian) and then the payload.
//
// Target 0 means broadcast, a negative target -n means everyone except n, a
// positive target means exactly that peer.
type Frame struct {
	Src     uint32
	Dst     int32
	Payload []byte // aliases the parsed buffer
}

// AppendFrame3 appends a Godot 3 frame (header then payload) to b.
func AppendFrame3(b []byte, src uint32, dst int32, payload []byte) []byte {
	b = appendHeader3(b, src, dst)
	return append(b, payload...)
}

func appendHeader3(b []byte, src uint32, dst int32) []byte {
	b = binary.LittleEndian.AppendUint32(b, src)
	return binary.LittleEndian.AppendUint32(b, uint32(dst))
}

// ParseFrame3 parses a Godot 3 game-channel packet. The payload aliases b.
// Godot accepts a header with an empty payload (the MultiplayerAPI then
// rejects it), so does ParseFrame3; the command parsers reject it.
func ParseFrame3(b []byte) (Frame, error) {
	if len(b) < Frame3HeaderLen {
		return Frame{}, ErrShort
	}
	return Frame{
		Src:     binary.LittleEndian.Uint32(b),
		Dst:     int32(binary.LittleEndian.Uint32(b[4:])),
		Payload: b[Frame3HeaderLen:],
	}, nil
}

// PeerEventKind says whether a peer joined or left.
type PeerEventKind uint8

const (
	// PeerAdded is Godot 3 SYSMSG_ADD_PEER (0) / Godot 4 SYS_COMMAND_ADD_PEER (1).
	PeerAdded PeerEventKind = iota + 1
	// PeerRemoved is Godot 3 SYSMSG_REMOVE_PEER (1) / Godot 4 SYS_COMMAND_DEL_PEER (2).
	PeerRemoved
)

func (k PeerEventKind) String() string {
	switch k {
	case PeerAdded:
		return "added"
	case PeerRemoved:
		return "removed"
	}
	return "?"
}

// PeerEvent is a system message from the server telling a client that another
// peer joined or left (Godot's server relay).
type PeerEvent struct {
	Kind PeerEventKind
	Peer uint32
}

// Godot 3 system message kinds (networked_multiplayer_enet.h).
const (
	sysmsg3AddPeer    = 0
	sysmsg3RemovePeer = 1
	sys3Len           = 8
)

// AppendSys3 appends a Godot 3 system message, sent reliably on
// [Channel3System]: `u32 kind (0 add, 1 remove), u32 peer id`
// (NetworkedMultiplayerENet::poll, ENET_EVENT_TYPE_CONNECT / DISCONNECT).
// It panics if e.Kind is not PeerAdded or PeerRemoved.
func AppendSys3(b []byte, e PeerEvent) []byte {
	var kind uint32
	switch e.Kind {
	case PeerAdded:
		kind = sysmsg3AddPeer
	case PeerRemoved:
		kind = sysmsg3RemovePeer
	default:
		panic("godot: AppendSys3 with invalid PeerEventKind")
	}
	b = binary.LittleEndian.AppendUint32(b, kind)
	return binary.LittleEndian.AppendUint32(b, e.Peer)
}

// ParseSys3 parses a Godot 3 system-channel message. Godot's client reads
// the first 8 bytes and ignores the rest; ParseSys3 requires exactly 8.
func ParseSys3(b []byte) (PeerEvent, error) {
	if len(b) < sys3Len {
		return PeerEvent{}, ErrShort
	}
	if len(b) > sys3Len {
		return PeerEvent{}, ErrTrailing
	}
	e := PeerEvent{Peer: binary.LittleEndian.Uint32(b[4:])}
	switch binary.LittleEndian.Uint32(b) {
	case sysmsg3AddPeer:
		e.Kind = PeerAdded
	case sysmsg3RemovePeer:
		e.Kind = PeerRemoved
	default:
		return PeerEvent{}, ErrSysKind
	}
	return e, nil
}

// CheckClientID checks the peer id a client sent as its ENet connect data,
// as Godot's server does before accepting it (NetworkedMultiplayerENet::poll,
// ENetMultiplayerPeer::poll: `(int)event.data < 2` is reset): it must be at
// least 2 and fit in an int32, else [ErrPeerID]. Godot clients draw it from
// [2, 2^31).
func CheckClientID(connectData uint32) error {
	if connectData < 2 || connectData > 0x7FFFFFFF {
		return ErrPeerID
	}
	return nil
}
