package cryptocondition

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vector is one entry of testdata/vectors/valid.json (see testdata/README.md).
type vector struct {
	Name            string   `json:"name"`
	Seeds           []string `json:"seeds"`
	Details         any      `json:"details"`
	Message         string   `json:"message"`
	ConditionURI    string   `json:"conditionUri"`
	ConditionBinary string   `json:"conditionBinary"`
	Fulfillment     string   `json:"fulfillment"`
}

// rejectedVector is one entry of testdata/vectors/rejected.json.
type rejectedVector struct {
	Name        string `json:"name"`
	Fulfillment string `json:"fulfillment"`
	Message     string `json:"message"`
	Expect      string `json:"expect"`
	PythonValid any    `json:"pythonValid"`
}

// loadJSON decodes a testdata file with UseNumber, as the ledger decodes transactions.
func loadJSON(t fataler, name string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "vectors", name))
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
}

// vectorKeys derives the private keys of a vector from its seeds.
func vectorKeys(t testing.TB, seeds []string) []ed25519.PrivateKey {
	t.Helper()
	keys := make([]ed25519.PrivateKey, len(seeds))
	for i, s := range seeds {
		keys[i] = ed25519.NewKeyFromSeed(mustHex(t, s))
	}
	return keys
}

func TestReferenceVectors(t *testing.T) {
	var vectors []vector
	loadJSON(t, "valid.json", &vectors)
	if len(vectors) < 15 {
		t.Fatalf("loaded %d vectors, want at least 15", len(vectors))
	}
	for _, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			d := checkVectorCondition(t, v)
			checkVectorFulfillment(t, v, d)
		})
	}
}

// checkVectorCondition checks details, URI and binary condition of v both ways.
func checkVectorCondition(t *testing.T, v vector) *Details {
	t.Helper()
	d, err := ParseDetails(v.Details)
	if err != nil {
		t.Fatalf("ParseDetails: %v", err)
	}
	c := d.Condition()
	if got := c.URI(); got != v.ConditionURI {
		t.Fatalf("URI()=%s, want %s", got, v.ConditionURI)
	}
	if got := strings.ToUpper(hex.EncodeToString(c.Encode())); got != v.ConditionBinary {
		t.Fatalf("Encode()=%s, want %s", got, v.ConditionBinary)
	}
	if got, err := ParseURI(v.ConditionURI); err != nil || got != c {
		t.Fatalf("ParseURI()=%+v, %v; want %+v", got, err, c)
	}
	if got, err := DecodeCondition(mustHex(t, v.ConditionBinary)); err != nil || got != c {
		t.Fatalf("DecodeCondition()=%+v, %v; want %+v", got, err, c)
	}
	if got, want := mustMarshal(t, d.JSON()), mustMarshal(t, v.Details); got != want {
		t.Fatalf("JSON()=%s, want %s", got, want)
	}
	return d
}

// checkVectorFulfillment signs, decodes and verifies the fulfillment of v.
func checkVectorFulfillment(t *testing.T, v vector, d *Details) {
	t.Helper()
	msg := mustHex(t, v.Message)
	f, err := d.Sign(msg, vectorKeys(t, v.Seeds))
	if v.Fulfillment == "" {
		if !errors.Is(err, ErrThresholdNotMet) {
			t.Fatalf("Sign()=%v, want ErrThresholdNotMet", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if got := f.URI(); got != v.Fulfillment {
		t.Fatalf("Sign().URI()=%s, want %s", got, v.Fulfillment)
	}
	parsed, err := ParseFulfillmentURI(v.Fulfillment)
	if err != nil {
		t.Fatalf("ParseFulfillmentURI: %v", err)
	}
	if got := parsed.URI(); got != v.Fulfillment {
		t.Fatalf("re-encoded URI()=%s, want %s", got, v.Fulfillment)
	}
	if err := parsed.Fulfills(d.Condition(), msg); err != nil {
		t.Fatalf("Fulfills: %v", err)
	}
	if err := parsed.Verify(append(msg, 0)); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("Verify(other message)=%v, want ErrInvalidSignature", err)
	}
}

func TestRejectedVectors(t *testing.T) {
	var vectors []rejectedVector
	loadJSON(t, "rejected.json", &vectors)
	sentinels := map[string]error{
		"ErrMalformed":        ErrMalformed,
		"ErrUnsupportedType":  ErrUnsupportedType,
		"ErrThresholdNotMet":  ErrThresholdNotMet,
		"ErrInvalidSignature": ErrInvalidSignature,
	}
	for _, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			want, ok := sentinels[v.Expect]
			if !ok {
				t.Fatalf("unknown expectation %q", v.Expect)
			}
			f, err := ParseFulfillmentURI(v.Fulfillment)
			if err == nil {
				err = f.Verify(mustHex(t, v.Message))
			}
			if !errors.Is(err, want) {
				t.Fatalf("ParseFulfillmentURI+Verify()=%v, want %v", err, want)
			}
		})
	}
}

// TestSmallOrderSignaturesPassStdlib shows why verifyEd25519 adds libsodium's
// checks: crypto/ed25519 accepts the two forged signatures of rejected.json,
// which the Python reference (libsodium) refuses.
func TestSmallOrderSignaturesPassStdlib(t *testing.T) {
	var vectors []rejectedVector
	loadJSON(t, "rejected.json", &vectors)
	n := 0
	for _, v := range vectors {
		if v.Expect != "ErrInvalidSignature" {
			continue
		}
		n++
		der, err := base64.RawURLEncoding.DecodeString(v.Fulfillment)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		f, err := DecodeFulfillment(der)
		if err != nil {
			t.Fatalf("%s: DecodeFulfillment: %v", v.Name, err)
		}
		msg := mustHex(t, v.Message)
		if !ed25519.Verify(f.PublicKey, msg, f.Signature) {
			t.Fatalf("%s: ed25519.Verify()=false, want true", v.Name)
		}
		if v.PythonValid != false {
			t.Fatalf("%s: pythonValid=%v, want false", v.Name, v.PythonValid)
		}
	}
	if n != 2 {
		t.Fatalf("found %d forged-signature vectors, want 2", n)
	}
}

// mustMarshal returns the JSON text of v with sorted keys.
func mustMarshal(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return string(b)
}
