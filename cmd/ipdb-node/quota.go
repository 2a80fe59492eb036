package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ratelimit"
)

// maxFeeCoins bounds the fee-asset outputs quota buy reads: a key holding
// more pays from the first ones the API lists.
const maxFeeCoins = 200

// newQuotaCmd returns `ipdb-node quota` and its subcommands.
func newQuotaCmd(a *app) *cobra.Command {
	f := &govFlags{}
	c := newGroupCmd("quota", "Show a key's free tier and quota; buy quota with the network's fee asset",
		newQuotaShowCmd(a, f), newQuotaBuyCmd(a, f))
	f.add(c, true)
	return c
}

// newQuotaShowCmd returns `ipdb-node quota show KEY`.
func newQuotaShowCmd(a *app, f *govFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show KEY",
		Short: "Print a key's free tier, granted and bought quota and its use in this epoch",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return a.runGov(c.Context(), f, func(ctx context.Context, s *govSession) error {
				return s.showQuota(ctx, args[0])
			})
		},
	}
}

// showQuota prints key's account.
func (s *govSession) showQuota(ctx context.Context, key string) error {
	if _, err := ledger.DecodePublicKey(key); err != nil {
		return fmt.Errorf("KEY: %w", err)
	}
	var acct ratelimit.Account
	raw, err := s.getJSON(ctx, apiPrefix+"/quota/"+url.PathEscape(key), &acct)
	if err != nil {
		return err
	}
	if s.f.asJSON {
		return writeCompact(s.a.stdout, raw)
	}
	return writeAccount(s.a.stdout, acct)
}

// writeAccount prints an account for humans.
func writeAccount(w io.Writer, a ratelimit.Account) error {
	var b strings.Builder
	fmt.Fprintf(&b, "key        %s\n", a.PublicKey)
	fmt.Fprintf(&b, "epoch      %d (ends at height %d)\n", a.Epoch, a.EpochEndsHeight)
	fmt.Fprintf(&b, "used       %d transactions, %d bytes\n", a.UsedTxs, a.UsedBytes)
	fmt.Fprintf(&b, "free tier  %d transactions, %d bytes\n", a.FreeTxs, a.FreeBytes)
	fmt.Fprintf(&b, "granted    %d transactions, %d bytes\n", a.GrantedTxs, a.GrantedBytes)
	fmt.Fprintf(&b, "bought     %d transactions\n", a.BoughtTxs)
	fmt.Fprintf(&b, "remaining  %d transactions, %d bytes\n", a.RemainingTxs, a.RemainingBytes)
	_, err := io.WriteString(w, b.String())
	return err
}

// newQuotaBuyCmd returns `ipdb-node quota buy --txs N --key FILE`.
func newQuotaBuyCmd(a *app, f *govFlags) *cobra.Command {
	var keyFile, txs string
	c := &cobra.Command{
		Use:   "buy --txs N --key FILE",
		Short: "Buy N transactions of quota for this epoch: pay fee_per_tx units of the fee asset each to the treasury",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			n, err := strconv.ParseUint(txs, 10, 64)
			if err != nil || n == 0 || n > maxJSONInt {
				return fmt.Errorf("--txs: want a whole number from 1 to %d, got %q", uint64(maxJSONInt), txs)
			}
			key, err := readKeyFile(keyFile)
			if err != nil {
				return fmt.Errorf("--key: %w", err)
			}
			return a.runGov(c.Context(), f, func(ctx context.Context, s *govSession) error {
				return s.buyQuota(ctx, key, n)
			})
		},
	}
	c.Flags().StringVar(&keyFile, "key", "", "key file of the buyer, who holds the fee asset")
	c.Flags().StringVar(&txs, "txs", "", "transactions of quota to buy")
	c.MarkFlagRequired("key")
	c.MarkFlagRequired("txs")
	return c
}

// buyQuota pays for n transactions of quota from key's fee-asset outputs.
func (s *govSession) buyQuota(ctx context.Context, key ledger.KeyPair, n uint64) error {
	fee, err := s.networkFee(ctx)
	if err != nil {
		return err
	}
	perTx, err := s.feePerTx(ctx)
	if err != nil {
		return err
	}
	coins, err := s.feeCoins(ctx, key.PublicBase58(), fee.AssetID)
	if err != nil {
		return err
	}
	tx, err := ratelimit.NewPurchase(key, fee, perTx, n, coins)
	if err != nil {
		return err
	}
	if err := s.post(ctx, "purchase", tx); err != nil {
		return err
	}
	return s.showQuota(ctx, key.PublicBase58())
}

// networkFee reads the fee asset and treasury from the node's genesis.
func (s *govSession) networkFee(ctx context.Context) (ratelimit.Fee, error) {
	body, err := s.c.get(ctx, apiPrefix+"/genesis")
	if err != nil {
		return ratelimit.Fee{}, err
	}
	doc, err := genesis.Decode(body)
	if err != nil {
		return ratelimit.Fee{}, fmt.Errorf("genesis from the API: %w", err)
	}
	if doc.Fee == nil {
		return ratelimit.Fee{}, errors.New("this network sells no quota: its genesis names no fee asset")
	}
	return ratelimit.Fee{AssetID: doc.Fee.AssetID, Treasury: doc.Fee.Treasury}, nil
}

// feePerTx reads the fee_per_tx parameter in force.
func (s *govSession) feePerTx(ctx context.Context) (uint64, error) {
	var p paramsAnswer
	if _, err := s.getJSON(ctx, apiPrefix+"/params", &p); err != nil {
		return 0, err
	}
	for _, v := range p.Params {
		if v.Name == "fee_per_tx" {
			return v.Value, nil
		}
	}
	return 0, errors.New("the node's /api/v1/params lists no fee_per_tx")
}

// feeCoins returns pub's unspent outputs of the fee asset.
func (s *govSession) feeCoins(ctx context.Context, pub, assetID string) ([]ratelimit.Coin, error) {
	var outs []struct {
		TxID  string `json:"transaction_id"`
		Index uint64 `json:"output_index"`
	}
	if _, err := s.getJSON(ctx, apiPrefix+"/outputs?spent=false&public_key="+url.QueryEscape(pub), &outs); err != nil {
		return nil, err
	}
	var coins []ratelimit.Coin
	for _, o := range outs[:min(len(outs), maxFeeCoins)] {
		tx, err := fetchTx(ctx, s.c, o.TxID)
		if err != nil {
			return nil, err
		}
		if tx.AssetID() != assetID || o.Index >= uint64(len(tx.Outputs)) {
			continue
		}
		out := tx.Outputs[o.Index]
		if len(out.PublicKeys) == 1 && out.PublicKeys[0] == pub {
			coins = append(coins, ratelimit.Coin{Ref: ledger.OutputRef{TxID: o.TxID, Index: o.Index}, Amount: out.Amount})
		}
	}
	if len(coins) == 0 {
		return nil, fmt.Errorf("key %s holds no unspent output of the fee asset %s", pub, assetID)
	}
	return coins, nil
}
