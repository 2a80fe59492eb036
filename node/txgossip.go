package node

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ipdb/ipdb-node/p2p"
)

// Transaction gossip: every transaction the node accepts from a client is
// published on the "txs" topic, in batches; transactions received there are
// verified and added to the backlog.

// gossipFlush is how long an accepted transaction may wait for others to
// share its batch.
const gossipFlush = 10 * time.Millisecond

// regossipBatches bounds how many batches of pending transactions are
// published again per retry interval: transactions published before we
// had peers, or dropped on the way, still reach the caretakers.
const regossipBatches = 4

// gossipQueue bounds the transactions waiting to be published; beyond it
// new ones are not gossiped (they stay in our backlog and reach the chain
// when we propose).
const gossipQueue = 16 * MaxGossipBatch

// txGossip batches and publishes accepted transactions, and validates
// received batches. enqueue and validate are safe for concurrent use; run
// is its one goroutine.
type txGossip struct {
	self    peer.ID
	retry   time.Duration // how often pending transactions are published again
	topic   publisher     // set once joined, before run
	backlog *backlog
	queue   chan []byte
	log     *slog.Logger
	metrics *Metrics
}

func newTxGossip(self peer.ID, retry time.Duration, b *backlog, log *slog.Logger, m *Metrics) *txGossip {
	return &txGossip{self: self, retry: retry, backlog: b, queue: make(chan []byte, gossipQueue), log: log, metrics: m}
}

// enqueue schedules an accepted transaction's canonical bytes for
// publishing; it never blocks.
func (g *txGossip) enqueue(canonical []byte) {
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
			g.regossip(ctx, now.Add(-g.retry))
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

// regossip publishes again the transactions pending since before t.
func (g *txGossip) regossip(ctx context.Context, t time.Time) {
	old := g.backlog.Older(t, regossipBatches*MaxGossipBatch)
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
// committed, or conflicting with pending ones, are skipped) and the batch
// is accepted, to be relayed.
func (g *txGossip) validate(ctx context.Context, from peer.ID, data []byte) p2p.Verdict {
	if from == g.self {
		return p2p.Accept
	}
	err := g.admit(ctx, data)
	g.metrics.gossip(topicTxs, verdictOf(err))
	if err != nil {
		g.log.Debug("transaction batch refused", logKeyPeer, from, logKeyErr, err)
	}
	return verdictOf(err)
}

func (g *txGossip) admit(ctx context.Context, data []byte) error {
	raws, err := decodeTxBatch(data)
	if err != nil {
		return err
	}
	vtxs, err := verifyAll(ctx, raws, nil)
	if err != nil {
		return err
	}
	for _, v := range vtxs {
		if err := g.backlog.Add(v); err != nil && !isInvalid(err) && !errors.Is(err, ErrBacklogFull) {
			return err
		}
	}
	return nil
}
