// Package ed25519verify checks Ed25519 signatures with exactly the verdicts
// of crypto/ed25519.Verify, in about half its time (40.6 vs 79.7 us here).
//
// Every caretaker checks the signature of every transaction, vote and
// proposal; with crypto/ed25519 that was the largest share of a loaded
// node's CPU.
// curve25519-voi (the library CometBFT uses for Ed25519) verifies faster
// than the standard library and can be told to follow its rules exactly:
// RFC 8032's cofactorless equation [S]B = R + [k]A, S below the group
// order, R compared by its encoding (so a non-canonical R fails), and any
// encoding of A that decodes accepted, small order included. Batch
// verification is faster still, but only with the cofactored equation,
// which accepts signatures that the standard library and libsodium (and so
// BigchainDB) refuse; we do not use it.
//
// Callers add their own stricter rules on top (ledger/cryptocondition adds
// libsodium's). The differential tests and FuzzVerify compare every verdict
// with crypto/ed25519's.
package ed25519verify

import (
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// stdlib selects crypto/ed25519's rules.
var stdlib = &voi.Options{Verify: voi.VerifyOptionsStdLib}

// Verify reports whether sig is a valid Ed25519 signature of msg by pub,
// exactly as crypto/ed25519.Verify does. A public key or signature of the
// wrong length is invalid (crypto/ed25519 panics on such a key).
func Verify(pub, msg, sig []byte) bool {
	if len(pub) != voi.PublicKeySize || len(sig) != voi.SignatureSize {
		return false
	}
	return voi.VerifyWithOptions(voi.PublicKey(pub), msg, sig, stdlib)
}
