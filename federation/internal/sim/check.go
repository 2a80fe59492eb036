package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ipdb/ipdb-node/federation"
)

// Failure classes; a *Failure wraps exactly one of them.
var (
	// ErrAgreement: two nodes stored different blocks at one height.
	ErrAgreement = errors.New("sim: agreement violated")
	// ErrDoubleSign: a machine broadcast two different proposals or votes for one (height, round, type).
	ErrDoubleSign = errors.New("sim: machine double-signed")
	// ErrBadEvidence: a machine reported evidence against a node that did not equivocate.
	ErrBadEvidence = errors.New("sim: false evidence")
	// ErrBadDecision: a decision's precommits do not prove it.
	ErrBadDecision = errors.New("sim: bad decision")
	// ErrNoProgress: honest nodes did not store all heights by GST + ProgressBound.
	ErrNoProgress = errors.New("sim: no progress")
	// ErrMachine: a machine refused an input it should accept, accepted one
	// it should refuse, signed while not a member, or misbehaved otherwise.
	ErrMachine = errors.New("sim: machine error")
	// ErrSetDivergence: two nodes started one height with different validator sets.
	ErrSetDivergence = errors.New("sim: validator sets diverged")
)

// Failure is the error Run returns: the seed, the virtual time, the cause
// (wrapping one of the Err... classes) and the trace of the last events.
type Failure struct {
	Seed  int64
	At    time.Duration
	Err   error
	Trace []string
}

// Error renders the failure with its trace tail, ready to print.
func (f *Failure) Error() string {
	return fmt.Sprintf("seed %d at %v: %v\ntrace (last %d events):\n%s",
		f.Seed, f.At, f.Err, len(f.Trace), strings.Join(f.Trace, "\n"))
}

// Unwrap returns the cause, so errors.Is(err, ErrAgreement) works.
func (f *Failure) Unwrap() error { return f.Err }

// fail records the first failure of the run; later ones are ignored.
func (s *Sim) fail(class error, detail string) {
	if s.err != nil {
		return
	}
	s.trace.note("FAIL: %v: %s", class, detail)
	s.err = &Failure{Seed: s.cfg.Seed, At: s.now, Err: fmt.Errorf("%w: %s", class, detail), Trace: s.trace.lines()}
}

// signKey identifies one thing a validator may sign only once.
type signKey struct {
	node   int
	height uint64
	round  uint32
	kind   uint8 // 0 proposal, else the VoteType
}

// checkSigned records m as broadcast by n's machine and fails if n's machine
// (in any incarnation) broadcast a different message for the same key.
func (s *Sim) checkSigned(n *node, m federation.Message) {
	var k signKey
	var val string
	if p := m.Proposal; p != nil {
		k = signKey{n.idx, p.Height, p.Round, 0}
		val = fmt.Sprintf("proposal %q pol=%d by %s", p.BlockID, p.POLRound, p.Proposer)
	} else {
		v := m.Vote
		k = signKey{n.idx, v.Height, v.Round, uint8(v.Type)}
		val = fmt.Sprintf("%v %q by %s", v.Type, v.BlockID, v.Validator)
	}
	if old, ok := s.signed[k]; ok && old != val {
		s.fail(ErrDoubleSign, fmt.Sprintf("%s at h%d r%d: first %s, now %s", n.id, k.height, k.round, old, val))
		return
	}
	s.signed[k] = val
}

// checkEvidence fails unless ev shows the byzantine node signing two
// different votes for one (height, round, type).
func (s *Sim) checkEvidence(n *node, ev federation.Equivocation) {
	s.stats.Evidence++
	a, b := ev.First, ev.Second
	same := a.Validator == b.Validator && a.Type == b.Type && a.Height == b.Height && a.Round == b.Round
	if !same || a.BlockID == b.BlockID || s.byz < 0 || a.Validator != s.nodes[s.byz].id {
		s.fail(ErrBadEvidence, fmt.Sprintf("%s reported %+v / %+v", n.id, a, b))
	}
}

// checkDecision verifies that d's precommits are distinct members' precommits
// for d's block in d's round holding more than 2/3 of the power.
func (s *Sim) checkDecision(d federation.Decision, set *federation.ValidatorSet) error {
	if d.BlockID == "" {
		return fmt.Errorf("decided nil at height %d", d.Height)
	}
	if set == nil {
		return fmt.Errorf("decision h%d: no set of that height", d.Height)
	}
	seen := make(map[federation.ValidatorID]bool, len(d.Precommits))
	var sum uint64
	for _, v := range d.Precommits {
		if v.Type != federation.Precommit || v.Height != d.Height || v.Round != d.Round || v.BlockID != d.BlockID {
			return fmt.Errorf("decision h%d r%d %q holds foreign vote %+v", d.Height, d.Round, d.BlockID, v)
		}
		p := set.Power(v.Validator)
		if p == 0 || seen[v.Validator] {
			return fmt.Errorf("decision h%d holds non-member or duplicate %q", d.Height, v.Validator)
		}
		seen[v.Validator] = true
		sum += p
	}
	if 3*sum <= 2*set.TotalPower() {
		return fmt.Errorf("decision h%d: precommit power %d of %d is not > 2/3", d.Height, sum, set.TotalPower())
	}
	return nil
}

// messageOf returns the message a ProposalReceived or VoteReceived carries.
func messageOf(in federation.Input) (federation.Message, bool) {
	switch v := in.(type) {
	case federation.ProposalReceived:
		return federation.Message{Proposal: &v.Proposal}, true
	case federation.VoteReceived:
		return federation.Message{Vote: &v.Vote}, true
	}
	return federation.Message{}, false
}

// describeInput renders a received message for failure details.
func describeInput(in federation.Input) string {
	if m, ok := messageOf(in); ok {
		return FormatMessage(m)
	}
	return fmt.Sprintf("%T%+v", in, in)
}

// entitledBy reports whether set lets m's signer send m: a vote needs a
// member, a proposal the proposer of its (height, round). A nil set (a height
// not derived yet) entitles everyone, so nothing is excused by it.
func entitledBy(set *federation.ValidatorSet, m federation.Message) bool {
	switch {
	case set == nil:
		return true
	case m.Proposal != nil:
		return set.Proposer(m.Proposal.Height, m.Proposal.Round) == m.Proposal.Proposer
	}
	return set.Power(m.Vote.Validator) > 0
}

// entitled reports whether n's own set of the height of the received
// message in entitles its signer to it.
func (s *Sim) entitled(n *node, in federation.Input) bool {
	m, ok := messageOf(in)
	return !ok || entitledBy(n.setAt(msgHeight(m)), m)
}

// signedByByzantine reports whether in carries a message signed by the
// byzantine node.
func (s *Sim) signedByByzantine(in federation.Input) bool {
	m, ok := messageOf(in)
	return ok && s.byz >= 0 && signer(m) == s.nodes[s.byz].id
}

// signer returns who signed a proposal or vote.
func signer(m federation.Message) federation.ValidatorID {
	if m.Proposal != nil {
		return m.Proposal.Proposer
	}
	return m.Vote.Validator
}

// checkEntitled fails if n's machine signed m although n's own set of m's
// height does not entitle n to it: a non-member must act as an observer.
func (s *Sim) checkEntitled(n *node, m federation.Message) {
	set := n.setAt(msgHeight(m))
	if signer(m) != n.id || set == nil || !entitledBy(set, m) {
		s.fail(ErrMachine, fmt.Sprintf("%s signed %s without being entitled at that height", n.id, FormatMessage(m)))
	}
}
