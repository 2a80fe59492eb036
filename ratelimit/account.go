package ratelimit

import (
	"fmt"

	"github.com/ipdb/ipdb-node/ledger"
)

// Account is a key's quota in the current epoch, as GET
// /api/v1/quota/{pub} shows it. RemainingBytes counts the max_tx_bytes
// each bought transaction brings; Remaining* are 0, never negative, when
// a revoked grant leaves the key over its allowance.
type Account struct {
	PublicKey       string `json:"public_key"`
	Epoch           uint64 `json:"epoch"`
	EpochEndsHeight uint64 `json:"epoch_ends_height"`
	UsedTxs         uint64 `json:"used_txs"`
	UsedBytes       uint64 `json:"used_bytes"`
	FreeTxs         uint64 `json:"free_txs"`
	FreeBytes       uint64 `json:"free_bytes"`
	GrantedTxs      uint64 `json:"granted_txs"`
	GrantedBytes    uint64 `json:"granted_bytes"`
	BoughtTxs       uint64 `json:"bought_txs"`
	RemainingTxs    uint64 `json:"remaining_txs"`
	RemainingBytes  uint64 `json:"remaining_bytes"`
}

// Account returns pub's quota at the tracker's height, counting what was
// committed and what the tracker has charged since. It returns an error
// wrapping ErrInvalidKey when pub is not a base58 Ed25519 public key, or
// the Committed error, wrapped.
func (t *Tracker) Account(pub string) (Account, error) {
	if err := checkKey(pub); err != nil {
		return Account{}, err
	}
	u, err := t.usage(pub)
	if err != nil {
		return Account{}, err
	}
	txs, bytes := t.allowance(pub, u)
	gt, gb := t.grant(pub)
	p := t.limits.Params
	return Account{PublicKey: pub, Epoch: t.epoch, EpochEndsHeight: t.ends,
		UsedTxs: u.UsedTxs, UsedBytes: u.UsedBytes,
		FreeTxs: p.FreeTierTxsPerEpoch, FreeBytes: p.FreeTierBytesPerEpoch,
		GrantedTxs: gt, GrantedBytes: gb, BoughtTxs: u.BoughtTxs,
		RemainingTxs: satSub(txs, u.UsedTxs), RemainingBytes: satSub(bytes, u.UsedBytes)}, nil
}

// checkKey returns an error wrapping ErrInvalidKey unless pub is a base58
// Ed25519 public key of at most MaxKeyChars characters.
func checkKey(pub string) error {
	if len(pub) > MaxKeyChars {
		return fmt.Errorf("%w: %d characters, want at most %d", ErrInvalidKey, len(pub), MaxKeyChars)
	}
	if _, err := ledger.DecodePublicKey(pub); err != nil {
		return fmt.Errorf("%w: %q is not a base58 Ed25519 public key", ErrInvalidKey, pub)
	}
	return nil
}
