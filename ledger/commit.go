package ledger

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"github.com/ipdb/ipdb-node/internal/ed25519verify"
	"github.com/ipfs/go-cid"
)

// Commit is the set of caretaker signatures that makes a block final.
//
// Its DAG-CBOR form is a map of exactly four fields, in encoded key order:
//
//	type Commit struct {
//	  sigs   [CommitSig]  # Signatures, sorted by public key, at least one
//	  block  &Block       # Block
//	  round  Int          # Round
//	  height Int          # Height, at least 1
//	}
//	type CommitSig struct {
//	  pk  Bytes  # PublicKey: ed25519, 32 bytes
//	  sig Bytes  # Signature: 64 bytes
//	}
type Commit struct {
	Height     uint64
	Round      uint32
	Block      cid.Cid
	Signatures []CommitSig // strictly ascending by PublicKey (see SortSignatures)
}

// CommitSig is one caretaker's precommit signature in a Commit.
type CommitSig struct {
	PublicKey []byte // ed25519, 32 bytes
	Signature []byte // 64 bytes, over CommitSignBytes(chainID, Height, Round, Block)
}

// Errors of commits. ValidateBasic returns a *BlockError of Kind
// ErrInvalidCommit; Verify also returns errors wrapping the others. Every one
// of them means the commit does not prove the block final.
var (
	// ErrInvalidCommit is the Kind of a *BlockError about a commit.
	ErrInvalidCommit = errors.New("ledger: invalid commit")
	// ErrCommitSigner is wrapped when a signer has no power.
	ErrCommitSigner = errors.New("ledger: commit signer is not in the caretaker set")
	// ErrCommitSignature is wrapped when a signature does not verify.
	ErrCommitSignature = errors.New("ledger: commit signature does not verify")
	// ErrCommitPower is wrapped when the signers' power is too small.
	ErrCommitPower = errors.New("ledger: commit signing power is not above 2/3 of the total")
)

// commitSignDomain prefixes every precommit's sign bytes, so that a signature
// over them can never be taken for a signature of anything else.
const commitSignDomain = "ipdb-node/precommit/v1\x00"

// CommitSignBytes returns the bytes a caretaker signs to precommit block at
// (height, round) of chain chainID: "ipdb-node/precommit/v1\x00" followed by
// the DAG-CBOR array [chainID, height, round, block] (block as a tag-42 link,
// or null when undefined). It never fails and always gives the same bytes for
// the same arguments.
func CommitSignBytes(chainID string, height uint64, round uint32, block cid.Cid) []byte {
	dst := make([]byte, 0, len(commitSignDomain)+len(chainID)+64)
	dst = append(dst, commitSignDomain...)
	dst = appendCBORHead(dst, 4, 4)
	dst = appendCBORHead(dst, 3, uint64(len(chainID)))
	dst = append(dst, chainID...)
	dst = appendCBORHead(dst, 0, height)
	dst = appendCBORHead(dst, 0, uint64(round))
	if !block.Defined() {
		return append(dst, 0xf6)
	}
	return appendLink(dst, block)
}

func commitErr(field, format string, args ...any) *BlockError {
	return &BlockError{Kind: ErrInvalidCommit, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ValidateBasic checks the commit's shape and limits without any state:
// height in 1..MaxBlockHeight, Block a dag-cbor sha2-256 CIDv1, 1 to
// MaxCommitSigs signatures with 32-byte keys and 64-byte signatures, keys
// strictly ascending (so no key signs twice). It returns a *BlockError.
func (c *Commit) ValidateBasic() error {
	switch {
	case c.Height == 0:
		return commitErr("height", "must be at least 1")
	case c.Height > MaxBlockHeight:
		return commitErr("height", "%d is over the limit of %d", c.Height, MaxBlockHeight)
	case !isBlockCID(c.Block):
		return commitErr("block", "not a dag-cbor sha2-256 CIDv1")
	case len(c.Signatures) == 0:
		return commitErr("sigs", "empty")
	case len(c.Signatures) > MaxCommitSigs:
		return commitErr("sigs", "%d signatures, over the limit of %d", len(c.Signatures), MaxCommitSigs)
	}
	for i, s := range c.Signatures {
		if err := validateCommitSig(c.Signatures, i, s); err != nil {
			return err
		}
	}
	return nil
}

func validateCommitSig(sigs []CommitSig, i int, s CommitSig) error {
	switch {
	case len(s.PublicKey) != ed25519.PublicKeySize:
		return commitErr(fmt.Sprintf("sigs[%d].pk", i), "%d bytes, want %d", len(s.PublicKey), ed25519.PublicKeySize)
	case len(s.Signature) != ed25519.SignatureSize:
		return commitErr(fmt.Sprintf("sigs[%d].sig", i), "%d bytes, want %d", len(s.Signature), ed25519.SignatureSize)
	case i == 0:
		return nil
	}
	switch bytes.Compare(sigs[i-1].PublicKey, s.PublicKey) {
	case 0:
		return commitErr(fmt.Sprintf("sigs[%d].pk", i), "duplicate signer")
	case 1:
		return commitErr(fmt.Sprintf("sigs[%d].pk", i), "keys not in ascending order (see SortSignatures)")
	}
	return nil
}

// SortSignatures sorts c.Signatures by public key, the order ValidateBasic
// requires. It does not remove duplicates.
func (c *Commit) SortSignatures() {
	slices.SortFunc(c.Signatures, func(a, b CommitSig) int { return bytes.Compare(a.PublicKey, b.PublicKey) })
}

// Verify checks that c proves its block final on chain chainID: c passes
// ValidateBasic (so signers are distinct), every signer has power (power
// returns 0 for a key not in the caretaker set: ErrCommitSigner), every
// signature is valid over CommitSignBytes (ErrCommitSignature), and the
// signers' power is more than 2/3 of total (ErrCommitPower, also returned when
// the signers' power exceeds total). power must not modify its argument.
func (c *Commit) Verify(chainID string, power func(pub []byte) uint64, total uint64) error {
	if err := c.ValidateBasic(); err != nil {
		return err
	}
	msg := CommitSignBytes(chainID, c.Height, c.Round, c.Block)
	var signed uint64
	for i, s := range c.Signatures {
		p := power(s.PublicKey)
		if p == 0 {
			return fmt.Errorf("sigs[%d]: %w", i, ErrCommitSigner)
		}
		if !ed25519verify.Verify(s.PublicKey, msg, s.Signature) {
			return fmt.Errorf("sigs[%d]: %w", i, ErrCommitSignature)
		}
		var carry uint64
		if signed, carry = bits.Add64(signed, p, 0); carry != 0 || signed > total {
			return fmt.Errorf("%w: signers' power exceeds the total %d", ErrCommitPower, total)
		}
	}
	if !moreThanTwoThirds(signed, total) {
		return fmt.Errorf("%w: %d of %d", ErrCommitPower, signed, total)
	}
	return nil
}

// moreThanTwoThirds reports whether 3*part > 2*total, without overflow.
func moreThanTwoThirds(part, total uint64) bool {
	ph, pl := bits.Mul64(part, 3)
	th, tl := bits.Mul64(total, 2)
	return ph > th || (ph == th && pl > tl)
}

// Encode returns the commit's canonical DAG-CBOR bytes, or ValidateBasic's
// error for an invalid commit.
func (c *Commit) Encode() ([]byte, error) {
	if err := c.ValidateBasic(); err != nil {
		return nil, err
	}
	data, err := dagCBOR.enc.Marshal(c.wire())
	if err != nil {
		return nil, fmt.Errorf("encode commit: %w", err)
	}
	return data, nil
}

// DecodeCommit decodes a commit with DecodeBlock's strictness (limit
// MaxCommitBytes): errors wrap ErrMalformedCBOR, then ValidateBasic's error is
// returned, if any. Data is not retained.
func DecodeCommit(data []byte) (*Commit, error) {
	if len(data) > MaxCommitBytes {
		return nil, malformed("commit", fmt.Errorf("%d bytes: %w of %d", len(data), errTooLarge, MaxCommitBytes))
	}
	var w commitWire
	if err := dagCBOR.dec.Unmarshal(data, &w); err != nil {
		return nil, malformed("commit", err)
	}
	c := w.commit()
	enc, err := dagCBOR.enc.Marshal(c.wire())
	if err != nil {
		return nil, malformed("commit", err)
	}
	if !bytes.Equal(enc, data) {
		return nil, malformed("commit", errNonCanonical)
	}
	if err := c.ValidateBasic(); err != nil {
		return nil, err
	}
	return c, nil
}

// commitWire is the DAG-CBOR form of a Commit; see Commit's doc.
type commitWire struct {
	Height uint64    `cbor:"height"`
	Round  uint32    `cbor:"round"`
	Block  cidLink   `cbor:"block"`
	Sigs   []sigWire `cbor:"sigs"`
}

// commitWirePlain is commitWire without its UnmarshalCBOR method.
type commitWirePlain commitWire

const commitWireFields = 4

// UnmarshalCBOR checks the field count, then decodes the fields.
func (w *commitWire) UnmarshalCBOR(data []byte) error {
	if err := checkFieldCount(data, commitWireFields); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return dagCBOR.dec.Unmarshal(data, (*commitWirePlain)(w))
}

// sigWire is the DAG-CBOR form of a CommitSig.
type sigWire struct {
	PublicKey []byte `cbor:"pk"`
	Signature []byte `cbor:"sig"`
}

// sigWirePlain is sigWire without its UnmarshalCBOR method.
type sigWirePlain sigWire

const sigWireFields = 2

// UnmarshalCBOR checks the field count, then decodes the fields.
func (w *sigWire) UnmarshalCBOR(data []byte) error {
	if err := checkFieldCount(data, sigWireFields); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	return dagCBOR.dec.Unmarshal(data, (*sigWirePlain)(w))
}

func (c *Commit) wire() *commitWire {
	w := &commitWire{Height: c.Height, Round: c.Round, Block: cidLink{c.Block}, Sigs: make([]sigWire, len(c.Signatures))}
	for i, s := range c.Signatures {
		w.Sigs[i] = sigWire(s)
	}
	return w
}

func (w *commitWire) commit() *Commit {
	c := &Commit{Height: w.Height, Round: w.Round, Block: w.Block.c}
	if len(w.Sigs) > 0 {
		c.Signatures = make([]CommitSig, len(w.Sigs))
		for i, s := range w.Sigs {
			c.Signatures[i] = CommitSig(s)
		}
	}
	return c
}
