package cryptocondition

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// schemaURIPattern is the outputs[].condition.uri pattern of BigchainDB's
// transaction_v2.0.yaml (after YAML line folding). Everything ParseURI accepts
// must match it.
var schemaURIPattern = regexp.MustCompile(`^ni:///sha-256;([a-zA-Z0-9_-]{0,86})[?]` +
	`(fpt=(ed25519|threshold)-sha-256(&)?|cost=[0-9]+(&)?|subtypes=ed25519-sha-256(&)?){2,3}$`)

func TestTypeString(t *testing.T) {
	tests := []struct {
		t    Type
		want string
	}{
		{TypeThreshold, "threshold-sha-256"},
		{TypeEd25519, "ed25519-sha-256"},
		{0, "preimage-sha-256"},
		{1, "prefix-sha-256"},
		{3, "rsa-sha-256"},
		{9, "unknown-type-9"},
	}
	for _, tt := range tests {
		if got := tt.t.String(); got != tt.want {
			t.Fatalf("Type(%d).String()=%q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestParseURIAcceptsParameterOrderAndTrailingAmpersand(t *testing.T) {
	want := Threshold(2, leaf(0), leaf(1)).Condition()
	fp := strings.TrimPrefix(strings.Split(want.URI(), "?")[0], uriPrefix)
	for _, q := range []string{
		"fpt=threshold-sha-256&cost=264192&subtypes=ed25519-sha-256",
		"cost=264192&subtypes=ed25519-sha-256&fpt=threshold-sha-256",
		"subtypes=ed25519-sha-256&fpt=threshold-sha-256&cost=264192",
		"fpt=threshold-sha-256&cost=264192&subtypes=ed25519-sha-256&",
	} {
		got, err := ParseURI(uriPrefix + fp + "?" + q)
		if err != nil || got != want {
			t.Fatalf("ParseURI(?%s)=%+v, %v; want %+v", q, got, err, want)
		}
	}
}

func TestParseURIRejects(t *testing.T) {
	ed := leaf(0).URI()
	th := Threshold(1, leaf(0)).URI()
	fp := strings.TrimPrefix(strings.Split(ed, "?")[0], uriPrefix)
	base := uriPrefix + fp
	tests := []struct {
		name, uri string
		want      error
	}{
		{"empty", "", ErrInvalidURI},
		{"other scheme", strings.Replace(ed, "ni:", "cc:", 1), ErrInvalidURI},
		{"sha3", strings.Replace(ed, "sha-256;", "sha3-256;", 1), ErrInvalidURI},
		{"no query", base, ErrInvalidURI},
		{"short fingerprint", uriPrefix + fp[1:] + "?fpt=ed25519-sha-256&cost=131072", ErrInvalidURI},
		{"long fingerprint", uriPrefix + fp + "A?fpt=ed25519-sha-256&cost=131072", ErrInvalidURI},
		{"padded fingerprint", uriPrefix + fp + "=?fpt=ed25519-sha-256&cost=131072", ErrInvalidURI},
		{"standard alphabet", uriPrefix + "+" + fp[1:] + "?fpt=ed25519-sha-256&cost=131072", ErrInvalidURI},
		{"non-canonical last char", uriPrefix + fp[:42] + "B?fpt=ed25519-sha-256&cost=131072", ErrInvalidURI},
		{"one parameter", base + "?fpt=ed25519-sha-256", ErrInvalidURI},
		{"four parameters", th + "&cost=1", ErrInvalidURI},
		{"repeated parameter", base + "?cost=131072&cost=131072", ErrInvalidURI},
		{"missing fpt", base + "?cost=131072&subtypes=ed25519-sha-256", ErrInvalidURI},
		{"missing cost", base + "?fpt=threshold-sha-256&subtypes=ed25519-sha-256", ErrInvalidURI},
		{"no ampersand", base + "?fpt=ed25519-sha-256cost=131072", ErrInvalidURI},
		{"no ampersand, three parameters", base + "?fpt=threshold-sha-256cost=1&subtypes=ed25519-sha-256&cost=1", ErrUnsupportedType},
		{"double ampersand", base + "?fpt=ed25519-sha-256&&cost=131072", ErrInvalidURI},
		{"two trailing ampersands", ed + "&&", ErrInvalidURI},
		{"unknown parameter", base + "?fpt=ed25519-sha-256&size=131072", ErrInvalidURI},
		{"parameter without value", base + "?fpt=ed25519-sha-256&cost", ErrInvalidURI},
		{"preimage type", base + "?fpt=preimage-sha-256&cost=32", ErrUnsupportedType},
		{"leading zero cost", base + "?fpt=ed25519-sha-256&cost=0131072", ErrInvalidURI},
		{"negative cost", base + "?fpt=ed25519-sha-256&cost=-1", ErrInvalidURI},
		{"empty cost", base + "?fpt=ed25519-sha-256&cost=", ErrInvalidURI},
		{"cost over MaxCost", base + "?fpt=ed25519-sha-256&cost=4294967296", ErrCostTooHigh},
		{"cost overflows uint64", base + "?fpt=ed25519-sha-256&cost=99999999999999999999", ErrCostTooHigh},
		{"subtypes on ed25519", ed + "&subtypes=ed25519-sha-256", ErrInvalidURI},
		{"threshold without subtypes", base + "?fpt=threshold-sha-256&cost=132096", ErrInvalidURI},
		{"unsupported subtype", base + "?fpt=threshold-sha-256&cost=1&subtypes=preimage-sha-256", ErrUnsupportedType},
		{"two subtypes", base + "?fpt=threshold-sha-256&cost=1&subtypes=ed25519-sha-256,preimage-sha-256", ErrUnsupportedType},
		{"too long", ed + strings.Repeat("0", MaxURIBytes), ErrTooLarge},
		{"newline in fingerprint", uriPrefix + fp[:20] + "\n" + fp[21:] + "?fpt=ed25519-sha-256&cost=131072", ErrInvalidURI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseURI(tt.uri); !errors.Is(err, tt.want) {
				t.Fatalf("ParseURI(%q)=%v, want %v", tt.uri, err, tt.want)
			}
		})
	}
}

func TestDecodeConditionRejects(t *testing.T) {
	good := leaf(0).Condition().Encode()
	fp := good[4:36]
	thr := Threshold(1, leaf(0)).Condition().Encode()
	tests := []struct {
		name string
		der  []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"trailing byte", append(bytes.Clone(good), 0), ErrMalformed},
		{"truncated", good[:len(good)-1], ErrMalformed},
		{"universal sequence tag", append([]byte{0x30}, good[1:]...), ErrMalformed},
		{"preimage type", append([]byte{0xA0}, good[1:]...), ErrUnsupportedType},
		{"primitive choice tag", append([]byte{0x84}, good[1:]...), ErrMalformed},
		{"indefinite length", append(append([]byte{0xA4, 0x80}, good[2:]...), 0, 0), ErrMalformed},
		{"non-minimal long-form length", append([]byte{0xA4, 0x81, good[1]}, good[2:]...), ErrMalformed},
		{"fingerprint of 31 bytes", tlv(0xA4, tlv(0x80, fp[:31]), tlv(0x81, []byte{2, 0, 0})), ErrMalformed},
		{"missing cost", tlv(0xA4, tlv(0x80, fp)), ErrMalformed},
		{"negative cost", tlv(0xA4, tlv(0x80, fp), tlv(0x81, []byte{0x80})), ErrMalformed},
		{"non-minimal cost", tlv(0xA4, tlv(0x80, fp), tlv(0x81, []byte{0, 2, 0, 0})), ErrMalformed},
		{"empty cost", tlv(0xA4, tlv(0x80, fp), tlv(0x81)), ErrMalformed},
		{"cost over MaxCost", tlv(0xA4, tlv(0x80, fp), tlv(0x81, []byte{1, 0, 0, 0, 0})), ErrCostTooHigh},
		{"subtypes on ed25519", tlv(0xA4, tlv(0x80, fp), tlv(0x81, []byte{2, 0, 0}), tlv(0x82, []byte{3, 8})), ErrMalformed},
		{"threshold without subtypes", tlv(0xA2, tlv(0x80, fp), tlv(0x81, []byte{1})), ErrMalformed},
		{"threshold subtypes preimage", tlv(0xA2, tlv(0x80, fp), tlv(0x81, []byte{1}), tlv(0x82, []byte{7, 0x80})), ErrUnsupportedType},
		{"threshold subtypes empty", tlv(0xA2, tlv(0x80, fp), tlv(0x81, []byte{1}), tlv(0x82, []byte{0})), ErrUnsupportedType},
		{"subtypes trailing zero bit", tlv(0xA2, tlv(0x80, fp), tlv(0x81, []byte{1}), tlv(0x82, []byte{2, 8})), ErrMalformed},
		{"subtypes unused bits set", tlv(0xA2, tlv(0x80, fp), tlv(0x81, []byte{1}), tlv(0x82, []byte{3, 9})), ErrMalformed},
		{"subtypes bad header", tlv(0xA2, tlv(0x80, fp), tlv(0x81, []byte{1}), tlv(0x82, []byte{8, 8})), ErrMalformed},
		{"subtypes over 32 bits", tlv(0xA2, tlv(0x80, fp), tlv(0x81, []byte{1}), tlv(0x82, []byte{0, 0, 0, 0, 0, 1})), ErrMalformed},
		{"extra field", tlv(0xA2, thr[2:], tlv(0x83, []byte{0})), ErrMalformed},
		{"too large", make([]byte, MaxConditionBytes+1), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeCondition(tt.der); !errors.Is(err, tt.want) {
				t.Fatalf("DecodeCondition(%x)=%v, want %v", tt.der, err, tt.want)
			}
		})
	}
}

func TestMaxLengthsAreTight(t *testing.T) {
	c := Condition{Type: TypeThreshold, Cost: MaxCost, Subtypes: thresholdSubtypes}
	if got := len(c.URI()) + 1; got != 121 {
		t.Fatalf("longest URI with '&'=%d bytes, want 121 (MaxURIBytes doc)", got)
	}
	if got := len(c.Encode()); got != 47 || got > MaxConditionBytes {
		t.Fatalf("longest condition=%d bytes, want 47 <= MaxConditionBytes", got)
	}
	if _, err := ParseURI(c.URI() + "&"); err != nil {
		t.Fatalf("ParseURI(longest)=%v, want nil", err)
	}
	if _, err := DecodeCondition(c.Encode()); err != nil {
		t.Fatalf("DecodeCondition(longest)=%v, want nil", err)
	}
}

// genCondition draws a condition that DecodeCondition and ParseURI accept.
func genCondition(t *rapid.T) Condition {
	c := Condition{
		Type: rapid.SampledFrom([]Type{TypeEd25519, TypeThreshold}).Draw(t, "type"),
		Cost: rapid.Uint64Range(0, MaxCost).Draw(t, "cost"),
	}
	copy(c.Fingerprint[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "fingerprint"))
	if c.Type == TypeThreshold {
		c.Subtypes = thresholdSubtypes
	}
	return c
}

func TestConditionRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genCondition(t)
		if got, err := DecodeCondition(c.Encode()); err != nil || got != c {
			t.Fatalf("DecodeCondition(Encode())=%+v, %v; want %+v", got, err, c)
		}
		if got, err := ParseURI(c.URI()); err != nil || got != c {
			t.Fatalf("ParseURI(URI())=%+v, %v; want %+v", got, err, c)
		}
		params := strings.Split(strings.SplitN(c.URI(), "?", 2)[1], "&")
		perm := rapid.Permutation(params).Draw(t, "order")
		shuffled := strings.SplitN(c.URI(), "?", 2)[0] + "?" + strings.Join(perm, "&")
		if got, err := ParseURI(shuffled); err != nil || got != c {
			t.Fatalf("ParseURI(%s)=%+v, %v; want %+v", shuffled, got, err, c)
		}
		if !schemaURIPattern.MatchString(shuffled) || !schemaURIPattern.MatchString(c.URI()+"&") {
			t.Fatalf("%s does not match BigchainDB's schema pattern", shuffled)
		}
	})
}

func TestBitStringEncoding(t *testing.T) {
	tests := []struct {
		bits uint32
		want []byte
	}{
		{0, []byte{0}},
		{1 << 0, []byte{7, 0x80}},
		{1 << 4, []byte{3, 0x08}},
		{1<<4 | 1<<0 | 1<<1 | 1<<3, []byte{3, 0xD8}},
		{1 << 8, []byte{7, 0, 0x80}},
		{1 << 31, []byte{0, 0, 0, 0, 1}},
	}
	for _, tt := range tests {
		got := derBits(tt.bits)
		if !bytes.Equal(got, tt.want) {
			t.Fatalf("derBits(%#x)=%x, want %x", tt.bits, got, tt.want)
		}
		if back, err := parseBits(got); err != nil || back != tt.bits {
			t.Fatalf("parseBits(%x)=%#x, %v; want %#x", got, back, err, tt.bits)
		}
	}
}

func TestDERIntegerAndLength(t *testing.T) {
	ints := []struct {
		v    uint64
		want []byte
	}{
		{0, []byte{0}}, {127, []byte{0x7f}}, {128, []byte{0, 0x80}}, {131072, []byte{2, 0, 0}},
		{MaxCost, []byte{0, 0xff, 0xff, 0xff, 0xff}},
	}
	for _, tt := range ints {
		if got := derUint(tt.v); !bytes.Equal(got, tt.want) {
			t.Fatalf("derUint(%d)=%x, want %x", tt.v, got, tt.want)
		}
	}
	lengths := []struct {
		n    int
		want []byte
	}{
		{0, []byte{0}}, {127, []byte{0x7f}}, {128, []byte{0x81, 0x80}}, {256, []byte{0x82, 1, 0}},
	}
	for _, tt := range lengths {
		if got := appendLength(nil, tt.n); !bytes.Equal(got, tt.want) {
			t.Fatalf("appendLength(%d)=%x, want %x", tt.n, got, tt.want)
		}
	}
}
