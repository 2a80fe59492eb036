package ledger

import (
	"errors"
	"fmt"
)

// Sentinel errors, one per BigchainDB exception class (bigchaindb/common/exceptions.py).
// Every *ValidationError unwraps to exactly one of them, so callers match with
// errors.Is(err, ledger.ErrDoubleSpend) and never with strings.
var (
	ErrValidation        = errors.New("ledger: ValidationError")
	ErrInvalidHash       = errors.New("ledger: InvalidHash")
	ErrSchema            = errors.New("ledger: SchemaValidationError")
	ErrInvalidSignature  = errors.New("ledger: InvalidSignature")
	ErrAmount            = errors.New("ledger: AmountError")
	ErrDuplicateTx       = errors.New("ledger: DuplicateTransaction")
	ErrInputDoesNotExist = errors.New("ledger: InputDoesNotExist")
	ErrDoubleSpend       = errors.New("ledger: DoubleSpend")
	ErrAssetIDMismatch   = errors.New("ledger: AssetIdMismatch")
	ErrThresholdTooDeep  = errors.New("ledger: ThresholdTooDeep")
	ErrOperation         = errors.New("ledger: unsupported operation")
)

// errorNames maps each sentinel to the BigchainDB exception name shown to clients.
var errorNames = map[error]string{
	ErrValidation:        "ValidationError",
	ErrInvalidHash:       "InvalidHash",
	ErrSchema:            "SchemaValidationError",
	ErrInvalidSignature:  "InvalidSignature",
	ErrAmount:            "AmountError",
	ErrDuplicateTx:       "DuplicateTransaction",
	ErrInputDoesNotExist: "InputDoesNotExist",
	ErrDoubleSpend:       "DoubleSpend",
	ErrAssetIDMismatch:   "AssetIdMismatch",
	ErrThresholdTooDeep:  "ThresholdTooDeep",
	ErrOperation:         "ValidationError",
}

// ValidationError says why a transaction is invalid, in BigchainDB's terms.
// Kind is one of the sentinel errors above; Field, when set, names the part of
// the transaction at fault (as "inputs[2].fulfillment"); Message is the text
// BigchainDB would give.
type ValidationError struct {
	Kind    error
	Field   string
	Message string
}

// Name returns the BigchainDB exception name, such as "DoubleSpend".
func (e *ValidationError) Name() string {
	if n, ok := errorNames[e.Kind]; ok {
		return n
	}
	// Kinds of other packages (governance's election rules) name
	// themselves.
	if k, ok := e.Kind.(interface{ ExceptionName() string }); ok {
		return k.ExceptionName()
	}
	return "ValidationError"
}

// Error returns the message the BigchainDB HTTP API gives for this error:
// "Invalid transaction schema: <msg>" for schema errors and
// "Invalid transaction (<Name>): <msg>" for all others.
func (e *ValidationError) Error() string {
	if e.Kind == ErrSchema {
		return "Invalid transaction schema: " + e.Message
	}
	return "Invalid transaction (" + e.Name() + "): " + e.Message
}

// Unwrap returns the sentinel for the error's kind.
func (e *ValidationError) Unwrap() error { return e.Kind }

// invalid builds a *ValidationError of the given kind.
func invalid(kind error, field, format string, args ...any) *ValidationError {
	return &ValidationError{Kind: kind, Field: field, Message: fmt.Sprintf(format, args...)}
}

// schemaErr builds a SchemaValidationError naming the field at fault.
func schemaErr(field, format string, args ...any) *ValidationError {
	return invalid(ErrSchema, field, format, args...)
}
