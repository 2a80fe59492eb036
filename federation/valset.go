package federation

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// ValidatorSet is an immutable set of validators with their powers and the
// precomputed proposer rotation. It is safe for concurrent use.
type ValidatorSet struct {
	vals     []Validator         // sorted by ID
	index    map[ValidatorID]int // position in vals
	total    uint64              // sum of powers, <= MaxTotalPower
	rotation []uint16            // SWRR sequence of indexes into vals, one period
}

// NewValidatorSet returns the set of vals (copied). It refuses an empty set,
// more than MaxValidators entries, an empty or over-long ID, a duplicate ID,
// a zero power, and a total power above MaxTotalPower; errors wrap ErrInvalid.
func NewValidatorSet(vals []Validator) (*ValidatorSet, error) {
	if len(vals) == 0 {
		return nil, fmt.Errorf("validator set: empty: %w", ErrInvalid)
	}
	if len(vals) > MaxValidators {
		return nil, fmt.Errorf("validator set: %d validators > %d: %w", len(vals), MaxValidators, ErrInvalid)
	}
	s := &ValidatorSet{vals: slices.Clone(vals), index: make(map[ValidatorID]int, len(vals))}
	slices.SortFunc(s.vals, func(a, b Validator) int { return strings.Compare(string(a.ID), string(b.ID)) })
	for i, v := range s.vals {
		if err := s.add(i, v); err != nil {
			return nil, fmt.Errorf("validator set: %w", err)
		}
	}
	s.rotation = swrrSequence(rotationWeights(s.vals, s.total))
	return s, nil
}

func (s *ValidatorSet) add(i int, v Validator) error {
	if err := validateID(v.ID); err != nil {
		return fmt.Errorf("validator %d: %w", i, err)
	}
	if _, dup := s.index[v.ID]; dup {
		return fmt.Errorf("duplicate validator %x: %w", string(v.ID), ErrInvalid)
	}
	if v.Power == 0 {
		return fmt.Errorf("validator %x: zero power: %w", string(v.ID), ErrInvalid)
	}
	if v.Power > MaxTotalPower || s.total+v.Power > MaxTotalPower {
		return fmt.Errorf("total power > %d: %w", MaxTotalPower, ErrInvalid)
	}
	s.index[v.ID] = i
	s.total += v.Power
	return nil
}

// TotalPower returns the sum of all powers (at most MaxTotalPower).
func (s *ValidatorSet) TotalPower() uint64 { return s.total }

// Power returns the power of id, or 0 if id is not a member.
func (s *ValidatorSet) Power(id ValidatorID) uint64 {
	if i, ok := s.index[id]; ok {
		return s.vals[i].Power
	}
	return 0
}

// Len returns the number of validators.
func (s *ValidatorSet) Len() int { return len(s.vals) }

// Validators returns a copy of the validators, sorted by ID; the caller owns it.
func (s *ValidatorSet) Validators() []Validator { return slices.Clone(s.vals) }

// Proposer returns the proposer of (height, round): entry (height+round) mod
// period of the smooth weighted round-robin sequence (nginx SWRR) in which
// each validator appears exactly power times per period (powers scaled down
// proportionally, minimum 1, when the total exceeds 65536). Deterministic.
func (s *ValidatorSet) Proposer(height uint64, round uint32) ValidatorID {
	period := uint64(len(s.rotation))
	i := (height%period + uint64(round)%period) % period
	return s.vals[s.rotation[i]].ID
}

// rotationWeights returns the powers used by the rotation: the powers
// themselves when total <= rotationScale, else each scaled to
// power*rotationScale/total rounded down, at least 1.
func rotationWeights(vals []Validator, total uint64) []uint64 {
	w := make([]uint64, len(vals))
	for i, v := range vals {
		w[i] = v.Power
		if total > rotationScale {
			hi, lo := bits.Mul64(v.Power, rotationScale)
			w[i], _ = bits.Div64(hi, lo, total) // hi < total: Power <= total, rotationScale < 2^64
			w[i] = max(w[i], 1)
		}
	}
	return w
}

// swrrSequence returns one period of nginx's smooth weighted round robin over
// weights: each pick adds every weight to its current value, takes the
// largest current (the lowest index on ties) and subtracts the total from it.
// Index i appears exactly weights[i] times. Weights sum to <= MaxRotationPeriod.
func swrrSequence(weights []uint64) []uint16 {
	var total int64
	for _, w := range weights {
		total += int64(w)
	}
	current := make([]int64, len(weights))
	seq := make([]uint16, 0, total)
	for range total {
		best := 0
		for i, w := range weights {
			current[i] += int64(w)
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		seq = append(seq, uint16(best))
	}
	return seq
}
