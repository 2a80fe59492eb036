package cryptocondition

import (
	"crypto/ed25519"

	"github.com/ipdb/ipdb-node/internal/ed25519verify"
)

// verifyEd25519 reports whether sig is a valid Ed25519 signature of msg by pub
// under the rules of libsodium 1.0.18's crypto_sign_verify_detached, which
// BigchainDB applies (cryptoconditions → PyNaCl → libsodium). Beyond what
// crypto/ed25519 checks (RFC 8032 cofactorless equation, S < L, A on the
// curve), libsodium refuses a public key whose encoding is not canonical
// (y >= p) and a public key or signature R of small order. Without these
// checks a key of small order would let anyone forge signatures that the
// reference server refuses.
func verifyEd25519(pub, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	if hasSmallOrder(sig[:32]) || !isCanonicalPoint(pub) || hasSmallOrder(pub) {
		return false
	}
	return ed25519verify.Verify(pub, msg, sig)
}

// Encodings of the points of small order that libsodium's
// ge25519_has_small_order refuses (sign bit cleared): orders 1, 2, 4 and 8,
// plus the non-canonical encodings p and p+1 of y = 0 and y = 1.
const (
	ff30 = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
	zero31 = "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	pointY0      = "\x00" + zero31 // y = 0, order 4
	pointY1      = "\x01" + zero31 // y = 1, order 1 (the identity)
	pointOrder8a = "\x26\xe8\x95\x8f\xc2\xb2\x27\xb0\x45\xc3\xf4\x89\xf2\xef\x98\xf0" +
		"\xd5\xdf\xac\x05\xd3\xc6\x33\x39\xb1\x38\x02\x88\x6d\x53\xfc\x05"
	pointOrder8b = "\xc7\x17\x6a\x70\x3d\x4d\xd8\x4f\xba\x3c\x0b\x76\x0d\x10\x67\x0f" +
		"\x2a\x20\x53\xfa\x2c\x39\xcc\xc6\x4e\xc7\xfd\x77\x92\xac\x03\x7a"
	pointPMinus1 = "\xec" + ff30 + "\x7f" // y = -1, order 2
	pointP       = "\xed" + ff30 + "\x7f" // y = p ≡ 0, non-canonical
	pointPPlus1  = "\xee" + ff30 + "\x7f" // y = p+1 ≡ 1, non-canonical
)

// hasSmallOrder reports whether the point encoding s (sign bit ignored) is one
// of the small-order encodings above.
func hasSmallOrder(s []byte) bool {
	y := []byte(string(s))
	y[31] &= 0x7f
	switch string(y) {
	case pointY0, pointY1, pointOrder8a, pointOrder8b, pointPMinus1, pointP, pointPPlus1:
		return true
	}
	return false
}

// isCanonicalPoint reports whether the y coordinate encoded in s (sign bit
// ignored) is below p = 2^255 - 19, as libsodium's ge25519_is_canonical does.
func isCanonicalPoint(s []byte) bool {
	if s[31]&0x7f != 0x7f || s[0] < 0xed {
		return true
	}
	for _, c := range s[1:31] {
		if c != 0xff {
			return true
		}
	}
	return false
}
