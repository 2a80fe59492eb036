package p2p

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	yamux "github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	noise "github.com/libp2p/go-libp2p/p2p/security/noise"
	tls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	tcp "github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// Config configures a Host. It is plain data; each field states what its zero value means.
type Config struct {
	// ChainID names topics and protocols: /ipdb/<chain>/<name>/<version>. Required.
	ChainID string
	// Key is the libp2p identity (Ed25519). Required.
	Key crypto.PrivKey
	// ListenAddrs are multiaddrs such as /ip4/127.0.0.1/tcp/26656 and
	// /ip4/127.0.0.1/udp/26656/quic-v1; port 0 picks a free port. Empty = no listening.
	ListenAddrs []string
	// Peers are persistent peers as full multiaddrs with /p2p/<id>; dialled at start and
	// re-dialled with exponential backoff (redialMin..redialMax) whenever lost.
	Peers []string
	// Logger receives connection and rejection logs; nil = discard.
	Logger *slog.Logger
	// MaxPeers bounds connected peers (persistent peers and caretakers are admitted
	// beyond it); 0 = DefaultMaxPeers.
	MaxPeers int
	// MaxMessageBytes is the gossip message cap for every topic (gossipsub's global
	// limit, so the same on all nodes); no topic's MaxBytes may exceed it.
	// 0 = DefaultMaxMessageBytes; at most MaxMessageBytesCap.
	MaxMessageBytes int
}

// Host is a libp2p host with gossipsub topics, request/response streams and a status
// protocol. Its methods are safe for concurrent use. Close stops everything New started.
type Host struct {
	cfg   Config
	log   *slog.Logger
	host  host.Host
	ps    *pubsub.PubSub
	conns *connTracker
	// ctx is cancelled by Close; every goroutine the Host owns watches it.
	ctx    context.Context
	cancel context.CancelFunc

	// mu guards closed and topics, serialises SetCaretakers, and makes wg.Add
	// impossible after Close.
	mu     sync.Mutex
	closed bool
	topics map[string]*Topic
	// traffic maps a joined topic's versioned name to its counters, for
	// the tracer to find without h.mu: the tracer runs on gossipsub's
	// event loop, which Join waits on while it holds h.mu.
	traffic sync.Map
	wg      sync.WaitGroup

	caretakers atomic.Pointer[map[peer.ID]struct{}] // replaced whole by SetCaretakers
	scores     atomic.Pointer[map[peer.ID]float64]  // replaced whole by the score inspector
	status     *statusState
}

// New starts a host: it listens on cfg.ListenAddrs before it returns, starts gossipsub,
// the status protocol and the persistent-peer dialers. ctx bounds only the start-up;
// Close stops the host. Errors wrap ErrConfig for bad configuration.
func New(ctx context.Context, cfg Config) (*Host, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	persistent, err := parsePeers(cfg.Peers)
	if err != nil {
		return nil, err
	}
	h := &Host{cfg: cfg, log: cfg.Logger, topics: map[string]*Topic{}}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.caretakers.Store(&map[peer.ID]struct{}{})
	h.scores.Store(&map[peer.ID]float64{})
	if err := h.start(ctx, persistent); err != nil {
		h.cancel()
		if h.host != nil {
			_ = h.host.Close()
		}
		return nil, err
	}
	return h, nil
}

// start builds the libp2p host, gossipsub and the background goroutines.
func (h *Host) start(ctx context.Context, persistent []peer.AddrInfo) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start host: %w", err)
	}
	h.conns = newConnTracker(h, persistent)
	h.status = newStatusState(h) // before the host: notifications may come at once
	lh, err := h.newLibp2p()
	if err != nil {
		return err
	}
	h.host = lh
	h.conns.attach(lh)
	ps, err := h.newPubSub()
	if err != nil {
		return err
	}
	h.ps = ps
	h.status.start()
	h.startMesh()
	h.startDialers(persistent)
	h.goTracked(h.conns.dropGraylisted)
	return nil
}

// newLibp2p builds the libp2p host: TCP and QUIC, Noise and TLS, yamux, explicit peers only.
func (h *Host) newLibp2p() (host.Host, error) {
	low := max(1, h.cfg.MaxPeers*3/4)
	cm, err := connmgr.NewConnManager(low, h.cfg.MaxPeers, connmgr.WithGracePeriod(connGracePeriod))
	if err != nil {
		return nil, fmt.Errorf("connection manager: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(h.cfg.Key),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(tls.ID, tls.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ConnectionManager(h.conns.wrapConnManager(cm)),
		libp2p.ConnectionGater(h.conns),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
	}
	if len(h.cfg.ListenAddrs) == 0 {
		opts = append(opts, libp2p.NoListenAddrs)
	} else {
		opts = append(opts, libp2p.ListenAddrStrings(h.cfg.ListenAddrs...))
	}
	lh, err := libp2p.New(opts...)
	if err != nil {
		_ = cm.Close()
		return nil, fmt.Errorf("libp2p host: %w", err)
	}
	return lh, nil
}

// normalize applies defaults and checks bounds.
func (c *Config) normalize() error {
	if c.ChainID == "" || len(c.ChainID) > maxChainIDBytes {
		return fmt.Errorf("%w: ChainID must have 1..%d bytes, got %d", ErrConfig, maxChainIDBytes, len(c.ChainID))
	}
	if c.Key == nil {
		return fmt.Errorf("%w: Key is required", ErrConfig)
	}
	if len(c.ListenAddrs) > maxListenAddrs || len(c.Peers) > maxPersistentPeers {
		return fmt.Errorf("%w: at most %d listen addrs and %d peers", ErrConfig, maxListenAddrs, maxPersistentPeers)
	}
	if c.MaxPeers < 0 || c.MaxMessageBytes < 0 || c.MaxMessageBytes > MaxMessageBytesCap {
		return fmt.Errorf("%w: MaxPeers %d, MaxMessageBytes %d (max %d)", ErrConfig, c.MaxPeers, c.MaxMessageBytes, MaxMessageBytesCap)
	}
	if c.MaxPeers == 0 {
		c.MaxPeers = DefaultMaxPeers
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// parsePeers parses full multiaddrs with /p2p/<id>.
func parsePeers(addrs []string) ([]peer.AddrInfo, error) {
	var out []peer.AddrInfo
	index := map[peer.ID]int{}
	for _, s := range addrs {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: peer %q: %w", ErrConfig, s, err)
		}
		ai, err := peer.AddrInfoFromP2pAddr(m)
		if err != nil {
			return nil, fmt.Errorf("%w: peer %q: %w", ErrConfig, s, err)
		}
		if i, ok := index[ai.ID]; ok {
			out[i].Addrs = append(out[i].Addrs, ai.Addrs...)
			continue
		}
		index[ai.ID] = len(out)
		out = append(out, *ai)
	}
	return out, nil
}

// ID returns the host's peer ID. Safe for concurrent use.
func (h *Host) ID() peer.ID { return h.host.ID() }

// Addrs returns the listen addresses as full multiaddrs including /p2p/<id>. The caller
// owns the slice. Safe for concurrent use.
func (h *Host) Addrs() []string {
	suffix := "/p2p/" + h.host.ID().String()
	var out []string
	for _, a := range h.host.Network().ListenAddresses() {
		out = append(out, a.String()+suffix)
	}
	return out
}

// Close stops the dialers, topic handlers, status pushes and request handlers, waits for
// them, and closes the libp2p host. Later calls return nil.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	topics := h.topics
	h.mu.Unlock()
	h.conns.setClosing()
	h.cancel()
	for _, t := range topics {
		t.close()
	}
	h.wg.Wait()
	if err := h.host.Close(); err != nil {
		return fmt.Errorf("close libp2p host: %w", err)
	}
	return nil
}

// goTracked runs fn in a goroutine that Close waits for; fn must return once h.ctx is
// done. It returns false (and does not run fn) after Close.
func (h *Host) goTracked(fn func()) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		fn()
	}()
	return true
}

// protocolName is /ipdb/<chain>/<name>/1, used for stream protocols and topics of
// version 1.
func (h *Host) protocolName(name string) string { return h.versionedName(name, 1) }

// versionedName is /ipdb/<chain>/<name>/<version>.
func (h *Host) versionedName(name string, version int) string {
	return "/ipdb/" + h.cfg.ChainID + "/" + name + "/" + strconv.Itoa(version)
}

// enter registers a unit of work Close must wait for; false after Close. Pair with leave.
func (h *Host) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(1)
	return true
}

// leave ends a unit of work registered by enter.
func (h *Host) leave() { h.wg.Done() }

// resetOnClose resets s when the host closes, so no stream outlives Close; call the
// returned func when done with s.
func (h *Host) resetOnClose(s network.Stream) func() bool {
	return context.AfterFunc(h.ctx, func() { _ = s.Reset() })
}
