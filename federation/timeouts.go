package federation

import "fmt"

// onTimeout handles a fired Timer; stale timers (another height, round or
// step) are ignored without error.
func (m *Machine) onTimeout(in TimeoutFired) error {
	if in.Step < StepPropose || in.Step > StepRetry {
		return fmt.Errorf("timeout with unknown step %d: %w", in.Step, ErrInvalid)
	}
	if in.Height != m.height || m.decided || m.waiting {
		return nil
	}
	if in.Step == StepRetry {
		if m.retrying { // observers have no chain to continue
			m.onTimeoutRetry()
		}
		return nil
	}
	if in.Round != m.round {
		return nil
	}
	switch in.Step {
	case StepPropose:
		m.onTimeoutPropose()
	case StepPrevote:
		m.onTimeoutPrevote()
	case StepPrecommit:
		m.onTimeoutPrecommit()
	}
	return nil
}

// onTimeoutPropose: if step = propose, prevote nil (lines 57-60). When the
// round's proposal has arrived but its verdict is pending, the timeout is
// put off once by another timeoutPropose (design.md, departure 2): the
// proposer did its part, and the time is our own checking.
func (m *Machine) onTimeoutPropose() {
	if m.step != StepPropose {
		return
	}
	if p, ok := m.log.proposal(m.round); ok && m.verdicts[p.BlockID] == verdictPending && m.once(firedProposeWait) {
		m.fire(firedProposeWait)
		m.trace("timeout propose while checking the proposal: wait once more")
		m.scheduleTimeout(StepPropose, m.cfg.TimeoutPropose)
		return
	}
	m.trace("timeout propose")
	m.enterPrevote("")
}

// onTimeoutPrevote: if step = prevote, precommit nil (lines 61-64).
func (m *Machine) onTimeoutPrevote() {
	if m.step == StepPrevote {
		m.trace("timeout prevote")
		m.enterPrecommit("")
	}
}

// onTimeoutPrecommit: StartRound(round_p + 1) (lines 65-67).
func (m *Machine) onTimeoutPrecommit() {
	if m.round >= MaxRound {
		return // cannot happen in practice: 2^31 rounds of growing timeouts
	}
	m.trace("timeout precommit")
	m.startRound(m.round + 1)
}

// startRetry begins the StepRetry timer chain of the height (validators only).
func (m *Machine) startRetry() {
	if m.retrying || m.observer {
		return
	}
	m.retrying = true
	m.scheduleRetry()
}

func (m *Machine) scheduleRetry() {
	m.out.Timers = append(m.out.Timers, Timer{Height: m.height, Round: m.round, Step: StepRetry, After: m.cfg.RetryInterval})
}

// onTimeoutRetry re-broadcasts (no WAL: they are already durable) our
// precommit of the previous round, our proposal, prevote and precommit of
// the current round, and our prevotes of the rounds a POL may be checked in
// (the current proposal's POLRound and our validRound), then schedules the
// next retry. Not in the paper: its gossip assumption (every message a
// correct process received is eventually received by all) is what this
// approximates when messages are lost before GST; without the POL prevotes a
// node that missed them could never accept a re-proposed locked value
// (lines 28-29) and the locked validators would refuse all others.
func (m *Machine) onTimeoutRetry() {
	if m.round > 0 {
		m.rebroadcastVote(voteKey{m.round - 1, Precommit})
	}
	for _, r := range m.polRounds() {
		m.rebroadcastVote(voteKey{r, Prevote})
	}
	if p, ok := m.sentProposal[m.round]; ok {
		m.out.Broadcast = append(m.out.Broadcast, Message{Proposal: &p})
	}
	m.rebroadcastVote(voteKey{m.round, Prevote})
	m.rebroadcastVote(voteKey{m.round, Precommit})
	m.scheduleRetry()
}

// polRounds returns the earlier rounds whose prevotes may be needed as a
// POL: the current proposal's POLRound and our validRound, without
// duplicates.
func (m *Machine) polRounds() []uint32 {
	var rounds []uint32
	if p, ok := m.log.proposal(m.round); ok && p.POLRound >= 0 {
		rounds = append(rounds, uint32(p.POLRound))
	}
	if m.validRound >= 0 && uint32(m.validRound) < m.round && (len(rounds) == 0 || rounds[0] != uint32(m.validRound)) {
		rounds = append(rounds, uint32(m.validRound))
	}
	return rounds
}

func (m *Machine) rebroadcastVote(key voteKey) {
	if v, ok := m.sentVotes[key]; ok {
		m.out.Broadcast = append(m.out.Broadcast, Message{Vote: &v})
	}
}
