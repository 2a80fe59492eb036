package ratelimit

import (
	"maps"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
)

// pool returns the transactions the property tests draw from: CREATEs of
// several sizes, payments of several amounts, joint CREATEs, transfers
// that look like payments but are not, a multi-signer payment, the
// treasury's own, a VOTE and an election.
func pool(t *testing.T, id ids) []*ledger.Tx {
	t.Helper()
	var txs []*ledger.Tx
	for _, k := range []ledger.KeyPair{id.a, id.b, id.c} {
		for n, pad := range []int{0, 300, 800, 1500, 50, 0} {
			txs = append(txs, sized(t, k, n, pad))
		}
		for n, amount := range []uint64{1, 2, 3, 5, 8} {
			txs = append(txs, id.pay(t, k, n, amount))
		}
	}
	return append(txs,
		transfer(t, otherAsset, 0, []ledger.KeyPair{id.a}, ledger.To(9, id.treasury.Public)),
		transfer(t, feeAsset, 0, []ledger.KeyPair{id.b}, ledger.To(9, id.c.Public)),
		transfer(t, feeAsset, 0, []ledger.KeyPair{id.c}, ledger.To(9, id.treasury.Public, id.a.Public)),
		transfer(t, feeAsset, 0, []ledger.KeyPair{id.a, id.b}, ledger.To(9, id.treasury.Public)),
		joint(t, 0, id.a, id.b), joint(t, 0, id.b, id.c), joint(t, 0, id.a, id.b, id.c),
		id.pay(t, id.treasury, 0, 6), create(t, id.treasury, 0),
		vote(t, id.a, id.c), election(t, id.b))
}

// drawParams draws small parameters that make every limit bite.
func drawParams(t *rapid.T) genesis.Params {
	p := genesis.DefaultParams()
	p.EpochBlocks = rapid.Uint64Range(1, 4).Draw(t, "epoch_blocks")
	p.FreeTierTxsPerEpoch = rapid.Uint64Range(0, 3).Draw(t, "free_txs")
	p.FreeTierBytesPerEpoch = rapid.Uint64Range(0, 5000).Draw(t, "free_bytes")
	p.FeePerTx = rapid.Uint64Range(0, 4).Draw(t, "fee_per_tx")
	p.MaxTxBytes = rapid.Uint64Range(0, 2000).Draw(t, "max_tx_bytes")
	return p
}

// drawGrants draws the quota granted to each key at one height; a key
// whose grant changes between blocks models grants and revokes.
func drawGrants(t *rapid.T, keys []string) grants {
	g := grants{}
	for _, k := range keys {
		if rapid.IntRange(0, 2).Draw(t, "granted") == 0 {
			g[k] = [2]uint64{rapid.Uint64Range(0, 2).Draw(t, "grant_txs"), rapid.Uint64Range(0, 2000).Draw(t, "grant_bytes")}
		}
	}
	return g
}

func (g grants) fn() func(string) (uint64, uint64) {
	return func(pub string) (uint64, uint64) { return g[pub][0], g[pub][1] }
}

// TestTrackerMatchesOracle runs random histories of blocks through
// Trackers over a committed store and through the naive oracle: every
// verdict, every block's changed keys and every key's Account (pending
// and once committed) must match.
func TestTrackerMatchesOracle(t *testing.T) {
	id := newIDs(t)
	txs := pool(t, id)
	keys := []string{id.a.PublicBase58(), id.b.PublicBase58(), id.c.PublicBase58(), id.treasury.PublicBase58()}
	rapid.Check(t, func(t *rapid.T) {
		fee := id.fee()
		if rapid.IntRange(0, 4).Draw(t, "no_fee_asset") == 0 {
			fee.AssetID = ""
		}
		o := &oracle{p: drawParams(t), fee: fee}
		store := memCommitted{}
		h := rapid.Uint64Range(0, 3).Draw(t, "first_height")
		for range rapid.IntRange(1, 15).Draw(t, "blocks") {
			h += rapid.Uint64Range(1, 3).Draw(t, "step")
			g := drawGrants(t, keys)
			block := rapid.SliceOfN(rapid.SampledFrom(txs), 0, 8).Draw(t, "txs")
			runBlock(t, o, store, h, g, block, keys)
		}
	})
}

// runBlock charges block at h with a Tracker and the oracle, compares
// them, and commits the block's changes to store.
func runBlock(t *rapid.T, o *oracle, store memCommitted, h uint64, g grants, block []*ledger.Tx, keys []string) {
	l := Limits{Params: o.p, Grant: g.fn(), Fee: o.fee}
	tr := NewTracker(h, l, store)
	for i, tx := range block {
		want := o.verdict(h, g, tx)
		if got := errText(tr.Charge(tx)); got != want {
			t.Fatalf("height %d tx %d (%s): Charge()=%q, want %q", h, i, tx.Operation, got, want)
		}
	}
	changes := tr.Changes()
	var changed []string
	for _, c := range changes {
		changed = append(changed, c.PublicKey)
	}
	if want := o.touched(h); !slices.Equal(changed, want) {
		t.Fatalf("height %d: Changes() keys=%v, want %v", h, changed, want)
	}
	store.apply(changes)
	committed := NewTracker(h, l, store)
	for _, k := range keys {
		want := o.account(h, g, k)
		for _, tr := range []*Tracker{tr, committed} {
			if got, err := tr.Account(k); err != nil || got != want {
				t.Fatalf("height %d: Account()=%+v, %v, want %+v", h, got, err, want)
			}
		}
	}
}

// TestCommittedIsMinOfSubmittedAndAllowance: when keys submit in order
// (their payments first, then n transactions) and bytes do not bind, what
// each key commits in an epoch is min(n, free + granted + bought),
// however the submissions interleave and split into blocks.
func TestCommittedIsMinOfSubmittedAndAllowance(t *testing.T) {
	id := newIDs(t)
	const fee, maxN, maxPay = 2, 8, 3
	users := []ledger.KeyPair{id.a, id.b, id.c}
	creates, pays := map[string][]*ledger.Tx{}, map[string][]*ledger.Tx{}
	for _, u := range users {
		for n := range maxN {
			creates[u.PublicBase58()] = append(creates[u.PublicBase58()], create(t, u, n))
		}
		for n := range maxPay {
			pays[u.PublicBase58()] = append(pays[u.PublicBase58()], id.pay(t, u, n, fee))
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		p := genesis.DefaultParams()
		p.EpochBlocks, p.FeePerTx, p.FreeTierBytesPerEpoch = 5, fee, 1<<40
		p.FreeTierTxsPerEpoch = rapid.Uint64Range(0, 3).Draw(t, "free_txs")
		store := memCommitted{}
		for epoch := range rapid.Uint64Range(1, 3).Draw(t, "epochs") {
			g := grants{}
			queues, want := map[string][]*ledger.Tx{}, map[string]uint64{}
			for _, u := range users {
				k := u.PublicBase58()
				n, paid := rapid.IntRange(0, maxN).Draw(t, "n"), rapid.IntRange(0, maxPay).Draw(t, "paid")
				g[k] = [2]uint64{rapid.Uint64Range(0, 3).Draw(t, "granted"), 0}
				queues[k] = append(slices.Clone(pays[k][:paid]), creates[k][:n]...)
				want[k] = min(uint64(n), p.FreeTierTxsPerEpoch+g[k][0]+uint64(paid))
			}
			submit(t, store, epoch, Limits{Params: p, Grant: g.fn()}, id, queues)
			for k, w := range want {
				if got := store[string(RowKey(k, epoch))].UsedTxs; got != w {
					t.Fatalf("epoch %d: %s committed %d, want %d", epoch, k, got, w)
				}
			}
		}
	})
}

// submit sends each key's queue in order, interleaved at random, in
// blocks of the epoch, committing each block's changes to store.
func submit(t *rapid.T, store memCommitted, epoch uint64, l Limits, id ids, queues map[string][]*ledger.Tx) {
	l.Fee = id.fee()
	h := epoch*l.Params.EpochBlocks + 1
	tr := NewTracker(h, l, store)
	keys := slices.Sorted(maps.Keys(queues))
	for {
		var open []string
		for _, k := range keys {
			if len(queues[k]) > 0 {
				open = append(open, k)
			}
		}
		if len(open) == 0 {
			break
		}
		k := rapid.SampledFrom(open).Draw(t, "key")
		tx := queues[k][0]
		queues[k] = queues[k][1:]
		if err := tr.Charge(tx); err != nil && !errorsIsQuota(err) {
			t.Fatalf("Charge()=%v, want nil or QuotaExceeded", err)
		}
		if h < (epoch+1)*l.Params.EpochBlocks && rapid.Bool().Draw(t, "next_block") {
			store.apply(tr.Changes())
			h++
			tr = NewTracker(h, l, store)
		}
	}
	store.apply(tr.Changes())
}
