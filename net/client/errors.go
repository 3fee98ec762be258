package client

import (
	"errors"
	"fmt"

	"github.com/shardsim/shardsim/net/game"
)

// Errors returned by [Dial] and [Client.Err]. Match them with errors.Is.
var (
	// ErrKicked: the server kicked the client; the error is a [*KickError].
	ErrKicked = errors.New("client: kicked")
	// ErrTimeout: no Welcome (or no connection) before the deadline.
	ErrTimeout = errors.New("client: timed out")
	// ErrRefused: the server dropped the connection before welcoming the client,
	// without a Kick (e.g. an invalid Godot id, or the ENet connect went unanswered).
	ErrRefused = errors.New("client: connection refused")
	// ErrDisconnected: the server disconnected an established session without a Kick.
	ErrDisconnected = errors.New("client: disconnected")
	// ErrClosed: the client was closed by its owner.
	ErrClosed = errors.New("client: closed")
	// ErrFailover: the server was lost and no failover address welcomed the client in
	// time (Options.Failover).
	ErrFailover = errors.New("client: failover failed")
	// ErrBadOptions: the [Options] are invalid.
	ErrBadOptions = errors.New("client: bad options")
)

// KickError is the error of a session the server ended with a Kick message. It matches
// [ErrKicked] with errors.Is.
type KickError struct {
	Reason game.Reason
	Text   string
}

func (e *KickError) Error() string {
	return fmt.Sprintf("client: kicked: %s: %s", ReasonString(e.Reason), e.Text)
}

// Is reports whether target is [ErrKicked].
func (e *KickError) Is(target error) bool { return target == ErrKicked }

// ReasonString names a kick reason code (package game defines the codes but no names).
func ReasonString(r game.Reason) string {
	switch r {
	case game.ReasonUnspecified:
		return "unspecified"
	case game.ReasonBadToken:
		return "bad token"
	case game.ReasonTokenExpired:
		return "token expired"
	case game.ReasonVersion:
		return "protocol version"
	case game.ReasonServerFull:
		return "server full"
	case game.ReasonTimeout:
		return "timeout"
	case game.ReasonProtocol:
		return "protocol error"
	case game.ReasonShutdown:
		return "shutdown"
	case game.ReasonReplaced:
		return "replaced"
	case game.ReasonInternal:
		return "internal error"
	}
	return fmt.Sprintf("reason %d", uint16(r))
}
