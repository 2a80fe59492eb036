package ratelimit

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ipdb/ipdb-node/ledger"
)

// coins returns coins of the given amounts at made-up outputs.
func coins(amounts ...uint64) []Coin {
	out := make([]Coin, len(amounts))
	for i, a := range amounts {
		out[i] = Coin{Ref: ledger.OutputRef{TxID: feeAsset, Index: uint64(i)}, Amount: a}
	}
	return out
}

func TestNewPurchase(t *testing.T) {
	id := newIDs(t)
	treasury, payer := id.treasury.PublicBase58(), id.a.PublicBase58()
	tests := []struct {
		name     string
		coins    []Coin
		perTx    uint64
		txs      uint64
		inputs   int
		outputs  string // "amount:key" of each output
		boughtTx uint64
	}{
		{"one coin with change", coins(5), 2, 2, 1, fmt.Sprintf("[4:%s 1:%s]", treasury, payer), 2},
		{"exact, no change", coins(4), 2, 2, 1, fmt.Sprintf("[4:%s]", treasury), 2},
		{"as few coins as cover", coins(1, 1, 3, 9), 1, 4, 3, fmt.Sprintf("[4:%s 1:%s]", treasury, payer), 4},
		{"first coin covers", coins(7, 5), 3, 2, 1, fmt.Sprintf("[6:%s 1:%s]", treasury, payer), 2},
		{"the largest purchase", coins(ledger.MaxAmount), 1, ledger.MaxAmount, 1, fmt.Sprintf("[%d:%s]", ledger.MaxAmount, treasury), ledger.MaxAmount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := NewPurchase(id.a, id.fee(), tt.perTx, tt.txs, tt.coins)
			if err != nil {
				t.Fatalf("NewPurchase()=%v", err)
			}
			if _, err := ledger.CheckStateless(tx); err != nil {
				t.Fatalf("CheckStateless()=%v", err)
			}
			if tx.Operation != ledger.OpTransfer || tx.Asset.ID != feeAsset || len(tx.Inputs) != tt.inputs {
				t.Fatalf("NewPurchase()=%s of %s with %d inputs, want a TRANSFER of the fee asset with %d", tx.Operation, tx.Asset.ID, len(tx.Inputs), tt.inputs)
			}
			var outs []string
			for _, o := range tx.Outputs {
				outs = append(outs, fmt.Sprintf("%d:%s", o.Amount, strings.Join(o.PublicKeys, ",")))
			}
			if got := fmt.Sprint(outs); got != tt.outputs {
				t.Fatalf("outputs=%s, want %s", got, tt.outputs)
			}
			l := Limits{Params: testParams(), Fee: id.fee()}
			l.Params.FeePerTx = tt.perTx
			tr := NewTracker(1, l, nil)
			if err := tr.Charge(tx); err != nil {
				t.Fatalf("Charge(purchase)=%v", err)
			}
			if got, _ := tr.Account(payer); got.BoughtTxs != tt.boughtTx || got.UsedTxs != 0 {
				t.Fatalf("Account()=%+v, want %d bought, 0 used", got, tt.boughtTx)
			}
		})
	}
}

func TestNewPurchaseRefused(t *testing.T) {
	id := newIDs(t)
	const pre = "ratelimit: cannot build purchase: "
	many := make([]Coin, ledger.MaxInputs+1)
	for i := range many {
		many[i] = Coin{Ref: ledger.OutputRef{TxID: feeAsset, Index: uint64(i)}, Amount: 1}
	}
	tests := []struct {
		name   string
		payer  ledger.KeyPair
		fee    Fee
		perTx  uint64
		txs    uint64
		coins  []Coin
		reason string
	}{
		{"not enough coins", id.a, id.fee(), 2, 2, coins(1, 2), "not enough coins: have 3 units of the fee asset, need 4"},
		{"no coins", id.a, id.fee(), 2, 2, nil, "not enough coins: have 0 units of the fee asset, need 4"},
		{"zero txs", id.a, id.fee(), 2, 0, coins(5), "want at least 1 transaction, got 0"},
		{"huge txs", id.a, id.fee(), 2, ledger.MaxAmount/2 + 1, coins(5),
			"4500000000000000001 transactions at fee_per_tx 2 cost more than the largest amount, 9000000000000000000"},
		{"txs overflow", id.a, id.fee(), 3, 1 << 63, coins(5),
			"9223372036854775808 transactions at fee_per_tx 3 cost more than the largest amount, 9000000000000000000"},
		{"fee_per_tx 0", id.a, id.fee(), 0, 1, coins(5), "quota cannot be bought while fee_per_tx is 0"},
		{"no fee asset", id.a, Fee{Treasury: id.treasury.PublicBase58()}, 1, 1, coins(5), "the network sells no quota (no fee asset)"},
		{"bad asset id", id.a, Fee{AssetID: strings.ToUpper(feeAsset), Treasury: id.treasury.PublicBase58()}, 1, 1, coins(5),
			`fee asset id "` + strings.ToUpper(feeAsset) + `" is not 64 lower-case hex digits`},
		{"bad treasury", id.a, Fee{AssetID: feeAsset, Treasury: "treasury"}, 1, 1, coins(5),
			`treasury "treasury" is not a base58 Ed25519 public key`},
		{"treasury buys", id.treasury, id.fee(), 1, 1, coins(5), "the treasury cannot buy quota from itself"},
		{"zero coin", id.a, id.fee(), 1, 1, coins(0, 5), "coin 0 (" + feeAsset + "/0) has amount 0, want 1 to 9000000000000000000"},
		{"coin above max", id.a, id.fee(), 1, 1, coins(ledger.MaxAmount + 1), "coin 0 (" + feeAsset + "/0) has amount 9000000000000000001, want 1 to 9000000000000000000"},
		{"coin twice", id.a, id.fee(), 1, 1, append(coins(5), coins(5)...), "coin 1 (" + feeAsset + "/0) is given twice"},
		{"too many coins", id.a, id.fee(), 1, ledger.MaxInputs + 1, many, "257 units need more than 256 coins; merge coins first"},
		{"bad coin ref", id.a, id.fee(), 1, 1, []Coin{{Ref: ledger.OutputRef{TxID: "nope"}, Amount: 1}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := NewPurchase(tt.payer, tt.fee, tt.perTx, tt.txs, tt.coins)
			if tx != nil || !errors.Is(err, ErrPurchase) || !strings.HasPrefix(errText(err), pre+tt.reason) {
				t.Fatalf("NewPurchase()=%v, %v; want %q", tx, err, pre+tt.reason)
			}
			if tt.reason != "" && err.Error() != pre+tt.reason {
				t.Fatalf("NewPurchase()=%q, want %q", err, pre+tt.reason)
			}
		})
	}
}

func TestFeeValidate(t *testing.T) {
	id := newIDs(t)
	for _, f := range []Fee{{}, {Treasury: "ignored without an asset"}, id.fee()} {
		if err := f.Validate(); err != nil {
			t.Fatalf("Validate(%+v)=%v, want nil", f, err)
		}
	}
	if err := (Fee{AssetID: feeAsset[1:], Treasury: id.treasury.PublicBase58()}).Validate(); !errors.Is(err, ErrPurchase) {
		t.Fatalf("Validate(63 digits)=%v, want ErrPurchase", err)
	}
}
