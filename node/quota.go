package node

import (
	"fmt"

	"github.com/ipdb/ipdb-node/governance"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ratelimit"
)

// storeUsage reads the usage rows earlier blocks stored (ratelimit's
// Committed over the Badger store).
type storeUsage struct{ store *ledger.Store }

// Usage implements ratelimit.Committed.
func (s storeUsage) Usage(pub string, epoch uint64) (ratelimit.Usage, error) {
	b, err := s.store.AppRow(ratelimit.RowKey(pub, epoch))
	if err != nil || b == nil {
		return ratelimit.Usage{}, err
	}
	u, err := ratelimit.DecodeUsage(b)
	if err != nil {
		return ratelimit.Usage{}, fmt.Errorf("usage of %s in epoch %d: %w", pub, epoch, err)
	}
	return u, nil
}

// fee returns the network's fee asset and treasury (zero: no purchases).
func (g *govBook) fee() ratelimit.Fee {
	if g.doc.Fee == nil {
		return ratelimit.Fee{}
	}
	return ratelimit.Fee{AssetID: g.doc.Fee.AssetID, Treasury: g.doc.Fee.Treasury}
}

// tracker returns the quota accounting of a block at height h under the
// governance state st; nil without a store (tests of consensus alone).
func (g *govBook) tracker(st *governance.State, h uint64) *ratelimit.Tracker {
	if g.store == nil {
		return nil
	}
	grant := func(pub string) (uint64, uint64) {
		if q, ok := st.Quota(pub, h); ok {
			return q.Txs, q.Bytes
		}
		return 0, 0
	}
	return ratelimit.NewTracker(h, ratelimit.Limits{Params: st.ParamsAt(h), Grant: grant, Fee: g.fee()}, storeUsage{g.store})
}

// usageRows charges txs, the checked transactions of block h, to a fresh
// tracker and returns the usage rows the block writes. They passed the
// same charge when checked, so a refusal here is a broken invariant.
func (g *govBook) usageRows(h uint64, txs []*ledger.CheckedTx) ([]ledger.AppRow, error) {
	t := g.tracker(g.state(), h)
	if t == nil {
		return nil, nil
	}
	for _, ct := range txs {
		if err := t.Charge(ct.Tx()); err != nil {
			return nil, fmt.Errorf("quota of tx %s: %w", ct.Tx().ID, err)
		}
	}
	changes := t.Changes()
	rows := make([]ledger.AppRow, len(changes))
	for i, c := range changes {
		rows[i] = ledger.AppRow{Key: ratelimit.RowKey(c.PublicKey, c.Epoch), Value: c.Usage.Encode()}
	}
	return rows, nil
}

// pendingKey identifies what a backlog checker reflects besides the
// committed transactions: the governance snapshot and the epoch of the
// next block. The backlog rechecks its transactions when it changes.
type pendingKey struct {
	snap  *govSnap
	epoch uint64
}

// pendingChecker implements pendingRules: the checker of the backlog's
// pending transactions at the next height, and its key.
func (g *govBook) pendingChecker() (ledger.Checker, any) {
	snap := g.snap.Load()
	h := g.height() + 1
	return g.checkerOf(snap.state, h), g.keyOf(snap, h)
}

// rulesKey implements pendingRules.
func (g *govBook) rulesKey() any { return g.keyOf(g.snap.Load(), g.height()+1) }

// keyOf is the key of the rules of snap at height h.
func (g *govBook) keyOf(snap *govSnap, h uint64) pendingKey {
	epoch, _ := ratelimit.Epoch(h, snap.state.ParamsAt(h).EpochBlocks)
	return pendingKey{snap: snap, epoch: epoch}
}

// QuotaAccount implements GovernanceBackend: pub's account at the next
// height, over the committed blocks alone.
func (n *Node) QuotaAccount(pub string) (ratelimit.Account, error) {
	st := n.gov.state()
	return n.gov.tracker(st, n.gov.height()+1).Account(pub)
}
