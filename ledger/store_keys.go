package ledger

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
)

// Key layout of the Badger store. Every key starts with a one-byte prefix;
// ids, keys and hashes are raw binary (32 bytes), heights are 8-byte
// big-endian (so keys sort in height order), positions in a block and output
// indexes are 2-byte big-endian. "uvarint" is encoding/binary's.
//
//	"mh"                          -> height of the newest block (8 bytes)
//	"mf"                          -> layout version (storeFormat, 1 byte)
//	"ma"                          -> application state (governance's), written
//	                                 with the block that changed it
//	'b' height                    -> encoded block (DAG-CBOR)
//	'k' block CID (binary)        -> height (uvarint)
//	'c' height                    -> encoded commit that made the block final
//	't' txid                      -> uvarint height, uvarint position, canonical bytes
//	'o' txid index                -> output record (see appendOutput), spent flag included
//	'w' pubkey height pos index   -> txid: owner index, one row per distinct key
//	                                 of the output's condition (thresholds: every key)
//	'a' assetid height pos        -> operation code [+ txid unless it equals assetid]
//	'd' uvarint(len) term height  -> postings: for each of the block's CREATEs and
//	                                 elections whose asset data has term, in block
//	                                 order, uvarint position delta and the term's
//	                                 weight (textsearch.Terms, float64 bits, 8 bytes)
//	'e' uvarint(len) term height  -> same, for transactions with metadata
//	'x' key                       -> an application row (the ratelimit usage of a
//	                                 key in an epoch), written with a block
//
// The spent marker of an output is a flag in its record, set by the block
// write of the spending transaction, so State.Output is one read. Text postings are grouped per term and block, which keeps them a
// small fraction of the transactions' bytes. Their weights rank a search
// without reading documents (a document's score is the sum of the weights of
// the query's terms); a search maps a (height, position) back to a
// transaction id through the block's Txs.
const (
	prefixBlock     = 'b'
	prefixBlockCID  = 'k'
	prefixCommit    = 'c'
	prefixTx        = 't'
	prefixOutput    = 'o'
	prefixOwner     = 'w'
	prefixAsset     = 'a'
	prefixAssetTerm = 'd'
	prefixMetaTerm  = 'e'
	prefixAppRow    = 'x'
)

// Meta keys: the newest block's height, the layout version and the
// application state.
const (
	keyHeight   = "mh"
	keyFormat   = "mf"
	keyAppState = "ma"
)

// storeFormat is the key layout version written in keyFormat; a store with
// another version is refused rather than misread.
const storeFormat = 1

// Positions in a block and output indexes take two bytes in keys.
const (
	_ = uint16(MaxBlockTxs - 1)
	_ = uint16(MaxOutputs - 1)
)

// idBytes is a transaction id, asset id or public key in binary.
type idBytes = [32]byte

// parseHexID decodes a 64-digit lower-case hex id; ok is false for anything else.
func parseHexID(s string) (id idBytes, ok bool) {
	if len(s) != 2*len(id) {
		return id, false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return id, false
		}
	}
	_, err := hex.Decode(id[:], []byte(s))
	return id, err == nil
}

// mustParseHexID decodes the id of a transaction that passed DecodeTx or a
// builder, which guarantee its form.
func mustParseHexID(s string) idBytes {
	id, ok := parseHexID(s)
	if !ok {
		panic(fmt.Sprintf("ledger: checked transaction has a malformed id %q", s))
	}
	return id
}

func heightKey(prefix byte, h uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefix}, h)
}

func idKey(prefix byte, id idBytes) []byte {
	k := make([]byte, 0, 1+len(id)+2)
	return append(append(k, prefix), id[:]...)
}

func outputKey(id idBytes, index uint64) []byte {
	return binary.BigEndian.AppendUint16(idKey(prefixOutput, id), uint16(index))
}

// ownerKey is 'w' pub height pos index.
func ownerKey(pub idBytes, h uint64, pos int, index int) []byte {
	k := binary.BigEndian.AppendUint64(idKey(prefixOwner, pub), h)
	k = binary.BigEndian.AppendUint16(k, uint16(pos))
	return binary.BigEndian.AppendUint16(k, uint16(index))
}

// assetKey is 'a' asset height pos.
func assetKey(asset idBytes, h uint64, pos int) []byte {
	k := binary.BigEndian.AppendUint64(idKey(prefixAsset, asset), h)
	return binary.BigEndian.AppendUint16(k, uint16(pos))
}

// termPrefix is the prefix of every posting key of term: prefix uvarint(len) term.
func termPrefix(prefix byte, term string) []byte {
	k := binary.AppendUvarint([]byte{prefix}, uint64(len(term)))
	return append(k, term...)
}

func termKey(prefix byte, term string, h uint64) []byte {
	return binary.BigEndian.AppendUint64(termPrefix(prefix, term), h)
}

// keyHeightSuffix reads the big-endian height at the end of a posting key.
func keyHeightSuffix(k []byte) uint64 { return binary.BigEndian.Uint64(k[len(k)-8:]) }

// opCode returns the code of an operation in the asset index; ok is false
// for an unknown operation.
func opCode(op string) (code byte, ok bool) {
	switch op {
	case OpCreate:
		return 1, true
	case OpTransfer:
		return 2, true
	case OpValidatorElection:
		return 3, true
	case OpChainMigrationElection:
		return 4, true
	case OpVote:
		return 5, true
	case OpParameterElection:
		return 6, true
	case OpQuotaElection:
		return 7, true
	}
	return 0, false
}

// posting is one document of a posting list: its position in the block and
// the term's weight in it.
type posting struct {
	pos    uint16
	weight float64
}

// appendPostings appends postings (in ascending position order) as uvarint
// position deltas, each followed by the weight's 8 bytes.
func appendPostings(dst []byte, ps []posting) []byte {
	prev := uint16(0)
	for _, p := range ps {
		dst = binary.AppendUvarint(dst, uint64(p.pos-prev))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(p.weight))
		prev = p.pos
	}
	return dst
}

// readPostings decodes what appendPostings wrote.
func readPostings(b []byte, fn func(pos int, weight float64)) error {
	p := uint64(0)
	for len(b) > 0 {
		d, n := binary.Uvarint(b)
		if n <= 0 || d >= MaxBlockTxs-p || len(b) < n+8 {
			return fmt.Errorf("%w: posting list", errCorrupt)
		}
		p += d
		fn(int(p), math.Float64frombits(binary.LittleEndian.Uint64(b[n:])))
		b = b[n+8:]
	}
	return nil
}
