package ratelimit

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// Epoch returns the accounting epoch of height h and the last height of
// that epoch: heights 1..epochBlocks are epoch 0, epoch(h) =
// (h-1)/epochBlocks, and it ends at (epoch+1)*epochBlocks (saturating at
// the largest uint64). Height 0 (genesis) counts as epoch 0 and
// epochBlocks 0 as 1, so no input panics.
func Epoch(h, epochBlocks uint64) (epoch, endsHeight uint64) {
	epochBlocks = max(epochBlocks, 1)
	epoch = (max(h, 1) - 1) / epochBlocks
	return epoch, satMul(epoch+1, epochBlocks)
}

// Usage is what one key used and bought in one epoch.
type Usage struct {
	UsedTxs   uint64
	UsedBytes uint64
	BoughtTxs uint64
}

// Encode returns u in its stored form: UsedTxs, UsedBytes and BoughtTxs as
// 8-byte big-endian integers, UsageSize bytes in all.
func (u Usage) Encode() []byte {
	b := make([]byte, 0, UsageSize)
	b = binary.BigEndian.AppendUint64(b, u.UsedTxs)
	b = binary.BigEndian.AppendUint64(b, u.UsedBytes)
	return binary.BigEndian.AppendUint64(b, u.BoughtTxs)
}

// DecodeUsage reads a Usage that Encode wrote. Any UsageSize bytes are a
// Usage; other lengths are refused.
func DecodeUsage(b []byte) (Usage, error) {
	if len(b) != UsageSize {
		return Usage{}, fmt.Errorf("ratelimit: usage row of %d bytes, want %d", len(b), UsageSize)
	}
	return Usage{
		UsedTxs:   binary.BigEndian.Uint64(b[0:8]),
		UsedBytes: binary.BigEndian.Uint64(b[8:16]),
		BoughtTxs: binary.BigEndian.Uint64(b[16:24]),
	}, nil
}

// RowKey returns the store key of the usage row of pub (base58, as
// transactions carry it) in epoch: 'u', the epoch as 8 bytes big-endian,
// then pub's bytes. Rows of one epoch are contiguous, so a node can drop
// past epochs with one range. The result is fresh; a valid key (44 bytes
// at most) gives at most 53 bytes.
func RowKey(pub string, epoch uint64) []byte {
	k := make([]byte, 0, 9+len(pub))
	k = append(k, rowPrefix)
	k = binary.BigEndian.AppendUint64(k, epoch)
	return append(k, pub...)
}

// satAdd returns a+b, or the largest uint64 if that overflows.
func satAdd(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return s
}

// satMul returns a*b, or the largest uint64 if that overflows.
func satMul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

// satSub returns a-b, or 0 if b > a.
func satSub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}
