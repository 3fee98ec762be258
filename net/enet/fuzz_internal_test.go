package enet

import (
	"net/netip"
	"testing"

	"github.com/shardsim/shardsim/net/enet/enettest"
	"github.com/shardsim/shardsim/net/enet/internal/wire"
)

func connectDatagram(channels uint32, connectID uint32) []byte {
	h := wire.Header{PeerID: wire.MaximumPeerID, HasSentTime: true, SentTime: 1}
	b := wire.AppendHeader(nil, &h)
	b, _ = wire.AppendCommand(b, &wire.Command{
		Number: wire.CmdConnect, Flags: wire.FlagAcknowledge, ChannelID: 0xFF, ReliableSeq: 1,
		IncomingSessionID: 0xFF, OutgoingSessionID: 0xFF, MTU: 1400, WindowSize: 65536,
		ChannelCount: channels, ThrottleInterval: 5000, ThrottleAcceleration: 2, ThrottleDeceleration: 2,
		ConnectID: connectID, Data: 2,
	})
	return b
}

// FuzzHostReceive feeds arbitrary datagrams to a server host that has one
// peer (in whatever state the fuzzer drives it to). It must never panic, and
// its bookkeeping must stay sane.
func FuzzHostReceive(f *testing.F) {
	from := netip.MustParseAddrPort("10.0.0.9:5000")
	seed := func(cmds ...wire.Command) []byte {
		h := wire.Header{PeerID: 0, SessionID: 1, HasSentTime: true, SentTime: 7}
		b := wire.AppendHeader(nil, &h)
		for _, c := range cmds {
			b, _ = wire.AppendCommand(b, &c)
		}
		return b
	}
	f.Add(connectDatagram(3, 1), seed(wire.Command{Number: wire.CmdAcknowledge, ChannelID: 0xFF, ReliableSeq: 1, ReceivedReliableSeq: 1}))
	f.Add(seed(wire.Command{Number: wire.CmdSendReliable, Flags: wire.FlagAcknowledge, ChannelID: 0, ReliableSeq: 1, Payload: []byte("x")}),
		seed(wire.Command{Number: wire.CmdSendFragment, Flags: wire.FlagAcknowledge, ChannelID: 1, ReliableSeq: 1, Seq: 1,
			FragmentCount: 2, FragmentNumber: 1, TotalLength: 10, FragmentOffset: 5, Payload: []byte("abcde")}))
	f.Add(seed(wire.Command{Number: wire.CmdSendUnsequenced, Flags: wire.FlagUnsequenced, ChannelID: 2, Seq: 3, Payload: []byte("u")}),
		seed(wire.Command{Number: wire.CmdSendUnreliableFragment, ChannelID: 0, Seq: 1, FragmentCount: 2, TotalLength: 4, Payload: []byte("ab")},
			wire.Command{Number: wire.CmdDisconnect, Flags: wire.FlagAcknowledge, ChannelID: 0xFF, ReliableSeq: 2}))
	n := enettest.NewNetwork(1)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		tr := n.Listen()
		defer tr.Close()
		h, err := newIdleHost(tr, Config{MaxPeers: 2, MaxChannels: 3, MaxWaitingData: 1 << 16, MaxPacketSize: 1 << 15}, true)
		if err != nil {
			t.Fatal(err)
		}
		h.receive(connectDatagram(3, 1), from, nil)
		h.flushAll()
		if p := h.peers[0]; p != nil {
			// Complete the handshake so data commands are accepted.
			h.receive(seed(wire.Command{Number: wire.CmdAcknowledge, ChannelID: 0xFF, ReliableSeq: 1, ReceivedReliableSeq: 1, ReceivedSentTime: uint16(h.serviceTime)}), from, nil)
		}
		for _, d := range [][]byte{a, b, a} {
			h.receive(d, from, nil)
			h.flush()
		}
		for _, p := range h.active {
			if p.totalWaitingData < 0 || p.totalWaitingData > h.cfg.MaxWaitingData+h.cfg.MaxPacketSize {
				t.Fatalf("waiting data %d", p.totalWaitingData)
			}
			if len(p.channels) > 3 {
				t.Fatalf("%d channels", len(p.channels))
			}
		}
	})
}
