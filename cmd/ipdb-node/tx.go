package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ipdb/ipdb-node/ledger"
)

// Modes of POST /api/v1/transactions the CLI accepts.
const (
	modeAsync  = "async"
	modeSync   = "sync"
	modeCommit = "commit"
)

// txIDLen is the length of a transaction id: 64 lowercase hex digits.
const txIDLen = 64

// txFlags are the flags every posting `tx` subcommand shares.
type txFlags struct {
	key, metadata, api, mode string
	to                       []string
	asJSON                   bool
}

// add registers the shared flags on c.
func (f *txFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.key, "key", "", `key file of the signer ({"public_key","private_key"}, as keys generate writes)`)
	c.Flags().StringVar(&f.metadata, "metadata", "", "transaction metadata: a JSON object")
	c.Flags().StringVar(&f.api, "api", "", "API URL, such as "+defaultAPI+" (default: from the home's config)")
	c.Flags().StringVar(&f.mode, "mode", modeCommit, "POST mode: async, sync or commit (wait for the block)")
	c.Flags().BoolVar(&f.asJSON, "json", false, "print the transaction JSON instead of its id")
	c.MarkFlagRequired("key")
}

// newTxCmd returns `ipdb-node tx` and its subcommands.
func newTxCmd(a *app) *cobra.Command {
	return newGroupCmd("tx", "Make, sign and post transactions; show committed ones",
		newTxCreateCmd(a), newTxTransferCmd(a), newTxShowCmd(a))
}

// newTxCreateCmd returns `ipdb-node tx create`.
func newTxCreateCmd(a *app) *cobra.Command {
	var f txFlags
	var data string
	var amount uint64
	c := &cobra.Command{
		Use:   "create --key FILE --data JSON",
		Short: "Sign a CREATE of a new asset and post it",
		Long: "create issues a new asset signed by --key: --data is the asset's data (a JSON\n" +
			"object). Each --to PUBKEY[:AMOUNT] is one output (AMOUNT defaults to --amount);\n" +
			"without --to, one output of --amount goes to the signer.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tx, err := buildCreate(f, data, amount)
			if err != nil {
				return err
			}
			return a.postTx(cmd.Context(), f, tx)
		},
	}
	f.add(c)
	c.Flags().StringVar(&data, "data", "", "asset data: a JSON object, such as '{\"serial\":\"A-1\"}'")
	c.Flags().Uint64Var(&amount, "amount", 1, "amount of each output without its own")
	c.Flags().StringArrayVar(&f.to, "to", nil, "an output: PUBKEY[:AMOUNT] (repeat for more)")
	c.MarkFlagRequired("data")
	return c
}

// buildCreate makes the signed CREATE the flags describe.
func buildCreate(f txFlags, data string, amount uint64) (*ledger.Tx, error) {
	k, err := readKeyFile(f.key)
	if err != nil {
		return nil, err
	}
	assetData, err := parseJSONObject("--data", data)
	if err != nil {
		return nil, err
	}
	meta, err := parseJSONObject("--metadata", f.metadata)
	if err != nil {
		return nil, err
	}
	to := f.to
	if len(to) == 0 {
		to = []string{k.PublicBase58()}
	}
	outs, err := parseOutputs(to, amount)
	if err != nil {
		return nil, err
	}
	u, err := ledger.BuildCreate([]ed25519.PublicKey{k.Public}, assetData, meta, outs...)
	if err != nil {
		return nil, err
	}
	return u.Sign(k.Private)
}

// newTxTransferCmd returns `ipdb-node tx transfer`.
func newTxTransferCmd(a *app) *cobra.Command {
	var f txFlags
	var inputs []string
	c := &cobra.Command{
		Use:   "transfer --key FILE --input TXID:INDEX... --to PUBKEY[:AMOUNT]...",
		Short: "Sign a TRANSFER of committed outputs and post it",
		Long: "transfer spends the outputs named by --input (fetched from the API for their\n" +
			"conditions and asset id), signed by --key, to the outputs named by --to. A single\n" +
			"--to may leave out its AMOUNT: it then receives the sum of the inputs.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			base, err := a.apiURL(f.api)
			if err != nil {
				return err
			}
			tx, err := buildTransfer(cmd.Context(), newAPIClient(base), f, inputs)
			if err != nil {
				return err
			}
			return a.postTx(cmd.Context(), f, tx)
		},
	}
	f.add(c)
	c.Flags().StringArrayVar(&inputs, "input", nil, "an output to spend: TXID:INDEX (repeat for more)")
	c.Flags().StringArrayVar(&f.to, "to", nil, "an output: PUBKEY[:AMOUNT] (repeat for more)")
	c.MarkFlagRequired("input")
	c.MarkFlagRequired("to")
	return c
}

// buildTransfer makes the signed TRANSFER the flags describe, reading the
// spent transactions through c.
func buildTransfer(ctx context.Context, c *apiClient, f txFlags, inputs []string) (*ledger.Tx, error) {
	k, err := readKeyFile(f.key)
	if err != nil {
		return nil, err
	}
	meta, err := parseJSONObject("--metadata", f.metadata)
	if err != nil {
		return nil, err
	}
	spends, assetID, total, err := fetchSpends(ctx, c, inputs)
	if err != nil {
		return nil, err
	}
	to := f.to
	if len(to) == 1 && !strings.Contains(to[0], ":") {
		to = []string{to[0] + ":" + strconv.FormatUint(total, 10)}
	}
	outs, err := parseOutputs(to, 0)
	if err != nil {
		return nil, err
	}
	u, err := ledger.BuildTransfer(spends, assetID, meta, outs...)
	if err != nil {
		return nil, err
	}
	return u.Sign(k.Private)
}

// fetchSpends reads the transactions of inputs from the API and returns the
// spends, their common asset id and the sum of their amounts.
func fetchSpends(ctx context.Context, c *apiClient, inputs []string) ([]ledger.Spend, string, uint64, error) {
	fetched := make(map[string]*ledger.Tx)
	var spends []ledger.Spend
	var assetID string
	var total uint64
	for _, in := range inputs {
		ref, err := parseInputRef(in)
		if err != nil {
			return nil, "", 0, err
		}
		tx := fetched[ref.TxID]
		if tx == nil {
			if tx, err = fetchTx(ctx, c, ref.TxID); err != nil {
				return nil, "", 0, err
			}
			fetched[ref.TxID] = tx
		}
		if ref.Index >= uint64(len(tx.Outputs)) {
			return nil, "", 0, fmt.Errorf("--input %s: transaction %s has %d outputs", in, ref.TxID, len(tx.Outputs))
		}
		if assetID != "" && tx.AssetID() != assetID {
			return nil, "", 0, fmt.Errorf("--input %s: asset %s, but the first input's is %s; a TRANSFER moves one asset", in, tx.AssetID(), assetID)
		}
		assetID = tx.AssetID()
		// total <= MaxAmount before, so adding one more MaxAmount cannot wrap.
		total += tx.Outputs[ref.Index].Amount
		if total > ledger.MaxAmount {
			return nil, "", 0, fmt.Errorf("--input: the inputs hold more than %d in all, more than one output can", ledger.MaxAmount)
		}
		spends = append(spends, ledger.SpendOf(tx, int(ref.Index)))
	}
	return spends, assetID, total, nil
}

// fetchTx reads a committed transaction from the API and decodes it
// strictly (its id is checked against its content).
func fetchTx(ctx context.Context, c *apiClient, id string) (*ledger.Tx, error) {
	body, err := c.get(ctx, apiPrefix+"/transactions/"+id)
	if err != nil {
		return nil, err
	}
	tx, err := ledger.DecodeTx(body)
	if err != nil {
		return nil, fmt.Errorf("transaction %s from the API: %w", id, err)
	}
	if tx.ID != id {
		return nil, fmt.Errorf("asked the API for transaction %s, got %s", id, tx.ID)
	}
	return tx, nil
}

// postTx posts tx to the API in f.mode and prints its id (or, with --json,
// the JSON the API echoed).
func (a *app) postTx(ctx context.Context, f txFlags, tx *ledger.Tx) error {
	switch f.mode {
	case modeAsync, modeSync, modeCommit:
	default:
		return fmt.Errorf("--mode: want async, sync or commit, got %q", f.mode)
	}
	base, err := a.apiURL(f.api)
	if err != nil {
		return err
	}
	body, err := newAPIClient(base).postTx(ctx, tx.Canonical(), f.mode)
	if err != nil {
		return fmt.Errorf("post transaction %s: %w", tx.ID, err)
	}
	if f.asJSON {
		return writeIndented(a.stdout, body)
	}
	_, err = fmt.Fprintln(a.stdout, tx.ID)
	return err
}

// newTxShowCmd returns `ipdb-node tx show`.
func newTxShowCmd(a *app) *cobra.Command {
	var api string
	c := &cobra.Command{
		Use:   "show ID",
		Short: "Print a committed transaction",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !isTxID(args[0]) {
				return fmt.Errorf("%q is not a transaction id (64 lowercase hex digits)", args[0])
			}
			base, err := a.apiURL(api)
			if err != nil {
				return err
			}
			body, err := newAPIClient(base).get(cmd.Context(), apiPrefix+"/transactions/"+args[0])
			if err != nil {
				return err
			}
			return writeIndented(a.stdout, body)
		},
	}
	c.Flags().StringVar(&api, "api", "", "API URL, such as "+defaultAPI+" (default: from the home's config)")
	return c
}

// isTxID reports whether s is 64 lowercase hex digits.
func isTxID(s string) bool {
	if len(s) != txIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// parseInputRef parses TXID:INDEX.
func parseInputRef(s string) (ledger.OutputRef, error) {
	id, index, ok := strings.Cut(s, ":")
	if !ok || !isTxID(id) {
		return ledger.OutputRef{}, fmt.Errorf("--input %q: want TXID:INDEX with a 64-hex-digit TXID", s)
	}
	i, err := strconv.ParseUint(index, 10, 64)
	if err != nil || i >= ledger.MaxOutputs {
		return ledger.OutputRef{}, fmt.Errorf("--input %q: INDEX must be a number from 0 to %d", s, ledger.MaxOutputs-1)
	}
	return ledger.OutputRef{TxID: id, Index: i}, nil
}

// parseOutputs parses PUBKEY[:AMOUNT] outputs; an output without AMOUNT
// gets def, which 0 forbids.
func parseOutputs(specs []string, def uint64) ([]ledger.OutputSpec, error) {
	if len(specs) > ledger.MaxOutputs {
		return nil, fmt.Errorf("--to: %d outputs, over the limit of %d", len(specs), ledger.MaxOutputs)
	}
	outs := make([]ledger.OutputSpec, len(specs))
	for i, s := range specs {
		pub, amount, err := parseOutput(s, def)
		if err != nil {
			return nil, err
		}
		outs[i] = ledger.To(amount, pub)
	}
	return outs, nil
}

// parseOutput parses PUBKEY[:AMOUNT] (base58 has no ':').
func parseOutput(s string, def uint64) (ed25519.PublicKey, uint64, error) {
	key, amountText, hasAmount := strings.Cut(s, ":")
	pub, err := ledger.DecodePublicKey(key)
	if err != nil {
		return nil, 0, fmt.Errorf("--to %q: %w", s, err)
	}
	amount := def
	if hasAmount {
		if amount, err = strconv.ParseUint(amountText, 10, 64); err != nil {
			amount = 0
		}
	}
	if amount == 0 || amount > ledger.MaxAmount {
		if !hasAmount {
			return nil, 0, fmt.Errorf("--to %q: give an amount, PUBKEY:AMOUNT", s)
		}
		return nil, 0, fmt.Errorf("--to %q: AMOUNT must be a number from 1 to %d", s, ledger.MaxAmount)
	}
	return pub, amount, nil
}

// parseJSONObject reads a flag's JSON object strictly (ledger.DecodeJSON's
// rules); "" gives nil. The result is what ledger's builders take.
func parseJSONObject(flag, s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	v, err := ledger.DecodeJSON([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("%s: want a JSON object such as '{\"key\":\"value\"}'", flag)
	}
	return v, nil
}
