package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

// benchChain is a store with a one-caretaker genesis.
type benchChain struct {
	key   ledger.KeyPair
	gen   *genesis.Doc
	gov   *govBook
	set   *caretakerSet // the genesis set
	store *ledger.Store
}

func newBenchChain(tb testing.TB) *benchChain {
	tb.Helper()
	key := newKey(tb, 9)
	g := genesis.Dev("bench", key, time.Unix(1_700_000_000, 0))
	// The benchmarks sign every transaction with one key: lift its free
	// tier, they measure consensus, not quotas.
	g.Params.FreeTierTxsPerEpoch, g.Params.FreeTierBytesPerEpoch = 1<<53-1, 1<<53-1
	return openBenchChain(tb, key, g)
}

func openBenchChain(tb testing.TB, key ledger.KeyPair, g *genesis.Doc) *benchChain {
	tb.Helper()
	st, err := ledger.OpenStore(tb.TempDir(), ledger.StoreOptions{})
	if err != nil {
		tb.Fatalf("OpenStore()=%v", err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.InitGenesis(g.Block()); err != nil {
		tb.Fatalf("InitGenesis()=%v", err)
	}
	gov := testGov(tb, g, st)
	return &benchChain{key: key, gen: g, gov: gov, set: gov.setAt(1), store: st}
}

// nextBlock returns the block after the tip holding txs, checked.
func (c *benchChain) nextBlock(tb testing.TB, txs []*ledger.Tx) (*ledger.Block, []*ledger.CheckedTx) {
	tb.Helper()
	vtxs := make([]*ledger.VerifiedTx, len(txs))
	for i, tx := range txs {
		vtxs[i] = verify(tb, tx)
	}
	return c.nextBlockOf(tb, vtxs)
}

// nextBlockOf is nextBlock of transactions verified by the caller.
func (c *benchChain) nextBlockOf(tb testing.TB, vtxs []*ledger.VerifiedTx) (*ledger.Block, []*ledger.CheckedTx) {
	tb.Helper()
	batch := ledger.NewBatch(c.store, ledger.Checker{})
	ids := make([]cid.Cid, len(vtxs))
	for i, v := range vtxs {
		if _, err := batch.Add(v); err != nil {
			tb.Fatalf("Batch.Add()=%v", err)
		}
		ids[i] = v.Tx().CID()
	}
	prev, prevCID, err := c.store.LatestBlock()
	if err != nil {
		tb.Fatalf("LatestBlock()=%v", err)
	}
	var last *ledger.Commit
	if prev.Height > 0 {
		if last, err = c.store.Commit(prev.Height); err != nil {
			tb.Fatalf("Commit()=%v", err)
		}
	}
	b := &ledger.Block{ChainID: c.gen.ChainID, Height: prev.Height + 1, Time: prev.Time + 1, Prev: prevCID, Txs: ids,
		StateHash: ledger.NextStateHash(prev.StateHash, batch.Checked()), CaretakersHash: c.set.hash, LastCommit: last}
	return b, batch.Checked()
}

// commitBlocks commits n blocks of perBlock new CREATEs.
func (c *benchChain) commitBlocks(tb testing.TB, n, perBlock int) {
	tb.Helper()
	owner := newKey(tb, 1)
	for range n {
		txs := make([]*ledger.Tx, perBlock)
		base := int(c.store.Height()) * perBlock
		for i := range txs {
			txs[i] = createTx(tb, owner, base+i, 1)
		}
		b, checked := c.nextBlock(tb, txs)
		c.commit(tb, b, checked)
	}
}

// commit commits block b (made by nextBlock) with a commit of c's caretaker.
func (c *benchChain) commit(tb testing.TB, b *ledger.Block, checked []*ledger.CheckedTx) {
	tb.Helper()
	bc := blockCIDOf(tb, b)
	if err := c.store.CommitBlock(b, signCommit(c.key, c.gen.ChainID, b.Height, 0, bc), checked); err != nil {
		tb.Fatalf("CommitBlock()=%v", err)
	}
}

func BenchmarkVerifyProposal(b *testing.B) {
	c := newBenchChain(b)
	owner := newKey(b, 1)
	txs := make([]*ledger.Tx, 1000)
	for i := range txs {
		txs[i] = createTx(b, owner, i, 1)
	}
	blk, _ := c.nextBlock(b, txs)
	cand := &candidate{block: blk, cid: blockCIDOf(b, blk)}
	b.Run("txs_in_backlog", func(b *testing.B) {
		bl := newBacklog(c.store, ledger.Checker{}, 10_000, 1<<30, 1000)
		for _, tx := range txs {
			if err := bl.Add(verify(b, tx)); err != nil {
				b.Fatalf("backlog.Add()=%v", err)
			}
		}
		v := &verifier{store: c.store, backlog: bl, gov: c.gov}
		for b.Loop() {
			if _, err := v.verify(b.Context(), cand); err != nil {
				b.Fatalf("verify()=%v", err)
			}
		}
		b.ReportMetric(float64(len(txs))*float64(b.N)/b.Elapsed().Seconds(), "txs/s")
	})
	b.Run("txs_fetched", func(b *testing.B) { // the stateless check of fetched bytes, without the network
		raws := make([][]byte, len(txs))
		for i, tx := range txs {
			raws[i] = tx.Canonical()
		}
		v := &verifier{store: c.store, backlog: newBacklog(c.store, ledger.Checker{}, 10, 1<<20, 10), gov: c.gov}
		prev, prevCID, _ := c.store.LatestBlock()
		for b.Loop() {
			if err := v.checkHeader(blk, prev, prevCID, time.Now()); err != nil {
				b.Fatalf("checkHeader()=%v", err)
			}
			vtxs, err := verifyAll(b.Context(), ledger.Verify, raws, blk.Txs)
			if err != nil {
				b.Fatalf("verifyAll()=%v", err)
			}
			if _, err := v.execute(prev, blk, vtxs); err != nil {
				b.Fatalf("execute()=%v", err)
			}
		}
		b.ReportMetric(float64(len(txs))*float64(b.N)/b.Elapsed().Seconds(), "txs/s")
	})
}

// BenchmarkSyncBlocks measures block sync without the network: the
// client's side of one answer (8 blocks of 1,000 txs, made by the server
// beforehand): decode, verify each commit and the txs (in parallel),
// re-execute and store each block, the store of one block overlapping the
// verification of the next.
func BenchmarkSyncBlocks(b *testing.B) {
	const blocks, perBlock = 8, 1000
	src, resp := servedChain(b, blocks, perBlock)
	for _, verifySignatures := range []bool{false, true} {
		name := "signatures_on_trust"
		if verifySignatures {
			name = "signatures_checked"
		}
		b.Run(name, func(b *testing.B) {
			stored := 0
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				dst := openBenchChain(b, src.key, src.gen)
				e, stop := startSyncEngine(dst)
				e.sync.checkTx = syncCheck(verifySignatures)
				b.StartTimer()
				start := ledgertest.ProcessCPU()
				n, err := e.sync.deliver(b.Context(), resp)
				if err != nil || dst.store.Height() != blocks {
					b.Fatalf("deliver()=%d, %v; height %d, want %d", n, err, dst.store.Height(), blocks)
				}
				stored += n
				cpu += ledgertest.ProcessCPU() - start
				b.StopTimer()
				stop()
				b.StartTimer()
			}
			b.ReportMetric(float64(cpu.Milliseconds())/float64(stored), "cpu-ms/block")
			b.ReportMetric(float64(stored)/b.Elapsed().Seconds(), "blocks/s")
			b.ReportMetric(float64(stored*perBlock)/b.Elapsed().Seconds(), "txs/s")
		})
	}
}

// servedChain commits blocks blocks of perBlock new CREATEs to a new
// chain and returns it with its block-sync answer from height 1.
func servedChain(tb testing.TB, blocks, perBlock int) (*benchChain, []byte) {
	tb.Helper()
	src := newBenchChain(tb)
	src.commitBlocks(tb, blocks, perBlock)
	server := &blockSync{store: src.store}
	resp, err := server.serve(context.Background(), "", mustEncode(syncRequest{From: 1, Max: MaxSyncBlocks}))
	if err != nil {
		tb.Fatalf("serve()=%v", err)
	}
	return src, resp
}

// startSyncEngine returns an engine over c's store (benchEngine) whose
// loop (benchLoop) applies synced blocks until stop is called.
func startSyncEngine(c *benchChain) (e *bftEngine, stop func()) {
	e = benchEngine(c)
	done := make(chan struct{})
	go benchLoop(e, done)
	return e, func() {
		e.halt()
		<-done
	}
}

// benchLoop stands for the consensus loop: it applies synced blocks until
// e halts.
func benchLoop(e *bftEngine, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-e.stop:
			return
		case msg := <-e.inbox:
			m := msg.(syncedIn)
			n, serr, err := e.applySynced(m.blocks)
			m.done <- syncDone{stored: n, err: errors.Join(serr, err)}
		}
	}
}

// benchEngine returns an engine over c's store able to apply synced
// blocks (its machine height is out of reach, so no height is started).
func benchEngine(c *benchChain) *bftEngine {
	log := slog.New(slog.DiscardHandler)
	bl := newBacklog(c.store, ledger.Checker{}, 10, 1<<20, 10)
	app := &ledgerApp{store: c.store, backlog: bl, events: newEvents(nil), chainID: c.gen.ChainID, gov: c.gov, log: log}
	if err := app.loadTip(); err != nil {
		panic(fmt.Sprintf("loadTip: %v", err))
	}
	v := &verifier{store: c.store, backlog: bl, gov: c.gov}
	e := &bftEngine{app: app, gov: c.gov, verifier: v, log: log, inbox: make(chan any, engineInbox), stop: make(chan struct{})}
	e.sync = &blockSync{store: c.store, verifier: v, engine: e, log: log, checkTx: syncCheck(false)}
	e.height.Store(math.MaxUint64)
	return e
}

// BenchmarkServeBlocks measures the server's side of block sync: reading
// 8 blocks of 1,000 txs with their commits from the store and encoding
// the answer.
func BenchmarkServeBlocks(b *testing.B) {
	const blocks, perBlock = 8, 1000
	src := newBenchChain(b)
	src.commitBlocks(b, blocks, perBlock)
	server := &blockSync{store: src.store}
	req := mustEncode(syncRequest{From: 1, Max: MaxSyncBlocks})
	var cpu time.Duration
	for b.Loop() {
		start := ledgertest.ProcessCPU()
		resp, err := server.serve(context.Background(), "", req)
		cpu += ledgertest.ProcessCPU() - start
		if err != nil || len(resp) == 0 {
			b.Fatalf("serve()=%d bytes, %v", len(resp), err)
		}
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N*blocks), "cpu-ms/block")
}
