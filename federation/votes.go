package federation

import (
	"cmp"
	"slices"
)

// quorum reports whether power is more than 2/3 of total (the paper's 2f+1).
// Both are <= MaxTotalPower, so 3*power cannot overflow.
func quorum(power, total uint64) bool { return 3*power > 2*total }

// oneThird reports whether power is more than 1/3 of total (the paper's f+1).
func oneThird(power, total uint64) bool { return 3*power > total }

// addResult says what voteSet.add did with a vote.
type addResult uint8

const (
	voteAdded        addResult = iota // first vote of its validator: counted
	voteDuplicate                     // identical to the counted one: ignored
	voteEquivocation                  // first conflicting vote: evidence, counted for its block only
	voteExcess                        // a further conflicting vote: dropped
)

// voteSet holds the votes of one (round, type) of a height: at most two per
// validator and the power per block id.
//
// As in the paper, whose rules count the messages for id(v) in the log, a
// validator's power counts once for every block id it voted for: an
// equivocator's second vote counts for its block (so a polka or commit that
// honest nodes saw through it stays visible to the others) but not again in
// the "any" total (lines 34, 47 count senders). Safety is unaffected: two
// quorums for different ids still share more than 1/3 of the power, which
// must hold an honest validator. Only two votes are kept so memory stays
// bounded; a third is dropped.
type voteSet struct {
	first  map[ValidatorID]Vote // the first vote of each validator
	second map[ValidatorID]Vote // the first conflicting vote: evidence
	power  map[BlockID]uint64   // power per block id ("" = nil), first and second votes
	any    uint64               // power of the validators that voted
}

func newVoteSet() *voteSet {
	return &voteSet{
		first:  make(map[ValidatorID]Vote),
		second: make(map[ValidatorID]Vote),
		power:  make(map[BlockID]uint64),
	}
}

// add records v, whose validator has power (> 0, a member).
func (s *voteSet) add(v Vote, power uint64) addResult {
	prev, ok := s.first[v.Validator]
	switch {
	case !ok:
		s.first[v.Validator] = v
		s.power[v.BlockID] += power
		s.any += power
		return voteAdded
	case prev == v:
		return voteDuplicate
	}
	if _, ok := s.second[v.Validator]; ok {
		return voteExcess
	}
	s.second[v.Validator] = v
	s.power[v.BlockID] += power
	return voteEquivocation
}

// quorumFor reports whether more than 2/3 of total voted for id.
func (s *voteSet) quorumFor(id BlockID, total uint64) bool {
	return s != nil && quorum(s.power[id], total)
}

// quorumAny reports whether more than 2/3 of total voted at all.
func (s *voteSet) quorumAny(total uint64) bool { return s != nil && quorum(s.any, total) }

// votesFor returns the votes for id (first or second of each validator,
// never both), sorted by validator.
func (s *voteSet) votesFor(id BlockID) []Vote {
	var out []Vote
	for _, votes := range []map[ValidatorID]Vote{s.first, s.second} {
		for _, v := range votes {
			if v.BlockID == id {
				out = append(out, v)
			}
		}
	}
	slices.SortFunc(out, func(a, b Vote) int { return cmp.Compare(a.Validator, b.Validator) })
	return out
}

// senderSet is the set of validators that sent any message in one round
// (paper line 55 counts f+1 of them).
type senderSet struct {
	ids   map[ValidatorID]struct{}
	power uint64
}

// add records id with power; it reports whether id is new.
func (s *senderSet) add(id ValidatorID, power uint64) bool {
	if _, ok := s.ids[id]; ok {
		return false
	}
	s.ids[id] = struct{}{}
	s.power += power
	return true
}
