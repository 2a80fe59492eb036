package node

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ipdb/ipdb-node/federation"
	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/p2p"
)

func TestVerdictOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want p2p.Verdict
	}{
		{"nil", nil, p2p.Accept},
		{"malformed", fmt.Errorf("vote: %w", ErrMalformedMessage), p2p.Reject},
		{"bad signature", ErrBadSignature, p2p.Reject},
		{"not a caretaker", errNotCaretaker, p2p.Reject},
		{"wrong peer", errWrongPeer, p2p.Reject},
		{"machine invalid", federation.ErrInvalid, p2p.Reject},
		{"invalid tx", &ledger.ValidationError{Kind: ledger.ErrInvalidSignature}, p2p.Reject},
		{"bad cbor", ledger.ErrMalformedCBOR, p2p.Reject},
		{"bad json", &ledger.JSONError{}, p2p.Reject},
		{"invalid block", ErrInvalidProposal, p2p.Reject},
		{"stale", errStaleMessage, p2p.Ignore},
		{"future", errFutureMessage, p2p.Ignore},
		{"machine stale", federation.ErrStale, p2p.Ignore},
		{"machine future", federation.ErrFuture, p2p.Ignore},
		{"internal", errors.New("disk on fire"), p2p.Ignore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := verdictOf(tc.err); got != tc.want {
				t.Fatalf("verdictOf(%v)=%v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// validatorEngine returns an engine at height 5 of a two-caretaker set
// (keys 41, 42 with peers 81, 82), able to run the gossip validators.
func validatorEngine(t *testing.T) (*bftEngine, []ledger.KeyPair) {
	t.Helper()
	keys := []ledger.KeyPair{newKey(t, 41), newKey(t, 42)}
	g := &genesis.Doc{ChainID: testChain, GenesisTime: time.Unix(1, 0).UTC(), Params: genesis.DefaultParams()}
	for i, k := range keys {
		g.Caretakers = append(g.Caretakers, genesis.Caretaker{Name: fmt.Sprint(i), PublicKey: k.PublicBase58(), Power: 10,
			PeerID: testPeerID(t, byte(81+i)).String()})
	}
	e := &bftEngine{gov: testGov(t, g, nil), log: slog.New(slog.DiscardHandler), kick: make(chan struct{}, 1), selfPeer: testPeerID(t, 81)}
	e.height.Store(5)
	return e, keys
}

func TestValidateVote(t *testing.T) {
	e, keys := validatorEngine(t)
	c := blockCIDOf(t, testBlock(t, 1))
	from := testPeerID(t, 82)
	good := signedTestVote(t, keys[1], votePrevote, 5, 0, c)
	badSig := *good
	badSig.Signature = append([]byte{}, good.Signature...)
	badSig.Signature[0] ^= 1
	for _, tc := range []struct {
		name string
		from peer.ID
		data []byte
		want p2p.Verdict
	}{
		{"valid", from, good.encode(), p2p.Accept},
		{"own message", testPeerID(t, 81), []byte("anything"), p2p.Accept},
		{"next height", from, signedTestVote(t, keys[1], votePrecommit, 6, 0, cid.Undef).encode(), p2p.Accept},
		{"malformed", from, []byte{0x80}, p2p.Reject},
		{"bad signature", from, badSig.encode(), p2p.Reject},
		{"not a caretaker", from, signedTestVote(t, newKey(t, 43), votePrevote, 5, 0, c).encode(), p2p.Reject},
		{"relayed by another caretaker peer", testPeerID(t, 83), good.encode(), p2p.Accept}, // p2p refuses non-caretaker authors
		{"stale height", from, signedTestVote(t, keys[1], votePrevote, 4, 0, c).encode(), p2p.Ignore},
		{"far future height", from, signedTestVote(t, keys[1], votePrevote, 9, 0, c).encode(), p2p.Ignore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.validateVote(t.Context(), tc.from, tc.data); got != tc.want {
				t.Fatalf("validateVote()=%v, want %v", got, tc.want)
			}
		})
	}
}

func TestValidateProposal(t *testing.T) {
	e, keys := validatorEngine(t)
	from := testPeerID(t, 82)
	b := testBlock(t, 2)
	b5 := *b
	b5.Height = 5
	b5.LastCommit = &ledger.Commit{Height: 4, Block: b.Prev, Signatures: []ledger.CommitSig{{PublicKey: keys[0].Public, Signature: make([]byte, 64)}}}
	other := b5
	other.ChainID = "other-chain"
	mine, notMine := proposerRounds(e, 5, keys[1])
	for _, tc := range []struct {
		name string
		data []byte
		want p2p.Verdict
	}{
		{"valid", signedTestProposal(t, keys[1], &b5, mine, -1).encode(), p2p.Accept},
		{"not the round's proposer", signedTestProposal(t, keys[1], &b5, notMine, -1).encode(), p2p.Reject},
		{"other chain", signedTestProposalOn(t, keys[1], &other, mine), p2p.Reject},
		{"stale", signedTestProposal(t, keys[1], b, mine, -1).encode(), p2p.Ignore},
		{"not a caretaker", signedTestProposal(t, newKey(t, 43), &b5, mine, -1).encode(), p2p.Reject},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.validateProposal(t.Context(), from, tc.data); got != tc.want {
				t.Fatalf("validateProposal()=%v, want %v", got, tc.want)
			}
		})
	}
}

// proposerRounds returns a round of height h whose proposer is key and
// one whose proposer is not.
func proposerRounds(e *bftEngine, h uint64, key ledger.KeyPair) (mine, notMine uint32) {
	found := [2]bool{}
	for r := uint32(0); !found[0] || !found[1]; r++ {
		if string(e.gov.setAt(h).vals.Proposer(h, r)) == string(key.Public) {
			mine, found[0] = r, true
		} else {
			notMine, found[1] = r, true
		}
	}
	return mine, notMine
}

// signedTestProposalOn signs a proposal of b at round r on b's own chain.
func signedTestProposalOn(t *testing.T, key ledger.KeyPair, b *ledger.Block, r uint32) []byte {
	t.Helper()
	p, err := newProposal(b, r, -1)
	if err != nil {
		t.Fatalf("newProposal()=%v", err)
	}
	p.Proposer = key.Public
	p.Signature = signWith(key, p.signBytes(b.ChainID))
	return p.encode()
}
