package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/ipdb/ipdb-node/governance"
	"github.com/ipdb/ipdb-node/ledger"
)

// engine decides when a block is made and makes it final. The solo engine
// below is the single-caretaker one; the federation's BFT engine will drive
// the same application later.
type engine interface {
	// Run produces blocks until ctx is done, finishing the block in
	// progress, and returns nil then; it returns an error only when a block
	// cannot be built or stored.
	Run(ctx context.Context) error
}

// application is the ledger side an engine drives, one block at a time. Its
// calls must be serialised.
type application interface {
	// ProposeBlock builds the next block from at most maxTxs pending
	// transactions, each checked again against the committed ledger. It
	// returns nil when no pending transaction is valid: there are no empty
	// blocks.
	ProposeBlock(maxTxs int) (*proposal, error)
	// CommitBlock stores a proposed block with the commit that made it final,
	// then publishes its events and releases its waiters.
	CommitBlock(p *proposal, c *ledger.Commit) error
}

// pendingSource is what the engine watches to know when to cut a block.
type pendingSource interface {
	// Pending returns how many transactions wait and when the oldest came.
	Pending() (int, time.Time)
	// Ready is signalled when a transaction arrives in an empty backlog or a
	// full block's worth waits.
	Ready() <-chan struct{}
}

// proposal is a block built by ProposeBlock and the transactions it holds.
type proposal struct {
	block *ledger.Block
	cid   cid.Cid
	txs   []*ledger.CheckedTx
	built time.Time // when building started, for the commit-time metric
}

// soloEngine is the engine of a network of one caretaker: it cuts a block
// when maxTxs transactions are pending or interval has passed since the
// oldest pending one arrived, signs its commit alone, and commits it.
type soloEngine struct {
	app      application
	src      pendingSource
	key      ledger.KeyPair
	chainID  string
	gov      *govBook // nil in tests of the engine alone: genesis rules
	maxTxs   int
	interval time.Duration
}

// Run implements engine. Time is read through the time package only, so
// tests drive it with testing/synctest.
func (e *soloEngine) Run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		n, oldest := e.src.Pending()
		var fire <-chan time.Time // nil: no timer armed
		if n > 0 {
			wait := e.interval - time.Since(oldest)
			if n >= e.maxTxs || wait <= 0 {
				if err := e.produce(); err != nil {
					return err
				}
				continue
			}
			timer.Reset(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-e.src.Ready():
		case <-fire:
		}
		timer.Stop()
	}
}

// produce proposes a block and, when there is one, signs and commits it.
// It stops (an error) when an election has made a set in which this
// caretaker alone no longer makes a block final: the node must then run
// the federation, which it chooses when it starts.
func (e *soloEngine) produce() error {
	maxTxs := e.maxTxs
	if e.gov != nil {
		next := e.gov.height() + 1
		if err := soloPower(e.gov.state().SetAt(next), e.chainID, e.key.PublicBase58()); err != nil {
			return fmt.Errorf("%w; restart the node so that it runs the federation", err)
		}
		maxTxs = int(min(uint64(maxTxs), e.gov.paramsAt(next).MaxBlockTxs))
	}
	p, err := e.app.ProposeBlock(maxTxs)
	if err != nil || p == nil {
		return err
	}
	return e.app.CommitBlock(p, signCommit(e.key, e.chainID, p.block.Height, 0, p.cid))
}

// signCommit returns the commit of block c at height h signed by key alone.
func signCommit(key ledger.KeyPair, chainID string, h uint64, round uint32, c cid.Cid) *ledger.Commit {
	sig := ed25519.Sign(key.Private, ledger.CommitSignBytes(chainID, h, round, c))
	return &ledger.Commit{Height: h, Round: round, Block: c,
		Signatures: []ledger.CommitSig{{PublicKey: []byte(key.Public), Signature: sig}}}
}

// tipInfo is what Status reports of the newest block.
type tipInfo struct {
	height uint64
	cid    cid.Cid
	time   time.Time
}

// ledgerApp is the application over the Badger store: blocks from the
// backlog, stored, then announced.
type ledgerApp struct {
	store       *ledger.Store
	backlog     *backlog
	events      *events
	metrics     *Metrics
	gov         *govBook
	maxTxs      int // our configured block limit
	chainID     string
	log         *slog.Logger
	govEvents   *govEvents     // election events for the stream
	onSetChange func(h uint64) // after a commit that changed the caretaker set of h+1; nil: nothing to tell

	announce func(height uint64)   // tells peers our height after each commit; nil without p2p
	evidence []ledger.Equivocation // engine goroutine only: evidence for the next block built

	tip        atomic.Pointer[tipInfo] // read by Status from any goroutine
	lastCommit time.Time               // engine goroutine only
}

// loadTip reads the newest block into tip.
func (a *ledgerApp) loadTip() error {
	b, c, err := a.store.LatestBlock()
	if err != nil {
		return fmt.Errorf("read newest block: %w", err)
	}
	a.setTip(b, c)
	return nil
}

func (a *ledgerApp) setTip(b *ledger.Block, c cid.Cid) {
	a.tip.Store(&tipInfo{height: b.Height, cid: c, time: time.UnixMilli(b.Time).UTC()})
	a.metrics.setHeight(b.Height)
}

// ProposeBlock implements application. When a reaped transaction fails
// its check against the committed ledger, it is dropped from the backlog
// (with what depended on it, and their waiters failed) and no block is
// proposed this time: the engine asks again.
func (a *ledgerApp) ProposeBlock(maxTxs int) (*proposal, error) {
	vs := a.backlog.Reap(maxTxs)
	if len(vs) == 0 {
		return nil, nil
	}
	built := time.Now()
	txs, err := a.recheck(vs)
	if err != nil || txs == nil {
		return nil, err
	}
	b, err := a.nextBlock(built, txs)
	if err != nil {
		return nil, err
	}
	c, err := b.CID()
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", b.Height, err)
	}
	return &proposal{block: b, cid: c, txs: txs, built: built}, nil
}

// recheck checks vs in a batch over the committed ledger. It returns nil
// (and no error) after dropping the transactions that failed.
func (a *ledgerApp) recheck(vs []*ledger.VerifiedTx) ([]*ledger.CheckedTx, error) {
	batch := ledger.NewBatch(a.store, a.gov.checker(a.store.Height()+1))
	var gone []dropped
	for _, v := range vs {
		if _, err := batch.Add(v); err != nil {
			if !isInvalid(err) {
				return nil, fmt.Errorf("check tx %s: %w", v.Tx().ID, err)
			}
			a.log.Debug("transaction dropped at block time", logKeyTx, v.Tx().ID, logKeyErr, err)
			gone = append(gone, dropped{ID: v.Tx().ID, Err: err})
		}
	}
	if len(gone) == 0 {
		return batch.Checked(), nil
	}
	all := a.backlog.Drop(gone)
	for range all {
		a.metrics.Rejected("dropped_at_block")
	}
	a.events.Fail(all)
	return nil, nil
}

// nextBlock builds the block after the newest one holding txs.
func (a *ledgerApp) nextBlock(now time.Time, txs []*ledger.CheckedTx) (*ledger.Block, error) {
	prev, prevCID, err := a.store.LatestBlock()
	if err != nil {
		return nil, fmt.Errorf("read newest block: %w", err)
	}
	var last *ledger.Commit
	if prev.Height > 0 {
		if last, err = a.store.Commit(prev.Height); err != nil {
			return nil, fmt.Errorf("read commit of block %d: %w", prev.Height, err)
		}
	}
	ids := make([]cid.Cid, len(txs))
	for i, t := range txs {
		ids[i] = t.Tx().CID()
	}
	return &ledger.Block{
		ChainID:        a.chainID,
		Height:         prev.Height + 1,
		Time:           max(now.UnixMilli(), prev.Time),
		Prev:           prevCID,
		Txs:            ids,
		StateHash:      ledger.NextStateHash(prev.StateHash, txs),
		CaretakersHash: a.gov.setAt(prev.Height + 1).hash,
		LastCommit:     last,
		Evidence:       evidenceFor(a.evidence, prev.Height+1),
	}, nil
}

// evidenceFor returns the evidence of evs that a block at height h may
// carry (of earlier heights), in block order; nil when none.
func evidenceFor(evs []ledger.Equivocation, h uint64) []ledger.Equivocation {
	var out []ledger.Equivocation
	for _, e := range evs {
		if e.Height < h && len(out) < ledger.MaxBlockEvidence {
			out = append(out, e)
		}
	}
	ledger.SortEvidence(out)
	return slices.CompactFunc(out, func(a, b ledger.Equivocation) bool {
		return bytes.Equal(a.PublicKey, b.PublicKey) && a.Height == b.Height && a.Round == b.Round && a.Type == b.Type
	})
}

// CommitBlock implements application: only once the store has the block
// are its transactions removed from the backlog, its events published and
// its waiters released.
func (a *ledgerApp) CommitBlock(p *proposal, c *ledger.Commit) error {
	b := p.block
	gs, gevs, err := a.commitStore(p, c)
	if err != nil {
		return err
	}
	a.installGovernance(b.Height, gs)
	ids := make([]string, len(p.txs))
	evs := make([]Event, len(p.txs))
	for i, t := range p.txs {
		tx := t.Tx()
		ids[i] = tx.ID
		evs[i] = Event{TxID: tx.ID, AssetID: tx.AssetID(), Height: b.Height, BlockCID: p.cid}
	}
	a.events.Fail(a.backlog.Committed(ids))
	a.setTip(b, p.cid)
	if a.announce != nil {
		a.announce(b.Height)
	}
	a.events.Publish(evs)
	a.publishGovernance(gevs)
	now := time.Now()
	var since time.Duration
	if !a.lastCommit.IsZero() {
		since = now.Sub(a.lastCommit)
	}
	a.lastCommit = now
	a.metrics.committedBlock(b.Height, len(p.txs), now.Sub(p.built), since)
	a.log.Debug("block committed", logKeyHeight, b.Height, logKeyBlock, p.cid, logKeyTxs, len(p.txs))
	return nil
}

// commitStore stores block p with commit c and, when its transactions
// change the governance state, the new state in the same write. It returns
// the new state's snapshot (nil when unchanged) and its events.
func (a *ledgerApp) commitStore(p *proposal, c *ledger.Commit) (*govSnap, []governance.Event, error) {
	b := p.block
	cur := a.gov.state()
	next, evs, err := cur.Apply(b.Height, p.txs)
	if err != nil {
		return nil, nil, fmt.Errorf("governance of block %d: %w", b.Height, err)
	}
	var enc []byte
	var snap *govSnap
	if next != cur {
		if enc, err = next.Encode(); err != nil {
			return nil, nil, fmt.Errorf("governance of block %d: %w", b.Height, err)
		}
		if snap, err = a.gov.prepare(next); err != nil {
			return nil, nil, fmt.Errorf("governance of block %d: %w", b.Height, err)
		}
	}
	rows, err := a.gov.usageRows(b.Height, p.txs)
	if err != nil {
		return nil, nil, fmt.Errorf("block %d: %w", b.Height, err)
	}
	if err := a.store.CommitBlockApp(b, c, p.txs, ledger.AppWrite{State: enc, Rows: rows}); err != nil {
		return nil, nil, fmt.Errorf("commit block %d: %w", b.Height, err)
	}
	return snap, evs, nil
}

// installGovernance installs snap (when not nil), the governance state in
// force after block h, before the backlog is rechecked; it updates the
// backlog's limits and tells p2p when the caretaker set of h+1 differs from
// h's.
func (a *ledgerApp) installGovernance(h uint64, snap *govSnap) {
	if snap == nil {
		return
	}
	before := a.gov.setAt(h + 1)
	a.gov.snap.Store(snap)
	params := a.gov.paramsAt(h + 1)
	a.backlog.setLimits(int(min(uint64(a.maxTxs), params.MaxBlockTxs)), params.MaxTxBytes)
	after := a.gov.setAt(h + 1)
	if bytes.Equal(before.hash, after.hash) {
		return
	}
	a.log.Info("caretaker set changes", logKeyHeight, h+1, "caretakers", after.vals.Len(), "total_power", after.total)
	if a.onSetChange != nil {
		a.onSetChange(h)
	}
}

// publishGovernance logs and publishes the election events of a block.
func (a *ledgerApp) publishGovernance(evs []governance.Event) {
	for _, ev := range evs {
		a.log.Info("election "+strings.TrimPrefix(ev.Type, "election_"), logKeyHeight, ev.Height, "election", ev.ElectionID, "kind", ev.Kind, "status", ev.Status)
	}
	a.govEvents.publish(evs)
}
