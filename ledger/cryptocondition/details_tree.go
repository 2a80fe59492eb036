package cryptocondition

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/mr-tron/base58"
)

// Validate checks a details tree built in memory against the rules
// ParseDetails enforces, returning a *DetailsError naming the path. It is safe
// on any value, including trees with cycles (they pass MaxDepth).
func (d *Details) Validate() error {
	if err := d.validate("", 1); err != nil {
		return err
	}
	if cost := d.cost(); cost > MaxCost {
		return detailsErr("", ErrCostTooHigh, "condition cost %d exceeds %d", cost, uint64(MaxCost))
	}
	return nil
}

// validate checks d, found at path on tree level level.
func (d *Details) validate(path string, level int) error {
	switch {
	case level > MaxDepth:
		return detailsErr(path, ErrTooDeep, "more than %d levels", MaxDepth)
	case d == nil:
		return detailsErr(path, ErrInvalidDetails, "nil details")
	case d.Type == TypeEd25519:
		if len(d.PublicKey) != 32 || d.Threshold != 0 || len(d.Subconditions) != 0 {
			return detailsErr(path, ErrInvalidDetails, "ed25519 details need a 32-byte key and nothing else")
		}
		return nil
	case d.Type != TypeThreshold:
		return detailsErr(join(path, keyType), ErrUnsupportedType, "%v", d.Type)
	case len(d.PublicKey) != 0:
		return detailsErr(join(path, keyPublicKey), ErrInvalidDetails, "set on a threshold")
	}
	if err := checkMembers(d.Threshold, len(d.Subconditions), path); err != nil {
		return err
	}
	for i, sub := range d.Subconditions {
		if err := sub.validate(fmt.Sprintf("%s[%d]", join(path, keySubconditions), i), level+1); err != nil {
			return err
		}
	}
	return nil
}

// JSON returns the generic JSON value of d, the inverse of ParseDetails: keys
// "type" and "public_key" (base58), or "type", "threshold" (a json.Number) and
// "subconditions" ([]any). d must be a tree (no cycles).
func (d *Details) JSON() map[string]any {
	if d.Type == TypeEd25519 {
		return map[string]any{keyType: d.Type.String(), keyPublicKey: base58.Encode(d.PublicKey)}
	}
	subs := make([]any, len(d.Subconditions))
	for i, sub := range d.Subconditions {
		subs[i] = sub.JSON()
	}
	return map[string]any{
		keyType:          d.Type.String(),
		keyThreshold:     json.Number(strconv.Itoa(d.Threshold)),
		keySubconditions: subs,
	}
}

// Condition returns the condition of d, as BigchainDB computes it for an
// output (bigchaindb/common/transaction.py _fulfillment_from_details, then
// condition). It is meaningful only for a tree Validate accepts.
func (d *Details) Condition() Condition {
	if d.Type != TypeThreshold {
		return ed25519Condition(d.PublicKey)
	}
	members := make([]Condition, len(d.Subconditions))
	for i, sub := range d.Subconditions {
		members[i] = sub.Condition()
	}
	return thresholdCondition(d.Threshold, members)
}

// URI returns the condition URI of d (outputs[].condition.uri).
func (d *Details) URI() string {
	return d.Condition().URI()
}

// cost returns the cost of d's condition without hashing anything.
func (d *Details) cost() uint64 {
	if d.Type != TypeThreshold {
		return ed25519Cost
	}
	costs := make([]uint64, len(d.Subconditions))
	for i, sub := range d.Subconditions {
		costs[i] = sub.cost()
	}
	return thresholdCost(d.Threshold, costs)
}

// PublicKeys returns every Ed25519 leaf key of d, depth first, left to right,
// duplicates included. The slices alias d's keys. d must be a tree.
func (d *Details) PublicKeys() []ed25519.PublicKey {
	if d.Type != TypeThreshold {
		return []ed25519.PublicKey{d.PublicKey}
	}
	var keys []ed25519.PublicKey
	for _, sub := range d.Subconditions {
		keys = append(keys, sub.PublicKeys()...)
	}
	return keys
}

// Depth returns the levels of d: 1 for an Ed25519 leaf, 1 + the deepest member
// for a threshold. It stops counting at MaxDepth+1, so it is safe on any
// value; a tree is within limits when Depth() <= MaxDepth.
func (d *Details) Depth() int {
	return d.depth(1)
}

// depth returns the deepest level reached below d, d being at level.
func (d *Details) depth(level int) int {
	deepest := level
	if d == nil || d.Type != TypeThreshold || level > MaxDepth {
		return deepest
	}
	for _, sub := range d.Subconditions {
		deepest = max(deepest, sub.depth(level+1))
	}
	return deepest
}
