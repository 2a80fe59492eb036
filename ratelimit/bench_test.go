package ratelimit

import (
	"testing"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

// blockTxs is the size of the benchmarked block: genesis' default
// max_block_txs.
const blockTxs = 1000

// BenchmarkCharge charges a full block (1,000 CREATEs of about 600 bytes)
// with a new Tracker over a store of the block's keys' earlier usage:
// once from 1,000 distinct keys, once from one key.
func BenchmarkCharge(b *testing.B) {
	distinct := make([]*ledger.Tx, blockTxs)
	for i := range distinct {
		distinct[i] = ledgertest.Create(b, ledgertest.Key(b, i), map[string]any{"n": i}, nil)
	}
	oneKey := ledgertest.Creates(b, ledgertest.Key(b, 0), blockTxs, 600)
	p := genesis.DefaultParams()
	p.FreeTierTxsPerEpoch, p.FreeTierBytesPerEpoch = 2*blockTxs, 10_000_000
	for _, bc := range []struct {
		name string
		txs  []*ledger.Tx
	}{{"distinct-keys", distinct}, {"one-key", oneKey}} {
		b.Run(bc.name, func(b *testing.B) {
			store := memCommitted{}
			for _, tx := range bc.txs { // every key has used something before
				store[string(RowKey(tx.Inputs[0].OwnersBefore[0], 0))] = Usage{UsedTxs: 1, UsedBytes: 700}
			}
			l := Limits{Params: p, Grant: func(string) (uint64, uint64) { return 0, 0 }}
			b.ReportAllocs()
			for b.Loop() {
				tr := NewTracker(7, l, store)
				for _, tx := range bc.txs {
					if err := tr.Charge(tx); err != nil {
						b.Fatalf("Charge()=%v", err)
					}
				}
				if n := len(tr.Changes()); n == 0 {
					b.Fatalf("Changes()=%d rows, want some", n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bc.txs)), "ns/tx")
		})
	}
}
