package cryptocondition

import (
	"bytes"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// DER tags of the draft's ASN.1 module (AUTOMATIC TAGS, so every field is an
// implicit context-specific tag numbered by position).
const (
	tagSequence = 0x30 // universal SEQUENCE, used by fingerprint contents
	tagField0   = 0x80 // [0] primitive: fingerprint, publicKey, threshold
	tagField1   = 0x81 // [1] primitive: cost, signature
	tagField2   = 0x82 // [2] primitive: subtypes BIT STRING
	tagSet0     = 0xA0 // [0] constructed: subfulfillments SET OF
	tagSet1     = 0xA1 // [1] constructed: subconditions SET OF
)

// choiceTag returns the constructed context tag [t] that selects type t in the
// Condition and Fulfillment CHOICEs. Ids above 30 cannot be low-tag encoded;
// they map to a tag no decoder here accepts.
func choiceTag(t Type) byte {
	return 0xA0 | byte(min(t, 31))
}

// appendTLV appends the DER encoding of tag, the length of content and content.
func appendTLV(dst []byte, tag byte, content []byte) []byte {
	dst = append(dst, tag)
	dst = appendLength(dst, len(content))
	return append(dst, content...)
}

// appendLength appends a DER length: short form below 128, else the minimal
// long form.
func appendLength(dst []byte, n int) []byte {
	if n < 0x80 {
		return append(dst, byte(n))
	}
	var buf [8]byte
	i := len(buf)
	for ; n > 0; n >>= 8 {
		i--
		buf[i] = byte(n)
	}
	dst = append(dst, 0x80|byte(len(buf)-i))
	return append(dst, buf[i:]...)
}

// derUint returns the content octets of a DER INTEGER holding v: minimal
// two's complement, with a leading zero when the top bit would be set.
func derUint(v uint64) []byte {
	var buf [9]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte(v)
		v >>= 8
		if v == 0 {
			break
		}
	}
	if buf[i]&0x80 != 0 {
		i--
	}
	return slices.Clone(buf[i:])
}

// derBits returns the content octets of a DER named BIT STRING whose bit n is
// set when bit n of v is: no trailing zero bits, unused bits zero.
func derBits(v uint32) []byte {
	nbits := 0
	for n := 31; n >= 0; n-- {
		if v&(1<<n) != 0 {
			nbits = n + 1
			break
		}
	}
	nbytes := (nbits + 7) / 8
	out := make([]byte, 1+nbytes)
	out[0] = byte(nbytes*8 - nbits)
	for n := range nbits {
		if v&(1<<n) != 0 {
			out[1+n/8] |= 0x80 >> (n % 8)
		}
	}
	return out
}

// appendSetOf appends a SET OF under tag whose elements are encs, sorted as DER
// requires (X.690 §11.6: ascending octet order; for complete TLVs this equals
// the zero-padded comparison, since no TLV is a proper prefix of another).
func appendSetOf(dst []byte, tag byte, encs [][]byte) []byte {
	slices.SortFunc(encs, bytes.Compare)
	return appendTLV(dst, tag, bytes.Join(encs, nil))
}

// readField reads one primitive implicit field with the given tag.
func readField(s *cryptobyte.String, tag byte, name string) ([]byte, error) {
	var out []byte
	if !s.ReadASN1Bytes(&out, asn1.Tag(tag)) {
		return nil, malformed("%s: want tag 0x%02x", name, tag)
	}
	return out, nil
}

// readFixed reads a primitive implicit field that must hold exactly n octets,
// and returns a copy that does not alias the input.
func readFixed(s *cryptobyte.String, tag byte, n int, name string) ([]byte, error) {
	b, err := readField(s, tag, name)
	if err != nil {
		return nil, err
	}
	if len(b) != n {
		return nil, malformed("%s: %d bytes, want %d", name, len(b), n)
	}
	return slices.Clone(b), nil
}

// parseUint decodes the content of a DER INTEGER that must be minimal,
// non-negative and at most limit.
func parseUint(b []byte, limit uint64, name string) (uint64, error) {
	switch {
	case len(b) == 0:
		return 0, malformed("%s: empty INTEGER", name)
	case b[0]&0x80 != 0:
		return 0, malformed("%s: negative INTEGER", name)
	case len(b) > 1 && b[0] == 0 && b[1]&0x80 == 0:
		return 0, malformed("%s: INTEGER not minimally encoded", name)
	case len(b) > 9:
		return 0, malformed("%s: INTEGER too large", name)
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	if v > limit {
		return 0, fmt.Errorf("%s: %d exceeds %d: %w", name, v, limit, ErrCostTooHigh)
	}
	return v, nil
}

// parseBits decodes the content of a DER named BIT STRING into a bit set (bit n
// of the result = bit n of the string). It refuses more than 32 bits, non-zero
// unused bits and trailing zero bits, which DER forbids for named bit lists.
func parseBits(b []byte) (uint32, error) {
	if len(b) == 0 || b[0] > 7 || (len(b) == 1 && b[0] != 0) {
		return 0, malformed("subtypes: bad BIT STRING header")
	}
	unused, data := int(b[0]), b[1:]
	nbits := 8*len(data) - unused
	if nbits > 32 {
		return 0, malformed("subtypes: %d bits, at most 32", nbits)
	}
	if nbits > 0 && data[len(data)-1]&(1<<unused) == 0 {
		return 0, malformed("subtypes: BIT STRING has trailing zero bits")
	}
	if nbits > 0 && data[len(data)-1]&byte(1<<unused-1) != 0 {
		return 0, malformed("subtypes: BIT STRING has non-zero unused bits")
	}
	var v uint32
	for n := range nbits {
		if data[n/8]&(0x80>>(n%8)) != 0 {
			v |= 1 << n
		}
	}
	return v, nil
}

// readSetElements splits the contents of a SET OF into element encodings,
// checking each is one well-formed TLV and that they are in DER order.
func readSetElements(set cryptobyte.String, name string) ([][]byte, error) {
	var elems [][]byte
	for !set.Empty() {
		var elem cryptobyte.String
		if !set.ReadAnyASN1Element(&elem, nil) {
			return nil, malformed("%s[%d]: bad TLV", name, len(elems))
		}
		if len(elems) == MaxSubconditions {
			return nil, fmt.Errorf("%s: more than %d: %w", name, MaxSubconditions, ErrTooManySubconditions)
		}
		if n := len(elems); n > 0 && bytes.Compare(elems[n-1], elem) > 0 {
			return nil, malformed("%s[%d]: SET OF not in DER order", name, n)
		}
		elems = append(elems, elem)
	}
	return elems, nil
}
