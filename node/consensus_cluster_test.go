package node

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/p2p"
)

// clusterDeadline bounds each wait of the cluster tests: generous, as the
// machine is shared, and never a timing assertion.
const clusterDeadline = 60 * time.Second

func TestClusterCommitsSameBlocks(t *testing.T) {
	c := newCluster(t, 4, 1)
	ctx, cancel := context.WithTimeout(t.Context(), clusterDeadline)
	defer cancel()
	c.waitTxsMesh(ctx) // else batches published before a subscription was known skip that node
	alice := newKey(t, 1)
	var last *ledger.Tx
	for i := range 5 {
		last = createTx(t, alice, i, 1)
		target := i % len(c.nodes) // the follower too: its POSTs are gossiped
		if err := c.nodes[target].Submit(ctx, verify(t, last), ModeAsync); err != nil {
			t.Fatalf("Submit(node %d)=%v", target, err)
		}
	}
	h := c.waitCommitted(ctx, last.ID, all(5)...)
	c.waitHeight(ctx, h, all(5)...)
	c.sameChain(h, all(5)...)
	// Every node took batches from the others by gossip (unsigned, on
	// txs/2), none refused: the transactions did not all come by fetching.
	for i, n := range c.nodes {
		g := n.metrics.cons.gossip
		if ok, bad := testutil.ToFloat64(g.WithLabelValues(topicTxs, "accept")), testutil.ToFloat64(g.WithLabelValues(topicTxs, "reject")); ok == 0 || bad != 0 {
			t.Fatalf("node %d: %v transaction batches accepted, %v rejected; want some, none", i, ok, bad)
		}
	}
	st := c.nodes[4].Status()
	if st.Peers == 0 || len(st.PeerList) != st.Peers {
		t.Fatalf("follower Status() peers %d, list %d, want connected peers", st.Peers, len(st.PeerList))
	}
	for i, stop := range c.stops {
		if err := stop(); err != nil {
			t.Fatalf("stop node %d: %v", i, err)
		}
	}
	checkNoLeaks(t) // the engines' workers, syncers and gossipers have all returned
}

func TestClusterFetchesMissingTx(t *testing.T) {
	c := newCluster(t, 4, 0)
	ctx, cancel := context.WithTimeout(t.Context(), clusterDeadline)
	defer cancel()
	tx := createTx(t, newKey(t, 2), 0, 1)
	if err := c.nodes[2].backlog.Add(verify(t, tx)); err != nil { // bypass gossip: only node 2 has it
		t.Fatalf("backlog.Add()=%v", err)
	}
	// The others hold it as seen, as if they had lost its batch: node 2's
	// re-gossip passes them by, and they fetch it when a proposal names it.
	for _, i := range []int{0, 1, 3} {
		c.nodes[i].gossip.seen.add(tx.Canonical())
	}
	h := c.waitCommitted(ctx, tx.ID, all(4)...)
	c.sameChain(h, all(4)...)
	// Deciding took 3 of the 4 equal votes: node 2's and at least two
	// others', each cast after verifying the block, so after fetching the
	// transaction (once: it then joins the backlog). The fourth may have
	// fetched it too, or synced the block.
	fetched := 0.0
	for i, n := range c.nodes {
		got := testutil.ToFloat64(n.metrics.cons.fetched)
		if i == 2 && got != 0 {
			t.Fatalf("node 2 fetched %v transactions, want none", got)
		}
		fetched += got
	}
	if fetched < 2 || fetched > 3 {
		t.Fatalf("the others fetched %v transactions in all, want 2 or 3", fetched)
	}
}

func TestClusterRejectsRogueVotes(t *testing.T) {
	c := newCluster(t, 4, 0)
	ctx, cancel := context.WithTimeout(t.Context(), clusterDeadline)
	defer cancel()
	rogue, err := p2p.New(ctx, p2p.Config{ChainID: c.gen.ChainID, Key: testPeerKey(t, 99),
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Peers: c.nodes[0].host.Addrs(), Logger: testLogger(t).With("node", "rogue")})
	if err != nil {
		t.Fatalf("p2p.New(rogue)=%v", err)
	}
	defer rogue.Close()
	topic, err := rogue.Join(p2p.TopicConfig{Name: topicVotes, MaxBytes: MaxVoteBytes, Handle: func(peer.ID, []byte) {}})
	if err != nil {
		t.Fatalf("Join()=%v", err)
	}
	outsider := newKey(t, 98) // a well-formed, validly signed vote of a key outside the caretaker set
	for round := uint32(0); ; round++ {
		v := signedTestVote(t, outsider, votePrevote, 1, round, cid.Undef)
		v.Signature = signWith(outsider, v.signBytes(c.gen.ChainID))
		if err := topic.Publish(ctx, v.encode()); err != nil {
			t.Logf("Publish()=%v", err)
		}
		if score, ok := peerScore(c.nodes[0], rogue.ID()); ok && score < 0 {
			break
		}
		select {
		case <-ctx.Done():
			score, ok := peerScore(c.nodes[0], rogue.ID())
			t.Fatalf("rogue peer score %v (connected %v), want < 0: %v", score, ok, ctx.Err())
		case <-time.After(100 * time.Millisecond): // bounded poll: scores are recomputed periodically
		}
	}
	if h := c.nodes[0].Status().Height; h != 0 {
		t.Fatalf("height %d after rogue votes, want 0", h)
	}
}

// peerScore returns n's gossip score of peer p.
func peerScore(n *Node, p peer.ID) (float64, bool) {
	for _, ps := range n.Status().PeerList {
		if ps.ID == p.String() {
			return ps.Score, true
		}
	}
	return 0, false
}

func TestClusterRestartReplaysWALAndCatchesUp(t *testing.T) {
	c := newCluster(t, 4, 0)
	ctx, cancel := context.WithTimeout(t.Context(), 2*clusterDeadline)
	defer cancel()
	alice := newKey(t, 3)
	first := createTx(t, alice, 0, 1)
	if err := c.nodes[0].Submit(ctx, verify(t, first), ModeAsync); err != nil {
		t.Fatalf("Submit()=%v", err)
	}
	h := c.waitCommitted(ctx, first.ID, all(4)...)
	for _, i := range []int{1, 3} { // half the power: no more progress
		if err := c.stops[i](); err != nil {
			t.Fatalf("stop node %d: %v", i, err)
		}
	}
	second := createTx(t, alice, 1, 1)
	if err := c.nodes[0].Submit(ctx, verify(t, second), ModeAsync); err != nil {
		t.Fatalf("Submit()=%v", err)
	}
	walPath := filepath.Join(c.opts[2].DataDir, walFileName)
	waitWALRecords(ctx, t, walPath, h+1) // node 2 voted at the stuck height
	if err := c.stops[2](); err != nil {
		t.Fatalf("stop node 2: %v", err)
	}
	for _, i := range []int{1, 2, 3} {
		o := c.opts[i]
		o.Config.P2P.Peers = c.nodes[0].host.Addrs()
		c.start(i, o)
	}
	h2 := c.waitCommitted(ctx, second.ID, all(4)...)
	c.waitHeight(ctx, h2, all(4)...)
	c.sameChain(h2, all(4)...)

	// Node 3 misses blocks, then catches up by block sync.
	if err := c.stops[3](); err != nil {
		t.Fatalf("stop node 3: %v", err)
	}
	var last *ledger.Tx
	for i := range 3 {
		last = createTx(t, alice, 2+i, 1)
		if err := c.nodes[i].Submit(ctx, verify(t, last), ModeCommit); err != nil {
			t.Fatalf("Submit(commit)=%v", err)
		}
	}
	h3 := c.waitCommitted(ctx, last.ID, 0, 1, 2)
	if h3 <= h2 {
		t.Fatalf("height %d after three more commits, want > %d", h3, h2)
	}
	o := c.opts[3]
	o.Config.P2P.Peers = c.nodes[0].host.Addrs()
	c.start(3, o)
	c.waitHeight(ctx, h3, 3)
	c.sameChain(h3, all(4)...)
}

// waitWALRecords waits until the WAL at path holds a record of height h.
func waitWALRecords(ctx context.Context, t *testing.T, path string, h uint64) {
	t.Helper()
	for {
		data, _ := os.ReadFile(path)
		recs, _, _ := parseWAL(path, data)
		for _, r := range recs {
			if m, err := decodeWALRecord(r); err == nil && m.height() == h {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no WAL record of height %d in %s: %v", h, path, ctx.Err())
		case <-time.After(20 * time.Millisecond): // bounded poll of a file another goroutine appends to
		}
	}
}

// TestCaretakerRepublishesFollowerTxs: caretakers do not relay one
// another's transaction batches, so a follower's transactions reach the
// caretakers it is not connected to because the caretaker it is connected
// to publishes them again in its own batches.
func TestCaretakerRepublishesFollowerTxs(t *testing.T) {
	c := newCluster(t, 4, 0)
	ctx, cancel := context.WithTimeout(t.Context(), clusterDeadline)
	defer cancel()
	c.start(4, c.options(4, c.nodes[0].host.Addrs())) // a follower peered with caretaker 0 alone
	for len(c.nodes[4].gossip.topic.(*p2p.Topic).Peers()) == 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("the follower knows no peer on the txs topic: %v", ctx.Err())
		case <-time.After(20 * time.Millisecond): // bounded poll: gossipsub signals no subscription
		}
	}
	tx := createTx(t, newKey(t, 7), 0, 1)
	if err := c.nodes[4].Submit(ctx, verify(t, tx), ModeAsync); err != nil {
		t.Fatalf("Submit(follower)=%v", err)
	}
	h := c.waitCommitted(ctx, tx.ID, all(5)...)
	c.sameChain(h, all(5)...)
	// Only caretaker 0 could have sent the others a batch: the only
	// transaction came from the follower, which is connected to it alone.
	for _, i := range []int{1, 2, 3} {
		for c.nodes[i].host.Traffic()[topicTxs].Delivered == 0 {
			select {
			case <-ctx.Done():
				t.Fatalf("caretaker %d received no transaction batch: caretaker 0 did not publish the follower's transaction: %v", i, ctx.Err())
			case <-time.After(20 * time.Millisecond): // bounded poll of a gossip counter
			}
		}
	}
	if p := c.nodes[4].Status().Peers; p != 1 {
		t.Fatalf("the follower has %d peers, want caretaker 0 alone", p)
	}
	if got := gaugeValue(t, c.nodes[4].metrics, "ipdb_p2p_caretakers_unconnected"); got != 3 {
		t.Fatalf("the follower's ipdb_p2p_caretakers_unconnected=%v, want 3", got)
	}
	for i := range 4 { // the caretakers dial one another: all connected by now or soon
		for gaugeValue(t, c.nodes[i].metrics, "ipdb_p2p_caretakers_unconnected") != 0 {
			select {
			case <-ctx.Done():
				t.Fatalf("caretaker %d lacks a connection to %v: %v", i, c.nodes[i].host.UnconnectedCaretakers(), ctx.Err())
			case <-time.After(20 * time.Millisecond): // bounded poll of a gauge
			}
		}
	}
}

// TestCaretakersCompleteTheirMesh: a caretaker peered with one other only
// (as after init --join) ends up connected to every caretaker, through the
// addresses that one gives it, and its transactions reach them all.
func TestCaretakersCompleteTheirMesh(t *testing.T) {
	// Node 3 knows node 0 only, and nobody knows node 3.
	c := startCluster(t, 4, 4, func(i, j int) bool { return i < 3 || j == 0 })
	ctx, cancel := context.WithTimeout(t.Context(), clusterDeadline)
	defer cancel()
	for i := range 4 {
		for gaugeValue(t, c.nodes[i].metrics, "ipdb_p2p_caretakers_unconnected") != 0 {
			select {
			case <-ctx.Done():
				t.Fatalf("caretaker %d lacks a connection to %v: %v", i, c.nodes[i].host.UnconnectedCaretakers(), ctx.Err())
			case <-time.After(50 * time.Millisecond): // bounded poll of a gauge: the exchange runs every 10 s
			}
		}
	}
	c.waitTxsMesh(ctx)
	tx := createTx(t, newKey(t, 8), 0, 1)
	if err := c.nodes[3].Submit(ctx, verify(t, tx), ModeAsync); err != nil {
		t.Fatalf("Submit(node 3)=%v", err)
	}
	h := c.waitCommitted(ctx, tx.ID, all(4)...)
	c.sameChain(h, all(4)...)
}

// TestSoloCaretakerWithFollower runs the development topology: one
// caretaker (the solo engine, with p2p on) and a follower that relays a
// posted transaction and follows the chain by block sync.
func TestSoloCaretakerWithFollower(t *testing.T) {
	c := newCluster(t, 1, 1)
	ctx, cancel := context.WithTimeout(t.Context(), clusterDeadline)
	defer cancel()
	if _, ok := c.nodes[0].engine.(*soloEngine); !ok {
		t.Fatalf("a one-caretaker network runs %T, want the solo engine", c.nodes[0].engine)
	}
	tx := createTx(t, newKey(t, 6), 0, 1)
	if err := c.nodes[1].Submit(ctx, verify(t, tx), ModeCommit); err != nil {
		t.Fatalf("Submit(follower, commit)=%v", err)
	}
	h := c.waitCommitted(ctx, tx.ID, 0, 1)
	c.sameChain(h, 0, 1)
}

// TestFollowerSyncsOverManyAnswers starts a follower behind a caretaker's
// chain of several blocks and has it ask for two blocks per answer: the
// answers fetched ahead while earlier ones are verified must join into
// the caretaker's chain.
func TestFollowerSyncsOverManyAnswers(t *testing.T) {
	c := newCluster(t, 1, 0)
	ctx, cancel := context.WithTimeout(t.Context(), clusterDeadline)
	defer cancel()
	key := newKey(t, 7)
	const blocks = 7
	var last *ledger.Tx
	for i := range blocks {
		last = createTx(t, key, i, 1)
		if err := c.nodes[0].Submit(ctx, verify(t, last), ModeCommit); err != nil {
			t.Fatalf("Submit(%d)=%v", i, err)
		}
	}
	h := c.nodes[0].Status().Height
	if h < blocks {
		t.Fatalf("caretaker at height %d after %d commits, want one block each", h, blocks)
	}
	c.beforeRun = func(_ int, n *Node) { n.engine.(*bftEngine).sync.ask = 2 }
	c.start(1, c.options(1, c.nodes[0].host.Addrs()))
	c.waitCommitted(ctx, last.ID, 1)
	c.waitHeight(ctx, h, 1)
	c.sameChain(h, 0, 1)
	// The newest block may reach the follower as an observer of the
	// caretaker's re-sent votes instead of by sync; every one before it
	// can come only by sync, over at least three answers of two.
	m := c.nodes[1].metrics.cons
	if got := testutil.ToFloat64(m.synced); got < float64(h-1) {
		t.Fatalf("follower synced %v blocks, want at least %d", got, h-1)
	}
	if got := testutil.ToFloat64(m.syncFailed); got != 0 {
		t.Fatalf("follower had %v failed sync answers, want none", got)
	}
}
