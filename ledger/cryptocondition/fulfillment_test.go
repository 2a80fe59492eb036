package cryptocondition

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
)

var testMsg = []byte("cryptocondition test message")

func TestDecodeFulfillmentRejects(t *testing.T) {
	ed := mustSign(t, leaf(0), testMsg, keys(0)).Encode()
	ed1 := mustSign(t, leaf(1), testMsg, keys(1)).Encode()
	lo, hi := ed, ed1
	if bytes.Compare(lo, hi) > 0 {
		lo, hi = hi, lo
	}
	c0, c1 := leaf(0).Condition().Encode(), leaf(1).Condition().Encode()
	clo, chi := c0, c1
	if bytes.Compare(clo, chi) > 0 {
		clo, chi = chi, clo
	}
	pub, sig := ed[4:36], ed[38:]
	tests := []struct {
		name string
		der  []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"trailing bytes", append(bytes.Clone(ed), 0, 0), ErrMalformed},
		{"truncated", ed[:len(ed)-1], ErrMalformed},
		{"universal sequence tag", append([]byte{0x30}, ed[1:]...), ErrMalformed},
		{"preimage tag", tlv(0xA0, tlv(0x80, []byte("x"))), ErrUnsupportedType},
		{"rsa tag", append([]byte{0xA3}, ed[1:]...), ErrUnsupportedType},
		{"high tag number", append([]byte{0xBF, 0x20}, ed[1:]...), ErrMalformed},
		{"indefinite length", append(append([]byte{0xA4, 0x80}, ed[2:]...), 0, 0), ErrMalformed},
		{"non-minimal long-form length", append([]byte{0xA4, 0x81, 0x64}, ed[2:]...), ErrMalformed},
		{"two-byte length for 100", append([]byte{0xA4, 0x82, 0x00, 0x64}, ed[2:]...), ErrMalformed},
		{"key of 31 bytes", tlv(0xA4, tlv(0x80, pub[:31]), tlv(0x81, sig)), ErrMalformed},
		{"key of 33 bytes", tlv(0xA4, tlv(0x80, append(bytes.Clone(pub), 0)), tlv(0x81, sig)), ErrMalformed},
		{"signature of 63 bytes", tlv(0xA4, tlv(0x80, pub), tlv(0x81, sig[:63])), ErrMalformed},
		{"signature of 65 bytes", tlv(0xA4, tlv(0x80, pub), tlv(0x81, append(bytes.Clone(sig), 0))), ErrMalformed},
		{"signature before key", tlv(0xA4, tlv(0x81, sig), tlv(0x80, pub)), ErrMalformed},
		{"constructed key", tlv(0xA4, tlv(0xA0, tlv(0x04, pub)), tlv(0x81, sig)), ErrMalformed},
		{"ed25519 extra field", tlv(0xA4, tlv(0x80, pub), tlv(0x81, sig), tlv(0x82)), ErrMalformed},
		{"threshold missing subconditions", tlv(0xA2, tlv(0xA0, ed)), ErrMalformed},
		{"threshold sets swapped", tlv(0xA2, tlv(0xA1), tlv(0xA0, ed)), ErrMalformed},
		{"threshold primitive set tag", tlv(0xA2, tlv(0x80, ed), tlv(0xA1)), ErrMalformed},
		{"threshold extra field", tlv(0xA2, tlv(0xA0, ed), tlv(0xA1), tlv(0xA2)), ErrMalformed},
		{"threshold without subfulfillments", tlv(0xA2, tlv(0xA0), tlv(0xA1, c0)), ErrThresholdNotMet},
		{"subfulfillments out of order", tlv(0xA2, tlv(0xA0, hi, lo), tlv(0xA1)), ErrMalformed},
		{"subconditions out of order", tlv(0xA2, tlv(0xA0, ed), tlv(0xA1, chi, clo)), ErrMalformed},
		{"garbage in set", tlv(0xA2, tlv(0xA0, ed, []byte{0xA4}), tlv(0xA1)), ErrMalformed},
		{"bad subfulfillment", tlv(0xA2, tlv(0xA0, tlv(0xA4, tlv(0x80, pub))), tlv(0xA1)), ErrMalformed},
		{"bad subcondition", tlv(0xA2, tlv(0xA0, ed), tlv(0xA1, c0[:10])), ErrMalformed},
		{"preimage subcondition", tlv(0xA2, tlv(0xA0, ed), tlv(0xA1, tlv(0xA0, tlv(0x80, make([]byte, 32)), tlv(0x81, []byte{1})))), ErrUnsupportedType},
		{"too many members", tlv(0xA2, tlv(0xA0, ed), tlv(0xA1, bytes.Repeat(c0, MaxSubconditions))), ErrTooManySubconditions},
		{"too many subfulfillments", tlv(0xA2, tlv(0xA0, bytes.Repeat(ed, MaxSubconditions+1)), tlv(0xA1)), ErrTooManySubconditions},
		{"too deep", chainFulfillmentDER(ed, MaxDepth), ErrTooDeep},
		{"cost too high", tlv(0xA2, tlv(0xA0, ed), tlv(0xA1, Condition{Type: TypeEd25519, Cost: MaxCost}.Encode())), ErrCostTooHigh},
		{"too large", make([]byte, MaxFulfillmentBytes+1), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeFulfillment(tt.der); !errors.Is(err, tt.want) {
				t.Fatalf("DecodeFulfillment()=%v, want %v", err, tt.want)
			}
		})
	}
}

// chainFulfillmentDER wraps the DER fulfillment leaf in n 1-of-1 thresholds.
func chainFulfillmentDER(leaf []byte, n int) []byte {
	der := leaf
	for range n {
		der = tlv(0xA2, tlv(0xA0, der), tlv(0xA1))
	}
	return der
}

func TestDepthLimitIsInclusive(t *testing.T) {
	deepest := chain(MaxDepth - 1)
	if got := deepest.Depth(); got != MaxDepth {
		t.Fatalf("chain(MaxDepth-1).Depth()=%d, want %d", got, MaxDepth)
	}
	f := mustSign(t, deepest, testMsg, keys(0))
	back, err := DecodeFulfillment(f.Encode())
	if err != nil {
		t.Fatalf("DecodeFulfillment(%d levels)=%v, want nil", MaxDepth, err)
	}
	if err := back.Fulfills(deepest.Condition(), testMsg); err != nil {
		t.Fatalf("Fulfills: %v", err)
	}
	tooDeep := chain(MaxDepth)
	if _, err := tooDeep.Sign(testMsg, keys(0)); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("Sign(%d levels)=%v, want ErrTooDeep", MaxDepth+1, err)
	}
	if got := tooDeep.Depth(); got != MaxDepth+1 {
		t.Fatalf("Depth()=%d, want %d", got, MaxDepth+1)
	}
}

func TestParseFulfillmentURIRejects(t *testing.T) {
	thr := mustSign(t, Threshold(1, leaf(0), leaf(1), leaf(2)), testMsg, keys(0)).Encode()
	if len(thr)%3 == 0 {
		t.Fatalf("test needs a DER length not divisible by 3, got %d", len(thr))
	}
	uri := base64.RawURLEncoding.EncodeToString(thr)
	last := strings.IndexByte(base64URLAlphabet, uri[len(uri)-1])
	tests := []struct {
		name, uri string
		want      error
	}{
		{"empty", "", ErrMalformed},
		{"padding", base64.URLEncoding.EncodeToString(thr), ErrMalformed},
		{"standard alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(uri) + "+/", ErrMalformed},
		{"newline", uri[:10] + "\n" + uri[10:], ErrMalformed},
		{"carriage return", uri[:10] + "\r" + uri[10:], ErrMalformed},
		{"space", uri + " ", ErrMalformed},
		{"non-canonical trailing bits", uri[:len(uri)-1] + string(base64URLAlphabet[last+1]), ErrMalformed},
		{"impossible length", uri + "A", ErrMalformed},
		{"too long", strings.Repeat("A", MaxFulfillmentURIBytes+1), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseFulfillmentURI(tt.uri); !errors.Is(err, tt.want) {
				t.Fatalf("ParseFulfillmentURI(%q)=%v, want %v", tt.uri, err, tt.want)
			}
		})
	}
	if _, err := ParseFulfillmentURI(uri); err != nil {
		t.Fatalf("ParseFulfillmentURI(valid)=%v, want nil", err)
	}
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestVerifyRejects(t *testing.T) {
	good := func() *Fulfillment {
		return mustSign(t, Threshold(2, leaf(0), leaf(1), leaf(2)), testMsg, keys(0, 2))
	}
	tests := []struct {
		name   string
		mutate func(f *Fulfillment)
		want   error
	}{
		{"flipped signature bit", func(f *Fulfillment) { f.Subfulfillments[1].Signature[5] ^= 1 }, ErrInvalidSignature},
		{"swapped keys", func(f *Fulfillment) {
			f.Subfulfillments[0].PublicKey, f.Subfulfillments[1].PublicKey = f.Subfulfillments[1].PublicKey, f.Subfulfillments[0].PublicKey
		}, ErrInvalidSignature},
		{"short key", func(f *Fulfillment) { f.Subfulfillments[0].PublicKey = f.Subfulfillments[0].PublicKey[:31] }, ErrMalformed},
		{"short signature", func(f *Fulfillment) { f.Subfulfillments[0].Signature = f.Subfulfillments[0].Signature[:63] }, ErrMalformed},
		{"nil member", func(f *Fulfillment) { f.Subfulfillments[0] = nil }, ErrMalformed},
		{"no subfulfillments", func(f *Fulfillment) { f.Subfulfillments = nil }, ErrThresholdNotMet},
		{"unsupported type", func(f *Fulfillment) { f.Subfulfillments[0].Type = 0 }, ErrUnsupportedType},
		{"unsupported subcondition", func(f *Fulfillment) { f.Subconditions[0].Type = 3 }, ErrUnsupportedType},
		{"subcondition cost too high", func(f *Fulfillment) { f.Subconditions[0].Cost = MaxCost + 1 }, ErrCostTooHigh},
		{"key on threshold", func(f *Fulfillment) { f.PublicKey = testPub(0) }, ErrMalformed},
		{"members on ed25519", func(f *Fulfillment) {
			f.Subfulfillments[0].Subconditions = []Condition{leaf(3).Condition()}
		}, ErrMalformed},
		{"too many members", func(f *Fulfillment) {
			f.Subconditions = slices.Repeat(f.Subconditions, MaxSubconditions)
		}, ErrTooManySubconditions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := good()
			tt.mutate(f)
			if err := f.Verify(testMsg); !errors.Is(err, tt.want) {
				t.Fatalf("Verify()=%v, want %v", err, tt.want)
			}
		})
	}
	if err := good().Verify(testMsg); err != nil {
		t.Fatalf("Verify(unmutated)=%v, want nil", err)
	}
}

func TestVerifyNamesFailingMember(t *testing.T) {
	d := Threshold(2, leaf(0), Threshold(1, leaf(1), leaf(2)))
	f := mustSign(t, d, testMsg, keys(0, 2))
	f.Subfulfillments[1].Subfulfillments[0].Signature[0] ^= 1
	err := f.Verify(testMsg)
	if want := "fulfillment.subfulfillments[1].subfulfillments[0]: "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Verify()=%v, want prefix %q", err, want)
	}
}

// TestNotMinimalThreshold covers the minimality rule: a fulfillment whose
// threshold carries more subfulfillments than the output's threshold has a
// different condition (its threshold is the subfulfillment count), so Fulfills
// refuses it although every signature is valid.
func TestNotMinimalThreshold(t *testing.T) {
	twoOfThree := Threshold(2, leaf(0), leaf(1), leaf(2))
	allThree := mustSign(t, Threshold(3, leaf(0), leaf(1), leaf(2)), testMsg, keys(0, 1, 2))
	if err := allThree.Verify(testMsg); err != nil {
		t.Fatalf("Verify()=%v, want nil", err)
	}
	if err := allThree.Fulfills(twoOfThree.Condition(), testMsg); !errors.Is(err, ErrConditionMismatch) {
		t.Fatalf("Fulfills(2-of-3)=%v, want ErrConditionMismatch", err)
	}
	oneOfThree := mustSign(t, Threshold(1, leaf(0), leaf(1), leaf(2)), testMsg, keys(1))
	if err := oneOfThree.Fulfills(twoOfThree.Condition(), testMsg); !errors.Is(err, ErrConditionMismatch) {
		t.Fatalf("Fulfills(threshold not met)=%v, want ErrConditionMismatch", err)
	}
	minimal := mustSign(t, twoOfThree, testMsg, keys(0, 1, 2))
	if got := len(minimal.Subfulfillments); got != 2 {
		t.Fatalf("Sign(all keys) made %d subfulfillments, want 2", got)
	}
	if err := minimal.Fulfills(twoOfThree.Condition(), testMsg); err != nil {
		t.Fatalf("Fulfills(minimal)=%v, want nil", err)
	}
}

func TestFulfillsOtherKey(t *testing.T) {
	f := mustSign(t, leaf(0), testMsg, keys(0))
	if err := f.Fulfills(leaf(1).Condition(), testMsg); !errors.Is(err, ErrConditionMismatch) {
		t.Fatalf("Fulfills(other key)=%v, want ErrConditionMismatch", err)
	}
}

func TestSigningKeys(t *testing.T) {
	d := Threshold(2, leaf(0), Threshold(2, leaf(1), leaf(2), leaf(3)), leaf(4))
	f := mustSign(t, d, testMsg, keys(3, 4, 1))
	back, err := DecodeFulfillment(f.Encode())
	if err != nil {
		t.Fatalf("DecodeFulfillment: %v", err)
	}
	var got []string
	for _, k := range back.SigningKeys() {
		got = append(got, string(k))
	}
	slices.Sort(got)
	var want []string
	for _, i := range []int{1, 3, 4} {
		want = append(want, string(testPub(i)))
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("SigningKeys()=%x, want %x", got, want)
	}
}

func TestDecodeDoesNotAliasInput(t *testing.T) {
	der := mustSign(t, leaf(0), testMsg, keys(0)).Encode()
	f, err := DecodeFulfillment(der)
	if err != nil {
		t.Fatalf("DecodeFulfillment: %v", err)
	}
	clear(der)
	if err := f.Verify(testMsg); err != nil {
		t.Fatalf("Verify after clearing the input=%v, want nil", err)
	}
}

func TestEncodeSortsSets(t *testing.T) {
	d := Threshold(3, leaf(0), leaf(1), leaf(2), leaf(3), leaf(4))
	f := mustSign(t, d, testMsg, keys(0, 1, 2))
	slices.Reverse(f.Subfulfillments)
	slices.Reverse(f.Subconditions)
	back, err := DecodeFulfillment(f.Encode())
	if err != nil {
		t.Fatalf("DecodeFulfillment(Encode() of reversed members)=%v, want nil", err)
	}
	if err := back.Fulfills(d.Condition(), testMsg); err != nil {
		t.Fatalf("Fulfills: %v", err)
	}
	if got := f.Condition(); got != d.Condition() {
		t.Fatalf("Condition() of reversed members=%+v, want %+v", got, d.Condition())
	}
}

func TestEncodeUnsupportedTypeIsRejected(t *testing.T) {
	for _, typ := range []Type{0, 1, 3, 31, 200} {
		f := &Fulfillment{Type: typ}
		if _, err := DecodeFulfillment(f.Encode()); err == nil {
			t.Fatalf("DecodeFulfillment(Encode() of type %d)=nil, want an error", typ)
		}
		if _, err := DecodeCondition(Condition{Type: typ}.Encode()); err == nil {
			t.Fatalf("DecodeCondition(Encode() of type %d)=nil, want an error", typ)
		}
	}
}

func TestVerifyEd25519LibsodiumRules(t *testing.T) {
	priv := testKey(0)
	pub := priv.Public().(ed25519.PublicKey)
	sig := ed25519.Sign(priv, testMsg)
	if !verifyEd25519(pub, testMsg, sig) {
		t.Fatalf("verifyEd25519(valid)=false, want true")
	}
	for _, p := range []string{pointY0, pointY1, pointOrder8a, pointOrder8b, pointPMinus1, pointP, pointPPlus1} {
		if len(p) != 32 {
			t.Fatalf("small-order constant of %d bytes, want 32", len(p))
		}
		signBit := []byte(p)
		signBit[31] |= 0x80
		if !hasSmallOrder([]byte(p)) || !hasSmallOrder(signBit) {
			t.Fatalf("hasSmallOrder(%x)=false, want true", p)
		}
		if verifyEd25519([]byte(p), testMsg, sig) {
			t.Fatalf("verifyEd25519(small-order key %x)=true, want false", p)
		}
	}
	if hasSmallOrder(pub) {
		t.Fatalf("hasSmallOrder(real key)=true, want false")
	}
	nonCanonical := []byte(pointPPlus1)
	nonCanonical[0] = 0xf0 // y = p + 3
	if isCanonicalPoint(nonCanonical) || !isCanonicalPoint([]byte(pointPMinus1)) || !isCanonicalPoint(pub) {
		t.Fatalf("isCanonicalPoint disagrees with y < p")
	}
}
