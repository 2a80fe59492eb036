package cryptocondition

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestSignPicksFirstSatisfiableMembers(t *testing.T) {
	d := Threshold(2, leaf(0), Threshold(2, leaf(1), leaf(2)), leaf(3), leaf(4))
	f := mustSign(t, d, testMsg, keys(4, 3, 1, 0))
	// leaf(0) is first and signable; the 2-of-2 lacks key 2; leaf(3) is next.
	if got := len(f.Subfulfillments); got != 2 {
		t.Fatalf("len(Subfulfillments)=%d, want 2", got)
	}
	if !bytes.Equal(f.Subfulfillments[0].PublicKey, testPub(0)) || !bytes.Equal(f.Subfulfillments[1].PublicKey, testPub(3)) {
		t.Fatalf("Sign chose keys %x and %x, want keys 0 and 3", f.Subfulfillments[0].PublicKey, f.Subfulfillments[1].PublicKey)
	}
	want := []Condition{d.Subconditions[1].Condition(), leaf(4).Condition()}
	if !slices.Equal(f.Subconditions, want) {
		t.Fatalf("Subconditions=%+v, want %+v", f.Subconditions, want)
	}
	if err := f.Fulfills(d.Condition(), testMsg); err != nil {
		t.Fatalf("Fulfills: %v", err)
	}
}

func TestSignRejects(t *testing.T) {
	mangled := slices.Clone(testKey(0))
	mangled[40] ^= 1
	tests := []struct {
		name string
		d    *Details
		keys []ed25519.PrivateKey
		want error
	}{
		{"no keys", leaf(0), nil, ErrThresholdNotMet},
		{"other key", leaf(0), keys(1), ErrThresholdNotMet},
		{"threshold short by one", Threshold(2, leaf(0), leaf(1), leaf(2)), keys(1), ErrThresholdNotMet},
		{"nested unmet", Threshold(1, Threshold(2, leaf(0), leaf(1)), Threshold(2, leaf(2), leaf(3))), keys(0, 2), ErrThresholdNotMet},
		{"seed-only key", leaf(0), []ed25519.PrivateKey{testKey(0).Seed()}, ErrInvalidKey},
		{"mismatched public half", leaf(0), []ed25519.PrivateKey{mangled}, ErrInvalidKey},
		{"invalid details", Threshold(3, leaf(0)), keys(0), ErrInvalidDetails},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.d.Sign(testMsg, tt.keys); !errors.Is(err, tt.want) {
				t.Fatalf("Sign()=%v, want %v", err, tt.want)
			}
		})
	}
}

// naiveSatisfiable is the obvious recursive definition of "the keys can meet d".
func naiveSatisfiable(d *Details, have map[int]bool) bool {
	if d.Type == TypeEd25519 {
		for i := range 8 {
			if have[i] && bytes.Equal(d.PublicKey, testPub(i)) {
				return true
			}
		}
		return false
	}
	met := 0
	for _, sub := range d.Subconditions {
		if naiveSatisfiable(sub, have) {
			met++
		}
	}
	return met >= d.Threshold
}

// checkMinimal checks that every threshold of f has exactly its details'
// threshold of subfulfillments and the other members as conditions.
func checkMinimal(t *rapid.T, d *Details, f *Fulfillment) {
	if d.Type == TypeEd25519 {
		return
	}
	if len(f.Subfulfillments) != d.Threshold || len(f.Subfulfillments)+len(f.Subconditions) != len(d.Subconditions) {
		t.Fatalf("threshold %d of %d fulfilled by %d subfulfillments and %d subconditions",
			d.Threshold, len(d.Subconditions), len(f.Subfulfillments), len(f.Subconditions))
	}
	next := 0 // Sign keeps member order within each of the two lists
	for _, sub := range d.Subconditions {
		if next < len(f.Subfulfillments) && f.Subfulfillments[next].Condition() == sub.Condition() {
			checkMinimal(t, sub, f.Subfulfillments[next])
			next++
		}
	}
	if next != len(f.Subfulfillments) {
		t.Fatalf("matched %d of %d subfulfillments to members", next, len(f.Subfulfillments))
	}
}

func TestSignProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := genDetails(t, 4)
		have := map[int]bool{}
		var ks []ed25519.PrivateKey
		for _, i := range rapid.SliceOfDistinct(rapid.IntRange(0, 7), rapid.ID).Draw(t, "keys") {
			have[i] = true
			ks = append(ks, testKey(i))
		}
		f, err := d.Sign(testMsg, ks)
		if ok := naiveSatisfiable(d, have); ok != (err == nil) {
			t.Fatalf("Sign()=%v, naive satisfiable=%v", err, ok)
		}
		if err != nil {
			if !errors.Is(err, ErrThresholdNotMet) {
				t.Fatalf("Sign()=%v, want ErrThresholdNotMet", err)
			}
			return
		}
		checkMinimal(t, d, f)
		back, err := DecodeFulfillment(f.Encode())
		if err != nil {
			t.Fatalf("DecodeFulfillment(Encode())=%v", err)
		}
		if err := back.Fulfills(d.Condition(), testMsg); err != nil {
			t.Fatalf("Fulfills()=%v", err)
		}
		if !bytes.Equal(back.Encode(), f.Encode()) {
			t.Fatalf("Encode() not stable")
		}
	})
}
