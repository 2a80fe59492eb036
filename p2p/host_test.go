package p2p

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

func TestNewConfigErrors(t *testing.T) {
	key := newKey(t)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no chain", Config{Key: key}},
		{"long chain", Config{ChainID: strings.Repeat("c", maxChainIDBytes+1), Key: key}},
		{"no key", Config{ChainID: "c"}},
		{"negative max peers", Config{ChainID: "c", Key: key, MaxPeers: -1}},
		{"message cap too big", Config{ChainID: "c", Key: key, MaxMessageBytes: MaxMessageBytesCap + 1}},
		{"peer without id", Config{ChainID: "c", Key: key, Peers: []string{"/ip4/127.0.0.1/tcp/1"}}},
		{"peer not a multiaddr", Config{ChainID: "c", Key: key, Peers: []string{"localhost:1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(t.Context(), tt.cfg)
			if !errors.Is(err, ErrConfig) {
				if h != nil {
					_ = h.Close()
				}
				t.Fatalf("New()=%v, want %v", err, ErrConfig)
			}
		})
	}
}

func TestAddrs(t *testing.T) {
	h, _ := startHost(t, testConfig(t))
	addrs := h.Addrs()
	if len(addrs) != 1 || !strings.HasPrefix(addrs[0], "/ip4/127.0.0.1/tcp/") || !strings.HasSuffix(addrs[0], "/p2p/"+h.ID().String()) {
		t.Fatalf("Addrs()=%v, want one /ip4/127.0.0.1/tcp/<port>/p2p/%s", addrs, h.ID())
	}
	if err := h.Close(); err != nil {
		t.Fatalf("Close()=%v, want nil", err)
	}
	if err := h.Close(); err != nil {
		t.Fatalf("second Close()=%v, want nil", err)
	}
}

func TestQUICOnly(t *testing.T) {
	cfgA := testConfig(t)
	cfgA.ListenAddrs = quicLoopback
	a, _ := startHost(t, cfgA)
	cfgB := testConfig(t, a)
	cfgB.ListenAddrs = quicLoopback
	b, _ := startHost(t, cfgB)
	a.Handle("echo", 16, func(_ context.Context, _ peer.ID, req []byte) ([]byte, error) { return req, nil })
	waitFor(t, "QUIC connection", func() bool { return len(a.Peers()) == 1 })
	got, err := b.Request(t.Context(), a.ID(), "echo", []byte("quic"), 16)
	if err != nil || string(got) != "quic" {
		t.Fatalf("Request()=%q, %v, want %q, nil", got, err, "quic")
	}
	pi, _ := peerInfo(b, a.ID())
	if !strings.Contains(pi.Addr, "/quic-v1") || pi.Direction != "outbound" {
		t.Fatalf("Peers()=%+v, want an outbound quic-v1 connection", pi)
	}
	if pi, _ := peerInfo(a, b.ID()); pi.Direction != "inbound" {
		t.Fatalf("Peers() at listener = %+v, want inbound", pi)
	}
}

func TestPersistentPeerRedialled(t *testing.T) {
	cfgB := testConfig(t)
	b, _ := startHost(t, cfgB)
	a, _ := startHost(t, testConfig(t, b))
	waitFor(t, "first connection", func() bool { _, ok := peerInfo(a, b.ID()); return ok })
	addr := strings.TrimSuffix(b.Addrs()[0], "/p2p/"+b.ID().String())
	if err := b.Close(); err != nil {
		t.Fatalf("Close()=%v, want nil", err)
	}
	waitFor(t, "disconnect", func() bool { _, ok := peerInfo(a, b.ID()); return !ok })
	cfgB.ListenAddrs = []string{addr} // same key, same port
	b2, _ := startHost(t, cfgB)
	waitFor(t, "redial after restart", func() bool { _, ok := peerInfo(a, b2.ID()); return ok })
	if pi, _ := peerInfo(a, b2.ID()); pi.Direction != "outbound" {
		t.Fatalf("Peers()=%+v, want the redialled connection outbound", pi)
	}
}

func TestSetHeightReachesPeers(t *testing.T) {
	hosts := startNet(t, 3)
	for _, height := range []uint64{7, 1 << 40, 0} {
		hosts[0].SetHeight(height)
		for _, h := range hosts[1:] {
			waitHeight(t, h, hosts[0].ID(), height)
		}
	}
	// A peer connecting later learns the current height on connect.
	hosts[1].SetHeight(99)
	late, _ := startHost(t, testConfig(t, hosts[1]))
	waitHeight(t, late, hosts[1].ID(), 99)
}

// waitHeight waits on h.HeightChanged until h sees p at height.
func waitHeight(t *testing.T, h *Host, p peer.ID, height uint64) {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		if pi, ok := peerInfo(h, p); ok && pi.Height == height {
			return
		}
		select {
		case <-h.HeightChanged():
		case <-timeout:
			pi, _ := peerInfo(h, p)
			t.Fatalf("peer height = %d, want %d", pi.Height, height)
		}
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	hosts := startNet(t, 3)
	topics, inboxes := joinAll(t, hosts, TopicConfig{Name: "txs", MaxBytes: 64})
	waitTopicPeers(t, topics[0], 2)
	if err := topics[0].Publish(t.Context(), []byte("x")); err != nil {
		t.Fatalf("Publish()=%v, want nil", err)
	}
	inboxes[1].next(t)
	hosts[0].Handle("echo", 8, func(_ context.Context, _ peer.ID, r []byte) ([]byte, error) { return r, nil })
	if _, err := hosts[1].Request(t.Context(), hosts[0].ID(), "echo", []byte("x"), 8); err != nil {
		t.Fatalf("Request()=%v, want nil", err)
	}
	hosts[2].SetHeight(5)
	for _, h := range hosts {
		if err := h.Close(); err != nil {
			t.Fatalf("Close()=%v, want nil", err)
		}
	}
	// Earlier tests closed their hosts too, so no host goroutine may remain in the process.
	// Close waits for ours; libp2p's and gossipsub's end shortly after it returns.
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for leaked := hostGoroutines(); len(leaked) > 0; leaked = hostGoroutines() {
		if time.Now().After(deadline) {
			t.Fatalf("%d host goroutines left after Close, first:\n%s", len(leaked), leaked[0])
		}
		<-tick.C
	}
}

// hostGoroutines returns the stacks of goroutines running libp2p, quic-go or this
// package's (non-test) code.
func hostGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "testing.tRunner") {
			continue
		}
		if strings.Contains(g, "libp2p") || strings.Contains(g, "quic-go") || strings.Contains(g, "ipdb-node/p2p.") {
			out = append(out, g)
		}
	}
	return out
}

func TestMaxPeersRefusesInbound(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxPeers = 1
	hub, logs := startHost(t, cfg)
	first, _ := startHost(t, testConfig(t, hub))
	waitFor(t, "first peer", func() bool { _, ok := peerInfo(hub, first.ID()); return ok })
	second, _ := startHost(t, testConfig(t, hub))
	waitFor(t, "refusal log", func() bool { return logs.contains("MaxPeers 1") })
	if _, ok := peerInfo(hub, second.ID()); ok {
		t.Fatalf("Peers() lists %s beyond MaxPeers 1", second.ID())
	}
	// A caretaker is admitted beyond MaxPeers.
	third, _ := startHost(t, testConfig(t))
	hub.SetCaretakers([]peer.ID{third.ID()})
	if err := third.host.Connect(t.Context(), peer.AddrInfo{ID: hub.ID(), Addrs: hub.host.Addrs()}); err != nil {
		t.Fatalf("Connect(caretaker)=%v, want nil", err)
	}
	waitFor(t, "caretaker admitted", func() bool { _, ok := peerInfo(hub, third.ID()); return ok })
}

// TestUnconnectedCaretakers: the caretakers a host has no connection to
// are listed, itself and connected ones not, and one that connects leaves
// the list.
func TestUnconnectedCaretakers(t *testing.T) {
	hosts := startNet(t, 2)
	late, _ := startHost(t, testConfig(t))
	absent, err := peer.IDFromPrivateKey(newKey(t))
	if err != nil {
		t.Fatalf("IDFromPrivateKey()=%v", err)
	}
	h := hosts[0]
	h.SetCaretakers([]peer.ID{h.ID(), hosts[1].ID(), late.ID(), absent})
	want := []peer.ID{late.ID(), absent}
	slices.Sort(want)
	if got := h.UnconnectedCaretakers(); !slices.Equal(got, want) {
		t.Fatalf("UnconnectedCaretakers()=%v, want %v", got, want)
	}
	if err := late.dial(peer.AddrInfo{ID: h.ID(), Addrs: h.host.Addrs()}); err != nil {
		t.Fatalf("dial()=%v", err)
	}
	waitFor(t, "the late caretaker to leave the list", func() bool {
		return slices.Equal(h.UnconnectedCaretakers(), []peer.ID{absent})
	})
}
