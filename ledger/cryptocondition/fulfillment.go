package cryptocondition

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// Fulfillment is a decoded crypto-condition fulfillment of one of the two
// supported types. A threshold fulfillment carries the fulfilled members and,
// as conditions, the unfulfilled ones; its threshold is the number of
// fulfilled members, since the encoding carries no other (as in Python
// cryptoconditions and the JS crypto-conditions package).
type Fulfillment struct {
	Type            Type
	PublicKey       ed25519.PublicKey // ed25519: 32 bytes
	Signature       []byte            // ed25519: 64 bytes
	Subfulfillments []*Fulfillment    // threshold: the fulfilled members
	Subconditions   []Condition       // threshold: the unfulfilled members, as conditions
}

// DecodeFulfillment parses the DER encoding of a fulfillment (the draft's
// Fulfillment CHOICE). It is strict: DER lengths and SET OF order, no trailing
// bytes, Ed25519 keys of 32 and signatures of 64 bytes, only the two supported
// types, at least one subfulfillment per threshold, at most MaxSubconditions
// members per threshold, MaxDepth levels, MaxFulfillmentBytes in all and a
// condition cost of at most MaxCost. Whatever it accepts, Encode returns
// unchanged. It does not verify signatures. The result does not alias der.
func DecodeFulfillment(der []byte) (*Fulfillment, error) {
	if len(der) > MaxFulfillmentBytes {
		return nil, fmt.Errorf("fulfillment of %d bytes, limit %d: %w", len(der), MaxFulfillmentBytes, ErrTooLarge)
	}
	s := cryptobyte.String(der)
	f, err := readFulfillment(&s, 1)
	if err != nil {
		return nil, err
	}
	if !s.Empty() {
		return nil, malformed("fulfillment: %d trailing bytes", len(s))
	}
	if cost := f.cost(); cost > MaxCost {
		return nil, fmt.Errorf("fulfillment condition cost %d exceeds %d: %w", cost, uint64(MaxCost), ErrCostTooHigh)
	}
	return f, nil
}

// ParseFulfillmentURI decodes the unpadded base64url form of a fulfillment
// (what BigchainDB puts in inputs[].fulfillment) and then calls
// DecodeFulfillment. Padding, the standard alphabet, line breaks and
// non-canonical trailing bits are refused.
func ParseFulfillmentURI(s string) (*Fulfillment, error) {
	if len(s) > MaxFulfillmentURIBytes {
		return nil, fmt.Errorf("fulfillment URI of %d bytes, limit %d: %w", len(s), MaxFulfillmentURIBytes, ErrTooLarge)
	}
	if !isBase64URL(s) {
		return nil, malformed("fulfillment URI: not unpadded base64url")
	}
	der, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, malformed("fulfillment URI: %v", err)
	}
	return DecodeFulfillment(der)
}

// readFulfillment reads one DER fulfillment at the given tree level.
func readFulfillment(s *cryptobyte.String, level int) (*Fulfillment, error) {
	if level > MaxDepth {
		return nil, fmt.Errorf("fulfillment deeper than %d levels: %w", MaxDepth, ErrTooDeep)
	}
	var body cryptobyte.String
	var tag asn1.Tag
	if !s.ReadAnyASN1(&body, &tag) {
		return nil, malformed("fulfillment: bad TLV")
	}
	t, err := typeFromChoiceTag(uint8(tag))
	if err != nil {
		return nil, fmt.Errorf("fulfillment: %w", err)
	}
	if t == TypeEd25519 {
		return readEd25519Fulfillment(body)
	}
	return readThresholdFulfillment(body, level)
}

// readEd25519Fulfillment reads the body of an Ed25519 fulfillment:
// SEQUENCE { publicKey [0] OCTET STRING (32), signature [1] OCTET STRING (64) }.
func readEd25519Fulfillment(body cryptobyte.String) (*Fulfillment, error) {
	pub, err := readFixed(&body, tagField0, ed25519.PublicKeySize, "ed25519 public key")
	if err != nil {
		return nil, err
	}
	sig, err := readFixed(&body, tagField1, ed25519.SignatureSize, "ed25519 signature")
	if err != nil {
		return nil, err
	}
	if !body.Empty() {
		return nil, malformed("ed25519 fulfillment: unexpected field after signature")
	}
	return &Fulfillment{Type: TypeEd25519, PublicKey: pub, Signature: sig}, nil
}

// readThresholdFulfillment reads the body of a threshold fulfillment:
// SEQUENCE { subfulfillments [0] SET OF Fulfillment, subconditions [1] SET OF Condition }.
func readThresholdFulfillment(body cryptobyte.String, level int) (*Fulfillment, error) {
	var subf, subc cryptobyte.String
	if !body.ReadASN1(&subf, asn1.Tag(tagSet0)) || !body.ReadASN1(&subc, asn1.Tag(tagSet1)) || !body.Empty() {
		return nil, malformed("threshold fulfillment: want exactly [0] subfulfillments and [1] subconditions")
	}
	f := &Fulfillment{Type: TypeThreshold}
	var err error
	if f.Subfulfillments, err = readSubfulfillments(subf, level); err != nil {
		return nil, err
	}
	if f.Subconditions, err = readSubconditions(subc); err != nil {
		return nil, err
	}
	if n := len(f.Subfulfillments) + len(f.Subconditions); n > MaxSubconditions {
		return nil, fmt.Errorf("threshold fulfillment with %d members, limit %d: %w", n, MaxSubconditions, ErrTooManySubconditions)
	}
	if len(f.Subfulfillments) == 0 {
		return nil, fmt.Errorf("threshold fulfillment without subfulfillments: %w", ErrThresholdNotMet)
	}
	return f, nil
}

// readSubfulfillments decodes the elements of a subfulfillments SET OF.
func readSubfulfillments(set cryptobyte.String, level int) ([]*Fulfillment, error) {
	elems, err := readSetElements(set, "subfulfillments")
	if err != nil {
		return nil, err
	}
	subs := make([]*Fulfillment, len(elems))
	for i, e := range elems {
		s := cryptobyte.String(e)
		if subs[i], err = readFulfillment(&s, level+1); err != nil {
			return nil, fmt.Errorf("subfulfillments[%d]: %w", i, err)
		}
	}
	return subs, nil
}

// readSubconditions decodes the elements of a subconditions SET OF.
func readSubconditions(set cryptobyte.String) ([]Condition, error) {
	elems, err := readSetElements(set, "subconditions")
	if err != nil {
		return nil, err
	}
	conds := make([]Condition, len(elems))
	for i, e := range elems {
		s := cryptobyte.String(e)
		if conds[i], err = readCondition(&s); err != nil {
			return nil, fmt.Errorf("subconditions[%d]: %w", i, err)
		}
	}
	return conds, nil
}

// Encode returns the DER encoding of f, with every SET OF in DER order. f and
// its members must be non-nil.
func (f *Fulfillment) Encode() []byte {
	switch f.Type {
	case TypeEd25519:
		content := appendTLV(nil, tagField0, f.PublicKey)
		content = appendTLV(content, tagField1, f.Signature)
		return appendTLV(nil, choiceTag(f.Type), content)
	case TypeThreshold:
		subs := make([][]byte, len(f.Subfulfillments))
		for i, sf := range f.Subfulfillments {
			subs[i] = sf.Encode()
		}
		conds := make([][]byte, len(f.Subconditions))
		for i, c := range f.Subconditions {
			conds[i] = c.Encode()
		}
		content := appendSetOf(nil, tagSet0, subs)
		content = appendSetOf(content, tagSet1, conds)
		return appendTLV(nil, choiceTag(f.Type), content)
	}
	return appendTLV(nil, choiceTag(f.Type), nil)
}

// URI returns the unpadded base64url form of Encode(), as BigchainDB stores it
// in inputs[].fulfillment.
func (f *Fulfillment) URI() string {
	return base64.RawURLEncoding.EncodeToString(f.Encode())
}

// Condition returns the condition f fulfils. For a threshold the threshold is
// the number of subfulfillments, and the members are the subfulfillments'
// conditions and the subconditions. f and its members must be non-nil.
func (f *Fulfillment) Condition() Condition {
	switch f.Type {
	case TypeEd25519:
		return ed25519Condition(f.PublicKey)
	case TypeThreshold:
		members := make([]Condition, 0, len(f.Subfulfillments)+len(f.Subconditions))
		for _, sf := range f.Subfulfillments {
			members = append(members, sf.Condition())
		}
		members = append(members, f.Subconditions...)
		return thresholdCondition(len(f.Subfulfillments), members)
	}
	return Condition{Type: f.Type}
}

// cost returns the cost of f's condition without hashing anything.
func (f *Fulfillment) cost() uint64 {
	if f.Type != TypeThreshold {
		return ed25519Cost
	}
	costs := make([]uint64, 0, len(f.Subfulfillments)+len(f.Subconditions))
	for _, sf := range f.Subfulfillments {
		costs = append(costs, sf.cost())
	}
	for _, c := range f.Subconditions {
		costs = append(costs, c.Cost)
	}
	return thresholdCost(len(f.Subfulfillments), costs)
}

// SigningKeys returns the public key of every Ed25519 subfulfillment, depth
// first in encoding order. It does not verify the signatures; call Verify.
func (f *Fulfillment) SigningKeys() []ed25519.PublicKey {
	if f.Type == TypeEd25519 {
		return []ed25519.PublicKey{f.PublicKey}
	}
	var keys []ed25519.PublicKey
	for _, sf := range f.Subfulfillments {
		keys = append(keys, sf.SigningKeys()...)
	}
	return keys
}
