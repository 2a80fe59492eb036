package ledger_test

import (
	"math"
	"testing"

	"github.com/ipdb/ipdb-node/ledger"
)

func TestAmountSum(t *testing.T) {
	var s ledger.AmountSum
	for range 3 {
		s.Add(math.MaxUint64)
	}
	// 3 × (2^64-1) = 2·2^64 + (2^64-3)
	if s.Hi != 2 || s.Lo != math.MaxUint64-2 || s.String() != "55340232221128654845" {
		t.Fatalf("3 × MaxUint64 = %+v %s, want {2, 2^64-3} 55340232221128654845", s, s)
	}
	var z ledger.AmountSum
	if z.String() != "0" {
		t.Fatalf("zero AmountSum = %s, want 0", z)
	}
}
