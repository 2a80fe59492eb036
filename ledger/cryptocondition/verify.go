package cryptocondition

import (
	"crypto/ed25519"
	"fmt"
)

// Verify checks that f is well formed (what DecodeFulfillment guarantees) and
// that every Ed25519 signature in it is valid over msg, under the rules of
// libsodium, which BigchainDB applies through PyNaCl (see verifyEd25519).
//
// A threshold fulfillment is minimal by construction: its threshold is the
// number of its subfulfillments, and it must have at least one. Whether that
// threshold, and the members, are the ones an output requires is decided by
// comparing Condition() with the output's condition; Fulfills does both.
// Errors wrap ErrInvalidSignature, naming the failing member's path, or the
// sentinel of the structural fault.
func (f *Fulfillment) Verify(msg []byte) error {
	if err := f.validate(1); err != nil {
		return err
	}
	return f.verifySignatures(msg, "fulfillment")
}

// Validate checks that f is well formed, as Verify does first, and checks no
// signature. It is for fulfillments whose signatures were checked by others
// that the caller trusts (the caretakers that committed a block).
func (f *Fulfillment) Validate() error { return f.validate(1) }

// Fulfills checks that f's condition is c and then that f verifies over msg.
// Errors wrap ErrConditionMismatch or those of Verify.
func (f *Fulfillment) Fulfills(c Condition, msg []byte) error {
	if err := f.validate(1); err != nil {
		return err
	}
	if got := f.Condition(); got != c {
		return fmt.Errorf("fulfillment is for %s, want %s: %w", got.URI(), c.URI(), ErrConditionMismatch)
	}
	return f.verifySignatures(msg, "fulfillment")
}

// verifySignatures checks every Ed25519 signature below f; path names f in
// errors.
func (f *Fulfillment) verifySignatures(msg []byte, path string) error {
	if f.Type == TypeEd25519 {
		if !verifyEd25519(f.PublicKey, msg, f.Signature) {
			return fmt.Errorf("%s: %w", path, ErrInvalidSignature)
		}
		return nil
	}
	for i, sf := range f.Subfulfillments {
		if err := sf.verifySignatures(msg, fmt.Sprintf("%s.subfulfillments[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// validate checks the structure of a fulfillment built in memory, f being at
// the given tree level: what DecodeFulfillment checks, bar the encoding.
func (f *Fulfillment) validate(level int) error {
	switch {
	case f == nil:
		return malformed("nil fulfillment")
	case level > MaxDepth:
		return fmt.Errorf("fulfillment deeper than %d levels: %w", MaxDepth, ErrTooDeep)
	case f.Type == TypeEd25519:
		return f.validateEd25519()
	case f.Type == TypeThreshold:
		return f.validateThreshold(level)
	}
	return fmt.Errorf("fulfillment type %v: %w", f.Type, ErrUnsupportedType)
}

// validateEd25519 checks the field sizes of an Ed25519 fulfillment.
func (f *Fulfillment) validateEd25519() error {
	if len(f.PublicKey) != ed25519.PublicKeySize || len(f.Signature) != ed25519.SignatureSize {
		return malformed("ed25519 fulfillment: key of %d and signature of %d bytes, want 32 and 64",
			len(f.PublicKey), len(f.Signature))
	}
	if len(f.Subfulfillments)+len(f.Subconditions) != 0 {
		return malformed("ed25519 fulfillment with threshold members")
	}
	return nil
}

// validateThreshold checks a threshold fulfillment and, recursively, its
// members.
func (f *Fulfillment) validateThreshold(level int) error {
	if len(f.PublicKey)+len(f.Signature) != 0 {
		return malformed("threshold fulfillment with an ed25519 key or signature")
	}
	if n := len(f.Subfulfillments) + len(f.Subconditions); n > MaxSubconditions {
		return fmt.Errorf("threshold fulfillment with %d members, limit %d: %w", n, MaxSubconditions, ErrTooManySubconditions)
	}
	if len(f.Subfulfillments) == 0 {
		return fmt.Errorf("threshold fulfillment without subfulfillments: %w", ErrThresholdNotMet)
	}
	for i, c := range f.Subconditions {
		if err := c.validate(); err != nil {
			return fmt.Errorf("subconditions[%d]: %w", i, err)
		}
	}
	for i, sf := range f.Subfulfillments {
		if err := sf.validate(level + 1); err != nil {
			return fmt.Errorf("subfulfillments[%d]: %w", i, err)
		}
	}
	if cost := f.cost(); level == 1 && cost > MaxCost {
		return fmt.Errorf("fulfillment condition cost %d exceeds %d: %w", cost, uint64(MaxCost), ErrCostTooHigh)
	}
	return nil
}

// validate checks what DecodeCondition checks of a condition built in memory.
func (c Condition) validate() error {
	if !c.Type.supported() {
		return fmt.Errorf("condition type %v: %w", c.Type, ErrUnsupportedType)
	}
	if c.Cost > MaxCost {
		return fmt.Errorf("condition cost %d exceeds %d: %w", c.Cost, uint64(MaxCost), ErrCostTooHigh)
	}
	return checkSubtypes(c.Type, c.Subtypes)
}
