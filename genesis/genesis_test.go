package genesis

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ipdb/ipdb-node/ledger"
)

func devDoc(t *testing.T) *Doc {
	t.Helper()
	k, err := ledger.NewKeyPair(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return Dev("ipdb-dev", k, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
}

func TestDecodeRoundTrip(t *testing.T) {
	d := devDoc(t)
	got, err := Decode(d.Encode())
	if err != nil {
		t.Fatalf("Decode(Encode()) = %v", err)
	}
	if !bytes.Equal(got.Hash(), d.Hash()) {
		t.Fatalf("hash changed on a round trip")
	}
	b := d.Block()
	if err := b.ValidateBasic(); err != nil {
		t.Fatalf("genesis block: %v", err)
	}
	if b.Height != 0 || !bytes.Equal(b.StateHash, d.Hash()) {
		t.Fatalf("genesis block = height %d state %x, want 0 and the document hash", b.Height, b.StateHash)
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := string(devDoc(t).Encode())
	tests := []struct{ name, doc, want string }{
		{"unknown field", strings.Replace(good, `"chain_id"`, `"chainid": 1, "chain_id"`, 1), "unknown field"},
		{"bad chain id", strings.Replace(good, `"ipdb-dev"`, `"no spaces allowed"`, 1), "chain_id"},
		{"no caretakers", `{"chain_id":"x","genesis_time":"2026-01-01T00:00:00Z","caretakers":[]}`, "caretakers: want 1 to 100, got 0"},
		{"zero power", strings.Replace(good, `"power": 10`, `"power": 0`, 1), "caretakers[0].power"},
		{"bad key", strings.Replace(good, `"public_key": "`, `"public_key": "0`, 1), "caretakers[0].public_key"},
		{"trailing data", good + "{}", "data after the document"},
		{"no time", strings.Replace(good, `"2026-11-25T12:00:00Z"`, `"0001-01-01T00:00:00Z"`, 1), "genesis_time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := Decode(make([]byte, MaxDocBytes+1)); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("Decode(huge) = %v, want the size limit", err)
	}
}
