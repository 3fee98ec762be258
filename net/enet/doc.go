// Package enet implements the ENet 1.3 protocol in pure Go, both ends:
// what Godot's NetworkedMultiplayerENet (linked against libenet 1.3.x)
// speaks on the wire.
//
// A [Host] runs on a datagram [Transport] (a *net.UDPConn, or the in-memory
// network of package enettest). [Listen] makes a server that accepts up to
// Config.MaxPeers connections; [NewClient] makes a client that connects out
// with [Host.Connect]. Each connection is a [Peer] with up to 255 channels:
// a server grants the channel count the client asks for, capped by
// Config.MaxChannels.
//
// [Peer.Send] queues a packet with [PacketFlag]s:
//   - [Reliable]: acknowledged, retransmitted with ENet's RTT-based
//     timeouts and exponential backoff, delivered in order exactly once per
//     channel;
//   - no flag: unreliable sequenced, older packets dropped;
//   - [Unsequenced]: unreliable, at most once, any order.
//
// Packets larger than the MTU are fragmented and reassembled; reassembly
// and queued data are capped per peer (Config.MaxWaitingData). Peers are
// pinged, time out as in ENet, and disconnect gracefully ([Peer.Disconnect],
// [Peer.DisconnectLater]) or at once ([Peer.DisconnectNow]).
//
// A single goroutine per host owns all protocol state; the methods of Host
// and Peer are safe from any goroutine. [Host.Service] returns the next
// [Event] (connect, disconnect, receive). The received packet buffers are
// pooled: Event.Packet is valid until the next Service call.
//
// A datagram that does not parse, or is not valid for its peer, is dropped
// and counted in [Host.Stats]; before a connection's handshake completes the
// host never sends a peer more bytes than it received from it.
//
// Not supported: compression and checksums (Godot's defaults are neither),
// outgoing bandwidth limits (incoming BANDWIDTH_LIMIT is honoured), IPv6
// broadcast. The wire encoding lives in internal/wire.
package enet
