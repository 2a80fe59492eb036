package governance

import (
	"strconv"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/cryptocondition"
)

// Rules checks the governance transactions of one block at height h
// against a State: it implements ledger.ElectionRules. It records the
// elections it accepts, so that a VOTE later in the same block may spend
// their tokens; use one Rules per ledger.Batch. It is not safe for
// concurrent use.
type Rules struct {
	s      *State
	h      uint64
	set    Set
	params genesis.Params
	// pending are the elections accepted by this Rules, by id.
	pending map[string]*Election
}

// Rules returns the election rules for the transactions of the block at
// height h (Height()+1 or later: blocks between changed nothing). The node
// also uses it for backlog admission.
func (s *State) Rules(h uint64) *Rules {
	return &Rules{s: s, h: h, set: s.SetAt(h), params: s.ParamsAt(h), pending: map[string]*Election{}}
}

// CheckElection checks an election or VOTE that passed the ledger's
// generic checks against the state at the Rules' height; st is not read
// (the ledger checked the spent tokens). CHAIN_MIGRATION_ELECTION is
// refused. The error is a *ledger.ValidationError whose Kind is one of the
// RuleKind sentinels (or ledger.ErrOperation) and whose message names the
// rule.
func (r *Rules) CheckElection(_ ledger.State, v *ledger.VerifiedTx) error {
	tx := v.Tx()
	switch tx.Operation {
	case ledger.OpVote:
		return r.checkVote(tx)
	case ledger.OpValidatorElection, ledger.OpParameterElection, ledger.OpQuotaElection:
		e, err := r.s.propose(tx, r.h, r.set, r.params)
		if err != nil {
			return err
		}
		r.pending[e.ID] = e
		return nil
	}
	return &ledger.ValidationError{Kind: ledger.ErrOperation, Field: "operation",
		Message: "operation " + tx.Operation + " is not accepted on this network"}
}

// checkVote checks that tx votes in an open election with single-key outputs.
func (r *Rules) checkVote(tx *ledger.Tx) error {
	id := tx.Asset.ID
	e, ok := r.pending[id]
	if !ok {
		e, ok = r.s.elections[id]
	}
	if !ok {
		return refuse(ErrVote, "asset.id", "VOTE for %s, which is not an election", id)
	}
	if e.concluded() {
		return refuse(ErrVote, "asset.id", "election %s is %s (at height %d); votes are closed", id, e.Status, e.ConcludedHeight)
	}
	if r.h > e.ExpiresHeight {
		return refuse(ErrVote, "asset.id", "election %s expired at height %d", id, e.ExpiresHeight)
	}
	return singleKeyOutputs(tx, ErrVote)
}

// singleKeyOutputs refuses an output whose condition is not one Ed25519 key.
func singleKeyOutputs(tx *ledger.Tx, kind *RuleKind) error {
	for i, o := range tx.Outputs {
		if o.Details.Type != cryptocondition.TypeEd25519 {
			f := "outputs[" + strconv.Itoa(i) + "].condition"
			return refuse(kind, f, "%s: governance outputs must be single ed25519-sha-256 conditions", f)
		}
	}
	return nil
}

// propose checks the election tx in block h, where set and params are in
// force, and returns its record. The rules run in BigchainDB's order:
// asset data (the schema), signers, proposer, outputs, then the kind's own.
func (s *State) propose(tx *ledger.Tx, h uint64, set Set, params genesis.Params) (*Election, error) {
	p, _, err := parseProposal(tx.Operation, tx.Asset.Data)
	if err != nil {
		return nil, err
	}
	if err := checkFrame(tx, set); err != nil {
		return nil, err
	}
	if p.Kind == "" {
		p.Kind = classify(p, set)
	}
	if err := checkShape(p); err != nil {
		return nil, err
	}
	v := view{set: set, params: params, quotas: s.quotas}
	if err := v.checkEffect(p, h+EffectDelay); err != nil {
		return nil, err
	}
	return newElection(tx.ID, tx.Inputs[0].OwnersBefore[0], p, h, set.Total(), params.ElectionExpiryBlocks), nil
}

// checkFrame checks the election's signer and its outputs against the set.
func checkFrame(tx *ledger.Tx, set Set) error {
	if len(tx.Inputs) != 1 || len(tx.Inputs[0].OwnersBefore) != 1 {
		return refuse(ErrMultipleInputs, "inputs", "`tx_signers` must be a list instance of length one")
	}
	if set.Index(tx.Inputs[0].OwnersBefore[0]) < 0 {
		return refuse(ErrInvalidProposer, "inputs[0].owners_before", "Public key is not a part of the validator set")
	}
	if err := singleKeyOutputs(tx, ErrUnequalValidatorSet); err != nil {
		return err
	}
	if !sameTopology(tx.Outputs, set) {
		return refuse(ErrUnequalValidatorSet, "outputs", "Validator set much be exactly same to the outputs of election")
	}
	return nil
}

// sameTopology reports whether outs are one output per caretaker of set, in
// set order, each to the caretaker's key with its power as amount.
func sameTopology(outs []ledger.Output, set Set) bool {
	if len(outs) != len(set.Caretakers) {
		return false
	}
	for i, o := range outs {
		c := set.Caretakers[i]
		if len(o.PublicKeys) != 1 || o.PublicKeys[0] != c.PublicKey || o.Amount != c.Power {
			return false
		}
	}
	return true
}

// classify decides the kind of a VALIDATOR_ELECTION from the set in force.
func classify(p Proposal, set Set) string {
	switch {
	case p.Power == 0:
		return KindRemoveCaretaker
	case set.Index(p.PublicKey) >= 0:
		return KindSetPower
	}
	return KindAddCaretaker
}

// newElection returns the record of an election proposed in block h.
func newElection(id, proposer string, p Proposal, h, total, expiry uint64) *Election {
	e := &Election{ID: id, Kind: p.Kind, Status: StatusOngoing, Height: h, Proposer: proposer,
		TotalPower: total, NeededPower: neededPower(total), ExpiresHeight: satAdd(h, expiry)}
	switch p.Kind {
	case KindAddCaretaker, KindSetPower, KindRemoveCaretaker:
		e.PublicKey, e.PeerID, e.Power = p.PublicKey, p.PeerID, &p.Power
	case KindSetParam:
		e.Param, e.Value = p.Param, &p.Value
	case KindGrantQuota:
		e.PublicKey, e.QuotaTxs, e.QuotaBytes, e.UntilHeight = p.PublicKey, &p.Txs, &p.Bytes, &p.UntilHeight
	case KindRevokeQuota:
		e.PublicKey = p.PublicKey
	}
	return e
}

// proposalOf returns what e proposes.
func proposalOf(e *Election) Proposal {
	p := Proposal{Kind: e.Kind, PublicKey: e.PublicKey, PeerID: e.PeerID, Param: e.Param}
	p.Power, p.Value = deref(e.Power), deref(e.Value)
	p.Txs, p.Bytes, p.UntilHeight = deref(e.QuotaTxs), deref(e.QuotaBytes), deref(e.UntilHeight)
	return p
}

func deref(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}

func satAdd(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}
