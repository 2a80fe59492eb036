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
// Public keys sign again and again (an application's issuer, a caretaker's
// votes), so Verify keeps the decoded form of the keys it saw last (see
// keyCache): with it a check takes about four fifths of the time.
//
// Callers add their own stricter rules on top (ledger/cryptocondition adds
// libsodium's). The differential tests and FuzzVerify compare every verdict
// with crypto/ed25519's, with the key's decoded form cached and not.
package ed25519verify

import (
	"sync"

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
	if k := keys.get(pub); k != nil {
		return voi.VerifyExpandedWithOptions(k, msg, sig, stdlib)
	}
	return verifyUncached(pub, msg, sig)
}

// verifyUncached is Verify without the key cache; the lengths are checked.
func verifyUncached(pub, msg, sig []byte) bool {
	return voi.VerifyWithOptions(voi.PublicKey(pub), msg, sig, stdlib)
}

// keyCacheSize bounds each of the key cache's two generations: at about
// 1.5 KiB a key, the cache holds at most 6 MiB.
const keyCacheSize = 2048

// keys is the process's key cache.
var keys = newKeyCache(keyCacheSize)

// keyCache keeps public keys in voi's expanded form (the point decoded,
// its small-order and canonical-encoding verdicts, and a table of its
// multiples), which is what a check spends on the key before the
// signature's own work. The expanded check applies the same rules to the
// same facts, so a verdict does not depend on whether the key was cached.
//
// It keeps two generations: keys are added to the current one, and a key
// found in the previous one is moved up; when the current one is full it
// becomes the previous one and the oldest are dropped. So the keys in use
// stay, and a flood of new keys (each costs what an uncached check costs)
// cannot grow it past two generations.
type keyCache struct {
	mu        sync.Mutex
	size      int
	cur, prev map[[voi.PublicKeySize]byte]*voi.ExpandedPublicKey
}

func newKeyCache(size int) *keyCache {
	return &keyCache{size: size, cur: make(map[[voi.PublicKeySize]byte]*voi.ExpandedPublicKey, size)}
}

// get returns pub's expanded form, expanding and adding it if it is not
// cached, or nil if pub is not a point (such a key is not cached: the
// uncached check refuses it as fast).
func (c *keyCache) get(pub []byte) *voi.ExpandedPublicKey {
	k := [voi.PublicKeySize]byte(pub)
	c.mu.Lock()
	e, ok := c.cur[k]
	if !ok {
		if e, ok = c.prev[k]; ok {
			c.addLocked(k, e)
		}
	}
	c.mu.Unlock()
	if ok {
		return e
	}
	// Expand outside the lock: two goroutines may both expand one new key,
	// and the second's copy replaces the first's, which is harmless.
	e, err := voi.NewExpandedPublicKey(voi.PublicKey(pub))
	if err != nil {
		return nil
	}
	c.mu.Lock()
	c.addLocked(k, e)
	c.mu.Unlock()
	return e
}

func (c *keyCache) addLocked(k [voi.PublicKeySize]byte, e *voi.ExpandedPublicKey) {
	if len(c.cur) >= c.size {
		c.prev, c.cur = c.cur, make(map[[voi.PublicKeySize]byte]*voi.ExpandedPublicKey, c.size)
	}
	c.cur[k] = e
}
