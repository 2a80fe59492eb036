package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multicodec"
	"github.com/multiformats/go-multihash"
)

// Block is one block of the chain. Height 0 is the genesis block: no
// transactions, no Prev, no LastCommit; its StateHash is the hash of the
// genesis document.
//
// A Block's id is its CID: CIDv1, multicodec dag-cbor, multihash sha2-256 of
// Encode's bytes. Its DAG-CBOR form is a map of exactly eight fields, shown here
// as an IPLD schema in encoded (length-first, then bytewise) key order:
//
//	type Block struct {
//	  txs        [&Tx]            # Txs: transaction CIDs (json codec, sha3-256)
//	  prev       nullable &Block  # Prev: null at height 0
//	  time       Int              # Time: unix milliseconds
//	  chain      String           # ChainID
//	  state      Bytes            # StateHash: 32 bytes
//	  commit     nullable Commit  # LastCommit: null at heights 0 and 1
//	  height     Int              # Height
//	  caretakers Bytes            # CaretakersHash: 32 bytes
//	}
//
// All eight keys are always present; absent values are null, never omitted.
// Links are tag 42 over a byte string of 0x00 then the binary CID. A ninth
// key, evidence, is present only when the block carries evidence of double
// signing (see Equivocation), so blocks without it keep their CIDs.
type Block struct {
	ChainID        string
	Height         uint64
	Time           int64          // unix milliseconds, set by the proposer
	Prev           cid.Cid        // CID of block Height-1; cid.Undef at height 0
	Txs            []cid.Cid      // transaction CIDs (json codec, sha3-256), in execution order
	StateHash      []byte         // 32 bytes: hash of the state after executing this block
	CaretakersHash []byte         // 32 bytes: hash of the caretaker set that signs this block
	LastCommit     *Commit        // the commit that made block Height-1 final; nil at heights 0 and 1
	Evidence       []Equivocation // double votes seen by the proposer; usually none
}

// clone returns a copy of b that shares no memory with it.
func (b *Block) clone() *Block {
	c := *b
	c.Txs = slices.Clone(b.Txs)
	c.StateHash = bytes.Clone(b.StateHash)
	c.CaretakersHash = bytes.Clone(b.CaretakersHash)
	if b.LastCommit != nil {
		lc := *b.LastCommit
		lc.Signatures = make([]CommitSig, len(b.LastCommit.Signatures))
		for i, s := range b.LastCommit.Signatures {
			lc.Signatures[i] = CommitSig{PublicKey: bytes.Clone(s.PublicKey), Signature: bytes.Clone(s.Signature)}
		}
		c.LastCommit = &lc
	}
	if b.Evidence != nil {
		c.Evidence = make([]Equivocation, len(b.Evidence))
		for i, e := range b.Evidence {
			e.PublicKey, e.SigA, e.SigB = bytes.Clone(e.PublicKey), bytes.Clone(e.SigA), bytes.Clone(e.SigB)
			c.Evidence[i] = e
		}
	}
	return &c
}

// BlockHashBytes is the length of Block.StateHash and Block.CaretakersHash.
const BlockHashBytes = 32

// Errors of blocks and CIDs. Every error of DecodeBlock and DecodeCommit wraps
// ErrMalformedCBOR or, for well-formed bytes of a block or commit that breaks a
// rule, is a *BlockError.
var (
	// ErrInvalidBlock is the Kind of a *BlockError about a block.
	ErrInvalidBlock = errors.New("ledger: invalid block")
	// ErrMalformedCBOR is wrapped by every refusal of the bytes themselves.
	ErrMalformedCBOR = errors.New("ledger: malformed dag-cbor")
	// ErrInvalidCID is wrapped when a CID or transaction id has the wrong form.
	ErrInvalidCID = errors.New("ledger: invalid cid")
)

// BlockError reports a block or commit that breaks a rule of ValidateBasic.
// Kind is ErrInvalidBlock or ErrInvalidCommit (a block whose commit is at
// fault has Kind ErrInvalidBlock and Field "commit..."); Field names the field
// at fault by its DAG-CBOR key, as "txs[3]" or "commit.sigs[1].pk".
type BlockError struct {
	Kind   error
	Field  string
	Reason string
}

// Error returns "<kind>: <field>: <reason>".
func (e *BlockError) Error() string { return e.Kind.Error() + ": " + e.Field + ": " + e.Reason }

// Unwrap returns Kind, so callers match with errors.Is(err, ledger.ErrInvalidBlock).
func (e *BlockError) Unwrap() error { return e.Kind }

func blockErr(field, format string, args ...any) *BlockError {
	return &BlockError{Kind: ErrInvalidBlock, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ValidateBasic checks the block's shape and limits without any state: the
// chain id, the height bound, hash lengths, Prev defined iff Height > 0,
// LastCommit present iff Height > 1 and then for block Height-1 = Prev, the
// transaction count and that every tx CID is a distinct json/sha3-256 CIDv1.
// It returns a *BlockError.
func (b *Block) ValidateBasic() error {
	if err := b.validateHeader(); err != nil {
		return err
	}
	if err := b.validateLinks(); err != nil {
		return err
	}
	if err := b.validateEvidence(); err != nil {
		return err
	}
	return b.validateTxs()
}

func (b *Block) validateHeader() error {
	switch {
	case b.ChainID == "":
		return blockErr("chain", "empty")
	case len(b.ChainID) > MaxChainIDBytes:
		return blockErr("chain", "%d bytes, over the limit of %d", len(b.ChainID), MaxChainIDBytes)
	case !utf8.ValidString(b.ChainID):
		return blockErr("chain", "not valid UTF-8")
	case b.Height > MaxBlockHeight:
		return blockErr("height", "%d is over the limit of %d", b.Height, MaxBlockHeight)
	case len(b.StateHash) != BlockHashBytes:
		return blockErr("state", "%d bytes, want %d", len(b.StateHash), BlockHashBytes)
	case len(b.CaretakersHash) != BlockHashBytes:
		return blockErr("caretakers", "%d bytes, want %d", len(b.CaretakersHash), BlockHashBytes)
	}
	return nil
}

func (b *Block) validateLinks() error {
	switch {
	case b.Height == 0 && b.Prev.Defined():
		return blockErr("prev", "must be null at height 0")
	case b.Height == 0 && len(b.Txs) > 0:
		return blockErr("txs", "the genesis block has no transactions")
	case b.Height > 0 && !isBlockCID(b.Prev):
		return blockErr("prev", "not a dag-cbor sha2-256 CIDv1")
	case b.Height <= 1 && b.LastCommit != nil:
		return blockErr("commit", "must be null at height %d", b.Height)
	case b.Height <= 1:
		return nil
	case b.LastCommit == nil:
		return blockErr("commit", "missing at height %d", b.Height)
	}
	if err := b.LastCommit.ValidateBasic(); err != nil {
		var be *BlockError
		if errors.As(err, &be) {
			return blockErr("commit."+be.Field, "%s", be.Reason)
		}
		return err
	}
	switch {
	case b.LastCommit.Height != b.Height-1:
		return blockErr("commit.height", "%d, want %d", b.LastCommit.Height, b.Height-1)
	case b.LastCommit.Block != b.Prev:
		return blockErr("commit.block", "%s differs from prev %s", b.LastCommit.Block, b.Prev)
	}
	return nil
}

func (b *Block) validateTxs() error {
	if len(b.Txs) > MaxBlockTxs {
		return blockErr("txs", "%d transactions, over the limit of %d", len(b.Txs), MaxBlockTxs)
	}
	seen := make(map[cid.Cid]struct{}, len(b.Txs))
	for i, c := range b.Txs {
		if !isTxCID(c) {
			return blockErr(fmt.Sprintf("txs[%d]", i), "not a json sha3-256 CIDv1")
		}
		if _, dup := seen[c]; dup {
			return blockErr(fmt.Sprintf("txs[%d]", i), "duplicate of an earlier transaction %s", c)
		}
		seen[c] = struct{}{}
	}
	return nil
}

// Encode returns the block's canonical DAG-CBOR bytes (map keys sorted
// length-first then bytewise, minimal integer and length heads, no
// indefinite lengths, CIDs as tag 42). It returns ValidateBasic's error for an
// invalid block, so it never produces bytes that DecodeBlock refuses.
func (b *Block) Encode() ([]byte, error) {
	if err := b.ValidateBasic(); err != nil {
		return nil, err
	}
	return b.encode()
}

func (b *Block) encode() ([]byte, error) {
	data, err := dagCBOR.enc.Marshal(b.wire())
	if err != nil {
		return nil, fmt.Errorf("encode block: %w", err)
	}
	return data, nil
}

// DecodeBlock decodes a block strictly: it refuses input over MaxBlockBytes,
// indefinite lengths, nesting deeper than a block needs, duplicate, unknown or
// missing map keys, values of the wrong type (floats among them), links that
// are not tag 42 over 0x00 and a CID, and any byte string that is not exactly
// what Encode gives for the decoded block (non-canonical key order, integer or
// length heads, tags, trailing bytes). Those errors wrap ErrMalformedCBOR. It
// then returns ValidateBasic's error, if any. Data is not retained.
func DecodeBlock(data []byte) (*Block, error) {
	if len(data) > MaxBlockBytes {
		return nil, malformed("block", fmt.Errorf("%d bytes: %w of %d", len(data), errTooLarge, MaxBlockBytes))
	}
	var w blockWire
	if err := dagCBOR.dec.Unmarshal(data, &w); err != nil {
		return nil, malformed("block", err)
	}
	b := w.block()
	enc, err := b.encode()
	if err != nil {
		return nil, malformed("block", err)
	}
	if !bytes.Equal(enc, data) {
		return nil, malformed("block", errNonCanonical)
	}
	if err := b.ValidateBasic(); err != nil {
		return nil, err
	}
	return b, nil
}

// CID returns the block's id: CIDv1, dag-cbor, sha2-256 of Encode's bytes.
func (b *Block) CID() (cid.Cid, error) {
	data, err := b.Encode()
	if err != nil {
		return cid.Undef, err
	}
	return BlockCID(data), nil
}

// BlockCID returns the CID (CIDv1, dag-cbor, sha2-256) of a block already
// encoded. It does not check that encoded is a block.
func BlockCID(encoded []byte) cid.Cid {
	sum := sha256.Sum256(encoded)
	return newCIDv1(uint64(multicodec.DagCbor), multihash.SHA2_256, sum[:])
}

// TxCID returns a transaction's CID: CIDv1, multicodec json, multihash
// sha3-256 whose digest is txID, the BigchainDB transaction id.
func TxCID(txID [32]byte) cid.Cid {
	return newCIDv1(uint64(multicodec.Json), multihash.SHA3_256, txID[:])
}

// TxCIDFromHex returns TxCID of a BigchainDB transaction id given as 64
// lower-case hex digits, the only form BigchainDB writes. Any other string
// gives an error wrapping ErrInvalidCID.
func TxCIDFromHex(id string) (cid.Cid, error) {
	var digest [32]byte
	if len(id) != 2*len(digest) || !isLowerHex(id) {
		return cid.Undef, fmt.Errorf("%w: transaction id %q is not 64 lower-case hex digits", ErrInvalidCID, id)
	}
	if _, err := hex.Decode(digest[:], []byte(id)); err != nil {
		return cid.Undef, fmt.Errorf("%w: transaction id: %w", ErrInvalidCID, err)
	}
	return TxCID(digest), nil
}

// TxIDFromCID returns the BigchainDB transaction id (64 lower-case hex
// digits) of a transaction CID, or an error wrapping ErrInvalidCID when c is
// not a json sha3-256 CIDv1.
func TxIDFromCID(c cid.Cid) (string, error) {
	d, err := txCIDDigest(c)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString([]byte(d)), nil
}

// txCIDDigest returns the 32-byte digest of transaction CID c: the
// transaction id's bytes.
func txCIDDigest(c cid.Cid) (string, error) {
	if !isTxCID(c) {
		return "", fmt.Errorf("%w: %s is not a json sha3-256 CIDv1", ErrInvalidCID, c)
	}
	return c.KeyString()[len(txCIDPrefix):], nil
}

func isLowerHex(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Binary prefixes of the only two kinds of CID the chain links to: version 1,
// codec (dag-cbor 0x71, or json 0x0200 as varint 0x80 0x04), multihash code
// (sha2-256 0x12, sha3-256 0x16) and digest length 32.
const (
	blockCIDPrefix = "\x01\x71\x12\x20"
	txCIDPrefix    = "\x01\x80\x04\x16\x20"
)

// isBlockCID reports whether c is a CIDv1, dag-cbor, sha2-256 (32 bytes).
func isBlockCID(c cid.Cid) bool {
	s := c.KeyString()
	return len(s) == len(blockCIDPrefix)+32 && s[:len(blockCIDPrefix)] == blockCIDPrefix
}

// isTxCID reports whether c is a CIDv1, json, sha3-256 (32 bytes).
func isTxCID(c cid.Cid) bool {
	s := c.KeyString()
	return len(s) == len(txCIDPrefix)+32 && s[:len(txCIDPrefix)] == txCIDPrefix
}

// newCIDv1 builds a CIDv1 from a codec, a multihash code and a digest.
func newCIDv1(codec, mhCode uint64, digest []byte) cid.Cid {
	m, err := multihash.Encode(digest, mhCode)
	if err != nil {
		panic("ledger: multihash.Encode failed for a fixed code: " + err.Error())
	}
	return cid.NewCidV1(codec, m)
}

// The DAG-CBOR codec. Strictness comes in three layers: the decoder options
// (size, nesting, indefinite lengths, duplicate and unknown keys, UTF-8, types),
// a field count check on every map (so a missing key is named as such), and
// DecodeBlock's comparison of the input with the re-encoded value, which
// refuses every non-canonical form the first two let through.

// cborModes holds an encoder and a decoder; both are immutable and safe for
// concurrent use.
type cborModes struct {
	enc cbor.EncMode
	dec cbor.DecMode
}

// dagCBOR is the package's DAG-CBOR codec. It is set once at package
// initialisation and never changed.
var dagCBOR = newDAGCBOR()

func newDAGCBOR() cborModes {
	enc, dec, err := CBORModes(maxCBORNesting, MaxBlockTxs, maxCBORMapPairs)
	if err != nil {
		panic("ledger: invalid constant dag-cbor options: " + err.Error())
	}
	return cborModes{enc: enc, dec: dec}
}

// CBORModes returns the strict DAG-CBOR encoder and decoder of blocks, for
// any wire message that should be read as strictly: length-first sorted
// keys and no indefinite lengths when encoding; when decoding, duplicate
// keys, unknown fields, case-folded field names, invalid UTF-8, NaN and
// Infinity are refused, and nesting, array lengths and map sizes are
// bounded by the arguments. It fails only for bounds out of the codec's
// range. Both modes are immutable and safe for concurrent use.
func CBORModes(maxNesting, maxArray, maxMapPairs int) (cbor.EncMode, cbor.DecMode, error) {
	enc, err := cbor.EncOptions{
		Sort:          cbor.SortLengthFirst,
		IndefLength:   cbor.IndefLengthForbidden,
		NilContainers: cbor.NilContainerAsEmpty,
		TagsMd:        cbor.TagsAllowed,
	}.EncMode()
	if err != nil {
		return nil, nil, err
	}
	dec, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:   maxNesting,
		MaxArrayElements:  maxArray,
		MaxMapPairs:       maxMapPairs,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsAllowed,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
		UTF8:              cbor.UTF8RejectInvalid,
		NaN:               cbor.NaNDecodeForbidden,
		Inf:               cbor.InfDecodeForbidden,
	}.DecMode()
	return enc, dec, err
}

// Causes wrapped, after ErrMalformedCBOR, by decoding errors.
var (
	errTooLarge     = errors.New("over the limit")
	errFieldCount   = errors.New("wrong number of fields")
	errNotLink      = errors.New("not a link (tag 42 over bytes 0x00 and a CID)")
	errNonCanonical = errors.New("not in canonical dag-cbor form")
)

func malformed(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrMalformedCBOR, what, err)
}

// checkFieldCount refuses a definite-length map whose pair count is not n.
// Other items are left to the decoder, which reports them more precisely.
// Since unknown and duplicate keys are refused too, a map that passes has all
// n fields.
func checkFieldCount(data []byte, n int) error {
	if len(data) == 0 || data[0]>>5 != 5 || data[0]&0x1f >= 24 {
		return nil
	}
	if got := int(data[0] & 0x1f); got != n {
		return fmt.Errorf("%w: map has %d, want %d (missing or unknown keys)", errFieldCount, got, n)
	}
	return nil
}

// blockWire is the DAG-CBOR form of a Block; see Block's doc.
type blockWire struct {
	ChainID    string         `cbor:"chain"`
	Height     uint64         `cbor:"height"`
	Time       int64          `cbor:"time"`
	Prev       *cidLink       `cbor:"prev"`
	Txs        []cidLink      `cbor:"txs"`
	State      []byte         `cbor:"state"`
	Caretakers []byte         `cbor:"caretakers"`
	Commit     *commitWire    `cbor:"commit"`
	Evidence   []evidenceWire `cbor:"evidence,omitempty"`
}

const blockWireFields = 8

// blockWirePlain is blockWire without its UnmarshalCBOR method.
type blockWirePlain blockWire

// UnmarshalCBOR checks the field count, then decodes the fields.
func (w *blockWire) UnmarshalCBOR(data []byte) error {
	if err := checkBlockFieldCount(data); err != nil {
		return err
	}
	return dagCBOR.dec.Unmarshal(data, (*blockWirePlain)(w))
}

func (b *Block) wire() *blockWire {
	w := &blockWire{
		ChainID:    b.ChainID,
		Height:     b.Height,
		Time:       b.Time,
		Txs:        make([]cidLink, len(b.Txs)),
		State:      b.StateHash,
		Caretakers: b.CaretakersHash,
		Evidence:   evidenceToWire(b.Evidence),
	}
	if b.Prev.Defined() {
		w.Prev = &cidLink{b.Prev}
	}
	for i, c := range b.Txs {
		w.Txs[i] = cidLink{c}
	}
	if b.LastCommit != nil {
		w.Commit = b.LastCommit.wire()
	}
	return w
}

// block converts w; it returns Txs nil when there are none.
func (w *blockWire) block() *Block {
	b := &Block{
		ChainID:        w.ChainID,
		Height:         w.Height,
		Time:           w.Time,
		StateHash:      w.State,
		CaretakersHash: w.Caretakers,
		Evidence:       evidenceFromWire(w.Evidence),
	}
	if w.Prev != nil {
		b.Prev = w.Prev.c
	}
	if len(w.Txs) > 0 {
		b.Txs = make([]cid.Cid, len(w.Txs))
		for i, l := range w.Txs {
			b.Txs[i] = l.c
		}
	}
	if w.Commit != nil {
		b.LastCommit = w.Commit.commit()
	}
	return b
}
