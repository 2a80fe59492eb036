package cryptocondition

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// Condition is a crypto-condition: the type, the SHA-256 fingerprint of the
// fulfillment's fixed parts, the cost of the worst-case fulfillment and, for a
// threshold, the set of types below it. Conditions are comparable with ==.
type Condition struct {
	Type        Type
	Fingerprint [32]byte
	Cost        uint64
	Subtypes    uint32 // bit n set = type id n occurs below (thresholds only)
}

// uriPrefix starts every condition URI (draft §10, RFC 6920 "ni" with sha-256).
const uriPrefix = "ni:///sha-256;"

// URI returns the condition URI, exactly as Python cryptoconditions'
// serialize_uri writes it:
// ni:///sha-256;<base64url fingerprint>?fpt=<type>&cost=<n>[&subtypes=<names>],
// the subtypes parameter (names sorted, comma-separated) for thresholds only.
func (c Condition) URI() string {
	var b strings.Builder
	b.WriteString(uriPrefix)
	b.WriteString(base64.RawURLEncoding.EncodeToString(c.Fingerprint[:]))
	b.WriteString("?fpt=")
	b.WriteString(c.Type.String())
	b.WriteString("&cost=")
	b.WriteString(strconv.FormatUint(c.Cost, 10))
	if c.Type == TypeThreshold {
		b.WriteString("&subtypes=")
		b.WriteString(strings.Join(subtypeNames(c.Subtypes), ","))
	}
	return b.String()
}

// subtypeNames returns the names of the types whose bits are set, sorted.
func subtypeNames(bits uint32) []string {
	var names []string
	for n := range 32 {
		if bits&(1<<n) != 0 {
			names = append(names, Type(n).String())
		}
	}
	slices.Sort(names)
	return names
}

// Encode returns the DER encoding of c (the draft's Condition CHOICE). A
// Condition whose Type is not supported encodes to bytes DecodeCondition
// refuses.
func (c Condition) Encode() []byte {
	content := appendTLV(nil, tagField0, c.Fingerprint[:])
	content = appendTLV(content, tagField1, derUint(c.Cost))
	if c.Type == TypeThreshold {
		content = appendTLV(content, tagField2, derBits(c.Subtypes))
	}
	return appendTLV(nil, choiceTag(c.Type), content)
}

// DecodeCondition parses the DER encoding of a condition. It accepts only the
// two supported types, the strict DER form (minimal lengths and integers, no
// trailing bytes), a cost of at most MaxCost and, for a threshold, subtypes of
// exactly ed25519-sha-256; whatever it accepts, Encode returns unchanged.
func DecodeCondition(b []byte) (Condition, error) {
	if len(b) > MaxConditionBytes {
		return Condition{}, fmt.Errorf("condition of %d bytes, limit %d: %w", len(b), MaxConditionBytes, ErrTooLarge)
	}
	s := cryptobyte.String(b)
	c, err := readCondition(&s)
	if err != nil {
		return Condition{}, err
	}
	if !s.Empty() {
		return Condition{}, malformed("condition: %d trailing bytes", len(s))
	}
	return c, nil
}

// readCondition reads one DER condition from s.
func readCondition(s *cryptobyte.String) (Condition, error) {
	var body cryptobyte.String
	var tag asn1.Tag
	if !s.ReadAnyASN1(&body, &tag) {
		return Condition{}, malformed("condition: bad TLV")
	}
	t, err := typeFromChoiceTag(uint8(tag))
	if err != nil {
		return Condition{}, fmt.Errorf("condition: %w", err)
	}
	c := Condition{Type: t}
	fp, err := readFixed(&body, tagField0, 32, "condition fingerprint")
	if err != nil {
		return Condition{}, err
	}
	copy(c.Fingerprint[:], fp)
	if c.Cost, err = readCost(&body); err != nil {
		return Condition{}, err
	}
	if t == TypeThreshold {
		if c.Subtypes, err = readSubtypes(&body); err != nil {
			return Condition{}, err
		}
	}
	if !body.Empty() {
		return Condition{}, malformed("condition: unexpected field after cost")
	}
	return c, nil
}

// readCost reads the cost field of a condition.
func readCost(s *cryptobyte.String) (uint64, error) {
	b, err := readField(s, tagField1, "condition cost")
	if err != nil {
		return 0, err
	}
	return parseUint(b, MaxCost, "condition cost")
}

// readSubtypes reads the subtypes field of a threshold condition, which must
// name ed25519-sha-256 and nothing else.
func readSubtypes(s *cryptobyte.String) (uint32, error) {
	b, err := readField(s, tagField2, "condition subtypes")
	if err != nil {
		return 0, err
	}
	bits, err := parseBits(b)
	if err != nil {
		return 0, err
	}
	if err := checkSubtypes(TypeThreshold, bits); err != nil {
		return 0, err
	}
	return bits, nil
}

// checkSubtypes enforces the only Subtypes each supported type can have:
// none for Ed25519, exactly ed25519-sha-256 for a threshold.
func checkSubtypes(t Type, bits uint32) error {
	want := uint32(0)
	if t == TypeThreshold {
		want = thresholdSubtypes
	}
	if bits != want {
		return fmt.Errorf("%v condition with subtypes %q, want %q: %w",
			t, strings.Join(subtypeNames(bits), ","), strings.Join(subtypeNames(want), ","), ErrUnsupportedType)
	}
	return nil
}

// typeFromChoiceTag maps a CHOICE tag to a supported type.
func typeFromChoiceTag(tag uint8) (Type, error) {
	if tag&0xE0 != 0xA0 {
		return 0, malformed("tag 0x%02x is not a constructed context tag", tag)
	}
	t := Type(tag & 0x1F)
	if !t.supported() {
		return 0, fmt.Errorf("type %v: %w", t, ErrUnsupportedType)
	}
	return t, nil
}

// ed25519Condition returns the condition of an Ed25519 public key (draft §8.4):
// fingerprint SHA-256 of DER SEQUENCE { publicKey [0] OCTET STRING }.
func ed25519Condition(pub []byte) Condition {
	contents := appendTLV(nil, tagSequence, appendTLV(nil, tagField0, pub))
	return Condition{Type: TypeEd25519, Fingerprint: sha256.Sum256(contents), Cost: ed25519Cost}
}

// thresholdCondition returns the condition of an m-of-len(members) threshold
// (draft §8.3): fingerprint SHA-256 of DER SEQUENCE { threshold [0] INTEGER,
// subconditions [1] SET OF Condition }; cost the sum of the m largest member
// costs plus 1024 per member (saturating); subtypes the union of the members'
// types and subtypes, less THRESHOLD-SHA-256 itself.
func thresholdCondition(m int, members []Condition) Condition {
	encs := make([][]byte, len(members))
	costs := make([]uint64, len(members))
	var subtypes uint32
	for i, mc := range members {
		encs[i] = mc.Encode()
		costs[i] = mc.Cost
		subtypes |= mc.Subtypes | typeBit(mc.Type)
	}
	contents := appendTLV(nil, tagField0, derUint(uint64(max(m, 0))))
	contents = appendSetOf(contents, tagSet1, encs)
	return Condition{
		Type:        TypeThreshold,
		Fingerprint: sha256.Sum256(appendTLV(nil, tagSequence, contents)),
		Cost:        thresholdCost(m, costs),
		Subtypes:    subtypes &^ typeBit(TypeThreshold),
	}
}

// typeBit returns t's bit in a Subtypes set (0 for ids beyond 31).
func typeBit(t Type) uint32 {
	if t > 31 {
		return 0
	}
	return 1 << t
}

// thresholdCost returns the sum of the m largest costs plus 1024 per cost,
// saturating at the largest uint64 instead of wrapping.
func thresholdCost(m int, costs []uint64) uint64 {
	sorted := slices.Clone(costs)
	slices.Sort(sorted)
	total := satMul(thresholdMemberCost, uint64(len(costs)))
	for i := len(sorted) - 1; i >= 0 && i >= len(sorted)-m; i-- {
		total = satAdd(total, sorted[i])
	}
	return total
}

// satAdd returns a+b, or the largest uint64 if that overflows.
func satAdd(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}

// satMul returns a*b, or the largest uint64 if that overflows.
func satMul(a, b uint64) uint64 {
	if b != 0 && a > ^uint64(0)/b {
		return ^uint64(0)
	}
	return a * b
}
