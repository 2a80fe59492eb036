package cryptocondition

import "strconv"

// Type is a crypto-condition type id (draft-thomas-crypto-conditions-03 §12).
type Type uint8

// The two types BigchainDB accepts; the others of the draft (PREIMAGE-SHA-256
// = 0, PREFIX-SHA-256 = 1, RSA-SHA-256 = 3) are recognised only to name them in
// errors.
const (
	TypeThreshold Type = 2
	TypeEd25519   Type = 4
)

// ed25519Cost is the fixed cost of an ED25519-SHA-256 condition (draft §8.4).
const ed25519Cost = 131072

// thresholdMemberCost is what each member adds to a threshold's cost (draft §8.3).
const thresholdMemberCost = 1024

// thresholdSubtypes is the only Subtypes value a threshold of this package can
// have: every tree ends in Ed25519 leaves, and a threshold never lists its own
// type.
const thresholdSubtypes uint32 = 1 << TypeEd25519

// String returns the draft's name of t ("threshold-sha-256",
// "ed25519-sha-256", ...) or "unknown-type-N" for an unregistered id.
func (t Type) String() string {
	switch t {
	case 0:
		return "preimage-sha-256"
	case 1:
		return "prefix-sha-256"
	case TypeThreshold:
		return "threshold-sha-256"
	case 3:
		return "rsa-sha-256"
	case TypeEd25519:
		return "ed25519-sha-256"
	}
	return "unknown-type-" + strconv.Itoa(int(t))
}

// supported reports whether t is one of the two types this package handles.
func (t Type) supported() bool {
	return t == TypeThreshold || t == TypeEd25519
}

// typeFromName returns the supported type called name.
func typeFromName(name string) (Type, bool) {
	for _, t := range [...]Type{TypeThreshold, TypeEd25519} {
		if name == t.String() {
			return t, true
		}
	}
	return 0, false
}
