package governance

import (
	"encoding/base32"
	"encoding/base64"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

// poolSize is how many test identities (keys and peer ids) tests draw from.
const poolSize = 12

// identity is a test identity: a signing key and a peer id.
type identity struct {
	key  ledger.KeyPair
	peer string
}

// identities returns the test identities 0..poolSize-1.
func identities(tb testing.TB) []identity {
	tb.Helper()
	out := make([]identity, poolSize)
	for i := range out {
		out[i].key = ledgertest.Key(tb, i)
		node := ledgertest.Key(tb, 1000+i)
		priv, err := crypto.UnmarshalEd25519PrivateKey(node.Private)
		if err != nil {
			tb.Fatalf("UnmarshalEd25519PrivateKey()=%v", err)
		}
		id, err := peer.IDFromPrivateKey(priv)
		if err != nil {
			tb.Fatalf("IDFromPrivateKey()=%v", err)
		}
		out[i].peer = id.String()
	}
	return out
}

// testDoc returns a genesis document whose caretakers are ids[0..len(powers)-1]
// with powers, and default parameters changed by edit (if not nil).
func testDoc(ids []identity, powers []uint64, edit func(*genesis.Params)) *genesis.Doc {
	doc := &genesis.Doc{ChainID: "gov-test", GenesisTime: time.UnixMilli(1_700_000_000_000).UTC(), Params: genesis.DefaultParams()}
	for i, p := range powers {
		doc.Caretakers = append(doc.Caretakers, genesis.Caretaker{Name: "c", PublicKey: ids[i].key.PublicBase58(), PeerID: ids[i].peer, Power: p})
	}
	if edit != nil {
		edit(&doc.Params)
	}
	return doc
}

// testNet is a ledger in memory and its governance state, one block at a time.
type testNet struct {
	tb    testing.TB
	ids   []identity
	doc   *genesis.Doc
	state *State
	mem   *ledger.MemState
	h     uint64 // height of the newest block
}

func newTestNet(tb testing.TB, powers []uint64, edit func(*genesis.Params)) *testNet {
	tb.Helper()
	ids := identities(tb)
	doc := testDoc(ids, powers, edit)
	if err := doc.Validate(); err != nil {
		tb.Fatalf("Validate()=%v", err)
	}
	return &testNet{tb: tb, ids: ids, doc: doc, state: Genesis(doc), mem: ledger.NewMemState()}
}

// check checks txs as the next block; it returns the checked transactions
// and the first error (the transactions after it are not checked).
func (n *testNet) check(txs ...*ledger.Tx) ([]*ledger.CheckedTx, error) {
	batch := ledger.NewBatch(n.mem, ledger.Checker{Elections: n.state.Rules(n.h + 1)})
	for _, tx := range txs {
		v, err := ledger.CheckStateless(tx)
		if err != nil {
			return nil, err
		}
		if _, err := batch.Add(v); err != nil {
			return batch.Checked(), err
		}
	}
	return batch.Checked(), nil
}

// block commits txs as the next block; any invalid one fails the test.
func (n *testNet) block(txs ...*ledger.Tx) []Event {
	n.tb.Helper()
	checked, err := n.check(txs...)
	if err != nil {
		n.tb.Fatalf("block %d: check: %v", n.h+1, err)
	}
	return n.commit(checked)
}

// commit applies checked transactions as the next block.
func (n *testNet) commit(checked []*ledger.CheckedTx) []Event {
	n.tb.Helper()
	n.h++
	next, events, err := n.state.Apply(n.h, checked)
	if err != nil {
		n.tb.Fatalf("Apply(%d)=%v", n.h, err)
	}
	for _, c := range checked {
		n.mem.Apply(c)
	}
	n.state = next
	return events
}

// skip commits k empty blocks.
func (n *testNet) skip(k int) {
	for range k {
		n.commit(nil)
	}
}

// elect builds p proposed by identity who with the set in force at the next block.
func (n *testNet) elect(p Proposal, who int) *ledger.Tx {
	n.tb.Helper()
	tx, err := NewElection(p, n.state.SetAt(n.h+1), n.ids[who].key, "seed-"+time.Duration(n.h).String()+"-"+p.Kind)
	if err != nil {
		n.tb.Fatalf("NewElection(%+v)=%v", p, err)
	}
	return tx
}

// tokenOf returns the output of election e held by identity who.
func (n *testNet) tokenOf(e *ledger.Tx, who int) Token {
	n.tb.Helper()
	pub := n.ids[who].key.PublicBase58()
	for i, o := range e.Outputs {
		if o.PublicKeys[0] == pub {
			return Token{Ref: ledger.OutputRef{TxID: e.ID, Index: uint64(i)}, Amount: o.Amount}
		}
	}
	n.tb.Fatalf("identity %d holds no token of %s", who, e.ID)
	return Token{}
}

// vote returns identity who's vote with all its tokens of election e.
func (n *testNet) vote(e *ledger.Tx, who int, against bool) *ledger.Tx {
	n.tb.Helper()
	tx, err := NewVote(e.ID, []Token{n.tokenOf(e, who)}, n.ids[who].key, against)
	if err != nil {
		n.tb.Fatalf("NewVote()=%v", err)
	}
	return tx
}

// status returns election id's status at the newest block.
func (n *testNet) status(id string) string {
	n.tb.Helper()
	e, ok := n.state.Election(id)
	if !ok {
		n.tb.Fatalf("Election(%s) not found", id)
	}
	return e.StatusAt(n.h)
}

// add is the proposal to add identity i with power.
func (n *testNet) add(i int, power uint64) Proposal {
	return Proposal{Kind: KindAddCaretaker, PublicKey: n.ids[i].key.PublicBase58(), PeerID: n.ids[i].peer, Power: power}
}

func b32(b []byte) string { return base32.StdEncoding.EncodeToString(b) }
func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
