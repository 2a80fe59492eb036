package federation

import "fmt"

// onProposal stores a proposal of the current height (or buffers one of the
// next height) and asks the app for valid(v).
func (m *Machine) onProposal(p Proposal) error {
	if err := p.ValidateBasic(); err != nil {
		return err
	}
	if p.Height == m.height+1 {
		return m.bufferNext(Message{Proposal: &p}, p.Proposer)
	}
	if err := m.checkHeight(p.Height); err != nil {
		return fmt.Errorf("proposal: %w", err)
	}
	if want := m.set.Proposer(p.Height, p.Round); p.Proposer != want {
		return fmt.Errorf("proposal of round %d from %x, proposer is %x: %w", p.Round, string(p.Proposer), string(want), ErrInvalid)
	}
	if err := m.checkWindow(p.Round, p.Proposer); err != nil {
		return fmt.Errorf("proposal: %w", err)
	}
	if stored, ok := m.log.addProposal(p); !ok {
		if stored == p {
			return fmt.Errorf("proposal of round %d: duplicate: %w", p.Round, ErrStale)
		}
		return fmt.Errorf("proposal of round %d: conflicts with %s: %w", p.Round, shortID(stored.BlockID), ErrStale)
	}
	if p.Proposer == m.cfg.Self {
		m.rememberOwnProposal(p)
	}
	m.requestVerify(p.Round, p.BlockID)
	m.leaveWaiting()
	return nil
}

// onVote counts a vote of the current height (or buffers one of the next
// height); a second, different vote of a validator for one (round, type) is
// reported as evidence and not counted.
func (m *Machine) onVote(v Vote) error {
	if err := v.ValidateBasic(); err != nil {
		return err
	}
	if v.Height == m.height+1 {
		return m.bufferNext(Message{Vote: &v}, v.Validator)
	}
	if err := m.checkHeight(v.Height); err != nil {
		return fmt.Errorf("%v: %w", v.Type, err)
	}
	if m.set.Power(v.Validator) == 0 {
		return fmt.Errorf("%v from non-member %x: %w", v.Type, string(v.Validator), ErrInvalid)
	}
	if err := m.checkWindow(v.Round, v.Validator); err != nil {
		return fmt.Errorf("%v: %w", v.Type, err)
	}
	switch m.log.addVote(v) {
	case voteDuplicate:
		return fmt.Errorf("%v of round %d: duplicate: %w", v.Type, v.Round, ErrStale)
	case voteExcess:
		return fmt.Errorf("%v of round %d: third conflicting vote: %w", v.Type, v.Round, ErrStale)
	case voteEquivocation:
		m.reportEquivocation(v)
		return nil
	}
	if v.Validator == m.cfg.Self {
		m.rememberOwnVote(v)
	}
	m.leaveWaiting()
	return nil
}

// checkWindow refuses a round more than MaxRoundsAhead above the current
// one, remembering it for the round skip of line 55.
func (m *Machine) checkWindow(round uint32, sender ValidatorID) error {
	if round <= m.round+MaxRoundsAhead {
		return nil
	}
	m.log.noteFarRound(sender, round)
	return fmt.Errorf("round %d > current %d + %d: %w", round, m.round, MaxRoundsAhead, ErrFuture)
}

func (m *Machine) reportEquivocation(second Vote) {
	first := m.log.votes[voteKey{second.Round, second.Type}].first[second.Validator]
	m.out.Evidence = append(m.out.Evidence, Equivocation{First: first, Second: second})
	m.trace("equivocation by %x in %v", string(second.Validator), second.Type)
}

// rememberOwnProposal records a proposal signed with our key that reached us
// from outside (an echo from before a restart whose WAL lost it): we never
// sign another one for its round. It goes to Output.WAL too, so that a
// crash before the next one does not forget it: a new machine replaying
// the WAL would otherwise sign a conflicting one.
func (m *Machine) rememberOwnProposal(p Proposal) {
	if _, ok := m.sentProposal[p.Round]; !ok {
		m.sentProposal[p.Round] = p
		m.out.WAL = append(m.out.WAL, Message{Proposal: &p})
	}
}

// rememberOwnVote is rememberOwnProposal for votes.
func (m *Machine) rememberOwnVote(v Vote) {
	key := voteKey{v.Round, v.Type}
	if _, ok := m.sentVotes[key]; !ok {
		m.sentVotes[key] = v
		m.out.WAL = append(m.out.WAL, Message{Vote: &v})
	}
}
