package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"
)

// TestDecodeTxCanonicalOrNot decodes one transaction as its canonical bytes
// (the form nodes gossip, hashed in place) and as other spellings of it
// (serialized again): each gives the same transaction, and a changed id
// fails the hash check on both ways.
func TestDecodeTxCanonicalOrNot(t *testing.T) {
	raw := createOfSize(t, testKey(t, 1), 600, 7)
	var indented bytes.Buffer
	if err := json.Indent(&indented, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	unsorted := reorderTop(t, raw)
	forms := map[string][]byte{"canonical": raw, "indented": indented.Bytes(), "keys unsorted": unsorted}
	if _, in, _ := decodeJSON(raw); in == nil {
		t.Fatalf("a built transaction's bytes are not canonical")
	}
	want, err := DecodeTx(raw)
	if err != nil {
		t.Fatalf("DecodeTx(canonical)=%v", err)
	}
	for name, b := range forms {
		if _, in, _ := decodeJSON(b); (in != nil) != (name == "canonical") {
			t.Fatalf("%s: canonical=%v", name, in != nil)
		}
		tx, err := DecodeTx(b)
		if err != nil {
			t.Fatalf("DecodeTx(%s)=%v", name, err)
		}
		if tx.ID != want.ID || !bytes.Equal(tx.Canonical(), raw) || !bytes.Equal(tx.HashedBytes(), want.HashedBytes()) {
			t.Fatalf("DecodeTx(%s): id %s, canonical %q; want %s, %q", name, tx.ID, tx.Canonical(), want.ID, raw)
		}
		if _, err := CheckStateless(tx); err != nil {
			t.Fatalf("CheckStateless(%s)=%v", name, err)
		}
		// The first hex digit of the id, changed.
		i := bytes.Index(b, []byte(want.ID))
		bad := bytes.Clone(b)
		if bad[i] == '0' {
			bad[i] = '1'
		} else {
			bad[i] = '0'
		}
		var ve *ValidationError
		if _, err := DecodeTx(bad); !errors.As(err, &ve) || !errors.Is(err, ErrInvalidHash) {
			t.Fatalf("DecodeTx(%s with another id)=%v, want %v", name, err, ErrInvalidHash)
		}
	}
	// The decoded transaction must not share the caller's buffer.
	b := bytes.Clone(raw)
	tx, err := DecodeTx(b)
	if err != nil {
		t.Fatal(err)
	}
	clear(b)
	if !bytes.Equal(tx.Canonical(), raw) {
		t.Fatalf("Canonical() changed with the input buffer")
	}
}

// reorderTop writes the canonical transaction b with its top-level members
// in reverse order, so that only the key order is not canonical.
func reorderTop(t *testing.T, b []byte) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(m))
	out := []byte{'{'}
	for i := len(keys) - 1; i >= 0; i-- {
		if i < len(keys)-1 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, keys[i]...)
		out = append(out, '"', ':')
		out = append(out, m[keys[i]]...)
	}
	return append(out, '}')
}
