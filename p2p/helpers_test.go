package p2p

import (
	"bytes"
	"crypto/rand"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// waitTimeout bounds every wait on the loopback network; generous for a loaded 2-core box.
const waitTimeout = 15 * time.Second

var (
	tcpLoopback  = []string{"/ip4/127.0.0.1/tcp/0"}
	quicLoopback = []string{"/ip4/127.0.0.1/udp/0/quic-v1"}
)

// logBuffer collects a host's log output and copies it to the test output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	out io.Writer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if l.out == nil {
		return len(p), nil
	}
	return l.out.Write(p)
}

// detach stops copying to the test output (which must not be written after the test).
func (l *logBuffer) detach() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.out = nil
}

func (l *logBuffer) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.buf.String(), s)
}

func newKey(t testing.TB) crypto.PrivKey {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatalf("GenerateEd25519Key()=%v", err)
	}
	return k
}

// testConfig returns a config listening on TCP loopback with a fresh key.
func testConfig(t testing.TB, peers ...*Host) Config {
	t.Helper()
	cfg := Config{ChainID: "test", Key: newKey(t), ListenAddrs: tcpLoopback}
	for _, p := range peers {
		cfg.Peers = append(cfg.Peers, p.Addrs()...)
	}
	return cfg
}

// startHost starts a host whose logs go to the test output (and the returned buffer)
// and which is closed at cleanup.
func startHost(t testing.TB, cfg Config) (*Host, *logBuffer) {
	t.Helper()
	logs := &logBuffer{out: t.Output()}
	t.Cleanup(logs.detach) // runs after Close below
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New()=%v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h, logs
}

// startNet starts n hosts, each with all earlier ones as persistent peers, and waits
// until all are connected to each other.
func startNet(t testing.TB, n int) []*Host {
	t.Helper()
	var hosts []*Host
	for range n {
		h, _ := startHost(t, testConfig(t, hosts...))
		hosts = append(hosts, h)
	}
	for _, h := range hosts {
		waitFor(t, "full mesh", func() bool { return len(h.Peers()) == n-1 })
	}
	return hosts
}

// waitFor polls cond until it holds or waitTimeout passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		<-tick.C
	}
}

// waitTopicPeers waits until the topic on h sees n subscribed peers.
func waitTopicPeers(t testing.TB, tp *Topic, n int) {
	t.Helper()
	waitFor(t, "topic peers", func() bool { return len(tp.Peers()) >= n })
}

// peerInfo returns h's view of p.
func peerInfo(h *Host, p peer.ID) (PeerInfo, bool) {
	ps := h.Peers()
	i := slices.IndexFunc(ps, func(pi PeerInfo) bool { return pi.ID == p })
	if i < 0 {
		return PeerInfo{}, false
	}
	return ps[i], true
}

// inbox records messages delivered to a topic handler.
type inbox struct {
	ch chan delivery
}

type delivery struct {
	from peer.ID
	data string
}

func newInbox() *inbox { return &inbox{ch: make(chan delivery, 1024)} }

func (b *inbox) handle(from peer.ID, data []byte) { b.ch <- delivery{from, string(data)} }

// next returns the next delivery or fails after waitTimeout.
func (b *inbox) next(t testing.TB) delivery {
	t.Helper()
	select {
	case d := <-b.ch:
		return d
	case <-time.After(waitTimeout):
		t.Fatalf("no delivery within %v", waitTimeout)
		return delivery{}
	}
}

// empty reports whether nothing is queued.
func (b *inbox) empty() bool { return len(b.ch) == 0 }
