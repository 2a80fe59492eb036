package federation

// applyRule fires the first upon rule of Algorithm 1 whose condition holds
// and reports whether one fired.
func (m *Machine) applyRule() bool {
	if m.waiting || m.decided {
		return false
	}
	switch {
	case m.onQuorumPrecommitDecide(): // line 49
		return true
	case m.onFPlusOneHigherRound(): // line 55
		return true
	}
	switch m.step {
	case StepPropose:
		if m.onProposalFresh() || m.onProposalWithPOL() { // lines 22, 28
			return true
		}
	case StepPrevote:
		if m.onPolkaValue() || m.onPolkaNil() || m.onPolkaAny() { // lines 36, 44, 34
			return true
		}
	case StepPrecommit:
		if m.onPolkaValue() { // line 36 (step > prevote: valid value only)
			return true
		}
	}
	return m.onQuorumPrecommitAny() // line 47
}

// onQuorumPrecommitDecide: upon ⟨PROPOSAL, h, r, v, ∗⟩ from proposer(h, r)
// AND 2f+1 ⟨PRECOMMIT, h, r, id(v)⟩ while decision[h] = nil, if valid(v):
// decide (lines 49-54). Any round r, ascending.
func (m *Machine) onQuorumPrecommitDecide() bool {
	total := m.set.TotalPower()
	for _, r := range m.log.proposalRounds() {
		p, _ := m.log.proposal(r)
		pcs := m.log.precommits(r)
		if !pcs.quorumFor(p.BlockID, total) || !m.valid(p.BlockID) {
			continue
		}
		m.decided = true
		m.out.Decided = &Decision{Height: m.height, Round: r, BlockID: p.BlockID, Precommits: pcs.votesFor(p.BlockID)}
		m.traceRound(r, "decide %s", shortID(p.BlockID))
		return true
	}
	return false
}

// onFPlusOneHigherRound: upon f+1 ⟨∗, h, round, ∗, ∗⟩ with round > round_p:
// StartRound(round) (lines 55-56).
func (m *Machine) onFPlusOneHigherRound() bool {
	r, ok := m.log.skipRound(m.round)
	if !ok {
		return false
	}
	m.trace("skip to round %d", r)
	m.log.pruneFarRounds(r)
	m.startRound(r)
	return true
}

// onProposalFresh: upon ⟨PROPOSAL, h, round_p, v, −1⟩ from proposer while
// step = propose: prevote v if valid(v) ∧ (lockedRound = −1 ∨ lockedValue = v),
// else nil (lines 22-27). Waits while valid(v) is pending.
func (m *Machine) onProposalFresh() bool {
	p, ok := m.log.proposal(m.round)
	if !ok || p.POLRound != -1 || m.verdicts[p.BlockID] == verdictPending {
		return false
	}
	if m.valid(p.BlockID) && (m.lockedRound == -1 || m.lockedValue == p.BlockID) {
		m.enterPrevote(p.BlockID)
	} else {
		m.enterPrevote("")
	}
	return true
}

// onProposalWithPOL: upon ⟨PROPOSAL, h, round_p, v, vr⟩ from proposer AND
// 2f+1 ⟨PREVOTE, h, vr, id(v)⟩ while step = propose ∧ 0 <= vr < round_p:
// prevote v if valid(v) ∧ (lockedRound <= vr ∨ lockedValue = v), else nil
// (lines 28-33). Waits while valid(v) is pending.
func (m *Machine) onProposalWithPOL() bool {
	p, ok := m.log.proposal(m.round)
	if !ok || p.POLRound < 0 || uint32(p.POLRound) >= m.round || m.verdicts[p.BlockID] == verdictPending {
		return false
	}
	if !m.log.prevotes(uint32(p.POLRound)).quorumFor(p.BlockID, m.set.TotalPower()) {
		return false
	}
	if m.valid(p.BlockID) && (m.lockedRound <= p.POLRound || m.lockedValue == p.BlockID) {
		m.enterPrevote(p.BlockID)
	} else {
		m.enterPrevote("")
	}
	return true
}

// onPolkaAny: upon 2f+1 ⟨PREVOTE, h, round_p, ∗⟩ while step = prevote for the
// first time: schedule OnTimeoutPrevote (lines 34-35).
func (m *Machine) onPolkaAny() bool {
	if !m.once(firedPrevoteTimer) || !m.log.prevotes(m.round).quorumAny(m.set.TotalPower()) {
		return false
	}
	m.fire(firedPrevoteTimer)
	m.scheduleTimeout(StepPrevote, m.cfg.TimeoutPrevote)
	return true
}

// onPolkaValue: upon ⟨PROPOSAL, h, round_p, v, ∗⟩ from proposer AND 2f+1
// ⟨PREVOTE, h, round_p, id(v)⟩ while valid(v) ∧ step >= prevote for the first
// time: if step = prevote, lock v and precommit it; in any case v becomes
// the valid value (lines 36-43).
func (m *Machine) onPolkaValue() bool {
	p, ok := m.log.proposal(m.round)
	if !ok || !m.once(firedPolka) || !m.valid(p.BlockID) {
		return false
	}
	if !m.log.prevotes(m.round).quorumFor(p.BlockID, m.set.TotalPower()) {
		return false
	}
	m.fire(firedPolka)
	if m.step == StepPrevote {
		m.lockedValue, m.lockedRound = p.BlockID, int32(m.round)
		m.trace("lock %s", shortID(p.BlockID))
		m.enterPrecommit(p.BlockID)
	}
	m.validValue, m.validRound = p.BlockID, int32(m.round)
	m.trace("valid value %s", shortID(p.BlockID))
	return true
}

// onPolkaNil: upon 2f+1 ⟨PREVOTE, h, round_p, nil⟩ while step = prevote:
// precommit nil (lines 44-46).
func (m *Machine) onPolkaNil() bool {
	if !m.log.prevotes(m.round).quorumFor("", m.set.TotalPower()) {
		return false
	}
	m.enterPrecommit("")
	return true
}

// onQuorumPrecommitAny: upon 2f+1 ⟨PRECOMMIT, h, round_p, ∗⟩ for the first
// time: schedule OnTimeoutPrecommit (lines 47-48).
func (m *Machine) onQuorumPrecommitAny() bool {
	if !m.once(firedPrecommitTimer) || !m.log.precommits(m.round).quorumAny(m.set.TotalPower()) {
		return false
	}
	m.fire(firedPrecommitTimer)
	m.scheduleTimeout(StepPrecommit, m.cfg.TimeoutPrecommit)
	return true
}

// once reports whether the "for the first time" rule flag has not yet fired
// in the current round.
func (m *Machine) once(flag uint8) bool { return m.fired[m.round]&flag == 0 }

func (m *Machine) fire(flag uint8) { m.fired[m.round] |= flag }
