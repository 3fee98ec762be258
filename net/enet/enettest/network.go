// Package enettest provides an in-memory datagram network with
// configurable loss, duplication, reordering and delay, for testing
// package enet without sockets.
//
// Every random decision comes from one source seeded by [NewNetwork], so a
// given sequence of writes meets the same fate on every run.
package enettest

import (
	"container/heap"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Conditions describes how the network mistreats datagrams.
type Conditions struct {
	Loss      float64       // probability a datagram is dropped
	Duplicate float64       // probability a datagram is delivered twice
	Reorder   float64       // probability a datagram is held back by ReorderDelay
	Delay     time.Duration // base one-way delay
	Jitter    time.Duration // uniform extra delay in [0, Jitter)
	// ReorderDelay is the extra delay of a reordered datagram. Default 10ms.
	ReorderDelay time.Duration
}

// Network is an in-memory IPv4 network. Its conns have addresses
// 10.0.0.1:port.
type Network struct {
	mu       sync.Mutex
	rng      *rand.Rand
	cond     Conditions
	conns    map[netip.AddrPort]*Conn
	nextPort uint16
	queue    pending
	timer    *time.Timer
	closed   bool
}

// NewNetwork returns a perfect network (no loss, no delay) whose random
// decisions are drawn from a source seeded with seed.
func NewNetwork(seed int64) *Network {
	return &Network{
		rng:      rand.New(rand.NewPCG(uint64(seed), 0x656e6574)),
		conns:    make(map[netip.AddrPort]*Conn),
		nextPort: 1000,
	}
}

// SetConditions changes how the network treats datagrams written from now on.
func (n *Network) SetConditions(c Conditions) {
	if c.ReorderDelay == 0 {
		c.ReorderDelay = 10 * time.Millisecond
	}
	n.mu.Lock()
	n.cond = c
	n.mu.Unlock()
}

// Listen returns a new conn on a fresh port.
func (n *Network) Listen() *Conn {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nextPort++
	c := &Conn{
		net:    n,
		addr:   netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 1}), n.nextPort),
		inbox:  make(chan datagram, 4096),
		closed: make(chan struct{}),
		dlSet:  make(chan struct{}, 1),
	}
	n.conns[c.addr] = c
	return c
}

type datagram struct {
	from netip.AddrPort
	data []byte
}

type delayed struct {
	at time.Time
	to netip.AddrPort
	d  datagram
}

type pending []delayed

func (p pending) Len() int           { return len(p) }
func (p pending) Less(i, j int) bool { return p[i].at.Before(p[j].at) }
func (p pending) Swap(i, j int)      { p[i], p[j] = p[j], p[i] }
func (p *pending) Push(x any)        { *p = append(*p, x.(delayed)) }
func (p *pending) Pop() any {
	old := *p
	x := old[len(old)-1]
	*p = old[:len(old)-1]
	return x
}

func (n *Network) send(from, to netip.AddrPort, b []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.cond
	if c.Loss > 0 && n.rng.Float64() < c.Loss {
		return
	}
	copies := 1
	if c.Duplicate > 0 && n.rng.Float64() < c.Duplicate {
		copies = 2
	}
	for range copies {
		delay := c.Delay
		if c.Jitter > 0 {
			delay += time.Duration(n.rng.Int64N(int64(c.Jitter)))
		}
		if c.Reorder > 0 && n.rng.Float64() < c.Reorder {
			delay += c.ReorderDelay
		}
		d := datagram{from: from, data: append([]byte(nil), b...)}
		if delay <= 0 {
			n.deliverLocked(to, d)
			continue
		}
		heap.Push(&n.queue, delayed{at: time.Now().Add(delay), to: to, d: d})
		n.armLocked()
	}
}

func (n *Network) armLocked() {
	if len(n.queue) == 0 || n.closed {
		return
	}
	wait := time.Until(n.queue[0].at)
	if n.timer == nil {
		n.timer = time.AfterFunc(wait, n.fire)
	} else {
		n.timer.Reset(wait)
	}
}

func (n *Network) fire() {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now()
	for len(n.queue) > 0 && !n.queue[0].at.After(now) {
		x := heap.Pop(&n.queue).(delayed)
		n.deliverLocked(x.to, x.d)
	}
	n.armLocked()
}

func (n *Network) deliverLocked(to netip.AddrPort, d datagram) {
	c := n.conns[to]
	if c == nil {
		return
	}
	select {
	case c.inbox <- d:
	default: // receive buffer full: dropped, like a socket
	}
}

// Conn is an endpoint of a [Network]. It implements enet.Transport and
// net.PacketConn.
type Conn struct {
	net       *Network
	addr      netip.AddrPort
	inbox     chan datagram
	closeOnce sync.Once
	closed    chan struct{}

	mu    sync.Mutex
	dl    time.Time
	dlSet chan struct{}
}

var _ net.PacketConn = (*Conn)(nil)

// LocalAddr returns the conn's address, a *net.UDPAddr.
func (c *Conn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.addr) }

// AddrPort returns the conn's address.
func (c *Conn) AddrPort() netip.AddrPort { return c.addr }

// ReadFromUDPAddrPort reads one datagram.
func (c *Conn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		c.mu.Lock()
		dl := c.dl
		c.mu.Unlock()
		var timeout <-chan time.Time
		if !dl.IsZero() {
			wait := time.Until(dl)
			if wait <= 0 {
				return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
			}
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case d := <-c.inbox:
			return copy(b, d.data), d.from, nil
		case <-c.closed:
			return 0, netip.AddrPort{}, net.ErrClosed
		case <-timeout:
			return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
		case <-c.dlSet:
		}
	}
}

// ReadFrom reads one datagram.
func (c *Conn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, ap, err := c.ReadFromUDPAddrPort(b)
	if err != nil {
		return 0, nil, err
	}
	return n, net.UDPAddrFromAddrPort(ap), nil
}

// WriteToUDPAddrPort sends b to addr through the network's conditions.
func (c *Conn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	c.net.send(c.addr, netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port()), b)
	return len(b), nil
}

// WriteTo sends b to addr, which must be a *net.UDPAddr or an IP:port.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	var ap netip.AddrPort
	if ua, ok := addr.(*net.UDPAddr); ok {
		ap = ua.AddrPort()
	} else {
		var err error
		if ap, err = netip.ParseAddrPort(addr.String()); err != nil {
			return 0, errors.New("enettest: bad address")
		}
	}
	return c.WriteToUDPAddrPort(b, ap)
}

// Close closes the conn; blocked reads return net.ErrClosed.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.net.mu.Lock()
		delete(c.net.conns, c.addr)
		c.net.mu.Unlock()
	})
	return nil
}

// SetReadDeadline sets the read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.dl = t
	c.mu.Unlock()
	select {
	case c.dlSet <- struct{}{}:
	default:
	}
	return nil
}

// SetDeadline sets the read deadline; writes never block.
func (c *Conn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

// SetWriteDeadline does nothing: writes never block.
func (c *Conn) SetWriteDeadline(time.Time) error { return nil }
