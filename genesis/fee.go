package genesis

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"

	"github.com/ipdb/ipdb-node/ledger"
)

// Fee names the network's fee asset and treasury: a key buys quota beyond
// the free tier by a TRANSFER of the fee asset to the treasury key
// (package ratelimit). A network without one offers no purchases.
type Fee struct {
	// AssetID is the id of the CREATE that issued the fee asset (64 hex
	// digits); FeeAssetCreate makes a network's, which someone must post
	// once for the asset to exist.
	AssetID string `json:"asset_id"`
	// Treasury is the base58 Ed25519 key fees are paid to.
	Treasury string `json:"treasury"`
}

// FeeAssetSupply is the amount FeeAssetCreate issues: enough for any
// network's life at fee_per_tx of a few units, and a JavaScript-safe integer.
const FeeAssetSupply = 1_000_000_000_000_000

// validate checks the fee's fields; its error starts with the field name.
func (f *Fee) validate() error {
	if b, err := hex.DecodeString(f.AssetID); err != nil || len(b) != 32 || hex.EncodeToString(b) != f.AssetID {
		return fmt.Errorf("asset_id: want 64 lowercase hexadecimal digits, got %q", f.AssetID)
	}
	if _, err := ledger.DecodePublicKey(f.Treasury); err != nil {
		return fmt.Errorf("treasury: %w", err)
	}
	return nil
}

// FeeAssetCreate returns the signed CREATE that issues chain chainID's fee
// asset: FeeAssetSupply units to treasury, with asset data
// {"ipdb_fee_asset": chainID}. Ed25519 signatures are deterministic, so
// its id (the Fee's AssetID) is known before the chain starts.
func FeeAssetCreate(treasury ledger.KeyPair, chainID string) (*ledger.Tx, error) {
	u, err := ledger.BuildCreate([]ed25519.PublicKey{treasury.Public}, map[string]any{"ipdb_fee_asset": chainID}, nil,
		ledger.To(FeeAssetSupply, treasury.Public))
	if err != nil {
		return nil, fmt.Errorf("genesis: fee asset: %w", err)
	}
	tx, err := u.Sign(treasury.Private)
	if err != nil {
		return nil, fmt.Errorf("genesis: fee asset: %w", err)
	}
	return tx, nil
}
