package genesis

import (
	"strings"
	"testing"
)

// withFee returns the dev document with a fee asset of treasury key 5.
func withFee(t *testing.T) (*Doc, string) {
	t.Helper()
	d := devDoc(t)
	tx, err := FeeAssetCreate(testKey(t, 5), d.ChainID)
	if err != nil {
		t.Fatalf("FeeAssetCreate()=%v", err)
	}
	d.Fee = &Fee{AssetID: tx.ID, Treasury: testKey(t, 5).PublicBase58()}
	return d, string(d.Encode())
}

func TestFeeRoundTrip(t *testing.T) {
	d, enc := withFee(t)
	got, err := Decode([]byte(enc))
	if err != nil {
		t.Fatalf("Decode()=%v", err)
	}
	if *got.Fee != *d.Fee || string(got.Hash()) != string(d.Hash()) {
		t.Fatalf("Decode(Encode()) fee %+v, want %+v", got.Fee, d.Fee)
	}
	plain := devDoc(t)
	if string(plain.Hash()) == string(d.Hash()) {
		t.Fatal("Hash() ignores the fee")
	}
	again, err := FeeAssetCreate(testKey(t, 5), d.ChainID)
	if err != nil || again.ID != d.Fee.AssetID {
		t.Fatalf("FeeAssetCreate() is not deterministic: %v %s", err, again.ID)
	}
}

func TestFeeRefused(t *testing.T) {
	d, enc := withFee(t)
	tests := []struct{ name, doc, want string }{
		{"short asset id", strings.Replace(enc, d.Fee.AssetID, "abcd", 1), "fee.asset_id: want 64 lowercase hexadecimal digits"},
		{"upper-case asset id", strings.Replace(enc, d.Fee.AssetID, strings.ToUpper(d.Fee.AssetID), 1), "fee.asset_id"},
		{"bad treasury", strings.Replace(enc, d.Fee.Treasury, "0OIl", 1), "fee.treasury"},
		{"unknown field", strings.Replace(enc, `"treasury"`, `"owner": 1, "treasury"`, 1), "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode([]byte(tt.doc)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode()=%v, want an error containing %q", err, tt.want)
			}
		})
	}
}
