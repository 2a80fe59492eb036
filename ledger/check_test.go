package ledger

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/ipdb/ipdb-node/ledger/cryptocondition"
)

// fixture is a small committed chain to check invalid transactions against:
// alice CREATEd asset A (10 units to her) and asset B (5 units to her), and
// spent A's output to bob (3) and herself (7).
type fixture struct {
	alice, bob, eve KeyPair
	st              *MemState
	createA         *Tx
	createB         *Tx
	split           *Tx
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		alice: mustKey(t, aliceSeed), bob: mustKey(t, bobSeed),
		eve: testKey(t, 7), st: NewMemState(),
	}
	f.createA = signed(t, must(BuildCreate(keys(f.alice), map[string]any{"name": "A"}, nil, To(10, f.alice.Public))), f.alice)
	f.createB = signed(t, must(BuildCreate(keys(f.alice), map[string]any{"name": "B"}, nil, To(5, f.alice.Public))), f.alice)
	apply(t, f.st, f.createA)
	apply(t, f.st, f.createB)
	f.split = signed(t, must(BuildTransfer([]Spend{SpendOf(f.createA, 0)}, f.createA.ID, nil,
		To(3, f.bob.Public), To(7, f.alice.Public))), f.alice)
	apply(t, f.st, f.split)
	return f
}

func testKey(t testing.TB, n byte) KeyPair {
	t.Helper()
	seed := make([]byte, 32)
	seed[0] = n
	k, err := NewKeyPair(seed)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func must(u *Unsigned, err error) *Unsigned {
	if err != nil {
		panic("test fixture: " + err.Error())
	}
	return u
}

func signed(t failer, u *Unsigned, ks ...KeyPair) *Tx {
	t.Helper()
	privs := make([]ed25519.PrivateKey, len(ks))
	for i, k := range ks {
		privs[i] = k.Private
	}
	tx, err := u.Sign(privs...)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// encode returns the canonical bytes of a body, with its id recomputed when
// rehash is set.
func encode(body map[string]any, rehash bool) []byte {
	if rehash {
		body["id"], _ = hashID(body, nil)
	}
	return AppendCanonical(nil, body)
}

// clone deep-copies a generic JSON value.
func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = clone(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = clone(e)
		}
		return a
	}
	return v
}

func cloneBody(tx *Tx) map[string]any { return clone(tx.Body()).(map[string]any) }

// checkAll runs every check a node runs on bytes from outside.
func checkAll(st State, b []byte) error {
	v, err := Verify(b)
	if err != nil {
		return err
	}
	_, err = Check(st, v)
	return err
}

func TestInvalidTransactions(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name    string
		bytes   func() []byte
		kind    error
		message string // the full error text, or a prefix ending in "..."
	}{
		{"missing id", func() []byte {
			b := cloneBody(f.createA)
			delete(b, "id")
			return encode(b, false)
		}, ErrInvalidHash, "Invalid transaction (InvalidHash): No transaction id found!"},
		{"wrong id", func() []byte {
			b := cloneBody(f.createA)
			b["metadata"] = map[string]any{"x": "y"}
			return encode(b, false)
		}, ErrInvalidHash, "Invalid transaction (InvalidHash): The transaction's id '" + f.createA.ID + "' isn't equal to the hash of its body, i.e. it's not valid."},
		{"id null", func() []byte {
			b := cloneBody(f.createA)
			b["id"] = nil
			return encode(b, false)
		}, ErrInvalidHash, "Invalid transaction (InvalidHash): The transaction's id 'None' isn't equal to the hash of its body, i.e. it's not valid."},
		{"missing version", func() []byte {
			b := cloneBody(f.createA)
			delete(b, "version")
			return encode(b, true)
		}, ErrSchema, "Invalid transaction schema: 'version' is a required property"},
		{"version 1.0", func() []byte {
			b := cloneBody(f.createA)
			b["version"] = "1.0"
			return encode(b, true)
		}, ErrSchema, `Invalid transaction schema: '1.0' does not match '^2\.0$'`},
		{"unknown top-level key", func() []byte {
			b := cloneBody(f.createA)
			b["foo"] = "bar"
			return encode(b, true)
		}, ErrSchema, "Invalid transaction schema: Additional properties are not allowed ('foo' was unexpected)"},
		{"unknown operation", func() []byte {
			b := cloneBody(f.createA)
			b["operation"] = "BURN"
			return encode(b, true)
		}, ErrSchema, "Invalid transaction schema: 'BURN' is not one of ['CREATE', 'TRANSFER', 'VALIDATOR_ELECTION', 'CHAIN_MIGRATION_ELECTION', 'VOTE', 'PARAMETER_ELECTION', 'QUOTA_ELECTION']"},
		{"empty metadata", func() []byte {
			b := cloneBody(f.createA)
			b["metadata"] = map[string]any{}
			return encode(b, true)
		}, ErrSchema, "Invalid transaction schema: {} does not have enough properties"},
		{"CREATE with two inputs", func() []byte {
			b := cloneBody(f.createA)
			ins := b["inputs"].([]any)
			b["inputs"] = []any{ins[0], clone(ins[0])}
			return encode(b, true)
		}, ErrSchema, `Invalid transaction schema: [{"fulfillment":"...`},
		{"CREATE that fulfills an output", func() []byte {
			b := cloneBody(f.createA)
			in := b["inputs"].([]any)[0].(map[string]any)
			in["fulfills"] = map[string]any{"transaction_id": f.createB.ID, "output_index": jsonInt(0)}
			return encode(b, true)
		}, ErrSchema, "Invalid transaction schema: {\"output_index\":0,\"transaction_id\":\"..."},
		{"amount not a string", func() []byte {
			b := cloneBody(f.createA)
			b["outputs"].([]any)[0].(map[string]any)["amount"] = jsonInt(10)
			return encode(b, true)
		}, ErrSchema, "Invalid transaction schema: 10 is not of type 'string'"},
		{"amount zero", func() []byte {
			b := cloneBody(f.createA)
			b["outputs"].([]any)[0].(map[string]any)["amount"] = "0"
			return encode(b, true)
		}, ErrAmount, "Invalid transaction (AmountError): `amount` must be greater than 0"},
		{"amount over 9e18", func() []byte {
			b := cloneBody(f.createA)
			b["outputs"].([]any)[0].(map[string]any)["amount"] = "9000000000000000001"
			return encode(b, true)
		}, ErrAmount, "Invalid transaction (AmountError): `amount` must be <= 9000000000000000000"},
		{"amount negative", func() []byte {
			b := cloneBody(f.createA)
			b["outputs"].([]any)[0].(map[string]any)["amount"] = "-1"
			return encode(b, true)
		}, ErrSchema, "Invalid transaction schema: '-1' does not match '^[0-9]{1,20}$'"},
		{"bad condition uri", func() []byte {
			b := cloneBody(f.createA)
			b["outputs"].([]any)[0].(map[string]any)["condition"].(map[string]any)["uri"] = "ni:///sha-256;abc"
			return encode(b, true)
		}, ErrSchema, "Invalid transaction schema: 'ni:///sha-256;abc' does not match '^ni:///sha-256;..."},
		{"uri not of the details", func() []byte {
			b := cloneBody(f.createA)
			b["outputs"].([]any)[0].(map[string]any)["condition"].(map[string]any)["uri"] = bobURI
			return encode(b, true)
		}, ErrSchema, "Invalid transaction schema: '" + bobURI + "' is not the uri of the condition details (..."},
		{"public_keys not of the details", func() []byte {
			b := cloneBody(f.createA)
			b["outputs"].([]any)[0].(map[string]any)["public_keys"] = []any{bobPub}
			return encode(b, true)
		}, ErrSchema, "Invalid transaction schema: [\"" + bobPub + "\"] are not the keys of the condition details [\"" + alicePub + "\"]"},
		{"dot in asset key", func() []byte {
			b := cloneBody(f.createA)
			b["asset"] = map[string]any{"data": map[string]any{"a.b": "c"}}
			return encode(b, true)
		}, ErrValidation, `Invalid transaction (ValidationError): Invalid key name "a.b" in asset object. The key name cannot contain characters ".", "$" or null characters`},
		{"dollar in nested metadata key", func() []byte {
			b := cloneBody(f.createA)
			b["metadata"] = map[string]any{"list": []any{map[string]any{"$set": "x"}}}
			return encode(b, true)
		}, ErrValidation, `Invalid transaction (ValidationError): Invalid key name "$set" in metadata object. The key name cannot contain characters ".", "$" or null characters`},
		{"NUL in asset key", func() []byte {
			b := cloneBody(f.createA)
			b["asset"] = map[string]any{"data": map[string]any{"a\x00": "c"}}
			return encode(b, true)
		}, ErrValidation, "Invalid transaction (ValidationError): Invalid key name \"a\x00\" in asset object..."},
		{"unsupported language", func() []byte {
			b := cloneBody(f.createA)
			b["metadata"] = map[string]any{"language": "klingon"}
			return encode(b, true)
		}, ErrValidation, `Invalid transaction (ValidationError): MongoDB does not support text search for the language "klingon". If you do not understand this error message then please rename key/field "language" to something else like "lang".`},
		{"unparsable fulfillment", func() []byte {
			b := cloneBody(f.createA)
			b["inputs"].([]any)[0].(map[string]any)["fulfillment"] = "AAAA"
			return encode(b, true)
		}, ErrInvalidSignature, "Invalid transaction (InvalidSignature): Fulfillment URI couldn't been parsed"},
		{"unsigned", func() []byte {
			b := cloneBody(f.createA)
			b["inputs"].([]any)[0].(map[string]any)["fulfillment"] = nil
			return encode(b, true)
		}, ErrInvalidSignature, "Invalid transaction (InvalidSignature): Transaction signature is invalid."},
		{"tampered after signing", func() []byte {
			b := cloneBody(f.createA)
			b["metadata"] = map[string]any{"tampered": true}
			return encode(b, true)
		}, ErrInvalidSignature, "Invalid transaction (InvalidSignature): Transaction signature is invalid."},
		{"CREATE signed by a key not its owner", func() []byte {
			u := must(BuildCreate(keys(f.alice), map[string]any{"name": "C"}, nil, To(1, f.alice.Public)))
			u.conds[0] = cryptocondition.Ed25519(f.eve.Public)
			return signed(t, u, f.eve).Canonical()
		}, ErrInvalidSignature, "Invalid transaction (InvalidSignature): Transaction signature is invalid."},
		{"duplicate CREATE", func() []byte { return f.createA.Canonical() },
			ErrDuplicateTx, "Invalid transaction (DuplicateTransaction): transaction `" + f.createA.ID + "` already exists"},
		{"input does not exist", func() []byte {
			ghost := Spend{Ref: OutputRef{TxID: strings.Repeat("ab", 32)}, Condition: cryptocondition.Ed25519(f.alice.Public)}
			return signed(t, must(BuildTransfer([]Spend{ghost}, f.createA.ID, nil, To(1, f.bob.Public))), f.alice).Canonical()
		}, ErrInputDoesNotExist, "Invalid transaction (InputDoesNotExist): input `" + strings.Repeat("ab", 32) + "` doesn't exist"},
		{"output index does not exist", func() []byte {
			s := SpendOf(f.split, 1)
			s.Ref.Index = 5
			return signed(t, must(BuildTransfer([]Spend{s}, f.createA.ID, nil, To(7, f.bob.Public))), f.alice).Canonical()
		}, ErrInputDoesNotExist, "Invalid transaction (InputDoesNotExist): input `" + f.split.ID + "` has no output 5"},
		{"spends a spent output", func() []byte {
			return signed(t, must(BuildTransfer([]Spend{SpendOf(f.createA, 0)}, f.createA.ID, nil, To(10, f.bob.Public))), f.alice).Canonical()
		}, ErrDoubleSpend, "Invalid transaction (DoubleSpend): input `" + f.createA.ID + "` was already spent"},
		{"spends one output twice", func() []byte {
			s := SpendOf(f.split, 1)
			return signed(t, must(BuildTransfer([]Spend{s, s}, f.createA.ID, nil, To(14, f.bob.Public))), f.alice).Canonical()
		}, ErrDoubleSpend, `Invalid transaction (DoubleSpend): tx "...`},
		{"asset id of another asset", func() []byte {
			return signed(t, must(BuildTransfer([]Spend{SpendOf(f.split, 1)}, f.createB.ID, nil, To(7, f.bob.Public))), f.alice).Canonical()
		}, ErrAssetIDMismatch, "Invalid transaction (AssetIdMismatch): The asset id of the input does not match the asset id of the transaction"},
		{"inputs of two assets", func() []byte {
			return signed(t, must(BuildTransfer([]Spend{SpendOf(f.split, 1), SpendOf(f.createB, 0)}, f.createA.ID, nil, To(12, f.bob.Public))), f.alice).Canonical()
		}, ErrAssetIDMismatch, "Invalid transaction (AssetIdMismatch): All inputs of all transactions passed need to have the same asset id"},
		{"amounts not conserved", func() []byte {
			return signed(t, must(BuildTransfer([]Spend{SpendOf(f.split, 1)}, f.createA.ID, nil, To(20, f.bob.Public))), f.alice).Canonical()
		}, ErrAmount, "Invalid transaction (AmountError): The amount used in the inputs `7` needs to be same as the amount used in the outputs `20`"},
		{"fulfillment of another condition", func() []byte {
			s := SpendOf(f.split, 1) // alice's output, signed by eve
			s.Condition = cryptocondition.Ed25519(f.eve.Public)
			return signed(t, must(BuildTransfer([]Spend{s}, f.createA.ID, nil, To(7, f.eve.Public))), f.eve).Canonical()
		}, ErrInvalidSignature, "Invalid transaction (InvalidSignature): Transaction signature is invalid."},
		{"owners_before not the spent output's owners", func() []byte {
			u := must(BuildTransfer([]Spend{SpendOf(f.split, 1)}, f.createA.ID, nil, To(7, f.bob.Public)))
			u.body["inputs"].([]any)[0].(map[string]any)["owners_before"] = []any{alicePub, bobPub}
			return signed(t, u, f.alice).Canonical()
		}, ErrInvalidSignature, "Invalid transaction (InvalidSignature): Transaction signature is invalid."},
		{"threshold too deep", func() []byte {
			d := cryptocondition.Ed25519(f.alice.Public)
			for range MaxThresholdDepth + 2 {
				d = cryptocondition.Threshold(1, d)
			}
			b := cloneBody(f.createA)
			out := b["outputs"].([]any)[0].(map[string]any)
			out["condition"] = map[string]any{"details": d.JSON(), "uri": "ni:///sha-256;AAAA?fpt=threshold-sha-256&cost=1&subtypes=ed25519-sha-256"}
			return encode(b, true)
		}, ErrThresholdTooDeep, "Invalid transaction (ThresholdTooDeep): condition details nest thresholds deeper than 16"},
		{"election without governance", func() []byte {
			b := cloneBody(f.createA)
			b["operation"] = OpValidatorElection
			u := &Unsigned{body: b, conds: []*cryptocondition.Details{cryptocondition.Ed25519(f.alice.Public)}, refs: []*OutputRef{nil}}
			return signed(t, u, f.alice).Canonical()
		}, ErrOperation, "Invalid transaction (ValidationError): operation VALIDATOR_ELECTION is not accepted on this network"},
		{"not an object", func() []byte { return []byte(`["CREATE"]`) },
			ErrSchema, `Invalid transaction schema: ["CREATE"] is not of type 'object'`},
		{"duplicate key", func() []byte {
			b := f.createA.Canonical()
			return append([]byte(`{"version":"2.0",`), b[1:]...)
		}, ErrSchema, `Invalid transaction schema: duplicate key "version"...`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkAll(f.st, tt.bytes())
			if !errors.Is(err, tt.kind) {
				t.Fatalf("checkAll() = %v, want kind %v", err, tt.kind)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("checkAll() = %T, want *ValidationError", err)
			}
			if !messageMatches(err.Error(), tt.message) {
				t.Fatalf("message:\n got %q\nwant %q", err.Error(), tt.message)
			}
		})
	}
}

// messageMatches compares a message with a want that is exact, or a prefix
// when it ends in "...".
func messageMatches(got, want string) bool {
	if p, ok := strings.CutSuffix(want, "..."); ok {
		return strings.HasPrefix(got, p)
	}
	return got == want
}

func TestDoubleSpendInOneBlock(t *testing.T) {
	f := newFixture(t)
	toBob := signed(t, must(BuildTransfer([]Spend{SpendOf(f.split, 1)}, f.createA.ID, nil, To(7, f.bob.Public))), f.alice)
	toEve := signed(t, must(BuildTransfer([]Spend{SpendOf(f.split, 1)}, f.createA.ID, nil, To(7, f.eve.Public))), f.alice)
	b := NewBatch(f.st, Checker{})
	for i, tx := range []*Tx{toBob, toEve} {
		v, err := Verify(tx.Canonical())
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.Add(v)
		if i == 0 && err != nil {
			t.Fatalf("first spend: Add() = %v, want nil", err)
		}
		if i == 1 && !errors.Is(err, ErrDoubleSpend) {
			t.Fatalf("second spend: Add() = %v, want DoubleSpend", err)
		}
	}
	if b.Len() != 1 {
		t.Fatalf("batch holds %d txs, want 1", b.Len())
	}
}

func TestCreateAndSpendInOneBlock(t *testing.T) {
	f := newFixture(t)
	create := signed(t, must(BuildCreate(keys(f.bob), map[string]any{"name": "C"}, nil, To(2, f.bob.Public))), f.bob)
	spend := signed(t, must(BuildTransfer([]Spend{SpendOf(create, 0)}, create.ID, nil, To(2, f.alice.Public))), f.bob)
	b := NewBatch(f.st, Checker{})
	for _, tx := range []*Tx{create, spend, create} {
		v, err := Verify(tx.Canonical())
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.Add(v)
		if tx == create && b.Len() == 2 {
			if !errors.Is(err, ErrDuplicateTx) {
				t.Fatalf("CREATE repeated in one block: Add() = %v, want DuplicateTransaction", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Add(%s) = %v", tx.Operation, err)
		}
	}
}

// TestVerifyCommitted checks that VerifyCommitted skips the signature checks
// and nothing else: a forged signature passes, every other fault Verify
// finds is refused with the same error.
func TestVerifyCommitted(t *testing.T) {
	f := newFixture(t)
	// forged re-signs nothing: the metadata changes under the old
	// fulfillments, the id is recomputed.
	forged := func(tx *Tx) []byte {
		b := cloneBody(tx)
		b["metadata"] = map[string]any{"forged": true}
		return encode(b, true)
	}
	for _, tx := range []*Tx{f.createA, f.split} {
		checkCommittedAgrees(t, tx.Canonical())
		if _, err := VerifyCommitted(tx.Canonical()); err != nil {
			t.Fatalf("VerifyCommitted(%s) = %v", tx.Operation, err)
		}
		b := forged(tx)
		if _, err := Verify(b); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("Verify(forged %s) = %v, want InvalidSignature", tx.Operation, err)
		}
		v, err := VerifyCommitted(b)
		if err != nil {
			t.Fatalf("VerifyCommitted(forged %s) = %v, want accepted", tx.Operation, err)
		}
		if v.Tx().Metadata == nil {
			t.Fatalf("VerifyCommitted(forged %s) lost the metadata", tx.Operation)
		}
	}
	refused := map[string][]byte{
		"unsigned": func() []byte {
			b := cloneBody(f.createA)
			b["inputs"].([]any)[0].(map[string]any)["fulfillment"] = nil
			return encode(b, true)
		}(),
		"CREATE signed by a key not its owner": func() []byte {
			u := must(BuildCreate(keys(f.alice), map[string]any{"name": "C"}, nil, To(1, f.alice.Public)))
			u.conds[0] = cryptocondition.Ed25519(f.eve.Public)
			return signed(t, u, f.eve).Canonical()
		}(),
		"unparsable fulfillment": func() []byte {
			b := cloneBody(f.createA)
			b["inputs"].([]any)[0].(map[string]any)["fulfillment"] = "AAAA"
			return encode(b, true)
		}(),
		"spends one output twice": func() []byte {
			s := SpendOf(f.split, 1)
			return signed(t, must(BuildTransfer([]Spend{s, s}, f.createA.ID, nil, To(14, f.bob.Public))), f.alice).Canonical()
		}(),
		"wrong id": func() []byte {
			b := cloneBody(f.createA)
			b["metadata"] = map[string]any{"x": "y"}
			return encode(b, false)
		}(),
	}
	for name, b := range refused {
		_, want := Verify(b)
		_, got := VerifyCommitted(b)
		if want == nil || got == nil || got.Error() != want.Error() {
			t.Errorf("%s: VerifyCommitted = %v, want Verify's %v", name, got, want)
		}
	}
}
