package ledger

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ipdb/ipdb-node/internal/ed25519verify"
)

// createOfSize returns the canonical bytes of a signed 1-input 1-output
// CREATE of about size bytes (padding in the asset data).
func createOfSize(tb testing.TB, k KeyPair, size int, n int) []byte {
	tb.Helper()
	u, err := BuildCreate([]ed25519.PublicKey{k.Public}, map[string]any{"n": n, "pad": ""}, nil, To(1, k.Public))
	if err != nil {
		tb.Fatal(err)
	}
	tx, err := u.Sign(k.Private)
	if err != nil {
		tb.Fatal(err)
	}
	pad := max(size-len(tx.Canonical()), 0)
	u, err = BuildCreate([]ed25519.PublicKey{k.Public}, map[string]any{"n": n, "pad": strings.Repeat("x", pad)}, nil, To(1, k.Public))
	if err != nil {
		tb.Fatal(err)
	}
	if tx, err = u.Sign(k.Private); err != nil {
		tb.Fatal(err)
	}
	return tx.Canonical()
}

// BenchmarkEd25519Verify is the physical floor of checking a CREATE: one
// Ed25519 verification of a 32-byte digest.
func BenchmarkEd25519Verify(b *testing.B) {
	k := testKey(b, 1)
	msg := make([]byte, 32)
	sig := ed25519.Sign(k.Private, msg)
	for b.Loop() {
		if !ed25519verify.Verify(k.Public, msg, sig) {
			b.Fatal("signature does not verify")
		}
	}
}

// BenchmarkEd25519VerifyParallel is BenchmarkEd25519Verify on every core:
// the machine's own ceiling for BenchmarkCheckCreateParallel's scaling.
func BenchmarkEd25519VerifyParallel(b *testing.B) {
	k := testKey(b, 1)
	msg := make([]byte, 32)
	sig := ed25519.Sign(k.Private, msg)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !ed25519verify.Verify(k.Public, msg, sig) {
				b.Fatal("signature does not verify")
			}
		}
	})
}

// BenchmarkCheckCreate is the stateless check of a signed 1-input 1-output
// CREATE of about 1 KiB, from bytes to a verified transaction. Read it as a
// ratio to BenchmarkEd25519Verify.
func BenchmarkCheckCreate(b *testing.B) {
	raw := createOfSize(b, testKey(b, 1), 1024, 0)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Verify(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckCreateParallel is BenchmarkCheckCreate on every core: compare
// its ns/op with -cpu 1,2 to read the scaling.
func BenchmarkCheckCreateParallel(b *testing.B) {
	raw := createOfSize(b, testKey(b, 1), 1024, 0)
	b.SetBytes(int64(len(raw)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := Verify(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecodeTx is the decode step alone (no signature checks), of a
// 1 KiB CREATE in canonical form (as nodes gossip it, hashed in place) and
// indented (serialized again to be hashed).
func BenchmarkDecodeTx(b *testing.B) {
	raw := createOfSize(b, testKey(b, 1), 1024, 0)
	var indented bytes.Buffer
	if err := json.Indent(&indented, raw, "", "  "); err != nil {
		b.Fatal(err)
	}
	for _, form := range []struct {
		name string
		b    []byte
	}{{"canonical", raw}, {"indented", indented.Bytes()}} {
		b.Run(form.name, func(b *testing.B) {
			b.SetBytes(int64(len(form.b)))
			for b.Loop() {
				if _, err := DecodeTx(form.b); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSigningBase compares serializing a 1 KB CREATE's signing base
// from its body with splicing it from the canonical bytes.
func BenchmarkSigningBase(b *testing.B) {
	tx, err := DecodeTx(createOfSize(b, testKey(b, 1), 1024, 0))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("serialize", func(b *testing.B) {
		for b.Loop() {
			signingBase(tx.Body())
		}
	})
	b.Run("splice", func(b *testing.B) {
		for b.Loop() {
			tx.signingBase()
		}
	})
}
