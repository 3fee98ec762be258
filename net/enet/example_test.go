package enet_test

import (
	"fmt"
	"net"
	"time"

	"github.com/shardsim/shardsim/net/enet"
)

func Example() {
	sconn, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	cconn, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	server, _ := enet.Listen(sconn, enet.Config{MaxPeers: 32, MaxChannels: 3})
	client, _ := enet.NewClient(cconn, enet.Config{})
	defer server.Close()
	defer client.Close()

	// Like a Godot client: 3 channels, its peer id as connect data.
	peer, _ := client.Connect(sconn.LocalAddr(), 3, 1234)

	// wait services h until an event of type t arrives.
	wait := func(h *enet.Host, t enet.EventType) enet.Event {
		for {
			ev, err := h.Service(time.Second)
			if err != nil || ev.Type == t {
				return ev
			}
		}
	}
	wait(client, enet.EventConnect)
	ev := wait(server, enet.EventConnect)
	fmt.Println("server: connect, data", ev.Data)

	peer.Send(1, []byte("hello"), enet.Reliable)
	ev = wait(server, enet.EventReceive)
	fmt.Printf("server: %q on channel %d\n", ev.Packet, ev.Channel)

	peer.Disconnect(7)
	ev = wait(server, enet.EventDisconnect)
	fmt.Println("server: disconnect, data", ev.Data)
	// Output:
	// server: connect, data 1234
	// server: "hello" on channel 1
	// server: disconnect, data 7
}
