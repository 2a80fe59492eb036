package ratelimit

import (
	"math"
	"math/bits"
	"slices"
	"strings"

	"github.com/ipdb/ipdb-node/ledger"
)

// isPayment reports whether tx is a fee payment: a TRANSFER of the fee
// asset with at least one output whose only key is the treasury, not
// signed by the treasury (whose payment to itself would buy quota for
// nothing; it is charged as any transfer).
func (t *Tracker) isPayment(tx *ledger.Tx) bool {
	fee := t.limits.Fee
	if fee.AssetID == "" || tx.Operation != ledger.OpTransfer || tx.Asset.ID != fee.AssetID {
		return false
	}
	if slices.Contains(signers(tx), fee.Treasury) {
		return false
	}
	return slices.ContainsFunc(tx.Outputs, func(o ledger.Output) bool { return toTreasury(o, fee.Treasury) })
}

// toTreasury reports whether the only key of o is treasury.
func toTreasury(o ledger.Output, treasury string) bool {
	return len(o.PublicKeys) == 1 && o.PublicKeys[0] == treasury
}

// credit credits the signer of fee payment tx with the transactions it
// buys in the epoch.
func (t *Tracker) credit(tx *ledger.Tx) error {
	keys := signers(tx)
	if len(keys) != 1 {
		return refuse(ErrFeePayment, "inputs", "a fee payment must be signed by exactly one key, got %d: %s",
			len(keys), strings.Join(keys, ", "))
	}
	perTx := t.limits.Params.FeePerTx
	if perTx == 0 {
		return refuse(ErrFeePayment, "asset.id", "quota cannot be bought while fee_per_tx is 0")
	}
	paid, n := bought(tx, t.limits.Fee.Treasury, perTx)
	if n == 0 {
		return refuse(ErrFeePayment, "outputs", "a fee payment must buy at least one transaction: %s units to the treasury at fee_per_tx %d",
			paid, perTx)
	}
	u, err := t.usage(keys[0])
	if err != nil {
		return err
	}
	u.BoughtTxs = satAdd(u.BoughtTxs, n)
	t.set(keys[0], u)
	return nil
}

// bought returns the amount tx pays the treasury and floor(amount /
// perTx), saturating at the largest uint64. perTx must not be 0.
func bought(tx *ledger.Tx, treasury string, perTx uint64) (paid ledger.AmountSum, n uint64) {
	for _, o := range tx.Outputs {
		if toTreasury(o, treasury) {
			paid.Add(o.Amount)
		}
	}
	if paid.Hi >= perTx {
		return paid, math.MaxUint64
	}
	n, _ = bits.Div64(paid.Hi, paid.Lo, perTx)
	return paid, n
}
