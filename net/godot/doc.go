// Package godot encodes and decodes the bytes of Godot's high-level
// multiplayer as it runs over ENet, so that a stock Godot client connected
// with NetworkedMultiplayerENet (Godot 3) or ENetMultiplayerPeer (Godot 4)
// can talk to a Go server. It is a pure codec: no I/O, no goroutines, no
// logging; the ENet transport lives in net/enet and the game protocol in net.
//
// # Layers
//
// Godot 3 puts an 8-byte header `u32 source id, i32 target id` before every
// packet on the reliable (1) and unreliable (2) ENet channels ([Frame],
// [AppendFrame3], [ParseFrame3]) and sends 8-byte peer join/leave messages
// on the system channel 0 ([AppendSys3], [ParseSys3]). Godot 4 sends the
// payload bare on channels 0 (reliable) and 1 (unreliable) and moves system
// messages into the payload ([Sys4], [AppendSys4], [ParseSys4]). The server
// is always peer 1 ([ServerID]); a client picks its id (>= 2) and sends it as
// the ENet connect data.
//
// Every payload starts with a command byte: raw bytes from
// multiplayer.send_bytes ([AppendRaw3], [ParseRaw3], [AppendRaw4],
// [ParseRaw4]), remote calls ([RPC3], [RPC4]), node-path caching
// ([AppendSimplifyPath3], [AppendConfirmPath3]) and, for Godot 4, system
// messages. RPC arguments are variants in Godot's binary serialization, the
// bytes of var2bytes ([AppendVariant], [ParseVariant]).
//
// # Choosing a version
//
// A server speaks one version per listener through a [Codec]:
//
//	codec := godot.For(godot.V3)
//	data, err := codec.ParseRaw(channel, packet, peerID) // client token, inputs
//	out = codec.AppendRaw(out[:0], int32(peerID), snapshot)
//
// [Codec.Unframe] removes the framing (and a Godot 4 relay wrapper) and
// checks the packet is meant for the server and comes from its sender.
//
// # Conventions
//
// Encoders are append-style, `AppendX(b, ...) []byte`, and do not allocate
// when b has room. Parsers check every length before reading, return the
// errors of errors.go (match them with [errors.Is]) and never panic on any
// input; the frame, raw and system parsers return sentinels without
// allocating and their results alias the input. Functions panic only on
// programmer error (an unknown [Version] or event kind), as documented.
//
// The byte layouts are those written by Godot's C++ sources, cited at each
// function: modules/enet/networked_multiplayer_enet.cpp,
// core/io/multiplayer_api.cpp and core/io/marshalls.cpp of Godot 3.2;
// modules/enet/enet_multiplayer_peer.cpp,
// modules/multiplayer/scene_multiplayer.cpp,
// modules/multiplayer/scene_rpc_interface.cpp,
// scene/main/multiplayer_api.cpp and core/io/marshalls.cpp of Godot 4.
package godot
