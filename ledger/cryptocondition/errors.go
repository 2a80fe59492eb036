package cryptocondition

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns wraps exactly one of them,
// so callers match with errors.Is and never with strings.
var (
	// ErrTooDeep is returned (wrapped) whenever a tree passes MaxDepth levels.
	ErrTooDeep = errors.New("cryptocondition: threshold nested too deep")
	// ErrTooLarge is returned when an input passes a byte limit of limits.go.
	ErrTooLarge = errors.New("cryptocondition: input too large")
	// ErrTooManySubconditions is returned when a threshold has more than
	// MaxSubconditions members.
	ErrTooManySubconditions = errors.New("cryptocondition: too many threshold members")
	// ErrMalformed is returned for bytes or strings that are not the strict
	// (DER, unpadded base64url) encoding of a condition or fulfillment.
	ErrMalformed = errors.New("cryptocondition: malformed encoding")
	// ErrUnsupportedType is returned for a type other than ED25519-SHA-256 and
	// THRESHOLD-SHA-256, the only two BigchainDB accepts.
	ErrUnsupportedType = errors.New("cryptocondition: unsupported condition type")
	// ErrInvalidURI is returned by ParseURI for a string that is not a
	// condition URI this package accepts.
	ErrInvalidURI = errors.New("cryptocondition: invalid condition URI")
	// ErrInvalidDetails is returned for a condition details tree of the wrong
	// shape (missing or unknown keys, wrong value types, bad threshold or key).
	ErrInvalidDetails = errors.New("cryptocondition: invalid condition details")
	// ErrCostTooHigh is returned when a cost passes MaxCost.
	ErrCostTooHigh = errors.New("cryptocondition: cost exceeds MaxCost")
	// ErrThresholdNotMet is returned when a threshold has too few fulfilled
	// members: by Sign when the keys cannot meet the condition, and by the
	// decoder for a threshold fulfillment without subfulfillments.
	ErrThresholdNotMet = errors.New("cryptocondition: threshold not met")
	// ErrInvalidSignature is returned by Verify and Fulfills when an Ed25519
	// signature does not verify.
	ErrInvalidSignature = errors.New("cryptocondition: invalid ed25519 signature")
	// ErrConditionMismatch is returned by Fulfills when the fulfillment's
	// condition is not the one required.
	ErrConditionMismatch = errors.New("cryptocondition: fulfillment does not match condition")
	// ErrInvalidKey is returned by Sign for a private key that is not a
	// well-formed 64-byte Ed25519 key.
	ErrInvalidKey = errors.New("cryptocondition: invalid ed25519 private key")
)

// DetailsError reports where in a condition details tree a check failed. It
// unwraps to one of ErrInvalidDetails, ErrUnsupportedType, ErrTooDeep,
// ErrTooManySubconditions or ErrCostTooHigh.
type DetailsError struct {
	// Path locates the offending value below the details object, for example
	// "subconditions[1].public_key"; it is empty for the details object itself.
	Path string
	// Reason says what is wrong, in lowercase words.
	Reason string
	// Err is the sentinel the error unwraps to.
	Err error
}

// Error returns the sentinel's text, the path and the reason.
func (e *DetailsError) Error() string {
	where := e.Path
	if where == "" {
		where = "details"
	}
	return fmt.Sprintf("%v at %s: %s", e.Err, where, e.Reason)
}

// Unwrap returns the sentinel, for errors.Is.
func (e *DetailsError) Unwrap() error { return e.Err }

// detailsErr builds a *DetailsError with a formatted reason.
func detailsErr(path string, sentinel error, format string, args ...any) error {
	return &DetailsError{Path: path, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

// malformed wraps ErrMalformed with a formatted context.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrMalformed)
}
