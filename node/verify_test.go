package node

import (
	"errors"
	"testing"
	"time"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ratelimit"
)

func TestVerifyProposal(t *testing.T) {
	key := newKey(t, 9)
	g := genesis.Dev("bench", key, time.Unix(1_700_000_000, 0))
	g.Params.MaxBlockTxs = 2 // "too many txs" below has 3
	c := openBenchChain(t, key, g)
	c.commitBlocks(t, 2, 3)
	owner := newKey(t, 1)
	txs := []*ledger.Tx{createTx(t, owner, 100, 1), createTx(t, owner, 101, 1)}
	spent := createTx(t, owner, 0, 1) // committed in block 1
	bl := newBacklog(c.store, ledger.Checker{}, 100, 1<<20, 100)
	for _, tx := range txs {
		if err := bl.Add(verify(t, tx)); err != nil {
			t.Fatalf("backlog.Add()=%v", err)
		}
	}
	v := &verifier{store: c.store, backlog: bl, gov: c.gov}
	good, _ := c.nextBlock(t, txs)
	tests := []struct {
		name   string
		modify func(b *ledger.Block)
		want   error
	}{
		{"valid", func(*ledger.Block) {}, nil},
		{"wrong chain", func(b *ledger.Block) { b.ChainID = "other" }, ErrInvalidProposal},
		{"wrong height", func(b *ledger.Block) {
			lc := *b.LastCommit
			lc.Height++
			b.Height, b.LastCommit = b.Height+1, &lc
		}, ErrInvalidProposal},
		{"wrong prev", func(b *ledger.Block) {
			lc := *b.LastCommit
			lc.Block = blockCIDOf(t, testBlock(t, 0))
			b.Prev, b.LastCommit = lc.Block, &lc
		}, ErrInvalidProposal},
		{"time before prev", func(b *ledger.Block) { b.Time = 0 }, ErrInvalidProposal},
		{"time in the future", func(b *ledger.Block) { b.Time = time.Now().Add(time.Hour).UnixMilli() }, ErrInvalidProposal},
		{"caretakers hash", func(b *ledger.Block) { b.CaretakersHash = make([]byte, 32) }, ErrInvalidProposal},
		{"state hash", func(b *ledger.Block) { b.StateHash = make([]byte, 32) }, ErrInvalidProposal},
		{"too many txs", func(b *ledger.Block) { b.Txs = append(b.Txs, spent.CID()) }, ErrInvalidProposal},
		{"last commit forged", func(b *ledger.Block) {
			lc := *b.LastCommit
			lc.Signatures = []ledger.CommitSig{{PublicKey: c.key.Public, Signature: make([]byte, 64)}}
			b.LastCommit = &lc
		}, ErrInvalidProposal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := *good
			b.Txs = append(b.Txs[:0:0], good.Txs...)
			tt.modify(&b)
			_, err := v.verify(t.Context(), &candidate{block: &b, cid: blockCIDOf(t, &b)})
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("verify()=%v, want %v", err, tt.want)
			}
		})
	}
	t.Run("committed tx again", func(t *testing.T) {
		prev, _, _ := c.store.LatestBlock()
		b, _ := c.nextBlock(t, txs)
		if _, err := v.execute(prev, b, []*ledger.VerifiedTx{verify(t, txs[0]), verify(t, spent)}); !errors.Is(err, ErrInvalidProposal) || !errors.Is(err, ledger.ErrDuplicateTx) {
			t.Fatalf("execute()=%v, want ErrInvalidProposal wrapping DuplicateTransaction", err)
		}
	})
	t.Run("missing tx and no peers", func(t *testing.T) {
		b, _ := c.nextBlock(t, []*ledger.Tx{createTx(t, owner, 200, 1)})
		_, err := v.verify(t.Context(), &candidate{block: b, cid: blockCIDOf(t, b)})
		if err == nil || errors.Is(err, ErrInvalidProposal) {
			t.Fatalf("verify()=%v, want a not-invalid error (the block may be fine)", err)
		}
	})
}

// A block that carries a transaction over its signer's quota is invalid,
// the same on every node.
func TestVerifyProposalOverQuota(t *testing.T) {
	key := newKey(t, 9)
	g := genesis.Dev("bench", key, time.Unix(1_700_000_000, 0))
	g.Params.FreeTierTxsPerEpoch = 2
	c := openBenchChain(t, key, g)
	owner := newKey(t, 1)
	txs := []*ledger.Tx{createTx(t, owner, 1, 1), createTx(t, owner, 2, 1), createTx(t, owner, 3, 1)}
	v := &verifier{store: c.store, backlog: newBacklog(c.store, ledger.Checker{}, 100, 1<<20, 100), gov: c.gov}
	prev, _, err := c.store.LatestBlock()
	if err != nil {
		t.Fatal(err)
	}
	within, _ := c.nextBlock(t, txs[:2])
	if _, err := v.execute(prev, within, []*ledger.VerifiedTx{verify(t, txs[0]), verify(t, txs[1])}); err != nil {
		t.Fatalf("execute(2 txs, free tier 2)=%v", err)
	}
	over, _ := c.nextBlock(t, txs)
	_, err = v.execute(prev, over, []*ledger.VerifiedTx{verify(t, txs[0]), verify(t, txs[1]), verify(t, txs[2])})
	if !errors.Is(err, ErrInvalidProposal) || !errors.Is(err, ratelimit.ErrQuotaExceeded) {
		t.Fatalf("execute(3 txs, free tier 2)=%v, want ErrInvalidProposal wrapping QuotaExceeded", err)
	}
}
