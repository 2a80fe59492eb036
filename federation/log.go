package federation

import (
	"cmp"
	"maps"
	"slices"
)

// voteKey names the vote set of one (round, type).
type voteKey struct {
	round uint32
	typ   VoteType
}

// messageLog is the paper's message log of one height: at most one proposal
// per round (from its proper proposer), the vote sets, and who sent anything
// in each round.
type messageLog struct {
	set       *ValidatorSet
	proposals map[uint32]Proposal
	votes     map[voteKey]*voteSet
	senders   map[uint32]*senderSet
	farRounds map[ValidatorID]uint32 // highest round seen beyond the round window, per validator
}

func newMessageLog(set *ValidatorSet) *messageLog {
	return &messageLog{
		set:       set,
		proposals: make(map[uint32]Proposal),
		votes:     make(map[voteKey]*voteSet),
		senders:   make(map[uint32]*senderSet),
		farRounds: make(map[ValidatorID]uint32),
	}
}

// addVote records v from a member; see voteSet.add.
func (l *messageLog) addVote(v Vote) addResult {
	key := voteKey{v.Round, v.Type}
	s := l.votes[key]
	if s == nil {
		s = newVoteSet()
		l.votes[key] = s
	}
	power := l.set.Power(v.Validator)
	res := s.add(v, power)
	if res == voteAdded {
		l.sent(v.Round, v.Validator)
	}
	return res
}

// addProposal stores p unless the round has one; it returns the stored one
// and whether p was stored.
func (l *messageLog) addProposal(p Proposal) (Proposal, bool) {
	if prev, ok := l.proposals[p.Round]; ok {
		return prev, false
	}
	l.proposals[p.Round] = p
	l.sent(p.Round, p.Proposer)
	return p, true
}

func (l *messageLog) sent(round uint32, id ValidatorID) {
	s := l.senders[round]
	if s == nil {
		s = &senderSet{ids: make(map[ValidatorID]struct{})}
		l.senders[round] = s
	}
	s.add(id, l.set.Power(id))
}

// noteFarRound remembers that member id sent a message of round r beyond the
// round window (only the highest such round is kept).
func (l *messageLog) noteFarRound(id ValidatorID, r uint32) {
	l.farRounds[id] = max(l.farRounds[id], r)
}

// pruneFarRounds forgets far rounds at or below round (reached by a skip).
func (l *messageLog) pruneFarRounds(round uint32) {
	maps.DeleteFunc(l.farRounds, func(_ ValidatorID, r uint32) bool { return r <= round })
}

func (l *messageLog) prevotes(r uint32) *voteSet   { return l.votes[voteKey{r, Prevote}] }
func (l *messageLog) precommits(r uint32) *voteSet { return l.votes[voteKey{r, Precommit}] }

// proposal returns the proposal of round r, if any.
func (l *messageLog) proposal(r uint32) (Proposal, bool) {
	p, ok := l.proposals[r]
	return p, ok
}

// proposalRounds returns the rounds that have a proposal, ascending.
func (l *messageLog) proposalRounds() []uint32 { return slices.Sorted(maps.Keys(l.proposals)) }

// skipRound returns the highest round above current in which validators
// with more than 1/3 of the power sent a message (paper line 55), also
// counting, for rounds beyond the window, each validator at the highest far
// round it reached; ok is false when there is none.
func (l *messageLog) skipRound(current uint32) (round uint32, ok bool) {
	total := l.set.TotalPower()
	for r, s := range l.senders {
		if r > current && oneThird(s.power, total) && (!ok || r > round) {
			round, ok = r, true
		}
	}
	if far, farOK := l.farSkipRound(total); farOK && far > current && (!ok || far > round) {
		round, ok = far, true
	}
	return round, ok
}

// farSkipRound returns the highest R such that validators with more than
// 1/3 of the power have each sent a message of a round >= R beyond the window.
func (l *messageLog) farSkipRound(total uint64) (uint32, bool) {
	if len(l.farRounds) == 0 {
		return 0, false
	}
	ids := slices.Collect(maps.Keys(l.farRounds))
	slices.SortFunc(ids, func(a, b ValidatorID) int {
		return cmp.Or(cmp.Compare(l.farRounds[b], l.farRounds[a]), cmp.Compare(a, b))
	})
	var power uint64
	for _, id := range ids {
		power += l.set.Power(id)
		if oneThird(power, total) {
			return l.farRounds[id], true
		}
	}
	return 0, false
}
