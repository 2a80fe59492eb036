package p2p

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// dialer keeps one persistent peer connected.
type dialer struct {
	info peer.AddrInfo
	lost chan struct{} // capacity 1: signalled by Disconnected
}

// startDialers starts one redial goroutine per persistent peer.
func (h *Host) startDialers(persistent []peer.AddrInfo) {
	for _, ai := range persistent {
		if ai.ID == h.host.ID() {
			continue
		}
		d := h.conns.persistent[ai.ID]
		h.goTracked(func() { h.keepConnected(d) })
	}
}

// keepConnected dials d's peer until the host closes: immediately at start, and after
// each loss with exponential backoff from redialMin to redialMax. A connection that
// lasted redialMax resets the backoff; a flapping one keeps it growing.
func (h *Host) keepConnected(d *dialer) {
	backoff := redialMin
	for {
		if h.host.Network().Connectedness(d.info.ID) == network.Connected {
			since := time.Now()
			if !h.waitLost(d) {
				return
			}
			if time.Since(since) >= redialMax {
				backoff = redialMin
			} else if backoff = h.backoff(backoff); backoff == 0 {
				return
			}
			continue
		}
		err := h.dial(d.info)
		if err == nil {
			continue
		}
		h.log.Debug("dial persistent peer failed", "peer", d.info.ID, "retry_in", backoff, "err", err)
		if backoff = h.backoff(backoff); backoff == 0 {
			return
		}
	}
}

// waitLost waits until d's peer is lost (true) or the host closes (false).
func (h *Host) waitLost(d *dialer) bool {
	select {
	case <-h.ctx.Done():
		return false
	case <-d.lost:
		return true
	}
}

// backoff sleeps cur and returns the next backoff, or 0 if the host closed meanwhile.
func (h *Host) backoff(cur time.Duration) time.Duration {
	if !h.sleep(cur) {
		return 0
	}
	return min(2*cur, redialMax)
}

// dial connects to ai once, bypassing the swarm's own dial backoff (we run our own).
func (h *Host) dial(ai peer.AddrInfo) error {
	ctx, cancel := context.WithTimeout(h.ctx, dialTimeout)
	defer cancel()
	ctx = network.WithForceDirectDial(ctx, "persistent peer")
	return h.host.Connect(ctx, ai)
}

// sleep waits d or until the host closes; it reports whether the host is still open.
func (h *Host) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-h.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
