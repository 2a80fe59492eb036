package node

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
)

// fakeApp is an application over a MemState: blocks without a store, for
// the engine's timer logic.
type fakeApp struct {
	backlog *backlog
	state   *ledger.MemState
	fail    error // returned by CommitBlock when set

	mu     sync.Mutex // guards blocks
	blocks []fakeBlock
}

type fakeBlock struct {
	txs int
	at  time.Time
}

func (a *fakeApp) ProposeBlock(maxTxs int) (*proposal, error) {
	vs := a.backlog.Reap(maxTxs)
	if len(vs) == 0 {
		return nil, nil
	}
	batch := ledger.NewBatch(a.state, ledger.Checker{})
	for _, v := range vs {
		if _, err := batch.Add(v); err != nil {
			return nil, err
		}
	}
	txs := batch.Checked()
	return &proposal{block: &ledger.Block{Height: uint64(len(a.blocks) + 1)}, cid: txs[0].Tx().CID(), txs: txs}, nil
}

func (a *fakeApp) CommitBlock(p *proposal, _ *ledger.Commit) error {
	if a.fail != nil {
		return a.fail
	}
	ids := make([]string, len(p.txs))
	for i, c := range p.txs {
		a.state.Apply(c)
		ids[i] = c.Tx().ID
	}
	a.backlog.Committed(ids)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.blocks = append(a.blocks, fakeBlock{txs: len(p.txs), at: time.Now()})
	return nil
}

func (a *fakeApp) made() []fakeBlock {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]fakeBlock(nil), a.blocks...)
}

// engineHarness runs a solo engine over a fakeApp inside a synctest bubble.
type engineHarness struct {
	t      *testing.T
	app    *fakeApp
	owner  ledger.KeyPair
	n      int // txs made so far
	cancel context.CancelFunc
	done   chan error
}

func startEngine(t *testing.T, maxTxs int, interval time.Duration, fail error) *engineHarness {
	t.Helper()
	st := ledger.NewMemState()
	b := newBacklog(st, ledger.Checker{}, 1000, 1<<30, maxTxs)
	h := &engineHarness{t: t, app: &fakeApp{backlog: b, state: st, fail: fail}, owner: newKey(t, 1), done: make(chan error, 1)}
	e := &soloEngine{app: h.app, src: b, key: h.owner, chainID: "test", maxTxs: maxTxs, interval: interval}
	ctx, cancel := context.WithCancel(t.Context())
	h.cancel = cancel
	go func() { h.done <- e.Run(ctx) }()
	return h
}

func (h *engineHarness) add(n int) {
	h.t.Helper()
	for range n {
		mustAdd(h.t, h.app.backlog, createTx(h.t, h.owner, h.n, 1))
		h.n++
	}
}

// stop cancels the engine and returns what Run returned.
func (h *engineHarness) stop() error {
	h.cancel()
	return <-h.done
}

func wantBlocks(t *testing.T, got []fakeBlock, want ...fakeBlock) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("engine made %d blocks %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i].txs != want[i].txs || !got[i].at.Equal(want[i].at) {
			t.Fatalf("block %d = %d txs at %v, want %d txs at %v", i+1, got[i].txs, got[i].at, want[i].txs, want[i].at)
		}
	}
}

func TestEngineCutsByCount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startEngine(t, 3, time.Hour, nil)
		start := time.Now()
		h.add(2)
		synctest.Wait()
		wantBlocks(t, h.app.made())
		h.add(1)
		synctest.Wait()
		wantBlocks(t, h.app.made(), fakeBlock{3, start})
		if err := h.stop(); err != nil {
			t.Fatalf("Run()=%v, want nil", err)
		}
	})
}

func TestEngineCutsByInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = 20 * time.Millisecond
		h := startEngine(t, 1000, interval, nil)
		start := time.Now()
		h.add(1)
		synctest.Wait()
		time.Sleep(interval / 2)
		h.add(1) // the interval counts from the oldest pending tx
		time.Sleep(interval/2 - time.Nanosecond)
		synctest.Wait()
		wantBlocks(t, h.app.made())
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		wantBlocks(t, h.app.made(), fakeBlock{2, start.Add(interval)})
		time.Sleep(time.Hour) // no empty blocks
		wantBlocks(t, h.app.made(), fakeBlock{2, start.Add(interval)})
		if err := h.stop(); err != nil {
			t.Fatalf("Run()=%v, want nil", err)
		}
	})
}

func TestEngineFullBacklogThenRemainder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = 20 * time.Millisecond
		h := startEngine(t, 2, interval, nil)
		start := time.Now()
		h.add(5)
		synctest.Wait()
		// Two full blocks at once; the last tx has waited since start, so
		// it goes when the interval from its arrival has passed.
		wantBlocks(t, h.app.made(), fakeBlock{2, start}, fakeBlock{2, start})
		time.Sleep(interval)
		synctest.Wait()
		wantBlocks(t, h.app.made(), fakeBlock{2, start}, fakeBlock{2, start}, fakeBlock{1, start.Add(interval)})
		if err := h.stop(); err != nil {
			t.Fatalf("Run()=%v, want nil", err)
		}
	})
}

func TestEngineStopsOnCommitError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("disk on fire")
		h := startEngine(t, 1, time.Hour, boom)
		h.add(1)
		if err := <-h.done; !errors.Is(err, boom) {
			t.Fatalf("Run()=%v, want %v", err, boom)
		}
		h.cancel()
	})
}

// ledgerHarness is a ledgerApp over a real store in a temporary directory,
// driven step by step (no timers).
type ledgerHarness struct {
	store   *ledger.Store
	doc     *genesis.Doc
	key     ledger.KeyPair
	backlog *backlog
	events  *events
	app     *ledgerApp
	engine  *soloEngine
}

func newLedgerHarness(t *testing.T, genesisTime time.Time, maxTxs int) *ledgerHarness {
	t.Helper()
	key := newKey(t, 9)
	doc := genesis.Dev("test-chain", key, genesisTime)
	st, err := ledger.OpenStore(t.TempDir(), ledger.StoreOptions{})
	if err != nil {
		t.Fatalf("OpenStore()=%v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.InitGenesis(doc.Block()); err != nil {
		t.Fatalf("InitGenesis()=%v", err)
	}
	h := &ledgerHarness{store: st, doc: doc, key: key, events: newEvents(nil)}
	h.backlog = newBacklog(st, ledger.Checker{}, 1000, 1<<30, maxTxs)
	h.app = &ledgerApp{store: st, backlog: h.backlog, events: h.events, chainID: doc.ChainID,
		gov: testGov(t, doc, st), maxTxs: maxTxs, log: testLogger(t)}
	if err := h.app.loadTip(); err != nil {
		t.Fatalf("loadTip()=%v", err)
	}
	h.engine = &soloEngine{app: h.app, src: h.backlog, key: key, chainID: doc.ChainID, maxTxs: maxTxs, interval: time.Hour}
	return h
}

func (h *ledgerHarness) produce(t *testing.T) {
	t.Helper()
	if err := h.engine.produce(); err != nil {
		t.Fatalf("produce()=%v", err)
	}
}

func (h *ledgerHarness) block(t *testing.T, height uint64) *ledger.Block {
	t.Helper()
	b, _, err := h.store.BlockByHeight(height)
	if err != nil {
		t.Fatalf("BlockByHeight(%d)=%v", height, err)
	}
	return b
}

// verifyCommit checks the stored commit of block height against genesis.
func (h *ledgerHarness) verifyCommit(t *testing.T, height uint64) *ledger.Commit {
	t.Helper()
	c, err := h.store.Commit(height)
	if err != nil {
		t.Fatalf("Commit(%d)=%v", height, err)
	}
	_, want, _ := h.store.BlockByHeight(height)
	power := func(pub []byte) uint64 {
		if string(pub) == string(h.key.Public) {
			return h.doc.Caretakers[0].Power
		}
		return 0
	}
	if c.Height != height || c.Block != want {
		t.Fatalf("Commit(%d) is for %d %v, want %v", height, c.Height, c.Block, want)
	}
	if err := c.Verify(h.doc.ChainID, power, h.doc.Caretakers[0].Power); err != nil {
		t.Fatalf("Commit(%d).Verify()=%v", height, err)
	}
	return c
}

func TestLedgerAppBuildsChain(t *testing.T) {
	h := newLedgerHarness(t, time.Now().Add(-time.Hour), 10)
	alice, bob := newKey(t, 1), newKey(t, 2)
	create := createTx(t, alice, 0, 2)
	transfer := transferTx(t, alice, create, 0, bob.Public)
	sub := h.events.Subscribe(10)
	w := h.events.Wait(transfer.ID)
	mustAdd(t, h.backlog, create)
	mustAdd(t, h.backlog, transfer)
	h.produce(t)

	g, gcid, _ := h.store.BlockByHeight(0)
	b1 := h.block(t, 1)
	mem := ledger.NewMemState()
	batch := ledger.NewBatch(mem, ledger.Checker{})
	for _, tx := range []*ledger.Tx{create, transfer} {
		if _, err := batch.Add(verify(t, tx)); err != nil {
			t.Fatalf("Batch.Add()=%v", err)
		}
	}
	if b1.ChainID != "test-chain" || b1.Prev != gcid || len(b1.Txs) != 2 || b1.Txs[0] != create.CID() || b1.Txs[1] != transfer.CID() {
		t.Fatalf("block 1 = %+v, want chain test-chain, prev %v, txs [create transfer]", b1, gcid)
	}
	if string(b1.StateHash) != string(ledger.NextStateHash(g.StateHash, batch.Checked())) {
		t.Fatalf("block 1 state hash %x, want NextStateHash(genesis, txs)", b1.StateHash)
	}
	if string(b1.CaretakersHash) != string(genesis.CaretakersHash(h.doc.Caretakers)) || b1.LastCommit != nil || b1.Time < g.Time {
		t.Fatalf("block 1 = %+v: want the genesis caretakers hash, no last commit, time >= genesis", b1)
	}
	c1 := h.verifyCommit(t, 1)

	if r := <-w.c; r.err != nil || r.height != 1 {
		t.Fatalf("commit waiter got %+v, want height 1", r)
	}
	got, _ := drain(sub)
	_, cid1, _ := h.store.BlockByHeight(1)
	if len(got) != 2 || got[1] != (Event{TxID: transfer.ID, AssetID: create.ID, Height: 1, BlockCID: cid1}) {
		t.Fatalf("events %+v, want create then transfer at height 1 in %v", got, cid1)
	}
	if n, _ := h.backlog.Stats(); n != 0 {
		t.Fatalf("backlog holds %d after commit, want 0", n)
	}

	mustAdd(t, h.backlog, transferTx(t, bob, transfer, 0, alice.Public))
	h.produce(t)
	b2 := h.block(t, 2)
	if b2.Prev != cid1 || b2.LastCommit == nil || b2.LastCommit.Block != c1.Block || b2.Time < b1.Time {
		t.Fatalf("block 2 = %+v, want prev %v, last commit of block 1, time >= %d", b2, cid1, b1.Time)
	}
	h.verifyCommit(t, 2)
	if tip := h.app.tip.Load(); tip.height != 2 {
		t.Fatalf("tip height %d, want 2", tip.height)
	}
	h.produce(t) // nothing pending: no empty block
	if got := h.store.Height(); got != 2 {
		t.Fatalf("Height()=%d after producing with an empty backlog, want 2", got)
	}
}

func TestLedgerAppTimeNeverGoesBack(t *testing.T) {
	future := time.Now().Add(24 * time.Hour).Truncate(time.Millisecond)
	h := newLedgerHarness(t, future, 10)
	mustAdd(t, h.backlog, createTx(t, newKey(t, 1), 0, 1))
	h.produce(t)
	if got := h.block(t, 1).Time; got != future.UnixMilli() {
		t.Fatalf("block 1 time %d, want the genesis time %d (later than the clock)", got, future.UnixMilli())
	}
}

func TestLedgerAppRespectsMaxTxs(t *testing.T) {
	h := newLedgerHarness(t, time.Now(), 2)
	alice := newKey(t, 1)
	var txs []*ledger.Tx
	for i := range 5 {
		txs = append(txs, createTx(t, alice, i, 1))
		mustAdd(t, h.backlog, txs[i])
	}
	h.produce(t)
	b1 := h.block(t, 1)
	if len(b1.Txs) != 2 || b1.Txs[0] != txs[0].CID() || b1.Txs[1] != txs[1].CID() {
		t.Fatalf("block 1 holds %v, want the two oldest txs", b1.Txs)
	}
	if n, _ := h.backlog.Stats(); n != 3 {
		t.Fatalf("backlog holds %d, want 3", n)
	}
}

// TestLedgerAppDropsInvalidAtBlockTime commits a conflicting block behind
// the backlog's back (as another caretaker's block would be): the pending
// spend is dropped at block time and its waiter told why.
func TestLedgerAppDropsInvalidAtBlockTime(t *testing.T) {
	h := newLedgerHarness(t, time.Now(), 10)
	alice, bob, carol := newKey(t, 1), newKey(t, 2), newKey(t, 3)
	create := createTx(t, alice, 0, 1)
	mustAdd(t, h.backlog, create)
	h.produce(t)
	mine := transferTx(t, alice, create, 0, bob.Public)
	mustAdd(t, h.backlog, mine)
	w := h.events.Wait(mine.ID)

	theirs := transferTx(t, alice, create, 0, carol.Public)
	batch := ledger.NewBatch(h.store, ledger.Checker{})
	if _, err := batch.Add(verify(t, theirs)); err != nil {
		t.Fatalf("Batch.Add()=%v", err)
	}
	b, err := h.app.nextBlock(time.Now(), batch.Checked())
	if err != nil {
		t.Fatalf("nextBlock()=%v", err)
	}
	c, _ := b.CID()
	if err := h.store.CommitBlock(b, signCommit(h.key, h.doc.ChainID, b.Height, 0, c), batch.Checked()); err != nil {
		t.Fatalf("CommitBlock()=%v", err)
	}

	h.produce(t)
	if r := <-w.c; !errors.Is(r.err, ledger.ErrDoubleSpend) {
		t.Fatalf("waiter got %+v, want a DoubleSpend error", r)
	}
	if n, _ := h.backlog.Stats(); n != 0 || h.store.Height() != 2 {
		t.Fatalf("backlog holds %d, height %d; want 0 and 2 (no block for the dropped tx)", n, h.store.Height())
	}
}
