package federation_test

// Tests named after the rules of Algorithm 1 of "The latest gossip on BFT
// consensus" (Buchman, Kwon, Milosevic, arXiv:1807.04938), citing its lines.
// Four validators of power 1 (v0..v3): 2f+1 is 3 votes, f+1 is 2. At height
// 1 the proposer of round r is v(1+r mod 4).

import (
	"testing"
	"time"

	fed "github.com/ipdb/ipdb-node/federation"
	"github.com/ipdb/ipdb-node/federation/fedtest"
)

const (
	blockB fed.BlockID = "B"
	blockC fed.BlockID = "C"
)

// setup returns a driver for validator v<self> of four equal validators.
func setup(t *testing.T, self int) (*fedtest.Driver, []fed.ValidatorID) {
	t.Helper()
	set, ids := fedtest.Set(t, 1, 1, 1, 1)
	return fedtest.NewDriver(t, fedtest.Config(ids[self]), set), ids
}

// enterRound0 starts height 1 and leaves the waiting state.
func enterRound0(t *testing.T, d *fedtest.Driver) {
	t.Helper()
	d.Start(1)
	d.Step(fed.TxsAvailable{Height: 1})
}

// prevoteOnProposal delivers the proposal of (1, r) from ids[(1+r)%4] with
// pol and declares it valid, so the machine prevotes on it (lines 22/28).
func prevoteOnProposal(t *testing.T, d *fedtest.Driver, ids []fed.ValidatorID, r uint32, id fed.BlockID, pol int32) {
	t.Helper()
	d.Deliver(fedtest.ProposalMsg(fedtest.Proposal(1, r, id, pol, ids[(1+r)%4])))
	d.Step(fed.BlockVerdict{Height: 1, BlockID: id, Valid: true})
}

// toNextRound makes round r end by nil precommits of v1..v3 (2f+1, line 47)
// and the precommit timeout (line 65). The driver must be v0's.
func toNextRound(t *testing.T, d *fedtest.Driver, ids []fed.ValidatorID, r uint32) {
	t.Helper()
	d.Votes(fed.Precommit, 1, r, "", ids[1], ids[2], ids[3])
	d.Fire(1, r, fed.StepPrecommit)
	d.RequireStep(r+1, fed.StepPropose)
}

func TestStartHeightWaitsForTxs(t *testing.T) {
	d, _ := setup(t, 0)
	d.Start(1)
	d.RequireNoTimers()
	if st := d.Status(); !st.Waiting || st.Height != 1 || st.Round != 0 {
		t.Fatalf("Status()=%+v, want waiting at height 1 round 0", st)
	}
	d.Step(fed.TxsAvailable{Height: 1})
	d.RequireTimer(1, 0, fed.StepPropose, fedtest.TimeoutPropose) // line 21
	d.RequireTimer(1, 0, fed.StepRetry, fedtest.RetryInterval)
	d.RequireNothingSent()
}

func TestWaitingLeftByAnyMessage(t *testing.T) {
	d, ids := setup(t, 0)
	d.Start(1)
	d.Votes(fed.Prevote, 1, 0, blockB, ids[2])
	d.RequireTimer(1, 0, fed.StepPropose, fedtest.TimeoutPropose)
	if d.Status().Waiting {
		t.Fatalf("Status().Waiting=true after a vote, want false")
	}
}

// Lines 14-19: the proposer asks getValue() and broadcasts the proposal,
// then prevotes its own (valid) block by line 22.
func TestProposerBuildsAndProposes(t *testing.T) {
	d, ids := setup(t, 1)
	enterRound0(t, d)
	d.RequireBuild(1, 0)
	d.RequireNoTimer(fed.StepPropose)
	d.Step(fed.BlockBuilt{Height: 1, Round: 0, BlockID: blockB})
	d.RequireSent(fedtest.ProposalMsg(fedtest.Proposal(1, 0, blockB, -1, ids[1])),
		fedtest.VoteMsg(fedtest.Prevote(1, 0, blockB, ids[1])))
	d.RequireVerify(1) // own block: no Verify
}

func TestProposerWithNothingToProposeWaits(t *testing.T) {
	d, _ := setup(t, 1)
	enterRound0(t, d)
	d.Step(fed.BlockBuilt{Height: 1, Round: 0, BlockID: ""})
	d.RequireNothingSent()
	d.RequireTimer(1, 0, fed.StepPropose, fedtest.TimeoutPropose)
	d.RequireError(fed.BlockBuilt{Height: 1, Round: 0, BlockID: blockB}, fed.ErrStale)
}

// Lines 22-27: prevote v if valid(v), else nil; wait for the verdict.
func TestLine22PrevoteOnProposal(t *testing.T) {
	for _, valid := range []bool{true, false} {
		t.Run(map[bool]string{true: "valid", false: "invalid"}[valid], func(t *testing.T) {
			d, ids := setup(t, 0)
			enterRound0(t, d)
			d.Deliver(fedtest.ProposalMsg(fedtest.Proposal(1, 0, blockB, -1, ids[1])))
			d.RequireVerify(1, blockB)
			d.RequireNothingSent()
			d.Step(fed.BlockVerdict{Height: 1, BlockID: blockB, Valid: valid})
			want := blockB
			if !valid {
				want = ""
			}
			d.RequireSent(fedtest.VoteMsg(fedtest.Prevote(1, 0, want, ids[0])))
			d.RequireStep(0, fed.StepPrevote)
		})
	}
}

// Lines 36-43: a proposal and 2f+1 prevotes for it while step = prevote:
// lock, precommit, valid value.
func TestLine36LockOnPolka(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	prevoteOnProposal(t, d, ids, 0, blockB, -1)
	d.Votes(fed.Prevote, 1, 0, blockB, ids[1])
	d.RequireNothingSent()
	d.Votes(fed.Prevote, 1, 0, blockB, ids[2])
	d.RequireSent(fedtest.VoteMsg(fedtest.Precommit(1, 0, blockB, ids[0])))
	d.RequireTrace("lock B")
	d.RequireLocked(blockB, 0)
	if st := d.Status(); st.ValidValue != blockB || st.ValidRound != 0 {
		t.Fatalf("Status() valid %q round %d, want B 0", st.ValidValue, st.ValidRound)
	}
}

// Line 36 needs the proposal and valid(v): a polka seen first locks only
// once the proposal arrives and is verified, still in step prevote.
func TestLine36WaitsForProposalAndVerdict(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	d.Fire(1, 0, fed.StepPropose) // line 57: prevote nil
	d.Votes(fed.Prevote, 1, 0, blockB, ids[1], ids[2], ids[3])
	d.RequireTimer(1, 0, fed.StepPrevote, fedtest.TimeoutPrevote) // line 34
	d.RequireNothingSent()
	d.Deliver(fedtest.ProposalMsg(fedtest.Proposal(1, 0, blockB, -1, ids[1])))
	d.RequireNothingSent()
	d.Step(fed.BlockVerdict{Height: 1, BlockID: blockB, Valid: true})
	d.RequireSent(fedtest.VoteMsg(fedtest.Precommit(1, 0, blockB, ids[0])))
	d.RequireLocked(blockB, 0)
}

// Lines 44-46: 2f+1 nil prevotes while step = prevote: precommit nil.
func TestLine44PrecommitNilOnNilPolka(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	d.Fire(1, 0, fed.StepPropose)
	d.RequireSent(fedtest.VoteMsg(fedtest.Prevote(1, 0, "", ids[0])))
	d.Votes(fed.Prevote, 1, 0, "", ids[1], ids[2])
	d.RequireSent(fedtest.VoteMsg(fedtest.Precommit(1, 0, "", ids[0])))
	d.RequireStep(0, fed.StepPrecommit)
	d.RequireLocked("", -1)
}

// Lines 34-35 and 61-64: 2f+1 prevotes of any kind schedule the prevote
// timeout once; it precommits nil.
func TestLine34PrevoteTimeoutOnce(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	d.Fire(1, 0, fed.StepPropose)
	d.Votes(fed.Prevote, 1, 0, blockB, ids[1])
	d.RequireNoTimers()
	d.Votes(fed.Prevote, 1, 0, blockC, ids[2])
	d.RequireTimer(1, 0, fed.StepPrevote, fedtest.TimeoutPrevote)
	d.Votes(fed.Prevote, 1, 0, blockB, ids[3])
	d.RequireNoTimers()
	d.Fire(1, 0, fed.StepPrevote)
	d.RequireSent(fedtest.VoteMsg(fedtest.Precommit(1, 0, "", ids[0])))
}

// Lines 47-48 and 65-67: 2f+1 precommits of any kind schedule the precommit
// timeout once; it starts the next round.
func TestLine47PrecommitTimeoutStartsNextRound(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	d.Votes(fed.Precommit, 1, 0, blockB, ids[1], ids[2])
	d.RequireNoTimers()
	d.Votes(fed.Precommit, 1, 0, "", ids[3])
	d.RequireTimer(1, 0, fed.StepPrecommit, fedtest.TimeoutPrecommit)
	d.Fire(1, 0, fed.StepPrecommit)
	d.RequireStep(1, fed.StepPropose)
	d.RequireTimer(1, 1, fed.StepPropose, fedtest.TimeoutPropose+fedtest.TimeoutDelta)
}

// Lines 49-54: 2f+1 precommits first, the proposal later: decide once valid.
func TestLine49DecideOnLateProposal(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	d.Votes(fed.Precommit, 1, 0, blockB, ids[1], ids[2], ids[3])
	d.RequireNotDecided()
	d.Deliver(fedtest.ProposalMsg(fedtest.Proposal(1, 0, blockB, -1, ids[1])))
	d.RequireNotDecided()
	d.Step(fed.BlockVerdict{Height: 1, BlockID: blockB, Valid: true})
	d.RequireDecided(1, 0, blockB)
	d.RequireError(fed.VoteReceived{Vote: fedtest.Prevote(1, 0, blockB, ids[3])}, fed.ErrStale)
	d.RequireError(fed.TxsAvailable{Height: 1}, fed.ErrStale)
}

// Line 49 holds for any round r, also one below the current round.
func TestLine49DecideInEarlierRound(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	d.Votes(fed.Prevote, 1, 2, "", ids[1], ids[2]) // line 55: skip to round 2
	d.RequireStep(2, fed.StepPropose)
	prevoteOnProposal(t, d, ids, 0, blockB, -1)
	d.RequireNothingSent()
	d.Votes(fed.Precommit, 1, 0, blockB, ids[1], ids[2])
	d.RequireNotDecided()
	d.Votes(fed.Precommit, 1, 0, blockB, ids[3])
	d.RequireDecided(1, 0, blockB)
}

// Line 23: a proposal without POL does not move a lock; lines 36-39: a
// polka for another value in a later round does.
func TestUnlockOnlyByLaterPolka(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	prevoteOnProposal(t, d, ids, 0, blockB, -1)
	d.Votes(fed.Prevote, 1, 0, blockB, ids[1], ids[2])
	d.RequireLocked(blockB, 0)
	toNextRound(t, d, ids, 0)
	prevoteOnProposal(t, d, ids, 1, blockC, -1)
	d.RequireSent(fedtest.VoteMsg(fedtest.Prevote(1, 1, "", ids[0]))) // locked on B
	d.Votes(fed.Prevote, 1, 1, blockC, ids[1], ids[2])
	d.RequireLocked(blockB, 0)
	d.Votes(fed.Prevote, 1, 1, blockC, ids[3])
	d.RequireSent(fedtest.VoteMsg(fedtest.Precommit(1, 1, blockC, ids[0])))
	d.RequireLocked(blockC, 1)
}

// Lines 28-30: a proposal with validRound vr >= lockedRound and 2f+1
// prevotes for it in vr is prevoted despite the lock.
func TestLine28ProposalWithPOLUnlocks(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	prevoteOnProposal(t, d, ids, 0, blockB, -1)
	d.Votes(fed.Prevote, 1, 0, blockB, ids[1], ids[2])
	d.RequireLocked(blockB, 0)
	toNextRound(t, d, ids, 0)
	d.Fire(1, 1, fed.StepPropose)                              // no proposal in round 1: prevote nil
	d.Votes(fed.Prevote, 1, 1, blockC, ids[1], ids[2], ids[3]) // a polka for C we did not see proposed
	d.Fire(1, 1, fed.StepPrevote)
	toNextRound(t, d, ids, 1)
	prevoteOnProposal(t, d, ids, 2, blockC, 1)
	d.RequireSent(fedtest.VoteMsg(fedtest.Prevote(1, 2, blockC, ids[0])))
	d.RequireLocked(blockB, 0) // prevoting is not locking
}

// Line 29 false: a POL older than the lock gives a nil prevote (lines 31-32).
func TestLine28OlderPOLKeepsLock(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	d.Fire(1, 0, fed.StepPropose)
	d.Votes(fed.Prevote, 1, 0, blockC, ids[1], ids[2], ids[3])
	d.Fire(1, 0, fed.StepPrevote)
	toNextRound(t, d, ids, 0)
	prevoteOnProposal(t, d, ids, 1, blockB, -1)
	d.Votes(fed.Prevote, 1, 1, blockB, ids[1], ids[2])
	d.RequireLocked(blockB, 1)
	toNextRound(t, d, ids, 1)
	prevoteOnProposal(t, d, ids, 2, blockC, 0)
	d.RequireSent(fedtest.VoteMsg(fedtest.Prevote(1, 2, "", ids[0])))
}

// Lines 15-16 with 36-43: the proposer re-proposes its valid value with
// validRound as POLRound, without building.
func TestValidValueReproposedWithPOLRound(t *testing.T) {
	d, ids := setup(t, 2) // v2 proposes round 1 of height 1
	enterRound0(t, d)
	prevoteOnProposal(t, d, ids, 0, blockB, -1)
	d.Votes(fed.Prevote, 1, 0, blockB, ids[0], ids[1])
	d.RequireLocked(blockB, 0)
	d.Votes(fed.Precommit, 1, 0, "", ids[0], ids[1])
	d.Fire(1, 0, fed.StepPrecommit)
	d.RequireNoBuild()
	d.RequireSent(fedtest.ProposalMsg(fedtest.Proposal(1, 1, blockB, 0, ids[2])),
		fedtest.VoteMsg(fedtest.Prevote(1, 1, blockB, ids[2])))
}

// Lines 55-56: f+1 messages of a higher round skip to it; f messages do not.
func TestLine55RoundSkipOnFPlusOne(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	d.Votes(fed.Prevote, 1, 5, "", ids[1])
	d.RequireStep(0, fed.StepPropose)
	d.Deliver(fedtest.ProposalMsg(fedtest.Proposal(1, 5, blockB, -1, ids[2])))
	d.RequireStep(5, fed.StepPropose)
	d.RequireTrace("skip to round 5")
	d.RequireTimer(1, 5, fed.StepPropose, fedtest.TimeoutPropose+5*fedtest.TimeoutDelta)
}

// Line 55 beyond the round window: the messages are refused (ErrFuture) but
// remembered; the skip happens on the next accepted input.
func TestLine55FarRoundSkip(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	far := uint32(fed.MaxRoundsAhead + 10)
	d.RequireError(fed.VoteReceived{Vote: fedtest.Prevote(1, far, "", ids[1])}, fed.ErrFuture)
	d.RequireError(fed.VoteReceived{Vote: fedtest.Prevote(1, far+3, "", ids[2])}, fed.ErrFuture)
	d.Votes(fed.Prevote, 1, 0, "", ids[3])
	d.RequireStep(far, fed.StepPropose)
	d.Votes(fed.Prevote, 1, far, "", ids[1])
}

// Lines 57-67: timeoutX(r) = TimeoutX + r*TimeoutDelta for every step.
func TestTimeoutsGrow(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	for r := uint32(0); r < 3; r++ { // v0 proposes round 3
		grow := time.Duration(r) * fedtest.TimeoutDelta
		d.RequireTimer(1, r, fed.StepPropose, fedtest.TimeoutPropose+grow)
		d.Fire(1, r, fed.StepPropose)
		d.Votes(fed.Prevote, 1, r, "", ids[1])
		d.Votes(fed.Prevote, 1, r, blockB, ids[2])
		d.RequireTimer(1, r, fed.StepPrevote, fedtest.TimeoutPrevote+grow)
		d.Fire(1, r, fed.StepPrevote)
		d.Votes(fed.Precommit, 1, r, "", ids[1], ids[2])
		d.RequireTimer(1, r, fed.StepPrecommit, fedtest.TimeoutPrecommit+grow)
		d.Fire(1, r, fed.StepPrecommit)
	}
}

// Lines 58, 62, 66: a timer of another height, round or step does nothing.
func TestStaleTimerIgnored(t *testing.T) {
	d, ids := setup(t, 0)
	enterRound0(t, d)
	toNextRound(t, d, ids, 0)
	stale := []fed.TimeoutFired{
		{Height: 1, Round: 0, Step: fed.StepPropose},
		{Height: 1, Round: 0, Step: fed.StepPrecommit},
		{Height: 1, Round: 1, Step: fed.StepPrevote}, // step is propose
		{Height: 0, Round: 1, Step: fed.StepPropose},
		{Height: 2, Round: 1, Step: fed.StepPropose},
		{Height: 2, Round: 1, Step: fed.StepRetry},
	}
	for _, tf := range stale {
		out := d.Step(tf)
		if len(out.WAL)+len(out.Broadcast)+len(out.Timers)+len(out.Trace) != 0 {
			t.Fatalf("Step(%+v)=%+v, want nothing", tf, out)
		}
		d.RequireStep(1, fed.StepPropose)
	}
	d.RequireError(fed.TimeoutFired{Height: 1, Round: 1, Step: 9}, fed.ErrInvalid)
}
