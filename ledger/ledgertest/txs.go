// Package ledgertest builds valid ledgers for tests of other packages: key
// pairs, signed CREATEs and TRANSFERs, and chains of blocks (signed commits,
// state hashes, links) committed to a ledger.Store. It is for tests only:
// every helper takes a testing.TB and fails the test on error, and no
// production package may import it.
package ledgertest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/ipdb/ipdb-node/ledger"
)

// Key returns the key pair of test identity n: the same n always gives the
// same keys.
func Key(tb testing.TB, n int) ledger.KeyPair {
	tb.Helper()
	seed := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("ledgertest key "), uint64(n)))
	k, err := ledger.NewKeyPair(seed[:])
	if err != nil {
		tb.Fatalf("NewKeyPair()=%v", err)
	}
	return k
}

// Create returns a CREATE of data and metadata issued and signed by key,
// with outs as outputs (one output of amount 1 to key when outs is empty).
func Create(tb testing.TB, key ledger.KeyPair, data, metadata any, outs ...ledger.OutputSpec) *ledger.Tx {
	tb.Helper()
	tx, err := create(key, data, metadata, outs)
	if err != nil {
		tb.Fatalf("create: %v", err)
	}
	return tx
}

func create(key ledger.KeyPair, data, metadata any, outs []ledger.OutputSpec) (*ledger.Tx, error) {
	if len(outs) == 0 {
		outs = []ledger.OutputSpec{ledger.To(1, key.Public)}
	}
	u, err := ledger.BuildCreate([]ed25519.PublicKey{key.Public}, data, metadata, outs...)
	if err != nil {
		return nil, err
	}
	return u.Sign(key.Private)
}

// Transfer returns a TRANSFER of output index of tx, signed by signers (who
// must satisfy that output's condition), to outs (all of its amount to the
// first signer when outs is empty).
func Transfer(tb testing.TB, tx *ledger.Tx, index int, metadata any, signers []ledger.KeyPair, outs ...ledger.OutputSpec) *ledger.Tx {
	tb.Helper()
	if len(outs) == 0 {
		outs = []ledger.OutputSpec{ledger.To(tx.Outputs[index].Amount, signers[0].Public)}
	}
	u, err := ledger.BuildTransfer([]ledger.Spend{ledger.SpendOf(tx, index)}, tx.AssetID(), metadata, outs...)
	if err != nil {
		tb.Fatalf("BuildTransfer()=%v", err)
	}
	keys := make([]ed25519.PrivateKey, len(signers))
	for i, s := range signers {
		keys[i] = s.Private
	}
	signed, err := u.Sign(keys...)
	if err != nil {
		tb.Fatalf("Sign()=%v", err)
	}
	return signed
}

// Creates returns n distinct CREATEs issued by key, each of about size bytes
// of canonical JSON (never less than the few hundred bytes of a CREATE's
// envelope): asset data {"kind", "nonce", "text"} whose text is English-like
// words from a small vocabulary, and metadata {"note"} of three words. They
// are built on every CPU.
func Creates(tb testing.TB, key ledger.KeyPair, n, size int) []*ledger.Tx {
	tb.Helper()
	envelope := len(Create(tb, key, sizedData(0), sizedMetadata()).Canonical())
	out := make([]*ledger.Tx, n)
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil; i += workers {
				out[i], errs[w] = create(key, sizedData(size-envelope), sizedMetadata(), nil)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatalf("Creates: %v", err)
	}
	return out
}

// vocabulary is the words of generated asset data and metadata.
var vocabulary = strings.Fields(`art asset bicycle blue book bond bottle camera car certificate
	chair city coffee concert contract copper deed diamond digital energy estate farm festival
	film gold grain green guitar harbor house invoice island jacket land lamp license machine
	market medal museum music night ocean oil painting paper patent photo piano property quartz
	record red river road royalty share ship silver solar song spring stamp steel stock stone
	story street sugar summer table ticket timber token tower train tree vintage violin warehouse
	watch water wheat white wind window wine winter wood wool yellow`)

// words returns about n bytes of words drawn from vocabulary.
func words(n int) string {
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(vocabulary[rand.N(len(vocabulary))])
	}
	return b.String()
}

func sizedData(text int) map[string]any {
	return map[string]any{"kind": "ledgertest", "nonce": rand.Uint64() >> 11, "text": words(max(text, 0))}
}

func sizedMetadata() map[string]any { return map[string]any{"note": words(12)} }
