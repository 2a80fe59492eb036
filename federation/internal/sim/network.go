package sim

import (
	"math"
	"time"

	"github.com/ipdb/ipdb-node/federation"
)

// deliver hands a network message to n's machine if n is up.
func (s *Sim) deliver(n *node, e *event) {
	if !n.up {
		s.stats.Dropped++
		return
	}
	s.stats.Messages++
	if s.cfg.Relay && !n.byzantine {
		n.hear(e.msg)
	}
	var in federation.Input
	if e.msg.Proposal != nil {
		in = federation.ProposalReceived{Proposal: *e.msg.Proposal}
	} else {
		in = federation.VoteReceived{Vote: *e.msg.Vote}
	}
	s.step(n, in, s.nodes[e.from])
	s.haunt(n, e.msg)
}

// broadcast sends m from n to every other node; a byzantine node equivocates.
func (s *Sim) broadcast(n *node, m federation.Message) {
	if n.byzantine {
		s.equivocate(n, m)
		return
	}
	for _, p := range s.nodes {
		if p != n {
			s.send(n, p, m)
		}
	}
}

// equivocate sends each peer m, a conflicting message, or both (in random
// order), so that some peers see the double signing and others do not. A
// conflicting proposal claims a random POLRound. With Config.VotesAhead a
// vote is sometimes also sent for a later round (an attempt to make peers
// skip rounds, line 55), which can make it three different votes for one
// (height, round, type).
func (s *Sim) equivocate(n *node, m federation.Message) {
	alt := conflicting(n, m)
	if p := alt.Proposal; p != nil && p.Round > 0 {
		p.POLRound = int32(s.rng.IntN(int(p.Round)+1)) - 1
	}
	if v := m.Vote; v != nil && s.cfg.VotesAhead && s.rng.IntN(4) == 0 {
		ahead := *v
		ahead.Round += uint32(1 + s.rng.IntN(3))
		m2 := federation.Message{Vote: &ahead}
		for _, p := range s.nodes {
			if p != n {
				s.send(n, p, m2)
			}
		}
	}
	for _, p := range s.nodes {
		if p == n {
			continue
		}
		if s.cfg.Withhold {
			s.sendWithheld(n, p, m, alt)
			continue
		}
		switch s.rng.IntN(4) {
		case 0:
			s.send(n, p, m)
		case 1:
			s.send(n, p, alt)
		case 2:
			s.send(n, p, alt)
			s.send(n, p, m)
		default:
			s.send(n, p, m)
			s.send(n, p, alt)
		}
	}
}

// sendWithheld sends p either m or only alt, the same choice for every
// re-broadcast of one (height, round, type): peers of the other half never
// learn the byzantine node's real message.
func (s *Sim) sendWithheld(n, p *node, m, alt federation.Message) {
	h, r, kind := msgHeight(m), uint32(0), 0
	if m.Proposal != nil {
		r = m.Proposal.Round
	} else {
		r, kind = m.Vote.Round, int(m.Vote.Type)
	}
	if (int(h)+int(r)+kind+p.idx)%2 == 0 {
		s.send(n, p, m)
		return
	}
	s.send(n, p, alt)
}

// conflicting returns a message of the same (height, round, type) as m for
// another block: the proposer's second block, or nil for a non-nil vote.
func conflicting(n *node, m federation.Message) federation.Message {
	if p := m.Proposal; p != nil {
		q := *p
		q.BlockID = blockID(p.Height, p.Round, n.idx) + altSuffix
		if q.BlockID == p.BlockID {
			q.BlockID += altSuffix
		}
		return federation.Message{Proposal: &q}
	}
	v := *m.Vote
	if v.BlockID == "" {
		v.BlockID = blockID(v.Height, v.Round, n.idx) + altSuffix
	} else {
		v.BlockID = ""
	}
	return federation.Message{Vote: &v}
}

// send puts m on the wire from one node to another, unless a partition or a
// pre-GST drop loses it.
func (s *Sim) send(from, to *node, m federation.Message) {
	if s.side != nil && s.side[from.idx] != s.side[to.idx] {
		s.stats.Dropped++
		return
	}
	if s.now < s.cfg.GST && s.rng.Float64() < s.cfg.DropRate {
		s.stats.Dropped++
		return
	}
	s.schedule(s.latency(), &event{kind: evDeliver, node: to.idx, from: from.idx, msg: m})
}

// latency draws a one-way delay: base plus lognormal jitter, capped tighter
// after GST (the bounded-delay assumption).
func (s *Sim) latency() time.Duration {
	limit := 20.0
	if s.now >= s.cfg.GST {
		limit = 4
	}
	j := math.Min(math.Exp(s.rng.NormFloat64()), limit)
	return s.cfg.BaseLatency + time.Duration(j*float64(s.cfg.Jitter))
}

// scheduleFaults queues the partitions (each in its own slot before GST, so
// all heal by GST) and the crashes of honest nodes before GST.
func (s *Sim) scheduleFaults() {
	if s.cfg.GST <= 0 {
		return
	}
	if p := s.cfg.Partitions; p > 0 {
		slot := s.cfg.GST / time.Duration(p)
		for i := range p {
			start := time.Duration(i)*slot + time.Duration(s.rng.Int64N(int64(slot/2)+1))
			length := slot/4 + time.Duration(s.rng.Int64N(int64(slot/4)+1))
			s.schedule(start, &event{kind: evPartition, side: s.randomSplit()})
			s.schedule(start+length, &event{kind: evHeal})
		}
	}
	var honest []int
	for _, n := range s.nodes {
		if !n.byzantine && !n.observer {
			honest = append(honest, n.idx)
		}
	}
	for range s.cfg.Crashes {
		kind := evCrash
		if s.rng.IntN(2) == 0 {
			kind = evArmCrash
		}
		at := time.Duration(s.rng.Int64N(int64(s.cfg.GST)))
		s.schedule(at, &event{kind: kind, node: honest[s.rng.IntN(len(honest))]})
	}
}

// randomSplit assigns every node to one of two non-empty sides.
func (s *Sim) randomSplit() []bool {
	side := make([]bool, len(s.nodes))
	count := 0
	for i := range side {
		side[i] = s.rng.IntN(2) == 0
		if side[i] {
			count++
		}
	}
	if count == 0 || count == len(side) {
		i := s.rng.IntN(len(side))
		side[i] = !side[i]
	}
	return side
}
