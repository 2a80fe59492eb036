package ledger

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"pgregory.net/rapid"
)

type coin struct {
	spend  Spend
	amount uint64
	owner  int
}

// TestAmountConservation checks, against a naive oracle, that a TRANSFER is
// accepted exactly when its outputs add up to its inputs, and that the units
// of an asset left unspent always add up to what its CREATE issued.
func TestAmountConservation(t *testing.T) {
	owners := []KeyPair{testKey(t, 1), testKey(t, 2), testKey(t, 3)}
	rapid.Check(t, func(rt *rapid.T) {
		st := NewMemState()
		parts := rapid.SliceOfN(rapid.Uint64Range(1, 1_000_000), 1, 4).Draw(rt, "issued")
		outs := make([]OutputSpec, len(parts))
		var total uint64
		var unspent []coin
		for i, a := range parts {
			o := rapid.IntRange(0, len(owners)-1).Draw(rt, "owner")
			outs[i] = To(a, owners[o].Public)
			total += a
			unspent = append(unspent, coin{amount: a, owner: o})
		}
		create := signed(rt, must(BuildCreate([]ed25519.PublicKey{owners[0].Public}, map[string]any{"t": "asset"}, nil, outs...)), owners[0])
		apply(rt, st, create)
		for i := range unspent {
			unspent[i].spend = SpendOf(create, i)
		}
		for range rapid.IntRange(1, 6).Draw(rt, "steps") {
			unspent = transferStep(rt, st, owners, create.ID, unspent)
			var sum uint64
			for _, c := range unspent {
				sum += c.amount
			}
			if sum != total {
				rt.Fatalf("unspent units = %d, issued %d", sum, total)
			}
		}
	})
}

// transferStep spends a random set of coins into random outputs whose sum
// is off by delta, and checks the verdict against the oracle delta == 0.
func transferStep(rt *rapid.T, st *MemState, owners []KeyPair, assetID string, unspent []coin) []coin {
	n := rapid.IntRange(1, len(unspent)).Draw(rt, "inputs")
	var in uint64
	var spends []Spend
	var keys []ed25519.PrivateKey
	for _, c := range unspent[:n] {
		in += c.amount
		spends = append(spends, c.spend)
		keys = append(keys, owners[c.owner].Private)
	}
	delta := rapid.SampledFrom([]int64{0, 0, 0, 1, -1}).Draw(rt, "delta")
	out := uint64(int64(in) + delta)
	if out == 0 {
		out, delta = in, 0
	}
	amounts := split(rt, out)
	specs := make([]OutputSpec, len(amounts))
	owner := make([]int, len(amounts))
	for i, a := range amounts {
		owner[i] = rapid.IntRange(0, len(owners)-1).Draw(rt, "to")
		specs[i] = To(a, owners[owner[i]].Public)
	}
	u, err := BuildTransfer(spends, assetID, nil, specs...)
	if err != nil {
		rt.Fatal(err)
	}
	tx, err := u.Sign(keys...)
	if err != nil {
		rt.Fatal(err)
	}
	err = checkAll(st, tx.Canonical())
	if delta != 0 {
		if !errors.Is(err, ErrAmount) {
			rt.Fatalf("outputs off by %d: got %v, want AmountError", delta, err)
		}
		return unspent
	}
	if err != nil {
		rt.Fatalf("balanced transfer refused: %v", err)
	}
	apply(rt, st, tx)
	rest := append([]coin(nil), unspent[n:]...)
	for i, a := range amounts {
		rest = append(rest, coin{spend: SpendOf(tx, i), amount: a, owner: owner[i]})
	}
	return rest
}

// split draws a random partition of total into 1 to 3 positive amounts.
func split(rt *rapid.T, total uint64) []uint64 {
	k := rapid.IntRange(1, 3).Draw(rt, "outputs")
	var out []uint64
	for i := 1; i < k && total > 1; i++ {
		a := rapid.Uint64Range(1, total-1).Draw(rt, "part")
		out = append(out, a)
		total -= a
	}
	return append(out, total)
}
