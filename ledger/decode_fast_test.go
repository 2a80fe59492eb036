package ledger

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// checkFastAgrees fails t if DecodeTx's fast path accepts b and the
// general path refuses it or reads another transaction, and reports
// whether the fast path took b.
func checkFastAgrees(t testing.TB, what string, b []byte) bool {
	t.Helper()
	fast := decodeFast(b)
	if fast == nil {
		return false
	}
	general, err := decodeGeneral(b)
	if err != nil {
		t.Fatalf("%s: the fast path accepts %s, the general path refuses it: %v", what, b, err)
	}
	if fast.body != nil {
		t.Fatalf("%s: the fast path kept a generic body", what)
	}
	general.body = nil
	if !reflect.DeepEqual(fast, general) {
		t.Fatalf("%s: the fast path reads %s as\n%+v\nthe general path as\n%+v", what, b, fast, general)
	}
	return true
}

// TestDecodeFastVectors runs both paths on the driver vectors: every valid
// one in canonical form takes the fast path and reads as the general path
// reads it; no invalid one is accepted by it.
func TestDecodeFastVectors(t *testing.T) {
	valid, _ := filepath.Glob("testdata/tx/valid/*.canonical")
	invalid, _ := filepath.Glob("testdata/tx/invalid/*.json")
	pretty, _ := filepath.Glob("testdata/tx/valid/*.json")
	if len(valid) < 20 || len(invalid) < 20 {
		t.Fatalf("found %d valid and %d invalid vectors, want at least 20 of each", len(valid), len(invalid))
	}
	for _, file := range valid {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		b = []byte(strings.TrimSpace(string(b)))
		if !checkFastAgrees(t, file, b) {
			t.Errorf("%s: the fast path did not take a valid canonical transaction", file)
		}
	}
	for _, file := range append(invalid, pretty...) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeGeneral(b); err != nil && decodeFast(b) != nil {
			t.Errorf("%s: the fast path accepts what the general path refuses: %v", file, err)
		}
		checkFastAgrees(t, file, b)
	}
}

// fastShapes returns signed transactions of every layout the fast path
// reads: the operations, asset data and metadata null or not, several
// inputs and outputs, threshold conditions, no outputs.
func fastShapes(t testing.TB) []*Tx {
	t.Helper()
	alice, bob, carol := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	pub := func(keys ...KeyPair) []ed25519.PublicKey {
		out := make([]ed25519.PublicKey, len(keys))
		for i, k := range keys {
			out[i] = k.Public
		}
		return out
	}
	data := map[string]any{"name": "bike", "serial": 7, "tags": []any{"a", "b"}, "nested": map[string]any{"x": 1.5, "y": nil, "ü": "ö\n"}}
	meta := map[string]any{"note": "first"}
	create := signed(t, must(BuildCreate(pub(alice), data, meta, To(5, alice.Public), To(3, bob.Public), ToThreshold(2, 2, alice.Public, bob.Public, carol.Public))), alice)
	shared := signed(t, must(BuildCreate(pub(alice, bob), nil, nil, To(1, alice.Public, bob.Public))), alice, bob)
	empty := signed(t, must(BuildCreate(pub(alice), map[string]any{}, nil, To(1, alice.Public))), alice)
	split := signed(t, must(BuildTransfer([]Spend{SpendOf(create, 0), SpendOf(create, 1)}, create.ID, nil,
		To(4, carol.Public), To(4, alice.Public))), alice, bob)
	threshold := signed(t, must(BuildTransfer([]Spend{SpendOf(create, 2)}, create.ID, meta, To(2, carol.Public))), alice, bob)
	burn := signed(t, must(BuildTransfer([]Spend{SpendOf(shared, 0)}, shared.ID, nil)), alice, bob)
	election := signed(t, must(BuildElection(OpParameterElection, alice.Public, map[string]any{"parameter": "max_block_txs", "value": 500}, nil,
		To(10, alice.Public), To(10, bob.Public))), alice)
	vote := signed(t, must(BuildVote([]Spend{SpendOf(election, 1)}, election.ID, nil, To(10, alice.Public))), bob)
	return []*Tx{create, shared, empty, split, threshold, burn, election, vote}
}

// TestDecodeFastShapes checks that the fast path takes every common layout
// and reads it as the general path does.
func TestDecodeFastShapes(t *testing.T) {
	for i, tx := range fastShapes(t) {
		if !checkFastAgrees(t, fmt.Sprintf("shape %d (%s)", i, tx.Operation), tx.Canonical()) {
			t.Errorf("shape %d (%s): the fast path did not take %s", i, tx.Operation, tx.Canonical())
		}
	}
}

// TestDecodeFastMutations holds the fast path to the general one on
// transactions changed at random, many seeds: values replaced by others of
// every type, members dropped or added, elements dropped or repeated. The
// id is computed again after each change, so that the change reaches the
// rules behind the id check; then the bytes are also cut and flipped, for
// the parser itself. A failure names its seed.
func TestDecodeFastMutations(t *testing.T) {
	seeds := 2000
	if testing.Short() {
		seeds = 200
	}
	shapes := fastShapes(t)
	took := 0
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 0xfa57))
		base := shapes[rng.IntN(len(shapes))]
		v, err := DecodeJSON(base.Canonical())
		if err != nil {
			t.Fatal(err)
		}
		body := v.(map[string]any)
		for range 1 + rng.IntN(3) {
			mutate(rng, body)
		}
		if _, ok := body["id"]; ok {
			body["id"], _ = hashID(body, nil)
		}
		b := AppendCanonical(nil, body)
		what := fmt.Sprintf("seed %d (go test ./ledger -run 'TestDecodeFastMutations' replays it)", seed)
		if checkFastAgrees(t, what, b) {
			took++
		}
		for range 4 {
			checkFastAgrees(t, what+", bytes changed", mutateBytes(rng, b))
		}
	}
	// Some changes keep the transaction valid (a value inside asset data
	// or metadata, an amount): the fast path must take those.
	if took == 0 {
		t.Fatalf("the fast path took none of %d changed transactions", seeds)
	}
	t.Logf("the fast path took %d of %d changed transactions", took, seeds)
}

// mutationValues are what mutate puts in place of a value.
var mutationValues = []any{
	nil, "", "0", "1", "2.0", "CREATE", "TRANSFER", "VOTE", "x.y", "$set", "language",
	json.Number("0"), json.Number("1"), json.Number("255"), json.Number("256"), json.Number("1.5"), json.Number("-1"),
	true, false, []any{}, []any{nil}, map[string]any{}, map[string]any{"language": "xx"},
	strings.Repeat("a", 64), strings.Repeat("0", 64),
	"9zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "4K9H6TxxNyqvH3JZL8Eq6KV8HE9QfuJ7cq4dwKm8HhXc",
	"ni:///sha-256;AAAA?fpt=ed25519-sha-256&cost=131072", "pGSAIA", "18446744073709551616", "9000000000000000000",
	map[string]any{"type": "ed25519-sha-256", "public_key": "4K9H6TxxNyqvH3JZL8Eq6KV8HE9QfuJ7cq4dwKm8HhXc"},
	map[string]any{"output_index": json.Number("0"), "transaction_id": strings.Repeat("a", 64)},
	map[string]any{"output_index": json.Number("256"), "transaction_id": strings.Repeat("a", 64)},
}

// pickValue returns a copy of one of mutationValues (a copy, as the tree
// it goes into may be changed again).
func pickValue(rng *rand.Rand) any { return clone(mutationValues[rng.IntN(len(mutationValues))]) }

// mutate changes one place of the generic tree v at random.
func mutate(rng *rand.Rand, v any) {
	// Collect every container on the way down, then change one of them.
	var places []any
	var walk func(x any)
	walk = func(x any) {
		switch c := x.(type) {
		case map[string]any:
			places = append(places, c)
			for _, k := range sortedKeys(c) {
				walk(c[k])
			}
		case []any:
			places = append(places, c)
			for _, e := range c {
				walk(e)
			}
		}
	}
	walk(v)
	switch c := places[rng.IntN(len(places))].(type) {
	case map[string]any:
		keys := sortedKeys(c)
		switch op := rng.IntN(4); {
		case op == 0 || len(keys) == 0:
			extra := []string{"x", "ID", "Id", "id", "amount", "details", "uri", "data", "language"}
			c[extra[rng.IntN(len(extra))]] = pickValue(rng)
		case op == 1:
			delete(c, keys[rng.IntN(len(keys))])
		default:
			c[keys[rng.IntN(len(keys))]] = pickValue(rng)
		}
	case []any:
		// Arrays are changed in place (their length cannot change here, as
		// their container is not known): replace or repeat an element.
		if len(c) == 0 {
			return
		}
		i := rng.IntN(len(c))
		if rng.IntN(2) == 0 {
			c[i] = pickValue(rng)
		} else {
			c[i] = clone(c[rng.IntN(len(c))])
		}
	}
}

// mutateBytes returns b with a byte changed, inserted or removed, or a
// span cut out.
func mutateBytes(rng *rand.Rand, b []byte) []byte {
	out := append([]byte(nil), b...)
	i := rng.IntN(len(out))
	switch rng.IntN(4) {
	case 0:
		out[i] = " \"\\,:{}[]0aZ\x00\xff"[rng.IntN(14)]
	case 1:
		out = append(out[:i], append([]byte{out[rng.IntN(len(out))]}, out[i:]...)...)
	case 2:
		out = append(out[:i], out[i+1:]...)
	default:
		j := min(len(out), i+1+rng.IntN(40))
		out = append(out[:i], out[j:]...)
	}
	return out
}

// TestDecodeFastEdges changes one value of a valid transaction at a time
// to what breaks one rule the fast path checks itself (the id made right
// again): the general path refuses each, so the fast path must not take
// it. Unsigned inputs are valid to decode (the signature check refuses
// them later) but left to the general path.
func TestDecodeFastEdges(t *testing.T) {
	shapes := fastShapes(t)
	create, transfer := shapes[0], shapes[3]
	ref := map[string]any{"output_index": json.Number("0"), "transaction_id": transfer.ID}
	for _, tt := range []struct {
		name string
		tx   *Tx
		edit func(body map[string]any)
	}{
		{"metadata {}", create, func(b map[string]any) { b["metadata"] = map[string]any{} }},
		{"metadata a string", create, func(b map[string]any) { b["metadata"] = "x" }},
		{"asset data a list", create, func(b map[string]any) { b["asset"] = map[string]any{"data": []any{}} }},
		{"CREATE with asset id", create, func(b map[string]any) { b["asset"] = map[string]any{"id": transfer.ID} }},
		{"TRANSFER with asset data", transfer, func(b map[string]any) { b["asset"] = map[string]any{"data": nil} }},
		{"CREATE spending an output", create, func(b map[string]any) { input(b, 0)["fulfills"] = ref }},
		{"TRANSFER spending nothing", transfer, func(b map[string]any) { input(b, 1)["fulfills"] = nil }},
		{"CREATE with two inputs", create, func(b map[string]any) {
			b["inputs"] = append(b["inputs"].([]any), clone(b["inputs"].([]any)[0]))
		}},
		{"output index 256", transfer, func(b map[string]any) {
			input(b, 0)["fulfills"].(map[string]any)["output_index"] = json.Number("256")
		}},
		{"output index 01", transfer, func(b map[string]any) {
			input(b, 0)["fulfills"].(map[string]any)["output_index"] = json.Number("1.0")
		}},
		{"output index with a leading zero", transfer, func(b map[string]any) {
			input(b, 0)["fulfills"].(map[string]any)["output_index"] = json.Number("01")
		}},
		{"amount 0", create, func(b map[string]any) { output(b, 0)["amount"] = "0" }},
		{"amount over the maximum", create, func(b map[string]any) { output(b, 0)["amount"] = "9000000000000000001" }},
		{"amount 21 digits", create, func(b map[string]any) { output(b, 0)["amount"] = strings.Repeat("1", 21) }},
		{"uri of another condition", create, func(b map[string]any) {
			output(b, 0)["condition"].(map[string]any)["uri"] = output(b, 1)["condition"].(map[string]any)["uri"]
		}},
		{"public keys not the details'", create, func(b map[string]any) { output(b, 0)["public_keys"] = output(b, 1)["public_keys"] }},
		{"no public keys", create, func(b map[string]any) { output(b, 0)["public_keys"] = []any{} }},
		{"a key not base58", create, func(b map[string]any) { output(b, 0)["public_keys"] = []any{"0OIl"} }},
		{"fulfillment not base64url", create, func(b map[string]any) { input(b, 0)["fulfillment"] = "a+b/" }},
		{"fulfillment not a fulfillment", create, func(b map[string]any) { input(b, 0)["fulfillment"] = "pGSAIA" }},
		{"unknown operation", create, func(b map[string]any) { b["operation"] = "MINT" }},
		{"version 2.1", create, func(b map[string]any) { b["version"] = "2.1" }},
		{"a key with a dot in asset data", create, func(b map[string]any) {
			b["asset"].(map[string]any)["data"].(map[string]any)["a.b"] = json.Number("1")
		}},
		{"a bad language in metadata", create, func(b map[string]any) { b["metadata"] = map[string]any{"language": "klingon"} }},
		{"an extra member", create, func(b map[string]any) { output(b, 0)["extra"] = nil }},
	} {
		v, err := DecodeJSON(tt.tx.Canonical())
		if err != nil {
			t.Fatal(err)
		}
		body := v.(map[string]any)
		tt.edit(body)
		body["id"], _ = hashID(body, nil)
		b := AppendCanonical(nil, body)
		if _, err := decodeGeneral(b); err == nil {
			t.Fatalf("%s: the general path accepts %s; the edit breaks no rule", tt.name, b)
		}
		if checkFastAgrees(t, tt.name, b) {
			t.Errorf("%s: the fast path took it", tt.name)
		}
	}
	// Free-form values not in canonical form, with the id computed over
	// the bytes as they are: the general path serializes them again to
	// hash them, and finds another id.
	for _, edit := range [][2]string{
		{`"metadata":{"note":"first"}`, `"metadata":{"note": "first"}`},
		{`"metadata":{"note":"first"}`, `"metadata":{"note":"fir\u0073t"}`},
		{`"serial":7`, `"serial":7.00`},
		{`"serial":7`, `"serial":-0`},
		{`"tags":["a","b"]`, `"tags":[ "a","b"]`},
		{`"name":"bike","nested"`, `"nested":{"x":1.5,"y":null,"ü":"ö\n"},"name":"bike","x"`},
	} {
		b := []byte(strings.Replace(string(create.Canonical()), edit[0], edit[1], 1))
		if string(b) == string(create.Canonical()) {
			t.Fatalf("edit %q does not apply to %s", edit[0], create.Canonical())
		}
		b = withIDOfBytes(t, b)
		if _, err := decodeGeneral(b); err == nil {
			t.Fatalf("%s: the general path accepts %s", edit[1], b)
		}
		if checkFastAgrees(t, edit[1], b) {
			t.Errorf("%s: the fast path took it", edit[1])
		}
	}
	for _, ff := range []any{"", nil, map[string]any{"type": "ed25519-sha-256", "public_key": create.Inputs[0].OwnersBefore[0]}} {
		v, err := DecodeJSON(create.Canonical())
		if err != nil {
			t.Fatal(err)
		}
		body := v.(map[string]any)
		input(body, 0)["fulfillment"] = ff
		body["id"], _ = hashID(body, nil)
		b := AppendCanonical(nil, body)
		if _, err := decodeGeneral(b); err != nil {
			t.Fatalf("unsigned input %v: the general path refuses it: %v", ff, err)
		}
		if decodeFast(b) != nil {
			t.Errorf("unsigned input %v: the fast path took it", ff)
		}
	}
}

// withIDOfBytes returns b, a transaction's bytes, with its id set to the
// hash of b itself with the id null, whatever b's layout.
func withIDOfBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	at := strings.Index(string(b), `,"id":"`)
	if at < 0 {
		t.Fatalf("no id in %s", b)
	}
	start, end := at+len(`,"id":`), at+len(`,"id":`)+66
	hashed := string(b[:start]) + "null" + string(b[end:])
	return []byte(string(b[:start]) + `"` + idOf([]byte(hashed)) + `"` + string(b[end:]))
}

func input(body map[string]any, i int) map[string]any {
	return body["inputs"].([]any)[i].(map[string]any)
}
func output(body map[string]any, i int) map[string]any {
	return body["outputs"].([]any)[i].(map[string]any)
}
