package p2p

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
)

// rawSubscribe subscribes to a topic on h's router directly, with no validator of
// ours, so that a test sees gossipsub's messages as they arrive, signature included.
func rawSubscribe(t *testing.T, h *Host, name string) *pubsub.Subscription {
	t.Helper()
	tp, err := h.ps.Join(h.protocolName(name))
	if err != nil {
		t.Fatalf("Join(%s)=%v", name, err)
	}
	sub, err := tp.Subscribe()
	if err != nil {
		t.Fatalf("Subscribe(%s)=%v", name, err)
	}
	t.Cleanup(sub.Cancel)
	return sub
}

// nextRaw returns the next message of sub or fails after waitTimeout.
func nextRaw(t *testing.T, sub *pubsub.Subscription) *pubsub.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	msg, err := sub.Next(ctx)
	if err != nil {
		t.Fatalf("no message on %s within %v: %v", sub.Topic(), waitTimeout, err)
	}
	return msg
}

func TestTopicsSignedUnlessUnsigned(t *testing.T) {
	hosts := startNet(t, 2)
	a, b := hosts[0], hosts[1]
	txs := rawSubscribe(t, b, "txs")
	votes := rawSubscribe(t, b, "votes")
	ta, err := a.Join(TopicConfig{Name: "txs", MaxBytes: 64, Unsigned: true})
	if err != nil {
		t.Fatalf("Join(txs)=%v", err)
	}
	va, err := a.Join(TopicConfig{Name: "votes", MaxBytes: 64})
	if err != nil {
		t.Fatalf("Join(votes)=%v", err)
	}
	waitTopicPeers(t, ta, 1)
	waitTopicPeers(t, va, 1)
	if err := ta.Publish(t.Context(), []byte("batch")); err != nil {
		t.Fatalf("Publish(txs)=%v", err)
	}
	if err := va.Publish(t.Context(), []byte("vote")); err != nil {
		t.Fatalf("Publish(votes)=%v", err)
	}
	if m := nextRaw(t, txs); string(m.Data) != "batch" || m.Signature != nil || m.Key != nil {
		t.Fatalf("txs message: data %q, signature %x, key %x; want %q unsigned", m.Data, m.Signature, m.Key, "batch")
	}
	if m := nextRaw(t, votes); string(m.Data) != "vote" || len(m.Signature) == 0 || m.GetFrom() != a.ID() {
		t.Fatalf("votes message: data %q, signature %x, from %s; want %q signed by %s", m.Data, m.Signature, m.GetFrom(), "vote", a.ID())
	}
}

func TestUnsignedTopicNamesTheSender(t *testing.T) {
	hosts := startNet(t, 2)
	var mu sync.Mutex
	validated := map[peer.ID][]string{} // by host: the from of each validated message
	var topics []*Topic
	var inboxes []*inbox
	for _, h := range hosts {
		in := newInbox()
		tp, err := h.Join(TopicConfig{Name: "txs", MaxBytes: 64, Unsigned: true, Handle: in.handle,
			Validate: func(_ context.Context, from peer.ID, _ []byte) Verdict {
				mu.Lock()
				defer mu.Unlock()
				validated[h.ID()] = append(validated[h.ID()], from.String())
				return Accept
			}})
		if err != nil {
			t.Fatalf("Join()=%v", err)
		}
		topics, inboxes = append(topics, tp), append(inboxes, in)
	}
	waitTopicPeers(t, topics[0], 1)
	if err := topics[0].Publish(t.Context(), []byte("batch")); err != nil {
		t.Fatalf("Publish()=%v", err)
	}
	a, b := hosts[0].ID(), hosts[1].ID()
	if got := inboxes[1].next(t); got.data != "batch" || got.from != a {
		t.Fatalf("delivered %q from %s, want %q from %s", got.data, got.from, "batch", a)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(validated[a], ","); got != a.String() {
		t.Fatalf("publisher's validator saw from %q, want itself %s", got, a)
	}
	if got := strings.Join(validated[b], ","); got != a.String() {
		t.Fatalf("receiver's validator saw from %q, want the sender %s", got, a)
	}
	if !inboxes[0].empty() {
		t.Fatalf("own message delivered to the publisher's handler")
	}
}

// TestSignatureRules sends, from a peer the receiver counts as a caretaker, what our
// Publish never sends: an unsigned message on a signed topic (its author would be the
// sender's word only) and a signed one on an unsigned topic. Each is rejected, costs the
// sender score and reaches no handler; a well-formed message still gets through after.
func TestSignatureRules(t *testing.T) {
	tests := []struct {
		name     string
		unsigned bool               // the topic
		forge    func(*Topic) error // what the sender publishes, bypassing Publish
	}{
		{"unsigned on a signed topic", false, func(tp *Topic) error {
			return tp.topic.Publish(context.Background(), []byte("forged"))
		}},
		{"signed on an unsigned topic", true, func(tp *Topic) error {
			return tp.topic.Publish(context.Background(), []byte("forged"), pubsub.WithSecretKeyAndPeerId(tp.h.cfg.Key, tp.h.host.ID()))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hosts := startNet(t, 2)
			good, bad := hosts[0], hosts[1]
			for _, h := range hosts {
				h.SetCaretakers([]peer.ID{good.ID(), bad.ID()})
			}
			tc := TopicConfig{Name: "votes", MaxBytes: 64, CaretakersOnly: !tt.unsigned, Unsigned: tt.unsigned}
			in := newInbox()
			withInbox := tc
			withInbox.Handle = in.handle
			if _, err := good.Join(withInbox); err != nil {
				t.Fatalf("Join()=%v", err)
			}
			tp, err := bad.Join(tc)
			if err != nil {
				t.Fatalf("Join()=%v", err)
			}
			waitTopicPeers(t, tp, 1)
			// The sender's own validator refuses it too: gossipsub reports that to the
			// publisher and sends nothing, so the forgery goes out unvalidated below.
			if err := bad.ps.UnregisterTopicValidator(tp.name); err != nil {
				t.Fatalf("UnregisterTopicValidator()=%v", err)
			}
			if err := tt.forge(tp); err != nil {
				t.Fatalf("forged publish: %v", err)
			}
			waitFor(t, "sender's score below 0", func() bool {
				pi, ok := peerInfo(good, bad.ID())
				return ok && pi.Score < 0
			})
			if err := tp.Publish(t.Context(), []byte("fine")); err != nil {
				t.Fatalf("Publish()=%v", err)
			}
			if got := in.next(t); got.data != "fine" {
				t.Fatalf("delivered %q, want %q (the forgery is not delivered)", got.data, "fine")
			}
		})
	}
}

func TestMessageID(t *testing.T) {
	topic, from, seqno := "/ipdb/test/txs/2", []byte("\x00\x24peer"), []byte{0, 0, 0, 0, 0, 0, 0, 1}
	msg := func(data string, mod func(*pb.Message)) *pb.Message {
		m := &pb.Message{Topic: &topic, From: from, Seqno: seqno, Data: []byte(data)}
		if mod != nil {
			mod(m)
		}
		return m
	}
	signed := msg("x", func(m *pb.Message) { m.Signature = []byte("sig") })
	if got, want := messageID(signed), pubsub.DefaultMsgIdFn(signed); got != want {
		t.Fatalf("signed message id %x, want gossipsub's default %x", got, want)
	}
	base := messageID(msg("x", nil))
	if base != messageID(msg("x", nil)) {
		t.Fatalf("unsigned message id is not deterministic")
	}
	if !strings.HasPrefix(base, "u") || len(base) != 1+32 {
		t.Fatalf("unsigned message id %x: want 'u' and a SHA-256 digest", base)
	}
	// A peer id is a multihash (identity 0x00 or sha2-256 0x12), never 'u'.
	if strings.HasPrefix(messageID(signed), "u") {
		t.Fatalf("signed message id starts with the unsigned kind's prefix")
	}
	other := "/ipdb/test/votes/1"
	variants := map[string]*pb.Message{
		"data":  msg("y", nil),
		"seqno": msg("x", func(m *pb.Message) { m.Seqno = []byte{0, 0, 0, 0, 0, 0, 0, 2} }),
		"from":  msg("x", func(m *pb.Message) { m.From = []byte("\x00\x24peeR") }),
		"topic": msg("x", func(m *pb.Message) { m.Topic = &other }),
		// Field boundaries count: moving a byte from one field to the next is a change.
		"boundary": msg("x", func(m *pb.Message) { m.From, m.Seqno = from[:len(from)-1], append([]byte{from[len(from)-1]}, seqno...) }),
	}
	for name, m := range variants {
		if messageID(m) == base {
			t.Errorf("unsigned messages differing in %s share an id", name)
		}
	}
}

// BenchmarkMessageID is the id of an unsigned 16 KiB batch, computed once per
// message a router receives.
func BenchmarkMessageID(b *testing.B) {
	topic := "/ipdb/test/txs/2"
	m := &pb.Message{Topic: &topic, From: bytes.Repeat([]byte{1}, 38), Seqno: make([]byte, 8), Data: make([]byte, 16<<10)}
	b.SetBytes(int64(len(m.Data)))
	for b.Loop() {
		messageID(m)
	}
}
