package enet

import (
	"net/netip"
	"testing"
	"time"

	"github.com/shardsim/shardsim/net/enet/enettest"
	"github.com/shardsim/shardsim/net/enet/internal/wire"
)

// TestFlushVisitsDirtyPeers: the flush after a batch of datagrams visits only the peers
// that sent them (and so have acknowledgements to send), not every connected peer; the
// periodic flushAll visits them all.
func TestFlushVisitsDirtyPeers(t *testing.T) {
	const n = 40
	h, addrs := idleServer(t, Config{MaxChannels: 3, MaxPeers: 64}, n)

	h.visits = 0
	out := h.Stats().PacketsOut
	p := h.peers[7]
	h.receive(fromClient(p, 3, wire.Command{
		Number: wire.CmdSendReliable, Flags: wire.FlagAcknowledge, ChannelID: 1, ReliableSeq: 1, Payload: []byte("input"),
	}), addrs[7], nil)
	h.flush()
	if h.visits != 1 {
		t.Errorf("flush after one peer's datagram visited %d peers, want 1", h.visits)
	}
	if got := h.Stats().PacketsOut - out; got != 1 || len(p.acks) != 0 {
		t.Errorf("%d datagrams sent, %d acks left; want the acknowledgement sent", got, len(p.acks))
	}

	h.visits = 0
	h.flushAll()
	if h.visits != n {
		t.Errorf("flushAll visited %d peers, want %d", h.visits, n)
	}
}

// idleServer returns a server host with no service goroutine, on a fixed clock, with n
// peers connected on 3 channels from the returned addresses (peer i is h.peers[i]).
func idleServer(t *testing.T, cfg Config, n int) (*Host, []netip.AddrPort) {
	t.Helper()
	now := time.Unix(1000, 0)
	tr := enettest.NewNetwork(1).Listen()
	t.Cleanup(func() { tr.Close() })
	cfg.Clock = func() time.Time { return now }
	h, err := newIdleHost(tr, cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	h.updateTime()
	addrs := make([]netip.AddrPort, n)
	for i := range n {
		addrs[i] = netip.AddrPortFrom(netip.MustParseAddr("10.0.0.9"), uint16(5000+i))
		h.receive(connectDatagram(3, uint32(i+1)), addrs[i], nil)
	}
	h.flushAll()
	for i := range n {
		p := h.peers[i]
		h.receive(fromClient(p, 2, wire.Command{
			Number: wire.CmdAcknowledge, ChannelID: 0xFF, ReliableSeq: 1, ReceivedReliableSeq: 1, ReceivedSentTime: uint16(h.serviceTime),
		}), addrs[i], nil)
		if p.state != stateConnected {
			t.Fatalf("peer %d: state %d, want connected", i, p.state)
		}
	}
	h.flushAll()
	return h, addrs
}
