package ratelimit

import (
	"crypto/ed25519"
	"fmt"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/cryptocondition"
)

// feeAssetIDLen is the length of a transaction id in hex.
const feeAssetIDLen = 64

// Coin is one unspent output of the fee asset that a payer owns alone
// (an ed25519-sha-256 condition of the payer's key).
type Coin struct {
	Ref    ledger.OutputRef
	Amount uint64
}

// Validate checks the fee config: AssetID is "" (no purchases) or 64
// lower-case hex digits, and then Treasury is a base58 Ed25519 public key.
// Errors wrap ErrPurchase.
func (f Fee) Validate() error {
	if f.AssetID == "" {
		return nil
	}
	if !isHexID(f.AssetID) {
		return fmt.Errorf("%w: fee asset id %q is not %d lower-case hex digits", ErrPurchase, f.AssetID, feeAssetIDLen)
	}
	if _, err := ledger.DecodePublicKey(f.Treasury); err != nil {
		return fmt.Errorf("%w: treasury %q is not a base58 Ed25519 public key", ErrPurchase, f.Treasury)
	}
	return nil
}

// isHexID reports whether s is 64 lower-case hex digits.
func isHexID(s string) bool {
	if len(s) != feeAssetIDLen {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// NewPurchase builds and signs the fee payment by which payer buys txs
// transactions of quota at feePerTx units each: a TRANSFER of the fee
// asset spending coins in order, as few as cover txs*feePerTx, with that
// amount to the treasury and any change back to payer. Errors wrap
// ErrPurchase and say why: a bad fee config, no fee asset, fee_per_tx 0,
// txs 0 or costing more than ledger.MaxAmount, the treasury as payer, a
// coin of amount 0 or given twice, not enough coins, or more than
// ledger.MaxInputs needed.
func NewPurchase(payer ledger.KeyPair, fee Fee, feePerTx, txs uint64, coins []Coin) (*ledger.Tx, error) {
	need, err := purchaseCost(payer, fee, feePerTx, txs)
	if err != nil {
		return nil, err
	}
	spends, have, err := pickCoins(payer.Public, coins, need)
	if err != nil {
		return nil, err
	}
	treasury, _ := ledger.DecodePublicKey(fee.Treasury) // checked by purchaseCost
	outs := []ledger.OutputSpec{ledger.To(need, treasury)}
	if have > need {
		outs = append(outs, ledger.To(have-need, payer.Public))
	}
	u, err := ledger.BuildTransfer(spends, fee.AssetID, nil, outs...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPurchase, err)
	}
	tx, err := u.Sign(payer.Private)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPurchase, err)
	}
	return tx, nil
}

// purchaseCost checks the request and returns txs*feePerTx.
func purchaseCost(payer ledger.KeyPair, fee Fee, feePerTx, txs uint64) (uint64, error) {
	if err := fee.Validate(); err != nil {
		return 0, err
	}
	switch {
	case fee.AssetID == "":
		return 0, fmt.Errorf("%w: the network sells no quota (no fee asset)", ErrPurchase)
	case feePerTx == 0:
		return 0, fmt.Errorf("%w: quota cannot be bought while fee_per_tx is 0", ErrPurchase)
	case txs == 0:
		return 0, fmt.Errorf("%w: want at least 1 transaction, got 0", ErrPurchase)
	case satMul(txs, feePerTx) > ledger.MaxAmount:
		return 0, fmt.Errorf("%w: %d transactions at fee_per_tx %d cost more than the largest amount, %d",
			ErrPurchase, txs, feePerTx, ledger.MaxAmount)
	case payer.PublicBase58() == fee.Treasury:
		return 0, fmt.Errorf("%w: the treasury cannot buy quota from itself", ErrPurchase)
	}
	return txs * feePerTx, nil
}

// pickCoins returns the spends of the first coins that cover need and
// their total.
func pickCoins(payer ed25519.PublicKey, coins []Coin, need uint64) ([]ledger.Spend, uint64, error) {
	cond := cryptocondition.Ed25519(payer)
	seen := make(map[ledger.OutputRef]bool, len(coins))
	var spends []ledger.Spend
	var have ledger.AmountSum
	for i, c := range coins {
		if err := checkCoin(i, c, seen); err != nil {
			return nil, 0, err
		}
		if have.Hi == 0 && have.Lo >= need {
			continue // covered; keep checking the rest for a clear error
		}
		if len(spends) == ledger.MaxInputs {
			return nil, 0, fmt.Errorf("%w: %d units need more than %d coins; merge coins first", ErrPurchase, need, ledger.MaxInputs)
		}
		spends = append(spends, ledger.Spend{Ref: c.Ref, Condition: cond})
		have.Add(c.Amount)
	}
	if have.Hi == 0 && have.Lo < need {
		return nil, 0, fmt.Errorf("%w: not enough coins: have %s units of the fee asset, need %d", ErrPurchase, have, need)
	}
	return spends, have.Lo, nil
}

// checkCoin refuses a coin of amount 0 or above ledger.MaxAmount, or one
// seen before.
func checkCoin(i int, c Coin, seen map[ledger.OutputRef]bool) error {
	if c.Amount == 0 || c.Amount > ledger.MaxAmount {
		return fmt.Errorf("%w: coin %d (%s) has amount %d, want 1 to %d", ErrPurchase, i, c.Ref, c.Amount, ledger.MaxAmount)
	}
	if seen[c.Ref] {
		return fmt.Errorf("%w: coin %d (%s) is given twice", ErrPurchase, i, c.Ref)
	}
	seen[c.Ref] = true
	return nil
}
