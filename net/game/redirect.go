package game

import (
	"fmt"
	"unicode/utf8"
)

// TypeShadowList is the failover message: server → client, reliable.
const TypeShadowList MsgType = 0x1A // server → client: the failover addresses changed

// ShadowListMsg replaces the failover addresses a client got in its [WelcomeMsg]: the
// client-facing addresses of the shard's shadows, highest take-over rank first. A server
// sends it to every playing client whenever the set of shadows following it changes; a
// client that loses its server tries them in this order.
type ShadowListMsg struct {
	Shadows []string // "host:port", at most MaxShadows, each 1..MaxAddressLen bytes
}

// AppendShadowList appends the ShadowList message m to b. It panics if m holds more than
// [MaxShadows] addresses, an empty one or one longer than [MaxAddressLen] bytes.
func AppendShadowList(b []byte, m *ShadowListMsg) []byte {
	return appendAddrs(append(b, byte(TypeShadowList)), m.Shadows)
}

// ParseShadowList parses a ShadowList message.
func ParseShadowList(b []byte) (ShadowListMsg, error) {
	var m ShadowListMsg
	if len(b) == 0 {
		return m, ErrShort
	}
	if MsgType(b[0]) != TypeShadowList {
		return m, ErrType
	}
	var err error
	m.Shadows, err = parseAddrs(b[1:], "shadow list")
	return m, err
}

// TypeRedirect is the load-relief message: server → client, reliable.
const TypeRedirect MsgType = 0x1B // server → client: play through another address

// RedirectMsg sends an admitted client elsewhere: the shard serves enough clients itself
// and hands this one to a shadow shard that relays its snapshots (a fan-out relay). The
// client connects to Address with the same connect token; the server disconnects it
// after a short grace without joining it.
type RedirectMsg struct {
	Address string // "host:port", 1..MaxAddressLen bytes
}

// AppendRedirect appends the Redirect message m to b. It panics if the address is empty
// or longer than [MaxAddressLen] bytes.
func AppendRedirect(b []byte, m *RedirectMsg) []byte {
	if len(m.Address) == 0 || len(m.Address) > MaxAddressLen {
		panic("game: redirect address empty or longer than MaxAddressLen")
	}
	b = append(b, byte(TypeRedirect), byte(len(m.Address)))
	return append(b, m.Address...)
}

// ParseRedirect parses a Redirect message.
func ParseRedirect(b []byte) (RedirectMsg, error) {
	var m RedirectMsg
	if len(b) == 0 {
		return m, ErrShort
	}
	if MsgType(b[0]) != TypeRedirect {
		return m, ErrType
	}
	if len(b) < 2 {
		return m, fmt.Errorf("redirect: %w: %d bytes, header needs 2", ErrShort, len(b))
	}
	l := int(b[1])
	if l == 0 || l > MaxAddressLen {
		return m, fmt.Errorf("redirect: %w: address is %d bytes", ErrRange, l)
	}
	if len(b) < 2+l {
		return m, fmt.Errorf("redirect: %w: address", ErrShort)
	}
	if len(b) > 2+l {
		return m, fmt.Errorf("redirect: %w: %d bytes", ErrTrailing, len(b)-2-l)
	}
	if !utf8.Valid(b[2:]) {
		return m, fmt.Errorf("redirect: address: %w", ErrUTF8)
	}
	m.Address = string(b[2:])
	return m, nil
}
