package server_test

import (
	"testing"

	"github.com/shardsim/shardsim/net/server"
	"github.com/shardsim/shardsim/shard"
)

// TestRedirectBeyondMaxLocalClients: a server that serves MaxLocalClients sessions
// sends the next admitted client a Redirect instead of joining it; the Go client
// follows it to the other address with the same token before Dial returns.
func TestRedirectBeyondMaxLocalClients(t *testing.T) {
	other := startLive(t, nil)
	live := startLive(t, func(c *shard.LiveConfig) {
		c.Server.MaxLocalClients = 1
		c.Server.Redirect = func() string { return other.Addr().String() }
	})
	a := dial(t, live.Addr().String(), 1)
	b := dial(t, live.Addr().String(), 2)
	if st := a.Stats(); st.Redirects != 0 || st.Server != live.Addr().String() {
		t.Errorf("first client: %d redirects, plays on %s; want 0 and %s", st.Redirects, st.Server, live.Addr())
	}
	if st := b.Stats(); st.Redirects != 1 || st.Server != other.Addr().String() {
		t.Errorf("second client: %d redirects, plays on %s; want 1 and %s", st.Redirects, st.Server, other.Addr())
	}
	eventually(t, "the redirect", func() bool {
		s, o := live.Stats().Server, other.Stats().Server
		return s.Clients == 1 && s.Redirected == 1 && o.Clients == 1
	})
}

func TestRelaySessionRanges(t *testing.T) {
	for _, rank := range []uint8{0, 1, 255} {
		base := server.RelaySessionBase(rank)
		for _, n := range []uint32{1, 1<<23 - 1} {
			if r, ok := server.RelayRank(base | n); !ok || r != rank {
				t.Errorf("RelayRank(%#x) = %d, %v; want %d", base|n, r, ok, rank)
			}
		}
		if _, ok := server.RelayRank(base); ok {
			t.Errorf("RelayRank(%#x): session 0 accepted", base)
		}
	}
	if _, ok := server.RelayRank(1<<31 - 1); ok {
		t.Error("a shard session is in a relay range")
	}
}
