package ed25519verify

import (
	"crypto/ed25519"
	"crypto/sha512"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// check fails t when Verify and crypto/ed25519.Verify disagree on
// (pub, msg, sig), and returns the verdict.
func check(t testing.TB, what string, pub, msg, sig []byte) bool {
	t.Helper()
	want := len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, msg, sig)
	// The first call may expand and cache the key, the second finds it.
	for _, pass := range []string{"first", "second"} {
		if got := Verify(pub, msg, sig); got != want {
			t.Fatalf("%s: Verify(%x, %x, %x)=%v (%s call), crypto/ed25519 says %v", what, pub, msg, sig, got, pass, want)
		}
	}
	if len(pub) == ed25519.PublicKeySize && len(sig) == ed25519.SignatureSize {
		if got := verifyUncached(pub, msg, sig); got != want {
			t.Fatalf("%s: verifyUncached(%x, %x, %x)=%v, crypto/ed25519 says %v", what, pub, msg, sig, got, want)
		}
	}
	return want
}

// point is a point of the curve with its encoding.
type point struct {
	p   curve.EdwardsPoint
	enc []byte
}

func encode(p *curve.EdwardsPoint) []byte {
	var c curve.CompressedEdwardsY
	c.SetEdwardsPoint(p)
	return c[:]
}

// randScalar returns a uniformly random scalar drawn from rng.
func randScalar(t testing.TB, rng *rand.Rand) *scalar.Scalar {
	var wide [64]byte
	for i := range wide {
		wide[i] = byte(rng.Uint32())
	}
	s, err := scalar.NewFromBytesModOrderWide(wide[:])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// challenge is k = SHA-512(R || A || msg) mod L.
func challenge(t testing.TB, r, a, msg []byte) *scalar.Scalar {
	h := sha512.New()
	h.Write(r)
	h.Write(a)
	h.Write(msg)
	k, err := scalar.NewFromBytesModOrderWide(h.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// sign makes the signature (R, S = r + k·a) of msg for the public key
// encoding aEnc and the secret scalar a, with R = [r]B + tR: any torsion
// point tR (or the identity) may be mixed into R, and A may hold one too,
// which is how signatures that only the cofactored equation accepts are
// made.
func sign(t testing.TB, r, a *scalar.Scalar, tR *curve.EdwardsPoint, aEnc, msg []byte) []byte {
	var R curve.EdwardsPoint
	R.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, r)
	R.Add(&R, tR)
	rEnc := encode(&R)
	k := challenge(t, rEnc, aEnc, msg)
	var s scalar.Scalar
	s.Mul(k, a)
	s.Add(&s, r)
	sig := make([]byte, 64)
	copy(sig, rEnc)
	if err := s.ToBytes(sig[32:]); err != nil {
		t.Fatal(err)
	}
	return sig
}

// torsion returns the eight points of order dividing 8, identity first.
func torsion() []*curve.EdwardsPoint {
	out := make([]*curve.EdwardsPoint, len(curve.EIGHT_TORSION))
	for i := range curve.EIGHT_TORSION {
		out[i] = curve.NewEdwardsPoint().Set(curve.EIGHT_TORSION[i])
	}
	return out
}

func TestValidSignatures(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		seed := make([]byte, ed25519.SeedSize)
		for j := range seed {
			seed[j] = byte(rng.Uint32())
		}
		priv := ed25519.NewKeyFromSeed(seed)
		msg := make([]byte, rng.IntN(300))
		for j := range msg {
			msg[j] = byte(rng.Uint32())
		}
		sig := ed25519.Sign(priv, msg)
		pub := priv.Public().(ed25519.PublicKey)
		if !check(t, "valid", pub, msg, sig) {
			t.Fatalf("signature %d refused", i)
		}
		// One flipped bit anywhere makes it invalid, in both.
		for _, buf := range [][]byte{pub, msg, sig} {
			if len(buf) == 0 {
				continue
			}
			bit := rng.IntN(8 * len(buf))
			buf[bit/8] ^= 1 << (bit % 8)
			check(t, "flipped bit", pub, msg, sig)
			buf[bit/8] ^= 1 << (bit % 8)
		}
	}
}

// TestTorsion covers the signatures on which Ed25519 implementations
// disagree ("Taming the many EdDSAs", Chalkias, Garillot and Nikolaenko,
// 2020): R or A of small or mixed order, and R and A both of small order.
// Only the cofactored equation accepts a mixed-order R; crypto/ed25519
// (and so Verify) must refuse it.
func TestTorsion(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	msg := []byte("torsion")
	ts := torsion()
	var accepted, refused int
	for i, tp := range ts {
		for range 8 {
			r, a := randScalar(t, rng), randScalar(t, rng)
			var A curve.EdwardsPoint
			A.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, a)
			aEnc := encode(&A)
			// Mixed-order R: refused unless the torsion part is zero.
			sig := sign(t, r, a, tp, aEnc, msg)
			if ok := check(t, "mixed R", aEnc, msg, sig); ok != (i == 0) {
				t.Fatalf("mixed R with torsion point %d: verdict %v", i, ok)
			}
			// Mixed-order A: valid exactly when [k]T is the identity.
			var mixedA curve.EdwardsPoint
			mixedA.Add(&A, tp)
			mA := encode(&mixedA)
			if check(t, "mixed A", mA, msg, sign(t, r, a, ts[0], mA, msg)) {
				accepted++
			} else {
				refused++
			}
		}
		// Small-order A and R with S = 0: [0]B = R + [k]A.
		for j, tr := range ts {
			sig := make([]byte, 64)
			copy(sig, encode(tr))
			check(t, "small A and R", encode(tp), []byte{byte(j)}, sig)
		}
	}
	if accepted == 0 || refused == 0 {
		t.Fatalf("mixed-order A: %d accepted, %d refused; want both kinds", accepted, refused)
	}
}

// TestEncodings covers non-canonical encodings of R and A (y >= p, which
// only the small values of y allow, and the sign bit set on x = 0) and
// non-canonical S (S >= L).
func TestEncodings(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("encodings")
	sig := ed25519.Sign(priv, msg)
	// y = p + d for d < 19: the bytes of p = 2^255 - 19 plus d.
	nonCanonical := func(d byte, sign bool) []byte {
		e := make([]byte, 32)
		e[0] = 0xed + d
		for i := 1; i < 31; i++ {
			e[i] = 0xff
		}
		e[31] = 0x7f
		if sign {
			e[31] |= 0x80
		}
		return e
	}
	for d := range byte(19) {
		for _, sign := range []bool{false, true} {
			enc := nonCanonical(d, sign)
			check(t, "non-canonical A", enc, msg, sig)
			s := append(append([]byte{}, enc...), sig[32:]...)
			check(t, "non-canonical R", pub, msg, s)
			zeroS := append(append([]byte{}, enc...), make([]byte, 32)...)
			check(t, "non-canonical A and R, S = 0", enc, msg, zeroS)
		}
	}
	// S + L and S with the top bits set are refused by both.
	l := []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	plusL := append([]byte{}, sig...)
	var carry uint16
	for i := range 32 {
		v := uint16(plusL[32+i]) + uint16(l[i]) + carry
		plusL[32+i], carry = byte(v), v>>8
	}
	if carry == 0 && check(t, "S + L", pub, msg, plusL) {
		t.Fatal("S + L accepted")
	}
	high := append([]byte{}, sig...)
	high[63] |= 0xe0
	check(t, "S with high bits", pub, msg, high)
	// Wrong lengths are refused (crypto/ed25519 panics on a short key).
	for _, c := range [][2][]byte{{pub[:31], sig}, {pub, sig[:63]}, {append(pub, 0), sig}, {nil, nil}} {
		if Verify(c[0], msg, c[1]) {
			t.Fatalf("Verify(%d-byte key, %d-byte signature) accepted", len(c[0]), len(c[1]))
		}
	}
}

// TestKeyCache checks that the cache keeps the keys in use and stays
// within its two generations.
func TestKeyCache(t *testing.T) {
	const size = 4
	c := newKeyCache(size)
	keyOf := func(i int) []byte {
		seed := make([]byte, ed25519.SeedSize)
		seed[0] = byte(i)
		return ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	}
	first := c.get(keyOf(0))
	if first == nil {
		t.Fatal("a valid key was not expanded")
	}
	for i := range 3 * size {
		c.get(keyOf(i + 1))
		// Key 0 is used all along: it must stay, as the same expansion.
		if c.get(keyOf(0)) != first {
			t.Fatalf("after %d other keys, key 0 was expanded again", i+1)
		}
		if n := len(c.cur) + len(c.prev); n > 2*size {
			t.Fatalf("after %d keys the cache holds %d, over 2×%d", i+2, n, size)
		}
	}
	// Key 1 was not used since: it has been dropped.
	if _, ok := c.cur[[32]byte(keyOf(1))]; ok {
		t.Fatal("key 1 is still current")
	}
	if _, ok := c.prev[[32]byte(keyOf(1))]; ok {
		t.Fatal("key 1 is still in the previous generation")
	}
	// A 32-byte string that is no point is refused and not cached.
	notPoint := make([]byte, 32)
	notPoint[0] = 2 // y = 2 gives no x on the curve
	if c.get(notPoint) != nil {
		t.Fatal("y = 2 expanded")
	}
	if _, ok := c.cur[[32]byte(notPoint)]; ok {
		t.Fatal("a key that is no point was cached")
	}
}

// TestKeyCacheConcurrent checks verdicts while goroutines share a small
// cache (run it with -race): keys are added, moved up and dropped at once.
func TestKeyCacheConcurrent(t *testing.T) {
	c := newKeyCache(2)
	const keys = 5
	pubs := make([]ed25519.PublicKey, keys)
	sigs := make([][]byte, keys)
	msg := []byte("concurrent")
	for i := range keys {
		seed := make([]byte, ed25519.SeedSize)
		seed[0] = byte(i + 1)
		priv := ed25519.NewKeyFromSeed(seed)
		pubs[i], sigs[i] = priv.Public().(ed25519.PublicKey), ed25519.Sign(priv, msg)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				k := (g + i) % keys
				e := c.get(pubs[k])
				if e == nil || !voi.VerifyExpandedWithOptions(e, msg, sigs[k], stdlib) {
					errs <- fmt.Sprintf("goroutine %d: key %d refused its own signature", g, k)
					return
				}
				if voi.VerifyExpandedWithOptions(e, msg, sigs[(k+1)%keys], stdlib) {
					errs <- fmt.Sprintf("goroutine %d: key %d accepted key %d's signature", g, k, (k+1)%keys)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func FuzzVerify(f *testing.F) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		f.Fatal(err)
	}
	msg := []byte("fuzz")
	f.Add([]byte(pub), msg, ed25519.Sign(priv, msg))
	for _, tp := range torsion() {
		sig := make([]byte, 64)
		copy(sig, encode(tp))
		f.Add(encode(tp), msg, sig)
	}
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		check(t, "fuzz", pub, msg, sig)
	})
}

func BenchmarkVerify(b *testing.B) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 32)
	sig := ed25519.Sign(priv, msg)
	b.Run("ed25519verify", func(b *testing.B) {
		for b.Loop() {
			if !Verify(pub, msg, sig) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		for b.Loop() {
			if !verifyUncached(pub, msg, sig) {
				b.Fatal("refused")
			}
		}
	})
	// A new key every time: what a flood of one-off keys costs.
	b.Run("new-key", func(b *testing.B) {
		keys := make([]ed25519.PublicKey, 4096)
		sigs := make([][]byte, len(keys))
		for i := range keys {
			pub, priv, err := ed25519.GenerateKey(nil)
			if err != nil {
				b.Fatal(err)
			}
			keys[i], sigs[i] = pub, ed25519.Sign(priv, msg)
		}
		c := newKeyCache(keyCacheSize)
		i := 0
		for b.Loop() {
			k := c.get(keys[i%len(keys)])
			if !voi.VerifyExpandedWithOptions(k, msg, sigs[i%len(keys)], stdlib) {
				b.Fatal("refused")
			}
			i++
			if i%len(keys) == 0 {
				c = newKeyCache(keyCacheSize)
			}
		}
	})
	b.Run("crypto-ed25519", func(b *testing.B) {
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("refused")
			}
		}
	})
}
