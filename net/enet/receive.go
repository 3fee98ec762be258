package enet

import (
	"net"
	"net/netip"

	"github.com/shardsim/shardsim/net/enet/internal/wire"
)

// handlerResult says how a command handler ended.
type handlerResult uint8

const (
	resultOK   handlerResult = iota
	resultStop               // stop processing the datagram (ENet's commandError)
)

// receive is enet_protocol_handle_incoming_commands.
func (h *Host) receive(b []byte, from netip.AddrPort, netAddr net.Addr) {
	h.st.packetsIn.Add(1)
	h.st.bytesIn.Add(uint64(len(b)))
	hdr, n, err := wire.ParseHeader(b)
	if err != nil {
		h.drop(DropShort)
		return
	}
	if hdr.Compressed {
		h.drop(DropCompressed)
		return
	}
	var p *Peer
	if hdr.PeerID != wire.MaximumPeerID {
		if int(hdr.PeerID) >= len(h.peers) || h.peers[hdr.PeerID] == nil {
			h.drop(DropUnknownPeer)
			return
		}
		p = h.peers[hdr.PeerID]
		if p.state == stateDisconnected || p.state == stateZombie ||
			from.Port() != p.port || from.Addr().Unmap() != p.key {
			h.drop(DropUnknownPeer)
			return
		}
		if p.outgoingPeerID < wire.MaximumPeerID && hdr.SessionID != p.incomingSessionID {
			h.drop(DropSession)
			return
		}
		p.lastAnyReceive = h.serviceTime
		p.markDirty() // an ack may open its window, a datagram may bring credit
		if p.state == stateAcknowledgingConnect {
			p.credit += len(b)
		}
	}
	rest := b[n:]
	for len(rest) > 0 {
		c, m, err := wire.ParseCommand(rest)
		if err != nil {
			h.drop(DropMalformed)
			return
		}
		rest = rest[m:]
		if p == nil && c.Number != wire.CmdConnect {
			h.drop(DropUnknownPeer)
			return
		}
		if p != nil && p.state == stateAcknowledgingConnect && connectedOnly(c.Number) {
			p.impliedConnect()
		}
		res, reason := resultOK, DropProtocol
		switch c.Number {
		case wire.CmdAcknowledge:
			res = p.handleAcknowledge(&c)
		case wire.CmdConnect:
			if p != nil {
				res = resultStop
				break
			}
			p, reason = h.handleConnect(&c, from, netAddr, len(b))
			if p == nil {
				res = resultStop
			}
		case wire.CmdVerifyConnect:
			res = p.handleVerifyConnect(&c)
		case wire.CmdDisconnect:
			p.handleDisconnect(&c)
		case wire.CmdPing:
			if p.state != stateConnected && p.state != stateDisconnectLater {
				res = resultStop
			}
		case wire.CmdSendReliable, wire.CmdSendUnreliable, wire.CmdSendUnsequenced:
			res, reason = p.handleSend(&c)
		case wire.CmdSendFragment:
			res, reason = p.handleSendFragment(&c)
		case wire.CmdSendUnreliableFragment:
			res, reason = p.handleSendUnreliableFragment(&c)
		case wire.CmdBandwidthLimit:
			res = p.handleBandwidthLimit(&c)
		case wire.CmdThrottleConfigure:
			if p.state != stateConnected && p.state != stateDisconnectLater {
				res = resultStop
				break
			}
			p.throttleInterval = c.ThrottleInterval
			p.throttleAccel = c.ThrottleAcceleration
			p.throttleDecel = c.ThrottleDeceleration
		}
		if res == resultStop {
			h.drop(reason)
			return
		}
		if p != nil && c.Flags&wire.FlagAcknowledge != 0 {
			if !hdr.HasSentTime {
				h.drop(DropMalformed)
				return
			}
			switch p.state {
			case stateDisconnecting, stateAcknowledgingConnect, stateDisconnected, stateZombie:
			case stateAcknowledgingDisconnect:
				if c.Number == wire.CmdDisconnect {
					p.queueAck(&c, hdr.SentTime)
				}
			default:
				p.queueAck(&c, hdr.SentTime)
			}
		}
	}
}

// connectedOnly reports whether a peer sends command n only once it is
// connected: its handler refuses n in every other state.
func connectedOnly(n uint8) bool {
	switch n {
	case wire.CmdPing, wire.CmdSendReliable, wire.CmdSendUnreliable, wire.CmdSendUnsequenced,
		wire.CmdSendFragment, wire.CmdSendUnreliableFragment, wire.CmdBandwidthLimit, wire.CmdThrottleConfigure:
		return true
	}
	return false
}

// impliedConnect completes a server peer's handshake on a connected-only
// command from the client. Deviation from ENet: a client sends such commands
// only once our VERIFY_CONNECT connected it (the datagram carries the peer
// ID and session it learned from it), so the handshake completed and only
// its acknowledgement is missing: lost, or behind this datagram. ENet 1.3
// refuses the commands and recovers only when a retransmitted VERIFY_CONNECT
// is acknowledged; meanwhile the client's own retransmissions back off and
// may time out (the half-open connection of the handshake regression test).
// Here the command stands for the acknowledgement, as on the client the
// VERIFY_CONNECT stands for the CONNECT's. Nothing changes on the wire: a
// peer sees its packets accepted sooner. Forging this needs what forging
// the acknowledgement needs (the address, the peer ID and the session).
// A DISCONNECT implies nothing: it resets the peer silently, as in ENet.
func (p *Peer) impliedConnect() {
	if p.removeSentReliable(1, 0xFF) == wire.CmdVerifyConnect {
		p.notifyConnect()
	}
}

// queueAck is enet_peer_queue_acknowledgement.
func (p *Peer) queueAck(c *wire.Command, sentTime uint16) {
	if int(c.ChannelID) < len(p.channels) {
		ch := &p.channels[c.ChannelID]
		rw := c.ReliableSeq / reliableWindowSize
		cw := ch.incomingReliableSeq / reliableWindowSize
		if c.ReliableSeq < ch.incomingReliableSeq {
			rw += reliableWindows
		}
		if rw >= cw+freeReliableWindows-1 && rw <= cw+freeReliableWindows {
			return
		}
	}
	p.acks = append(p.acks, ack{channel: c.ChannelID, number: c.Number, seq: c.ReliableSeq, sentTime: sentTime})
	p.markDirty()
}

// handleConnect is enet_protocol_handle_connect.
func (h *Host) handleConnect(c *wire.Command, from netip.AddrPort, netAddr net.Addr, size int) (*Peer, DropReason) {
	if !h.server {
		return nil, DropRefused
	}
	channels := int(c.ChannelCount)
	if channels < wire.MinimumChannelCount || channels > wire.MaximumChannelCount {
		return nil, DropRefused
	}
	key := netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	if old := h.byAddr[key]; old != nil && old.state != stateConnecting && old.connectID == c.ConnectID {
		// A retransmitted connect: it earns the pending handshake credit.
		if old.state == stateAcknowledgingConnect {
			old.credit += size
		}
		return nil, DropRefused
	}
	slot := h.allocSlot()
	if slot < 0 {
		return nil, DropRefused
	}
	channels = min(channels, h.cfg.MaxChannels)
	p := h.newPeer(slot, from, netAddr)
	p.channels = make([]channel, channels)
	p.aChannels.Store(uint32(channels))
	p.setState(stateAcknowledgingConnect)
	p.credit = size
	p.connectID = c.ConnectID
	p.outgoingPeerID = c.OutgoingPeerID
	p.incomingBandwidth = c.IncomingBandwidth
	p.outgoingBandwidth = c.OutgoingBandwidth
	p.throttleInterval = c.ThrottleInterval
	p.throttleAccel = c.ThrottleAcceleration
	p.throttleDecel = c.ThrottleDeceleration
	p.eventData = c.Data
	p.connectData = c.Data

	const sessionMask = wire.HeaderSessionMask >> wire.HeaderSessionShift
	in := c.IncomingSessionID
	if in == 0xFF {
		in = p.outgoingSessionID
	}
	in = (in + 1) & sessionMask
	if in == p.outgoingSessionID {
		in = (in + 1) & sessionMask
	}
	p.outgoingSessionID = in
	out := c.OutgoingSessionID
	if out == 0xFF {
		out = p.incomingSessionID
	}
	out = (out + 1) & sessionMask
	if out == p.incomingSessionID {
		out = (out + 1) & sessionMask
	}
	p.incomingSessionID = out

	mtu := min(max(c.MTU, wire.MinimumMTU), wire.MaximumMTU)
	if mtu < p.mtu {
		p.mtu = mtu
	}
	// Neither side limits bandwidth (this host has no bandwidth limits).
	p.windowSize = windowFor(0, p.incomingBandwidth)
	windowSize := uint32(wire.MaximumWindowSize)
	windowSize = min(windowSize, c.WindowSize)
	windowSize = min(max(windowSize, wire.MinimumWindowSize), wire.MaximumWindowSize)

	p.queueCommand(wire.Command{
		Number:               wire.CmdVerifyConnect,
		Flags:                wire.FlagAcknowledge,
		ChannelID:            0xFF,
		OutgoingPeerID:       p.id,
		IncomingSessionID:    in,
		OutgoingSessionID:    out,
		MTU:                  p.mtu,
		WindowSize:           windowSize,
		ChannelCount:         uint32(channels),
		ThrottleInterval:     p.throttleInterval,
		ThrottleAcceleration: p.throttleAccel,
		ThrottleDeceleration: p.throttleDecel,
		ConnectID:            p.connectID,
	})
	return p, DropProtocol
}

// windowFor computes a peer's window size from the host's outgoing and the
// peer's incoming bandwidth, as ENet does.
func windowFor(hostOut, peerIn uint32) uint32 {
	var w uint32
	switch {
	case hostOut == 0 && peerIn == 0:
		w = wire.MaximumWindowSize
	case hostOut == 0 || peerIn == 0:
		w = max(hostOut, peerIn) / windowSizeScale * wire.MinimumWindowSize
	default:
		w = min(hostOut, peerIn) / windowSizeScale * wire.MinimumWindowSize
	}
	return min(max(w, wire.MinimumWindowSize), wire.MaximumWindowSize)
}

// handleVerifyConnect is enet_protocol_handle_verify_connect.
func (p *Peer) handleVerifyConnect(c *wire.Command) handlerResult {
	if p.state != stateConnecting {
		return resultOK
	}
	if c.ChannelCount < wire.MinimumChannelCount || c.ChannelCount > wire.MaximumChannelCount ||
		c.ThrottleInterval != p.throttleInterval || c.ThrottleAcceleration != p.throttleAccel ||
		c.ThrottleDeceleration != p.throttleDecel || c.ConnectID != p.connectID {
		p.eventData = 0
		p.setState(stateZombie)
		return resultStop
	}
	// Deviation from ENet: take a first round-trip sample from the
	// handshake (Karn's rule: only if the connect was sent once), so that a
	// client does not start with ENet's 500 ms default retransmission timeout.
	for _, oc := range p.sentReliable {
		if oc.cmd.Number == wire.CmdConnect && oc.sendAttempts == 1 && !p.rttSampled {
			p.updateRTT(max(timeDiff(p.h.serviceTime, oc.sentTime), 1))
			break
		}
	}
	p.removeSentReliable(1, 0xFF)
	if int(c.ChannelCount) < len(p.channels) {
		p.channels = p.channels[:c.ChannelCount]
		p.aChannels.Store(c.ChannelCount)
	}
	p.outgoingPeerID = c.OutgoingPeerID
	p.incomingSessionID = c.IncomingSessionID
	p.outgoingSessionID = c.OutgoingSessionID
	mtu := min(max(c.MTU, wire.MinimumMTU), wire.MaximumMTU)
	if mtu < p.mtu {
		p.mtu = mtu
	}
	ws := min(max(c.WindowSize, wire.MinimumWindowSize), wire.MaximumWindowSize)
	if ws < p.windowSize {
		p.windowSize = ws
	}
	p.incomingBandwidth = c.IncomingBandwidth
	p.outgoingBandwidth = c.OutgoingBandwidth
	p.notifyConnect()
	return resultOK
}

func (p *Peer) notifyConnect() {
	p.setState(stateConnected)
	p.h.pushEvent(Event{Type: EventConnect, Peer: p, Data: p.eventData})
}

// handleDisconnect is enet_protocol_handle_disconnect.
func (p *Peer) handleDisconnect(c *wire.Command) {
	switch p.state {
	case stateDisconnected, stateZombie, stateAcknowledgingDisconnect:
		return
	}
	p.resetQueues()
	switch {
	case p.state == stateConnectionSucceeded || p.state == stateDisconnecting || p.state == stateConnecting:
		p.setState(stateZombie)
	case p.state != stateConnected && p.state != stateDisconnectLater:
		p.reset()
	case c.Flags&wire.FlagAcknowledge != 0:
		p.setState(stateAcknowledgingDisconnect)
	default:
		p.setState(stateZombie)
	}
	if p.state != stateDisconnected {
		p.eventData = c.Data
	}
}

// handleBandwidthLimit is enet_protocol_handle_bandwidth_limit.
func (p *Peer) handleBandwidthLimit(c *wire.Command) handlerResult {
	if p.state != stateConnected && p.state != stateDisconnectLater {
		return resultStop
	}
	p.incomingBandwidth = c.IncomingBandwidth
	p.outgoingBandwidth = c.OutgoingBandwidth
	p.windowSize = windowFor(0, p.incomingBandwidth)
	return resultOK
}

// handleAcknowledge is enet_protocol_handle_acknowledge.
func (p *Peer) handleAcknowledge(c *wire.Command) handlerResult {
	h := p.h
	if p.state == stateDisconnected || p.state == stateZombie {
		return resultOK
	}
	now := h.serviceTime
	sent := uint32(c.ReceivedSentTime) | now&0xFFFF0000
	if sent&0x8000 > now&0x8000 {
		sent -= 0x10000
	}
	if timeLess(now, sent) {
		return resultOK
	}
	p.updateRTT(max(timeDiff(now, sent), 1))
	p.lastReceiveTime = max(now, 1)
	p.earliestTimeout = 0

	number := p.removeSentReliable(c.ReceivedReliableSeq, c.ChannelID)
	switch p.state {
	case stateAcknowledgingConnect:
		if number != wire.CmdVerifyConnect {
			return resultStop
		}
		p.notifyConnect()
	case stateDisconnecting:
		if number != wire.CmdDisconnect {
			return resultStop
		}
		p.h.pushEvent(Event{Type: EventDisconnect, Peer: p, Data: p.eventData})
		p.reset()
	case stateDisconnectLater:
		if len(p.outgoing) == 0 && len(p.sentReliable) == 0 {
			p.disconnect(p.eventData)
		}
	}
	return resultOK
}

// updateRTT folds a round-trip sample into the peer's estimates and packet
// throttle, as enet_protocol_handle_acknowledge does.
func (p *Peer) updateRTT(rtt uint32) {
	now := p.h.serviceTime
	if p.rttSampled {
		p.throttle(rtt)
		p.rttVar -= p.rttVar / 4
		if rtt >= p.rtt {
			d := rtt - p.rtt
			p.rttVar += d / 4
			p.rtt += d / 8
		} else {
			d := p.rtt - rtt
			p.rttVar += d / 4
			p.rtt -= d / 8
		}
	} else {
		p.rtt = rtt
		p.rttVar = (rtt + 1) / 2
		p.rttSampled = true
		// Deviation from ENet: commands sent before the first sample used
		// the 500 ms default; rearm those not yet retransmitted from the
		// first real estimate.
		for _, oc := range p.sentReliable {
			if oc.sendAttempts == 1 {
				oc.rtTimeout = p.rtt + 4*p.rttVar
				oc.rtTimeoutLimit = p.timeoutLimit * oc.rtTimeout
			}
		}
		if len(p.sentReliable) > 0 {
			f := p.sentReliable[0]
			p.nextTimeout = f.sentTime + f.rtTimeout
		}
	}
	p.aRTT.Store(p.rtt)
	if p.rtt < p.lowestRTT {
		p.lowestRTT = p.rtt
	}
	if p.rttVar > p.highestRTTVar {
		p.highestRTTVar = p.rttVar
	}
	if p.packetThrottleEpoch == 0 || timeDiff(now, p.packetThrottleEpoch) >= p.throttleInterval {
		p.lastRTT = p.lowestRTT
		p.lastRTTVar = max(p.highestRTTVar, 1)
		p.lowestRTT = p.rtt
		p.highestRTTVar = p.rttVar
		p.packetThrottleEpoch = now
	}
}

// throttle is enet_peer_throttle.
func (p *Peer) throttle(rtt uint32) {
	switch {
	case p.lastRTT <= p.lastRTTVar:
		p.packetThrottle = p.packetThrottleLim
	case rtt <= p.lastRTT:
		p.packetThrottle = min(p.packetThrottle+p.throttleAccel, p.packetThrottleLim)
	case rtt > p.lastRTT+2*p.lastRTTVar:
		if p.packetThrottle > p.throttleDecel {
			p.packetThrottle -= p.throttleDecel
		} else {
			p.packetThrottle = 0
		}
	}
}

// removeSentReliable is enet_protocol_remove_sent_reliable_command. It
// returns the acknowledged command's number, or CmdNone.
func (p *Peer) removeSentReliable(seq uint16, chID uint8) uint8 {
	idx, list := -1, &p.sentReliable
	for i, oc := range p.sentReliable {
		if oc.reliableSeq == seq && oc.cmd.ChannelID == chID {
			idx = i
			break
		}
	}
	if idx < 0 {
		for i, oc := range p.outgoing {
			if oc.cmd.Flags&wire.FlagAcknowledge == 0 {
				continue
			}
			if oc.sendAttempts < 1 {
				break
			}
			if oc.reliableSeq == seq && oc.cmd.ChannelID == chID {
				idx, list = i, &p.outgoing
				break
			}
		}
	}
	if idx < 0 {
		return wire.CmdNone
	}
	oc := (*list)[idx]
	if int(chID) < len(p.channels) {
		ch := &p.channels[chID]
		rw := seq / reliableWindowSize
		if ch.reliableWindows[rw] > 0 {
			ch.reliableWindows[rw]--
			if ch.reliableWindows[rw] == 0 {
				ch.usedReliableWindows &^= 1 << rw
			}
		}
	}
	number := oc.cmd.Number
	wasSent := list == &p.sentReliable
	if oc.pkt != nil && wasSent {
		p.reliableDataInTransit -= oc.fragLen
	}
	copy((*list)[idx:], (*list)[idx+1:])
	(*list)[len(*list)-1] = nil
	*list = (*list)[:len(*list)-1]
	p.h.putOut(oc)
	if len(p.sentReliable) > 0 {
		f := p.sentReliable[0]
		p.nextTimeout = f.sentTime + f.rtTimeout
	}
	return number
}

// ---- incoming data ----

func (p *Peer) canReceive() bool {
	return p.state == stateConnected || p.state == stateDisconnectLater
}

// inWindow reports whether reliable sequence number seq is within the
// receive window of ch, as enet_peer_queue_incoming_command checks.
func inWindow(ch *channel, seq uint16) bool {
	rw := seq / reliableWindowSize
	cw := ch.incomingReliableSeq / reliableWindowSize
	if seq < ch.incomingReliableSeq {
		rw += reliableWindows
	}
	return rw >= cw && rw < cw+freeReliableWindows-1
}

func (p *Peer) handleSend(c *wire.Command) (handlerResult, DropReason) {
	if int(c.ChannelID) >= len(p.channels) || !p.canReceive() {
		return resultStop, DropProtocol
	}
	if len(c.Payload) > p.h.cfg.MaxPacketSize {
		return resultStop, DropProtocol
	}
	ch := &p.channels[c.ChannelID]
	if c.Number == wire.CmdSendUnsequenced {
		group := uint32(c.Seq)
		index := group % unsequencedWindowSize
		if group < uint32(p.incomingUnsequencedGroup) {
			group += 0x10000
		}
		if group >= uint32(p.incomingUnsequencedGroup)+freeUnsequencedWindows*unsequencedWindowSize {
			return resultOK, 0
		}
		group &= 0xFFFF
		if uint16(group-index) != p.incomingUnsequencedGroup {
			p.incomingUnsequencedGroup = uint16(group - index)
			clear(p.unsequencedWindow[:])
		} else if p.unsequencedWindow[index/32]&(1<<(index%32)) != 0 {
			return resultOK, 0
		}
		if p.totalWaitingData >= p.h.cfg.MaxWaitingData {
			return resultStop, DropWaitingData
		}
		p.unsequencedWindow[index/32] |= 1 << (index % 32)
		pkt := getPacket(len(c.Payload))
		copy(pkt.data, c.Payload)
		p.totalWaitingData += len(pkt.data)
		p.deliver(c.ChannelID, pkt)
		return resultOK, 0
	}
	if p.state == stateDisconnectLater || !inWindow(ch, c.ReliableSeq) {
		return resultOK, 0
	}
	if p.totalWaitingData >= p.h.cfg.MaxWaitingData {
		return resultStop, DropWaitingData
	}
	if c.Number == wire.CmdSendReliable {
		pos, ok := ch.findReliable(c.ReliableSeq)
		if !ok {
			return resultOK, 0
		}
		ic := p.newIncoming(c.Number, c.ReliableSeq, 0, c.Payload, 0, 0)
		ch.inReliable = insertAt(ch.inReliable, pos, ic)
		p.dispatchReliable(c.ChannelID)
		return resultOK, 0
	}
	// Unreliable, sequenced.
	if c.ReliableSeq == ch.incomingReliableSeq && c.Seq <= ch.incomingUnreliableSeq {
		return resultOK, 0
	}
	pos, ok := ch.findUnreliable(c.ReliableSeq, c.Seq)
	if !ok {
		return resultOK, 0
	}
	ic := p.newIncoming(c.Number, c.ReliableSeq, c.Seq, c.Payload, 0, 0)
	ch.inUnreliable = insertAt(ch.inUnreliable, pos, ic)
	p.dispatchUnreliable(c.ChannelID)
	return resultOK, 0
}

// findReliable returns where a reliable command with seq goes in
// ch.inReliable, or false if it is a duplicate.
func (ch *channel) findReliable(seq uint16) (int, bool) {
	if seq == ch.incomingReliableSeq {
		return 0, false
	}
	d := seq - ch.incomingReliableSeq
	i := len(ch.inReliable)
	for i > 0 {
		od := ch.inReliable[i-1].reliableSeq - ch.incomingReliableSeq
		if od == d {
			return 0, false
		}
		if od < d {
			break
		}
		i--
	}
	return i, true
}

// findUnreliable returns where an unreliable command goes in
// ch.inUnreliable, or false if it is a duplicate.
func (ch *channel) findUnreliable(rel, unrel uint16) (int, bool) {
	d := rel - ch.incomingReliableSeq
	i := len(ch.inUnreliable)
	for i > 0 {
		o := ch.inUnreliable[i-1]
		od := o.reliableSeq - ch.incomingReliableSeq
		if od < d || (od == d && o.unreliableSeq < unrel) {
			break
		}
		if od == d && o.unreliableSeq == unrel {
			return 0, false
		}
		i--
	}
	return i, true
}

func insertAt(s []*inCmd, i int, ic *inCmd) []*inCmd {
	s = append(s, nil)
	copy(s[i+1:], s[i:])
	s[i] = ic
	return s
}

func (p *Peer) newIncoming(number uint8, rel, unrel uint16, payload []byte, total, fragCount uint32) *inCmd {
	ic := p.h.getIn()
	ic.number, ic.reliableSeq, ic.unreliableSeq = number, rel, unrel
	n := len(payload)
	if fragCount > 0 {
		n = int(total)
	}
	ic.pkt = getPacket(n)
	if fragCount > 0 {
		ic.fragCount, ic.fragRemaining = fragCount, fragCount
		words := int((fragCount + 31) / 32)
		if cap(ic.fragments) < words {
			ic.fragments = make([]uint32, words)
		}
		ic.fragments = ic.fragments[:words]
		clear(ic.fragments)
	} else {
		copy(ic.pkt.data, payload)
	}
	p.totalWaitingData += n
	return ic
}

// deliver queues a receive event; pkt's reference passes to the event.
func (p *Peer) deliver(chID uint8, pkt *packet) {
	p.h.pushEvent(Event{Type: EventReceive, Peer: p, Channel: chID, Packet: pkt.data, pkt: pkt})
}

// dispatchReliable is enet_peer_dispatch_incoming_reliable_commands.
func (p *Peer) dispatchReliable(chID uint8) {
	ch := &p.channels[chID]
	n := 0
	for _, ic := range ch.inReliable {
		if ic.fragRemaining > 0 || ic.reliableSeq != ch.incomingReliableSeq+1 {
			break
		}
		ch.incomingReliableSeq = ic.reliableSeq
		if ic.fragCount > 0 {
			ch.incomingReliableSeq += uint16(ic.fragCount - 1)
		}
		p.deliver(chID, ic.pkt)
		ic.pkt = nil
		p.h.putIn(ic)
		n++
	}
	if n == 0 {
		return
	}
	m := copy(ch.inReliable, ch.inReliable[n:])
	clear(ch.inReliable[m:])
	ch.inReliable = ch.inReliable[:m]
	ch.incomingUnreliableSeq = 0
	if len(ch.inUnreliable) > 0 {
		p.dispatchUnreliable(chID)
	}
}

// dispatchUnreliable delivers the unreliable commands of the current
// reliable sequence in order, drops stale ones and keeps future ones.
func (p *Peer) dispatchUnreliable(chID uint8) {
	ch := &p.channels[chID]
	keep := ch.inUnreliable[:0]
	for _, ic := range ch.inUnreliable {
		d := int16(ic.reliableSeq - ch.incomingReliableSeq)
		switch {
		case d > 0, d == 0 && ic.fragRemaining > 0 && ic.unreliableSeq > ch.incomingUnreliableSeq:
			keep = append(keep, ic)
		case d < 0 || ic.fragRemaining > 0 || ic.unreliableSeq <= ch.incomingUnreliableSeq:
			p.freeIncoming(ic)
		default:
			ch.incomingUnreliableSeq = ic.unreliableSeq
			p.deliver(chID, ic.pkt)
			ic.pkt = nil
			p.h.putIn(ic)
		}
	}
	clear(ch.inUnreliable[len(keep):])
	ch.inUnreliable = keep
}

func validFragment(c *wire.Command, maxPacket int) bool {
	n := uint32(len(c.Payload))
	return n > 0 && c.FragmentCount <= wire.MaximumFragmentCount && c.FragmentNumber < c.FragmentCount &&
		c.TotalLength <= uint32(maxPacket) && c.TotalLength >= c.FragmentCount &&
		c.FragmentOffset < c.TotalLength && n <= c.TotalLength-c.FragmentOffset
}

func (p *Peer) addFragment(ic *inCmd, c *wire.Command) bool {
	bit := uint32(1) << (c.FragmentNumber % 32)
	w := c.FragmentNumber / 32
	if ic.fragments[w]&bit != 0 {
		return false
	}
	ic.fragments[w] |= bit
	ic.fragRemaining--
	copy(ic.pkt.data[c.FragmentOffset:], c.Payload)
	return ic.fragRemaining == 0
}

// handleSendFragment is enet_protocol_handle_send_fragment.
func (p *Peer) handleSendFragment(c *wire.Command) (handlerResult, DropReason) {
	if int(c.ChannelID) >= len(p.channels) || !p.canReceive() || len(c.Payload) == 0 {
		return resultStop, DropProtocol
	}
	ch := &p.channels[c.ChannelID]
	start := c.Seq
	if !inWindow(ch, start) {
		return resultOK, 0
	}
	if !validFragment(c, p.h.cfg.MaxPacketSize) {
		return resultStop, DropProtocol
	}
	var ic *inCmd
	for i := len(ch.inReliable) - 1; i >= 0; i-- {
		if o := ch.inReliable[i]; o.reliableSeq == start {
			if o.number != wire.CmdSendFragment || uint32(len(o.pkt.data)) != c.TotalLength || o.fragCount != c.FragmentCount {
				return resultStop, DropProtocol
			}
			ic = o
			break
		}
	}
	if ic == nil {
		if p.state == stateDisconnectLater {
			return resultOK, 0
		}
		pos, ok := ch.findReliable(start)
		if !ok {
			return resultOK, 0
		}
		if p.totalWaitingData+int(c.TotalLength) > p.h.cfg.MaxWaitingData {
			return resultStop, DropWaitingData
		}
		ic = p.newIncoming(wire.CmdSendFragment, start, 0, nil, c.TotalLength, c.FragmentCount)
		ch.inReliable = insertAt(ch.inReliable, pos, ic)
	}
	if p.addFragment(ic, c) {
		p.dispatchReliable(c.ChannelID)
	}
	return resultOK, 0
}

// handleSendUnreliableFragment is enet_protocol_handle_send_unreliable_fragment.
func (p *Peer) handleSendUnreliableFragment(c *wire.Command) (handlerResult, DropReason) {
	if int(c.ChannelID) >= len(p.channels) || !p.canReceive() || len(c.Payload) == 0 {
		return resultStop, DropProtocol
	}
	ch := &p.channels[c.ChannelID]
	if !inWindow(ch, c.ReliableSeq) {
		return resultOK, 0
	}
	start := c.Seq
	if c.ReliableSeq == ch.incomingReliableSeq && start <= ch.incomingUnreliableSeq {
		return resultOK, 0
	}
	if !validFragment(c, p.h.cfg.MaxPacketSize) {
		return resultStop, DropProtocol
	}
	var ic *inCmd
	for _, o := range ch.inUnreliable {
		if o.reliableSeq == c.ReliableSeq && o.unreliableSeq == start {
			if o.number != wire.CmdSendUnreliableFragment || uint32(len(o.pkt.data)) != c.TotalLength || o.fragCount != c.FragmentCount {
				return resultStop, DropProtocol
			}
			ic = o
			break
		}
	}
	if ic == nil {
		if p.state == stateDisconnectLater {
			return resultOK, 0
		}
		pos, ok := ch.findUnreliable(c.ReliableSeq, start)
		if !ok {
			return resultOK, 0
		}
		if p.totalWaitingData+int(c.TotalLength) > p.h.cfg.MaxWaitingData {
			return resultStop, DropWaitingData
		}
		ic = p.newIncoming(wire.CmdSendUnreliableFragment, c.ReliableSeq, start, nil, c.TotalLength, c.FragmentCount)
		ch.inUnreliable = insertAt(ch.inUnreliable, pos, ic)
	}
	if p.addFragment(ic, c) {
		p.dispatchUnreliable(c.ChannelID)
	}
	return resultOK, 0
}
