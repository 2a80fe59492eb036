package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
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
	// ask is how many blocks a request asks for; 0 means MaxSyncBlocks
	// (tests ask for fewer, to sync over many answers).
	ask uint32
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

// catchUp fetches blocks from the peers ahead of us until none is. The
// next answer is requested while this one is verified and stored, so that
// the peer reads and sends it meanwhile.
func (s *blockSync) catchUp(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // before the wait: stops the fetcher
	answers := make(chan syncAnswer, syncAhead)
	wg.Go(func() { s.fetchAhead(ctx, s.store.Height()+1, answers) })
	for a := range answers {
		n := 0
		err := a.err
		if err == nil {
			n, err = s.deliverEntries(ctx, a.entries)
		}
		if err != nil {
			s.metrics.syncFailed()
			s.log.Info("block sync failed", logKeyPeer, a.peer, logKeyHeight, a.from, logKeyErr, err)
			return
		}
		if n == 0 {
			return
		}
	}
}

// syncAhead is how many block-sync answers may wait, fetched, while one
// is verified: one keeps both sides of sync busy.
const syncAhead = 1

// syncAnswer is one decoded block-sync answer from peer for the blocks
// from height from on, or why there is none.
type syncAnswer struct {
	peer    peer.ID
	from    uint64
	entries []syncEntry
	err     error
}

// fetchAhead requests the blocks from height from on, answer after
// answer, each from the peer announcing the highest height, and sends the
// answers to out until no peer is ahead, an answer is empty or failed (it
// is sent too), or ctx is done; then it closes out.
func (s *blockSync) fetchAhead(ctx context.Context, from uint64, out chan<- syncAnswer) {
	defer close(out)
	for ctx.Err() == nil {
		from = max(from, s.store.Height()+1) // consensus may have stored some meanwhile
		p, ok := s.bestPeer(from - 1)
		if !ok {
			return
		}
		entries, err := s.fetchFrom(ctx, p, from)
		select {
		case out <- syncAnswer{peer: p, from: from, entries: entries, err: err}:
		case <-ctx.Done():
			return
		}
		if err != nil || len(entries) == 0 {
			return
		}
		from += uint64(len(entries))
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

// fetchFrom asks p for the blocks from height from on and decodes its
// answer.
func (s *blockSync) fetchFrom(ctx context.Context, p peer.ID, from uint64) ([]syncEntry, error) {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	ask := s.ask
	if ask == 0 {
		ask = MaxSyncBlocks
	}
	req := mustEncode(syncRequest{From: from, Max: ask})
	resp, err := s.host.Request(ctx, p, reqBlocks, req, MaxSyncResponseBytes)
	if err != nil {
		return nil, err
	}
	return decodeSyncAnswer(resp)
}

// decodeSyncAnswer decodes a block-sync answer of at most MaxSyncBlocks
// entries.
func decodeSyncAnswer(resp []byte) ([]syncEntry, error) {
	var entries []syncEntry
	if err := decodeCanonical(resp, &entries); err != nil {
		return nil, fmt.Errorf("sync response: %w", err)
	}
	if len(entries) > MaxSyncBlocks {
		return nil, malformedMsg("sync response of %d blocks", len(entries))
	}
	return entries, nil
}

// deliver decodes an answer and delivers its entries (deliverEntries).
func (s *blockSync) deliver(ctx context.Context, resp []byte) (int, error) {
	entries, err := decodeSyncAnswer(resp)
	if err != nil {
		return 0, err
	}
	return s.deliverEntries(ctx, entries)
}

// deliverEntries verifies an answer's entries block by block and hands
// each block to the consensus loop as soon as it is verified, so that the
// loop stores one block while the next is verified; it then waits for the
// loop's answers and returns how many blocks were handed over.
func (s *blockSync) deliverEntries(ctx context.Context, entries []syncEntry) (int, error) {
	done := make(chan error, len(entries))
	posted := 0
	err := s.verifyEntries(ctx, entries, func(sb *syncedBlock) {
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

// verifyEntries checks, for each block of an answer in turn, that it
// extends the previous one (the first our tip), that its commit proves it
// final, and that its transactions are the block's and pass the stateless
// check; it calls emit with each block that passed, up to the first that
// did not, and returns that one's error.
func (s *blockSync) verifyEntries(ctx context.Context, entries []syncEntry, emit func(*syncedBlock)) error {
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
