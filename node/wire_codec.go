package node

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"

	"github.com/ipdb/ipdb-node/ledger"
)

// The CBOR codec of the node's peer messages (votes, proposals, gossip
// batches, fetch and sync requests). Decoding is strict: bounded sizes and
// nesting, no indefinite lengths, no duplicate map keys, valid UTF-8; each
// decoder then re-encodes and compares, which refuses every non-canonical
// form.

// wireMaxNesting bounds nesting: a sync answer is an array of arrays of
// byte strings (three levels) plus a link tag.
const wireMaxNesting = 6

// wireMaxArray bounds any array: the transactions of one block.
const wireMaxArray = MaxFetchTxs

// wireMaxMapPairs bounds a map: the fields of one message.
const wireMaxMapPairs = 16

// wireModes holds an encoder and a decoder; both are immutable and safe for
// concurrent use.
type wireModes struct {
	enc cbor.EncMode
	dec cbor.DecMode
}

// wireCBOR is the codec. It is set once at package initialisation and never
// changed.
var wireCBOR = newWireCBOR()

func newWireCBOR() wireModes {
	enc, dec, err := ledger.CBORModes(wireMaxNesting, wireMaxArray, wireMaxMapPairs)
	if err != nil {
		panic("node: invalid constant cbor options: " + err.Error())
	}
	return wireModes{enc: enc, dec: dec}
}

// link is a CID in DAG-CBOR form: tag 42 over a byte string of 0x00 then
// the binary CID.
type link struct{ c cid.Cid }

// MarshalCBOR implements cbor.Marshaler.
func (l link) MarshalCBOR() ([]byte, error) {
	return wireCBOR.enc.Marshal(cbor.Tag{Number: 42, Content: append([]byte{0}, l.c.Bytes()...)})
}

// UnmarshalCBOR implements cbor.Unmarshaler.
func (l *link) UnmarshalCBOR(data []byte) error {
	var t cbor.Tag
	if err := wireCBOR.dec.Unmarshal(data, &t); err != nil {
		return err
	}
	b, ok := t.Content.([]byte)
	if t.Number != 42 || !ok || len(b) < 2 || b[0] != 0 {
		return fmt.Errorf("%w: not a link (tag 42 over bytes 0x00 and a CID)", ErrMalformedMessage)
	}
	c, err := cid.Cast(b[1:])
	if err != nil {
		return fmt.Errorf("%w: link: %w", ErrMalformedMessage, err)
	}
	l.c = c
	return nil
}

// blockCIDPrefix is the binary prefix of a CIDv1, dag-cbor, sha2-256 (32
// bytes), the only CID a block has.
const blockCIDPrefix = "\x01\x71\x12\x20"

// isBlockCID reports whether c is a CIDv1, dag-cbor, sha2-256 (32 bytes).
func isBlockCID(c cid.Cid) bool {
	s := c.KeyString()
	return len(s) == len(blockCIDPrefix)+32 && s[:len(blockCIDPrefix)] == blockCIDPrefix
}
