package ledgertest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/ipdb/ipdb-node/ledger"
)

// ChainID is the chain id of the chains NewChain starts.
const ChainID = "ledgertest"

// genesisTime is the time of every genesis block NewChain makes (unix ms);
// block h is timed h seconds later.
const genesisTime = 1_700_000_000_000

// Chain appends valid blocks to a store: each block links to the newest
// one, carries the commit of its predecessor and the state hash
// ledger.NextStateHash gives, and is committed with a commit signed by the
// chain's single caretaker key. A Chain is not safe for concurrent use.
type Chain struct {
	// Checker checks the transactions of Check and Commit; the zero one
	// refuses the governance operations.
	Checker ledger.Checker

	tb    testing.TB
	store *ledger.Store
	key   ledger.KeyPair

	height     uint64
	prev       cid.Cid        // CID of the newest block
	stateHash  []byte         // state hash of the newest block
	lastCommit *ledger.Commit // commit of the newest block; nil for genesis
}

// NewChain returns a chain on store whose caretaker is key. An empty store
// gets a genesis block first (see Genesis); a store with blocks is resumed
// from its newest block and commit.
func NewChain(tb testing.TB, store *ledger.Store, key ledger.KeyPair) *Chain {
	tb.Helper()
	c := &Chain{tb: tb, store: store, key: key}
	b, id, err := store.LatestBlock()
	if errors.Is(err, ledger.ErrNotFound) {
		b = Genesis(key)
		if err := store.InitGenesis(b); err != nil {
			tb.Fatalf("InitGenesis()=%v", err)
		}
		id = blockCID(tb, b)
	} else if err != nil {
		tb.Fatalf("LatestBlock()=%v", err)
	}
	c.height, c.prev, c.stateHash = b.Height, id, b.StateHash
	if b.Height > 0 {
		if c.lastCommit, err = store.Commit(b.Height); err != nil {
			tb.Fatalf("Commit(%d)=%v", b.Height, err)
		}
	}
	return c
}

// Genesis returns the genesis block of a chain whose caretaker is key.
func Genesis(key ledger.KeyPair) *ledger.Block {
	state := sha256.Sum256([]byte("ledgertest genesis state"))
	return &ledger.Block{ChainID: ChainID, Height: 0, Time: genesisTime,
		StateHash: state[:], CaretakersHash: caretakersHash(key)}
}

func caretakersHash(key ledger.KeyPair) []byte {
	h := sha256.Sum256(key.Public)
	return h[:]
}

func blockCID(tb testing.TB, b *ledger.Block) cid.Cid {
	tb.Helper()
	id, err := b.CID()
	if err != nil {
		tb.Fatalf("CID()=%v", err)
	}
	return id
}

// Height returns the height of the newest block.
func (c *Chain) Height() uint64 { return c.height }

// Check verifies txs and checks them, in order, against the store and each
// other as one block's batch; any invalid transaction fails the test.
func (c *Chain) Check(txs ...*ledger.Tx) []*ledger.CheckedTx {
	c.tb.Helper()
	batch := ledger.NewBatch(c.store, c.Checker)
	for i, tx := range txs {
		v, err := ledger.CheckStateless(tx)
		if err != nil {
			c.tb.Fatalf("CheckStateless(tx %d)=%v", i, err)
		}
		if _, err := batch.Add(v); err != nil {
			c.tb.Fatalf("Add(tx %d)=%v", i, err)
		}
	}
	return batch.Checked()
}

// Build returns the next block of checked transactions and a commit that
// makes it final, without committing it or changing the chain.
func (c *Chain) Build(checked []*ledger.CheckedTx) (*ledger.Block, *ledger.Commit) {
	c.tb.Helper()
	h := c.height + 1
	b := &ledger.Block{ChainID: ChainID, Height: h, Time: genesisTime + int64(h)*1000, Prev: c.prev,
		Txs: make([]cid.Cid, len(checked)), StateHash: ledger.NextStateHash(c.stateHash, checked),
		CaretakersHash: caretakersHash(c.key), LastCommit: c.lastCommit}
	for i, ct := range checked {
		b.Txs[i] = ct.Tx().CID()
	}
	return b, c.Sign(b)
}

// Sign returns the commit of b signed by the chain's caretaker in round 0.
func (c *Chain) Sign(b *ledger.Block) *ledger.Commit {
	c.tb.Helper()
	id := blockCID(c.tb, b)
	msg := ledger.CommitSignBytes(b.ChainID, b.Height, 0, id)
	sig := ledger.CommitSig{PublicKey: c.key.Public, Signature: ed25519.Sign(c.key.Private, msg)}
	return &ledger.Commit{Height: b.Height, Block: id, Signatures: []ledger.CommitSig{sig}}
}

// CommitChecked builds the next block of checked, commits it to the store
// and returns it.
func (c *Chain) CommitChecked(checked []*ledger.CheckedTx) *ledger.Block {
	c.tb.Helper()
	return c.CommitCheckedState(checked, nil)
}

// CommitCheckedState is CommitChecked that also writes appState with the
// block (Store.CommitBlockState).
func (c *Chain) CommitCheckedState(checked []*ledger.CheckedTx, appState []byte) *ledger.Block {
	c.tb.Helper()
	b, commit := c.Build(checked)
	if err := c.store.CommitBlockState(b, commit, checked, appState); err != nil {
		c.tb.Fatalf("CommitBlock(%d)=%v", b.Height, err)
	}
	c.height, c.prev, c.stateHash, c.lastCommit = b.Height, commit.Block, b.StateHash, commit
	return b
}

// Commit checks txs, commits them as the next block and returns it.
func (c *Chain) Commit(txs ...*ledger.Tx) *ledger.Block {
	c.tb.Helper()
	return c.CommitChecked(c.Check(txs...))
}
