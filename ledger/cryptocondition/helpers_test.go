package cryptocondition

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
)

// testKey returns a deterministic Ed25519 key for index i.
func testKey(i int) ed25519.PrivateKey {
	seed := sha256.Sum256(fmt.Appendf(nil, "cryptocondition test key %d", i))
	return ed25519.NewKeyFromSeed(seed[:])
}

// testPub returns the public key of testKey(i).
func testPub(i int) ed25519.PublicKey {
	return testKey(i).Public().(ed25519.PublicKey)
}

// leaf returns the Ed25519 details of testKey(i).
func leaf(i int) *Details { return Ed25519(testPub(i)) }

// keys returns the test keys with the given indices.
func keys(idx ...int) []ed25519.PrivateKey {
	out := make([]ed25519.PrivateKey, len(idx))
	for i, k := range idx {
		out[i] = testKey(k)
	}
	return out
}

// chain returns n thresholds 1-of-1 nested above leaf(0): n+1 levels.
func chain(n int) *Details {
	d := leaf(0)
	for range n {
		d = Threshold(1, d)
	}
	return d
}

// mustSign signs msg with keys or fails the test.
func mustSign(t fataler, d *Details, msg []byte, ks []ed25519.PrivateKey) *Fulfillment {
	t.Helper()
	f, err := d.Sign(msg, ks)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return f
}

// tlv is appendTLV for building test DER.
func tlv(tag byte, parts ...[]byte) []byte {
	var content []byte
	for _, p := range parts {
		content = append(content, p...)
	}
	return appendTLV(nil, tag, content)
}

// fataler is the part of testing.TB that *rapid.T also has, so helpers serve
// both.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}
