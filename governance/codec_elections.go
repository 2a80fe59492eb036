package governance

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
)

// shapeErr turns a checkShape error into one that starts with the field's
// name (as "txs: ..."), for Decode.
func shapeErr(err error) error {
	var ve *ledger.ValidationError
	if errors.As(err, &ve) {
		return fmt.Errorf("%s: %s", strings.TrimPrefix(ve.Field, "asset.data."), ve.Message)
	}
	return err
}

// readElections checks and indexes the elections, in order.
func (s *State) readElections(list []Election) error {
	s.order = nil
	for i := range list {
		e := &list[i]
		if err := s.checkElection(e); err != nil {
			return fmt.Errorf("elections[%d].%w", i, err)
		}
		if i > 0 && e.Height < list[i-1].Height {
			return fmt.Errorf("elections[%d].height: out of order", i)
		}
		s.elections[e.ID] = e
		s.order = append(s.order, e.ID)
	}
	return nil
}

// checkElection checks one election record of a decoded state.
func (s *State) checkElection(e *Election) error {
	if _, err := electionIDBytes(e.ID); err != nil {
		return fmt.Errorf("id: %w", err)
	}
	if _, dup := s.elections[e.ID]; dup {
		return fmt.Errorf("id: %s listed twice", e.ID)
	}
	if _, err := ledger.DecodePublicKey(e.Proposer); err != nil || !canonicalBase58(e.Proposer) {
		return fmt.Errorf("proposer: not a base58 Ed25519 key")
	}
	if e.Height < 1 || e.Height > s.height {
		return fmt.Errorf("height: %d out of range", e.Height)
	}
	if err := checkKindFields(e); err != nil {
		return err
	}
	if err := checkShape(proposalOf(e)); err != nil {
		return shapeErr(err)
	}
	if err := checkTally(e); err != nil {
		return err
	}
	return checkOutcome(e, s.height)
}

// checkKindFields checks that e holds exactly the fields of its kind.
func checkKindFields(e *Election) error {
	caretaker, param := isSetKind(e.Kind), e.Kind == KindSetParam
	grant, quota := e.Kind == KindGrantQuota, e.Kind == KindGrantQuota || e.Kind == KindRevokeQuota
	switch {
	case !caretaker && !param && !quota:
		return fmt.Errorf("kind: unknown kind %q", e.Kind)
	case (e.Power != nil) != caretaker || (e.PeerID != "") != caretaker:
		return fmt.Errorf("power: want power and peer_id for caretaker kinds only")
	case (e.Value != nil) != param || (e.Param != "") != param:
		return fmt.Errorf("param: want param and value for set-param only")
	case (e.PublicKey != "") != (caretaker || quota):
		return fmt.Errorf("public_key: want it for caretaker and quota kinds only")
	case (e.QuotaTxs != nil) != grant || (e.QuotaBytes != nil) != grant || (e.UntilHeight != nil) != grant:
		return fmt.Errorf("txs: want txs, bytes and until_height for grant-quota only")
	}
	return nil
}

// checkTally checks the powers of an election.
func checkTally(e *Election) error {
	const maxTotal = genesis.MaxCaretakers * genesis.MaxPower
	switch {
	case e.TotalPower == 0 || e.TotalPower > maxTotal:
		return fmt.Errorf("total_power: want 1 to %d, got %d", uint64(maxTotal), e.TotalPower)
	case e.NeededPower != neededPower(e.TotalPower):
		return fmt.Errorf("needed_power: want %d, got %d", neededPower(e.TotalPower), e.NeededPower)
	case e.VotesPower > e.TotalPower || e.AgainstPower > e.TotalPower-e.VotesPower:
		return fmt.Errorf("votes_power: votes %d and %d against exceed total %d", e.VotesPower, e.AgainstPower, e.TotalPower)
	case e.ExpiresHeight <= e.Height:
		return fmt.Errorf("expires_height: %d not after height %d", e.ExpiresHeight, e.Height)
	}
	return nil
}

// checkOutcome checks an election's status and the heights that go with it.
func checkOutcome(e *Election, height uint64) error {
	switch e.Status {
	case StatusOngoing:
		if e.ConcludedHeight != 0 || e.EffectHeight != 0 {
			return fmt.Errorf("concluded_height: set for an ongoing election")
		}
		return nil
	case StatusApproved:
		if e.EffectHeight != e.ConcludedHeight+EffectDelay {
			return fmt.Errorf("effect_height: want concluded_height+%d", EffectDelay)
		}
	case StatusRejected, StatusInconclusive:
		if e.EffectHeight != 0 {
			return fmt.Errorf("effect_height: set for a %s election", e.Status)
		}
	default:
		return fmt.Errorf("status: %q is not a stored status", e.Status)
	}
	if e.ConcludedHeight < e.Height || e.ConcludedHeight > min(height, e.ExpiresHeight) {
		return fmt.Errorf("concluded_height: %d out of range", e.ConcludedHeight)
	}
	return nil
}
