package ratelimit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"pgregory.net/rapid"
)

func TestUsageRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		u := Usage{UsedTxs: rapid.Uint64().Draw(t, "txs"), UsedBytes: rapid.Uint64().Draw(t, "bytes"),
			BoughtTxs: rapid.Uint64().Draw(t, "bought")}
		b := u.Encode()
		got, err := DecodeUsage(b)
		if err != nil || got != u || len(b) != UsageSize {
			t.Fatalf("DecodeUsage(Encode(%+v))=%+v, %v (%d bytes), want it back", u, got, err, len(b))
		}
	})
}

func TestUsageEncoding(t *testing.T) {
	u := Usage{UsedTxs: 1, UsedBytes: 0x0203, BoughtTxs: 0x0405060708090a0b}
	want := []byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	if got := u.Encode(); !bytes.Equal(got, want) {
		t.Fatalf("Encode()=%x, want %x", got, want)
	}
}

func TestDecodeUsageBadLength(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "ratelimit: usage row of 0 bytes, want 24"},
		{23, "ratelimit: usage row of 23 bytes, want 24"},
		{25, "ratelimit: usage row of 25 bytes, want 24"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if _, err := DecodeUsage(make([]byte, tt.n)); errText(err) != tt.want {
				t.Fatalf("DecodeUsage()=%v, want %q", err, tt.want)
			}
		})
	}
}

func TestRowKey(t *testing.T) {
	got := RowKey("abc", 0x0102)
	want := []byte{'u', 0, 0, 0, 0, 0, 0, 1, 2, 'a', 'b', 'c'}
	if !bytes.Equal(got, want) {
		t.Fatalf("RowKey()=%q, want %q", got, want)
	}
	// Rows sort by epoch first, so past epochs are one range.
	if bytes.Compare(RowKey("zzz", 1), RowKey("aaa", 2)) >= 0 {
		t.Fatalf("RowKey(zzz, 1) sorts after RowKey(aaa, 2)")
	}
}

// FuzzDecodeUsage feeds DecodeUsage the bytes a store could hold: it
// must never panic, accept exactly UsageSize bytes, and re-encode what it
// accepts to the same bytes.
func FuzzDecodeUsage(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "usage", "*.bin"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/usage (%v)", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatalf("ReadFile()=%v", err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := DecodeUsage(b)
		if (err == nil) != (len(b) == UsageSize) {
			t.Fatalf("DecodeUsage(%d bytes)=%v", len(b), err)
		}
		if err == nil && !bytes.Equal(u.Encode(), b) {
			t.Fatalf("Encode(DecodeUsage(%x))=%x", b, u.Encode())
		}
	})
}
