package ledger

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/ipfs/go-cid"
)

// DAG-CBOR pieces shared by blocks, commits and evidence: links and heads.

// cidLink is a CID in DAG-CBOR form.
type cidLink struct{ c cid.Cid }

// MarshalCBOR writes tag 42 over a byte string of 0x00 then the binary CID.
func (l cidLink) MarshalCBOR() ([]byte, error) { return appendLink(nil, l.c), nil }

// UnmarshalCBOR reads what MarshalCBOR writes; data is one well-formed item.
func (l *cidLink) UnmarshalCBOR(data []byte) error {
	if len(data) < 2 || data[0] != 0xd8 || data[1] != 42 {
		return errNotLink
	}
	payload, ok := cborByteString(data[2:])
	if !ok || len(payload) == 0 || payload[0] != 0 {
		return errNotLink
	}
	c, err := cid.Cast(payload[1:])
	if err != nil {
		return fmt.Errorf("%w: %w", errNotLink, err)
	}
	l.c = c
	return nil
}

func appendLink(dst []byte, c cid.Cid) []byte {
	s := c.KeyString()
	dst = append(dst, 0xd8, 42)
	dst = appendCBORHead(dst, 2, uint64(len(s)+1))
	dst = append(dst, 0)
	return append(dst, s...)
}

// appendCBORHead appends the shortest head of the given major type and argument.
func appendCBORHead(dst []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(dst, m|byte(n))
	case n <= math.MaxUint8:
		return append(dst, m|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, m|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, m|27), n)
}

// cborByteString returns the content of p if p is exactly one byte string
// of at most 255 bytes, more than any CID the chain links to.
func cborByteString(p []byte) ([]byte, bool) {
	switch {
	case len(p) >= 1 && p[0] >= 0x40 && p[0] < 0x58 && len(p) == 1+int(p[0]-0x40):
		return p[1:], true
	case len(p) >= 2 && p[0] == 0x58 && len(p) == 2+int(p[1]):
		return p[2:], true
	}
	return nil, false
}
