package governance

import (
	"testing"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

// benchNet returns a committed election among 100 caretakers of power 1,
// the state and ledger holding it, and the caretakers' keys.
func benchNet(b *testing.B) (*State, *ledger.MemState, *ledger.Tx, []ledger.KeyPair) {
	b.Helper()
	keys := make([]ledger.KeyPair, 100)
	doc := &genesis.Doc{ChainID: "gov-bench", Params: genesis.DefaultParams()}
	for i := range keys {
		keys[i] = ledgertest.Key(b, 100+i)
		doc.Caretakers = append(doc.Caretakers, genesis.Caretaker{PublicKey: keys[i].PublicBase58(), Power: 1})
	}
	s, mem := Genesis(doc), ledger.NewMemState()
	e, err := NewElection(Proposal{Kind: KindSetParam, Param: "fee_per_tx", Value: 5}, s.SetAt(1), keys[0], "bench")
	if err != nil {
		b.Fatalf("NewElection()=%v", err)
	}
	batch := ledger.NewBatch(mem, ledger.Checker{Elections: s.Rules(1)})
	if _, err := batch.Add(must2(ledger.CheckStateless(e))); err != nil {
		b.Fatalf("Add(election)=%v", err)
	}
	if s, _, err = s.Apply(1, batch.Checked()); err != nil {
		b.Fatalf("Apply()=%v", err)
	}
	mem.Apply(batch.Checked()[0])
	return s, mem, e, keys
}

// BenchmarkApplyVoteBlock applies a block of 1000 transactions: 930
// CREATEs and 70 VOTEs that approve a parameter change among 100
// caretakers.
func BenchmarkApplyVoteBlock(b *testing.B) {
	s, mem, e, keys := benchNet(b)
	batch := ledger.NewBatch(mem, ledger.Checker{Elections: s.Rules(2)})
	txs := ledgertest.Creates(b, keys[0], 930, 600)
	for i := range 70 {
		v, err := NewVote(e.ID, []Token{{Ref: ledger.OutputRef{TxID: e.ID, Index: uint64(i)}, Amount: 1}}, keys[i], false)
		if err != nil {
			b.Fatalf("NewVote()=%v", err)
		}
		txs = append(txs, v)
	}
	for i, tx := range txs {
		if _, err := batch.Add(must2(ledger.CheckStateless(tx))); err != nil {
			b.Fatalf("Add(%d)=%v", i, err)
		}
	}
	checked := batch.Checked()
	b.ReportAllocs()
	for b.Loop() {
		next, events, err := s.Apply(2, checked)
		if err != nil || len(events) != 2 || next.ParamsAt(3).FeePerTx != 5 {
			b.Fatalf("Apply()=%v, %d events", err, len(events))
		}
	}
}

// BenchmarkRulesCheckVote checks one VOTE against the rules.
func BenchmarkRulesCheckVote(b *testing.B) {
	s, mem, e, keys := benchNet(b)
	v, err := NewVote(e.ID, []Token{{Ref: ledger.OutputRef{TxID: e.ID, Index: 3}, Amount: 1}}, keys[3], true)
	if err != nil {
		b.Fatalf("NewVote()=%v", err)
	}
	verified := must2(ledger.CheckStateless(v))
	r := s.Rules(2)
	b.ReportAllocs()
	for b.Loop() {
		if err := r.CheckElection(mem, verified); err != nil {
			b.Fatalf("CheckElection()=%v", err)
		}
	}
}
