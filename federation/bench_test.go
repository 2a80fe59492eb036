package federation_test

import (
	"fmt"
	"testing"

	fed "github.com/ipdb/ipdb-node/federation"
)

// voteFeeder produces the votes of one height of a 100-validator set: the
// proposal first, then the prevotes and precommits of the others for it.
type voteFeeder struct {
	b     *testing.B
	m     *fed.Machine
	set   *fed.ValidatorSet
	ids   []fed.ValidatorID
	h     uint64
	queue []fed.Vote
}

func (f *voteFeeder) step(in fed.Input) fed.Output {
	out, err := f.m.Step(in)
	if err != nil {
		f.b.Fatalf("Step(%+v)=%v, want nil", in, err)
	}
	return out
}

// startHeight begins the next height and queues its votes.
func (f *voteFeeder) startHeight() {
	f.h++
	f.step(fed.StartHeight{Height: f.h, Validators: f.set})
	block := fed.BlockID(fmt.Sprintf("block-%d", f.h))
	if proposer := f.set.Proposer(f.h, 0); proposer == f.ids[0] {
		f.step(fed.TxsAvailable{Height: f.h})
		f.step(fed.BlockBuilt{Height: f.h, Round: 0, BlockID: block})
	} else {
		p := fed.Proposal{Height: f.h, Round: 0, BlockID: block, POLRound: -1, Proposer: proposer}
		f.step(fed.ProposalReceived{Proposal: p})
		f.step(fed.BlockVerdict{Height: f.h, BlockID: block, Valid: true})
	}
	f.queue = f.queue[:0]
	for _, typ := range []fed.VoteType{fed.Prevote, fed.Precommit} {
		for _, id := range f.ids[1:] {
			f.queue = append(f.queue, fed.Vote{Type: typ, Height: f.h, BlockID: block, Validator: id})
		}
	}
}

// BenchmarkStepVote measures votes per second through Step for 100
// validators of equal power (whole heights: proposal, prevotes, precommits,
// decision, next height).
func BenchmarkStepVote(b *testing.B) {
	vals := make([]fed.Validator, 100)
	ids := make([]fed.ValidatorID, 100)
	for i := range vals {
		ids[i] = fed.ValidatorID(fmt.Sprintf("validator-%03d", i))
		vals[i] = fed.Validator{ID: ids[i], Power: 1}
	}
	set, err := fed.NewValidatorSet(vals)
	if err != nil {
		b.Fatalf("NewValidatorSet()=%v", err)
	}
	cfg := fed.Config{Self: ids[0], TimeoutPropose: 1, TimeoutPrevote: 1, TimeoutPrecommit: 1, RetryInterval: 1}
	m, err := fed.New(cfg)
	if err != nil {
		b.Fatalf("New()=%v", err)
	}
	f := &voteFeeder{b: b, m: m, set: set, ids: ids}
	f.startHeight()
	votes := 0
	for b.Loop() {
		v := f.queue[0]
		f.queue = f.queue[1:]
		votes++
		if out := f.step(fed.VoteReceived{Vote: v}); out.Decided != nil {
			f.startHeight()
		}
	}
	b.ReportMetric(float64(votes)/b.Elapsed().Seconds(), "votes/s")
}
