package enet

import (
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/shardsim/shardsim/net/enet/internal/wire"
)

// Peer is a remote ENet host connected (or connecting) to a [Host]. A Peer
// value stands for one connection: after it disconnects, a new connection
// gets a new Peer. Its methods are safe to call from any goroutine.
type Peer struct {
	h           *Host
	id          uint16 // incoming peer ID: our slot index
	addr        netip.AddrPort
	key         netip.Addr // addr.Addr().Unmap()
	port        uint16
	netAddr     net.Addr // generic transports only
	connectData uint32

	aState    atomic.Int32
	aRTT      atomic.Uint32
	aChannels atomic.Uint32

	// Loop-owned.
	state                        peerState
	outgoingPeerID               uint16
	connectID                    uint32
	incomingSessionID            uint8
	outgoingSessionID            uint8
	channels                     []channel
	mtu, windowSize              uint32
	incomingBandwidth            uint32
	outgoingBandwidth            uint32
	lastReceiveTime              uint32
	lastAnyReceive               uint32
	nextTimeout, earliestTimeout uint32
	packetLossEpoch              uint32
	packetsSent, packetsLost     uint32
	packetLoss, packetLossVar    uint32
	packetThrottle               uint32
	packetThrottleLim            uint32
	packetThrottleCounter        uint32
	packetThrottleEpoch          uint32
	throttleAccel, throttleDecel uint32
	throttleInterval             uint32
	pingInterval                 uint32
	timeoutLimit                 uint32
	timeoutMinimum               uint32
	timeoutMaximum               uint32
	lastRTT, lowestRTT           uint32
	lastRTTVar, highestRTTVar    uint32
	rtt, rttVar                  uint32
	rttSampled                   bool
	reliableDataInTransit        uint32
	outgoingReliableSeq          uint16
	incomingUnsequencedGroup     uint16
	outgoingUnsequencedGroup     uint16
	unsequencedWindow            [unsequencedWindowSize / 32]uint32
	acks                         []ack
	sentReliable                 []*outCmd
	outgoing                     []*outCmd
	eventData                    uint32
	totalWaitingData             int
	credit                       int  // anti-amplification budget before the handshake completes
	dirty                        bool // in the host's dirty list: flushed by the next partial flush
}

type channel struct {
	outgoingReliableSeq   uint16
	outgoingUnreliableSeq uint16
	usedReliableWindows   uint16
	reliableWindows       [reliableWindows]uint16
	incomingReliableSeq   uint16
	incomingUnreliableSeq uint16
	inReliable            []*inCmd // sorted by distance from incomingReliableSeq
	inUnreliable          []*inCmd // sorted by (reliable distance, unreliable seq)
}

type ack struct {
	channel  uint8
	number   uint8
	seq      uint16
	sentTime uint16
}

type outCmd struct {
	cmd            wire.Command
	reliableSeq    uint16
	unreliableSeq  uint16
	sentTime       uint32
	rtTimeout      uint32
	rtTimeoutLimit uint32
	fragOffset     uint32
	fragLen        uint32
	sendAttempts   uint16
	pkt            *packet
}

type inCmd struct {
	number        uint8
	reliableSeq   uint16
	unreliableSeq uint16
	pkt           *packet
	fragCount     uint32
	fragRemaining uint32
	fragments     []uint32
}

// ID returns the peer's slot in its host (ENet's incomingPeerID).
func (p *Peer) ID() uint16 { return p.id }

// Addr returns the peer's address.
func (p *Peer) Addr() net.Addr {
	if p.netAddr != nil {
		return p.netAddr
	}
	return net.UDPAddrFromAddrPort(p.addr)
}

// ConnectData returns the data of the connection: on a server, what the
// client sent in its connect command (Godot's peer id); on a client, what
// was passed to [Host.Connect].
func (p *Peer) ConnectData() uint32 { return p.connectData }

// RTT returns the smoothed round-trip time (ENet's roundTripTime).
func (p *Peer) RTT() time.Duration { return time.Duration(p.aRTT.Load()) * time.Millisecond }

// Connected reports whether the peer is connected.
func (p *Peer) Connected() bool { return peerState(p.aState.Load()) == stateConnected }

// Channels returns the number of channels of the connection.
func (p *Peer) Channels() int { return int(p.aChannels.Load()) }

// Send queues payload for delivery on channel with flags (0 means
// unreliable sequenced). The payload is copied; the caller may reuse it.
func (p *Peer) Send(channel uint8, payload []byte, flags PacketFlag) error {
	if peerState(p.aState.Load()) != stateConnected {
		return ErrNotConnected
	}
	if uint32(channel) >= p.aChannels.Load() {
		return ErrBadChannel
	}
	if len(payload) > p.h.cfg.MaxPacketSize {
		return ErrTooLarge
	}
	pkt := getPacket(len(payload))
	copy(pkt.data, payload)
	if err := p.h.post(hostCmd{kind: cmdSend, peer: p, channel: channel, pkt: pkt, flags: flags}); err != nil {
		pkt.release()
		return err
	}
	return nil
}

// Disconnect asks the peer to disconnect, with data for its disconnect
// event; queued packets are dropped. An EventDisconnect follows when the
// peer acknowledges, or times out.
func (p *Peer) Disconnect(data uint32) error {
	return p.h.post(hostCmd{kind: cmdDisconnect, peer: p, data: data})
}

// DisconnectLater disconnects once every queued packet has been sent and
// acknowledged.
func (p *Peer) DisconnectLater(data uint32) error {
	return p.h.post(hostCmd{kind: cmdDisconnectLater, peer: p, data: data})
}

// DisconnectNow sends a disconnect without waiting for an acknowledgement
// and forgets the peer at once; no EventDisconnect is generated.
func (p *Peer) DisconnectNow(data uint32) error {
	return p.h.post(hostCmd{kind: cmdDisconnectNow, peer: p, data: data})
}

func (p *Peer) setState(s peerState) {
	p.state = s
	p.aState.Store(int32(s))
	p.markDirty()
}

// markDirty puts p on its host's dirty list: the next flush visits it even when it is
// not a full one. Everything that gives a peer something to send marks it.
func (p *Peer) markDirty() {
	if !p.dirty {
		p.dirty = true
		p.h.dirty = append(p.h.dirty, p)
	}
}

// ---- outgoing ----

// queueOutgoing is enet_peer_setup_outgoing_command: it assigns sequence
// numbers and queues oc.
func (p *Peer) queueOutgoing(oc *outCmd) {
	c := &oc.cmd
	switch {
	case c.ChannelID == 0xFF:
		p.outgoingReliableSeq++
		oc.reliableSeq = p.outgoingReliableSeq
		oc.unreliableSeq = 0
	case c.Flags&wire.FlagAcknowledge != 0:
		ch := &p.channels[c.ChannelID]
		ch.outgoingReliableSeq++
		ch.outgoingUnreliableSeq = 0
		oc.reliableSeq = ch.outgoingReliableSeq
		oc.unreliableSeq = 0
	case c.Flags&wire.FlagUnsequenced != 0:
		p.outgoingUnsequencedGroup++
		oc.reliableSeq = 0
		oc.unreliableSeq = 0
	default:
		ch := &p.channels[c.ChannelID]
		if oc.fragOffset == 0 {
			ch.outgoingUnreliableSeq++
		}
		oc.reliableSeq = ch.outgoingReliableSeq
		oc.unreliableSeq = ch.outgoingUnreliableSeq
	}
	oc.sendAttempts = 0
	oc.sentTime = 0
	oc.rtTimeout = 0
	oc.rtTimeoutLimit = 0
	c.ReliableSeq = oc.reliableSeq
	switch c.Number {
	case wire.CmdSendUnreliable:
		c.Seq = oc.unreliableSeq
	case wire.CmdSendUnsequenced:
		c.Seq = p.outgoingUnsequencedGroup
	}
	p.outgoing = append(p.outgoing, oc)
	p.markDirty()
}

// send is enet_peer_send; it takes ownership of one reference to pkt.
func (p *Peer) send(chID uint8, pkt *packet, flags PacketFlag) {
	h := p.h
	defer pkt.release()
	if int(chID) >= len(p.channels) || len(pkt.data) > h.cfg.MaxPacketSize {
		return
	}
	ch := &p.channels[chID]
	n := len(pkt.data)
	fragLen := int(p.mtu) - headerSizeWithTime - fragmentHeaderSize
	if n > fragLen {
		count := (n + fragLen - 1) / fragLen
		if count > wire.MaximumFragmentCount {
			return
		}
		number, cflags := uint8(wire.CmdSendFragment), uint8(wire.FlagAcknowledge)
		start := ch.outgoingReliableSeq + 1
		if flags&(Reliable|UnreliableFragment) == UnreliableFragment && ch.outgoingUnreliableSeq != 0xFFFF {
			number, cflags = wire.CmdSendUnreliableFragment, 0
			start = ch.outgoingUnreliableSeq + 1
		}
		for i, off := 0, 0; off < n; i, off = i+1, off+fragLen {
			l := min(fragLen, n-off)
			oc := h.getOut()
			oc.cmd = wire.Command{
				Number: number, Flags: cflags, ChannelID: chID, Seq: start,
				FragmentCount: uint32(count), FragmentNumber: uint32(i),
				TotalLength: uint32(n), FragmentOffset: uint32(off),
			}
			oc.fragOffset, oc.fragLen = uint32(off), uint32(l)
			pkt.refs++
			oc.pkt = pkt
			p.queueOutgoing(oc)
		}
		return
	}
	oc := h.getOut()
	switch {
	case flags&(Reliable|Unsequenced) == Unsequenced:
		oc.cmd = wire.Command{Number: wire.CmdSendUnsequenced, Flags: wire.FlagUnsequenced, ChannelID: chID}
	case flags&Reliable != 0 || ch.outgoingUnreliableSeq == 0xFFFF:
		oc.cmd = wire.Command{Number: wire.CmdSendReliable, Flags: wire.FlagAcknowledge, ChannelID: chID}
	default:
		oc.cmd = wire.Command{Number: wire.CmdSendUnreliable, ChannelID: chID}
	}
	oc.fragLen = uint32(n)
	pkt.refs++
	oc.pkt = pkt
	p.queueOutgoing(oc)
}

func (p *Peer) queueCommand(c wire.Command) {
	oc := p.h.getOut()
	oc.cmd = c
	p.queueOutgoing(oc)
}

func (p *Peer) ping() {
	p.queueCommand(wire.Command{Number: wire.CmdPing, Flags: wire.FlagAcknowledge, ChannelID: 0xFF})
}

// sendPeer is one peer's part of enet_protocol_send_outgoing_commands. It
// reports false if the peer was removed from the active list.
func (h *Host) sendPeer(p *Peer) bool {
	h.visits++
	if p.state == stateDisconnected || p.state == stateZombie {
		return true
	}
	if len(p.sentReliable) > 0 && timeGreaterEqual(h.serviceTime, p.nextTimeout) {
		if p.checkTimeouts() {
			return false
		}
	}
	if p.state == stateAcknowledgingConnect && p.pendingBound() > p.credit {
		return p.withhold()
	}
	mtu := int(p.mtu)
	for pass := 0; pass < maxSendPassesPerFlush; pass++ {
		buf := h.sendBuf[:headerSizeWithTime]
		cmds, sentTime, more := 0, false, false
		// Acknowledgements.
		nAcks := 0
		for _, a := range p.acks {
			if cmds >= wire.MaximumPacketCmds || len(buf)+8 > mtu {
				more = true
				break
			}
			buf, _ = wire.AppendCommandHeader(buf, &wire.Command{
				Number: wire.CmdAcknowledge, ChannelID: a.channel, ReliableSeq: a.seq,
				ReceivedReliableSeq: a.seq, ReceivedSentTime: a.sentTime,
			}, 0)
			cmds++
			nAcks++
			if a.number == wire.CmdDisconnect {
				p.setState(stateZombie)
			}
		}
		if nAcks > 0 {
			n := copy(p.acks, p.acks[nAcks:])
			p.acks = p.acks[:n]
		}
		canPing := true
		if !more && p.state != stateZombie {
			canPing, more = p.sendOutgoing(&buf, &cmds, &sentTime)
			if pass == 0 && canPing && len(p.sentReliable) == 0 && !more &&
				timeDiff(h.serviceTime, p.lastReceiveTime) >= p.pingInterval && mtu-len(buf) >= 4 &&
				p.state != stateDisconnected {
				p.ping()
				_, more = p.sendOutgoing(&buf, &cmds, &sentTime)
			}
		}
		if p.state == stateDisconnected {
			return false
		}
		if cmds == 0 {
			break
		}
		if p.packetLossEpoch == 0 {
			p.packetLossEpoch = h.serviceTime
		} else if timeDiff(h.serviceTime, p.packetLossEpoch) >= packetLossInterval && p.packetsSent > 0 {
			loss := uint32(uint64(p.packetsLost) * packetLossScale / uint64(p.packetsSent))
			d := loss - p.packetLoss
			if loss < p.packetLoss {
				d = p.packetLoss - loss
			}
			p.packetLossVar = (p.packetLossVar*3 + d) / 4
			p.packetLoss = (p.packetLoss*7 + loss) / 8
			p.packetLossEpoch = h.serviceTime
			p.packetsSent, p.packetsLost = 0, 0
		}
		hdr := wire.Header{PeerID: p.outgoingPeerID, HasSentTime: sentTime, SentTime: uint16(h.serviceTime)}
		if p.outgoingPeerID < wire.MaximumPeerID {
			hdr.SessionID = p.outgoingSessionID
		}
		start := 0
		if !sentTime {
			start = 2
		}
		wire.AppendHeader(buf[start:start], &hdr)
		dg := buf[start:]
		if p.state == stateAcknowledgingConnect {
			// pendingBound, checked above, covers what is sent here; this
			// only guards the anti-amplification bound.
			if len(dg) > p.credit {
				break
			}
			p.credit -= len(dg)
		}
		h.write(p, dg)
		if !more {
			break
		}
	}
	return true
}

// pendingBound bounds the bytes sendPeer would send p now: every queued
// acknowledgement and command, each in a datagram of its own. Before the
// handshake completes that is the VERIFY_CONNECT: 48 bytes, less than the
// smallest datagram that carries a CONNECT (50).
func (p *Peer) pendingBound() int {
	n := len(p.acks) * (headerSizeWithTime + wire.CommandSize(wire.CmdAcknowledge))
	for _, oc := range p.outgoing {
		n += headerSizeWithTime + wire.CommandSize(oc.cmd.Number) + int(oc.fragLen)
	}
	return n
}

// withhold keeps what is queued for a peer whose handshake has not
// completed and that has not sent us as many bytes as that would cost (no
// amplification: before the handshake completes a host never sends a peer
// more bytes than it received from it). Nothing is sent and nothing counts
// as sent: the commands stay queued, their retransmission timeouts do not
// double again, and they go out on the flush that follows the peer's next
// datagram if it brings the credit (a retransmitted CONNECT does). Counting
// a withheld VERIFY_CONNECT as lost, as this package once did, doubled its
// timeout each time and let its next transmission fall behind the client's
// patience. A peer that sends nothing more times out as checkTimeouts would
// time it out. It reports false if the peer was removed.
func (p *Peer) withhold() bool {
	now := p.h.serviceTime
	if p.earliestTimeout == 0 {
		p.earliestTimeout = now
	}
	d := timeDiff(now, p.earliestTimeout)
	limited := len(p.outgoing) > 0 && p.outgoing[0].sendAttempts > 0 &&
		p.outgoing[0].rtTimeout >= p.outgoing[0].rtTimeoutLimit
	if d >= p.timeoutMaximum || (limited && d >= p.timeoutMinimum) {
		p.notifyDisconnect()
		return false
	}
	return true
}

// sendOutgoing is enet_protocol_check_outgoing_commands over our single
// outgoing queue. It appends what fits into *buf.
func (p *Peer) sendOutgoing(buf *[]byte, cmds *int, sentTime *bool) (canPing, more bool) {
	h := p.h
	canPing = true
	windowWrap, windowExceeded, stop := false, false, false
	dropping := false
	var dropRel, dropUnrel uint16
	keep := p.outgoing[:0]
	mtu := int(p.mtu)
	for i, oc := range p.outgoing {
		if stop {
			keep = append(keep, p.outgoing[i:]...)
			break
		}
		if dropping && oc.cmd.Flags&wire.FlagAcknowledge == 0 && oc.pkt != nil && oc.fragOffset != 0 &&
			oc.reliableSeq == dropRel && oc.unreliableSeq == dropUnrel {
			h.putOut(oc)
			continue
		}
		dropping = false
		reliable := oc.cmd.Flags&wire.FlagAcknowledge != 0
		var ch *channel
		var rw uint16
		if reliable {
			if int(oc.cmd.ChannelID) < len(p.channels) {
				ch = &p.channels[oc.cmd.ChannelID]
			}
			rw = oc.reliableSeq / reliableWindowSize
			if ch != nil {
				if windowWrap {
					keep = append(keep, oc)
					continue
				}
				if oc.sendAttempts < 1 && oc.reliableSeq%reliableWindowSize == 0 &&
					(ch.reliableWindows[(rw+reliableWindows-1)%reliableWindows] >= reliableWindowSize ||
						ch.usedReliableWindows&uint16((((1<<(freeReliableWindows+2))-1)<<rw)|
							(((1<<(freeReliableWindows+2))-1)>>(reliableWindows-rw))) != 0) {
					windowWrap = true
					keep = append(keep, oc)
					continue
				}
			}
			if oc.pkt != nil {
				if windowExceeded {
					keep = append(keep, oc)
					continue
				}
				ws := p.packetThrottle * p.windowSize / packetThrottleScale
				if p.reliableDataInTransit+oc.fragLen > max(ws, p.mtu) {
					windowExceeded = true
					keep = append(keep, oc)
					continue
				}
			}
			canPing = false
		}
		size := wire.CommandSize(oc.cmd.Number)
		if oc.pkt != nil {
			size += int(oc.fragLen)
		}
		if *cmds >= wire.MaximumPacketCmds || len(*buf)+size > mtu {
			more = true
			stop = true
			keep = append(keep, oc)
			continue
		}
		if reliable {
			if ch != nil && oc.sendAttempts < 1 {
				ch.usedReliableWindows |= 1 << rw
				ch.reliableWindows[rw]++
			}
			oc.sendAttempts++
			if oc.rtTimeout == 0 {
				oc.rtTimeout = p.rtt + 4*p.rttVar
				oc.rtTimeoutLimit = p.timeoutLimit * oc.rtTimeout
			}
			if len(p.sentReliable) == 0 {
				p.nextTimeout = h.serviceTime + oc.rtTimeout
			}
			p.sentReliable = append(p.sentReliable, oc)
			oc.sentTime = h.serviceTime
			*sentTime = true
			p.reliableDataInTransit += oc.fragLen
		} else if oc.pkt != nil && oc.fragOffset == 0 {
			p.packetThrottleCounter = (p.packetThrottleCounter + packetThrottleCounter) % packetThrottleScale
			if p.packetThrottleCounter > p.packetThrottle && !h.cfg.NoUnreliableThrottle {
				dropping, dropRel, dropUnrel = true, oc.reliableSeq, oc.unreliableSeq
				h.st.throttleDropped.Add(1)
				h.putOut(oc)
				continue
			}
		}
		if oc.pkt != nil {
			*buf, _ = wire.AppendCommandHeader(*buf, &oc.cmd, int(oc.fragLen))
			*buf = append(*buf, oc.pkt.data[oc.fragOffset:oc.fragOffset+oc.fragLen]...)
		} else {
			*buf, _ = wire.AppendCommandHeader(*buf, &oc.cmd, 0)
		}
		*cmds++
		p.packetsSent++
		if !reliable {
			h.putOut(oc)
		}
	}
	clear(p.outgoing[len(keep):])
	p.outgoing = keep
	if p.state == stateDisconnectLater && len(p.outgoing) == 0 && len(p.sentReliable) == 0 {
		p.disconnect(p.eventData)
	}
	return canPing, more
}

// checkTimeouts is enet_protocol_check_timeouts. It reports true if the
// peer timed out and was removed.
func (p *Peer) checkTimeouts() bool {
	h := p.h
	now := h.serviceTime
	var requeue []*outCmd
	keep := p.sentReliable[:0]
	for _, oc := range p.sentReliable {
		if timeDiff(now, oc.sentTime) < oc.rtTimeout {
			keep = append(keep, oc)
			continue
		}
		if p.earliestTimeout == 0 || timeLess(oc.sentTime, p.earliestTimeout) {
			p.earliestTimeout = oc.sentTime
		}
		if p.earliestTimeout != 0 && (timeDiff(now, p.earliestTimeout) >= p.timeoutMaximum ||
			(oc.rtTimeout >= oc.rtTimeoutLimit && timeDiff(now, p.earliestTimeout) >= p.timeoutMinimum)) {
			// Restore the list so that reset releases everything.
			keep = append(keep, oc)
			p.sentReliable = append(keep, requeue...)
			p.notifyDisconnect()
			return true
		}
		if oc.pkt != nil {
			p.reliableDataInTransit -= oc.fragLen
		}
		p.packetsLost++
		oc.rtTimeout *= 2
		requeue = append(requeue, oc)
	}
	clear(p.sentReliable[len(keep):])
	p.sentReliable = keep
	if len(requeue) > 0 {
		p.outgoing = append(requeue, p.outgoing...)
	}
	if len(p.sentReliable) > 0 {
		f := p.sentReliable[0]
		p.nextTimeout = f.sentTime + f.rtTimeout
	}
	return false
}

// notifyDisconnect is enet_protocol_notify_disconnect.
func (p *Peer) notifyDisconnect() {
	if p.state != stateConnecting && p.state < stateConnectionSucceeded {
		p.reset()
		return
	}
	p.h.pushEvent(Event{Type: EventDisconnect, Peer: p})
	p.reset()
}

// resetQueues drops every queued command and packet.
func (p *Peer) resetQueues() {
	h := p.h
	for _, oc := range p.sentReliable {
		h.putOut(oc)
	}
	for _, oc := range p.outgoing {
		h.putOut(oc)
	}
	clear(p.sentReliable)
	clear(p.outgoing)
	p.sentReliable, p.outgoing = p.sentReliable[:0], p.outgoing[:0]
	p.acks = p.acks[:0]
	for i := range p.channels {
		ch := &p.channels[i]
		for _, ic := range ch.inReliable {
			p.freeIncoming(ic)
		}
		for _, ic := range ch.inUnreliable {
			p.freeIncoming(ic)
		}
		clear(ch.inReliable)
		clear(ch.inUnreliable)
		ch.inReliable, ch.inUnreliable = ch.inReliable[:0], ch.inUnreliable[:0]
	}
	p.reliableDataInTransit = 0
}

func (p *Peer) freeIncoming(ic *inCmd) {
	if ic.pkt != nil {
		p.totalWaitingData -= len(ic.pkt.data)
		ic.pkt.release()
	}
	p.h.putIn(ic)
}

// reset forgets the peer: its slot becomes free.
func (p *Peer) reset() {
	p.resetQueues()
	p.channels = nil
	p.setState(stateDisconnected)
	p.h.removeActive(p)
}

// disconnect is enet_peer_disconnect.
func (p *Peer) disconnect(data uint32) {
	switch p.state {
	case stateDisconnecting, stateDisconnected, stateAcknowledgingDisconnect, stateZombie:
		return
	}
	p.resetQueues()
	c := wire.Command{Number: wire.CmdDisconnect, ChannelID: 0xFF, Data: data}
	graceful := p.state == stateConnected || p.state == stateDisconnectLater
	if graceful {
		c.Flags = wire.FlagAcknowledge
	} else {
		c.Flags = wire.FlagUnsequenced
	}
	p.queueCommand(c)
	if graceful {
		p.setState(stateDisconnecting)
		return
	}
	p.h.sendPeer(p)
	p.reset()
}

// disconnectLater is enet_peer_disconnect_later.
func (p *Peer) disconnectLater(data uint32) {
	if (p.state == stateConnected || p.state == stateDisconnectLater) &&
		(len(p.outgoing) > 0 || len(p.sentReliable) > 0) {
		p.setState(stateDisconnectLater)
		p.eventData = data
		return
	}
	p.disconnect(data)
}

// disconnectNow is enet_peer_disconnect_now.
func (p *Peer) disconnectNow(data uint32) {
	if p.state == stateDisconnected {
		return
	}
	if p.state != stateZombie && p.state != stateDisconnecting {
		p.resetQueues()
		p.queueCommand(wire.Command{Number: wire.CmdDisconnect, Flags: wire.FlagUnsequenced, ChannelID: 0xFF, Data: data})
		p.h.sendPeer(p)
	}
	if p.state != stateDisconnected {
		p.reset()
	}
}
