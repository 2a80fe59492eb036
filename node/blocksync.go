package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
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
	// checkTx checks a synced transaction's bytes (syncCheck).
	checkTx txCheck
}

// syncCheck returns the check of synced transactions: ledger.Verify when
// signatures are checked again, otherwise ledger.VerifyCommitted, which
// takes them on the trust of the block's commit. That is sound because
// applySynced verifies the commit before a block is executed or stored.
func syncCheck(verifySignatures bool) txCheck {
	if verifySignatures {
		return ledger.Verify
	}
	return ledger.VerifyCommitted
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
	var e syncEntry
	if e.Block, err = b.Encode(); err != nil {
		return syncEntry{}, err
	}
	if e.Commit, err = c.Encode(); err != nil {
		return syncEntry{}, err
	}
	if e.Txs, err = s.store.BlockTxs(b); err != nil {
		return syncEntry{}, fmt.Errorf("read transactions of block %d: %w", h, err)
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
// next answer is requested while this one is verified, and blocks are
// verified while earlier ones are stored, across answers (syncWindowBytes).
func (s *blockSync) catchUp(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // before the wait: stops the fetcher
	d, err := s.newDelivery()
	if err != nil {
		s.log.Info("block sync failed", logKeyErr, err)
		return
	}
	answers := make(chan syncAnswer, syncAhead)
	wg.Go(func() { s.fetchAhead(ctx, d.prev.Height+1, answers) })
	began := time.Now()
	defer func() {
		if d.stored > 0 {
			secs := time.Since(began).Seconds()
			s.log.Info("synced blocks", "blocks", d.stored, logKeyHeight, s.store.Height(), "seconds", math.Round(secs*100)/100,
				"blocks_per_s", math.Round(float64(d.stored)/secs*10)/10)
		}
	}()
	for a := range answers {
		n := 0
		err := a.err
		if err == nil {
			n, err = d.entries(ctx, a.entries)
		}
		if err == nil && n == 0 {
			break
		}
		if err != nil {
			s.metrics.syncFailed()
			s.log.Info("block sync failed", logKeyPeer, a.peer, logKeyHeight, a.from, logKeyErr, err)
			break
		}
	}
	if err := d.wait(ctx); err != nil {
		s.metrics.syncFailed()
		s.log.Info("block sync failed", logKeyErr, err)
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

// deliver decodes an answer, delivers its blocks and waits until they
// are stored; it returns how many blocks were handed over.
func (s *blockSync) deliver(ctx context.Context, resp []byte) (int, error) {
	entries, err := decodeSyncAnswer(resp)
	if err != nil {
		return 0, err
	}
	d, err := s.newDelivery()
	if err != nil {
		return 0, err
	}
	n, err := d.entries(ctx, entries)
	return n, errors.Join(err, d.wait(ctx))
}

// syncWindowBytes bounds the transaction bytes of the verified blocks
// handed to the consensus loop and not yet stored (at least one block is
// handed over): verification runs up to that far ahead of storing, also
// past the end of an answer, holding no more than one answer's worth, as
// before when an answer was verified ahead of the store.
const syncWindowBytes = SyncSoftBytes

// delivery hands verified blocks to the consensus loop in chain order,
// at most syncWindowBytes of them unstored at a time. It is used by one
// goroutine.
type delivery struct {
	s       *blockSync
	prev    *ledger.Block // the last block handed over, at first our tip
	prevCID cid.Cid
	done    chan syncDone // the loop's answers, one per block, in order
	pending []int         // transaction bytes of the blocks handed over and not answered
	bytes   int           // their sum
	stored  int           // blocks the loop stored (not those consensus stored first)
	err     error         // the first failed answer
}

func (s *blockSync) newDelivery() (*delivery, error) {
	prev, prevCID, err := s.store.LatestBlock()
	if err != nil {
		return nil, fmt.Errorf("read newest block: %w", err)
	}
	return &delivery{s: s, prev: prev, prevCID: prevCID, done: make(chan syncDone, MaxSyncBlocks)}, nil
}

// entries verifies an answer's entries after the last block handed over
// and hands each verified block to the loop, waiting for room in the
// window; it returns how many were handed over, and the first error of
// the verification or of the loop's answers so far.
func (d *delivery) entries(ctx context.Context, entries []syncEntry) (int, error) {
	if d.s.store.Height() > d.prev.Height { // consensus stored blocks meanwhile
		if err := d.wait(ctx); err != nil {
			return 0, err
		}
		var err error
		if d.prev, d.prevCID, err = d.s.store.LatestBlock(); err != nil {
			return 0, fmt.Errorf("read newest block: %w", err)
		}
	}
	n := 0
	err := d.s.verifyEntries(ctx, entries, d.prev, d.prevCID, func(sb *syncedBlock, size int) error {
		for len(d.pending) > 0 && (len(d.pending) >= MaxSyncBlocks || d.bytes+size > syncWindowBytes) {
			if err := d.collect(ctx); err != nil {
				return err
			}
		}
		if d.err != nil {
			return d.err
		}
		d.s.engine.post(syncedIn{blocks: []*syncedBlock{sb}, done: d.done})
		d.pending = append(d.pending, size)
		d.bytes += size
		n++
		d.prev, d.prevCID = sb.block, sb.cid
		return nil
	})
	return n, errors.Join(err, d.err)
}

// collect waits for one answer of the loop.
func (d *delivery) collect(ctx context.Context) error {
	select {
	case r := <-d.done:
		d.bytes -= d.pending[0]
		d.pending = d.pending[1:]
		d.stored += r.stored
		d.s.metrics.synced(r.stored)
		d.err = cmp.Or(d.err, r.err)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait waits until every block handed over is answered and returns the
// first failed answer.
func (d *delivery) wait(ctx context.Context) error {
	for len(d.pending) > 0 {
		if err := d.collect(ctx); err != nil {
			return err
		}
	}
	return d.err
}

// verifyEntries checks, for each block of an answer in turn, that it
// extends the previous one (the first prev), that its commit proves it
// final, and that its transactions are the block's and pass the stateless
// check; it calls emit with each block that passed, up to the first that
// did not or that emit refused, and returns that error. emit is given
// the block's transaction bytes too.
func (s *blockSync) verifyEntries(ctx context.Context, entries []syncEntry, prev *ledger.Block, prevCID cid.Cid, emit func(*syncedBlock, int) error) error {
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
		size := 0
		for _, t := range e.Txs {
			size += len(t)
		}
		if err := emit(sb, size); err != nil {
			return err
		}
		prev, prevCID = sb.block, sb.cid
	}
	return nil
}

// verifyEntry checks one synced block b (decoded from e) as the child of
// prev, and its transactions (s.checkTx). What needs the caretaker set or
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
	if sb.txs, err = verifyAll(ctx, s.checkTx, e.Txs, b.Txs); err != nil {
		return nil, fmt.Errorf("block %d: %w", b.Height, err)
	}
	return sb, nil
}

// applySynced (loop) checks synced blocks against the store, stores them,
// and moves consensus to the height after the new tip; it returns how
// many it stored. Blocks that no longer extend the tip (consensus stored
// their height meanwhile) are skipped. An invalid block is returned as an
// error to the syncer only (the engine goes on); a store failure stops
// the engine.
func (e *bftEngine) applySynced(blocks []*syncedBlock) (stored int, syncErr, fatal error) {
	for _, sb := range blocks {
		prev, prevCID, err := e.app.store.LatestBlock()
		if err != nil {
			return stored, nil, fmt.Errorf("read newest block: %w", err)
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
			return stored, nil, err
		}
		e.dropEvidence(sb.block)
		stored++
	}
	if tip := e.app.tip.Load().height; stored > 0 && tip >= e.height.Load() {
		e.log.Debug("caught up by block sync", logKeyHeight, tip)
		return stored, syncErr, e.afterCommit(tip)
	}
	return stored, syncErr, nil
}
