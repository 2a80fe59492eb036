package node

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ipfs/go-cid"
	"pgregory.net/rapid"

	"github.com/ipdb/ipdb-node/ledger"
)

const testChain = "test-chain"

// testBlock returns a valid block at height 1 holding n made-up tx CIDs.
func testBlock(t testing.TB, n int) *ledger.Block {
	t.Helper()
	g := &ledger.Block{ChainID: testChain, Time: 1, StateHash: make([]byte, 32), CaretakersHash: make([]byte, 32)}
	gc, err := g.CID()
	if err != nil {
		t.Fatalf("CID()=%v", err)
	}
	b := &ledger.Block{ChainID: testChain, Height: 1, Time: 2, Prev: gc, StateHash: make([]byte, 32), CaretakersHash: make([]byte, 32)}
	for i := range n {
		b.Txs = append(b.Txs, ledger.TxCID(sha256.Sum256([]byte{byte(i), byte(i >> 8)})))
	}
	return b
}

func blockCIDOf(t testing.TB, b *ledger.Block) cid.Cid {
	t.Helper()
	c, err := b.CID()
	if err != nil {
		t.Fatalf("CID()=%v", err)
	}
	return c
}

// signedTestVote returns a vote signed by key.
func signedTestVote(t testing.TB, key ledger.KeyPair, typ uint8, h uint64, r uint32, c cid.Cid) *signedVote {
	t.Helper()
	v := &signedVote{Type: typ, Height: h, Round: r, Block: c, Validator: key.Public}
	v.Signature = signWith(key, v.signBytes(testChain))
	return v
}

func signedTestProposal(t testing.TB, key ledger.KeyPair, b *ledger.Block, r uint32, pol int32) *signedProposal {
	t.Helper()
	p, err := newProposal(b, r, pol)
	if err != nil {
		t.Fatalf("newProposal()=%v", err)
	}
	p.Proposer = key.Public
	p.Signature = signWith(key, p.signBytes(testChain))
	return p
}

func TestVoteRoundTrip(t *testing.T) {
	key := newKey(t, 1)
	c := blockCIDOf(t, testBlock(t, 2))
	for _, tc := range []struct {
		name string
		v    *signedVote
	}{
		{"prevote", signedTestVote(t, key, votePrevote, 5, 0, c)},
		{"precommit", signedTestVote(t, key, votePrecommit, 1, 7, c)},
		{"nil prevote", signedTestVote(t, key, votePrevote, 3, 2, cid.Undef)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeVote(tc.v.encode())
			if err != nil {
				t.Fatalf("decodeVote()=%v, want nil", err)
			}
			if !bytes.Equal(got.encode(), tc.v.encode()) || !got.Block.Equals(tc.v.Block) {
				t.Fatalf("decodeVote()=%+v, want %+v", got, tc.v)
			}
			if err := got.verify(testChain); err != nil {
				t.Fatalf("verify()=%v, want nil", err)
			}
			if err := got.verify("other-chain"); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("verify(other chain)=%v, want ErrBadSignature", err)
			}
		})
	}
}

func TestPrecommitSignsCommitBytes(t *testing.T) {
	key := newKey(t, 1)
	c := blockCIDOf(t, testBlock(t, 1))
	v := signedTestVote(t, key, votePrecommit, 1, 3, c)
	commit := &ledger.Commit{Height: 1, Round: 3, Block: c, Signatures: []ledger.CommitSig{{PublicKey: key.Public, Signature: v.Signature}}}
	one := func([]byte) uint64 { return 1 }
	if err := commit.Verify(testChain, one, 1); err != nil {
		t.Fatalf("Commit.Verify()=%v, want nil: a precommit's signature is a commit signature", err)
	}
	pv := signedTestVote(t, key, votePrevote, 1, 3, c)
	commit.Signatures[0].Signature = pv.Signature
	if err := commit.Verify(testChain, one, 1); !errors.Is(err, ledger.ErrCommitSignature) {
		t.Fatalf("Commit.Verify(prevote signature)=%v, want ErrCommitSignature", err)
	}
}

func TestProposalRoundTrip(t *testing.T) {
	key := newKey(t, 2)
	b := testBlock(t, 3)
	p := signedTestProposal(t, key, b, 2, 1)
	got, err := decodeProposal(p.encode())
	if err != nil {
		t.Fatalf("decodeProposal()=%v, want nil", err)
	}
	if !got.blockCID.Equals(blockCIDOf(t, b)) || got.POLRound != 1 || got.Round != 2 || len(got.block.Txs) != 3 {
		t.Fatalf("decodeProposal()=%+v, want block %s round 2 pol 1", got, blockCIDOf(t, b))
	}
	if err := got.verify(testChain); err != nil {
		t.Fatalf("verify()=%v, want nil", err)
	}
	got.POLRound = 0
	if err := got.verify(testChain); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("verify(changed pol round)=%v, want ErrBadSignature", err)
	}
}

func TestDecodeRefusesMalformed(t *testing.T) {
	key := newKey(t, 1)
	c := blockCIDOf(t, testBlock(t, 1))
	good := signedTestVote(t, key, votePrevote, 1, 0, c)
	badType := *good
	badType.Type = 3
	zeroHeight := *good
	zeroHeight.Height = 0
	shortKey := *good
	shortKey.Validator = shortKey.Validator[:31]
	prop := signedTestProposal(t, key, testBlock(t, 1), 0, -1)
	badPOL := *prop
	badPOL.POLRound = 0
	wrongHeight := *prop
	wrongHeight.Height = 2
	for _, tc := range []struct {
		name   string
		decode func([]byte) error
		data   []byte
	}{
		{"vote type", decodeVoteErr, badType.encode()},
		{"vote height 0", decodeVoteErr, zeroHeight.encode()},
		{"vote short key", decodeVoteErr, shortKey.encode()},
		{"vote trailing byte", decodeVoteErr, append(good.encode(), 0)},
		{"vote too large", decodeVoteErr, make([]byte, MaxVoteBytes+1)},
		{"vote not array", decodeVoteErr, []byte{0xa0}},
		{"vote non-minimal head", decodeVoteErr, nonMinimalHead(good.encode())},
		{"proposal pol round", decodeProposalErr, badPOL.encode()},
		{"proposal height differs from header", decodeProposalErr, wrongHeight.encode()},
		{"proposal bad header", decodeProposalErr, (&signedProposal{Height: 1, POLRound: -1, Header: []byte{1, 2}, Proposer: key.Public, Signature: make([]byte, 64)}).encode()},
		{"batch empty", decodeBatchErr, encodeTxBatch(nil)},
		{"batch empty tx", decodeBatchErr, encodeTxBatch([][]byte{{}})},
		{"batch not bytes", decodeBatchErr, []byte{0x81, 0x01}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.decode(tc.data); !errors.Is(err, ErrMalformedMessage) {
				t.Fatalf("decode()=%v, want ErrMalformedMessage", err)
			}
		})
	}
}

// nonMinimalHead re-encodes an array's first element (a small uint) with a
// one-byte argument head.
func nonMinimalHead(enc []byte) []byte {
	return append([]byte{enc[0], 0x18, enc[1]}, enc[2:]...)
}

func decodeVoteErr(b []byte) error     { _, err := decodeVote(b); return err }
func decodeProposalErr(b []byte) error { _, err := decodeProposal(b); return err }
func decodeBatchErr(b []byte) error    { _, err := decodeTxBatch(b); return err }

func TestTxBatchRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		txs := rapid.SliceOfN(rapid.SliceOfN(rapid.Byte(), 1, 300), 1, 20).Draw(t, "txs")
		got, err := decodeTxBatch(encodeTxBatch(txs))
		if err != nil {
			t.Fatalf("decodeTxBatch()=%v, want nil", err)
		}
		if len(got) != len(txs) {
			t.Fatalf("decodeTxBatch() gave %d txs, want %d", len(got), len(txs))
		}
		for i := range txs {
			if !bytes.Equal(got[i], txs[i]) {
				t.Fatalf("tx %d = %x, want %x", i, got[i], txs[i])
			}
		}
	})
}

func TestVoteRoundTripProperty(t *testing.T) {
	key := newKey(t, 4)
	c := blockCIDOf(t, testBlock(t, 0))
	rapid.Check(t, func(rt *rapid.T) {
		v := &signedVote{
			Type:      rapid.SampledFrom([]uint8{votePrevote, votePrecommit}).Draw(rt, "type"),
			Height:    rapid.Uint64Range(1, ledger.MaxBlockHeight).Draw(rt, "height"),
			Round:     rapid.Uint32().Draw(rt, "round"),
			Validator: key.Public,
			Signature: make([]byte, 64),
		}
		if rapid.Bool().Draw(rt, "nil") {
			v.Block = c
		}
		got, err := decodeVote(v.encode())
		if err != nil {
			rt.Fatalf("decodeVote()=%v, want nil", err)
		}
		if !bytes.Equal(got.encode(), v.encode()) {
			rt.Fatalf("re-encoded %x, want %x", got.encode(), v.encode())
		}
	})
}

// fuzzSeeds adds every file of testdata/wire/<prefix>* to f.
func fuzzSeeds(f *testing.F, prefix string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "wire", prefix+"*"))
	if err != nil {
		f.Fatalf("Glob()=%v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatalf("ReadFile()=%v", err)
		}
		f.Add(b)
	}
}

func FuzzDecodeVote(f *testing.F) {
	fuzzSeeds(f, "vote")
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeVote(data)
		if err != nil {
			return
		}
		if !bytes.Equal(v.encode(), data) {
			t.Fatalf("decodeVote accepted non-canonical %x", data)
		}
		_ = v.verify(testChain)
	})
}

func FuzzDecodeProposal(f *testing.F) {
	fuzzSeeds(f, "proposal")
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decodeProposal(data)
		if err != nil {
			return
		}
		if !bytes.Equal(p.encode(), data) {
			t.Fatalf("decodeProposal accepted non-canonical %x", data)
		}
		_ = p.verify(testChain)
	})
}

func FuzzDecodeTxBatch(f *testing.F) {
	fuzzSeeds(f, "batch")
	f.Fuzz(func(t *testing.T, data []byte) {
		txs, err := decodeTxBatch(data)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeTxBatch(txs), data) {
			t.Fatalf("decodeTxBatch accepted non-canonical %x", data)
		}
	})
}

// TestWireFuzzSeedsPresent checks that the fuzz seeds are there.
func TestWireFuzzSeedsPresent(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "wire", "*"))
	if len(files) < 3 {
		t.Fatalf("testdata/wire has %d seed files, want at least 3", len(files))
	}
}

func signWith(key ledger.KeyPair, msg []byte) []byte { return ed25519.Sign(key.Private, msg) }
