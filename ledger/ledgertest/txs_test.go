package ledgertest_test

import (
	"testing"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

func TestCreates(t *testing.T) {
	key := ledgertest.Key(t, 1)
	for _, size := range []int{1024, 4096} {
		txs := ledgertest.Creates(t, key, 20, size)
		seen := make(map[string]bool)
		for _, tx := range txs {
			if n := len(tx.Canonical()); n < size-64 || n > size+64 {
				t.Fatalf("Creates(size %d) made a transaction of %d bytes", size, n)
			}
			if seen[tx.ID] {
				t.Fatalf("Creates() made %s twice", tx.ID)
			}
			seen[tx.ID] = true
			if _, err := ledger.Verify(tx.Canonical()); err != nil {
				t.Fatalf("Verify(created tx)=%v", err)
			}
		}
	}
}

func TestChainResumes(t *testing.T) {
	dir := t.TempDir()
	key := ledgertest.Key(t, 1)
	s, err := ledger.OpenStore(dir, ledger.StoreOptions{})
	if err != nil {
		t.Fatalf("OpenStore()=%v", err)
	}
	chain := ledgertest.NewChain(t, s, key)
	tx := ledgertest.Create(t, key, map[string]any{"n": 1}, nil)
	chain.Commit(tx)
	chain.Commit(ledgertest.Transfer(t, tx, 0, nil, []ledger.KeyPair{key}))
	if err := s.Close(); err != nil {
		t.Fatalf("Close()=%v", err)
	}
	s, err = ledger.OpenStore(dir, ledger.StoreOptions{})
	if err != nil {
		t.Fatalf("OpenStore()=%v", err)
	}
	defer s.Close()
	chain = ledgertest.NewChain(t, s, key)
	if h := chain.Height(); h != 2 {
		t.Fatalf("Height() of a resumed chain=%d, want 2", h)
	}
	b := chain.Commit(ledgertest.Create(t, key, map[string]any{"n": 2}, nil))
	if b.Height != 3 || b.LastCommit == nil || b.LastCommit.Height != 2 {
		t.Fatalf("block after resuming: height %d, last commit %+v", b.Height, b.LastCommit)
	}
}
