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
	max     int
	metrics GatewayMetrics // nil: none

	mu   sync.Mutex // guards open
	open map[netip.Addr]int
}

// NewLimitListener returns ln with at most maxPerIP open connections per
// client IP; m (may be nil) counts refused connections with reason
// RejectConns. maxPerIP must be positive.
func NewLimitListener(ln net.Listener, maxPerIP int, m GatewayMetrics) *LimitListener {
	return &LimitListener{Listener: ln, max: maxPerIP, metrics: m, open: make(map[netip.Addr]int)}
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
		if l.enter(addr) {
			return &limitedConn{Conn: c, release: func() { l.leave(addr) }}, nil
		}
		if l.metrics != nil {
			l.metrics.GatewayRejected(RejectConns)
		}
		c.Close()
	}
}

// enter counts a connection of addr unless it has max open.
func (l *LimitListener) enter(addr netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[addr] >= l.max {
		return false
	}
	l.open[addr]++
	return true
}

// leave uncounts a connection of addr.
func (l *LimitListener) leave(addr netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[addr]--; l.open[addr] <= 0 {
		delete(l.open, addr)
	}
}

// Open returns the connections open now from addr's client.
func (l *LimitListener) Open(addr netip.Addr) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open[clientKey(addr)]
}

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
