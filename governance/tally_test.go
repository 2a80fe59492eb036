package governance

import (
	"errors"
	"reflect"
	"testing"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

// eventTypes returns the types of events, for comparison.
func eventTypes(events []Event) []string {
	out := []string{}
	for _, e := range events {
		out = append(out, e.Type+":"+e.ElectionID[:4])
	}
	return out
}

func TestApproveAddTakesEffectNextHeight(t *testing.T) {
	n := newTestNet(t, []uint64{10, 10, 10, 10}, nil)
	e := n.elect(n.add(6, 5), 0)
	n.block(e)
	n.block(n.vote(e, 0, false), n.vote(e, 1, false))
	if got := n.status(e.ID); got != StatusOngoing {
		t.Fatalf("status after 20 of 40=%s, want ongoing", got)
	}
	events := n.block(n.vote(e, 2, false))
	id := e.ID[:4]
	if got, want := eventTypes(events), []string{EventVoted + ":" + id, EventApproved + ":" + id}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events=%v, want %v", got, want)
	}
	got, _ := n.state.Election(e.ID)
	if got.Status != StatusApproved || got.ConcludedHeight != 3 || got.EffectHeight != 4 || got.VotesPower != 30 || got.NeededPower != 27 {
		t.Fatalf("Election()=%+v, want approved at 3, effect 4, votes 30, needed 27", got)
	}
	if n3, n4 := len(n.state.SetAt(3).Caretakers), n.state.SetAt(4); n3 != 4 || len(n4.Caretakers) != 5 {
		t.Fatalf("SetAt(3) has %d, SetAt(4) %d caretakers, want 4 and 5", n3, len(n4.Caretakers))
	}
	added := n.state.SetAt(4).Caretakers[4]
	want := genesis.Caretaker{PublicKey: n.ids[6].key.PublicBase58(), PeerID: n.ids[6].peer, Power: 5}
	if added != want {
		t.Fatalf("new caretaker=%+v, want %+v", added, want)
	}
	// The new set mints tokens for five, and the new caretaker may propose.
	e2 := n.elect(Proposal{Kind: KindSetParam, Param: "fee_per_tx", Value: 3}, 6)
	n.block(e2)
	if got, _ := n.state.Election(e2.ID); got.TotalPower != 45 {
		t.Fatalf("TotalPower=%d, want 45", got.TotalPower)
	}
}

func TestVotesInTheElectionBlock(t *testing.T) {
	n := newTestNet(t, []uint64{10, 10, 10, 10}, nil)
	e := n.elect(Proposal{Kind: KindSetParam, Param: "max_block_txs", Value: 500}, 0)
	events := n.block(e, n.vote(e, 0, false), n.vote(e, 1, false), n.vote(e, 2, false))
	if len(events) != 3 || events[0].Type != EventProposed || events[2].Type != EventApproved {
		t.Fatalf("events=%v, want proposed, voted, approved", eventTypes(events))
	}
	if got := n.state.ParamsAt(1).MaxBlockTxs; got != 1000 {
		t.Fatalf("ParamsAt(1).MaxBlockTxs=%d, want 1000", got)
	}
	if got := n.state.ParamsAt(2).MaxBlockTxs; got != 500 {
		t.Fatalf("ParamsAt(2).MaxBlockTxs=%d, want 500", got)
	}
	if got := n.state.Params()[0]; got != (ParamValue{Name: "max_block_txs", Value: 500, Height: 2}) {
		t.Fatalf("Params()[0]=%+v, want max_block_txs 500 from 2", got)
	}
	if got := n.state.Params()[1]; got.Height != 0 {
		t.Fatalf("Params()[1].Height=%d, want 0", got.Height)
	}
}

func TestSplitAndDelegatedVotes(t *testing.T) {
	n := newTestNet(t, []uint64{10, 10, 10, 10}, nil)
	e := n.elect(n.add(6, 1), 0)
	n.block(e)
	yes, _ := ElectionAddress(e.ID)
	no, _ := RejectAddress(e.ID)
	to := func(addr string, amount uint64) ledger.OutputSpec {
		pub, err := ledger.DecodePublicKey(addr)
		if err != nil {
			t.Fatalf("DecodePublicKey()=%v", err)
		}
		return ledger.To(amount, pub)
	}
	// Caretaker 0: 4 for, 6 delegated to identity 5; caretaker 1: 3 for, 7 against.
	split0 := voteTx(t, e, 0, n.ids[0].key, to(yes, 4), ledger.To(6, n.ids[5].key.Public))
	split1 := voteTx(t, e, 1, n.ids[1].key, to(yes, 3), to(no, 7))
	n.block(split0, split1)
	got, _ := n.state.Election(e.ID)
	if got.VotesPower != 7 || got.AgainstPower != 7 {
		t.Fatalf("votes %d against %d, want 7 and 7", got.VotesPower, got.AgainstPower)
	}
	// A TRANSFER of tokens counts nothing; the delegate then votes them.
	moved := ledgertest.Transfer(t, split0, 1, nil, []ledger.KeyPair{n.ids[5].key}, ledger.To(6, n.ids[4].key.Public))
	n.block(moved)
	if got, _ := n.state.Election(e.ID); got.VotesPower != 7 {
		t.Fatalf("after a TRANSFER votes %d, want 7", got.VotesPower)
	}
	n.block(voteTx(t, moved, 0, n.ids[4].key, to(yes, 6)), n.vote(e, 2, false))
	if got, _ := n.state.Election(e.ID); got.VotesPower != 23 || got.StatusAt(n.h) != StatusOngoing {
		t.Fatalf("votes %d status %s, want 23 ongoing", got.VotesPower, got.StatusAt(n.h))
	}
	n.block(n.vote(e, 3, true))
	if got := n.status(e.ID); got != StatusRejected {
		t.Fatalf("status with 17 of 40 against=%s, want rejected", got)
	}
}

// voteTx returns a VOTE of election e's tokens spending output i of from.
func voteTx(tb testing.TB, from *ledger.Tx, i int, key ledger.KeyPair, outs ...ledger.OutputSpec) *ledger.Tx {
	tb.Helper()
	u, err := ledger.BuildVote([]ledger.Spend{ledger.SpendOf(from, i)}, from.AssetID(), nil, outs...)
	if err != nil {
		tb.Fatalf("BuildVote()=%v", err)
	}
	return must(u.Sign(key.Private))
}

func TestSetChangeMakesOpenElectionsInconclusive(t *testing.T) {
	n := newTestNet(t, []uint64{10, 10, 10, 10}, nil)
	param := n.elect(Proposal{Kind: KindSetParam, Param: "fee_per_tx", Value: 2}, 1)
	n.block(param)
	add := n.elect(n.add(6, 1), 0)
	n.block(add, n.vote(param, 0, false))
	events := n.block(n.vote(add, 0, false), n.vote(add, 1, false), n.vote(add, 2, false), n.vote(param, 1, false))
	if got := n.status(param.ID); got != StatusInconclusive {
		t.Fatalf("param status=%s, want inconclusive", got)
	}
	want := []string{EventVoted + ":" + add.ID[:4], EventVoted + ":" + param.ID[:4], EventApproved + ":" + add.ID[:4], EventInconclusive + ":" + param.ID[:4]}
	if got := eventTypes(events); !reflect.DeepEqual(got, want) {
		t.Fatalf("events=%v, want %v", got, want)
	}
	if _, err := n.check(n.vote(param, 2, false)); !errors.Is(err, ErrVote) {
		t.Fatalf("vote for an inconclusive election: check()=%v, want %v", err, ErrVote)
	}
}

func TestApprovalRecheckedAgainstTheBlock(t *testing.T) {
	n := newTestNet(t, []uint64{10, 10, 10, 10}, nil)
	a := n.elect(Proposal{Kind: KindSetParam, Param: "fee_per_tx", Value: 2}, 0)
	b := n.elect(Proposal{Kind: KindSetParam, Param: "fee_per_tx", Value: 2}, 1)
	n.block(a, b)
	n.block(n.vote(b, 0, false), n.vote(a, 0, false), n.vote(a, 1, false), n.vote(a, 2, false), n.vote(b, 1, false), n.vote(b, 2, false))
	if sa, sb := n.status(a.ID), n.status(b.ID); sa != StatusInconclusive || sb != StatusApproved {
		t.Fatalf("statuses %s and %s, want the first voted (b) approved, a inconclusive", sa, sb)
	}
}

func TestExpiry(t *testing.T) {
	n := newTestNet(t, []uint64{10, 10, 10, 10}, func(p *genesis.Params) { p.ElectionExpiryBlocks = 2 })
	e := n.elect(n.add(6, 1), 0)
	n.block(e)
	n.block(n.vote(e, 0, false))
	if got := n.status(e.ID); got != StatusOngoing {
		t.Fatalf("status at 2=%s, want ongoing", got)
	}
	n.block(n.vote(e, 1, false)) // height 3 = expires_height: the last vote
	if got := n.status(e.ID); got != StatusExpired {
		t.Fatalf("status at 3=%s, want expired", got)
	}
	got, _ := n.state.Election(e.ID)
	if got.VotesPower != 20 || got.StatusAt(2) != StatusOngoing {
		t.Fatalf("Election()=%+v, want 20 votes, ongoing at 2", got)
	}
}

func TestCaretakerChanges(t *testing.T) {
	n := newTestNet(t, []uint64{10, 10, 10, 10, 10}, nil)
	approve := func(p Proposal) {
		t.Helper()
		e := n.elect(p, 0)
		n.block(e, n.vote(e, 0, false), n.vote(e, 1, false), n.vote(e, 2, false), n.vote(e, 3, false))
		if got := n.status(e.ID); got != StatusApproved {
			t.Fatalf("%s: status=%s, want approved", p.Kind, got)
		}
	}
	p := n.add(4, 13)
	p.Kind = KindSetPower
	approve(p)
	if got := n.state.SetAt(2).Power(n.ids[4].key.PublicBase58()); got != 13 {
		t.Fatalf("power after set-power=%d, want 13", got)
	}
	approve(Proposal{Kind: KindRemoveCaretaker, PublicKey: n.ids[4].key.PublicBase58(), PeerID: n.ids[4].peer})
	set := n.state.SetAt(3)
	if set.Index(n.ids[4].key.PublicBase58()) != -1 || set.Total() != 40 {
		t.Fatalf("SetAt(3)=%+v, want 4 caretakers of 40", set)
	}
	if got := len(n.state.SetEpochs()); got != 3 {
		t.Fatalf("SetEpochs() has %d, want 3", got)
	}
	if h := set.Hash(); string(h) != string(genesis.CaretakersHash(set.Caretakers)) {
		t.Fatalf("Hash() differs from genesis.CaretakersHash")
	}
}

func TestQuotas(t *testing.T) {
	n := newTestNet(t, []uint64{10, 10, 10, 10}, nil)
	pub := n.ids[7].key.PublicBase58()
	approve := func(p Proposal) string {
		t.Helper()
		e := n.elect(p, 0)
		n.block(e, n.vote(e, 0, false), n.vote(e, 1, false), n.vote(e, 2, false))
		return e.ID
	}
	id := approve(Proposal{Kind: KindGrantQuota, PublicKey: pub, Txs: 100, Bytes: 5000, UntilHeight: 10})
	if _, ok := n.state.Quota(pub, 1); ok {
		t.Fatalf("Quota(1) found, want none before the effect height")
	}
	want := Quota{PublicKey: pub, Txs: 100, Bytes: 5000, UntilHeight: 10, From: 2, ElectionID: id}
	if got, ok := n.state.Quota(pub, 2); !ok || got != want {
		t.Fatalf("Quota(2)=%+v %v, want %+v", got, ok, want)
	}
	if _, ok := n.state.Quota(pub, 11); ok {
		t.Fatalf("Quota(11) found, want none after until_height")
	}
	if got := n.state.Quotas(); len(got) != 1 || got[0] != want {
		t.Fatalf("Quotas()=%+v, want [%+v]", got, want)
	}
	approve(Proposal{Kind: KindRevokeQuota, PublicKey: pub})
	if _, ok := n.state.Quota(pub, 3); ok || len(n.state.Quotas()) != 0 {
		t.Fatalf("quota in force after revocation")
	}
	if _, ok := n.state.Quota(pub, 2); !ok {
		t.Fatalf("Quota(2) lost: history must keep it")
	}
}

func TestApplyWithoutGovernance(t *testing.T) {
	n := newTestNet(t, []uint64{10}, nil)
	checked, err := n.check(ledgertest.Create(t, n.ids[0].key, map[string]any{"a": 1}, nil))
	if err != nil {
		t.Fatalf("check()=%v", err)
	}
	next, events, err := n.state.Apply(1, checked)
	if next != n.state || events != nil || err != nil {
		t.Fatalf("Apply()=%p %v %v, want the same state", next, events, err)
	}
	e := n.elect(Proposal{Kind: KindSetParam, Param: "fee_per_tx", Value: 2}, 0)
	n.skip(3)
	n.block(e)
	checked, _ = n.check(n.vote(e, 0, false))
	if _, _, err := n.state.Apply(n.h, checked); err == nil {
		t.Fatalf("Apply(%d) again succeeded, want an error", n.h)
	}
}
