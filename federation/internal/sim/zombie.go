package sim

import (
	"strings"

	"github.com/ipdb/ipdb-node/federation"
)

// Removed caretakers keep running: their machines follow the chain as
// observers (they are not in the set any more, so they never sign), and the
// simulator makes them send, on their own key, what an outgoing caretaker
// might: honest-looking votes for the value being decided, conflicting nil
// votes, votes for later rounds (to drag peers into a round skip, line 55),
// votes and proposals for the next height, and proposals of their own.
// None of it may count: a machine must refuse a non-member's vote and a
// non-proposer's proposal at that height, and must still decide.

const (
	// hauntChance: a removed caretaker answers 1 in hauntChance proposals it receives.
	hauntChance = 2
	// hauntRoundsAhead is how many rounds above the proposal's a removed
	// caretaker also votes in.
	hauntRoundsAhead = 3
	// zombieSuffix marks blocks a removed caretaker makes up.
	zombieSuffix = "-zombie"
)

// haunt makes n, if it was removed from the set at or before the height of
// the proposal m it just received, answer with messages that must not count.
// Only heights from its removal on: before, n is a member, and signing there
// would make it a second byzantine member.
func (s *Sim) haunt(n *node, m federation.Message) {
	p := m.Proposal
	if p == nil || !n.up || !s.cfg.SetChanges || strings.HasSuffix(string(p.BlockID), zombieSuffix) {
		return // answering another removed caretaker's proposals would snowball
	}
	gone := n.removedFrom()
	if gone == 0 || p.Height < gone || s.rng.IntN(hauntChance) != 0 {
		return
	}
	s.stats.Haunts++
	for _, msg := range s.hauntMessages(n, *p) {
		for _, q := range s.nodes {
			if q != n {
				s.send(n, q, msg)
			}
		}
	}
}

// hauntMessages returns what removed caretaker n sends on receiving p.
func (s *Sim) hauntMessages(n *node, p federation.Proposal) []federation.Message {
	h, r := p.Height, p.Round
	own := blockID(h, r, n.idx) + zombieSuffix
	ahead := r + 1 + uint32(s.rng.IntN(hauntRoundsAhead))
	vote := func(t federation.VoteType, h uint64, r uint32, id federation.BlockID) federation.Message {
		return federation.Message{Vote: &federation.Vote{Type: t, Height: h, Round: r, BlockID: id, Validator: n.id}}
	}
	msgs := []federation.Message{
		vote(federation.Prevote, h, r, p.BlockID),
		vote(federation.Precommit, h, r, p.BlockID),
		vote(federation.Prevote, h, r, ""),
		vote(federation.Precommit, h, ahead, own),
		vote(federation.Prevote, h+1, 0, blockID(h+1, 0, n.idx)+zombieSuffix),
		{Proposal: &federation.Proposal{Height: h, Round: r, BlockID: own, POLRound: -1, Proposer: n.id}},
		{Proposal: &federation.Proposal{Height: h + 1, Round: 0, BlockID: own, POLRound: -1, Proposer: n.id}},
	}
	s.rng.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
	return msgs
}
