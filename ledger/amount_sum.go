package ledger

import (
	"math/big"
	"math/bits"
)

// AmountSum adds amounts without overflow: 256 amounts of MaxAmount pass
// 2^64. The ledger sums inputs and outputs with it; ratelimit sums fee
// payments. The zero value is 0.
type AmountSum struct{ Hi, Lo uint64 }

// Add adds a.
func (s *AmountSum) Add(a uint64) {
	var carry uint64
	s.Lo, carry = bits.Add64(s.Lo, a, 0)
	s.Hi += carry
}

// String returns the sum in decimal.
func (s AmountSum) String() string {
	n := new(big.Int).SetUint64(s.Hi)
	n.Lsh(n, 64)
	return n.Add(n, new(big.Int).SetUint64(s.Lo)).String()
}
