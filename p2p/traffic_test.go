package p2p

import (
	"bytes"
	"context"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

func TestTrafficCountsDeliveredAndDuplicates(t *testing.T) {
	hosts := startNet(t, 3)
	txs, inboxes := joinAll(t, hosts, TopicConfig{Name: "txs", MaxBytes: 4096})
	votes, voteInboxes := joinAll(t, hosts, TopicConfig{Name: "votes", MaxBytes: 64})
	reject := func(context.Context, peer.ID, []byte) Verdict { return Reject }
	bad, err := hosts[0].Join(TopicConfig{Name: "bad", MaxBytes: 64})
	if err != nil {
		t.Fatalf("Join()=%v, want nil", err)
	}
	for _, h := range hosts[1:] {
		if _, err := h.Join(TopicConfig{Name: "bad", MaxBytes: 64, Validate: reject}); err != nil {
			t.Fatalf("Join()=%v, want nil", err)
		}
	}
	for i := range hosts {
		waitTopicPeers(t, txs[i], 2)
		waitTopicPeers(t, votes[i], 2)
	}
	waitTopicPeers(t, bad, 2)

	const n, size = 5, 2000 // over gossipsub's IDONTWANT threshold (1 KiB)
	for i := range n {
		if err := txs[0].Publish(t.Context(), bytes.Repeat([]byte{byte('a' + i)}, size)); err != nil {
			t.Fatalf("Publish()=%v, want nil", err)
		}
	}
	if err := votes[0].Publish(t.Context(), []byte("vote")); err != nil {
		t.Fatalf("Publish()=%v, want nil", err)
	}
	if err := bad.Publish(t.Context(), []byte("junk")); err != nil {
		t.Fatalf("Publish()=%v, want nil", err)
	}
	for i := 1; i < len(hosts); i++ {
		for range n {
			inboxes[i].next(t)
		}
		voteInboxes[i].next(t)
		waitFor(t, "the rejected message's sender penalised", func() bool {
			pi, ok := peerInfo(hosts[i], hosts[0].ID())
			return ok && pi.Score < 0
		})
	}
	for i, h := range hosts {
		got := h.Traffic()
		// Gossip brings the sender nothing: its own messages are not counted,
		// and no peer relays a message back to its author.
		wantN := int64(n)
		if i == 0 {
			wantN = 0
		}
		if tr := got["txs"]; tr.Delivered != wantN || tr.DeliveredBytes != wantN*size || tr.DuplicateBytes != tr.Duplicates*size {
			t.Errorf("host %d: txs traffic %+v, want %d delivered of %d bytes each, duplicates of the same size", i, tr, wantN, size)
		}
		if tr := got["votes"]; tr.Delivered != wantN/n || tr.DeliveredBytes != 4*wantN/n {
			t.Errorf("host %d: votes traffic %+v, want %d delivered of 4 bytes", i, tr, wantN/n)
		}
		if tr := got["bad"]; tr.Delivered != 0 || tr.DeliveredBytes != 0 {
			t.Errorf("host %d: bad traffic %+v, want a rejected message not counted as delivered", i, tr)
		}
		if len(got) != 3 {
			t.Errorf("host %d: traffic of topics %v, want txs, votes and bad", i, got)
		}
	}
}
