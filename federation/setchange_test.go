package federation_test

// Caretaker-set changes: governance fixes the set of height h+1 in the block
// decided at h, and the node starts h+1 with it. The machine must take the
// set of each height as given: a node outside it is an observer there, a
// node added at h+1 votes from h+1 on, and a node removed at h+1 neither
// counts nor proposes from h+1 on.

import (
	"testing"

	fed "github.com/ipdb/ipdb-node/federation"
	"github.com/ipdb/ipdb-node/federation/fedtest"
)

// setWithout returns a copy of set without id.
func setWithout(t *testing.T, set *fed.ValidatorSet, id fed.ValidatorID) *fed.ValidatorSet {
	t.Helper()
	var vals []fed.Validator
	for _, v := range set.Validators() {
		if v.ID != id {
			vals = append(vals, v)
		}
	}
	out, err := fed.NewValidatorSet(vals)
	if err != nil {
		t.Fatalf("NewValidatorSet(%v)=%v, want nil", vals, err)
	}
	return out
}

// decideAsFollower drives d through height h with proposal B by the
// proposer of round 0 and prevotes and precommits of voters, and requires
// the decision.
func decideAsFollower(t *testing.T, d *fedtest.Driver, h uint64, voters ...fed.ValidatorID) fed.Output {
	t.Helper()
	all := d.Step(fed.TxsAvailable{Height: h})
	all = fedtest.Merge(all, d.Deliver(fedtest.ProposalMsg(fedtest.Proposal(h, 0, blockB, -1, d.Set.Proposer(h, 0)))))
	all = fedtest.Merge(all, d.Step(fed.BlockVerdict{Height: h, BlockID: blockB, Valid: true}))
	all = fedtest.Merge(all, d.Votes(fed.Prevote, h, 0, blockB, voters...))
	all = fedtest.Merge(all, d.Votes(fed.Precommit, h, 0, blockB, voters...))
	d.Last = all
	d.RequireDecided(h, 0, blockB)
	return all
}

// A node outside the set of height 1 observes it (no build, vote, WAL or
// retry timer) and, added at height 2, votes there.
func TestAddedNodeObservesThenVotes(t *testing.T) {
	set2, ids := fedtest.Set(t, 1, 1, 1, 1, 1)
	newcomer := ids[4]
	set1 := setWithout(t, set2, newcomer)
	d := fedtest.NewDriver(t, fedtest.Config(newcomer), set1)
	d.Start(1)
	decideAsFollower(t, d, 1, ids[0], ids[1], ids[2])
	d.RequireNothingSent()
	d.RequireNoBuild()
	d.RequireNoTimer(fed.StepRetry)

	d.Set = set2
	d.Start(2)
	if d.Status().Observer {
		t.Fatalf("Status().Observer=true at the height it was added, want false")
	}
	d.Step(fed.TxsAvailable{Height: 2})
	d.RequireTimer(2, 0, fed.StepRetry, fedtest.RetryInterval)
	proposer := set2.Proposer(2, 0)
	if proposer == newcomer {
		t.Fatalf("Proposer(2, 0)=%s, want another validator for this test", proposer)
	}
	d.Deliver(fedtest.ProposalMsg(fedtest.Proposal(2, 0, blockB, -1, proposer)))
	d.Step(fed.BlockVerdict{Height: 2, BlockID: blockB, Valid: true})
	d.RequireSent(fedtest.VoteMsg(fedtest.Prevote(2, 0, blockB, newcomer)))
}

// A node removed at height 2 is an observer there: it follows and decides
// but never builds, votes or runs the retry timer.
func TestRemovedNodeBecomesObserver(t *testing.T) {
	set1, ids := fedtest.Set(t, 1, 1, 1, 1, 1)
	leaver := ids[4]
	d := fedtest.NewDriver(t, fedtest.Config(leaver), set1)
	d.Start(1)
	d.Step(fed.TxsAvailable{Height: 1})
	d.RequireTimer(1, 0, fed.StepRetry, fedtest.RetryInterval)

	d.Set = setWithout(t, set1, leaver)
	d.Start(2)
	if !d.Status().Observer {
		t.Fatalf("Status().Observer=false after removal, want true")
	}
	decideAsFollower(t, d, 2, ids[0], ids[1], ids[2])
	d.RequireNothingSent()
	d.RequireNoBuild()
	d.RequireNoTimer(fed.StepRetry)
}

// From the height of its removal a node's votes and proposals are refused
// (ErrInvalid) and never counted, including those buffered before that
// height started; the decision holds only members' precommits.
func TestRemovedNodeNeverCounts(t *testing.T) {
	set1, ids := fedtest.Set(t, 1, 1, 1, 1, 1)
	leaver := ids[4]
	set2 := setWithout(t, set1, leaver)
	d := fedtest.NewDriver(t, fedtest.Config(ids[0]), set1)
	d.Start(1)
	d.Votes(fed.Prevote, 2, 0, blockB, leaver) // buffered for height 2
	d.Set = set2
	d.Start(2)
	if st := d.Status(); !st.Waiting || st.Buffered != 0 {
		t.Fatalf("Status()=%+v, want waiting (the buffered vote refused) with an empty buffer", st)
	}
	r := uint32(0)
	for set1.Proposer(2, r) != leaver {
		r++
	}
	d.RequireError(fed.ProposalReceived{Proposal: fedtest.Proposal(2, r, blockC, -1, leaver)}, fed.ErrInvalid)
	d.RequireError(fed.VoteReceived{Vote: fedtest.Prevote(2, 0, blockB, leaver)}, fed.ErrInvalid)
	d.RequireError(fed.VoteReceived{Vote: fedtest.Precommit(2, 5, "", leaver)}, fed.ErrInvalid)
	if st := d.Status(); !st.Waiting {
		t.Fatalf("Status()=%+v, want still waiting: a removed node's messages do not start the height", st)
	}

	d.Step(fed.TxsAvailable{Height: 2})
	d.Deliver(fedtest.ProposalMsg(fedtest.Proposal(2, 0, blockB, -1, set2.Proposer(2, 0))))
	d.Step(fed.BlockVerdict{Height: 2, BlockID: blockB, Valid: true})
	d.Votes(fed.Prevote, 2, 0, blockB, ids[1]) // with our own: 2 of 4, no polka
	d.RequireNothingSent()
	d.Votes(fed.Prevote, 2, 0, blockB, ids[2])
	d.RequireSent(fedtest.VoteMsg(fedtest.Precommit(2, 0, blockB, ids[0])))
	d.Votes(fed.Precommit, 2, 0, blockB, ids[1])
	d.RequireNotDecided()
	d.Votes(fed.Precommit, 2, 0, blockB, ids[2])
	d.RequireDecided(2, 0, blockB)
	for _, v := range d.Last.Decided.Precommits {
		if set2.Power(v.Validator) == 0 {
			t.Fatalf("Decided.Precommits holds %s, not a member of height 2", v.Validator)
		}
	}
}
