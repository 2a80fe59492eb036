package governance

import (
	"slices"

	"github.com/ipdb/ipdb-node/genesis"
)

// Set is a caretaker set in its order: the order of the election outputs
// and of the set's hash. A new caretaker is appended at the end.
type Set struct {
	Caretakers []genesis.Caretaker `json:"caretakers"`
}

// Total returns the sum of the members' powers. It cannot overflow: a set
// holds at most genesis.MaxCaretakers members of at most genesis.MaxPower.
func (s Set) Total() uint64 {
	var t uint64
	for _, c := range s.Caretakers {
		t += c.Power
	}
	return t
}

// Power returns the power of the caretaker whose base58 key is pub, or 0
// when pub is not a member.
func (s Set) Power(pub string) uint64 {
	if i := s.Index(pub); i >= 0 {
		return s.Caretakers[i].Power
	}
	return 0
}

// Index returns the position of the caretaker whose base58 key is pub, or
// -1 when pub is not a member.
func (s Set) Index(pub string) int {
	return slices.IndexFunc(s.Caretakers, func(c genesis.Caretaker) bool { return c.PublicKey == pub })
}

// Hash returns genesis.CaretakersHash of the members: what a block's
// caretakers hash holds.
func (s Set) Hash() []byte { return genesis.CaretakersHash(s.Caretakers) }

// clone returns a copy of s that shares no memory with it.
func (s Set) clone() Set { return Set{Caretakers: slices.Clone(s.Caretakers)} }

// equal reports whether s and o hold the same members in the same order.
func (s Set) equal(o Set) bool { return slices.Equal(s.Caretakers, o.Caretakers) }

// hasPeer reports whether a member other than the one keyed skip uses the
// peer id.
func (s Set) hasPeer(peerID, skip string) bool {
	return slices.ContainsFunc(s.Caretakers, func(c genesis.Caretaker) bool {
		return c.PeerID == peerID && c.PublicKey != skip
	})
}

// SetEpoch is a caretaker set and the first height it is in force from.
type SetEpoch struct {
	From uint64 `json:"from"`
	Set  Set    `json:"set"`
}
