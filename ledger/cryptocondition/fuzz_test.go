package cryptocondition

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// seedFulfillments returns the DER fulfillments of testdata/vectors, valid and
// rejected, as fuzz seeds.
func seedFulfillments(f *testing.F) [][]byte {
	var valid []vector
	loadJSON(f, "valid.json", &valid)
	var rejected []rejectedVector
	loadJSON(f, "rejected.json", &rejected)
	var uris []string
	for _, v := range valid {
		uris = append(uris, v.Fulfillment)
	}
	for _, v := range rejected {
		uris = append(uris, v.Fulfillment)
	}
	var seeds [][]byte
	for _, u := range uris {
		u = strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(u), "=")
		if der, err := base64.RawURLEncoding.DecodeString(u); err == nil && u != "" {
			seeds = append(seeds, der)
		}
	}
	return seeds
}

func FuzzDecodeFulfillment(f *testing.F) {
	for _, der := range seedFulfillments(f) {
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		ff, err := DecodeFulfillment(der)
		if err != nil {
			return
		}
		if got := ff.Encode(); !bytes.Equal(got, der) {
			t.Fatalf("Encode()=%x, want the decoded input %x", got, der)
		}
		c := ff.Condition()
		if back, err := DecodeCondition(c.Encode()); err != nil || back != c {
			t.Fatalf("DecodeCondition(Condition().Encode())=%+v, %v; want %+v", back, err, c)
		}
		if back, err := ParseURI(c.URI()); err != nil || back != c {
			t.Fatalf("ParseURI(Condition().URI())=%+v, %v; want %+v", back, err, c)
		}
		if back, err := ParseFulfillmentURI(ff.URI()); err != nil || !bytes.Equal(back.Encode(), der) {
			t.Fatalf("ParseFulfillmentURI(URI())=%v, want the same fulfillment", err)
		}
		if err := ff.Verify(testMsg); err != nil && !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("Verify() of a decoded fulfillment=%v, want nil or ErrInvalidSignature", err)
		}
	})
}

func FuzzParseFulfillmentURI(f *testing.F) {
	for _, der := range seedFulfillments(f) {
		f.Add(base64.RawURLEncoding.EncodeToString(der))
	}
	f.Add("pGSA=")
	f.Fuzz(func(t *testing.T, s string) {
		ff, err := ParseFulfillmentURI(s)
		if err != nil {
			return
		}
		if got := ff.URI(); got != s {
			t.Fatalf("URI()=%s, want the parsed input %s", got, s)
		}
	})
}

func FuzzDecodeCondition(f *testing.F) {
	var valid []vector
	loadJSON(f, "valid.json", &valid)
	for _, v := range valid {
		f.Add(mustHex(f, v.ConditionBinary))
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := DecodeCondition(der)
		if err != nil {
			return
		}
		if got := c.Encode(); !bytes.Equal(got, der) {
			t.Fatalf("Encode()=%x, want the decoded input %x", got, der)
		}
		if back, err := ParseURI(c.URI()); err != nil || back != c {
			t.Fatalf("ParseURI(URI())=%+v, %v; want %+v", back, err, c)
		}
	})
}

func FuzzParseURI(f *testing.F) {
	var valid []vector
	loadJSON(f, "valid.json", &valid)
	for _, v := range valid {
		f.Add(v.ConditionURI)
	}
	f.Add(aliceURI + "&")
	f.Add(strings.Replace(bep13TwoOfTwoURI, "fpt=threshold-sha-256&cost=264192", "cost=264192&fpt=threshold-sha-256", 1))
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseURI(s)
		if err != nil {
			return
		}
		if !schemaURIPattern.MatchString(s) {
			t.Fatalf("ParseURI accepted %q, which BigchainDB's schema pattern refuses", s)
		}
		uri := c.URI()
		if back, err := ParseURI(uri); err != nil || back != c {
			t.Fatalf("ParseURI(URI())=%+v, %v; want %+v", back, err, c)
		}
		if back, err := DecodeCondition(c.Encode()); err != nil || back != c {
			t.Fatalf("DecodeCondition(Encode())=%+v, %v; want %+v", back, err, c)
		}
		if len(s) != len(uri) && len(s) != len(uri)+1 {
			t.Fatalf("ParseURI(%q) accepted a string of %d bytes for a %d-byte URI", s, len(s), len(uri))
		}
	})
}

func FuzzParseDetails(f *testing.F) {
	var valid []vector
	loadJSON(f, "valid.json", &valid)
	for _, v := range valid {
		f.Add(string(mustJSON(f, v.Details)))
	}
	f.Fuzz(func(t *testing.T, text string) {
		dec := jsonDecoder(text)
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		d, err := ParseDetails(v)
		if err != nil {
			return
		}
		again, err := ParseDetails(decodeJSON(t, string(mustJSON(t, d.JSON()))))
		if err != nil || again.URI() != d.URI() {
			t.Fatalf("ParseDetails(JSON())=%v, URI %s; want URI %s", err, again.URI(), d.URI())
		}
	})
}
