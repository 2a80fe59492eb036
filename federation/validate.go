package federation

import (
	"fmt"
	"time"
)

// ValidateBasic checks the proposal's shape without state: non-empty BlockID
// and Proposer within their size limits, Round <= MaxRound and
// -1 <= POLRound < Round. Errors wrap ErrInvalid.
func (p Proposal) ValidateBasic() error {
	switch {
	case p.BlockID == "":
		return fmt.Errorf("proposal: empty block id: %w", ErrInvalid)
	case len(p.BlockID) > MaxBlockIDBytes:
		return fmt.Errorf("proposal: block id of %d bytes > %d: %w", len(p.BlockID), MaxBlockIDBytes, ErrInvalid)
	case p.Round > MaxRound:
		return fmt.Errorf("proposal: round %d > %d: %w", p.Round, MaxRound, ErrInvalid)
	case p.POLRound < -1 || int64(p.POLRound) >= int64(p.Round):
		return fmt.Errorf("proposal: pol round %d not in [-1, %d): %w", p.POLRound, p.Round, ErrInvalid)
	}
	if err := validateID(p.Proposer); err != nil {
		return fmt.Errorf("proposal: proposer: %w", err)
	}
	return nil
}

// ValidateBasic checks the vote's shape without state: a known Type, a
// BlockID within MaxBlockIDBytes ("" is nil), Round <= MaxRound and a
// non-empty Validator within MaxValidatorIDBytes. Errors wrap ErrInvalid.
func (v Vote) ValidateBasic() error {
	switch {
	case v.Type != Prevote && v.Type != Precommit:
		return fmt.Errorf("vote: unknown type %d: %w", v.Type, ErrInvalid)
	case len(v.BlockID) > MaxBlockIDBytes:
		return fmt.Errorf("vote: block id of %d bytes > %d: %w", len(v.BlockID), MaxBlockIDBytes, ErrInvalid)
	case v.Round > MaxRound:
		return fmt.Errorf("vote: round %d > %d: %w", v.Round, MaxRound, ErrInvalid)
	}
	if err := validateID(v.Validator); err != nil {
		return fmt.Errorf("vote: validator: %w", err)
	}
	return nil
}

// ValidateBasic checks that exactly one of Proposal and Vote is set and that
// it passes its own ValidateBasic. Errors wrap ErrInvalid.
func (msg Message) ValidateBasic() error {
	switch {
	case msg.Proposal != nil && msg.Vote == nil:
		return msg.Proposal.ValidateBasic()
	case msg.Vote != nil && msg.Proposal == nil:
		return msg.Vote.ValidateBasic()
	}
	return fmt.Errorf("message: want exactly one of proposal and vote: %w", ErrInvalid)
}

func validateID(id ValidatorID) error {
	switch {
	case id == "":
		return fmt.Errorf("empty id: %w", ErrInvalid)
	case len(id) > MaxValidatorIDBytes:
		return fmt.Errorf("id of %d bytes > %d: %w", len(id), MaxValidatorIDBytes, ErrInvalid)
	}
	return nil
}

// Validate checks the configuration: every timeout and RetryInterval in
// (0, MaxTimeout], TimeoutDelta in [0, MaxTimeout], and Self (if set) within
// MaxValidatorIDBytes. Errors wrap ErrInvalid and name the field.
func (c Config) Validate() error {
	if len(c.Self) > MaxValidatorIDBytes {
		return fmt.Errorf("config: self: id of %d bytes > %d: %w", len(c.Self), MaxValidatorIDBytes, ErrInvalid)
	}
	positive := []struct {
		name string
		d    time.Duration
	}{
		{"timeout_propose", c.TimeoutPropose},
		{"timeout_prevote", c.TimeoutPrevote},
		{"timeout_precommit", c.TimeoutPrecommit},
		{"retry_interval", c.RetryInterval},
	}
	for _, f := range positive {
		if f.d <= 0 || f.d > MaxTimeout {
			return fmt.Errorf("config: %s: must be in (0, %v], got %v: %w", f.name, MaxTimeout, f.d, ErrInvalid)
		}
	}
	if c.TimeoutDelta < 0 || c.TimeoutDelta > MaxTimeout {
		return fmt.Errorf("config: timeout_delta: must be in [0, %v], got %v: %w", MaxTimeout, c.TimeoutDelta, ErrInvalid)
	}
	return nil
}
