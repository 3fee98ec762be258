package enet

import "errors"

// Errors returned by the package. Match them with [errors.Is].
var (
	// ErrClosed is returned by operations on a closed [Host].
	ErrClosed = errors.New("enet: host closed")
	// ErrNotConnected is returned by [Peer.Send] when the peer is not connected.
	ErrNotConnected = errors.New("enet: peer not connected")
	// ErrBadChannel is returned by [Peer.Send] for a channel the peer does not have.
	ErrBadChannel = errors.New("enet: channel out of range")
	// ErrTooLarge is returned by [Peer.Send] for a payload over Config.MaxPacketSize.
	ErrTooLarge = errors.New("enet: packet too large")
	// ErrNoFreePeer is returned by [Host.Connect] when every peer slot is in use.
	ErrNoFreePeer = errors.New("enet: no free peer slot")
	// ErrBadAddress is returned for an address that is not an IP:port.
	ErrBadAddress = errors.New("enet: address is not IP:port")
	// ErrBadConfig is returned by [Listen] and [NewClient] for an invalid [Config].
	ErrBadConfig = errors.New("enet: invalid config")
)
