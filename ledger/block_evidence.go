package ledger

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/ipdb/ipdb-node/internal/ed25519verify"
	"github.com/ipfs/go-cid"
)

// Evidence of double signing, carried by blocks. A caretaker that signs two
// different votes of one type for one height and round (equivocation) is
// recorded on chain by the next proposer that saw both votes.
//
// A block's evidence is an optional ninth field of its DAG-CBOR map, present
// only when the block carries evidence (so blocks without evidence keep
// their CIDs):
//
//	evidence [Equivocation]   # sorted by (pk, height, round, type), no two alike
//	type Equivocation struct {
//	  a      VoteRef   # the vote whose block sorts first (null before links)
//	  b      VoteRef
//	  pk     Bytes     # the caretaker's ed25519 signing key, 32 bytes
//	  type   Int       # 1 prevote, 2 precommit
//	  round  Int
//	  height Int       # below the carrying block's height
//	}
//	type VoteRef struct {
//	  sig   Bytes              # 64 bytes over VoteSignBytes
//	  block nullable &Block    # null: a nil vote
//	}

// Vote types of an Equivocation (and of the node's consensus votes).
const (
	VotePrevote   uint8 = 1
	VotePrecommit uint8 = 2
)

// MaxBlockEvidence bounds the equivocations one block carries: each costs
// two signature checks, and one per caretaker per round is plenty.
const MaxBlockEvidence = 64

// prevoteSignDomain prefixes a prevote's sign bytes.
const prevoteSignDomain = "ipdb-node/prevote/v1\x00"

// ErrInvalidEvidence is wrapped by Equivocation.Verify's errors.
var ErrInvalidEvidence = errors.New("ledger: invalid evidence")

// Equivocation is proof that the caretaker PublicKey signed two votes of
// Type for (Height, Round) for different blocks: SigA over BlockA and SigB
// over BlockB (cid.Undef is a nil vote). BlockA sorts before BlockB by
// binary CID (a nil vote first).
type Equivocation struct {
	Type      uint8
	Height    uint64
	Round     uint32
	PublicKey []byte
	BlockA    cid.Cid
	SigA      []byte
	BlockB    cid.Cid
	SigB      []byte
}

// VoteSignBytes returns the bytes a caretaker signs to vote for block (or
// nil, cid.Undef) at (height, round) of chain chainID: a precommit signs
// CommitSignBytes; a prevote signs "ipdb-node/prevote/v1\x00" followed by
// the same DAG-CBOR array. Any other type gets the prevote form prefixed
// with its number, so it never collides with a real vote.
func VoteSignBytes(chainID string, typ uint8, height uint64, round uint32, block cid.Cid) []byte {
	b := CommitSignBytes(chainID, height, round, block)
	if typ == VotePrecommit {
		return b
	}
	arr := b[len(commitSignDomain):]
	if typ == VotePrevote {
		return append([]byte(prevoteSignDomain), arr...)
	}
	return append([]byte(fmt.Sprintf("ipdb-node/vote-%d/v1\x00", typ)), arr...)
}

// validateBasic checks e's shape as evidence number i of a block at height
// h, without state.
func (e *Equivocation) validateBasic(i int, h uint64) error {
	f := func(name string) string { return fmt.Sprintf("evidence[%d].%s", i, name) }
	switch {
	case e.Type != VotePrevote && e.Type != VotePrecommit:
		return blockErr(f("type"), "%d, want 1 or 2", e.Type)
	case e.Height == 0 || e.Height >= h:
		return blockErr(f("height"), "%d, want 1 to %d", e.Height, h-1)
	case len(e.PublicKey) != ed25519.PublicKeySize:
		return blockErr(f("pk"), "%d bytes, want %d", len(e.PublicKey), ed25519.PublicKeySize)
	case len(e.SigA) != ed25519.SignatureSize:
		return blockErr(f("a.sig"), "%d bytes, want %d", len(e.SigA), ed25519.SignatureSize)
	case len(e.SigB) != ed25519.SignatureSize:
		return blockErr(f("b.sig"), "%d bytes, want %d", len(e.SigB), ed25519.SignatureSize)
	case e.BlockA.Defined() && !isBlockCID(e.BlockA):
		return blockErr(f("a.block"), "not a dag-cbor sha2-256 CIDv1")
	case !isBlockCID(e.BlockB):
		return blockErr(f("b.block"), "not a dag-cbor sha2-256 CIDv1")
	case e.BlockA.KeyString() >= e.BlockB.KeyString():
		return blockErr(f("b.block"), "must sort after a.block (and differ from it)")
	}
	return nil
}

// validateEvidence checks the count, order and shape of b.Evidence.
func (b *Block) validateEvidence() error {
	if len(b.Evidence) > MaxBlockEvidence {
		return blockErr("evidence", "%d items, over the limit of %d", len(b.Evidence), MaxBlockEvidence)
	}
	for i := range b.Evidence {
		e := &b.Evidence[i]
		if err := e.validateBasic(i, b.Height); err != nil {
			return err
		}
		if i > 0 && compareEvidence(&b.Evidence[i-1], e) >= 0 {
			return blockErr(fmt.Sprintf("evidence[%d]", i), "not after evidence[%d] (sort by pk, height, round, type; no duplicates)", i-1)
		}
	}
	return nil
}

// compareEvidence orders evidence by (pk, height, round, type).
func compareEvidence(a, b *Equivocation) int {
	if c := bytes.Compare(a.PublicKey, b.PublicKey); c != 0 {
		return c
	}
	for _, p := range [][2]uint64{{a.Height, b.Height}, {uint64(a.Round), uint64(b.Round)}, {uint64(a.Type), uint64(b.Type)}} {
		switch {
		case p[0] < p[1]:
			return -1
		case p[0] > p[1]:
			return 1
		}
	}
	return 0
}

// SortEvidence sorts evs in the order blocks require and puts each pair's
// votes in order (a before b). It does not remove duplicates.
func SortEvidence(evs []Equivocation) {
	for i := range evs {
		e := &evs[i]
		if e.BlockA.KeyString() > e.BlockB.KeyString() {
			e.BlockA, e.BlockB, e.SigA, e.SigB = e.BlockB, e.BlockA, e.SigB, e.SigA
		}
	}
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && compareEvidence(&evs[j-1], &evs[j]) > 0; j-- {
			evs[j-1], evs[j] = evs[j], evs[j-1]
		}
	}
}

// Verify checks that e proves double signing on chain chainID: the signer
// has power (power returns 0 outside the caretaker set) and both signatures
// verify. It assumes e passed its block's ValidateBasic. Errors wrap
// ErrInvalidEvidence.
func (e *Equivocation) Verify(chainID string, power func(pub []byte) uint64) error {
	if power(e.PublicKey) == 0 {
		return fmt.Errorf("%w: %x is not a caretaker", ErrInvalidEvidence, e.PublicKey)
	}
	a := VoteSignBytes(chainID, e.Type, e.Height, e.Round, e.BlockA)
	b := VoteSignBytes(chainID, e.Type, e.Height, e.Round, e.BlockB)
	if !ed25519verify.Verify(e.PublicKey, a, e.SigA) || !ed25519verify.Verify(e.PublicKey, b, e.SigB) {
		return fmt.Errorf("%w: a vote signature of %x does not verify", ErrInvalidEvidence, e.PublicKey)
	}
	return nil
}

// evidenceWire is the DAG-CBOR form of an Equivocation.
type evidenceWire struct {
	A         voteRefWire `cbor:"a"`
	B         voteRefWire `cbor:"b"`
	PublicKey []byte      `cbor:"pk"`
	Type      uint8       `cbor:"type"`
	Round     uint32      `cbor:"round"`
	Height    uint64      `cbor:"height"`
}

type evidenceWirePlain evidenceWire

const evidenceWireFields = 6

// UnmarshalCBOR checks the field count, then decodes the fields.
func (w *evidenceWire) UnmarshalCBOR(data []byte) error {
	if err := checkFieldCount(data, evidenceWireFields); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return dagCBOR.dec.Unmarshal(data, (*evidenceWirePlain)(w))
}

// voteRefWire is the DAG-CBOR form of one vote of an Equivocation.
type voteRefWire struct {
	Sig   []byte   `cbor:"sig"`
	Block *cidLink `cbor:"block"`
}

type voteRefWirePlain voteRefWire

const voteRefWireFields = 2

// UnmarshalCBOR checks the field count, then decodes the fields.
func (w *voteRefWire) UnmarshalCBOR(data []byte) error {
	if err := checkFieldCount(data, voteRefWireFields); err != nil {
		return fmt.Errorf("evidence vote: %w", err)
	}
	return dagCBOR.dec.Unmarshal(data, (*voteRefWirePlain)(w))
}

func voteRef(c cid.Cid, sig []byte) voteRefWire {
	w := voteRefWire{Sig: sig}
	if c.Defined() {
		w.Block = &cidLink{c}
	}
	return w
}

func (w voteRefWire) cid() cid.Cid {
	if w.Block == nil {
		return cid.Undef
	}
	return w.Block.c
}

// evidenceToWire converts evs; nil when there are none (the field is then
// omitted).
func evidenceToWire(evs []Equivocation) []evidenceWire {
	if len(evs) == 0 {
		return nil
	}
	out := make([]evidenceWire, len(evs))
	for i, e := range evs {
		out[i] = evidenceWire{A: voteRef(e.BlockA, e.SigA), B: voteRef(e.BlockB, e.SigB), PublicKey: e.PublicKey,
			Type: e.Type, Round: e.Round, Height: e.Height}
	}
	return out
}

// evidenceFromWire converts ws; nil when there are none.
func evidenceFromWire(ws []evidenceWire) []Equivocation {
	if len(ws) == 0 {
		return nil
	}
	out := make([]Equivocation, len(ws))
	for i, w := range ws {
		out[i] = Equivocation{Type: w.Type, Height: w.Height, Round: w.Round, PublicKey: w.PublicKey,
			BlockA: w.A.cid(), SigA: w.A.Sig, BlockB: w.B.cid(), SigB: w.B.Sig}
	}
	return out
}

// checkBlockFieldCount accepts a block map of eight fields, or nine when
// the ninth is evidence (unknown keys are refused by the decoder).
func checkBlockFieldCount(data []byte) error {
	if err := checkFieldCount(data, blockWireFields); err == nil {
		return nil
	}
	return checkFieldCount(data, blockWireFields+1)
}
