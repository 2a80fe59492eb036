package federation

import "fmt"

// onReplay restores one of our own messages read back from the WAL after a
// restart: it leaves the waiting state, moves to the message's round if that
// is higher, records the message as sent (so no conflicting one is ever
// signed), counts it, restores the lock from a non-nil precommit, and
// re-broadcasts it. The upon rules do not run until the next other input, so
// that a later replayed message is never preceded by a conflicting new one.
func (m *Machine) onReplay(msg Message) error {
	if err := msg.ValidateBasic(); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	h, r, signer := msg.header()
	if err := m.checkHeight(h); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if m.observer || signer != m.cfg.Self {
		return fmt.Errorf("replay: message of %x, not ours: %w", string(signer), ErrInvalid)
	}
	if err := m.checkReplayConflict(msg); err != nil {
		return err
	}
	m.replayRound(r)
	if msg.Proposal != nil {
		m.replayProposal(*msg.Proposal)
	} else {
		m.replayVote(*msg.Vote)
	}
	m.out.Broadcast = append(m.out.Broadcast, msg)
	return nil
}

// header returns the height, round and signer of a message that passed
// ValidateBasic.
func (msg Message) header() (uint64, uint32, ValidatorID) {
	if msg.Proposal != nil {
		return msg.Proposal.Height, msg.Proposal.Round, msg.Proposal.Proposer
	}
	return msg.Vote.Height, msg.Vote.Round, msg.Vote.Validator
}

// checkReplayConflict refuses a replayed message that differs from one
// already sent for its (round, type): the WAL itself would be double-signed.
func (m *Machine) checkReplayConflict(msg Message) error {
	if p := msg.Proposal; p != nil {
		if prev, ok := m.sentProposal[p.Round]; ok && prev != *p {
			return fmt.Errorf("replay: proposal of round %d conflicts with %s: %w", p.Round, shortID(prev.BlockID), ErrInvalid)
		}
		if prev, ok := m.log.proposal(p.Round); ok && prev != *p {
			return fmt.Errorf("replay: proposal of round %d conflicts with logged %s: %w", p.Round, shortID(prev.BlockID), ErrInvalid)
		}
		return nil
	}
	v := *msg.Vote
	if prev, ok := m.sentVotes[voteKey{v.Round, v.Type}]; ok && prev != v {
		return fmt.Errorf("replay: %v of round %d conflicts with %s: %w", v.Type, v.Round, shortID(prev.BlockID), ErrInvalid)
	}
	return nil
}

// replayRound leaves the waiting state without StartRound's effects and
// moves to round r if it is higher (a non-proposer's propose timeout is
// scheduled there; the proposer of r has proposed, else r would not be in
// the WAL before a vote of r).
func (m *Machine) replayRound(r uint32) {
	moved := m.waiting || r > m.round
	m.waiting = false
	if r > m.round {
		m.round, m.step, m.buildRound = r, StepPropose, -1
	}
	m.startRetry()
	if moved {
		m.trace("replay: enter round %d, propose", m.round)
		m.scheduleTimeout(StepPropose, m.cfg.TimeoutPropose)
	}
}

// replayProposal restores our proposal of its round (a block we built is valid).
func (m *Machine) replayProposal(p Proposal) {
	m.sentProposal[p.Round] = p
	m.log.addProposal(p)
	m.verdicts[p.BlockID] = verdictValid
	m.traceRound(p.Round, "replay proposal %s", shortID(p.BlockID))
}

// replayVote restores our vote: the step of its round, valid(v) for a
// non-nil vote, and for a non-nil precommit the lock and valid value (lines
// 38-39, 42-43).
func (m *Machine) replayVote(v Vote) {
	m.sentVotes[voteKey{v.Round, v.Type}] = v
	m.log.addVote(v)
	m.traceRound(v.Round, "replay %v %s", v.Type, shortID(v.BlockID))
	if v.Round == m.round {
		m.step = max(m.step, voteStep(v.Type))
	}
	if v.BlockID == "" {
		return
	}
	m.verdicts[v.BlockID] = verdictValid // we vote for v only after valid(v) (lines 23, 29, 36)
	if v.Type != Precommit {
		return
	}
	if r := int32(v.Round); r > m.lockedRound {
		m.lockedValue, m.lockedRound = v.BlockID, r
		m.traceRound(v.Round, "replay: lock %s", shortID(v.BlockID))
	}
	if r := int32(v.Round); r > m.validRound {
		m.validValue, m.validRound = v.BlockID, r
	}
}

// voteStep is the step at which a vote of type t has been sent.
func voteStep(t VoteType) Step {
	if t == Prevote {
		return StepPrevote
	}
	return StepPrecommit
}
