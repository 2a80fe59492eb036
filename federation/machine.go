package federation

import (
	"errors"
	"fmt"
)

// verdict is the app's answer to valid(v) for one block id of the height.
type verdict uint8

const (
	verdictPending verdict = iota + 1 // Verify asked, no BlockVerdict yet
	verdictValid
	verdictInvalid
)

// Per-round "for the first time" flags of the paper's upon rules.
const (
	firedPrevoteTimer   uint8 = 1 << iota // line 34
	firedPolka                            // line 36
	firedPrecommitTimer                   // line 47
	firedProposeWait                      // line 57 put off once (onTimeoutPropose)
)

// maxRuleRounds bounds the rule loop of one Step; each iteration changes the
// state monotonically, so hitting it means a broken invariant.
const maxRuleRounds = 1 << 16

// Machine is the Tendermint state machine of one participant (paper
// Algorithm 1) for one height at a time. It is not safe for concurrent use:
// calls to Step must be serialised.
type Machine struct {
	cfg     Config
	started bool    // a StartHeight was accepted
	out     *Output // the Output of the Step in progress
	future  futureBuffer

	// Paper variables (lines 2-9) of the current height.
	height      uint64
	round       uint32
	step        Step
	lockedValue BlockID
	lockedRound int32
	validValue  BlockID
	validRound  int32

	set        *ValidatorSet
	observer   bool  // Self is "" or not a member of set
	waiting    bool  // round 0, waiting for txs or any message of the height
	decided    bool  // decision_p[h_p] != nil: waiting for StartHeight(h+1)
	retrying   bool  // the StepRetry timer chain is running
	buildRound int64 // round of the pending BuildRequest, -1 if none

	log          *messageLog
	verdicts     map[BlockID]verdict
	fired        map[uint32]uint8 // firedX flags per round
	sentProposal map[uint32]Proposal
	sentVotes    map[voteKey]Vote
}

// New returns a Machine for cfg, or an error wrapping ErrInvalid if cfg is
// not valid. The machine accepts nothing but StartHeight until the first one.
func New(cfg Config) (*Machine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Machine{cfg: cfg, future: newFutureBuffer()}, nil
}

// Step advances the machine by one input. Calls must be serialised.
// The caller must carry out Output in this order: WAL (durable, fsync) BEFORE
// Broadcast; then Timers, Build, Verify; Decided; Evidence. The caller owns
// the returned slices.
//
// Errors wrap ErrInvalid (penalise the sender), ErrStale or ErrFuture (ignore);
// with an error the Output is empty and the state is unchanged, except that
// a message beyond the round window is remembered for the round skip (line
// 55), which then takes effect on the next accepted input.
func (m *Machine) Step(in Input) (Output, error) {
	var out Output
	m.out = &out
	defer func() { m.out = nil }()
	err := m.dispatch(in)
	if err != nil {
		return Output{}, err
	}
	return out, nil
}

func (m *Machine) dispatch(in Input) error {
	if _, ok := in.(StartHeight); !ok && !m.started {
		return fmt.Errorf("%T before the first StartHeight: %w", in, ErrFuture)
	}
	switch in := in.(type) {
	case StartHeight:
		return m.onStartHeight(in)
	case TxsAvailable:
		return m.thenAdvance(m.onTxsAvailable(in))
	case ProposalReceived:
		return m.thenAdvance(m.onProposal(in.Proposal))
	case VoteReceived:
		return m.thenAdvance(m.onVote(in.Vote))
	case TimeoutFired:
		return m.thenAdvance(m.onTimeout(in))
	case BlockBuilt:
		return m.thenAdvance(m.onBlockBuilt(in))
	case BlockVerdict:
		return m.thenAdvance(m.onVerdict(in))
	case Replay:
		return m.onReplay(in.Message) // no rules: more replays may follow
	}
	return fmt.Errorf("unknown input %T: %w", in, ErrInvalid)
}

// thenAdvance runs the upon rules after an accepted input.
func (m *Machine) thenAdvance(err error) error {
	if err == nil {
		m.advance()
	}
	return err
}

// checkHeight classifies a message or answer of height h against the
// current height: nil when it is for the running, undecided height.
func (m *Machine) checkHeight(h uint64) error {
	switch {
	case h < m.height:
		return fmt.Errorf("height %d < current %d: %w", h, m.height, ErrStale)
	case h > m.height:
		return fmt.Errorf("height %d > current %d: %w", h, m.height, ErrFuture)
	case m.decided:
		return fmt.Errorf("height %d already decided: %w", h, ErrStale)
	}
	return nil
}

// onTxsAvailable leaves the waiting state of round 0.
func (m *Machine) onTxsAvailable(in TxsAvailable) error {
	if err := m.checkHeight(in.Height); err != nil {
		return fmt.Errorf("txs available: %w", err)
	}
	m.leaveWaiting()
	return nil
}

// onVerdict records the app's valid(v).
func (m *Machine) onVerdict(in BlockVerdict) error {
	if err := m.checkHeight(in.Height); err != nil {
		return fmt.Errorf("block verdict: %w", err)
	}
	if m.verdicts[in.BlockID] != verdictPending {
		return fmt.Errorf("block verdict for %s: not asked: %w", shortID(in.BlockID), ErrStale)
	}
	if in.Valid {
		m.verdicts[in.BlockID] = verdictValid
		return nil
	}
	m.verdicts[in.BlockID] = verdictInvalid
	m.trace("block %s invalid", shortID(in.BlockID))
	return nil
}

// valid is the paper's valid(v); false also while the verdict is pending.
func (m *Machine) valid(id BlockID) bool { return m.verdicts[id] == verdictValid }

// requestVerify asks the app for valid(id) once per block id per height.
func (m *Machine) requestVerify(round uint32, id BlockID) {
	if _, ok := m.verdicts[id]; ok {
		return
	}
	m.verdicts[id] = verdictPending
	m.out.Verify = append(m.out.Verify, VerifyRequest{Height: m.height, Round: round, BlockID: id})
}

// errRuleLoop reports a rule loop that did not settle (a broken invariant).
var errRuleLoop = errors.New("federation: upon rules did not settle")

// advance applies the upon rules until none fires.
func (m *Machine) advance() {
	for range maxRuleRounds {
		if !m.applyRule() {
			return
		}
	}
	panic(errRuleLoop)
}
