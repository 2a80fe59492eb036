package ledger

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzDecodeTx feeds the transaction decoder and the stateless check
// arbitrary bytes, seeded with the driver corpus: they must never panic,
// whatever decodes must re-encode to bytes that decode to the same id,
// VerifyCommitted must differ from Verify only on signatures, and the
// decoder's fast path must take nothing its general path refuses or reads
// otherwise.
func FuzzDecodeTx(f *testing.F) {
	for _, dir := range []string{"testdata/tx/valid", "testdata/tx/invalid"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		// The canonical forms lead the fuzzer into the fast path.
		canonical, _ := filepath.Glob(filepath.Join(dir, "*.canonical"))
		for _, file := range append(files, canonical...) {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"id":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkFastAgrees(t, "fuzz input", b)
		tx, err := DecodeTx(b)
		if err != nil {
			return
		}
		if want := AppendCanonical(nil, tx.Body()); !bytes.Equal(tx.Canonical(), want) {
			t.Fatalf("Canonical() = %s, want %s", tx.Canonical(), want)
		}
		again, err := DecodeTx(tx.Canonical())
		if err != nil {
			t.Fatalf("canonical bytes of a decoded tx do not decode: %v", err)
		}
		if again.ID != tx.ID {
			t.Fatalf("id changed on re-decoding: %s -> %s", tx.ID, again.ID)
		}
		if got, want := tx.signingBase(), signingBase(tx.Body()); !bytes.Equal(got, want) {
			t.Fatalf("spliced signing base %s, want %s", got, want)
		}
		checkCommittedAgrees(t, b)
	})
}

// checkCommittedAgrees fails t unless VerifyCommitted accepts whatever
// Verify accepts, as the same transaction, and refuses only what Verify
// refuses.
func checkCommittedAgrees(t *testing.T, b []byte) {
	t.Helper()
	v, err := Verify(b)
	c, cerr := VerifyCommitted(b)
	switch {
	case err == nil && cerr != nil:
		t.Fatalf("Verify accepts, VerifyCommitted refuses: %v", cerr)
	case cerr != nil:
		return
	case err == nil && (!bytes.Equal(c.Tx().Canonical(), v.Tx().Canonical()) || !slices.Equal(c.conds, v.conds)):
		t.Fatalf("VerifyCommitted gives %s %v, Verify %s %v", c.Tx().Canonical(), c.conds, v.Tx().Canonical(), v.conds)
	case err != nil && !errors.Is(err, ErrInvalidSignature):
		t.Fatalf("VerifyCommitted accepts what Verify refuses for another reason than a signature: %v", err)
	}
}
