package ratelimit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
)

// Fee says how quota is bought: by a TRANSFER of the asset AssetID to the
// key Treasury.
type Fee struct {
	// AssetID is the id of the fee asset's CREATE (64 lower-case hex
	// digits); "" means quota cannot be bought.
	AssetID string
	// Treasury is the base58 public key fee payments go to.
	Treasury string
}

// Committed is what earlier blocks stored: the usage of a key in an epoch,
// the zero Usage (and no error) when no row was written.
type Committed interface {
	Usage(pub string, epoch uint64) (Usage, error)
}

// Limits are the rules in force at a block's height.
type Limits struct {
	// Params are the network parameters in force at the height; the
	// tracker reads FreeTierTxsPerEpoch, FreeTierBytesPerEpoch,
	// EpochBlocks, FeePerTx and MaxTxBytes.
	Params genesis.Params
	// Grant returns the quota governance grants pub at the height
	// (per epoch, while in force); nil means none is granted.
	Grant func(pub string) (txs, bytes uint64)
	// Fee says how quota is bought.
	Fee Fee
}

// Change is one usage row a block writes: the usage of PublicKey in Epoch
// once the block's transactions are charged, replacing the stored row.
type Change struct {
	PublicKey string
	Epoch     uint64
	Usage     Usage
}

// Tracker accounts one block's transactions (or the backlog's pending
// ones) at one height, over what earlier blocks committed. Calls must be
// serialised: it is not safe for concurrent use.
type Tracker struct {
	limits    Limits
	committed Committed
	epoch     uint64
	ends      uint64
	// rows holds every key read so far: committed usage plus what this
	// tracker charged and credited.
	rows map[string]row
}

// row is a key's usage and whether this tracker changed it.
type row struct {
	usage   Usage
	changed bool
}

// NewTracker returns a Tracker for the block at height h under l, over the
// usage c committed (a nil c: nothing committed yet). c is read on first
// use of each key, and never written.
func NewTracker(h uint64, l Limits, c Committed) *Tracker {
	epoch, ends := Epoch(h, l.Params.EpochBlocks)
	return &Tracker{limits: l, committed: c, epoch: epoch, ends: ends, rows: map[string]row{}}
}

// Charge accounts tx. An election or VOTE costs nothing. A fee payment
// credits its signer the transactions it buys, or is refused
// (ErrFeePayment) when signed by several keys, when fee_per_tx is 0 or
// when it buys nothing. Any other transaction is charged to each distinct
// key of its inputs' owners_before: one transaction and its canonical
// bytes. If a key would pass its allowance, Charge returns a
// *ledger.ValidationError of Kind ErrQuotaExceeded naming the first such
// key in sorted order; on that or a Committed error (wrapped), nothing is
// charged.
func (t *Tracker) Charge(tx *ledger.Tx) error {
	switch {
	case exempt(tx):
		return nil
	case t.isPayment(tx):
		return t.credit(tx)
	}
	return t.charge(tx)
}

// Changes returns the usage rows changed since NewTracker, sorted by key;
// the slice is fresh (nil when nothing changed).
func (t *Tracker) Changes() []Change {
	var out []Change
	for k, r := range t.rows {
		if r.changed {
			out = append(out, Change{PublicKey: k, Epoch: t.epoch, Usage: r.usage})
		}
	}
	slices.SortFunc(out, func(a, b Change) int { return strings.Compare(a.PublicKey, b.PublicKey) })
	return out
}

// exempt reports whether tx is never charged: elections and VOTEs.
func exempt(tx *ledger.Tx) bool {
	return tx.Operation == ledger.OpVote || (tx.IsCreateLike() && tx.Operation != ledger.OpCreate)
}

// charge charges every signer of tx, all or nothing.
func (t *Tracker) charge(tx *ledger.Tx) error {
	keys := signers(tx)
	size := uint64(len(tx.Canonical()))
	var buf [4]Usage // most transactions have one signer: no allocation
	next := append(buf[:0], make([]Usage, len(keys))...)
	for i, k := range keys {
		u, err := t.usage(k)
		if err != nil {
			return err
		}
		if err := t.fits(k, u, size); err != nil {
			return err
		}
		next[i] = Usage{UsedTxs: satAdd(u.UsedTxs, 1), UsedBytes: satAdd(u.UsedBytes, size), BoughtTxs: u.BoughtTxs}
	}
	for i, k := range keys {
		t.set(k, next[i])
	}
	return nil
}

// fits returns the QuotaExceeded error of pub unless one more transaction
// of size bytes fits its allowance on top of u.
func (t *Tracker) fits(pub string, u Usage, size uint64) error {
	txs, bytes := t.allowance(pub, u)
	renews := satAdd(t.ends, 1)
	if u.UsedTxs >= txs {
		return refuse(ErrQuotaExceeded, "inputs", "%s has used %d of %d transactions in epoch %d, renews at height %d",
			pub, u.UsedTxs, txs, t.epoch, renews)
	}
	if satAdd(u.UsedBytes, size) > bytes {
		return refuse(ErrQuotaExceeded, "inputs", "%s has used %d of %d bytes in epoch %d, renews at height %d",
			pub, u.UsedBytes, bytes, t.epoch, renews)
	}
	return nil
}

// allowance returns what pub may use in the epoch: the free tier, plus
// the grant in force, plus what it bought (each bought transaction
// bringing max_tx_bytes bytes).
func (t *Tracker) allowance(pub string, u Usage) (txs, bytes uint64) {
	gt, gb := t.grant(pub)
	p := t.limits.Params
	txs = satAdd(satAdd(p.FreeTierTxsPerEpoch, gt), u.BoughtTxs)
	bytes = satAdd(satAdd(p.FreeTierBytesPerEpoch, gb), satMul(u.BoughtTxs, p.MaxTxBytes))
	return txs, bytes
}

// grant returns the quota governance grants pub.
func (t *Tracker) grant(pub string) (txs, bytes uint64) {
	if t.limits.Grant == nil {
		return 0, 0
	}
	return t.limits.Grant(pub)
}

// usage returns pub's usage in the epoch as of the transactions charged
// so far, reading the committed row on first use.
func (t *Tracker) usage(pub string) (Usage, error) {
	if r, ok := t.rows[pub]; ok {
		return r.usage, nil
	}
	var u Usage
	if t.committed != nil {
		var err error
		if u, err = t.committed.Usage(pub, t.epoch); err != nil {
			return Usage{}, fmt.Errorf("ratelimit: read usage of %s in epoch %d: %w", pub, t.epoch, err)
		}
	}
	t.rows[pub] = row{usage: u}
	return u, nil
}

// set records pub's new usage.
func (t *Tracker) set(pub string, u Usage) {
	t.rows[pub] = row{usage: u, changed: true}
}

// signers returns the distinct keys of tx's inputs' owners_before,
// sorted. The caller must not modify the slice: it may be tx's own.
func signers(tx *ledger.Tx) []string {
	if len(tx.Inputs) == 1 && len(tx.Inputs[0].OwnersBefore) == 1 {
		return tx.Inputs[0].OwnersBefore[:1:1]
	}
	var keys []string
	for _, in := range tx.Inputs {
		keys = append(keys, in.OwnersBefore...)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}
