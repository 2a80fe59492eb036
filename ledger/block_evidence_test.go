package ledger

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/ipfs/go-cid"
)

// blkEquivocation returns evidence that c signed two votes of typ at
// (1, round): a nil vote and one for block.
func blkEquivocation(c blkCaretaker, typ uint8, round uint32, block cid.Cid) Equivocation {
	sign := func(b cid.Cid) []byte { return ed25519.Sign(c.priv, VoteSignBytes(blkChainID, typ, 1, round, b)) }
	return Equivocation{Type: typ, Height: 1, Round: round, PublicKey: c.pub,
		BlockA: cid.Undef, SigA: sign(cid.Undef), BlockB: block, SigB: sign(block)}
}

func TestBlockEvidenceRoundTrip(t *testing.T) {
	cs := blkCaretakers(10, 20)
	b := blkValid(t)
	plain, err := b.Encode()
	if err != nil {
		t.Fatalf("Encode()=%v", err)
	}
	withEv := *b
	withEv.Evidence = []Equivocation{blkEquivocation(cs[1], VotePrecommit, 0, b.Prev), blkEquivocation(cs[0], VotePrevote, 2, b.Prev)}
	SortEvidence(withEv.Evidence)
	data, err := withEv.Encode()
	if err != nil {
		t.Fatalf("Encode(with evidence)=%v", err)
	}
	if bytes.Equal(data, plain) || !bytes.Contains(data, []byte("evidence")) || bytes.Contains(plain, []byte("evidence")) {
		t.Fatalf("evidence must be encoded only when present")
	}
	got, err := DecodeBlock(data)
	if err != nil {
		t.Fatalf("DecodeBlock()=%v", err)
	}
	if len(got.Evidence) != 2 || !got.Evidence[0].BlockB.Equals(b.Prev) || got.Evidence[0].BlockA.Defined() {
		t.Fatalf("DecodeBlock() evidence %+v, want the two equivocations", got.Evidence)
	}
	again, err := got.Encode()
	if err != nil || !bytes.Equal(again, data) {
		t.Fatalf("re-encoded %x, %v, want %x", again, err, data)
	}
	power, _ := blkPower(cs)
	for i := range got.Evidence {
		if err := got.Evidence[i].Verify(blkChainID, power); err != nil {
			t.Fatalf("Verify(evidence %d)=%v, want nil", i, err)
		}
	}
}

func TestBlockEvidenceValidateBasic(t *testing.T) {
	cs := blkCaretakers(10, 20)
	b := blkValid(t)
	good := blkEquivocation(cs[0], VotePrevote, 0, b.Prev)
	tests := []struct {
		name  string
		edit  func(e *Equivocation)
		field string
	}{
		{"valid", func(*Equivocation) {}, ""},
		{"type", func(e *Equivocation) { e.Type = 3 }, "evidence[0].type"},
		{"height of the block", func(e *Equivocation) { e.Height = b.Height }, "evidence[0].height"},
		{"height zero", func(e *Equivocation) { e.Height = 0 }, "evidence[0].height"},
		{"short key", func(e *Equivocation) { e.PublicKey = e.PublicKey[:31] }, "evidence[0].pk"},
		{"short signature", func(e *Equivocation) { e.SigB = e.SigB[:63] }, "evidence[0].b.sig"},
		{"same block twice", func(e *Equivocation) { e.BlockA = e.BlockB }, "evidence[0].b.block"},
		{"votes out of order", func(e *Equivocation) { e.BlockA, e.BlockB = e.BlockB, e.BlockA }, "evidence[0].b.block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := good
			tt.edit(&e)
			bb := *b
			bb.Evidence = []Equivocation{e}
			blkCheckField(t, bb.ValidateBasic(), ErrInvalidBlock, tt.field)
		})
	}
	t.Run("duplicates", func(t *testing.T) {
		bb := *b
		bb.Evidence = []Equivocation{good, good}
		blkCheckField(t, bb.ValidateBasic(), ErrInvalidBlock, "evidence[1]")
	})
}

func TestEquivocationVerify(t *testing.T) {
	cs := blkCaretakers(10, 20, 30)
	power, _ := blkPower(cs[:2])
	b := blkValid(t)
	good := blkEquivocation(cs[0], VotePrecommit, 1, b.Prev)
	forged := good
	forged.SigB = good.SigA
	outsider := blkEquivocation(cs[2], VotePrecommit, 1, b.Prev)
	otherType := good
	otherType.Type = VotePrevote
	for _, tc := range []struct {
		name string
		e    Equivocation
		ok   bool
	}{
		{"valid", good, true},
		{"signature over another vote", forged, false},
		{"not a caretaker", outsider, false},
		{"signatures of another vote type", otherType, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.e.Verify(blkChainID, power)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidEvidence)) {
				t.Fatalf("Verify()=%v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestVoteSignBytes(t *testing.T) {
	b := blkValid(t)
	if got, want := VoteSignBytes(blkChainID, VotePrecommit, 3, 1, b.Prev), CommitSignBytes(blkChainID, 3, 1, b.Prev); !bytes.Equal(got, want) {
		t.Fatalf("VoteSignBytes(precommit)=%q, want CommitSignBytes %q", got, want)
	}
	pv := VoteSignBytes(blkChainID, VotePrevote, 3, 1, b.Prev)
	if !bytes.HasPrefix(pv, []byte(prevoteSignDomain)) || bytes.Equal(pv, VoteSignBytes(blkChainID, 3, 3, 1, b.Prev)) {
		t.Fatalf("VoteSignBytes(prevote)=%q, want the prevote domain and no collision with other types", pv)
	}
}

// TestBlockEvidenceGolden pins the encoding of a block carrying evidence
// (testdata/block/height2-evidence.*; rewritten with -update-block).
func TestBlockEvidenceGolden(t *testing.T) {
	blocks, _, _ := blkChain(t, 3, 2)
	b := *blocks[2]
	b.Evidence = []Equivocation{blkEquivocation(blkCaretakers(10)[0], VotePrevote, 1, b.Prev)}
	data, err := b.Encode()
	if err != nil {
		t.Fatalf("Encode()=%v", err)
	}
	blkGolden(t, "height2-evidence", data)
}
