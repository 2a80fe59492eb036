package ratelimit

import (
	"errors"
	"fmt"

	"github.com/ipdb/ipdb-node/ledger"
)

// Kind is the class of a quota rule a transaction breaks: the Kind of the
// *ledger.ValidationError Charge returns. It unwraps to
// ledger.ErrValidation, so errors.Is(err, ErrQuotaExceeded) and
// errors.Is(err, ledger.ErrValidation) both hold; a caller that answers
// QuotaExceeded with HTTP 429 must test for it first.
type Kind struct{ name, text string }

// Error returns "ratelimit: " and the rule.
func (k *Kind) Error() string { return "ratelimit: " + k.text }

// Unwrap returns ledger.ErrValidation: every quota error is a validation
// error.
func (k *Kind) Unwrap() error { return ledger.ErrValidation }

// ExceptionName returns the exception name clients see
// ("QuotaExceeded", or "ValidationError" for a malformed fee payment).
func (k *Kind) ExceptionName() string { return k.name }

// Sentinel kinds of the *ledger.ValidationError values Charge returns.
var (
	// ErrQuotaExceeded: a key of the transaction has used its allowance
	// of transactions or bytes in the epoch.
	ErrQuotaExceeded = &Kind{"QuotaExceeded", "quota exceeded"}
	// ErrFeePayment: a fee payment breaks a payment rule (one signer,
	// fee_per_tx above 0, at least one transaction bought).
	ErrFeePayment = &Kind{"ValidationError", "invalid fee payment"}
)

// ErrInvalidKey is returned (wrapped) by Account for a string that is not
// a base58 Ed25519 public key.
var ErrInvalidKey = errors.New("ratelimit: invalid public key")

// ErrPurchase is returned (wrapped, with the reason) by NewPurchase and
// Fee.Validate when a purchase cannot be built as asked.
var ErrPurchase = errors.New("ratelimit: cannot build purchase")

// refuse returns the validation error of kind.
func refuse(kind *Kind, field, format string, args ...any) *ledger.ValidationError {
	return &ledger.ValidationError{Kind: kind, Field: field, Message: fmt.Sprintf(format, args...)}
}
