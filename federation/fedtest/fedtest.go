// Package fedtest drives one federation.Machine frame by frame in tests, in
// the style of go-f3's emulator: feed one input with Step, then assert what
// that input produced with the Require methods.
//
//	set, ids := fedtest.Set(t, 1, 1, 1, 1)
//	d := fedtest.NewDriver(t, fedtest.Config(ids[0]), set)
//	d.Start(1)
//	d.Step(federation.TxsAvailable{Height: 1})
//	d.RequireBuild(1, 0)
package fedtest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipdb/ipdb-node/federation"
)

// Default timeouts of Config, round 0 values.
const (
	TimeoutPropose   = 3 * time.Second
	TimeoutPrevote   = time.Second
	TimeoutPrecommit = time.Second
	TimeoutDelta     = 500 * time.Millisecond
	RetryInterval    = 2 * time.Second
)

// Config returns a valid federation.Config for self with the default timeouts.
func Config(self federation.ValidatorID) federation.Config {
	return federation.Config{
		Self: self, TimeoutPropose: TimeoutPropose, TimeoutPrevote: TimeoutPrevote,
		TimeoutPrecommit: TimeoutPrecommit, TimeoutDelta: TimeoutDelta, RetryInterval: RetryInterval,
	}
}

// Set returns a validator set with IDs "v0", "v1", ... of the given powers,
// and the IDs in that order. It fails the test if the set is refused.
func Set(t testing.TB, powers ...uint64) (*federation.ValidatorSet, []federation.ValidatorID) {
	t.Helper()
	vals := make([]federation.Validator, len(powers))
	ids := make([]federation.ValidatorID, len(powers))
	for i, p := range powers {
		ids[i] = federation.ValidatorID(fmt.Sprintf("v%d", i))
		vals[i] = federation.Validator{ID: ids[i], Power: p}
	}
	set, err := federation.NewValidatorSet(vals)
	if err != nil {
		t.Fatalf("NewValidatorSet(%v)=%v, want nil", powers, err)
	}
	return set, ids
}

// Prevote returns the prevote of from for id ("" = nil) at (h, r).
func Prevote(h uint64, r uint32, id federation.BlockID, from federation.ValidatorID) federation.Vote {
	return federation.Vote{Type: federation.Prevote, Height: h, Round: r, BlockID: id, Validator: from}
}

// Precommit returns the precommit of from for id ("" = nil) at (h, r).
func Precommit(h uint64, r uint32, id federation.BlockID, from federation.ValidatorID) federation.Vote {
	return federation.Vote{Type: federation.Precommit, Height: h, Round: r, BlockID: id, Validator: from}
}

// Proposal returns the proposal of from for id at (h, r) with POLRound pol.
func Proposal(h uint64, r uint32, id federation.BlockID, pol int32, from federation.ValidatorID) federation.Proposal {
	return federation.Proposal{Height: h, Round: r, BlockID: id, POLRound: pol, Proposer: from}
}

// VoteMsg wraps v in a Message.
func VoteMsg(v federation.Vote) federation.Message { return federation.Message{Vote: &v} }

// ProposalMsg wraps p in a Message.
func ProposalMsg(p federation.Proposal) federation.Message {
	return federation.Message{Proposal: &p}
}

// Driver feeds inputs to one Machine and checks its outputs. Last holds the
// merged Output of the inputs since the last Step, Deliver or Votes call.
type Driver struct {
	t    testing.TB
	M    *federation.Machine
	Set  *federation.ValidatorSet
	Last federation.Output
}

// NewDriver returns a Driver of a new Machine for cfg that will start heights
// with set. It fails the test if cfg is refused.
func NewDriver(t testing.TB, cfg federation.Config, set *federation.ValidatorSet) *Driver {
	t.Helper()
	m, err := federation.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v)=%v, want nil", cfg, err)
	}
	return &Driver{t: t, M: m, Set: set}
}

// Step feeds in, fails the test on an error, and returns (and keeps in Last)
// its Output.
func (d *Driver) Step(in federation.Input) federation.Output {
	d.t.Helper()
	out, err := d.M.Step(in)
	if err != nil {
		d.t.Fatalf("Step(%#v)=%v, want nil", in, err)
	}
	d.Last = out
	return out
}

// RequireError feeds in and fails the test unless Step returns an error
// matching target (errors.Is) and an empty Output.
func (d *Driver) RequireError(in federation.Input, target error) {
	d.t.Helper()
	out, err := d.M.Step(in)
	if !errors.Is(err, target) {
		d.t.Fatalf("Step(%#v)=%v, want %v", in, err, target)
	}
	if !isEmpty(out) {
		d.t.Fatalf("Step(%#v) with error returned %+v, want empty output", in, out)
	}
	d.Last = out
}

// Start feeds StartHeight{h, d.Set}.
func (d *Driver) Start(h uint64) federation.Output {
	d.t.Helper()
	return d.Step(federation.StartHeight{Height: h, Validators: d.Set})
}

// Deliver feeds each message as ProposalReceived or VoteReceived and keeps
// the merged Output in Last.
func (d *Driver) Deliver(msgs ...federation.Message) federation.Output {
	d.t.Helper()
	var all federation.Output
	for _, msg := range msgs {
		var in federation.Input = federation.VoteReceived{Vote: derefVote(msg.Vote)}
		if msg.Proposal != nil {
			in = federation.ProposalReceived{Proposal: *msg.Proposal}
		}
		all = Merge(all, d.Step(in))
	}
	d.Last = all
	return all
}

// Votes delivers votes of type typ at (h, r) for id from each of from.
func (d *Driver) Votes(typ federation.VoteType, h uint64, r uint32, id federation.BlockID, from ...federation.ValidatorID) federation.Output {
	d.t.Helper()
	msgs := make([]federation.Message, len(from))
	for i, f := range from {
		msgs[i] = VoteMsg(federation.Vote{Type: typ, Height: h, Round: r, BlockID: id, Validator: f})
	}
	return d.Deliver(msgs...)
}

// Fire feeds TimeoutFired for (h, r, step).
func (d *Driver) Fire(h uint64, r uint32, step federation.Step) federation.Output {
	d.t.Helper()
	return d.Step(federation.TimeoutFired{Height: h, Round: r, Step: step})
}

// Status returns the machine's status.
func (d *Driver) Status() federation.Status { return d.M.Status() }

func derefVote(v *federation.Vote) federation.Vote {
	if v == nil {
		return federation.Vote{}
	}
	return *v
}

// Merge appends b's lists to a's; b's Build and Decided win when set.
func Merge(a, b federation.Output) federation.Output {
	a.WAL = append(a.WAL, b.WAL...)
	a.Broadcast = append(a.Broadcast, b.Broadcast...)
	a.Timers = append(a.Timers, b.Timers...)
	a.Verify = append(a.Verify, b.Verify...)
	a.Evidence = append(a.Evidence, b.Evidence...)
	a.Trace = append(a.Trace, b.Trace...)
	if b.Build != nil {
		a.Build = b.Build
	}
	if b.Decided != nil {
		a.Decided = b.Decided
	}
	return a
}

func isEmpty(o federation.Output) bool {
	return len(o.WAL)+len(o.Broadcast)+len(o.Timers)+len(o.Verify)+len(o.Evidence)+len(o.Trace) == 0 &&
		o.Build == nil && o.Decided == nil
}

// FormatMessage renders a message as "prevote h1 r0 X by v0", for failures
// and scripts.
func FormatMessage(msg federation.Message) string {
	if p := msg.Proposal; p != nil {
		return fmt.Sprintf("proposal h%d r%d %s pol %d by %s", p.Height, p.Round, showID(p.BlockID), p.POLRound, p.Proposer)
	}
	if v := msg.Vote; v != nil {
		return fmt.Sprintf("%v h%d r%d %s by %s", v.Type, v.Height, v.Round, showID(v.BlockID), v.Validator)
	}
	return "empty message"
}

func formatMessages(msgs []federation.Message) string {
	s := make([]string, len(msgs))
	for i, m := range msgs {
		s[i] = FormatMessage(m)
	}
	return "[" + strings.Join(s, "; ") + "]"
}

func showID(id federation.BlockID) string {
	if id == "" {
		return "nil"
	}
	return string(id)
}

func sameMessages(a, b []federation.Message) bool {
	return slices.EqualFunc(a, b, func(x, y federation.Message) bool { return FormatMessage(x) == FormatMessage(y) })
}
