package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/p2p"
)

// Transaction gossip: every transaction the node accepts from a client is
// published on the "txs" topic, in batches; transactions received there are
// verified and added to the backlog.

// gossipFlush is how long an accepted transaction may wait for others to
// share its batch. Every batch costs each peer a libp2p signature check
// and a validation: at 2,000 tx/s over 4 caretakers, 25 ms (2.5 times
// fewer batches than 10 ms) cut the caretakers' CPU per committed
// transaction by 4%.
const gossipFlush = 25 * time.Millisecond

// regossipBatches bounds how many batches of pending transactions are
// published again per retry interval (see backlog.Regossip): transactions
// published before we had peers, or dropped on the way, still reach the
// caretakers.
const regossipBatches = 4

// gossipQueue bounds the transactions waiting to be published; beyond it
// new ones are not gossiped (they stay in our backlog and reach the chain
// when we propose).
const gossipQueue = 16 * MaxGossipBatch

// gossipVerifying bounds the transaction batches verified at once, and
// gossipVerifiers the goroutines checking one batch's signatures: with one
// of each, gossip takes at most one core, so that proposals and votes are
// never starved by a flood of transactions (on the 2-core test machine a
// 4-node testnet stalled in round changes without this bound).
//
// Up to gossipWaiting more batches wait for their turn. Gossipsub marks a
// message seen before its validator runs, so a batch it dropped as
// throttled was lost for good: the copies other peers relay are
// duplicates. When batches beyond the one being verified were dropped, at
// 3,000 tx/s offered each caretaker of a 4-node testnet fetched 18-30% of
// the committed transactions when a proposal named them, on the consensus
// path. Batches beyond the waiting ones are still dropped unjudged; their
// transactions reach the proposer anyway, or are fetched. Waiting batches
// hold at most gossipWaiting * MaxGossipBatchBytes.
const (
	gossipVerifying = 1
	gossipWaiting   = 16
	gossipVerifiers = 1
)

// seenGossip bounds the digests of transactions remembered as already
// verified, so that a transaction gossiped again (by re-gossip, or by
// several peers) is not verified again: about 40 bytes each.
const seenGossip = 1 << 17

// txGossip batches and publishes accepted transactions, and validates
// received batches. enqueue and validate are safe for concurrent use; run
// is its one goroutine.
type txGossip struct {
	self    peer.ID
	retry   time.Duration // how often pending transactions are published again
	topic   publisher     // set once joined, before run
	backlog *backlog
	queue   chan []byte
	turn    chan struct{} // a slot per batch being verified (gossipVerifying)
	seen    *seenSet
	log     *slog.Logger
	metrics *Metrics
	// caretaker reports whether a peer is a caretaker now (p2p's
	// allow-list); nil relays every batch (see relay).
	caretaker func(peer.ID) bool
}

func newTxGossip(self peer.ID, retry time.Duration, b *backlog, log *slog.Logger, m *Metrics) *txGossip {
	return &txGossip{self: self, retry: retry, backlog: b, queue: make(chan []byte, gossipQueue),
		turn: make(chan struct{}, gossipVerifying), seen: newSeenSet(seenGossip), log: log, metrics: m}
}

// enqueue schedules an accepted transaction's canonical bytes for
// publishing; it never blocks.
func (g *txGossip) enqueue(canonical []byte) {
	g.seen.add(canonical)
	select {
	case g.queue <- canonical:
	default:
		g.metrics.Rejected("gossip_queue_full")
	}
}

// run publishes batches until ctx is done.
func (g *txGossip) run(ctx context.Context) error {
	var batch [][]byte
	size := 0
	flush := time.NewTimer(time.Hour)
	flush.Stop()
	defer flush.Stop()
	again := time.NewTicker(g.retry)
	defer again.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-again.C:
			g.regossip(ctx, now)
			continue
		case tx := <-g.queue:
			if len(batch) == 0 {
				flush.Reset(gossipFlush)
			}
			if size+len(tx)+8 > MaxGossipBatchBytes {
				g.publish(ctx, batch)
				batch, size = nil, 0
			}
			batch, size = append(batch, tx), size+len(tx)+8
			if len(batch) < MaxGossipBatch {
				continue
			}
		case <-flush.C:
		}
		flush.Stop()
		g.publish(ctx, batch)
		batch, size = nil, 0
	}
}

// regossip publishes again the transactions due at now.
func (g *txGossip) regossip(ctx context.Context, now time.Time) {
	old := g.backlog.Regossip(now, g.retry, regossipBatches*MaxGossipBatch)
	for len(old) > 0 {
		n := min(len(old), MaxGossipBatch)
		batch, size := old[:0:0], 0
		for _, tx := range old[:n] {
			if size += len(tx) + 8; size > MaxGossipBatchBytes && len(batch) > 0 {
				break
			}
			batch = append(batch, tx)
		}
		g.publish(ctx, batch)
		old = old[len(batch):]
	}
}

func (g *txGossip) publish(ctx context.Context, batch [][]byte) {
	if len(batch) == 0 {
		return
	}
	if err := g.topic.Publish(ctx, encodeTxBatch(batch)); err != nil && ctx.Err() == nil {
		g.log.Debug("publish transactions", logKeyTxs, len(batch), logKeyErr, err)
	}
}

// validate is the txs topic's validator: a batch that does not decode or
// holds a transaction failing the stateless check is rejected; otherwise
// its transactions are added to the backlog (those already pending or
// committed, or conflicting with pending ones, are skipped) and relay
// decides where the batch goes next. from is the peer that sent the batch
// to us: g.self for our own, which were verified before they were queued.
func (g *txGossip) validate(ctx context.Context, from peer.ID, data []byte) p2p.Verdict {
	if from == g.self {
		return p2p.Accept
	}
	admitted, err := g.admit(ctx, data)
	if v := judge(g.metrics, g.log, topicTxs, from, err); v != p2p.Accept {
		return v
	}
	return g.relay(from, admitted)
}

// relay decides who else gets a valid batch that peer from sent us;
// admitted are its transactions that the backlog now holds.
//
// Every node publishes its batches to all its peers at once, and caretakers
// keep one another connected (their persistent peers, and the address
// exchange of p2p's mesh.go), so a caretaker's batch has reached every
// caretaker before anyone could relay it: relayed by gossipsub, it only
// arrived again as duplicates. At 2,000-3,000 tx/s on a 4-caretaker testnet
// those were 1.3-1.6 times the bytes of the first copies (IDONTWANT came
// too late on busy nodes); BenchmarkPublish4Hosts moves 1.3-2.2 times as
// many 20 KiB batches without them. So:
//   - a batch from a caretaker goes no further;
//   - a caretaker publishes the transactions another peer (a follower)
//     sent it again, in its own batches, to every peer at once;
//   - a node that is not a caretaker relays the batches of other
//     non-caretakers through gossipsub's mesh, towards the caretakers.
//
// A caretaker not connected to another still gets that one's transactions
// when a proposal names them (txFetcher). Without a caretaker test (no
// host), every batch is relayed.
func (g *txGossip) relay(from peer.ID, admitted []*ledger.VerifiedTx) p2p.Verdict {
	switch {
	case g.caretaker == nil:
		return p2p.Accept
	case g.caretaker(from):
		return p2p.AcceptNoRelay
	case g.caretaker(g.self):
		for _, v := range admitted {
			g.enqueue(v.Tx().Canonical())
		}
		return p2p.AcceptNoRelay
	}
	return p2p.Accept
}

// admit verifies a received batch and offers its transactions not seen
// before to the backlog; it returns those the backlog holds.
func (g *txGossip) admit(ctx context.Context, data []byte) ([]*ledger.VerifiedTx, error) {
	raws, err := decodeTxBatch(data)
	if err != nil {
		return nil, err
	}
	select {
	case g.turn <- struct{}{}:
		defer func() { <-g.turn }()
	case <-ctx.Done():
		return nil, ctx.Err() // the validator's time is up: ignored, not the peer's fault
	}
	raws = g.seen.unseen(raws)
	if len(raws) > 0 {
		// A full backlog would refuse them all: ignore the batch unverified
		// (and unrelayed). Its transactions are fetched if a proposal names
		// them.
		if err := g.backlog.Full(); err != nil {
			return nil, err
		}
	}
	vtxs, err := verifyAllWith(ctx, ledger.Verify, raws, nil, gossipVerifiers)
	if err != nil {
		return nil, err
	}
	return g.offer(raws, vtxs)
}

// offer remembers verified transactions (vtxs, decoded from raws) as seen
// and adds them to the backlog; those already pending or committed, or
// conflicting with pending ones, are skipped, as when the backlog is full.
// It returns those the backlog holds (added now or pending before). The
// fetcher offers what it fetched too, so that a transaction fetched for a
// proposal is not verified again when it is gossiped later.
func (g *txGossip) offer(raws [][]byte, vtxs []*ledger.VerifiedTx) ([]*ledger.VerifiedTx, error) {
	for _, raw := range raws {
		g.seen.add(raw)
	}
	held := vtxs[:0:0]
	for _, v := range vtxs {
		err := g.backlog.Add(v)
		switch {
		case err == nil:
			held = append(held, v)
		case !isInvalid(err) && !errors.Is(err, ErrBacklogFull):
			return held, err
		}
	}
	return held, nil
}

// txsTopicVersion is the "txs" topic's version: 2 since batches go
// unsigned. Nodes of version 1 signed them and refuse unsigned ones with a
// penalty; with distinct topics, nodes of both versions keep voting together
// during an upgrade and fetch the transactions a proposal names from each
// other.
const txsTopicVersion = 2

// topicConfig is the "txs" topic: anyone may publish, g validates. Its
// messages are unsigned: every transaction in a batch carries its issuers'
// signatures, which validate checks, and a bad batch costs the peer that
// sent it its gossip score. A libp2p signature over each batch added
// nothing to those checks, and took 7% of a caretaker's CPU profile at
// 1,500 tx/s (gossipsub checks it on every copy that arrives while the
// first is still being validated).
func (g *txGossip) topicConfig() p2p.TopicConfig {
	return p2p.TopicConfig{Name: topicTxs, Version: txsTopicVersion, MaxBytes: MaxGossipBatchBytes, Unsigned: true, Validate: g.validate,
		Handle: func(peer.ID, []byte) {}, Concurrency: gossipVerifying + gossipWaiting}
}

// seenSet remembers the SHA-256 digests of the last max transactions'
// canonical bytes, oldest forgotten first. It is safe for concurrent use.
type seenSet struct {
	mu   sync.Mutex // guards all below
	set  map[[32]byte]struct{}
	ring [][32]byte
	next int
}

func newSeenSet(max int) *seenSet {
	return &seenSet{set: make(map[[32]byte]struct{}, max), ring: make([][32]byte, 0, max)}
}

// add remembers raw.
func (s *seenSet) add(raw []byte) {
	d := sha256.Sum256(raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.set[d]; ok {
		return
	}
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, d)
	} else {
		delete(s.set, s.ring[s.next])
		s.ring[s.next] = d
		s.next = (s.next + 1) % len(s.ring)
	}
	s.set[d] = struct{}{}
}

// unseen returns the transactions of raws not remembered, in order; raws
// itself is not changed.
func (s *seenSet) unseen(raws [][]byte) [][]byte {
	out := make([][]byte, 0, len(raws))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range raws {
		if _, ok := s.set[sha256.Sum256(r)]; !ok {
			out = append(out, r)
		}
	}
	return out
}
