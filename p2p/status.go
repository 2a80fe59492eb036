package p2p

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// statusName is the reserved protocol name of the status protocol: a stream carrying one
// frame with our height as a uvarint, pushed on connect and on every height change.
const statusName = "status"

// maxStatusAttempts bounds pushes to a peer that fails them (e.g. it does not speak the
// status protocol yet or at all); a later height change tries again.
const maxStatusAttempts = 5

// statusState announces our height and records our peers'.
type statusState struct {
	h       *Host
	proto   protocol.ID
	our     atomic.Uint64
	wake    chan struct{} // capacity 1: some peer needs our height
	changed chan struct{} // capacity 1: some peer announced a height

	// mu guards heights, dirty and attempts.
	mu       sync.Mutex
	heights  map[peer.ID]uint64
	dirty    map[peer.ID]struct{}
	attempts map[peer.ID]int
}

// newStatusState prepares the status protocol; start runs it.
func newStatusState(h *Host) *statusState {
	return &statusState{
		h:        h,
		proto:    protocol.ID(h.protocolName(statusName)),
		wake:     make(chan struct{}, 1),
		changed:  make(chan struct{}, 1),
		heights:  map[peer.ID]uint64{},
		dirty:    map[peer.ID]struct{}{},
		attempts: map[peer.ID]int{},
	}
}

// start registers the handler, marks already-connected peers and starts the pusher.
func (s *statusState) start() {
	s.h.host.SetStreamHandler(s.proto, s.receive)
	s.h.host.Network().Notify(&network.NotifyBundle{
		ConnectedF: func(_ network.Network, c network.Conn) { s.markPeers(c.RemotePeer()) },
	})
	s.markPeers(s.h.host.Network().Peers()...)
	s.h.goTracked(s.pushLoop)
}

// markPeers schedules a push of our height to ps.
func (s *statusState) markPeers(ps ...peer.ID) {
	s.mu.Lock()
	for _, p := range ps {
		s.dirty[p] = struct{}{}
		delete(s.attempts, p)
	}
	s.mu.Unlock()
	signal(s.wake)
}

// forget drops what we know of a disconnected peer.
func (s *statusState) forget(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.heights, p)
	delete(s.dirty, p)
	delete(s.attempts, p)
}

// signal sends on a capacity-1 channel without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// SetHeight sets our chain height; peers learn it within about statusInterval.
// Safe for concurrent use.
func (h *Host) SetHeight(height uint64) {
	if h.status.our.Swap(height) == height {
		return
	}
	h.status.markPeers(h.host.Network().Peers()...)
}

// HeightChanged returns a channel (capacity 1) signalled without blocking each time a
// peer announces a height; read Peers for the heights. Safe for concurrent use.
func (h *Host) HeightChanged() <-chan struct{} { return h.status.changed }

// pushLoop pushes our height to marked peers, one round per statusInterval at most.
func (s *statusState) pushLoop() {
	for {
		select {
		case <-s.h.ctx.Done():
			return
		case <-s.wake:
		}
		s.pushRound(s.takeDirty())
		if !s.h.sleep(statusInterval) {
			return
		}
	}
}

// takeDirty returns and clears the peers to push to.
func (s *statusState) takeDirty() []peer.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]peer.ID, 0, len(s.dirty))
	for p := range s.dirty {
		out = append(out, p)
	}
	clear(s.dirty)
	return out
}

// pushRound pushes our height to ps, at most maxStatusSends at a time, and waits.
func (s *statusState) pushRound(ps []peer.ID) {
	height := s.our.Load()
	sem := make(chan struct{}, maxStatusSends)
	var wg sync.WaitGroup
	for _, p := range ps {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.push(p, height); err != nil {
				s.retry(p, err)
			}
		})
	}
	wg.Wait()
}

// push sends height to p on a new status stream.
func (s *statusState) push(p peer.ID, height uint64) error {
	ctx, cancel := context.WithTimeout(s.h.ctx, statusTimeout)
	defer cancel()
	st, err := s.h.host.NewStream(network.WithNoDial(ctx, "status"), p, s.proto)
	if err != nil {
		return fmt.Errorf("open status stream: %w", err)
	}
	defer s.h.resetOnClose(st)()
	_ = st.SetDeadline(time.Now().Add(statusTimeout))
	if err := writeFrame(st, binary.AppendUvarint(nil, height)); err != nil {
		_ = st.Reset()
		return err
	}
	return st.Close()
}

// retry marks p again after a failed push, up to maxStatusAttempts while connected.
func (s *statusState) retry(p peer.ID, err error) {
	if s.h.host.Network().Connectedness(p) != network.Connected {
		return
	}
	s.mu.Lock()
	s.attempts[p]++
	again := s.attempts[p] < maxStatusAttempts
	if again {
		s.dirty[p] = struct{}{}
	}
	s.mu.Unlock()
	s.h.log.Debug("status push failed", "peer", p, "retry", again, "err", err)
	if again {
		signal(s.wake)
	}
}

// receive reads a peer's status frame.
func (s *statusState) receive(st network.Stream) {
	if !s.h.enter() {
		_ = st.Reset()
		return
	}
	defer s.h.leave()
	defer s.h.resetOnClose(st)()
	defer st.Close()
	_ = st.SetDeadline(time.Now().Add(statusTimeout))
	p := st.Conn().RemotePeer()
	height, err := decodeStatus(bufio.NewReader(st))
	if err != nil {
		s.h.log.Debug("bad status", "peer", p, "err", err)
		_ = st.Reset()
		return
	}
	if s.h.host.Network().Connectedness(p) != network.Connected {
		return // forget has run or will not run for it
	}
	s.mu.Lock()
	s.heights[p] = height
	s.mu.Unlock()
	signal(s.changed)
}

// decodeStatus reads one status frame: exactly one uvarint.
func decodeStatus(r byteReader) (uint64, error) {
	frame, err := readFrame(r, maxStatusBytes)
	if err != nil {
		return 0, err
	}
	height, n := binary.Uvarint(frame)
	if n <= 0 || n != len(frame) {
		return 0, fmt.Errorf("%w: status is not one uvarint", ErrBadFrame)
	}
	return height, nil
}

// PeerInfo describes a connected peer.
type PeerInfo struct {
	ID        peer.ID
	Addr      string  // remote multiaddr of the first connection
	Caretaker bool    // in the SetCaretakers allow-list
	Height    uint64  // last height the peer announced (0 if none yet)
	Score     float64 // gossipsub score, at most scoreInspectPeriod old
	Direction string  // "inbound" / "outbound" (of the first connection)
}

// Peers returns the connected peers sorted by ID; the caller owns the slice.
// Safe for concurrent use.
func (h *Host) Peers() []PeerInfo {
	nw := h.host.Network()
	var out []PeerInfo
	for _, p := range nw.Peers() {
		conns := nw.ConnsToPeer(p)
		if len(conns) == 0 {
			continue
		}
		out = append(out, PeerInfo{
			ID:        p,
			Addr:      conns[0].RemoteMultiaddr().String(),
			Caretaker: h.IsCaretaker(p),
			Height:    h.status.height(p),
			Score:     h.score(p),
			Direction: direction(conns[0]),
		})
	}
	slices.SortFunc(out, func(a, b PeerInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// UnconnectedCaretakers returns the caretakers of the allow-list (SetCaretakers), other
// than this host, that it has no connection to, sorted. Caretakers do not relay one
// another's transaction batches, so each should be connected to every other. Safe for
// concurrent use.
func (h *Host) UnconnectedCaretakers() []peer.ID {
	nw := h.host.Network()
	var out []peer.ID
	for p := range *h.caretakers.Load() {
		if p != h.host.ID() && nw.Connectedness(p) != network.Connected {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// height returns p's last announced height.
func (s *statusState) height(p peer.ID) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heights[p]
}
