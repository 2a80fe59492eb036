package governance

import (
	"fmt"

	"github.com/ipdb/ipdb-node/ledger"
)

// RuleKind is the class of a governance rule a transaction breaks. Each is
// the Kind of the *ledger.ValidationError CheckElection returns, and
// unwraps to ledger.ErrValidation, so errors.Is(err, ErrInvalidProposer)
// and errors.Is(err, ledger.ErrValidation) both hold.
type RuleKind struct{ name string }

// Error returns "governance: " and the exception name.
func (k *RuleKind) Error() string { return "governance: " + k.name }

// Unwrap returns ledger.ErrValidation: every governance error is a
// validation error.
func (k *RuleKind) Unwrap() error { return ledger.ErrValidation }

// ExceptionName returns BigchainDB's exception name for the kind
// ("InvalidProposer", ...), or "ValidationError" where BigchainDB has none.
func (k *RuleKind) ExceptionName() string { return k.name }

// Sentinel kinds, named after BigchainDB's exceptions where one exists
// (bigchaindb/common/exceptions.py).
var (
	// ErrMultipleInputs: an election has more than one input or signer.
	ErrMultipleInputs = &RuleKind{"MultipleInputsError"}
	// ErrInvalidProposer: the proposer is not a caretaker.
	ErrInvalidProposer = &RuleKind{"InvalidProposer"}
	// ErrUnequalValidatorSet: the election's outputs are not the set.
	ErrUnequalValidatorSet = &RuleKind{"UnequalValidatorSet"}
	// ErrInvalidPowerChange: the power change breaks the 1/3 rule.
	ErrInvalidPowerChange = &RuleKind{"InvalidPowerChange"}
	// ErrInvalidPublicKey: a key in asset.data is not a 32-byte Ed25519 key.
	ErrInvalidPublicKey = &RuleKind{"InvalidPublicKey"}
	// ErrProposal: asset.data is malformed or proposes what the rules
	// (bounds, bylaws, the state in force) do not allow.
	ErrProposal = &RuleKind{"ValidationError"}
	// ErrVote: a VOTE for something that is not an open election, or with
	// outputs that are not single Ed25519 keys.
	ErrVote = &RuleKind{"ValidationError"}
)

// refuse returns the validation error of kind at field.
func refuse(kind *RuleKind, field, format string, args ...any) *ledger.ValidationError {
	return &ledger.ValidationError{Kind: kind, Field: field, Message: fmt.Sprintf(format, args...)}
}
