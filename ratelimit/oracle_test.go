package ratelimit

import (
	"fmt"
	"slices"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
)

// oracle is the naive accountant the Tracker is checked against: it keeps
// the raw history of accepted transactions and recounts everything from
// it on every question.
type oracle struct {
	p        genesis.Params
	fee      Fee
	accepted []accepted
}

type accepted struct {
	h  uint64
	tx *ledger.Tx
}

// grants maps a key to its granted txs and bytes at one height.
type grants map[string][2]uint64

func (o *oracle) epoch(h uint64) uint64 {
	if h == 0 {
		h = 1
	}
	return (h - 1) / o.p.EpochBlocks
}

// keysOf returns the distinct keys of tx's owners_before, sorted.
func keysOf(tx *ledger.Tx) []string {
	set := map[string]bool{}
	for _, in := range tx.Inputs {
		for _, k := range in.OwnersBefore {
			set[k] = true
		}
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

const (
	kindCharged = iota
	kindFree
	kindPayment
)

func (o *oracle) kind(tx *ledger.Tx) int {
	switch tx.Operation {
	case ledger.OpVote, ledger.OpValidatorElection, ledger.OpChainMigrationElection, ledger.OpParameterElection, ledger.OpQuotaElection:
		return kindFree
	case ledger.OpTransfer:
	default:
		return kindCharged
	}
	if o.fee.AssetID == "" || tx.Asset.ID != o.fee.AssetID || slices.Contains(keysOf(tx), o.fee.Treasury) {
		return kindCharged
	}
	for _, out := range tx.Outputs {
		if len(out.PublicKeys) == 1 && out.PublicKeys[0] == o.fee.Treasury {
			return kindPayment
		}
	}
	return kindCharged
}

// paid returns the amount tx pays the treasury (small in tests).
func (o *oracle) paid(tx *ledger.Tx) uint64 {
	var sum uint64
	for _, out := range tx.Outputs {
		if len(out.PublicKeys) == 1 && out.PublicKeys[0] == o.fee.Treasury {
			sum += out.Amount
		}
	}
	return sum
}

// usage recounts key's usage in the epoch of h from the history.
func (o *oracle) usage(h uint64, key string) (txs, bytes, bought uint64) {
	for _, a := range o.accepted {
		if o.epoch(a.h) != o.epoch(h) || !slices.Contains(keysOf(a.tx), key) {
			continue
		}
		switch o.kind(a.tx) {
		case kindCharged:
			txs++
			bytes += uint64(len(a.tx.Canonical()))
		case kindPayment:
			bought += o.paid(a.tx) / o.p.FeePerTx
		}
	}
	return txs, bytes, bought
}

// verdict returns the error text Charge must give for tx at h, and
// records tx when it is accepted.
func (o *oracle) verdict(h uint64, g grants, tx *ledger.Tx) string {
	msg := o.judge(h, g, tx)
	if msg == "" {
		o.accepted = append(o.accepted, accepted{h, tx})
	}
	return msg
}

func (o *oracle) judge(h uint64, g grants, tx *ledger.Tx) string {
	keys := keysOf(tx)
	switch o.kind(tx) {
	case kindFree:
		return ""
	case kindPayment:
		switch {
		case len(keys) != 1:
			return fmt.Sprintf("Invalid transaction (ValidationError): a fee payment must be signed by exactly one key, got %d: %s, %s", len(keys), keys[0], keys[1])
		case o.p.FeePerTx == 0:
			return "Invalid transaction (ValidationError): quota cannot be bought while fee_per_tx is 0"
		case o.paid(tx) < o.p.FeePerTx:
			return fmt.Sprintf("Invalid transaction (ValidationError): a fee payment must buy at least one transaction: %d units to the treasury at fee_per_tx %d", o.paid(tx), o.p.FeePerTx)
		}
		return ""
	}
	for _, k := range keys {
		if msg := o.over(h, g, k, uint64(len(tx.Canonical()))); msg != "" {
			return msg
		}
	}
	return ""
}

// over returns the QuotaExceeded text if one more tx of size bytes does
// not fit key's allowance.
func (o *oracle) over(h uint64, g grants, key string, size uint64) string {
	txs, bytes, bought := o.usage(h, key)
	allowTxs := o.p.FreeTierTxsPerEpoch + g[key][0] + bought
	allowBytes := o.p.FreeTierBytesPerEpoch + g[key][1] + bought*o.p.MaxTxBytes
	renews := (o.epoch(h)+1)*o.p.EpochBlocks + 1
	if txs+1 > allowTxs {
		return quotaMsg(key, txs, allowTxs, "transactions", o.epoch(h), renews)
	}
	if bytes+size > allowBytes {
		return quotaMsg(key, bytes, allowBytes, "bytes", o.epoch(h), renews)
	}
	return ""
}

// account returns what Account must show for key at h.
func (o *oracle) account(h uint64, g grants, key string) Account {
	txs, bytes, bought := o.usage(h, key)
	allowTxs := o.p.FreeTierTxsPerEpoch + g[key][0] + bought
	allowBytes := o.p.FreeTierBytesPerEpoch + g[key][1] + bought*o.p.MaxTxBytes
	a := Account{PublicKey: key, Epoch: o.epoch(h), EpochEndsHeight: (o.epoch(h) + 1) * o.p.EpochBlocks,
		UsedTxs: txs, UsedBytes: bytes, FreeTxs: o.p.FreeTierTxsPerEpoch, FreeBytes: o.p.FreeTierBytesPerEpoch,
		GrantedTxs: g[key][0], GrantedBytes: g[key][1], BoughtTxs: bought}
	if allowTxs > txs {
		a.RemainingTxs = allowTxs - txs
	}
	if allowBytes > bytes {
		a.RemainingBytes = allowBytes - bytes
	}
	return a
}

// touched returns the keys that txs accepted at h charged or credited,
// sorted: the keys of the block's Changes.
func (o *oracle) touched(h uint64) []string {
	var out []string
	for _, a := range o.accepted {
		if a.h == h && o.kind(a.tx) != kindFree {
			out = append(out, keysOf(a.tx)...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
