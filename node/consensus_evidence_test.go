package node

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/p2p"
)

// TestClusterRecordsEquivocation runs three honest caretakers of four; the
// fourth is a byzantine host (with its genesis peer id and signing key)
// that prevotes twice, differently, in one round. The next block an honest
// caretaker proposes carries the evidence, and the block API shows it.
func TestClusterRecordsEquivocation(t *testing.T) {
	c := startCluster(t, 4, 3, func(int, int) bool { return true })
	g, keys := c.gen, c.keys
	ctx, cancel := context.WithTimeout(t.Context(), clusterDeadline)
	defer cancel()
	byz, err := p2p.New(ctx, p2p.Config{ChainID: g.ChainID, Key: testPeerKey(t, 83), ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		Peers: c.nodes[0].host.Addrs(), Logger: testLogger(t).With("node", "byzantine")})
	if err != nil {
		t.Fatalf("p2p.New(byzantine)=%v", err)
	}
	defer byz.Close()
	byz.SetCaretakers(g.PeerIDs())
	topic, err := byz.Join(p2p.TopicConfig{Name: topicVotes, MaxBytes: MaxVoteBytes, CaretakersOnly: true, Handle: func(peer.ID, []byte) {}})
	if err != nil {
		t.Fatalf("Join()=%v", err)
	}
	other := blockCIDOf(t, testBlock(t, 1))
	for gaugeValue(t, c.nodes[0].metrics, "ipdb_consensus_equivocations_total") == 0 {
		for _, b := range []cid.Cid{cid.Undef, other} {
			v := &signedVote{Type: votePrevote, Height: 1, Round: 0, Block: b, Validator: keys[3].Public}
			v.Signature = signWith(keys[3], v.signBytes(g.ChainID))
			if err := topic.Publish(ctx, v.encode()); err != nil {
				t.Logf("Publish()=%v", err)
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no equivocation seen: %v", ctx.Err())
		case <-time.After(100 * time.Millisecond): // bounded poll: the metric is the only signal
		}
	}
	alice := newKey(t, 5)
	var h uint64
	for i := 0; ; i++ {
		tx := createTx(t, alice, i, 1)
		if err := c.nodes[i%3].Submit(ctx, verify(t, tx), ModeCommit); err != nil {
			t.Fatalf("Submit()=%v", err)
		}
		h = c.waitCommitted(ctx, tx.ID, 0, 1, 2)
		if b, _, err := c.nodes[0].Store().BlockByHeight(h); err == nil && len(b.Evidence) > 0 {
			ev := b.Evidence[0]
			if string(ev.PublicKey) != string(keys[3].Public) || ev.Height != 1 || ev.Type != ledger.VotePrevote {
				t.Fatalf("block %d evidence %+v, want caretaker 3's prevotes at height 1", h, ev)
			}
			break
		}
		if h > 6 {
			t.Fatalf("no block up to %d carries the evidence", h)
		}
	}
	c.waitHeight(ctx, h, 0, 1, 2)
	c.sameChain(h, 0, 1, 2)
	resp, err := http.Get("http://" + c.nodes[1].HTTPAddr() + "/api/v1/blocks/" + strconv.FormatUint(h, 10))
	if err != nil {
		t.Fatalf("GET block=%v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var got struct {
		Evidence []evidenceJSON `json:"evidence"`
	}
	if err := json.Unmarshal(body, &got); err != nil || len(got.Evidence) != 1 || got.Evidence[0].Type != "prevote" || got.Evidence[0].Votes[0].Block != nil {
		t.Fatalf("GET block %d = %s, %v; want one prevote equivocation, nil vote first", h, body, err)
	}
}
