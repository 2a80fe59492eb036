package federation

import (
	"fmt"
	"time"
)

// startRound is the paper's StartRound(round) (lines 11-21).
func (m *Machine) startRound(round uint32) {
	m.round, m.step = round, StepPropose
	m.buildRound = -1
	m.trace("enter round %d, propose", round)
	if m.observer || m.set.Proposer(m.height, round) != m.cfg.Self {
		m.scheduleTimeout(StepPropose, m.cfg.TimeoutPropose) // line 21
		return
	}
	if _, ok := m.sentProposal[round]; ok {
		return // replayed: already proposed in this round
	}
	if m.validValue != "" {
		m.propose(m.validValue, m.validRound) // lines 15-16, 19
		return
	}
	m.buildRound = int64(round) // line 18: getValue(), answered by BlockBuilt
	m.out.Build = &BuildRequest{Height: m.height, Round: round}
}

// onBlockBuilt is the answer of getValue() (line 18): broadcast the proposal
// (line 19), or, with nothing to propose, wait like a non-proposer (line 21).
func (m *Machine) onBlockBuilt(in BlockBuilt) error {
	if err := m.checkHeight(in.Height); err != nil {
		return fmt.Errorf("block built: %w", err)
	}
	if m.buildRound < 0 || in.Round != uint32(m.buildRound) || in.Round != m.round || m.step != StepPropose {
		return fmt.Errorf("block built for round %d: not asked: %w", in.Round, ErrStale)
	}
	if len(in.BlockID) > MaxBlockIDBytes {
		return fmt.Errorf("block built: block id of %d bytes > %d: %w", len(in.BlockID), MaxBlockIDBytes, ErrInvalid)
	}
	m.buildRound = -1
	if in.BlockID == "" {
		m.trace("nothing to propose")
		m.scheduleTimeout(StepPropose, m.cfg.TimeoutPropose)
		return nil
	}
	m.propose(in.BlockID, -1) // a block we built ourselves is valid
	return nil
}

// propose broadcasts ⟨PROPOSAL, h, round, id, validRound⟩ (line 19) and
// logs it as received. It never signs a second proposal for a round: if one
// of ours was sent, replayed or echoed back to us (rememberOwnProposal) while
// a block was being built, it does nothing.
func (m *Machine) propose(id BlockID, polRound int32) {
	if _, ok := m.sentProposal[m.round]; ok {
		m.trace("already proposed in round %d", m.round)
		return
	}
	p := Proposal{Height: m.height, Round: m.round, BlockID: id, POLRound: polRound, Proposer: m.cfg.Self}
	m.verdicts[id] = verdictValid // built by us, or validValue (set only after valid(v), line 36)
	m.sentProposal[p.Round] = p
	m.log.addProposal(p)
	m.emit(Message{Proposal: &p})
	m.trace("propose %s pol %d", shortID(id), polRound)
}

// castVote broadcasts our vote of type typ for id in the current round and
// counts it. It never signs a second vote for one (round, type): if one was
// sent (or replayed) it does nothing. An observer sends nothing.
func (m *Machine) castVote(typ VoteType, id BlockID) {
	key := voteKey{m.round, typ}
	if _, ok := m.sentVotes[key]; ok || m.observer {
		return
	}
	v := Vote{Type: typ, Height: m.height, Round: m.round, BlockID: id, Validator: m.cfg.Self}
	m.sentVotes[key] = v
	m.log.addVote(v)
	m.emit(Message{Vote: &v})
}

// emit adds one of our new messages to the WAL and Broadcast lists.
func (m *Machine) emit(msg Message) {
	m.out.WAL = append(m.out.WAL, msg)
	m.out.Broadcast = append(m.out.Broadcast, msg)
}

// enterPrevote sends our prevote for id (nil if "") and moves to step prevote
// (lines 24-27, 30-33, 59-60).
func (m *Machine) enterPrevote(id BlockID) {
	m.castVote(Prevote, id)
	m.step = StepPrevote
	m.trace("enter prevote %s", shortID(id))
}

// enterPrecommit sends our precommit for id (nil if "") and moves to step
// precommit (lines 40-41, 45-46, 63-64).
func (m *Machine) enterPrecommit(id BlockID) {
	m.castVote(Precommit, id)
	m.step = StepPrecommit
	m.trace("enter precommit %s", shortID(id))
}

// scheduleTimeout asks for a TimeoutFired of (height, round, step) after
// timeoutX(round) = base + round*TimeoutDelta, capped at MaxTimeout.
func (m *Machine) scheduleTimeout(step Step, base time.Duration) {
	after := timeoutAt(base, m.cfg.TimeoutDelta, m.round)
	m.out.Timers = append(m.out.Timers, Timer{Height: m.height, Round: m.round, Step: step, After: after})
}

// timeoutAt returns base + round*delta, capped at MaxTimeout (base and delta
// are <= MaxTimeout by Config.Validate, so nothing overflows).
func timeoutAt(base, delta time.Duration, round uint32) time.Duration {
	if delta > 0 && uint64(round) > uint64((MaxTimeout-base)/delta) {
		return MaxTimeout
	}
	return base + time.Duration(round)*delta // <= MaxTimeout by the check above
}
