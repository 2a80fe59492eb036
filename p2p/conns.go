package p2p

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	basicconnmgr "github.com/libp2p/go-libp2p/p2p/net/connmgr"
	ma "github.com/multiformats/go-multiaddr"
)

// Disconnect reasons logged when we know them.
const (
	reasonTrim     = "connection manager trim: more than MaxPeers connections"
	reasonRemote   = "closed by the remote peer or a connection error"
	reasonShutdown = "host closing"
)

// connTracker admits connections (gater), tracks why they end (notifiee and a wrapper
// around the connection manager), drops graylisted peers and tells the persistent-peer
// dialers when a peer is lost.
type connTracker struct {
	h          *Host
	lh         host.Host
	cm         *basicconnmgr.BasicConnMgr
	persistent map[peer.ID]*dialer // fixed at construction
	closing    atomic.Bool
	scoresCh   chan struct{} // capacity 1: new scores to check for graylisted peers

	// mu guards reasons and wrapped.
	mu      sync.Mutex
	reasons map[peer.ID]string            // why we are closing a peer, taken by Disconnected
	wrapped map[network.Conn]*trackedConn // connection manager's view of each conn
}

var (
	_ connmgr.ConnectionGater = (*connTracker)(nil)
	_ network.Notifiee        = (*connTracker)(nil)
)

// newConnTracker prepares the tracker; attach completes it once the host exists.
func newConnTracker(h *Host, persistent []peer.AddrInfo) *connTracker {
	t := &connTracker{
		h:          h,
		persistent: make(map[peer.ID]*dialer, len(persistent)),
		scoresCh:   make(chan struct{}, 1),
		reasons:    map[peer.ID]string{},
		wrapped:    map[network.Conn]*trackedConn{},
	}
	for _, ai := range persistent {
		t.persistent[ai.ID] = &dialer{info: ai, lost: make(chan struct{}, 1)}
	}
	return t
}

// attach registers the notifiee and protects persistent peers from trimming.
func (t *connTracker) attach(lh host.Host) {
	t.lh = lh
	lh.Network().Notify(t)
	for id := range t.persistent {
		lh.ConnManager().Protect(id, "persistent")
	}
}

// setClosing makes later disconnects log as shutdown.
func (t *connTracker) setClosing() { t.closing.Store(true) }

// setReason records why we are about to close p.
func (t *connTracker) setReason(p peer.ID, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.reasons) < maxDropReasons {
		t.reasons[p] = reason
	}
}

// takeReason returns and forgets why p was closed, or reasonRemote.
func (t *connTracker) takeReason(p peer.ID) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.reasons[p]
	if !ok {
		return reasonRemote
	}
	delete(t.reasons, p)
	return r
}

// graylisted reports whether p's gossip score is below GraylistThreshold.
func (t *connTracker) graylisted(p peer.ID) bool {
	return t.h.score(p) < GraylistThreshold
}

// InterceptPeerDial refuses to dial graylisted peers.
func (t *connTracker) InterceptPeerDial(p peer.ID) bool { return !t.graylisted(p) }

// InterceptAddrDial allows every address.
func (t *connTracker) InterceptAddrDial(peer.ID, ma.Multiaddr) bool { return true }

// InterceptAccept allows every incoming connection until its peer is known.
func (t *connTracker) InterceptAccept(network.ConnMultiaddrs) bool { return true }

// InterceptSecured refuses graylisted peers, and inbound peers beyond MaxPeers unless
// they are persistent peers or caretakers.
func (t *connTracker) InterceptSecured(dir network.Direction, p peer.ID, addrs network.ConnMultiaddrs) bool {
	if t.graylisted(p) {
		t.h.log.Debug("connection refused", "peer", p, "addr", addrs.RemoteMultiaddr(), "reason", "gossip score below graylist")
		return false
	}
	if dir != network.DirInbound || t.privileged(p) || t.lh.Network().Connectedness(p) == network.Connected {
		return true
	}
	if n := len(t.lh.Network().Peers()); n >= t.h.cfg.MaxPeers {
		t.h.log.Debug("connection refused", "peer", p, "addr", addrs.RemoteMultiaddr(), "reason", fmt.Sprintf("%d peers, MaxPeers %d", n, t.h.cfg.MaxPeers))
		return false
	}
	return true
}

// InterceptUpgraded allows every upgraded connection.
func (t *connTracker) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) {
	return true, 0
}

// privileged reports whether p is a persistent peer or a caretaker.
func (t *connTracker) privileged(p peer.ID) bool {
	_, ok := t.persistent[p]
	return ok || t.h.IsCaretaker(p)
}

// Listen is part of network.Notifiee.
func (t *connTracker) Listen(network.Network, ma.Multiaddr) {}

// ListenClose is part of network.Notifiee.
func (t *connTracker) ListenClose(network.Network, ma.Multiaddr) {}

// Connected logs a new peer and schedules a status push to it.
func (t *connTracker) Connected(n network.Network, c network.Conn) {
	p := c.RemotePeer()
	if len(n.ConnsToPeer(p)) > 1 {
		return
	}
	t.h.log.Info("peer connected", "peer", p, "addr", c.RemoteMultiaddr(), "direction", direction(c))
}

// Disconnected logs a lost peer with the reason when known and wakes its dialer.
func (t *connTracker) Disconnected(n network.Network, c network.Conn) {
	p := c.RemotePeer()
	if n.Connectedness(p) == network.Connected {
		return
	}
	reason := t.takeReason(p)
	if t.closing.Load() {
		reason = reasonShutdown
	}
	t.h.log.Info("peer disconnected", "peer", p, "addr", c.RemoteMultiaddr(), "reason", reason)
	t.h.status.forget(p)
	if d, ok := t.persistent[p]; ok {
		select {
		case d.lost <- struct{}{}:
		default:
		}
	}
}

// scoresUpdated wakes dropGraylisted; it never blocks (called from gossipsub).
func (t *connTracker) scoresUpdated() {
	select {
	case t.scoresCh <- struct{}{}:
	default:
	}
}

// dropGraylisted closes connections to peers whose score fell below GraylistThreshold,
// until the host closes.
func (t *connTracker) dropGraylisted() {
	for {
		select {
		case <-t.h.ctx.Done():
			return
		case <-t.scoresCh:
		}
		for _, p := range t.lh.Network().Peers() {
			if s := t.h.score(p); s < GraylistThreshold {
				t.setReason(p, fmt.Sprintf("gossip score %.1f below graylist threshold %.0f", s, GraylistThreshold))
				_ = t.lh.Network().ClosePeer(p)
			}
		}
	}
}

// direction names a connection's direction.
func direction(c network.Conn) string {
	switch c.Stat().Direction {
	case network.DirInbound:
		return "inbound"
	case network.DirOutbound:
		return "outbound"
	}
	return "unknown"
}
