package ratelimit

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
)

// step is one Charge and the error text it must give ("" for none).
type step struct {
	tx   *ledger.Tx
	want string
}

// quotaMsg is the text of a QuotaExceeded error.
func quotaMsg(key string, used, of uint64, unit string, epoch, renews uint64) string {
	return fmt.Sprintf("Invalid transaction (QuotaExceeded): %s has used %d of %d %s in epoch %d, renews at height %d",
		key, used, of, unit, epoch, renews)
}

func TestCharge(t *testing.T) {
	id := newIDs(t)
	a, b := id.a.PublicBase58(), id.b.PublicBase58()
	big1, big2 := sized(t, id.a, 1, 900), sized(t, id.a, 2, 900)
	lo, hi := id.a, id.b // by key order: a refused joint tx must not charge lo
	if lo.PublicBase58() > hi.PublicBase58() {
		lo, hi = hi, lo
	}
	tests := []struct {
		name   string
		limits func(*Limits)
		steps  []step
		// wantA is a's Account afterwards, checked when set.
		wantA *Account
	}{
		{name: "free tier", steps: []step{
			{create(t, id.a, 1), ""}, {create(t, id.a, 2), ""},
			{create(t, id.a, 3), quotaMsg(a, 2, 2, "transactions", 0, 11)},
		}},
		{name: "free bytes", limits: func(l *Limits) { l.Params.FreeTierBytesPerEpoch = size(big1) + 10 }, steps: []step{
			{big1, ""}, {big2, quotaMsg(a, size(big1), size(big1)+10, "bytes", 0, 11)},
		}},
		{name: "grant adds to free tier", limits: grant(a, 1, 0), steps: []step{
			{create(t, id.a, 1), ""}, {create(t, id.a, 2), ""}, {create(t, id.a, 3), ""},
			{create(t, id.a, 4), quotaMsg(a, 3, 3, "transactions", 0, 11)},
		}},
		{name: "grant to another key", limits: grant(b, 5, 0), steps: []step{
			{create(t, id.a, 1), ""}, {create(t, id.a, 2), ""},
			{create(t, id.a, 3), quotaMsg(a, 2, 2, "transactions", 0, 11)},
		}},
		{name: "purchase buys floor(amount/fee)", steps: []step{
			{id.pay(t, id.a, 1, 7), ""}, // 2 txs, never charged
			{create(t, id.a, 1), ""}, {create(t, id.a, 2), ""}, {create(t, id.a, 3), ""}, {create(t, id.a, 4), ""},
			{create(t, id.a, 5), quotaMsg(a, 4, 4, "transactions", 0, 11)},
		}, wantA: &Account{UsedTxs: 4, UsedBytes: sizes(t, id.a, 1, 2, 3, 4), BoughtTxs: 2, FreeTxs: 2, FreeBytes: 100_000}},
		{name: "bought txs bring max_tx_bytes", limits: func(l *Limits) { l.Params.FreeTierBytesPerEpoch = 0 }, steps: []step{
			{create(t, id.a, 1), quotaMsg(a, 0, 0, "bytes", 0, 11)},
			{id.pay(t, id.a, 1, 3), ""},
			{create(t, id.a, 1), ""},
		}},
		{name: "wrong asset is a charged transfer", steps: []step{
			{transfer(t, otherAsset, 1, []ledger.KeyPair{id.a}, ledger.To(9, id.treasury.Public)), ""},
			{create(t, id.a, 1), ""},
			{create(t, id.a, 2), quotaMsg(a, 2, 2, "transactions", 0, 11)},
		}},
		{name: "wrong key is a charged transfer", steps: []step{
			{transfer(t, feeAsset, 1, []ledger.KeyPair{id.a}, ledger.To(9, id.b.Public)), ""},
			{create(t, id.a, 1), ""},
			{create(t, id.a, 2), quotaMsg(a, 2, 2, "transactions", 0, 11)},
		}},
		{name: "treasury among co-owners is no payment", steps: []step{
			{transfer(t, feeAsset, 1, []ledger.KeyPair{id.a}, ledger.To(9, id.treasury.Public, id.b.Public)), ""},
			{create(t, id.a, 1), ""},
			{create(t, id.a, 2), quotaMsg(a, 2, 2, "transactions", 0, 11)},
		}},
		{name: "no fee asset, no purchases", limits: func(l *Limits) { l.Fee.AssetID = "" }, steps: []step{
			{id.pay(t, id.a, 1, 9), ""}, {create(t, id.a, 1), ""},
			{create(t, id.a, 2), quotaMsg(a, 2, 2, "transactions", 0, 11)},
		}},
		{name: "treasury paying itself is charged", steps: []step{
			{id.pay(t, id.treasury, 1, 9), ""}, {create(t, id.treasury, 1), ""},
			{create(t, id.treasury, 2), quotaMsg(id.treasury.PublicBase58(), 2, 2, "transactions", 0, 11)},
		}},
		{name: "fee_per_tx 0", limits: func(l *Limits) { l.Params.FeePerTx = 0 }, steps: []step{
			{id.pay(t, id.a, 1, 9), "Invalid transaction (ValidationError): quota cannot be bought while fee_per_tx is 0"},
		}},
		{name: "payment signed by several keys", steps: []step{
			{transfer(t, feeAsset, 1, []ledger.KeyPair{id.a, id.b}, ledger.To(9, id.treasury.Public)),
				"Invalid transaction (ValidationError): a fee payment must be signed by exactly one key, got 2: " + sorted2(a, b)},
		}},
		{name: "payment below fee_per_tx", steps: []step{
			{id.pay(t, id.a, 1, 2), "Invalid transaction (ValidationError): a fee payment must buy at least one transaction: 2 units to the treasury at fee_per_tx 3"},
		}},
		{name: "huge payment saturates", limits: func(l *Limits) { l.Params.FeePerTx = 1 }, steps: []step{
			{id.pay(t, id.a, 1, ledger.MaxAmount), ""}, {id.pay(t, id.a, 2, ledger.MaxAmount), ""},
			{id.pay(t, id.a, 3, ledger.MaxAmount), ""}, {create(t, id.a, 1), ""},
		}, wantA: &Account{UsedTxs: 1, UsedBytes: sizes(t, id.a, 1), BoughtTxs: ^uint64(0), FreeTxs: 2, FreeBytes: 100_000,
			RemainingTxs: ^uint64(0) - 1, RemainingBytes: ^uint64(0) - size(create(t, id.a, 1))}},
		{name: "joint tx charges every key", steps: []step{
			{joint(t, 1, id.a, id.b), ""}, {create(t, id.b, 1), ""},
			{create(t, id.a, 1), ""}, {create(t, id.a, 2), quotaMsg(a, 2, 2, "transactions", 0, 11)},
		}},
		{name: "joint tx is all or nothing", steps: []step{
			{create(t, hi, 1), ""}, {create(t, hi, 2), ""},
			{joint(t, 1, id.a, id.b), quotaMsg(hi.PublicBase58(), 2, 2, "transactions", 0, 11)},
			{create(t, lo, 1), ""}, {create(t, lo, 2), ""},
		}},
		{name: "joint tx names the first key in order", steps: []step{
			{create(t, id.a, 1), ""}, {create(t, id.a, 2), ""}, {create(t, id.b, 1), ""}, {create(t, id.b, 2), ""},
			{joint(t, 1, id.a, id.b), quotaMsg(min(a, b), 2, 2, "transactions", 0, 11)},
		}},
		{name: "votes and elections are free", limits: func(l *Limits) { l.Params.FreeTierTxsPerEpoch = 0 }, steps: []step{
			{vote(t, id.a, id.c), ""}, {election(t, id.a), ""},
			{create(t, id.a, 1), quotaMsg(a, 0, 0, "transactions", 0, 11)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := Limits{Params: testParams(), Fee: id.fee()}
			if tt.limits != nil {
				tt.limits(&l)
			}
			tr := NewTracker(5, l, memCommitted{})
			for i, s := range tt.steps {
				if got := errText(tr.Charge(s.tx)); got != s.want {
					t.Fatalf("step %d: Charge()=%q, want %q", i, got, s.want)
				}
			}
			if tt.wantA != nil {
				checkAccount(t, tr, a, *tt.wantA)
			}
		})
	}
}

// grant returns a Limits change granting pub txs and bytes.
func grant(pub string, txs, bytes uint64) func(*Limits) {
	return func(l *Limits) {
		l.Grant = func(p string) (uint64, uint64) {
			if p == pub {
				return txs, bytes
			}
			return 0, 0
		}
	}
}

// sizes returns the total size of create(key, n) for each n.
func sizes(t *testing.T, key ledger.KeyPair, ns ...int) uint64 {
	t.Helper()
	var sum uint64
	for _, n := range ns {
		sum += size(create(t, key, n))
	}
	return sum
}

func sorted2(x, y string) string { return min(x, y) + ", " + max(x, y) }

// checkAccount compares the usage fields of pub's Account with want; the
// derived fields (remaining) only when want sets them.
func checkAccount(t *testing.T, tr *Tracker, pub string, want Account) {
	t.Helper()
	got, err := tr.Account(pub)
	if err != nil {
		t.Fatalf("Account()=%v", err)
	}
	want.PublicKey, want.Epoch, want.EpochEndsHeight = pub, got.Epoch, got.EpochEndsHeight
	if want.RemainingTxs == 0 && want.RemainingBytes == 0 {
		want.RemainingTxs, want.RemainingBytes = got.RemainingTxs, got.RemainingBytes
	}
	if got != want {
		t.Fatalf("Account()=%+v, want %+v", got, want)
	}
}

func TestChargeErrorKinds(t *testing.T) {
	id := newIDs(t)
	l := Limits{Params: testParams(), Fee: id.fee()}
	l.Params.FreeTierTxsPerEpoch = 0
	tr := NewTracker(1, l, nil)
	err := tr.Charge(create(t, id.a, 1))
	var ve *ledger.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrQuotaExceeded) || !errors.Is(err, ledger.ErrValidation) || ve.Name() != "QuotaExceeded" {
		t.Fatalf("Charge()=%#v, want a *ledger.ValidationError of ErrQuotaExceeded named QuotaExceeded", err)
	}
	err = tr.Charge(id.pay(t, id.a, 1, 1))
	if !errors.As(err, &ve) || !errors.Is(err, ErrFeePayment) || errors.Is(err, ErrQuotaExceeded) || ve.Name() != "ValidationError" {
		t.Fatalf("Charge()=%#v, want a *ledger.ValidationError of ErrFeePayment", err)
	}
}

func TestChargeStoreError(t *testing.T) {
	id := newIDs(t)
	tr := NewTracker(1, Limits{Params: testParams(), Fee: id.fee()}, failingCommitted{})
	for _, tx := range []*ledger.Tx{create(t, id.a, 1), id.pay(t, id.a, 1, 3)} {
		err := tr.Charge(tx)
		if !errors.Is(err, errDisk) || errors.Is(err, ErrQuotaExceeded) {
			t.Fatalf("Charge()=%v, want the store error", err)
		}
	}
	if got := tr.Changes(); len(got) != 0 {
		t.Fatalf("Changes()=%v, want none after errors", got)
	}
	if _, err := tr.Account(id.a.PublicBase58()); !errors.Is(err, errDisk) {
		t.Fatalf("Account()=%v, want the store error", err)
	}
}

func TestChangesAndEpochs(t *testing.T) {
	id := newIDs(t)
	a, b := id.a.PublicBase58(), id.b.PublicBase58()
	l := Limits{Params: testParams(), Fee: id.fee()}
	store := memCommitted{}
	tr := NewTracker(10, l, store) // last height of epoch 0
	txs := []*ledger.Tx{create(t, id.b, 1), create(t, id.a, 1), id.pay(t, id.a, 1, 3), create(t, id.a, 2)}
	for _, tx := range txs {
		if err := tr.Charge(tx); err != nil {
			t.Fatalf("Charge()=%v", err)
		}
	}
	if _, err := tr.Account(id.c.PublicBase58()); err != nil { // a read is no change
		t.Fatalf("Account()=%v", err)
	}
	want := []Change{
		{PublicKey: a, Epoch: 0, Usage: Usage{UsedTxs: 2, UsedBytes: size(txs[1]) + size(txs[3]), BoughtTxs: 1}},
		{PublicKey: b, Epoch: 0, Usage: Usage{UsedTxs: 1, UsedBytes: size(txs[0])}},
	}
	if want[0].PublicKey > want[1].PublicKey {
		want[0], want[1] = want[1], want[0]
	}
	got := tr.Changes()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Changes()=%v, want %v", got, want)
	}
	store.apply(got)
	next := NewTracker(10, l, store)
	checkAccount(t, next, a, Account{UsedTxs: 2, UsedBytes: want[pos(want, a)].Usage.UsedBytes, BoughtTxs: 1, FreeTxs: 2, FreeBytes: 100_000})
	renewed := NewTracker(11, l, store)
	checkAccount(t, renewed, a, Account{FreeTxs: 2, FreeBytes: 100_000, RemainingTxs: 2, RemainingBytes: 100_000})
}

func pos(cs []Change, pub string) int {
	for i, c := range cs {
		if c.PublicKey == pub {
			return i
		}
	}
	return -1
}

func TestAccount(t *testing.T) {
	id := newIDs(t)
	a := id.a.PublicBase58()
	l := Limits{Params: testParams(), Fee: id.fee()}
	grant(a, 4, 500)(&l)
	store := memCommitted{string(RowKey(a, 1)): {UsedTxs: 7, UsedBytes: 1000, BoughtTxs: 2}}
	tr := NewTracker(15, l, store)
	got, err := tr.Account(a)
	want := Account{PublicKey: a, Epoch: 1, EpochEndsHeight: 20, UsedTxs: 7, UsedBytes: 1000, FreeTxs: 2, FreeBytes: 100_000,
		GrantedTxs: 4, GrantedBytes: 500, BoughtTxs: 2, RemainingTxs: 1, RemainingBytes: 100_000 + 500 + 2*2000 - 1000}
	if err != nil || got != want {
		t.Fatalf("Account()=%+v, %v, want %+v", got, err, want)
	}
	l.Grant = nil // revoked: used stays used, remaining never negative
	got, _ = NewTracker(15, l, store).Account(a)
	if got.RemainingTxs != 0 || got.GrantedTxs != 0 {
		t.Fatalf("Account() after revoke=%+v, want 0 remaining and granted txs", got)
	}
}

func TestAccountBadKey(t *testing.T) {
	tr := NewTracker(1, Limits{Params: genesis.DefaultParams()}, nil)
	tests := []struct{ pub, want string }{
		{"", `ratelimit: invalid public key: "" is not a base58 Ed25519 public key`},
		{"0OIl", `ratelimit: invalid public key: "0OIl" is not a base58 Ed25519 public key`},
		{"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", `ratelimit: invalid public key: "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz" is not a base58 Ed25519 public key`},
		{"2222222222222222222222222222222222222222222222222", "ratelimit: invalid public key: 49 characters, want at most 44"},
		{"abc", `ratelimit: invalid public key: "abc" is not a base58 Ed25519 public key`},
	}
	for _, tt := range tests {
		t.Run(tt.pub, func(t *testing.T) {
			_, err := tr.Account(tt.pub)
			if !errors.Is(err, ErrInvalidKey) || err.Error() != tt.want {
				t.Fatalf("Account(%q)=%v, want %q", tt.pub, err, tt.want)
			}
		})
	}
}

func TestEpoch(t *testing.T) {
	tests := []struct{ h, blocks, epoch, ends uint64 }{
		{0, 10, 0, 10}, {1, 10, 0, 10}, {10, 10, 0, 10}, {11, 10, 1, 20}, {20, 10, 1, 20}, {21, 10, 2, 30},
		{1, 1, 0, 1}, {2, 1, 1, 2}, {5, 0, 4, 5},
		{^uint64(0), 1 << 53, (^uint64(0) - 1) >> 53, ^uint64(0)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("h=%d,blocks=%d", tt.h, tt.blocks), func(t *testing.T) {
			e, ends := Epoch(tt.h, tt.blocks)
			if e != tt.epoch || ends != tt.ends {
				t.Fatalf("Epoch()=%d, %d, want %d, %d", e, ends, tt.epoch, tt.ends)
			}
		})
	}
}

func TestAccountJSON(t *testing.T) {
	a := Account{PublicKey: "k", Epoch: 1, EpochEndsHeight: 2, UsedTxs: 3, UsedBytes: 4, FreeTxs: 5, FreeBytes: 6,
		GrantedTxs: 7, GrantedBytes: 8, BoughtTxs: 9, RemainingTxs: 10, RemainingBytes: 11}
	want := `{"public_key":"k","epoch":1,"epoch_ends_height":2,"used_txs":3,"used_bytes":4,"free_txs":5,"free_bytes":6,` +
		`"granted_txs":7,"granted_bytes":8,"bought_txs":9,"remaining_txs":10,"remaining_bytes":11}`
	if got, err := json.Marshal(a); err != nil || string(got) != want {
		t.Fatalf("json.Marshal(Account)=%s, %v, want %s", got, err, want)
	}
}
