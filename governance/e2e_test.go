package governance

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

// storeNet runs governance over the real ledger: a Badger store and a
// ledgertest.Chain whose Checker uses the state's Rules.
type storeNet struct {
	*testNet
	store *ledger.Store
	chain *ledgertest.Chain
}

func newStoreNet(t *testing.T, powers []uint64) *storeNet {
	t.Helper()
	store, err := ledger.OpenStore(t.TempDir(), ledger.StoreOptions{})
	if err != nil {
		t.Fatalf("OpenStore()=%v", err)
	}
	t.Cleanup(func() { store.Close() })
	n := newTestNet(t, powers, nil)
	return &storeNet{testNet: n, store: store, chain: ledgertest.NewChain(t, store, n.ids[0].key)}
}

// commit checks txs on the chain, applies them to the state and commits
// the block with the encoded state when it changed.
func (s *storeNet) commit(t *testing.T, txs ...*ledger.Tx) []Event {
	t.Helper()
	h := s.chain.Height() + 1
	s.chain.Checker = ledger.Checker{Elections: s.state.Rules(h)}
	checked := s.chain.Check(txs...)
	next, events, err := s.state.Apply(h, checked)
	if err != nil {
		t.Fatalf("Apply(%d)=%v", h, err)
	}
	var enc []byte
	if next != s.state {
		if enc, err = next.Encode(); err != nil {
			t.Fatalf("Encode()=%v", err)
		}
	}
	s.chain.CommitCheckedState(checked, enc)
	s.state, s.h = next, h
	return events
}

func TestEndToEndOnTheStore(t *testing.T) {
	s := newStoreNet(t, []uint64{10, 10, 10})
	e := s.elect(s.add(6, 4), 0)
	s.commit(t, e, s.vote(e, 0, false)) // block 1: proposal and a vote in its block
	s.commit(t, ledgertest.Create(t, s.ids[1].key, map[string]any{"n": 1}, nil))
	events := s.commit(t, s.vote(e, 1, false)) // block 3: 20 of 30 is not more than 2/3
	if got := s.status(e.ID); got != StatusOngoing || len(events) != 1 {
		t.Fatalf("status=%s events=%v, want ongoing after 20 of 30", got, eventTypes(events))
	}

	e2 := s.elect(s.add(6, 4), 1)
	events = s.commit(t, e2, s.vote(e2, 0, false), s.vote(e2, 1, false), s.vote(e2, 2, false))
	want := []string{EventProposed + ":" + e2.ID[:4], EventVoted + ":" + e2.ID[:4], EventApproved + ":" + e2.ID[:4], EventInconclusive + ":" + e.ID[:4]}
	if got := eventTypes(events); !reflect.DeepEqual(got, want) || events[2].EffectHeight != 5 {
		t.Fatalf("events=%v (effect %d), want %v with effect at 5", got, events[2].EffectHeight, want)
	}
	if got := s.status(e.ID); got != StatusInconclusive {
		t.Fatalf("the first election=%s, want inconclusive after the set changed", got)
	}
	batch := ledger.NewBatch(s.store, ledger.Checker{Elections: s.state.Rules(s.h + 1)})
	if _, err := batch.Add(must2(ledger.CheckStateless(s.vote(e, 2, false)))); !errors.Is(err, ErrVote) {
		t.Fatalf("vote for an inconclusive election: Add()=%v, want %v", err, ErrVote)
	}
	if len(s.state.SetAt(4).Caretakers) != 3 || len(s.state.SetAt(5).Caretakers) != 4 {
		t.Fatalf("set sizes %d at 4 and %d at 5, want 3 and 4", len(s.state.SetAt(4).Caretakers), len(s.state.SetAt(5).Caretakers))
	}
	// At height 5 elections mint tokens for the new set, the new caretaker included.
	e3 := s.elect(Proposal{Kind: KindSetParam, Param: "epoch_blocks", Value: 50}, 6)
	s.commit(t, e3, s.vote(e3, 6, false))

	stored, err := s.store.AppState()
	if err != nil {
		t.Fatalf("AppState()=%v", err)
	}
	mine, _ := s.state.Encode()
	if !bytes.Equal(stored, mine) {
		t.Fatalf("stored state differs from the state's encoding")
	}
	back, err := Decode(s.doc, stored)
	if err != nil {
		t.Fatalf("Decode()=%v", err)
	}
	if !reflect.DeepEqual(back, s.state) {
		t.Fatalf("Decode(Encode(s)) differs from s")
	}
	if got, _ := back.Election(e3.ID); got.VotesPower != 4 || got.TotalPower != 34 {
		t.Fatalf("decoded election=%+v, want 4 of 34", got)
	}
}
