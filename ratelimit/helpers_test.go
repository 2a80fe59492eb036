package ratelimit

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/cryptocondition"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

// feeAsset is the fee asset of the tests: any 64-hex id will do, as
// Charge reads no state.
var feeAsset = strings.Repeat("fe", 32)

// otherAsset is an asset that is not the fee asset.
var otherAsset = strings.Repeat("0a", 32)

// memCommitted is Committed in memory, keyed by RowKey.
type memCommitted map[string]Usage

func (m memCommitted) Usage(pub string, epoch uint64) (Usage, error) {
	return m[string(RowKey(pub, epoch))], nil
}

// apply writes a block's changes.
func (m memCommitted) apply(changes []Change) {
	for _, c := range changes {
		m[string(RowKey(c.PublicKey, c.Epoch))] = c.Usage
	}
}

// failingCommitted fails every read.
type failingCommitted struct{}

var errDisk = errors.New("disk on fire")

func (failingCommitted) Usage(string, uint64) (Usage, error) { return Usage{}, errDisk }

// testParams are small parameters that tests reach quickly.
func testParams() genesis.Params {
	p := genesis.DefaultParams()
	p.FreeTierTxsPerEpoch = 2
	p.FreeTierBytesPerEpoch = 100_000
	p.EpochBlocks = 10
	p.FeePerTx = 3
	p.MaxTxBytes = 2000
	return p
}

// ids are the test identities: three users and the treasury.
type ids struct {
	a, b, c, treasury ledger.KeyPair
}

func newIDs(tb testing.TB) ids {
	tb.Helper()
	return ids{a: ledgertest.Key(tb, 1), b: ledgertest.Key(tb, 2), c: ledgertest.Key(tb, 3), treasury: ledgertest.Key(tb, 99)}
}

func (id ids) fee() Fee { return Fee{AssetID: feeAsset, Treasury: id.treasury.PublicBase58()} }

// create returns a CREATE by key whose asset data holds n (distinct n,
// distinct transactions).
func create(tb testing.TB, key ledger.KeyPair, n int) *ledger.Tx {
	tb.Helper()
	return ledgertest.Create(tb, key, map[string]any{"n": n}, nil)
}

// sized returns a CREATE by key of about size bytes.
func sized(tb testing.TB, key ledger.KeyPair, n, size int) *ledger.Tx {
	tb.Helper()
	return ledgertest.Create(tb, key, map[string]any{"n": n, "pad": strings.Repeat("x", size)}, nil)
}

// joint returns a CREATE issued by every key of keys (an N-of-N input).
func joint(tb testing.TB, n int, keys ...ledger.KeyPair) *ledger.Tx {
	tb.Helper()
	pubs := make([]ed25519.PublicKey, len(keys))
	privs := make([]ed25519.PrivateKey, len(keys))
	for i, k := range keys {
		pubs[i], privs[i] = k.Public, k.Private
	}
	u, err := ledger.BuildCreate(pubs, map[string]any{"n": n}, nil, ledger.To(1, pubs...))
	if err != nil {
		tb.Fatalf("BuildCreate()=%v", err)
	}
	return sign(tb, u, privs...)
}

// transfer returns a TRANSFER of asset spending one made-up output of
// each payer (index n) to outs, signed by every payer. Charge reads no
// state, so the spent outputs need not exist.
func transfer(tb testing.TB, asset string, n int, payers []ledger.KeyPair, outs ...ledger.OutputSpec) *ledger.Tx {
	tb.Helper()
	spends := make([]ledger.Spend, len(payers))
	privs := make([]ed25519.PrivateKey, len(payers))
	for i, p := range payers {
		spends[i] = ledger.Spend{Ref: ledger.OutputRef{TxID: asset, Index: uint64(n*len(payers) + i)},
			Condition: cryptocondition.Ed25519(p.Public)}
		privs[i] = p.Private
	}
	u, err := ledger.BuildTransfer(spends, asset, nil, outs...)
	if err != nil {
		tb.Fatalf("BuildTransfer()=%v", err)
	}
	return sign(tb, u, privs...)
}

// pay returns a payment of amount of the fee asset from payer to the
// treasury.
func (id ids) pay(tb testing.TB, payer ledger.KeyPair, n int, amount uint64) *ledger.Tx {
	tb.Helper()
	return transfer(tb, feeAsset, n, []ledger.KeyPair{payer}, ledger.To(amount, id.treasury.Public))
}

// vote returns a VOTE by key.
func vote(tb testing.TB, key ledger.KeyPair, election ledger.KeyPair) *ledger.Tx {
	tb.Helper()
	spend := ledger.Spend{Ref: ledger.OutputRef{TxID: otherAsset}, Condition: cryptocondition.Ed25519(key.Public)}
	u, err := ledger.BuildVote([]ledger.Spend{spend}, otherAsset, nil, ledger.To(1, election.Public))
	if err != nil {
		tb.Fatalf("BuildVote()=%v", err)
	}
	return sign(tb, u, key.Private)
}

// election returns a PARAMETER_ELECTION proposed by key.
func election(tb testing.TB, key ledger.KeyPair) *ledger.Tx {
	tb.Helper()
	u, err := ledger.BuildElection(ledger.OpParameterElection, key.Public,
		map[string]any{"name": "fee_per_tx", "value": "1"}, nil, ledger.To(1, key.Public))
	if err != nil {
		tb.Fatalf("BuildElection()=%v", err)
	}
	return sign(tb, u, key.Private)
}

func sign(tb testing.TB, u *ledger.Unsigned, keys ...ed25519.PrivateKey) *ledger.Tx {
	tb.Helper()
	tx, err := u.Sign(keys...)
	if err != nil {
		tb.Fatalf("Sign()=%v", err)
	}
	return tx
}

// size returns tx's canonical size.
func size(tx *ledger.Tx) uint64 { return uint64(len(tx.Canonical())) }

// errText returns err's text, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// errorsIsQuota reports whether err is a QuotaExceeded error.
func errorsIsQuota(err error) bool { return errors.Is(err, ErrQuotaExceeded) }
