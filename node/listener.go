package node

import (
	"net"
	"net/netip"
	"sync"
)

// LimitListener wraps a listener so that each client IP (IPv6 grouped by
// /64) holds at most a given number of open connections: a connection
// over the cap is closed as soon as it is accepted, and counted. It is
// safe for concurrent use.
type LimitListener struct {
	net.Listener
	metrics GatewayMetrics // nil: none
	open    *perIPCount
}

// perIPCount counts what each client IP holds open (connections, stream
// subscribers), up to max each. It is safe for concurrent use.
type perIPCount struct {
	max int

	mu sync.Mutex // guards n
	n  map[netip.Addr]int
}

func newPerIPCount(max int) *perIPCount {
	return &perIPCount{max: max, n: make(map[netip.Addr]int)}
}

// enter counts one more for addr unless it holds max already.
func (c *perIPCount) enter(addr netip.Addr) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[addr] >= c.max {
		return false
	}
	c.n[addr]++
	return true
}

// count returns what addr holds now.
func (c *perIPCount) count(addr netip.Addr) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[addr]
}

// leave counts one less for addr.
func (c *perIPCount) leave(addr netip.Addr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[addr]--; c.n[addr] <= 0 {
		delete(c.n, addr)
	}
}

// NewLimitListener returns ln with at most maxPerIP open connections per
// client IP; m (may be nil) counts refused connections with reason
// RejectConns. maxPerIP must be positive.
func NewLimitListener(ln net.Listener, maxPerIP int, m GatewayMetrics) *LimitListener {
	return &LimitListener{Listener: ln, metrics: m, open: newPerIPCount(maxPerIP)}
}

// Accept returns the next connection of a client under its cap, closing
// those over it.
func (l *LimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := clientKey(remoteAddr(c.RemoteAddr().String()))
		if l.open.enter(addr) {
			return &limitedConn{Conn: c, release: func() { l.open.leave(addr) }}, nil
		}
		if l.metrics != nil {
			l.metrics.GatewayRejected(RejectConns)
		}
		c.Close()
	}
}

// Open returns the connections open now from addr's client.
func (l *LimitListener) Open(addr netip.Addr) int { return l.open.count(clientKey(addr)) }

// limitedConn releases its slot once, on its first Close.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the connection and frees its slot.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
