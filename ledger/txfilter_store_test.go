package ledger_test

import (
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

// TestStoreTxFilter: a reopened store fills its id filter from disk, and
// HasTx stays exact with it: every committed id, those of blocks before
// and after the reopening, is found; new ones are not.
func TestStoreTxFilter(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir)
	key := ledgertest.Key(t, 1)
	chain := ledgertest.NewChain(t, s, key)
	var ids []string
	for range 2 {
		txs := ledgertest.Creates(t, key, 50, 300)
		chain.Commit(txs...)
		for _, tx := range txs {
			ids = append(ids, tx.ID)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestStore(t, dir)
	defer s.Close()
	if !ledger.WaitTxFilter(s) {
		t.Fatal("the id filter was not filled")
	}
	for _, id := range ids {
		if !ledger.TxFilterMayHold(s, id) {
			t.Fatalf("filled filter lacks stored tx %s", id)
		}
	}
	chain = ledgertest.NewChain(t, s, key)
	later := ledgertest.Creates(t, key, 30, 300)
	chain.Commit(later...)
	for _, tx := range later {
		ids = append(ids, tx.ID)
	}
	for _, id := range ids {
		if ok, err := s.HasTx(id); !ok || err != nil {
			t.Fatalf("HasTx(%s)=%v, %v for a committed tx", id, ok, err)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var id [32]byte
	for range 1000 {
		for i := range id {
			id[i] = byte(rng.Uint32())
		}
		if ok, err := s.HasTx(hex.EncodeToString(id[:])); ok || err != nil {
			t.Fatalf("HasTx(new id)=%v, %v", ok, err)
		}
	}
}

// BenchmarkHasTx looks up ids in a store of 20,000 transactions, its id
// filter filled: new ids (answered by the filter) and committed ones
// (which go to Badger, as every lookup did before the filter).
func BenchmarkHasTx(b *testing.B) {
	s, ids := readBenchStore(b, 20)
	if !ledger.WaitTxFilter(s) {
		b.Fatal("the id filter was not filled")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.Run("new", func(b *testing.B) {
		var id [32]byte
		for b.Loop() {
			for i := range id {
				id[i] = byte(rng.Uint32())
			}
			if ok, err := s.HasTx(hex.EncodeToString(id[:])); ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("committed", func(b *testing.B) {
		for b.Loop() {
			if ok, err := s.HasTx(ids[rng.IntN(len(ids))]); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}
