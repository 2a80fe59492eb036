package ledger

import (
	"crypto/ed25519"
	"fmt"

	"github.com/ipdb/ipdb-node/ledger/cryptocondition"
)

// BuildElection builds an election transaction (op is OpValidatorElection,
// OpChainMigrationElection, OpParameterElection or OpQuotaElection): one
// input with the single owner issuer, who signs it, asset {"data": data},
// and outs (the vote tokens). data and metadata are any values
// encoding/json can marshal, or nil. It checks the frame only; what makes
// an election valid is governance's business.
func BuildElection(op string, issuer ed25519.PublicKey, data, metadata any, outs ...OutputSpec) (*Unsigned, error) {
	switch op {
	case OpValidatorElection, OpChainMigrationElection, OpParameterElection, OpQuotaElection:
	default:
		return nil, fmt.Errorf("%w: %q is not an election operation", ErrBuild, op)
	}
	if len(issuer) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: an election needs one %d-byte issuer key", ErrBuild, ed25519.PublicKeySize)
	}
	gdata, err := NormalizeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%w: asset data: %w", ErrBuild, err)
	}
	u := &Unsigned{conds: []*cryptocondition.Details{cryptocondition.Ed25519(issuer)}, refs: []*OutputRef{nil}}
	inputs := []any{inputValue([]string{encodeKey(issuer)}, nil)}
	return u.finish(op, map[string]any{"data": gdata}, inputs, metadata, outs)
}

// BuildVote builds a VOTE for the election electionID spending spends (vote
// tokens: outputs of the election or of earlier VOTEs and TRANSFERs of its
// tokens) to outs. It is BuildTransfer with the operation VOTE.
func BuildVote(spends []Spend, electionID string, metadata any, outs ...OutputSpec) (*Unsigned, error) {
	return buildSpending(OpVote, spends, electionID, metadata, outs)
}
