package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/p2p"
)

// The block-sync protocol: a node behind its peers asks one that is ahead
// for the blocks after its tip.
//
//	request  = [from height, max count]
//	response = [[block (bytes), commit (bytes), [canonical tx (bytes), ...]], ...]
//
// The server answers from its store, blocks from..from+max-1 that it has,
// stopping after SyncSoftBytes (it always sends at least one block).

// syncTimeout bounds one block-sync request.
const syncTimeout = 30 * time.Second

// syncRequest is a block-sync request.
type syncRequest struct {
	_    struct{} `cbor:",toarray"`
	From uint64
	Max  uint32
}

// syncEntry is one block of a block-sync answer.
type syncEntry struct {
	_      struct{} `cbor:",toarray"`
	Block  []byte
	Commit []byte
	Txs    [][]byte
}

// syncedBlock is a block fetched by block sync whose commit verified and
// whose transactions passed the stateless check; the consensus loop checks
// them against the store and commits.
type syncedBlock struct {
	block  *ledger.Block
	cid    cid.Cid
	commit *ledger.Commit
	txs    []*ledger.VerifiedTx
}

// blockSync serves and fetches blocks. run is its only goroutine.
type blockSync struct {
	host     *p2p.Host
	store    *ledger.Store
	verifier *verifier
	engine   *bftEngine
	retry    time.Duration
	log      *slog.Logger
	metrics  *Metrics
}

// serve answers a block-sync request from the store.
func (s *blockSync) serve(_ context.Context, _ peer.ID, req []byte) ([]byte, error) {
	if len(req) > MaxSyncRequestBytes {
		return nil, malformedMsg("sync request of %d bytes", len(req))
	}
	var r syncRequest
	if err := decodeCanonical(req, &r); err != nil {
		return nil, fmt.Errorf("sync request: %w", err)
	}
	var out []syncEntry
	size := 0
	for h := r.From; h <= s.store.Height() && len(out) < int(min(r.Max, MaxSyncBlocks)) && size < SyncSoftBytes; h++ {
		e, err := s.entry(h)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		size += len(e.Block) + len(e.Commit)
		for _, t := range e.Txs {
			size += len(t) + 4
		}
	}
	return mustEncode(out), nil
}

// entry reads block h, its commit and its transactions from the store.
func (s *blockSync) entry(h uint64) (syncEntry, error) {
	b, _, err := s.store.BlockByHeight(h)
	if err != nil {
		return syncEntry{}, fmt.Errorf("read block %d: %w", h, err)
	}
	c, err := s.store.Commit(h)
	if err != nil {
		return syncEntry{}, fmt.Errorf("read commit %d: %w", h, err)
	}
	e := syncEntry{Txs: make([][]byte, len(b.Txs))}
	if e.Block, err = b.Encode(); err != nil {
		return syncEntry{}, err
	}
	if e.Commit, err = c.Encode(); err != nil {
		return syncEntry{}, err
	}
	for i, tc := range b.Txs {
		id, err := ledger.TxIDFromCID(tc)
		if err != nil {
			return syncEntry{}, err
		}
		if e.Txs[i], _, err = s.store.Tx(id); err != nil {
			return syncEntry{}, fmt.Errorf("read tx %s of block %d: %w", id, h, err)
		}
	}
	return e, nil
}

// run fetches blocks whenever kicked, a peer announces a height, or every
// retry interval, until ctx is done.
func (s *blockSync) run(ctx context.Context) {
	tick := time.NewTicker(s.retry)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.engine.kick:
		case <-s.host.HeightChanged():
		case <-tick.C:
		}
		s.catchUp(ctx)
	}
}

// catchUp fetches blocks from the peers ahead of us until none is.
func (s *blockSync) catchUp(ctx context.Context) {
	for ctx.Err() == nil {
		tip := s.store.Height()
		p, ok := s.bestPeer(tip)
		if !ok {
			return
		}
		n, err := s.fetchFrom(ctx, p, tip)
		if err != nil {
			s.log.Info("block sync failed", logKeyPeer, p, logKeyHeight, tip+1, logKeyErr, err)
			return
		}
		if n == 0 {
			return
		}
	}
}

// bestPeer returns the peer announcing the highest height above tip.
func (s *blockSync) bestPeer(tip uint64) (peer.ID, bool) {
	peers := s.host.Peers()
	slices.SortStableFunc(peers, func(a, b p2p.PeerInfo) int { return cmp.Compare(b.Height, a.Height) })
	if len(peers) == 0 || peers[0].Height <= tip {
		return "", false
	}
	return peers[0].ID, true
}

// fetchFrom asks p for the blocks after tip, verifies them and hands them to
// the consensus loop; it returns how many were stored.
func (s *blockSync) fetchFrom(ctx context.Context, p peer.ID, tip uint64) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	req := mustEncode(syncRequest{From: tip + 1, Max: MaxSyncBlocks})
	resp, err := s.host.Request(ctx, p, reqBlocks, req, MaxSyncResponseBytes)
	if err != nil {
		return 0, err
	}
	return s.deliver(ctx, resp)
}

// deliver verifies an answer block by block and hands each block to the
// consensus loop as soon as it is verified, so that the loop stores one
// block while the next is verified; it then waits for the loop's answers
// and returns how many blocks were handed over.
func (s *blockSync) deliver(ctx context.Context, resp []byte) (int, error) {
	done := make(chan error, MaxSyncBlocks)
	posted := 0
	err := s.verifyResponse(ctx, resp, func(sb *syncedBlock) {
		s.engine.post(syncedIn{blocks: []*syncedBlock{sb}, done: done})
		posted++
	})
	for range posted {
		select {
		case aerr := <-done:
			err = errors.Join(err, aerr)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	s.metrics.synced(posted)
	return posted, err
}

// verifyResponse decodes an answer and checks, for each block in turn,
// that it extends the previous one (the first our tip), that its commit
// proves it final, and that its transactions are the block's and pass the
// stateless check; it calls emit with each block that passed, up to the
// first that did not, and returns that one's error. The number of blocks
// is bounded by the decoder (MaxSyncBlocks are asked for).
func (s *blockSync) verifyResponse(ctx context.Context, resp []byte, emit func(*syncedBlock)) error {
	var entries []syncEntry
	if err := decodeCanonical(resp, &entries); err != nil {
		return fmt.Errorf("sync response: %w", err)
	}
	if len(entries) > MaxSyncBlocks {
		return malformedMsg("sync response of %d blocks", len(entries))
	}
	prev, prevCID, err := s.store.LatestBlock()
	if err != nil {
		return fmt.Errorf("read newest block: %w", err)
	}
	for _, e := range entries {
		b, err := ledger.DecodeBlock(e.Block)
		if err != nil {
			return err
		}
		if b.Height <= prev.Height {
			continue // committed meanwhile by consensus
		}
		sb, err := s.verifyEntry(ctx, e, b, prev, prevCID)
		if err != nil {
			return err
		}
		emit(sb)
		prev, prevCID = sb.block, sb.cid
	}
	return nil
}

// verifyEntry checks one synced block b (decoded from e) as the child of
// prev, and its transactions' signatures. What needs the caretaker set or
// the parameters of b's height (its header's caretakers hash, its commit)
// is checked by applySynced, once the blocks before it are stored: an
// election in one of them may change the set that signs b.
func (s *blockSync) verifyEntry(ctx context.Context, e syncEntry, b, prev *ledger.Block, prevCID cid.Cid) (*syncedBlock, error) {
	sb := &syncedBlock{block: b, cid: ledger.BlockCID(e.Block)}
	switch {
	case b.Height != prev.Height+1:
		return nil, invalidBlock(b.Height, "height after %d", prev.Height)
	case !b.Prev.Equals(prevCID):
		return nil, invalidBlock(b.Height, "prev %s, want %s", b.Prev, prevCID)
	}
	var err error
	if sb.commit, err = ledger.DecodeCommit(e.Commit); err != nil {
		return nil, err
	}
	if len(e.Txs) != len(b.Txs) {
		return nil, invalidBlock(b.Height, "%d transactions sent for %d", len(e.Txs), len(b.Txs))
	}
	if sb.txs, err = verifyAll(ctx, e.Txs, b.Txs); err != nil {
		return nil, err
	}
	return sb, nil
}

// applySynced (loop) checks synced blocks against the store, stores them,
// and moves consensus to the height after the new tip. Blocks that no
// longer extend the tip are skipped. An invalid block is returned as an
// error to the syncer only (the engine goes on); a store failure stops
// the engine.
func (e *bftEngine) applySynced(blocks []*syncedBlock) (syncErr, fatal error) {
	stored := false
	for _, sb := range blocks {
		prev, prevCID, err := e.app.store.LatestBlock()
		if err != nil {
			return nil, fmt.Errorf("read newest block: %w", err)
		}
		if sb.block.Height != prev.Height+1 || !sb.block.Prev.Equals(prevCID) {
			continue
		}
		checked, err := e.verifier.executeSynced(prev, prevCID, sb)
		if err != nil {
			syncErr = err
			break
		}
		p := &proposal{block: sb.block, cid: sb.cid, txs: checked, built: time.Now()}
		if err := e.app.CommitBlock(p, sb.commit); err != nil {
			return nil, err
		}
		e.dropEvidence(sb.block)
		stored = true
	}
	if tip := e.app.tip.Load().height; stored && tip >= e.height.Load() {
		e.log.Info("caught up by block sync", logKeyHeight, tip)
		return syncErr, e.afterCommit(tip)
	}
	return syncErr, nil
}
