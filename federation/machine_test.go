package federation_test

import (
	"strings"
	"testing"

	fed "github.com/ipdb/ipdb-node/federation"
	"github.com/ipdb/ipdb-node/federation/fedtest"
)

// decideHeight1 drives v0 through a decision of B at height 1, round 0.
func decideHeight1(t *testing.T, d *fedtest.Driver, ids []fed.ValidatorID) {
	t.Helper()
	prevoteOnProposal(t, d, ids, 0, blockB, -1)
	d.Votes(fed.Prevote, 1, 0, blockB, ids[1], ids[2])
	d.Votes(fed.Precommit, 1, 0, blockB, ids[1], ids[2])
	d.RequireDecided(1, 0, blockB)
}

func TestStepErrors(t *testing.T) {
	d, ids := setup(t, 0)
	d.RequireError(fed.VoteReceived{Vote: fedtest.Prevote(1, 0, "", ids[1])}, fed.ErrFuture) // before StartHeight
	d.RequireError(fed.StartHeight{Height: 1}, fed.ErrInvalid)
	enterRound0(t, d)
	long := fed.BlockID(strings.Repeat("x", fed.MaxBlockIDBytes+1))
	tests := []struct {
		name string
		in   fed.Input
		want error
	}{
		{"nil input", nil, fed.ErrInvalid},
		{"vote bad type", fed.VoteReceived{Vote: fed.Vote{Type: 3, Height: 1, Validator: ids[1]}}, fed.ErrInvalid},
		{"vote long block id", fed.VoteReceived{Vote: fedtest.Prevote(1, 0, long, ids[1])}, fed.ErrInvalid},
		{"vote no validator", fed.VoteReceived{Vote: fedtest.Prevote(1, 0, "", "")}, fed.ErrInvalid},
		{"vote round too high", fed.VoteReceived{Vote: fedtest.Prevote(1, fed.MaxRound+1, "", ids[1])}, fed.ErrInvalid},
		{"vote non-member", fed.VoteReceived{Vote: fedtest.Prevote(1, 0, "", "stranger")}, fed.ErrInvalid},
		{"proposal from non-proposer", fed.ProposalReceived{Proposal: fedtest.Proposal(1, 0, blockB, -1, ids[2])}, fed.ErrInvalid},
		{"proposal empty block", fed.ProposalReceived{Proposal: fedtest.Proposal(1, 0, "", -1, ids[1])}, fed.ErrInvalid},
		{"proposal pol not below round", fed.ProposalReceived{Proposal: fedtest.Proposal(1, 0, blockB, 0, ids[1])}, fed.ErrInvalid},
		{"proposal pol below -1", fed.ProposalReceived{Proposal: fedtest.Proposal(1, 1, blockB, -2, ids[2])}, fed.ErrInvalid},
		{"vote old height", fed.VoteReceived{Vote: fedtest.Prevote(0, 0, "", ids[1])}, fed.ErrStale},
		{"vote height+2", fed.VoteReceived{Vote: fedtest.Prevote(3, 0, "", ids[1])}, fed.ErrFuture},
		{"proposal round too far", fed.ProposalReceived{Proposal: fedtest.Proposal(1, fed.MaxRoundsAhead+3, blockB, -1, ids[0])}, fed.ErrFuture},
		{"verdict not asked", fed.BlockVerdict{Height: 1, BlockID: blockC, Valid: true}, fed.ErrStale},
		{"verdict future", fed.BlockVerdict{Height: 2, BlockID: blockC, Valid: true}, fed.ErrFuture},
		{"built not asked", fed.BlockBuilt{Height: 1, Round: 0, BlockID: blockB}, fed.ErrStale},
		{"txs old height", fed.TxsAvailable{Height: 0}, fed.ErrStale},
		{"start same height", fed.StartHeight{Height: 1, Validators: d.Set}, fed.ErrStale},
		{"replay of another's vote", fed.Replay{Message: fedtest.VoteMsg(fedtest.Prevote(1, 0, "", ids[1]))}, fed.ErrInvalid},
		{"replay empty message", fed.Replay{}, fed.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d.RequireError(tt.in, tt.want)
		})
	}
}

func TestDuplicateIsStale(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	p := fedtest.ProposalMsg(fedtest.Proposal(1, 0, blockB, -1, ids[1]))
	d.Deliver(p)
	d.RequireError(fed.ProposalReceived{Proposal: *p.Proposal}, fed.ErrStale)
	d.RequireError(fed.ProposalReceived{Proposal: fedtest.Proposal(1, 0, blockC, -1, ids[1])}, fed.ErrStale)
	d.Votes(fed.Prevote, 1, 0, blockB, ids[2])
	d.RequireError(fed.VoteReceived{Vote: fedtest.Prevote(1, 0, blockB, ids[2])}, fed.ErrStale)
}

// One validator's two different votes for one (h, r, type): evidence once;
// a third is dropped.
func TestEquivocationEvidence(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	d.Votes(fed.Prevote, 1, 0, blockB, ids[1])
	d.RequireNoEvidence()
	d.Votes(fed.Prevote, 1, 0, blockC, ids[1])
	d.RequireEvidence(ids[1])
	if e := d.Last.Evidence[0]; e.First.BlockID != blockB || e.Second.BlockID != blockC {
		t.Fatalf("Evidence=%+v, want first B then C", e)
	}
	d.RequireError(fed.VoteReceived{Vote: fedtest.Prevote(1, 0, blockC, ids[1])}, fed.ErrStale)
	d.RequireError(fed.VoteReceived{Vote: fedtest.Prevote(1, 0, "", ids[1])}, fed.ErrStale)
	d.Votes(fed.Precommit, 1, 0, blockC, ids[1]) // another type: no evidence
	d.RequireNoEvidence()
}

// The equivocator counts once for "any" (line 34: senders), so its two
// votes plus one other are not 2f+1.
func TestEquivocatorCountsOnceForAny(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	d.Fire(1, 0, fed.StepPropose)
	d.Votes(fed.Prevote, 1, 0, blockB, ids[1])
	d.Votes(fed.Prevote, 1, 0, blockC, ids[1])
	d.RequireNoTimers()
	d.Votes(fed.Prevote, 1, 0, blockC, ids[2])
	d.RequireTimer(1, 0, fed.StepPrevote, fedtest.TimeoutPrevote)
}

func TestNextHeightBuffering(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	d.Votes(fed.Prevote, 1+1, 0, blockC, ids[2])
	d.RequireNothingSent()
	if got := d.Status().Buffered; got != 1 {
		t.Fatalf("Status().Buffered=%d, want 1", got)
	}
	d.RequireError(fed.VoteReceived{Vote: fedtest.Prevote(3, 0, "", ids[2])}, fed.ErrFuture)
	decideHeight1(t, d, ids)
	d.Start(2)
	d.RequireTimer(2, 0, fed.StepPropose, fedtest.TimeoutPropose) // the buffered vote left the waiting state
	if st := d.Status(); st.Waiting || st.Buffered != 0 || st.Height != 2 {
		t.Fatalf("Status()=%+v, want height 2, not waiting, empty buffer", st)
	}
	d.RequireError(fed.VoteReceived{Vote: fedtest.Prevote(2, 0, blockC, ids[2])}, fed.ErrStale) // it was counted
}

func TestNextHeightBufferBounded(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	for r := range uint32(fed.MaxFutureBuffer) {
		d.Votes(fed.Prevote, 2, r, "", ids[2])
	}
	d.RequireError(fed.VoteReceived{Vote: fedtest.Prevote(2, 99, "", ids[2])}, fed.ErrFuture)
	d.Votes(fed.Prevote, 2, 0, "", ids[3]) // other senders keep their quota
}

func TestStartHeightSkipDropsBuffer(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	d.Votes(fed.Prevote, 2, 0, "", ids[2])
	d.Start(5) // caught up by block sync
	d.RequireNoTimers()
	if st := d.Status(); !st.Waiting || st.Buffered != 0 {
		t.Fatalf("Status()=%+v, want waiting with an empty buffer", st)
	}
}

// An observer (Self "" or not a member) follows and decides, but never
// builds, votes, broadcasts or runs the retry timer.
func TestObserverNeverVotes(t *testing.T) {
	for _, self := range []fed.ValidatorID{"", "outsider"} {
		t.Run(string(self), func(t *testing.T) {
			set, ids := fedtest.Set(t, 1, 1, 1, 1)
			d := fedtest.NewDriver(t, fedtest.Config(self), set)
			all := d.Start(1)
			all = fedtest.Merge(all, d.Step(fed.TxsAvailable{Height: 1}))
			all = fedtest.Merge(all, d.Deliver(fedtest.ProposalMsg(fedtest.Proposal(1, 0, blockB, -1, ids[1]))))
			all = fedtest.Merge(all, d.Step(fed.BlockVerdict{Height: 1, BlockID: blockB, Valid: true}))
			all = fedtest.Merge(all, d.Votes(fed.Prevote, 1, 0, blockB, ids[1], ids[2], ids[3]))
			all = fedtest.Merge(all, d.Fire(1, 0, fed.StepPropose))
			all = fedtest.Merge(all, d.Fire(1, 0, fed.StepRetry))
			all = fedtest.Merge(all, d.Votes(fed.Precommit, 1, 0, blockB, ids[1], ids[2], ids[3]))
			d.Last = all
			d.RequireNothingSent()
			d.RequireNoBuild()
			d.RequireNoTimer(fed.StepRetry)
			d.RequireDecided(1, 0, blockB)
			if !d.Status().Observer {
				t.Fatalf("Status().Observer=false, want true")
			}
		})
	}
}

// After a restart the replayed messages are re-broadcast (not WAL'd), the
// round and lock come back, and no conflicting vote is ever signed.
func TestReplayRestoresLockAndNeverDoubleSigns(t *testing.T) {
	d, ids := setup(t, 0)
	d.Start(1)
	pv := fedtest.VoteMsg(fedtest.Prevote(1, 0, blockB, ids[0]))
	pc := fedtest.VoteMsg(fedtest.Precommit(1, 0, blockB, ids[0]))
	d.Step(fed.Replay{Message: pv})
	d.RequireBroadcast(pv)
	d.RequireWAL()
	d.Step(fed.Replay{Message: pc})
	d.RequireBroadcast(pc)
	d.RequireLocked(blockB, 0)
	d.RequireStep(0, fed.StepPrecommit)
	d.RequireError(fed.Replay{Message: fedtest.VoteMsg(fedtest.Prevote(1, 0, blockC, ids[0]))}, fed.ErrInvalid)
	d.Deliver(fedtest.ProposalMsg(fedtest.Proposal(1, 0, blockB, -1, ids[1])))
	d.RequireVerify(1) // valid(B) is known from the replayed votes
	d.Votes(fed.Prevote, 1, 0, blockB, ids[1], ids[2])
	d.RequireNothingSent() // the polka would lock and precommit: already done
	toNextRound(t, d, ids, 0)
	prevoteOnProposal(t, d, ids, 1, blockC, -1)
	d.RequireSent(fedtest.VoteMsg(fedtest.Prevote(1, 1, "", ids[0]))) // still locked on B
}

func TestReplayMovesToHigherRound(t *testing.T) {
	d, ids := setup(t, 0)
	d.Start(1)
	d.Step(fed.Replay{Message: fedtest.VoteMsg(fedtest.Prevote(1, 2, "", ids[0]))})
	d.RequireStep(2, fed.StepPrevote)
	d.RequireTimer(1, 2, fed.StepRetry, fedtest.RetryInterval)
	d.Fire(1, 2, fed.StepPropose)
	d.RequireNothingSent()
	d.Votes(fed.Prevote, 1, 2, "", ids[1], ids[2])
	d.RequireSent(fedtest.VoteMsg(fedtest.Precommit(1, 2, "", ids[0])))
}

// A replayed proposal is not rebuilt, and the retry re-broadcasts it.
func TestReplayProposalNotRebuilt(t *testing.T) {
	d, ids := setup(t, 1)
	d.Start(1)
	p := fedtest.ProposalMsg(fedtest.Proposal(1, 0, blockB, -1, ids[1]))
	d.Step(fed.Replay{Message: p})
	d.RequireBroadcast(p)
	d.Step(fed.TxsAvailable{Height: 1})
	d.RequireNoBuild()
	d.RequireSent(fedtest.VoteMsg(fedtest.Prevote(1, 0, blockB, ids[1]))) // line 22 on our own block
	d.Fire(1, 0, fed.StepRetry)
	d.RequireBroadcast(p, fedtest.VoteMsg(fedtest.Prevote(1, 0, blockB, ids[1])))
}

// Our own vote echoed back from the network (e.g. sent before a crash whose
// WAL was lost) is never contradicted.
func TestOwnVoteEchoNeverContradicted(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	d.Votes(fed.Prevote, 1, 0, "", ids[0])
	prevoteOnProposal(t, d, ids, 0, blockB, -1)
	d.RequireNothingSent()
	d.RequireStep(0, fed.StepPrevote)
}

// Our own proposal echoed back from the network while we build a block
// (sent before a crash whose WAL was lost) is never contradicted: the block
// built afterwards is not proposed (found by FuzzStep).
func TestOwnProposalEchoDuringBuild(t *testing.T) {
	d, ids := setup(t, 1)
	d.Start(1)
	d.Step(fed.TxsAvailable{Height: 1})
	d.RequireBuild(1, 0)
	d.Deliver(fedtest.ProposalMsg(fedtest.Proposal(1, 0, blockB, -1, ids[1])))
	d.Step(fed.BlockBuilt{Height: 1, Round: 0, BlockID: blockC})
	d.RequireNothingSent()
	d.Fire(1, 0, fed.StepRetry)
	d.RequireBroadcast(fedtest.ProposalMsg(fedtest.Proposal(1, 0, blockB, -1, ids[1])))
}

// An echo of our own precommit (signed before a crash whose WAL lost it)
// goes to the WAL, not out again: a crash before the next retry would
// otherwise forget it, and the new machine would precommit nil in its
// round (FuzzStep found this; its input is kept in testdata/fuzz).
func TestOwnVoteEchoIsMadeDurable(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	echo := fedtest.VoteMsg(fedtest.Precommit(1, 0, blockB, ids[0]))
	d.Deliver(echo)
	d.RequireWAL(echo)
	d.RequireBroadcast()
}

// The retry timer re-broadcasts our messages of the current round and our
// precommit of the previous one, without WAL, and schedules itself again.
func TestRetryRebroadcasts(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	d.Fire(1, 0, fed.StepPropose)
	d.Votes(fed.Prevote, 1, 0, "", ids[1], ids[2])
	toNextRound(t, d, ids, 0)
	d.Fire(1, 1, fed.StepPropose)
	d.Fire(1, 0, fed.StepRetry)
	d.RequireWAL()
	d.RequireBroadcast(fedtest.VoteMsg(fedtest.Precommit(1, 0, "", ids[0])), fedtest.VoteMsg(fedtest.Prevote(1, 1, "", ids[0])))
	d.RequireTimer(1, 1, fed.StepRetry, fedtest.RetryInterval)
}

// The retry also re-broadcasts our prevote of the current proposal's
// POLRound, so that validators that lost it can check the POL (line 28).
func TestRetryRebroadcastsPOLPrevote(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	prevoteOnProposal(t, d, ids, 0, blockB, -1)
	toNextRound(t, d, ids, 0)
	d.Deliver(fedtest.ProposalMsg(fedtest.Proposal(1, 1, blockB, 0, ids[2])))
	d.Fire(1, 1, fed.StepRetry)
	d.RequireBroadcast(fedtest.VoteMsg(fedtest.Prevote(1, 0, blockB, ids[0])))
}

func TestDecisionPrecommitsSorted(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	d.Votes(fed.Precommit, 1, 0, blockB, ids[3], ids[1], ids[2])
	d.Deliver(fedtest.ProposalMsg(fedtest.Proposal(1, 0, blockB, -1, ids[1])))
	d.Step(fed.BlockVerdict{Height: 1, BlockID: blockB, Valid: true})
	d.RequireDecided(1, 0, blockB)
	var got []fed.ValidatorID
	for _, v := range d.Last.Decided.Precommits {
		got = append(got, v.Validator)
	}
	if strings.Join([]string{string(got[0]), string(got[1]), string(got[2])}, ",") != "v1,v2,v3" || len(got) != 3 {
		t.Fatalf("Decided.Precommits validators=%v, want [v1 v2 v3]", got)
	}
}

// A restarted proposer whose replayed precommit restored its valid value
// re-proposes it with its POLRound and prevotes it (lines 15-16, 28-30):
// valid(v) is known from the replayed vote, no Verify is pending.
func TestReplayedValidValueReproposedAndPrevoted(t *testing.T) {
	d, ids := setup(t, 2) // v2 proposes round 1 of height 1
	d.Start(1)
	d.Step(fed.Replay{Message: fedtest.VoteMsg(fedtest.Prevote(1, 0, blockB, ids[2]))})
	d.Step(fed.Replay{Message: fedtest.VoteMsg(fedtest.Precommit(1, 0, blockB, ids[2]))})
	d.Votes(fed.Prevote, 1, 0, blockB, ids[0], ids[1]) // the POL, re-sent by their retry
	d.Votes(fed.Precommit, 1, 0, "", ids[0], ids[1])
	d.Fire(1, 0, fed.StepPrecommit)
	d.RequireSent(fedtest.ProposalMsg(fedtest.Proposal(1, 1, blockB, 0, ids[2])),
		fedtest.VoteMsg(fedtest.Prevote(1, 1, blockB, ids[2])))
	d.RequireVerify(1)
}
