package node

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/ipdb/ipdb-node/internal/ed25519verify"
	"github.com/ipdb/ipdb-node/ledger"
)

// The consensus messages on the wire. A proposal carries the block header
// (the ledger.Block DAG-CBOR bytes, which list the transaction CIDs) but not
// the transactions; a vote names a block by CID. Both are CBOR arrays signed
// by a caretaker's Ed25519 signing key:
//
//	Proposal = [height, round, pol_round, header (bytes), proposer (32 bytes), signature (64 bytes)]
//	Vote     = [type (1 prevote, 2 precommit), height, round, block (tag-42 link or null), validator (32 bytes), signature (64 bytes)]
//
// Sign bytes: a precommit signs ledger.CommitSignBytes (so precommits are the
// block's commit signatures); a prevote signs "ipdb-node/prevote/v1\x00" and
// the same CBOR array [chain, height, round, block]; a proposal signs
// "ipdb-node/proposal/v1\x00" and [chain, height, round, pol_round, block].

// Vote types on the wire; the same numbers as federation.VoteType.
const (
	votePrevote   = ledger.VotePrevote
	votePrecommit = ledger.VotePrecommit
)

// proposalDomain prefixes a proposal's sign bytes (votes use
// ledger.VoteSignBytes).
const proposalDomain = "ipdb-node/proposal/v1\x00"

// Errors of consensus messages.
var (
	// ErrMalformedMessage is wrapped by every refusal of a consensus
	// message's or batch's bytes or shape.
	ErrMalformedMessage = errors.New("node: malformed consensus message")
	// ErrBadSignature means a message's signature does not verify.
	ErrBadSignature = errors.New("node: consensus message signature does not verify")
)

// signedVote is a vote as it travels on the "votes" topic.
type signedVote struct {
	Type      uint8
	Height    uint64
	Round     uint32
	Block     cid.Cid // cid.Undef: a nil vote
	Validator []byte  // ed25519 signing key, 32 bytes
	Signature []byte  // 64 bytes over signBytes
}

// signedProposal is a proposal as it travels on the "proposals" topic.
type signedProposal struct {
	Height    uint64
	Round     uint32
	POLRound  int32  // -1: none
	Header    []byte // the block's DAG-CBOR bytes
	Proposer  []byte // ed25519 signing key, 32 bytes
	Signature []byte
	block     *ledger.Block // decoded Header; set by decodeProposal and newProposal
	blockCID  cid.Cid       // CID of Header
}

func malformedMsg(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedMessage, fmt.Sprintf(format, args...))
}

// ValidateBasic checks the vote's shape without state.
func (v *signedVote) ValidateBasic() error {
	switch {
	case v.Type != votePrevote && v.Type != votePrecommit:
		return malformedMsg("vote type %d", v.Type)
	case v.Height == 0 || v.Height > ledger.MaxBlockHeight:
		return malformedMsg("vote height %d", v.Height)
	case v.Block.Defined() && !isBlockCID(v.Block):
		return malformedMsg("vote block %s is not a dag-cbor sha2-256 CIDv1", v.Block)
	case len(v.Validator) != ed25519.PublicKeySize:
		return malformedMsg("vote validator key of %d bytes", len(v.Validator))
	case len(v.Signature) != ed25519.SignatureSize:
		return malformedMsg("vote signature of %d bytes", len(v.Signature))
	}
	return nil
}

// ValidateBasic checks the proposal's shape without state; the header must
// have been decoded (decodeProposal does it).
func (p *signedProposal) ValidateBasic() error {
	switch {
	case p.Height == 0 || p.Height > ledger.MaxBlockHeight:
		return malformedMsg("proposal height %d", p.Height)
	case p.POLRound < -1 || (p.POLRound >= 0 && uint32(p.POLRound) >= p.Round):
		return malformedMsg("proposal pol_round %d at round %d", p.POLRound, p.Round)
	case len(p.Proposer) != ed25519.PublicKeySize:
		return malformedMsg("proposer key of %d bytes", len(p.Proposer))
	case len(p.Signature) != ed25519.SignatureSize:
		return malformedMsg("proposal signature of %d bytes", len(p.Signature))
	case p.block == nil:
		return malformedMsg("proposal header not decoded")
	case p.block.Height != p.Height:
		return malformedMsg("proposal height %d carries block %d", p.Height, p.block.Height)
	}
	return nil
}

// signBytes returns what the vote's validator signs on chain chainID.
func (v *signedVote) signBytes(chainID string) []byte {
	return ledger.VoteSignBytes(chainID, v.Type, v.Height, v.Round, v.Block)
}

// signBytes returns what the proposer signs on chain chainID.
func (p *signedProposal) signBytes(chainID string) []byte {
	w := proposalSignWire{Chain: chainID, Height: p.Height, Round: p.Round, POLRound: p.POLRound, Block: link{p.blockCID}}
	data, err := wireCBOR.enc.Marshal(w)
	if err != nil {
		panic("node: proposal sign bytes always encode: " + err.Error())
	}
	return append([]byte(proposalDomain), data...)
}

// verify checks the vote's signature.
func (v *signedVote) verify(chainID string) error {
	if !ed25519verify.Verify(v.Validator, v.signBytes(chainID), v.Signature) {
		return fmt.Errorf("%w: vote of %x at %d/%d", ErrBadSignature, v.Validator[:4], v.Height, v.Round)
	}
	return nil
}

// verify checks the proposal's signature.
func (p *signedProposal) verify(chainID string) error {
	if !ed25519verify.Verify(p.Proposer, p.signBytes(chainID), p.Signature) {
		return fmt.Errorf("%w: proposal of %x at %d/%d", ErrBadSignature, p.Proposer[:4], p.Height, p.Round)
	}
	return nil
}

// newProposal returns the unsigned proposal of block b (already valid).
func newProposal(b *ledger.Block, round uint32, pol int32) (*signedProposal, error) {
	header, err := b.Encode()
	if err != nil {
		return nil, fmt.Errorf("encode proposed block %d: %w", b.Height, err)
	}
	return &signedProposal{Height: b.Height, Round: round, POLRound: pol, Header: header,
		block: b, blockCID: ledger.BlockCID(header)}, nil
}

// The CBOR forms.

type voteWire struct {
	_         struct{} `cbor:",toarray"`
	Type      uint8
	Height    uint64
	Round     uint32
	Block     *link
	Validator []byte
	Signature []byte
}

type proposalWire struct {
	_         struct{} `cbor:",toarray"`
	Height    uint64
	Round     uint32
	POLRound  int32
	Header    []byte
	Proposer  []byte
	Signature []byte
}

type proposalSignWire struct {
	_        struct{} `cbor:",toarray"`
	Chain    string
	Height   uint64
	Round    uint32
	POLRound int32
	Block    link
}

// encode returns the vote's canonical bytes.
func (v *signedVote) encode() []byte {
	w := voteWire{Type: v.Type, Height: v.Height, Round: v.Round, Validator: v.Validator, Signature: v.Signature}
	if v.Block.Defined() {
		w.Block = &link{v.Block}
	}
	return mustEncode(w)
}

// encode returns the proposal's canonical bytes.
func (p *signedProposal) encode() []byte {
	return mustEncode(proposalWire{Height: p.Height, Round: p.Round, POLRound: p.POLRound,
		Header: p.Header, Proposer: p.Proposer, Signature: p.Signature})
}

func mustEncode(v any) []byte {
	data, err := wireCBOR.enc.Marshal(v)
	if err != nil {
		panic("node: consensus wire types always encode: " + err.Error())
	}
	return data
}

// decodeVote decodes a vote strictly (size limit, canonical form only) and
// runs ValidateBasic. Errors wrap ErrMalformedMessage. It does not verify
// the signature.
func decodeVote(data []byte) (*signedVote, error) {
	if len(data) > MaxVoteBytes {
		return nil, malformedMsg("vote of %d bytes, over the limit of %d", len(data), MaxVoteBytes)
	}
	var w voteWire
	if err := decodeCanonical(data, &w); err != nil {
		return nil, fmt.Errorf("vote: %w", err)
	}
	v := &signedVote{Type: w.Type, Height: w.Height, Round: w.Round, Validator: w.Validator, Signature: w.Signature}
	if w.Block != nil {
		v.Block = w.Block.c
	}
	if err := v.ValidateBasic(); err != nil {
		return nil, err
	}
	return v, nil
}

// decodeProposal decodes a proposal strictly, decodes its block header
// (ledger.DecodeBlock's strictness) and runs ValidateBasic. Errors wrap
// ErrMalformedMessage. It does not verify the signature.
func decodeProposal(data []byte) (*signedProposal, error) {
	if len(data) > MaxProposalBytes {
		return nil, malformedMsg("proposal of %d bytes, over the limit of %d", len(data), MaxProposalBytes)
	}
	var w proposalWire
	if err := decodeCanonical(data, &w); err != nil {
		return nil, fmt.Errorf("proposal: %w", err)
	}
	p := &signedProposal{Height: w.Height, Round: w.Round, POLRound: w.POLRound, Header: w.Header,
		Proposer: w.Proposer, Signature: w.Signature}
	b, err := ledger.DecodeBlock(w.Header)
	if err != nil {
		return nil, fmt.Errorf("%w: proposal header: %w", ErrMalformedMessage, err)
	}
	p.block, p.blockCID = b, ledger.BlockCID(w.Header)
	if err := p.ValidateBasic(); err != nil {
		return nil, err
	}
	return p, nil
}

// encodeTxBatch returns a gossip batch: a CBOR array of canonical
// transactions.
func encodeTxBatch(txs [][]byte) []byte { return mustEncode(txs) }

// decodeTxBatch decodes a gossip batch strictly: at most MaxGossipBatch
// transactions of at most ledger.MaxTxBytes each, canonical CBOR. The
// returned slices alias data. Errors wrap ErrMalformedMessage.
func decodeTxBatch(data []byte) ([][]byte, error) {
	if len(data) > MaxGossipBatchBytes {
		return nil, malformedMsg("batch of %d bytes, over the limit of %d", len(data), MaxGossipBatchBytes)
	}
	var txs [][]byte
	if err := decodeCanonical(data, &txs); err != nil {
		return nil, fmt.Errorf("tx batch: %w", err)
	}
	switch {
	case len(txs) == 0:
		return nil, malformedMsg("empty tx batch")
	case len(txs) > MaxGossipBatch:
		return nil, malformedMsg("batch of %d transactions, over the limit of %d", len(txs), MaxGossipBatch)
	}
	for i, tx := range txs {
		if len(tx) == 0 || len(tx) > ledger.MaxTxBytes {
			return nil, malformedMsg("batch transaction %d of %d bytes", i, len(tx))
		}
	}
	return txs, nil
}

// decodeCanonical decodes data into v and refuses it unless re-encoding v
// gives data back (canonical heads, no trailing bytes).
func decodeCanonical(data []byte, v any) error {
	if err := wireCBOR.dec.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedMessage, err)
	}
	enc, err := wireCBOR.enc.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedMessage, err)
	}
	if !bytes.Equal(enc, data) {
		return fmt.Errorf("%w: not in canonical form", ErrMalformedMessage)
	}
	return nil
}
