package p2p

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

func TestTopicDeliversToAll(t *testing.T) {
	hosts := startNet(t, 4)
	topics, inboxes := joinAll(t, hosts, TopicConfig{Name: "txs", MaxBytes: 1024})
	for _, tp := range topics {
		waitTopicPeers(t, tp, len(hosts)-1)
	}
	for from := range hosts {
		msg := fmt.Sprintf("hello from %d", from)
		if err := topics[from].Publish(t.Context(), []byte(msg)); err != nil {
			t.Fatalf("Publish()=%v, want nil", err)
		}
		for i, in := range inboxes {
			if i == from {
				continue
			}
			if got := in.next(t); got.data != msg || got.from != hosts[from].ID() {
				t.Fatalf("host %d got %q from %s, want %q from %s", i, got.data, got.from, msg, hosts[from].ID())
			}
		}
	}
	for i, in := range inboxes {
		if !in.empty() {
			t.Fatalf("host %d has extra deliveries (own message delivered?)", i)
		}
	}
}

// joinAll joins tc on every host, each with its own inbox.
func joinAll(t *testing.T, hosts []*Host, tc TopicConfig) ([]*Topic, []*inbox) {
	t.Helper()
	var topics []*Topic
	var inboxes []*inbox
	for _, h := range hosts {
		in := newInbox()
		c := tc
		c.Handle = in.handle
		tp, err := h.Join(c)
		if err != nil {
			t.Fatalf("Join()=%v, want nil", err)
		}
		topics, inboxes = append(topics, tp), append(inboxes, in)
	}
	return topics, inboxes
}

func TestCaretakersOnlyRejectsNonCaretaker(t *testing.T) {
	hosts := startNet(t, 3)
	good, other, bad := hosts[0], hosts[1], hosts[2]
	caretakers := []peer.ID{good.ID(), other.ID()}
	good.SetCaretakers(caretakers)
	other.SetCaretakers(caretakers)
	bad.SetCaretakers(append(caretakers, bad.ID())) // bad believes it is a caretaker
	var validated atomic.Int32
	tc := TopicConfig{Name: "votes", MaxBytes: 1024, CaretakersOnly: true,
		Validate: func(_ context.Context, from peer.ID, _ []byte) Verdict {
			if from == bad.ID() {
				validated.Add(1)
			}
			return Accept
		}}
	topics, inboxes := joinAll(t, hosts, tc)
	waitTopicPeers(t, topics[2], 2)
	if err := topics[2].Publish(t.Context(), []byte("forged vote")); err != nil {
		t.Fatalf("Publish()=%v, want nil", err)
	}
	waitFor(t, "bad peer's score below 0", func() bool {
		pi, ok := peerInfo(good, bad.ID())
		return ok && pi.Score < 0
	})
	if err := topics[0].Publish(t.Context(), []byte("real vote")); err != nil {
		t.Fatalf("Publish()=%v, want nil", err)
	}
	if got := inboxes[1].next(t); got.data != "real vote" {
		t.Fatalf("caretaker got %q, want %q", got.data, "real vote")
	}
	if n := validated.Load(); n != 1 { // only bad's own local publish ran the validator
		t.Fatalf("validator ran %d times on bad's message, want 1 (its own publish)", n)
	}
	if pi, _ := peerInfo(good, other.ID()); !pi.Caretaker {
		t.Fatalf("Peers() caretaker flag for %s = false, want true", other.ID())
	}
}

func TestGossipRejections(t *testing.T) {
	reject := func(context.Context, peer.ID, []byte) Verdict { return Reject }
	tests := []struct {
		name     string
		sender   TopicConfig
		receiver TopicConfig
		data     string
	}{
		{"oversized", TopicConfig{Name: "t", MaxBytes: 2048}, TopicConfig{Name: "t", MaxBytes: 16}, strings.Repeat("x", 17)},
		{"validator rejects", TopicConfig{Name: "t", MaxBytes: 64}, TopicConfig{Name: "t", MaxBytes: 64, Validate: reject}, "bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hosts := startNet(t, 2)
			sender, err := hosts[0].Join(tt.sender)
			if err != nil {
				t.Fatalf("Join()=%v, want nil", err)
			}
			in := newInbox()
			tt.receiver.Handle = in.handle
			if _, err := hosts[1].Join(tt.receiver); err != nil {
				t.Fatalf("Join()=%v, want nil", err)
			}
			waitTopicPeers(t, sender, 1)
			if err := sender.Publish(t.Context(), []byte(tt.data)); err != nil {
				t.Fatalf("Publish()=%v, want nil", err)
			}
			waitFor(t, "sender's score below 0", func() bool {
				pi, ok := peerInfo(hosts[1], hosts[0].ID())
				return ok && pi.Score < 0
			})
			if !in.empty() {
				t.Fatalf("rejected message delivered: %q", (<-in.ch).data)
			}
		})
	}
}

func TestGraylistedPeerDropped(t *testing.T) {
	good, logs := startHost(t, testConfig(t))
	bad, _ := startHost(t, testConfig(t, good))
	good.SetCaretakers([]peer.ID{good.ID()})
	bad.SetCaretakers([]peer.ID{bad.ID()})
	tc := TopicConfig{Name: "votes", MaxBytes: 64, CaretakersOnly: true}
	if _, err := good.Join(tc); err != nil {
		t.Fatalf("Join()=%v, want nil", err)
	}
	tp, err := bad.Join(tc)
	if err != nil {
		t.Fatalf("Join()=%v, want nil", err)
	}
	waitTopicPeers(t, tp, 1)
	for i := range 8 { // 8 invalid messages: -100*8^2 is below GraylistThreshold
		if err := tp.Publish(t.Context(), fmt.Appendf(nil, "forged %d", i)); err != nil {
			t.Fatalf("Publish()=%v, want nil", err)
		}
	}
	waitFor(t, "graylisted peer dropped", func() bool {
		_, connected := peerInfo(good, bad.ID())
		return !connected && logs.contains("below graylist threshold")
	})
}

func TestPublishErrors(t *testing.T) {
	h, _ := startHost(t, testConfig(t))
	h.SetCaretakers(nil)
	small, err := h.Join(TopicConfig{Name: "small", MaxBytes: 4})
	if err != nil {
		t.Fatalf("Join()=%v, want nil", err)
	}
	only, err := h.Join(TopicConfig{Name: "only", MaxBytes: 4, CaretakersOnly: true})
	if err != nil {
		t.Fatalf("Join()=%v, want nil", err)
	}
	if err := small.Publish(t.Context(), []byte("12345")); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("Publish(5 bytes)=%v, want %v", err, ErrMessageTooLarge)
	}
	if err := only.Publish(t.Context(), []byte("1")); err == nil {
		t.Fatalf("Publish() by non-caretaker = nil, want a validation error")
	}
	if _, err := h.Join(TopicConfig{Name: "small", MaxBytes: 4}); !errors.Is(err, ErrTopicJoined) {
		t.Fatalf("Join(again)=%v, want %v", err, ErrTopicJoined)
	}
	for _, tc := range []TopicConfig{{Name: "x", MaxBytes: 0}, {Name: "", MaxBytes: 1}, {Name: "y", MaxBytes: DefaultMaxMessageBytes + 1},
		{Name: "z", MaxBytes: 1, Unsigned: true, CaretakersOnly: true}, {Name: "v", MaxBytes: 1, Version: -1}} {
		if _, err := h.Join(tc); !errors.Is(err, ErrConfig) {
			t.Fatalf("Join(%+v)=%v, want %v", tc, err, ErrConfig)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatalf("Close()=%v, want nil", err)
	}
	if err := small.Publish(t.Context(), []byte("1")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish() after Close = %v, want %v", err, ErrClosed)
	}
	if _, err := h.Join(TopicConfig{Name: "late", MaxBytes: 4}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Join() after Close = %v, want %v", err, ErrClosed)
	}
}

// TestTopicVersions joins one topic name at versions 1 and 2: they are distinct
// topics, so a message of one never reaches the other's subscribers.
func TestTopicVersions(t *testing.T) {
	hosts := startNet(t, 3)
	v1, in1 := joinAll(t, hosts[:2], TopicConfig{Name: "t", MaxBytes: 64})
	v2, in2 := joinAll(t, []*Host{hosts[0], hosts[2]}, TopicConfig{Name: "t", MaxBytes: 64, Version: 2})
	if got, want := v2[0].name, "/ipdb/test/t/2"; got != want {
		t.Fatalf("version 2 topic named %q, want %q", got, want)
	}
	waitTopicPeers(t, v1[0], 1)
	waitTopicPeers(t, v2[0], 1)
	if err := v2[0].Publish(t.Context(), []byte("two")); err != nil {
		t.Fatalf("Publish()=%v", err)
	}
	if err := v1[0].Publish(t.Context(), []byte("one")); err != nil {
		t.Fatalf("Publish()=%v", err)
	}
	if got := in2[1].next(t); got.data != "two" {
		t.Fatalf("version 2 subscriber got %q, want %q", got.data, "two")
	}
	if got := in1[1].next(t); got.data != "one" {
		t.Fatalf("version 1 subscriber got %q, want %q", got.data, "one")
	}
	if !in1[1].empty() || !in2[1].empty() {
		t.Fatalf("a message crossed versions")
	}
}

// TestAcceptNoRelay: in a line a - b - c, a message b's validator judges
// AcceptNoRelay counts as delivered at b but reaches neither b's handler
// nor c, while an accepted one reaches both.
func TestAcceptNoRelay(t *testing.T) {
	b, _ := startHost(t, testConfig(t))
	a, _ := startHost(t, testConfig(t, b))
	c, _ := startHost(t, testConfig(t, b))
	for _, h := range []*Host{a, c} {
		waitFor(t, "connected to b", func() bool { return len(h.Peers()) == 1 })
	}
	keep := func(_ context.Context, _ peer.ID, data []byte) Verdict {
		if string(data) == "keep" {
			return AcceptNoRelay
		}
		return Accept
	}
	var topics []*Topic
	var inboxes []*inbox
	for _, h := range []*Host{a, b, c} {
		in := newInbox()
		tc := TopicConfig{Name: "txs", MaxBytes: 64, Unsigned: true, Handle: in.handle}
		if h == b {
			tc.Validate = keep
		}
		tp, err := h.Join(tc)
		if err != nil {
			t.Fatalf("Join()=%v, want nil", err)
		}
		topics, inboxes = append(topics, tp), append(inboxes, in)
	}
	waitTopicPeers(t, topics[0], 1)
	waitTopicPeers(t, topics[1], 2)
	waitTopicPeers(t, topics[2], 1)
	// b relays to c once c is in its mesh (a heartbeat after the join):
	// probe until c gets one.
	deadline := time.Now().Add(waitTimeout)
	probes := 0
	for ; ; probes++ {
		if time.Now().After(deadline) {
			t.Fatalf("c got none of %d probes relayed by b", probes)
		}
		if err := topics[0].Publish(t.Context(), fmt.Appendf(nil, "probe %d", probes)); err != nil {
			t.Fatalf("Publish()=%v, want nil", err)
		}
		select {
		case <-inboxes[2].ch:
		case <-time.After(100 * time.Millisecond):
			continue
		}
		break
	}
	for range probes + 1 { // b got every probe from a directly
		if got := inboxes[1].next(t); !strings.HasPrefix(got.data, "probe ") {
			t.Fatalf("b got %q, want probes", got.data)
		}
	}
	before := b.Traffic()["txs"]

	if err := topics[0].Publish(t.Context(), []byte("keep")); err != nil {
		t.Fatalf("Publish()=%v, want nil", err)
	}
	waitFor(t, "b to count the kept message", func() bool { return b.Traffic()["txs"].Delivered == before.Delivered+1 })
	if err := topics[0].Publish(t.Context(), []byte("relay")); err != nil {
		t.Fatalf("Publish()=%v, want nil", err)
	}
	if got := inboxes[1].next(t); got.data != "relay" {
		t.Fatalf("b's handler got %q, want %q (not the kept message)", got.data, "relay")
	}
	// Probes may still reach c before "relay"; "keep" must not.
	for got := inboxes[2].next(t); got.data != "relay"; got = inboxes[2].next(t) {
		if got.data == "keep" {
			t.Fatal("c got the kept message")
		}
	}
	if tr := b.Traffic()["txs"]; tr.Delivered != before.Delivered+2 || tr.DeliveredBytes != before.DeliveredBytes+int64(len("keep")+len("relay")) {
		t.Fatalf("b's traffic %+v, want both messages delivered after %+v", tr, before)
	}
}
