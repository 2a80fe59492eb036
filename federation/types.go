package federation

import (
	"fmt"
	"time"
)

// BlockID is an opaque application block identifier (the node uses the CID
// bytes as a string). The empty BlockID is nil: a vote for "" is a nil vote.
type BlockID string

// ValidatorID identifies a validator (the node uses the raw 32-byte Ed25519
// signing public key as a string).
type ValidatorID string

// Step is a step of a round (paper: step_p), or the retry pseudo-step used
// only in timers.
type Step uint8

// Steps of a round, in order, and the retry timer step.
const (
	StepPropose   Step = 1 // waiting for the proposal (paper: propose)
	StepPrevote   Step = 2 // prevote sent, collecting prevotes (paper: prevote)
	StepPrecommit Step = 3 // precommit sent, collecting precommits (paper: precommit)
	StepRetry     Step = 4 // timers only: re-broadcast own current messages
)

// String returns the lower-case step name.
func (s Step) String() string {
	switch s {
	case StepPropose:
		return "propose"
	case StepPrevote:
		return "prevote"
	case StepPrecommit:
		return "precommit"
	case StepRetry:
		return "retry"
	}
	return fmt.Sprintf("step(%d)", uint8(s))
}

// VoteType tells a prevote from a precommit.
type VoteType uint8

// Vote types.
const (
	Prevote   VoteType = 1
	Precommit VoteType = 2
)

// String returns "prevote" or "precommit".
func (t VoteType) String() string {
	switch t {
	case Prevote:
		return "prevote"
	case Precommit:
		return "precommit"
	}
	return fmt.Sprintf("votetype(%d)", uint8(t))
}

// Validator is a member of a validator set with its voting power.
type Validator struct {
	ID    ValidatorID
	Power uint64
}

// Proposal is the paper's ⟨PROPOSAL, h, r, v, validRound⟩ message.
type Proposal struct {
	Height   uint64
	Round    uint32
	BlockID  BlockID // never ""
	POLRound int32   // paper's validRound; -1 when none
	Proposer ValidatorID
}

// Vote is the paper's ⟨PREVOTE, h, r, id(v)⟩ or ⟨PRECOMMIT, h, r, id(v)⟩.
type Vote struct {
	Type      VoteType
	Height    uint64
	Round     uint32
	BlockID   BlockID // "" is a nil vote
	Validator ValidatorID
}

// Message is one of Proposal or Vote (exactly one non-nil).
type Message struct {
	Proposal *Proposal
	Vote     *Vote
}

// Config configures a Machine. All durations must be > 0 except
// TimeoutDelta, which may be 0.
type Config struct {
	Self             ValidatorID   // "" = observer: follows and decides but never proposes or votes
	TimeoutPropose   time.Duration // round 0 value; grows by TimeoutDelta per round
	TimeoutPrevote   time.Duration // round 0 value; grows by TimeoutDelta per round
	TimeoutPrecommit time.Duration // round 0 value; grows by TimeoutDelta per round
	TimeoutDelta     time.Duration // added per round to each timeout
	RetryInterval    time.Duration // re-broadcast own current-round messages when stuck this long (liveness under loss)
}

// Input is one input to Machine.Step: StartHeight, TxsAvailable,
// ProposalReceived, VoteReceived, TimeoutFired, BlockBuilt, BlockVerdict or
// Replay.
type Input interface{ isInput() }

// StartHeight begins a height (the first one, or after the app committed the
// previous decision). The machine waits in round 0 without timers until
// TxsAvailable or any proposal/vote of this height arrives.
type StartHeight struct {
	Height     uint64
	Validators *ValidatorSet
}

// TxsAvailable tells the machine the app has something to propose: leave the
// waiting state and enter propose of round 0.
type TxsAvailable struct{ Height uint64 }

// ProposalReceived delivers a proposal whose signature the caller verified,
// including that Proposer is the signer.
type ProposalReceived struct{ Proposal Proposal }

// VoteReceived delivers a vote whose signature the caller verified.
type VoteReceived struct{ Vote Vote }

// TimeoutFired reports that a Timer from Output.Timers expired.
type TimeoutFired struct {
	Height uint64
	Round  uint32
	Step   Step
}

// BlockBuilt answers Output.Build; BlockID "" means nothing to propose.
type BlockBuilt struct {
	Height  uint64
	Round   uint32
	BlockID BlockID
}

// BlockVerdict answers Output.Verify: whether the app accepts BlockID.
type BlockVerdict struct {
	Height  uint64
	BlockID BlockID
	Valid   bool
}

// Replay is one of OUR OWN messages read back from the WAL after a restart
// (after StartHeight): it restores round, lock and sent votes; the machine
// never afterwards emits a different proposal/vote for the same (height,
// round, type) and re-broadcasts (Output.Broadcast, not WAL) the replayed
// message.
type Replay struct{ Message Message }

func (StartHeight) isInput()      {}
func (TxsAvailable) isInput()     {}
func (ProposalReceived) isInput() {}
func (VoteReceived) isInput()     {}
func (TimeoutFired) isInput()     {}
func (BlockBuilt) isInput()       {}
func (BlockVerdict) isInput()     {}
func (Replay) isInput()           {}

// Output is what one Step asks the caller to do. The caller must carry it
// out in this order: WAL (durable, fsync) BEFORE Broadcast; then Timers,
// Build, Verify; Decided; Evidence. The caller owns all slices.
type Output struct {
	WAL       []Message       // our own new proposal/votes, and echoes of ours the WAL lacked: durable BEFORE Broadcast
	Broadcast []Message       // sign and publish (same order)
	Timers    []Timer         // schedule; fire back as TimeoutFired (stale ones are ignored by the machine)
	Build     *BuildRequest   // we are proposer and have no valid value: app builds a block, answers BlockBuilt
	Verify    []VerifyRequest // app checks the block, answers BlockVerdict (once per BlockID per height)
	Decided   *Decision       // the height is decided; machine then waits for StartHeight(Height+1)
	Evidence  []Equivocation  // a validator signed two different votes for one (height, round, type)
	Trace     []TraceEvent    // human-readable state changes for the node's debug log / sim trace
}

// Timer asks the caller to fire TimeoutFired{Height, Round, Step} after
// After. Step may be StepRetry for the re-broadcast timer.
type Timer struct {
	Height uint64
	Round  uint32
	Step   Step
	After  time.Duration
}

// BuildRequest asks the app to build a block for (Height, Round) and answer
// with BlockBuilt.
type BuildRequest struct {
	Height uint64
	Round  uint32
}

// VerifyRequest asks the app to check BlockID and answer with BlockVerdict.
// Round is the round of the proposal that carried it (informational).
type VerifyRequest struct {
	Height  uint64
	Round   uint32
	BlockID BlockID
}

// Decision reports a decided height: Precommits are the precommits for
// BlockID in Round, holding more than 2/3 of the power, sorted by Validator.
type Decision struct {
	Height     uint64
	Round      uint32
	BlockID    BlockID
	Precommits []Vote
}

// Equivocation is proof that one validator signed two different votes for
// one (height, round, type). First is the vote counted.
type Equivocation struct{ First, Second Vote }

// TraceEvent is a human-readable state change for logs and simulator traces.
type TraceEvent struct {
	Height uint64
	Round  uint32
	Event  string // e.g. "enter prevote", "lock", "skip to round 3"
}
