package governance

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
)

// Apply returns the state after block h, whose checked transactions are txs
// in block order, and the events of the block. h must be more than
// Height() (blocks between changed nothing). If txs holds no governance
// transaction (IsGovernanceOp), Apply returns s itself and no event: the
// node then writes no state.
//
// Elections are recorded at h; VOTE outputs to ElectionAddress add to
// votes_power and to RejectAddress to against_power; then each election
// voted for in the block, in order of its first vote, concludes: approved
// when 3*votes_power > 2*total_power (inconclusive instead if its effect is
// no longer valid against the state as the block's earlier approvals leave
// it), else rejected when 3*against_power >= total_power. Approved effects
// are in force from h+EffectDelay. An approved set change makes every other
// open election inconclusive at h: its tokens count the old powers.
//
// An error means a transaction the Rules would have refused (a broken
// invariant); the node must treat it as fatal.
func (s *State) Apply(h uint64, txs []*ledger.CheckedTx) (*State, []Event, error) {
	if !slices.ContainsFunc(txs, func(c *ledger.CheckedTx) bool { return IsGovernanceOp(c.Tx().Operation) }) {
		return s, nil, nil
	}
	if h <= s.height {
		return nil, nil, fmt.Errorf("governance: apply block %d to the state after block %d", h, s.height)
	}
	b := &blockTally{n: s.successor(h), h: h, fresh: map[string]bool{}, addrs: map[string][2]string{}}
	set, params := s.SetAt(h), s.ParamsAt(h)
	for i, c := range txs {
		tx := c.Tx()
		switch {
		case tx.Operation == ledger.OpVote:
			if err := b.vote(tx); err != nil {
				return nil, nil, fmt.Errorf("governance: block %d tx %d: %w", h, i, err)
			}
		case IsGovernanceOp(tx.Operation):
			e, err := b.n.propose(tx, h, set, params)
			if err != nil {
				return nil, nil, fmt.Errorf("governance: block %d tx %d: %w", h, i, err)
			}
			b.add(e)
		}
	}
	if err := b.conclude(); err != nil {
		return nil, nil, fmt.Errorf("governance: block %d: %w", h, err)
	}
	return b.n, b.events, nil
}

// blockTally is the work of one Apply.
type blockTally struct {
	n      *State
	h      uint64
	events []Event
	// fresh marks the election records n owns (copied or made in this
	// block); the others are shared with the previous state.
	fresh map[string]bool
	// voted are the elections voted for in this block, by first vote, and
	// addrs their addresses for and against.
	voted []string
	addrs map[string][2]string
}

// add records an election proposed in this block.
func (b *blockTally) add(e *Election) {
	b.n.elections[e.ID] = e
	b.n.order = append(b.n.order, e.ID)
	b.fresh[e.ID] = true
	b.events = append(b.events, eventOf(EventProposed, e, b.h))
}

// own returns n's record of election id, copied first if it is shared.
func (b *blockTally) own(id string) *Election {
	e := b.n.elections[id]
	if !b.fresh[id] {
		c := *e
		e = &c
		b.n.elections[id] = e
		b.fresh[id] = true
	}
	return e
}

// vote adds the VOTE tx's outputs to its election's tally.
func (b *blockTally) vote(tx *ledger.Tx) error {
	id := tx.Asset.ID
	old, ok := b.n.elections[id]
	if !ok || !old.openAt(b.h) {
		return fmt.Errorf("vote %s for %s, which is not an open election", tx.ID, id)
	}
	e := b.own(id)
	addr, ok := b.addrs[id]
	if !ok {
		addr[0], _ = ElectionAddress(id) // id is a known election's
		addr[1], _ = RejectAddress(id)
		b.addrs[id] = addr
		b.voted = append(b.voted, id)
	}
	yes, no := addr[0], addr[1]
	for _, o := range tx.Outputs {
		if len(o.PublicKeys) != 1 {
			return fmt.Errorf("vote %s: an output has %d keys", tx.ID, len(o.PublicKeys))
		}
		switch o.PublicKeys[0] {
		case yes:
			e.VotesPower += o.Amount
		case no:
			e.AgainstPower += o.Amount
		}
	}
	return nil
}

// conclude decides the elections voted for in the block and records the
// effects of those approved.
func (b *blockTally) conclude() error {
	for _, id := range b.voted {
		b.events = append(b.events, eventOf(EventVoted, b.n.elections[id], b.h))
	}
	w := view{set: b.n.SetAt(b.h), params: b.n.ParamsAt(b.h), quotas: b.n.quotas, overlay: map[string]Quota{}}
	setChanged, paramsChanged := false, false
	for _, id := range b.voted {
		e := b.n.elections[id]
		switch {
		case e.concluded():
			// made inconclusive by a set change earlier in this block
		case 3*e.VotesPower > 2*e.TotalPower:
			if err := w.checkEffect(proposalOf(e), b.h+EffectDelay); err != nil {
				b.close(e, StatusInconclusive)
				continue
			}
			e.EffectHeight = b.h + EffectDelay
			b.close(e, StatusApproved)
			if err := w.apply(e); err != nil {
				return err
			}
			setChanged = setChanged || e.isSetChange()
			paramsChanged = paramsChanged || e.Kind == KindSetParam
			if e.isSetChange() {
				b.dropOpen(id)
			}
		case 3*e.AgainstPower >= e.TotalPower:
			b.close(e, StatusRejected)
		}
	}
	b.record(w, setChanged, paramsChanged)
	return nil
}

// close concludes e (owned by n) with status at the block's height.
func (b *blockTally) close(e *Election, status string) {
	e.Status, e.ConcludedHeight = status, b.h
	typ := map[string]string{StatusApproved: EventApproved, StatusRejected: EventRejected, StatusInconclusive: EventInconclusive}[status]
	b.events = append(b.events, eventOf(typ, e, b.h))
}

// dropOpen makes every open election but the one id inconclusive.
func (b *blockTally) dropOpen(id string) {
	for _, other := range b.n.order {
		if other != id && b.n.elections[other].openAt(b.h) {
			b.close(b.own(other), StatusInconclusive)
		}
	}
}

// record writes the effects approved in the block, in force from h+1.
func (b *blockTally) record(w view, setChanged, paramsChanged bool) {
	from := b.h + EffectDelay
	if setChanged {
		b.n.epochs = append(b.n.epochs, SetEpoch{From: from, Set: w.set})
	}
	if paramsChanged {
		b.n.params = append(b.n.params, paramEpoch{From: from, Params: w.params})
	}
	for _, pub := range sortedKeys(w.overlay) {
		b.n.quotas[pub] = append(slices.Clip(b.n.quotas[pub]), w.overlay[pub])
	}
}

// apply makes e's effect on the view, as from height e.EffectHeight.
func (v *view) apply(e *Election) error {
	i := v.set.Index(e.PublicKey)
	switch e.Kind {
	case KindAddCaretaker:
		v.set.Caretakers = append(v.set.Caretakers, caretaker(e))
	case KindSetPower:
		v.set.Caretakers[i].Power = *e.Power
		v.set.Caretakers[i].PeerID = e.PeerID
	case KindRemoveCaretaker:
		v.set.Caretakers = slices.Delete(v.set.Caretakers, i, i+1)
	case KindSetParam:
		if err := v.params.Set(e.Param, strconv.FormatUint(*e.Value, 10)); err != nil {
			return fmt.Errorf("apply election %s: %w", e.ID, err)
		}
	case KindGrantQuota:
		v.overlay[e.PublicKey] = Quota{PublicKey: e.PublicKey, Txs: *e.QuotaTxs, Bytes: *e.QuotaBytes,
			UntilHeight: *e.UntilHeight, From: e.EffectHeight, ElectionID: e.ID}
	case KindRevokeQuota:
		v.overlay[e.PublicKey] = Quota{PublicKey: e.PublicKey, From: e.EffectHeight, ElectionID: e.ID}
	}
	return nil
}

// caretaker returns the caretaker an approved add-caretaker election adds.
func caretaker(e *Election) genesis.Caretaker {
	return genesis.Caretaker{PublicKey: e.PublicKey, PeerID: e.PeerID, Power: *e.Power}
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
