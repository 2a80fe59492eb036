package ledger

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/ipdb/ipdb-node/ledger/cryptocondition"
)

// errCorrupt reports stored bytes that the store did not write as they are.
var errCorrupt = errors.New("ledger: store data corrupt")

// Flags of an output record.
const (
	outputSpent     = 1 << 0 // the output is spent
	outputOwnAsset  = 1 << 1 // the asset id is the output's transaction id
	outputFlagsMask = outputSpent | outputOwnAsset
)

// appendOutput appends the record of output o of transaction txID:
//
//	flags, uvarint amount, condition type, fingerprint (32), uvarint cost,
//	uvarint subtypes, uvarint key count, keys (32 each), [asset id (32)]
//
// The asset id is left out when it is txID (outputOwnAsset).
func appendOutput(dst []byte, txID, asset idBytes, o *Output) []byte {
	keys := distinctKeys(o.Details)
	flags := byte(0)
	if asset == txID {
		flags |= outputOwnAsset
	}
	cond := o.Details.Condition()
	dst = append(dst, flags)
	dst = binary.AppendUvarint(dst, o.Amount)
	dst = append(dst, byte(cond.Type))
	dst = append(dst, cond.Fingerprint[:]...)
	dst = binary.AppendUvarint(dst, cond.Cost)
	dst = binary.AppendUvarint(dst, uint64(cond.Subtypes))
	dst = binary.AppendUvarint(dst, uint64(len(keys)))
	for _, k := range keys {
		dst = append(dst, k...)
	}
	if flags&outputOwnAsset == 0 {
		dst = append(dst, asset[:]...)
	}
	return dst
}

// distinctKeys returns the distinct public keys of a condition, in the order
// keySet gives them.
func distinctKeys(d *cryptocondition.Details) []ed25519.PublicKey {
	all := d.PublicKeys()
	keys := make([]ed25519.PublicKey, 0, len(all))
next:
	for _, k := range all {
		for _, seen := range keys {
			if k.Equal(seen) {
				continue next
			}
		}
		keys = append(keys, k)
	}
	return keys
}

// outputReader reads an output record.
type outputReader struct {
	b   []byte
	err error
}

func (r *outputReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *outputReader) bytes(n int) []byte {
	if len(r.b) < n {
		r.fail()
		return make([]byte, n)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *outputReader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("%w: output record", errCorrupt)
	}
	r.b = nil
}

// decodeOutput reads the record appendOutput wrote for transaction txID.
func decodeOutput(rec []byte, txID idBytes) (StoredOutput, error) {
	r := outputReader{b: rec}
	flags := r.bytes(1)[0]
	var out StoredOutput
	out.Spent = flags&outputSpent != 0
	out.Amount = r.uvarint()
	out.Condition.Type = cryptocondition.Type(r.bytes(1)[0])
	copy(out.Condition.Fingerprint[:], r.bytes(32))
	out.Condition.Cost = r.uvarint()
	out.Condition.Subtypes = uint32(r.uvarint())
	n := r.uvarint()
	if n > MaxTxBytes/ed25519.PublicKeySize { // a key takes more than 32 bytes of a transaction
		r.fail()
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		out.PublicKeys = append(out.PublicKeys, encodeKey(r.bytes(ed25519.PublicKeySize)))
	}
	asset := txID
	if flags&outputOwnAsset == 0 {
		copy(asset[:], r.bytes(32))
	}
	out.AssetID = hex.EncodeToString(asset[:])
	if r.err == nil && (len(r.b) != 0 || flags&^outputFlagsMask != 0) {
		r.fail()
	}
	return out, r.err
}

// appendTxRecord appends the value of a transaction row: uvarint height,
// uvarint position in the block, canonical bytes.
func appendTxRecord(dst []byte, h uint64, pos int, canonical []byte) []byte {
	dst = binary.AppendUvarint(dst, h)
	dst = binary.AppendUvarint(dst, uint64(pos))
	return append(dst, canonical...)
}

// txRecord is a decoded transaction row; canonical aliases the value read.
type txRecord struct {
	height    uint64
	pos       uint64
	canonical []byte
}

func decodeTxRecord(v []byte) (txRecord, error) {
	h, n := binary.Uvarint(v)
	if n <= 0 {
		return txRecord{}, fmt.Errorf("%w: transaction record", errCorrupt)
	}
	pos, m := binary.Uvarint(v[n:])
	if m <= 0 {
		return txRecord{}, fmt.Errorf("%w: transaction record", errCorrupt)
	}
	return txRecord{height: h, pos: pos, canonical: v[n+m:]}, nil
}

// decodeHeight reads an 8-byte big-endian height value.
func decodeHeight(v []byte) (uint64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: height of %d bytes", errCorrupt, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}
