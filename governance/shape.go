package governance

import (
	"strconv"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
)

// checkShape checks what a proposal says without any state: keys, peer
// ids, powers, parameter names and bounds, quota values.
func checkShape(p Proposal) error {
	switch p.Kind {
	case KindAddCaretaker, KindSetPower, KindRemoveCaretaker:
		return checkCaretakerShape(p)
	case KindSetParam:
		return checkParamShape(p)
	case KindGrantQuota, KindRevokeQuota:
		return checkQuotaShape(p)
	}
	return refuse(ErrProposal, "kind", "unknown election kind %q", p.Kind)
}

func checkCaretakerShape(p Proposal) error {
	if _, err := ledger.DecodePublicKey(p.PublicKey); err != nil || !canonicalBase58(p.PublicKey) {
		return refuse(ErrInvalidPublicKey, "asset.data.public_key", "asset.data.public_key: not a 32-byte Ed25519 key")
	}
	if _, err := genesis.DecodePeerID(p.PeerID); err != nil {
		return refuse(ErrProposal, "asset.data.node_id", "asset.data.node_id: %v", err)
	}
	if p.Power > genesis.MaxPower {
		return refuse(ErrInvalidPowerChange, "asset.data.power", "asset.data.power: %d is over the most a caretaker may hold, %d", p.Power, uint64(genesis.MaxPower))
	}
	if p.Kind == KindRemoveCaretaker && p.Power != 0 {
		return refuse(ErrProposal, "asset.data.power", "asset.data.power: remove-caretaker wants power 0, got %d", p.Power)
	}
	if p.Kind != KindRemoveCaretaker && p.Power == 0 {
		return refuse(ErrProposal, "asset.data.power", "asset.data.power: %s wants power 1 or more", p.Kind)
	}
	return nil
}

func checkParamShape(p Proposal) error {
	probe := genesis.DefaultParams()
	if err := probe.Set(p.Param, strconv.FormatUint(p.Value, 10)); err != nil {
		return refuse(ErrProposal, "asset.data", "set-param: %v", err)
	}
	return nil
}

func checkQuotaShape(p Proposal) error {
	if _, err := ledger.DecodePublicKey(p.PublicKey); err != nil || !canonicalBase58(p.PublicKey) {
		return refuse(ErrInvalidPublicKey, "asset.data.public_key", "asset.data.public_key: want the base58 of a 32-byte Ed25519 key")
	}
	if p.Kind == KindRevokeQuota {
		if p.Txs != 0 || p.Bytes != 0 || p.UntilHeight != 0 {
			return refuse(ErrProposal, "asset.data", "revoke-quota: txs, bytes and until_height must be 0")
		}
		return nil
	}
	for _, f := range []struct {
		name     string
		v, least uint64
	}{{"txs", p.Txs, 1}, {"bytes", p.Bytes, 1}, {"until_height", p.UntilHeight, 0}} {
		if f.v < f.least || f.v > MaxDataInt {
			return refuse(ErrProposal, dataField(f.name), "grant-quota: %s: want %d to %d, got %d", dataField(f.name), f.least, uint64(MaxDataInt), f.v)
		}
	}
	return nil
}

// view is what an election's effect is checked against: the set, the
// parameters and the quotas in force (at a block, or as a block's
// approvals leave them), with this block's quota changes in overlay.
type view struct {
	set     Set
	params  genesis.Params
	quotas  map[string][]Quota
	overlay map[string]Quota
}

// quota returns the quota of pub in force at height at.
func (v *view) quota(pub string, at uint64) (Quota, bool) {
	if q, ok := v.overlay[pub]; ok {
		return q, q.Txs > 0 && q.inForce(at)
	}
	return quotaIn(v.quotas[pub], at)
}

// checkEffect checks that p's effect is still possible if it took effect
// at height at: the bylaws and the 1/3 rule against the set, a parameter
// that changes, a quota that does not end before at, a revoked quota that
// exists.
func (v *view) checkEffect(p Proposal, at uint64) error {
	switch p.Kind {
	case KindAddCaretaker, KindSetPower, KindRemoveCaretaker:
		return v.checkCaretaker(p)
	case KindSetParam:
		if cur, _ := v.params.Get(p.Param); cur == p.Value {
			return refuse(ErrProposal, "asset.data.value", "set-param: %s is already %d", p.Param, cur)
		}
	case KindGrantQuota:
		if p.UntilHeight != 0 && p.UntilHeight < at {
			return refuse(ErrProposal, "asset.data.until_height", "grant-quota: until_height %d is before the quota could take effect at height %d", p.UntilHeight, at)
		}
	case KindRevokeQuota:
		if _, ok := v.quota(p.PublicKey, at); !ok {
			return refuse(ErrProposal, "asset.data.public_key", "revoke-quota: %s holds no quota", p.PublicKey)
		}
	}
	return nil
}

// checkCaretaker checks a set change against the set and the bylaws.
func (v *view) checkCaretaker(p Proposal) error {
	i := v.set.Index(p.PublicKey)
	switch {
	case p.Kind == KindAddCaretaker && i >= 0:
		return refuse(ErrProposal, "asset.data.public_key", "add-caretaker: %s is already a caretaker", p.PublicKey)
	case p.Kind == KindAddCaretaker:
		if err := v.checkRoom(); err != nil {
			return err
		}
	case i < 0:
		return refuse(ErrProposal, "asset.data.public_key", "%s: %s is not a caretaker", p.Kind, p.PublicKey)
	case v.set.Caretakers[i].PeerID != "" && v.set.Caretakers[i].PeerID != p.PeerID:
		return refuse(ErrProposal, "asset.data.node_id", "%s: node_id %s is not caretaker %s's peer id %s", p.Kind, p.PeerID, p.PublicKey, v.set.Caretakers[i].PeerID)
	case p.Kind == KindSetPower && v.set.Caretakers[i].Power == p.Power:
		return refuse(ErrProposal, "asset.data.power", "set-power: %s already has power %d", p.PublicKey, p.Power)
	}
	if v.set.hasPeer(p.PeerID, p.PublicKey) {
		return refuse(ErrProposal, "asset.data.node_id", "%s: node_id %s is another caretaker's peer id", p.Kind, p.PeerID)
	}
	return checkPowerChange(v.set, v.set.Power(p.PublicKey), p.Power)
}

// checkRoom checks that the set may grow by one under the max_caretakers
// bylaw and genesis.MaxCaretakers.
func (v *view) checkRoom() error {
	n := uint64(len(v.set.Caretakers))
	if limit := min(v.params.MaxCaretakers, genesis.MaxCaretakers); n >= limit {
		return refuse(ErrProposal, "asset.data.public_key", "add-caretaker: max_caretakers: the set holds %d caretakers, the most max_caretakers (%d) allows", n, limit)
	}
	return nil
}

// checkPowerChange is ipdb-node's 1/3 rule: the change of power |new-cur|
// (cur 0 for a new caretaker, new 0 for a removal) must be less than a
// third of the set's total power. BigchainDB tests the new power itself,
// which cannot lower a large caretaker's power or remove it; the delta is
// what bounds how far one election moves the BFT quorum.
func checkPowerChange(set Set, cur, next uint64) error {
	delta := max(cur, next) - min(cur, next)
	if total := set.Total(); 3*delta >= total {
		return refuse(ErrInvalidPowerChange, "asset.data.power", "power change must be less than 1/3 of total power (change %d, total %d)", delta, total)
	}
	return nil
}
