package ledger_test

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
	"github.com/ipdb/ipdb-node/ledger/textsearch"
)

// verifyAll runs ledger.Verify on the canonical bytes of every tx, on
// GOMAXPROCS goroutines, and returns the results in order.
func verifyAll(tb testing.TB, raw [][]byte) []*ledger.VerifiedTx {
	tb.Helper()
	out := make([]*ledger.VerifiedTx, len(raw))
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(raw) && errs[w] == nil; i += workers {
				out[i], errs[w] = ledger.Verify(raw[i])
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			tb.Fatalf("Verify()=%v", err)
		}
	}
	return out
}

func canonicals(txs []*ledger.Tx) [][]byte {
	out := make([][]byte, len(txs))
	for i, tx := range txs {
		out[i] = tx.Canonical()
	}
	return out
}

// BenchmarkStorageRatio commits 200,000 CREATEs of about 1 KiB in blocks of
// 1,000, closes the store and reports its size on disk over the sum of the
// transactions' canonical bytes (run with -benchtime=1x).
func BenchmarkStorageRatio(b *testing.B) {
	const blocks, perBlock, txSize = 200, 1000, 1024
	if testing.Short() {
		b.Skip("commits 200,000 transactions")
	}
	for b.Loop() {
		dir := b.TempDir()
		s := openBenchStore(b, dir)
		key := ledgertest.Key(b, 1)
		chain := ledgertest.NewChain(b, s, key)
		var canonical int64
		for range blocks {
			txs := ledgertest.Creates(b, key, perBlock, txSize)
			raw := canonicals(txs)
			for _, r := range raw {
				canonical += int64(len(r))
			}
			batch := ledger.NewBatch(s, ledger.Checker{})
			for _, v := range verifyAll(b, raw) {
				if _, err := batch.Add(v); err != nil {
					b.Fatalf("Add()=%v", err)
				}
			}
			chain.CommitChecked(batch.Checked())
		}
		open, err := s.Size()
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		s = openBenchStore(b, dir)
		size, err := s.Size()
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		b.ReportMetric(float64(size)/float64(canonical), "disk/canonical")
		b.ReportMetric(float64(open)/float64(canonical), "open-disk/canonical")
		b.ReportMetric(float64(canonical)/float64(blocks*perBlock), "tx-bytes")
	}
}

func openBenchStore(tb testing.TB, dir string) *ledger.Store {
	tb.Helper()
	s, err := ledger.OpenStore(dir, ledger.StoreOptions{})
	if err != nil {
		tb.Fatalf("OpenStore()=%v", err)
	}
	return s
}

// benchBlocks makes blocks of pre-signed transactions for BenchmarkValidateCommitBlock:
// each block has perBlock-transfers CREATEs of about 1 KiB and transfers TRANSFERs
// spending the first outputs of the previous block's CREATEs.
type benchBlocks struct {
	tb        testing.TB
	key       ledger.KeyPair
	prev      []*ledger.Tx // the previous block's CREATEs
	perBlock  int
	transfers int
}

func (g *benchBlocks) next() [][]byte {
	creates := ledgertest.Creates(g.tb, g.key, g.perBlock-g.transfers, 1024)
	txs := make([]*ledger.Tx, 0, g.perBlock)
	txs = append(txs, creates...)
	for _, tx := range g.prev[:g.transfers] {
		txs = append(txs, ledgertest.Transfer(g.tb, tx, 0, map[string]any{"note": "moved"}, []ledger.KeyPair{g.key}))
	}
	g.prev = creates
	return canonicals(txs)
}

// BenchmarkValidateCommitBlock measures a block's path through a node: every
// transaction's bytes verified on GOMAXPROCS goroutines, checked in a batch
// against the store, then the block committed. Blocks hold 1,000 transactions
// of about 1 KiB, 10% of them TRANSFERs.
func BenchmarkValidateCommitBlock(b *testing.B) {
	const perBlock, transfers = 1000, 100
	s := openBenchStore(b, b.TempDir())
	defer s.Close()
	key := ledgertest.Key(b, 1)
	chain := ledgertest.NewChain(b, s, key)
	seed := ledgertest.Creates(b, key, perBlock, 1024)
	chain.Commit(seed...)
	gen := &benchBlocks{tb: b, key: key, prev: seed, perBlock: perBlock, transfers: transfers}
	next := gen.next()
	var cpu time.Duration
	for b.Loop() {
		start := ledgertest.ProcessCPU()
		raw := next
		batch := ledger.NewBatch(s, ledger.Checker{})
		for _, v := range verifyAll(b, raw) {
			if _, err := batch.Add(v); err != nil {
				b.Fatalf("Add()=%v", err)
			}
		}
		chain.CommitChecked(batch.Checked())
		cpu += ledgertest.ProcessCPU() - start
		b.StopTimer()
		next = gen.next()
		b.StartTimer()
	}
	txs := float64(b.N * perBlock)
	b.ReportMetric(txs/b.Elapsed().Seconds(), "tx/s")
	b.ReportMetric(float64(cpu.Microseconds())/txs, "cpu-µs/tx")
}

// readBenchStore commits blocks blocks of 1,000 CREATEs of about 1 KiB,
// reopens the store (so reads go to its tables, not its memtable) and
// returns it with the transactions' ids.
func readBenchStore(b *testing.B, blocks int) (*ledger.Store, []string) {
	b.Helper()
	dir := b.TempDir()
	s := openBenchStore(b, dir)
	key := ledgertest.Key(b, 1)
	chain := ledgertest.NewChain(b, s, key)
	var ids []string
	for range blocks {
		txs := ledgertest.Creates(b, key, 1000, 1024)
		batch := ledger.NewBatch(s, ledger.Checker{})
		for _, v := range verifyAll(b, canonicals(txs)) {
			if _, err := batch.Add(v); err != nil {
				b.Fatalf("Add()=%v", err)
			}
			ids = append(ids, v.Tx().ID)
		}
		chain.CommitChecked(batch.Checked())
	}
	if err := s.Close(); err != nil {
		b.Fatalf("Close()=%v", err)
	}
	s = openBenchStore(b, dir)
	b.Cleanup(func() { s.Close() })
	return s, ids
}

// BenchmarkGetTx reads transactions by id, in random order, from a store of
// 20,000.
func BenchmarkGetTx(b *testing.B) {
	s, ids := readBenchStore(b, 20)
	rng := rand.New(rand.NewPCG(1, 2))
	start := ledgertest.ProcessCPU()
	for b.Loop() {
		if _, _, err := s.Tx(ids[rng.IntN(len(ids))]); err != nil {
			b.Fatalf("Tx()=%v", err)
		}
	}
	b.ReportMetric(float64(ledgertest.ProcessCPU()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkOutput reads outputs as the stateful check does for a TRANSFER
// input (HasTx, then Output), in random order, from a store of 20,000
// transactions.
func BenchmarkOutput(b *testing.B) {
	s, ids := readBenchStore(b, 20)
	rng := rand.New(rand.NewPCG(1, 2))
	start := ledgertest.ProcessCPU()
	defer func() { b.ReportMetric(float64(ledgertest.ProcessCPU()-start)/float64(b.N), "cpu-ns/op") }()
	for b.Loop() {
		id := ids[rng.IntN(len(ids))]
		if ok, err := s.HasTx(id); !ok || err != nil {
			b.Fatalf("HasTx()=%v, %v", ok, err)
		}
		if _, ok, err := s.Output(ledger.OutputRef{TxID: id}); !ok || err != nil {
			b.Fatalf("Output()=%v, %v", ok, err)
		}
	}
}

// BenchmarkSearchAssets searches a store of 20,000 CREATEs whose asset data
// are words of a 100-word vocabulary: one word is in about a third of them,
// each of which is loaded and scored.
func BenchmarkSearchAssets(b *testing.B) {
	s, _ := readBenchStore(b, 20)
	var hits int
	start := ledgertest.ProcessCPU()
	for b.Loop() {
		found, err := s.SearchAssets("wine", 10)
		if err != nil {
			b.Fatalf("SearchAssets()=%v", err)
		}
		hits = len(found)
	}
	all, err := s.SearchAssets("wine", 0)
	if err != nil || hits != 10 {
		b.Fatalf("SearchAssets()=%d hits, %v, want 10", hits, err)
	}
	b.ReportMetric(float64(len(all)), "matches")
	b.ReportMetric(float64(ledgertest.ProcessCPU()-start)/float64(b.N*len(all)), "cpu-ns/match")
}

// BenchmarkVerifyBlock is the first stage of BenchmarkValidateCommitBlock
// alone (ledger.Verify of 1,000 transactions on GOMAXPROCS goroutines): the
// ceiling the stateless check puts on the whole path.
func BenchmarkVerifyBlock(b *testing.B) {
	const perBlock = 1000
	key := ledgertest.Key(b, 1)
	raw := canonicals(ledgertest.Creates(b, key, perBlock, 1024))
	for b.Loop() {
		verifyAll(b, raw)
	}
	b.ReportMetric(float64(b.N*perBlock)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkTermsOfBlock measures the text indexing CommitBlock does for a
// block of 1,000 CREATEs of about 1 KiB (textsearch.Terms of each asset's
// data and metadata, on GOMAXPROCS goroutines as CommitBlock runs it).
func BenchmarkTermsOfBlock(b *testing.B) {
	const perBlock = 1000
	txs := ledgertest.Creates(b, ledgertest.Key(b, 1), perBlock, 1024)
	workers := runtime.GOMAXPROCS(0)
	for b.Loop() {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < len(txs); i += workers {
					textsearch.Terms(txs[i].Asset.Data)
					textsearch.Terms(txs[i].Metadata)
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(b.N*perBlock)/b.Elapsed().Seconds(), "tx/s")
}
