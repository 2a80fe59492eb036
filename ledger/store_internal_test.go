package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/ipdb/ipdb-node/ledger/cryptocondition"
)

// genKey draws an Ed25519 public key from a small set, so keys repeat.
func genKey(t *rapid.T, label string) ed25519.PublicKey {
	seed := sha256.Sum256([]byte{rapid.ByteRange(0, 5).Draw(t, label)})
	return ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
}

// genDetails draws an ed25519 condition or a threshold over a few keys.
func genDetails(t *rapid.T) *cryptocondition.Details {
	n := rapid.IntRange(1, 4).Draw(t, "keys")
	if n == 1 {
		return cryptocondition.Ed25519(genKey(t, "key"))
	}
	subs := make([]*cryptocondition.Details, n)
	for i := range subs {
		subs[i] = cryptocondition.Ed25519(genKey(t, "key"))
	}
	return cryptocondition.Threshold(rapid.IntRange(1, n).Draw(t, "m"), subs...)
}

func TestOutputRecordRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var txID, asset idBytes
		copy(txID[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "txid"))
		asset = txID
		if rapid.Bool().Draw(t, "other asset") {
			copy(asset[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "asset"))
		}
		d := genDetails(t)
		o := Output{Amount: rapid.Uint64Range(1, MaxAmount).Draw(t, "amount"), Details: d}
		rec := appendOutput(nil, txID, asset, &o)
		want := StoredOutput{Amount: o.Amount, Condition: d.Condition(), PublicKeys: keySet(d),
			AssetID: hex.EncodeToString(asset[:])}
		got, err := decodeOutput(rec, txID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeOutput(appendOutput())=%+v, %v, want %+v", got, err, want)
		}
		rec[0] |= outputSpent
		want.Spent = true
		if got, err := decodeOutput(rec, txID); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeOutput(spent)=%+v, %v, want %+v", got, err, want)
		}
		if _, err := decodeOutput(rec[:len(rec)-1], txID); !errors.Is(err, errCorrupt) {
			t.Fatalf("decodeOutput(truncated)=%v, want errCorrupt", err)
		}
	})
}

func TestPostingsRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		set := rapid.SliceOfDistinct(rapid.Uint16Range(0, MaxBlockTxs-1), rapid.ID[uint16]).Draw(t, "positions")
		slices.Sort(set)
		want := make([]posting, len(set))
		for i, p := range set {
			want[i] = posting{p, rapid.Float64().Draw(t, "weight")}
		}
		var got []posting
		err := readPostings(appendPostings(nil, want), func(p int, w float64) { got = append(got, posting{uint16(p), w}) })
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("readPostings(appendPostings(%v))=%v, %v", want, got, err)
		}
	})
}

func TestTxRecordRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := rapid.Uint64().Draw(t, "height")
		pos := rapid.IntRange(0, MaxBlockTxs-1).Draw(t, "pos")
		body := rapid.SliceOf(rapid.Byte()).Draw(t, "canonical")
		rec, err := decodeTxRecord(appendTxRecord(nil, h, pos, body))
		if err != nil || rec.height != h || rec.pos != uint64(pos) || !bytes.Equal(rec.canonical, body) {
			t.Fatalf("decodeTxRecord(appendTxRecord(%d, %d, %q))=%+v, %v", h, pos, body, rec, err)
		}
	})
}

func TestParseHexID(t *testing.T) {
	id := strings.Repeat("0a", 32)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"lower-case hex", id, true},
		{"upper-case hex", strings.ToUpper(id), false},
		{"short", id[:62], false},
		{"long", id + "00", false},
		{"not hex", strings.Repeat("g", 64), false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseHexID(tt.in)
			if ok != tt.ok || (ok && hex.EncodeToString(got[:]) != tt.in) {
				t.Fatalf("parseHexID(%q)=%x, %v, want ok=%v", tt.in, got, ok, tt.ok)
			}
		})
	}
}

func TestNextStateHash(t *testing.T) {
	prev := bytes.Repeat([]byte{7}, 32)
	a := &CheckedTx{tx: &Tx{ID: strings.Repeat("01", 32)}}
	b := &CheckedTx{tx: &Tx{ID: strings.Repeat("ff", 32)}}
	want := func(ids ...string) []byte {
		h := sha256.New()
		h.Write(prev)
		for _, id := range ids {
			raw, _ := hex.DecodeString(id)
			h.Write(raw)
		}
		return h.Sum(nil)
	}
	tests := []struct {
		name string
		txs  []*CheckedTx
		want []byte
	}{
		{"empty block", nil, want()},
		{"one", []*CheckedTx{a}, want(a.tx.ID)},
		{"order matters", []*CheckedTx{b, a}, want(b.tx.ID, a.tx.ID)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NextStateHash(prev, tt.txs); !bytes.Equal(got, tt.want) {
				t.Fatalf("NextStateHash()=%x, want %x", got, tt.want)
			}
		})
	}
	if bytes.Equal(NextStateHash(prev, []*CheckedTx{a, b}), NextStateHash(prev, []*CheckedTx{b, a})) {
		t.Fatalf("NextStateHash() is the same for two orders of the same transactions")
	}
}

// FuzzStoreRecords feeds arbitrary bytes to the decoders of stored records:
// a corrupt store must give errors, never panics.
func FuzzStoreRecords(f *testing.F) {
	var id idBytes
	d := cryptocondition.Threshold(1, cryptocondition.Ed25519(make(ed25519.PublicKey, 32)))
	f.Add(appendOutput(nil, id, id, &Output{Amount: 5, Details: d}))
	f.Add(appendTxRecord(nil, 300, 2, []byte(`{"a":1}`)))
	f.Add(appendPostings(nil, []posting{{0, 1.5}, {5, 0.75}, {9999, 2}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if out, err := decodeOutput(b, id); err == nil && len(out.PublicKeys) > len(b)/32 {
			t.Fatalf("decodeOutput(%d bytes) gave %d keys", len(b), len(out.PublicKeys))
		}
		if rec, err := decodeTxRecord(b); err == nil && len(rec.canonical) > len(b) {
			t.Fatalf("decodeTxRecord(%d bytes) gave %d bytes", len(b), len(rec.canonical))
		}
		n := 0
		if err := readPostings(b, func(int, float64) { n++ }); err == nil && n > len(b)/9 {
			t.Fatalf("readPostings(%d bytes) gave %d postings", len(b), n)
		}
	})
}
