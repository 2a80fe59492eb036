package cryptocondition

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mr-tron/base58"
	"pgregory.net/rapid"
)

// jsonDecoder returns a decoder of text that keeps numbers as json.Number.
func jsonDecoder(text string) *json.Decoder {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	return dec
}

// decodeJSON decodes text with UseNumber, as the ledger decodes transactions.
func decodeJSON(t fataler, text string) any {
	t.Helper()
	dec := jsonDecoder(text)
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", text, err)
	}
	return v
}

func TestParseDetailsRejects(t *testing.T) {
	k0, k1 := base58.Encode(testPub(0)), base58.Encode(testPub(1))
	short := base58.Encode(testPub(0)[:31])
	ed := `{"type":"ed25519-sha-256","public_key":"` + k0 + `"}`
	ed1 := `{"type":"ed25519-sha-256","public_key":"` + k1 + `"}`
	tests := []struct {
		name, json string
		path       string
		want       error
	}{
		{"not an object", `[]`, "", ErrInvalidDetails},
		{"null", `null`, "", ErrInvalidDetails},
		{"missing type", `{"public_key":"` + k0 + `"}`, "type", ErrInvalidDetails},
		{"type not a string", `{"type":4,"public_key":"` + k0 + `"}`, "type", ErrInvalidDetails},
		{"preimage type", `{"type":"preimage-sha-256","preimage":""}`, "type", ErrUnsupportedType},
		{"unknown key", `{"type":"ed25519-sha-256","public_key":"` + k0 + `","z":1,"b":2}`, "b", ErrInvalidDetails},
		{"missing public_key", `{"type":"ed25519-sha-256"}`, "public_key", ErrInvalidDetails},
		{"public_key not a string", `{"type":"ed25519-sha-256","public_key":5}`, "public_key", ErrInvalidDetails},
		{"public_key not base58", `{"type":"ed25519-sha-256","public_key":"0OIl` + k0[4:] + `"}`, "public_key", ErrInvalidDetails},
		{"public_key of 31 bytes", `{"type":"ed25519-sha-256","public_key":"` + short + `"}`, "public_key", ErrInvalidDetails},
		{"public_key too long", `{"type":"ed25519-sha-256","public_key":"` + k0 + `1"}`, "public_key", ErrInvalidDetails},
		{"public_key empty", `{"type":"ed25519-sha-256","public_key":""}`, "public_key", ErrInvalidDetails},
		{"threshold key on ed25519", `{"type":"ed25519-sha-256","public_key":"` + k0 + `","threshold":1}`, "threshold", ErrInvalidDetails},
		{"missing threshold", `{"type":"threshold-sha-256","subconditions":[` + ed + `]}`, "threshold", ErrInvalidDetails},
		{"missing subconditions", `{"type":"threshold-sha-256","threshold":1}`, "subconditions", ErrInvalidDetails},
		{"threshold as string", `{"type":"threshold-sha-256","threshold":"1","subconditions":[` + ed + `]}`, "threshold", ErrInvalidDetails},
		{"threshold 1.0", `{"type":"threshold-sha-256","threshold":1.0,"subconditions":[` + ed + `]}`, "threshold", ErrInvalidDetails},
		{"threshold 1e0", `{"type":"threshold-sha-256","threshold":1e0,"subconditions":[` + ed + `]}`, "threshold", ErrInvalidDetails},
		{"threshold 0", `{"type":"threshold-sha-256","threshold":0,"subconditions":[` + ed + `]}`, "threshold", ErrInvalidDetails},
		{"threshold -1", `{"type":"threshold-sha-256","threshold":-1,"subconditions":[` + ed + `]}`, "threshold", ErrInvalidDetails},
		{"threshold above members", `{"type":"threshold-sha-256","threshold":3,"subconditions":[` + ed + `,` + ed1 + `]}`, "threshold", ErrInvalidDetails},
		{"threshold huge", `{"type":"threshold-sha-256","threshold":99999999999999999999,"subconditions":[` + ed + `]}`, "threshold", ErrInvalidDetails},
		{"subconditions not an array", `{"type":"threshold-sha-256","threshold":1,"subconditions":{}}`, "subconditions", ErrInvalidDetails},
		{"subconditions empty", `{"type":"threshold-sha-256","threshold":1,"subconditions":[]}`, "subconditions", ErrInvalidDetails},
		{"subconditions too many", `{"type":"threshold-sha-256","threshold":1,"subconditions":[` + strings.Repeat(ed+",", MaxSubconditions) + ed + `]}`, "subconditions", ErrTooManySubconditions},
		{"nested bad key", `{"type":"threshold-sha-256","threshold":1,"subconditions":[` + ed + `,{"type":"threshold-sha-256","threshold":1,"subconditions":[{"type":"ed25519-sha-256","public_key":"` + short + `"}]}]}`, "subconditions[1].subconditions[0].public_key", ErrInvalidDetails},
		{"nested member not an object", `{"type":"threshold-sha-256","threshold":1,"subconditions":[` + ed + `,"x"]}`, "subconditions[1]", ErrInvalidDetails},
		{"too deep", string(mustJSON(t, chain(MaxDepth).JSON())), strings.Repeat("subconditions[0].", MaxDepth)[:len("subconditions[0].")*MaxDepth-1], ErrTooDeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDetails(decodeJSON(t, tt.json))
			var de *DetailsError
			if !errors.As(err, &de) || !errors.Is(err, tt.want) || de.Path != tt.path {
				t.Fatalf("ParseDetails()=%v, want %v at %q", err, tt.want, tt.path)
			}
		})
	}
}

func TestDetailsErrorMessage(t *testing.T) {
	v := decodeJSON(t, `{"type":"threshold-sha-256","threshold":1,"subconditions":[{"type":"ed25519-sha-256"}]}`)
	_, err := ParseDetails(v)
	want := "cryptocondition: invalid condition details at subconditions[0].public_key: missing key"
	if err == nil || err.Error() != want {
		t.Fatalf("ParseDetails()=%v, want %q", err, want)
	}
	_, err = ParseDetails("x")
	want = "cryptocondition: invalid condition details at details: want an object, got a string"
	if err == nil || err.Error() != want {
		t.Fatalf("ParseDetails()=%v, want %q", err, want)
	}
}

func TestParseDetailsCostTooHigh(t *testing.T) {
	hundred := make([]*Details, MaxSubconditions)
	for i := range hundred {
		hundred[i] = leaf(i % 3)
	}
	level1 := Threshold(MaxSubconditions, hundred...)
	level2 := Threshold(MaxSubconditions, slices.Repeat([]*Details{level1}, MaxSubconditions)...)
	level3 := Threshold(4, level2, level2, level2, level2)
	if err := level2.Validate(); err != nil {
		t.Fatalf("Validate(level 2)=%v, want nil", err)
	}
	if err := level3.Validate(); !errors.Is(err, ErrCostTooHigh) {
		t.Fatalf("Validate(level 3)=%v, want ErrCostTooHigh", err)
	}
	if _, err := ParseDetails(level3.JSON()); !errors.Is(err, ErrCostTooHigh) {
		t.Fatalf("ParseDetails(level 3)=%v, want ErrCostTooHigh", err)
	}
}

func TestParseDetailsAcceptsInt(t *testing.T) {
	v := map[string]any{
		"type":          "threshold-sha-256",
		"threshold":     1,
		"subconditions": []any{leaf(0).JSON()},
	}
	d, err := ParseDetails(v)
	if err != nil {
		t.Fatalf("ParseDetails(int threshold)=%v, want nil", err)
	}
	if got, want := d.URI(), Threshold(1, leaf(0)).URI(); got != want {
		t.Fatalf("URI()=%s, want %s", got, want)
	}
}

func TestValidateRejects(t *testing.T) {
	cyclic := Threshold(1, leaf(0))
	cyclic.Subconditions = append(cyclic.Subconditions, cyclic)
	tests := []struct {
		name string
		d    *Details
		want error
	}{
		{"nil", nil, ErrInvalidDetails},
		{"nil member", Threshold(1, leaf(0), nil), ErrInvalidDetails},
		{"short key", Ed25519(testPub(0)[:31]), ErrInvalidDetails},
		{"ed25519 with members", &Details{Type: TypeEd25519, PublicKey: testPub(0), Subconditions: []*Details{leaf(1)}}, ErrInvalidDetails},
		{"threshold with key", &Details{Type: TypeThreshold, PublicKey: testPub(0), Threshold: 1, Subconditions: []*Details{leaf(1)}}, ErrInvalidDetails},
		{"threshold 0", Threshold(0, leaf(0)), ErrInvalidDetails},
		{"threshold above members", Threshold(2, leaf(0)), ErrInvalidDetails},
		{"no members", Threshold(1), ErrInvalidDetails},
		{"unsupported type", &Details{Type: 0}, ErrUnsupportedType},
		{"cycle", cyclic, ErrTooDeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.d.Validate(); !errors.Is(err, tt.want) {
				t.Fatalf("Validate()=%v, want %v", err, tt.want)
			}
		})
	}
	if got := cyclic.Depth(); got != MaxDepth+1 {
		t.Fatalf("Depth(cycle)=%d, want %d", got, MaxDepth+1)
	}
}

func TestPublicKeysAndDepth(t *testing.T) {
	d := Threshold(1, leaf(3), Threshold(2, leaf(1), Threshold(1, leaf(2)), leaf(1)), leaf(0))
	var got []string
	for _, k := range d.PublicKeys() {
		got = append(got, base58.Encode(k))
	}
	var want []string
	for _, i := range []int{3, 1, 2, 1, 0} {
		want = append(want, base58.Encode(testPub(i)))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("PublicKeys()=%v, want %v", got, want)
	}
	if got := d.Depth(); got != 4 {
		t.Fatalf("Depth()=%d, want 4", got)
	}
	if got := leaf(0).Depth(); got != 1 {
		t.Fatalf("leaf Depth()=%d, want 1", got)
	}
}

// genDetails draws a valid details tree of at most depth levels over the
// first eight test keys.
func genDetails(t *rapid.T, depth int) *Details {
	if depth == 1 || rapid.Bool().Draw(t, "leaf") {
		return leaf(rapid.IntRange(0, 7).Draw(t, "key"))
	}
	n := rapid.IntRange(1, 5).Draw(t, "members")
	subs := make([]*Details, n)
	for i := range subs {
		subs[i] = genDetails(t, depth-1)
	}
	return Threshold(rapid.IntRange(1, n).Draw(t, "threshold"), subs...)
}

func TestDetailsJSONRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := genDetails(t, 4)
		text := mustJSON(t, d.JSON())
		back, err := ParseDetails(decodeJSON(t, string(text)))
		if err != nil {
			t.Fatalf("ParseDetails(%s): %v", text, err)
		}
		if !reflect.DeepEqual(back, d) {
			t.Fatalf("ParseDetails(JSON())=%+v, want %+v", back, d)
		}
		if !bytes.Equal(mustJSON(t, back.JSON()), text) {
			t.Fatalf("JSON() not stable for %s", text)
		}
	})
}

// naiveThresholdCost is the draft's cost rule computed by brute force: the
// largest sum over all m-member subsets, plus 1024 per member.
func naiveThresholdCost(m int, costs []uint64) uint64 {
	best := uint64(0)
	for mask := 0; mask < 1<<len(costs); mask++ {
		var sum uint64
		count := 0
		for i, c := range costs {
			if mask&(1<<i) != 0 {
				sum += c
				count++
			}
		}
		if count == m {
			best = max(best, sum)
		}
	}
	return best + 1024*uint64(len(costs))
}

func TestThresholdCostMatchesNaiveOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		costs := rapid.SliceOfN(rapid.Uint64Range(0, MaxCost), 1, 8).Draw(t, "costs")
		m := rapid.IntRange(1, len(costs)).Draw(t, "m")
		if got, want := thresholdCost(m, costs), naiveThresholdCost(m, costs); got != want {
			t.Fatalf("thresholdCost(%d, %v)=%d, want %d", m, costs, got, want)
		}
	})
}

func TestThresholdCostSaturates(t *testing.T) {
	huge := []uint64{^uint64(0), ^uint64(0)}
	if got := thresholdCost(2, huge); got != ^uint64(0) {
		t.Fatalf("thresholdCost(overflow)=%d, want max uint64", got)
	}
}

// mustJSON marshals v.
func mustJSON(t fataler, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return b
}
