// Package wire encodes and decodes the ENet 1.3 protocol header and commands.
//
// Every multi-byte field is big-endian, exactly as ENet puts it on the wire.
// Encoders append to a caller-supplied slice and never allocate when it has
// capacity; parsers check lengths before every read and return errors, never
// panic, whatever the input.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Protocol constants from ENet's protocol.h and enet.h.
const (
	MinimumMTU           = 576
	MaximumMTU           = 4096
	MaximumPacketCmds    = 32
	MinimumWindowSize    = 4096
	MaximumWindowSize    = 65536
	MinimumChannelCount  = 1
	MaximumChannelCount  = 255
	MaximumPeerID        = 0xFFF
	MaximumFragmentCount = 1024 * 1024
)

// Command numbers (the low four bits of the command byte).
const (
	CmdNone                   = 0
	CmdAcknowledge            = 1
	CmdConnect                = 2
	CmdVerifyConnect          = 3
	CmdDisconnect             = 4
	CmdPing                   = 5
	CmdSendReliable           = 6
	CmdSendUnreliable         = 7
	CmdSendFragment           = 8
	CmdSendUnsequenced        = 9
	CmdBandwidthLimit         = 10
	CmdThrottleConfigure      = 11
	CmdSendUnreliableFragment = 12
	CmdCount                  = 13
	CmdMask                   = 0x0F
)

// Command and header flags.
const (
	FlagAcknowledge = 1 << 7 // command byte: the command must be acknowledged
	FlagUnsequenced = 1 << 6 // command byte: the command is unsequenced

	HeaderFlagCompressed = 1 << 14
	HeaderFlagSentTime   = 1 << 15
	HeaderFlagMask       = HeaderFlagCompressed | HeaderFlagSentTime
	HeaderSessionMask    = 3 << 12
	HeaderSessionShift   = 12
)

// Fixed sizes of the command structures (without payload), indexed by
// command number; 0 marks an invalid command.
var commandSizes = [CmdCount]int{
	CmdNone:                   0,
	CmdAcknowledge:            8,
	CmdConnect:                48,
	CmdVerifyConnect:          44,
	CmdDisconnect:             8,
	CmdPing:                   4,
	CmdSendReliable:           6,
	CmdSendUnreliable:         8,
	CmdSendFragment:           24,
	CmdSendUnsequenced:        8,
	CmdBandwidthLimit:         12,
	CmdThrottleConfigure:      16,
	CmdSendUnreliableFragment: 24,
}

// CommandSize returns the fixed size of command number cmd (payload
// excluded), or 0 if cmd is not a valid command.
func CommandSize(cmd uint8) int {
	cmd &= CmdMask
	if cmd >= CmdCount {
		return 0
	}
	return commandSizes[cmd]
}

// Errors returned by the parsers.
var (
	ErrShort          = errors.New("enet/wire: truncated")
	ErrUnknownCommand = errors.New("enet/wire: unknown command")
	ErrTooLong        = errors.New("enet/wire: payload longer than 65535 bytes")
)

// Header is the ENet protocol header that starts every datagram.
type Header struct {
	PeerID      uint16 // 12 bits; MaximumPeerID when not yet assigned
	SessionID   uint8  // 2 bits
	Compressed  bool
	HasSentTime bool
	SentTime    uint16 // valid when HasSentTime
}

// HeaderSize returns the encoded size of h.
func (h *Header) HeaderSize() int {
	if h.HasSentTime {
		return 4
	}
	return 2
}

// AppendHeader appends the encoding of h to b.
func AppendHeader(b []byte, h *Header) []byte {
	v := h.PeerID&MaximumPeerID | uint16(h.SessionID&3)<<HeaderSessionShift
	if h.Compressed {
		v |= HeaderFlagCompressed
	}
	if h.HasSentTime {
		v |= HeaderFlagSentTime
		return binary.BigEndian.AppendUint32(b, uint32(v)<<16|uint32(h.SentTime))
	}
	return binary.BigEndian.AppendUint16(b, v)
}

// ParseHeader decodes a protocol header from the start of b and returns it
// with the number of bytes it used.
func ParseHeader(b []byte) (Header, int, error) {
	if len(b) < 2 {
		return Header{}, 0, ErrShort
	}
	v := binary.BigEndian.Uint16(b)
	h := Header{
		PeerID:      v &^ (HeaderFlagMask | HeaderSessionMask),
		SessionID:   uint8((v & HeaderSessionMask) >> HeaderSessionShift),
		Compressed:  v&HeaderFlagCompressed != 0,
		HasSentTime: v&HeaderFlagSentTime != 0,
	}
	if !h.HasSentTime {
		return h, 2, nil
	}
	if len(b) < 4 {
		return Header{}, 0, ErrShort
	}
	h.SentTime = binary.BigEndian.Uint16(b[2:])
	return h, 4, nil
}

// Command is any ENet command. Which fields are meaningful depends on
// Number; the others are zero after ParseCommand and ignored by
// AppendCommand.
type Command struct {
	Number      uint8 // CmdAcknowledge … CmdSendUnreliableFragment
	Flags       uint8 // FlagAcknowledge, FlagUnsequenced; the other high bits are kept but unused
	ChannelID   uint8
	ReliableSeq uint16

	// Acknowledge.
	ReceivedReliableSeq uint16
	ReceivedSentTime    uint16

	// Connect, VerifyConnect (Data: Connect only).
	OutgoingPeerID       uint16
	IncomingSessionID    uint8
	OutgoingSessionID    uint8
	MTU                  uint32
	WindowSize           uint32
	ChannelCount         uint32
	IncomingBandwidth    uint32 // also BandwidthLimit
	OutgoingBandwidth    uint32 // also BandwidthLimit
	ThrottleInterval     uint32 // also ThrottleConfigure
	ThrottleAcceleration uint32 // also ThrottleConfigure
	ThrottleDeceleration uint32 // also ThrottleConfigure
	ConnectID            uint32 // opaque; copied verbatim
	Data                 uint32 // Connect, Disconnect

	// SendUnreliable: unreliable sequence number; SendUnsequenced: group;
	// SendFragment and SendUnreliableFragment: start sequence number.
	Seq uint16

	// SendFragment, SendUnreliableFragment.
	FragmentCount  uint32
	FragmentNumber uint32
	TotalLength    uint32
	FragmentOffset uint32

	// Payload of the Send* commands. After ParseCommand it aliases the
	// parsed buffer.
	Payload []byte
}

// HasPayload reports whether command number n carries a payload.
func HasPayload(n uint8) bool {
	switch n & CmdMask {
	case CmdSendReliable, CmdSendUnreliable, CmdSendFragment, CmdSendUnsequenced, CmdSendUnreliableFragment:
		return true
	}
	return false
}

// EncodedSize returns the number of bytes AppendCommand writes for c.
func (c *Command) EncodedSize() int {
	n := CommandSize(c.Number)
	if HasPayload(c.Number) {
		n += len(c.Payload)
	}
	return n
}

// AppendCommand appends the encoding of c, including its payload, to b.
// It returns ErrUnknownCommand for an invalid Number and ErrTooLong for a
// payload that does not fit the 16-bit length field; b is then returned
// unchanged.
func AppendCommand(b []byte, c *Command) ([]byte, error) {
	b, err := AppendCommandHeader(b, c, len(c.Payload))
	if err != nil {
		return b, err
	}
	if HasPayload(c.Number) {
		b = append(b, c.Payload...)
	}
	return b, nil
}

// AppendCommandHeader appends the fixed part of c to b, with a data length
// of dataLen for the Send* commands; the caller appends the payload. This
// lets senders copy a fragment straight from its packet.
func AppendCommandHeader(b []byte, c *Command, dataLen int) ([]byte, error) {
	n := c.Number & CmdMask
	if n == CmdNone || n >= CmdCount {
		return b, ErrUnknownCommand
	}
	if HasPayload(n) && dataLen > 0xFFFF {
		return b, ErrTooLong
	}
	be := binary.BigEndian
	b = append(b, n|c.Flags&^CmdMask, c.ChannelID)
	b = be.AppendUint16(b, c.ReliableSeq)
	switch n {
	case CmdAcknowledge:
		b = be.AppendUint16(b, c.ReceivedReliableSeq)
		b = be.AppendUint16(b, c.ReceivedSentTime)
	case CmdConnect, CmdVerifyConnect:
		b = be.AppendUint16(b, c.OutgoingPeerID)
		b = append(b, c.IncomingSessionID, c.OutgoingSessionID)
		b = be.AppendUint32(b, c.MTU)
		b = be.AppendUint32(b, c.WindowSize)
		b = be.AppendUint32(b, c.ChannelCount)
		b = be.AppendUint32(b, c.IncomingBandwidth)
		b = be.AppendUint32(b, c.OutgoingBandwidth)
		b = be.AppendUint32(b, c.ThrottleInterval)
		b = be.AppendUint32(b, c.ThrottleAcceleration)
		b = be.AppendUint32(b, c.ThrottleDeceleration)
		b = be.AppendUint32(b, c.ConnectID)
		if n == CmdConnect {
			b = be.AppendUint32(b, c.Data)
		}
	case CmdDisconnect:
		b = be.AppendUint32(b, c.Data)
	case CmdPing:
	case CmdSendReliable:
		b = be.AppendUint16(b, uint16(dataLen))
	case CmdSendUnreliable, CmdSendUnsequenced:
		b = be.AppendUint16(b, c.Seq)
		b = be.AppendUint16(b, uint16(dataLen))
	case CmdSendFragment, CmdSendUnreliableFragment:
		b = be.AppendUint16(b, c.Seq)
		b = be.AppendUint16(b, uint16(dataLen))
		b = be.AppendUint32(b, c.FragmentCount)
		b = be.AppendUint32(b, c.FragmentNumber)
		b = be.AppendUint32(b, c.TotalLength)
		b = be.AppendUint32(b, c.FragmentOffset)
	case CmdBandwidthLimit:
		b = be.AppendUint32(b, c.IncomingBandwidth)
		b = be.AppendUint32(b, c.OutgoingBandwidth)
	case CmdThrottleConfigure:
		b = be.AppendUint32(b, c.ThrottleInterval)
		b = be.AppendUint32(b, c.ThrottleAcceleration)
		b = be.AppendUint32(b, c.ThrottleDeceleration)
	}
	return b, nil
}

// ParseCommand decodes one command, with its payload, from the start of b
// and returns it with the number of bytes it used. The returned Payload
// aliases b.
func ParseCommand(b []byte) (Command, int, error) {
	if len(b) < 4 {
		return Command{}, 0, ErrShort
	}
	n := b[0] & CmdMask
	if n == CmdNone || n >= CmdCount {
		return Command{}, 0, fmt.Errorf("%w %d", ErrUnknownCommand, n)
	}
	size := commandSizes[n]
	if len(b) < size {
		return Command{}, 0, ErrShort
	}
	be := binary.BigEndian
	c := Command{
		Number:      n,
		Flags:       b[0] &^ CmdMask,
		ChannelID:   b[1],
		ReliableSeq: be.Uint16(b[2:]),
	}
	dataLen := 0
	switch n {
	case CmdAcknowledge:
		c.ReceivedReliableSeq = be.Uint16(b[4:])
		c.ReceivedSentTime = be.Uint16(b[6:])
	case CmdConnect, CmdVerifyConnect:
		c.OutgoingPeerID = be.Uint16(b[4:])
		c.IncomingSessionID = b[6]
		c.OutgoingSessionID = b[7]
		c.MTU = be.Uint32(b[8:])
		c.WindowSize = be.Uint32(b[12:])
		c.ChannelCount = be.Uint32(b[16:])
		c.IncomingBandwidth = be.Uint32(b[20:])
		c.OutgoingBandwidth = be.Uint32(b[24:])
		c.ThrottleInterval = be.Uint32(b[28:])
		c.ThrottleAcceleration = be.Uint32(b[32:])
		c.ThrottleDeceleration = be.Uint32(b[36:])
		c.ConnectID = be.Uint32(b[40:])
		if n == CmdConnect {
			c.Data = be.Uint32(b[44:])
		}
	case CmdDisconnect:
		c.Data = be.Uint32(b[4:])
	case CmdPing:
	case CmdSendReliable:
		dataLen = int(be.Uint16(b[4:]))
	case CmdSendUnreliable, CmdSendUnsequenced:
		c.Seq = be.Uint16(b[4:])
		dataLen = int(be.Uint16(b[6:]))
	case CmdSendFragment, CmdSendUnreliableFragment:
		c.Seq = be.Uint16(b[4:])
		dataLen = int(be.Uint16(b[6:]))
		c.FragmentCount = be.Uint32(b[8:])
		c.FragmentNumber = be.Uint32(b[12:])
		c.TotalLength = be.Uint32(b[16:])
		c.FragmentOffset = be.Uint32(b[20:])
	case CmdBandwidthLimit:
		c.IncomingBandwidth = be.Uint32(b[4:])
		c.OutgoingBandwidth = be.Uint32(b[8:])
	case CmdThrottleConfigure:
		c.ThrottleInterval = be.Uint32(b[4:])
		c.ThrottleAcceleration = be.Uint32(b[8:])
		c.ThrottleDeceleration = be.Uint32(b[12:])
	}
	if HasPayload(n) {
		if len(b)-size < dataLen {
			return Command{}, 0, ErrShort
		}
		c.Payload = b[size : size+dataLen : size+dataLen]
		size += dataLen
	}
	return c, size, nil
}
