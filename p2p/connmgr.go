package p2p

import (
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/network"
	basicconnmgr "github.com/libp2p/go-libp2p/p2p/net/connmgr"
	ma "github.com/multiformats/go-multiaddr"
)

// reasonConnMgr is libp2p's connection manager with its view of connections wrapped, so
// that a trim (CloseWithError(ConnGarbageCollected)) records its reason before the
// connection goes and Disconnected can log it.
type reasonConnMgr struct {
	*basicconnmgr.BasicConnMgr
	t *connTracker
}

var _ connmgr.ConnManager = (*reasonConnMgr)(nil)

// wrapConnManager wraps cm for the host.
func (t *connTracker) wrapConnManager(cm *basicconnmgr.BasicConnMgr) connmgr.ConnManager {
	t.cm = cm
	return &reasonConnMgr{BasicConnMgr: cm, t: t}
}

// Notifee returns the connection manager's notifiee, fed with wrapped connections.
func (m *reasonConnMgr) Notifee() network.Notifiee {
	return &reasonNotifee{inner: m.BasicConnMgr.Notifee(), t: m.t}
}

// reasonNotifee hands the connection manager a trackedConn for each connection.
type reasonNotifee struct {
	inner network.Notifiee
	t     *connTracker
}

// Listen forwards to the connection manager.
func (n *reasonNotifee) Listen(nw network.Network, a ma.Multiaddr) { n.inner.Listen(nw, a) }

// ListenClose forwards to the connection manager.
func (n *reasonNotifee) ListenClose(nw network.Network, a ma.Multiaddr) { n.inner.ListenClose(nw, a) }

// Connected wraps c and forwards it.
func (n *reasonNotifee) Connected(nw network.Network, c network.Conn) {
	w := &trackedConn{Conn: c, t: n.t}
	n.t.mu.Lock()
	n.t.wrapped[c] = w
	n.t.mu.Unlock()
	n.inner.Connected(nw, w)
}

// Disconnected forwards the wrapper the connection manager knows.
func (n *reasonNotifee) Disconnected(nw network.Network, c network.Conn) {
	n.t.mu.Lock()
	w, ok := n.t.wrapped[c]
	delete(n.t.wrapped, c)
	n.t.mu.Unlock()
	if ok {
		n.inner.Disconnected(nw, w)
		return
	}
	n.inner.Disconnected(nw, c)
}

// trackedConn records a connection-manager trim as the disconnect reason.
type trackedConn struct {
	network.Conn
	t *connTracker
}

// CloseWithError records the trim reason, then closes.
func (c *trackedConn) CloseWithError(code network.ConnErrorCode) error {
	if code == network.ConnGarbageCollected {
		c.t.setReason(c.RemotePeer(), reasonTrim)
	}
	return c.Conn.CloseWithError(code)
}
