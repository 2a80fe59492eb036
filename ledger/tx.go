package ledger

import (
	"bytes"
	"crypto/sha3"
	"encoding/hex"
	"strconv"

	"github.com/ipfs/go-cid"

	"github.com/ipdb/ipdb-node/ledger/cryptocondition"
)

// Operations of the BigchainDB transaction spec v2.0.
const (
	OpCreate                 = "CREATE"
	OpTransfer               = "TRANSFER"
	OpValidatorElection      = "VALIDATOR_ELECTION"
	OpChainMigrationElection = "CHAIN_MIGRATION_ELECTION"
	OpVote                   = "VOTE"
	// OpParameterElection and OpQuotaElection are ipdb-node's own election
	// kinds, in the frame of BigchainDB's VALIDATOR_ELECTION: an election
	// to change a network parameter and one to grant or revoke a
	// high-volume quota (package governance).
	OpParameterElection = "PARAMETER_ELECTION"
	OpQuotaElection     = "QUOTA_ELECTION"
)

// Version is the only transaction version accepted.
const Version = "2.0"

// Tx is a transaction in the BigchainDB v2.0 model. A Tx decoded from outside
// bytes is untrusted until CheckStateless and Check accept it. A Tx must not be
// modified after DecodeTx or a builder returns it: its canonical bytes and id
// are computed once.
type Tx struct {
	ID        string
	Version   string
	Operation string
	Asset     Asset
	Inputs    []Input
	Outputs   []Output
	// Metadata is nil or a non-empty JSON object (map[string]any).
	Metadata any

	// body is the generic JSON value the transaction was decoded from (or
	// built as); canonical bytes, id and signing messages derive from it.
	// It is nil when DecodeTx's fast path read the transaction: see generic.
	body map[string]any
	// canonical is the canonical serialization of body, id included.
	canonical []byte
}

// Asset is a transaction's asset: Data for CREATE and elections, ID for
// TRANSFER and VOTE.
type Asset struct {
	// Data is nil or a JSON object (map[string]any); CREATE and elections only.
	Data any
	// ID is the id of the CREATE that made the asset; TRANSFER and VOTE only.
	ID string
}

// Input is one input of a transaction.
type Input struct {
	OwnersBefore []string
	// Fulfills is the output spent; nil for CREATE and elections.
	Fulfills *OutputRef
	// Fulfillment is the base64url fulfillment URI as sent; empty when the
	// transaction was sent unsigned (fulfillment null or a details object).
	Fulfillment string

	// ff is Fulfillment decoded; nil when it is empty.
	ff *cryptocondition.Fulfillment
}

// OutputRef names one output of a committed transaction.
type OutputRef struct {
	TxID  string
	Index uint64
}

// String returns the reference as BigchainDB's link URI does: "<txid>/<index>".
func (r OutputRef) String() string { return r.TxID + "/" + strconv.FormatUint(r.Index, 10) }

// Output is one output of a transaction: an amount locked by a condition.
type Output struct {
	Amount     uint64
	Details    *cryptocondition.Details
	URI        string
	PublicKeys []string
}

// Canonical returns the transaction's canonical bytes (sorted keys, no spaces,
// raw UTF-8), id included: what is stored, served and hashed into its CID. The
// caller must not modify the returned slice.
func (tx *Tx) Canonical() []byte { return tx.canonical }

// Body returns the generic JSON value of the transaction. The caller must not
// modify it.
func (tx *Tx) Body() map[string]any { return tx.generic() }

// generic returns tx's generic body: the one it was decoded from or built
// as, or, when DecodeTx's fast path read it and kept none, its canonical
// bytes decoded again (they always decode: DecodeTx accepted them).
func (tx *Tx) generic() map[string]any {
	if tx.body != nil {
		return tx.body
	}
	v, _, err := decodeJSON(tx.canonical)
	if err != nil {
		panic("ledger: a decoded transaction's canonical bytes do not decode: " + err.Error())
	}
	return v.(map[string]any)
}

// AssetID returns the id of the asset the transaction moves: its own id for
// CREATE and elections, asset.id for TRANSFER and VOTE.
func (tx *Tx) AssetID() string {
	if tx.Asset.ID != "" {
		return tx.Asset.ID
	}
	return tx.ID
}

// IsCreateLike reports whether the operation issues from nothing (CREATE and
// elections): one input that fulfills no output.
func (tx *Tx) IsCreateLike() bool {
	switch tx.Operation {
	case OpCreate, OpValidatorElection, OpChainMigrationElection, OpParameterElection, OpQuotaElection:
		return true
	}
	return false
}

// CID returns the transaction's CID: CIDv1, multicodec json, multihash
// sha3-256 of HashedBytes (the canonical bytes with "id": null), whose digest
// is therefore the BigchainDB id.
func (tx *Tx) CID() cid.Cid {
	var digest [32]byte
	hex.Decode(digest[:], []byte(tx.ID)) // ID is 64 hex digits once decoded or built
	return TxCID(digest)
}

// hashID returns the id BigchainDB computes for body: the SHA3-256 hex of its
// canonical serialization with "id" set to null (a shallow copy is hashed, so
// body is never modified), and those bytes appended to buf.
func hashID(body map[string]any, buf []byte) (string, []byte) {
	shallow := make(map[string]any, len(body)+1)
	for k, v := range body {
		shallow[k] = v
	}
	shallow["id"] = nil
	buf = AppendCanonical(buf[:0], shallow)
	return idOf(buf), buf
}

// idOf is the id of a transaction whose hashed bytes (canonical, with "id"
// null) are hashed: their SHA3-256, in lower-case hex.
func idOf(hashed []byte) string {
	sum := sha3.Sum256(hashed)
	return hex.EncodeToString(sum[:])
}

// HashedBytes returns the canonical bytes with "id" null: the bytes whose
// SHA3-256 is the id, and so the content the transaction's CID addresses
// (what a CAR export holds). The canonical bytes with the id follow from them.
func (tx *Tx) HashedBytes() []byte {
	_, b := hashID(tx.generic(), nil)
	return b
}

// signingBase returns tx's signing base (the package function of its
// body), spliced from its canonical bytes: the id and every input's
// fulfillment become null, the rest is copied. That saves serializing the
// body again (6% of a syncing node's CPU). Bytes not laid out as the
// schema makes them fall back to serializing.
func (tx *Tx) signingBase() []byte {
	if b, ok := spliceSigningBase(tx.canonical, len(tx.Inputs)); ok {
		return b
	}
	return signingBase(tx.generic())
}

// spliceSigningBase rewrites canonical transaction bytes c, whose inputs
// array has n objects each starting with its "fulfillment" key, into the
// signing base; ok is false when c is not laid out so.
func spliceSigningBase(c []byte, n int) (base []byte, ok bool) {
	const head, id, ins, ff = `{"asset":`, `,"id":`, `,"inputs":[`, `{"fulfillment":`
	if !bytes.HasPrefix(c, []byte(head)) {
		return nil, false
	}
	at := skipValue(c, len(head))
	if at < 0 || !bytes.HasPrefix(c[at:], []byte(id)) {
		return nil, false
	}
	out := make([]byte, 0, len(c))
	out = append(append(out, c[:at]...), `,"id":null`...)
	if at = skipValue(c, at+len(id)); at < 0 || !bytes.HasPrefix(c[at:], []byte(ins)) {
		return nil, false
	}
	out = append(out, ins...)
	at += len(ins)
	for i := range n {
		if i > 0 {
			if at >= len(c) || c[at] != ',' {
				return nil, false
			}
			out = append(out, ',')
			at++
		}
		if !bytes.HasPrefix(c[at:], []byte(ff)) {
			return nil, false
		}
		end, v := skipValue(c, at), skipValue(c, at+len(ff))
		if end < 0 || v < 0 || v >= end {
			return nil, false
		}
		out = append(append(append(out, ff...), "null"...), c[v:end]...)
		at = end
	}
	if at >= len(c) || c[at] != ']' {
		return nil, false
	}
	return append(out, c[at:]...), true
}

// signingBase returns the canonical serialization of body with the id and
// every fulfillment set to null: the common prefix of every input's message.
func signingBase(body map[string]any) []byte {
	shallow := make(map[string]any, len(body))
	for k, v := range body {
		shallow[k] = v
	}
	shallow["id"] = nil
	if ins, ok := body["inputs"].([]any); ok {
		blank := make([]any, len(ins))
		for i, in := range ins {
			m, ok := in.(map[string]any)
			if !ok {
				blank[i] = in
				continue
			}
			c := make(map[string]any, len(m))
			for k, v := range m {
				c[k] = v
			}
			c["fulfillment"] = nil
			blank[i] = c
		}
		shallow["inputs"] = blank
	}
	return AppendCanonical(nil, shallow)
}

// inputMessage returns the 32-byte digest input i must be signed over: the
// SHA3-256 of the signing base, followed for a spending input by the spent
// transaction id and the decimal output index (BigchainDB spec v2.0,
// "How to Construct a Transaction").
func inputMessage(base []byte, ref *OutputRef) [32]byte {
	if ref == nil {
		return sha3.Sum256(base)
	}
	h := sha3.New256()
	h.Write(base)
	h.Write([]byte(ref.TxID))
	h.Write(strconv.AppendUint(nil, ref.Index, 10))
	var d [32]byte
	h.Sum(d[:0])
	return d
}
