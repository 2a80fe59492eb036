package fedtest

import (
	"fmt"
	"testing"

	"github.com/ipdb/ipdb-node/federation"
)

// fakeTB records a Fatalf instead of stopping the test.
type fakeTB struct {
	testing.TB
	failed string
}

type fatal struct{}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	panic(fatal{})
}

// fails reports whether fn called Fatalf on tb.
func fails(tb *fakeTB, fn func()) (failed bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(fatal); !ok {
				panic(r)
			}
			failed = true
		}
	}()
	fn()
	return false
}

// TestRequireDetectsMismatch checks that the Require methods pass on the
// right output and fail on a wrong one.
func TestRequireDetectsMismatch(t *testing.T) {
	set, ids := Set(t, 1, 1, 1, 1)
	tb := &fakeTB{TB: t}
	d := NewDriver(tb, Config(ids[1]), set)
	d.Start(1)
	d.Step(federation.TxsAvailable{Height: 1})
	d.Step(federation.BlockBuilt{Height: 1, Round: 0, BlockID: "B"})
	proposal := ProposalMsg(Proposal(1, 0, "B", -1, ids[1]))
	prevote := VoteMsg(Prevote(1, 0, "B", ids[1]))
	tests := []struct {
		name string
		fn   func()
		fail bool
	}{
		{"broadcast right", func() { d.RequireBroadcast(proposal, prevote) }, false},
		{"broadcast wrong order", func() { d.RequireBroadcast(prevote, proposal) }, true},
		{"wal missing one", func() { d.RequireWAL(proposal) }, true},
		{"nothing sent", func() { d.RequireNothingSent() }, true},
		{"no decision yet", func() { d.RequireDecided(1, 0, "B") }, true},
		{"not decided", func() { d.RequireNotDecided() }, false},
		{"no evidence", func() { d.RequireEvidence(ids[2]) }, true},
		{"step", func() { d.RequireStep(0, federation.StepPrevote) }, false},
		{"wrong step", func() { d.RequireStep(0, federation.StepPrecommit) }, true},
		{"trace", func() { d.RequireTrace("propose B") }, false},
		{"missing trace", func() { d.RequireTrace("decide") }, true},
		{"build answered", func() { d.RequireBuild(1, 0) }, true},
	}
	for _, tt := range tests {
		if got := fails(tb, tt.fn); got != tt.fail {
			t.Fatalf("%s: failed=%v (%s), want %v", tt.name, got, tb.failed, tt.fail)
		}
	}
}
