package sim

import "github.com/ipdb/ipdb-node/federation"

// heardKey identifies one signed message a node received (conflicting
// messages of an equivocator are different keys).
type heardKey struct {
	round uint32
	kind  uint8 // 0 proposal, else the VoteType
	from  federation.ValidatorID
	block federation.BlockID
}

// hear records a message n received at its current height, for relaying.
func (n *node) hear(m federation.Message) {
	if msgHeight(m) != n.height {
		return
	}
	k := heardKey{}
	if p := m.Proposal; p != nil {
		k = heardKey{p.Round, 0, p.Proposer, p.BlockID}
	} else {
		v := m.Vote
		k = heardKey{v.Round, uint8(v.Type), v.Validator, v.BlockID}
	}
	if n.heardSet == nil {
		n.heardSet = make(map[heardKey]bool)
	}
	if !n.heardSet[k] {
		n.heardSet[k] = true
		n.heard = append(n.heard, m)
	}
}

// forget empties n's relay store (a new height, or a restart).
func (n *node) forget() { n.heard, n.heardSet = nil, nil }

// relay models the gossip layer's vote catch-up (as CometBFT's
// gossipVotesForHeight): when n's retry timer of round r fires, n re-sends
// to every peer the messages of others it received for rounds r-1 and r and
// the prevotes of the POL rounds of the round-r proposals it received.
func (s *Sim) relay(n *node, r uint32) {
	rounds := map[uint32]bool{r: true}
	if r > 0 {
		rounds[r-1] = true
	}
	for _, m := range n.heard {
		if p := m.Proposal; p != nil && p.Round == r && p.POLRound >= 0 {
			rounds[uint32(p.POLRound)] = true
		}
	}
	for _, m := range n.heard {
		if !rounds[msgRound(m)] {
			continue
		}
		for _, p := range s.nodes {
			if p != n {
				s.send(n, p, m)
			}
		}
	}
}

// msgRound returns the round of a proposal or vote.
func msgRound(m federation.Message) uint32 {
	if m.Proposal != nil {
		return m.Proposal.Round
	}
	return m.Vote.Round
}
