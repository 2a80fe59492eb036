package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha3"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime/codec/dagcbor"
	"github.com/ipld/go-ipld-prime/datamodel"
	cidlink "github.com/ipld/go-ipld-prime/linking/cid"
	"github.com/ipld/go-ipld-prime/node/basicnode"
	"github.com/multiformats/go-multihash"
	"pgregory.net/rapid"
)

var blkUpdate = flag.Bool("update-block", false, "rewrite the golden files in testdata/block")

const blkChainID = "ipdb-test"

// Test fixtures: deterministic caretakers, fake transactions and chains.

type blkCaretaker struct {
	pub   ed25519.PublicKey
	priv  ed25519.PrivateKey
	power uint64
}

// blkCaretakers returns one caretaker per power, with keys from fixed seeds.
func blkCaretakers(powers ...uint64) []blkCaretaker {
	cs := make([]blkCaretaker, len(powers))
	for i, p := range powers {
		seed := sha256.Sum256(fmt.Appendf(nil, "caretaker-%d", i))
		priv := ed25519.NewKeyFromSeed(seed[:])
		cs[i] = blkCaretaker{pub: priv.Public().(ed25519.PublicKey), priv: priv, power: p}
	}
	return cs
}

// blkPower returns the power function and total of a caretaker set.
func blkPower(cs []blkCaretaker) (func([]byte) uint64, uint64) {
	m := make(map[string]uint64, len(cs))
	var total uint64
	for _, c := range cs {
		m[string(c.pub)] = c.power
		total += c.power
	}
	return func(pub []byte) uint64 { return m[string(pub)] }, total
}

// blkSign returns the commit of block at (height, round) signed by signers.
func blkSign(signers []blkCaretaker, height uint64, round uint32, block cid.Cid) *Commit {
	c := &Commit{Height: height, Round: round, Block: block}
	msg := CommitSignBytes(blkChainID, height, round, block)
	for _, s := range signers {
		c.Signatures = append(c.Signatures, CommitSig{PublicKey: s.pub, Signature: ed25519.Sign(s.priv, msg)})
	}
	c.SortSignatures()
	return c
}

func blkHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// blkTx returns fake canonical transaction bytes and their CID.
func blkTx(i int) (cid.Cid, []byte) {
	data := fmt.Appendf(nil, `{"a":%d}`, i)
	return TxCID(sha3.Sum256(data)), data
}

// blkChain builds a valid chain of n blocks (heights 0 to n-1) with txsPer
// transactions in every block after genesis, each block committed by all of
// caretakers. It returns the blocks, their encodings and the transactions.
func blkChain(t testing.TB, n, txsPer int) ([]*Block, [][]byte, map[cid.Cid][]byte) {
	t.Helper()
	cs := blkCaretakers(10, 20, 30, 40)
	blocks := make([]*Block, n)
	encoded := make([][]byte, n)
	txs := make(map[cid.Cid][]byte)
	for h := range n {
		b := &Block{ChainID: blkChainID, Height: uint64(h), Time: 1_700_000_000_000 + int64(h)*1000,
			StateHash: blkHash(fmt.Sprint("state", h)), CaretakersHash: blkHash("caretakers")}
		if h > 0 {
			b.Prev = BlockCID(encoded[h-1])
			for i := range txsPer {
				c, data := blkTx(h*1000 + i)
				b.Txs = append(b.Txs, c)
				txs[c] = data
			}
		}
		if h > 1 {
			b.LastCommit = blkSign(cs, uint64(h-1), 0, b.Prev)
		}
		data, err := b.Encode()
		if err != nil {
			t.Fatalf("Encode(height %d)=%v", h, err)
		}
		blocks[h], encoded[h] = b, data
	}
	return blocks, encoded, txs
}

// blkValid returns a valid block at height 2 (two txs, a commit of four).
func blkValid(t testing.TB) *Block {
	t.Helper()
	blocks, _, _ := blkChain(t, 3, 2)
	return blocks[2]
}

func TestBlockValidateBasic(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func(b *Block)
		wantField string // "" means valid
	}{
		{"valid", func(*Block) {}, ""},
		{"empty chain id", func(b *Block) { b.ChainID = "" }, "chain"},
		{"chain id at limit", func(b *Block) { b.ChainID = strings.Repeat("x", MaxChainIDBytes) }, ""},
		{"chain id over limit", func(b *Block) { b.ChainID = strings.Repeat("x", MaxChainIDBytes+1) }, "chain"},
		{"chain id not utf-8", func(b *Block) { b.ChainID = "ipdb\xff" }, "chain"},
		{"height at limit", func(b *Block) { b.Height = MaxBlockHeight; b.LastCommit.Height = MaxBlockHeight - 1 }, ""},
		{"height over limit", func(b *Block) { b.Height = MaxBlockHeight + 1 }, "height"},
		{"short state hash", func(b *Block) { b.StateHash = b.StateHash[:31] }, "state"},
		{"nil state hash", func(b *Block) { b.StateHash = nil }, "state"},
		{"long caretakers hash", func(b *Block) { b.CaretakersHash = append(b.CaretakersHash, 0) }, "caretakers"},
		{"no prev", func(b *Block) { b.Prev = cid.Undef }, "prev"},
		{"prev is a tx cid", func(b *Block) { b.Prev = b.Txs[0] }, "prev"},
		{"prev is cidv0", func(b *Block) { b.Prev = cid.NewCidV0(b.Prev.Hash()) }, "prev"},
		{"no commit", func(b *Block) { b.LastCommit = nil }, "commit"},
		{"commit for another height", func(b *Block) { b.LastCommit.Height = 5 }, "commit.height"},
		{"commit for another block", func(b *Block) { b.LastCommit.Block = BlockCID([]byte("x")) }, "commit.block"},
		{"commit invalid", func(b *Block) { b.LastCommit.Signatures = nil }, "commit.sigs"},
		{"commit sig invalid", func(b *Block) { b.LastCommit.Signatures[1].Signature = nil }, "commit.sigs[1].sig"},
		{"no txs", func(b *Block) { b.Txs = nil }, ""},
		{"tx cid is a block cid", func(b *Block) { b.Txs[1] = b.Prev }, "txs[1]"},
		{"tx cid sha2-256", func(b *Block) { b.Txs[0] = blkCID(0x0200, multihash.SHA2_256, 32) }, "txs[0]"},
		{"tx cid short digest", func(b *Block) { b.Txs[0] = blkCID(0x0200, multihash.SHA3_256, 20) }, "txs[0]"},
		{"tx cid raw codec", func(b *Block) { b.Txs[0] = blkCID(cid.Raw, multihash.SHA3_256, 32) }, "txs[0]"},
		{"tx cid undefined", func(b *Block) { b.Txs[0] = cid.Undef }, "txs[0]"},
		{"duplicate tx", func(b *Block) { b.Txs[1] = b.Txs[0] }, "txs[1]"},
		{"txs at limit", func(b *Block) { b.Txs = blkManyTxs(MaxBlockTxs) }, ""},
		{"txs over limit", func(b *Block) { b.Txs = blkManyTxs(MaxBlockTxs + 1) }, "txs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := blkValid(t)
			tt.mutate(b)
			blkCheckField(t, b.ValidateBasic(), ErrInvalidBlock, tt.wantField)
		})
	}
}

func TestBlockValidateBasicLowHeights(t *testing.T) {
	blocks, _, _ := blkChain(t, 3, 1)
	commit := blocks[2].LastCommit
	tests := []struct {
		name      string
		block     *Block
		mutate    func(b *Block)
		wantField string
	}{
		{"genesis", blocks[0], func(*Block) {}, ""},
		{"genesis with prev", blocks[0], func(b *Block) { b.Prev = blocks[2].Prev }, "prev"},
		{"genesis with txs", blocks[0], func(b *Block) { b.Txs = blocks[1].Txs }, "txs"},
		{"genesis with commit", blocks[0], func(b *Block) { b.LastCommit = commit }, "commit"},
		{"height 1", blocks[1], func(*Block) {}, ""},
		{"height 1 without prev", blocks[1], func(b *Block) { b.Prev = cid.Undef }, "prev"},
		{"height 1 with commit", blocks[1], func(b *Block) { b.LastCommit = commit }, "commit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := *tt.block
			tt.mutate(&b)
			blkCheckField(t, b.ValidateBasic(), ErrInvalidBlock, tt.wantField)
		})
	}
}

// blkCheckField fails unless err is nil when field is "", or else a
// *BlockError of kind naming field.
func blkCheckField(t *testing.T, err, kind error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("ValidateBasic()=%v, want nil", err)
		}
		return
	}
	var be *BlockError
	if !errors.As(err, &be) || !errors.Is(err, kind) || be.Field != field {
		t.Fatalf("ValidateBasic()=%v, want a %v at field %q", err, kind, field)
	}
}

// blkCID returns a CIDv1 of the given codec and multihash code over a digest
// of length n.
func blkCID(codec, mhCode uint64, n int) cid.Cid {
	return newCIDv1(codec, mhCode, bytes.Repeat([]byte{7}, n))
}

func blkManyTxs(n int) []cid.Cid {
	txs := make([]cid.Cid, n)
	for i := range txs {
		txs[i], _ = blkTx(i)
	}
	return txs
}

func TestBlockRoundTrip(t *testing.T) {
	blocks, encoded, _ := blkChain(t, 4, 3)
	for h, b := range blocks {
		t.Run(fmt.Sprint("height ", h), func(t *testing.T) {
			input := bytes.Clone(encoded[h])
			got, err := DecodeBlock(input)
			if err != nil {
				t.Fatalf("DecodeBlock()=%v, want nil", err)
			}
			clear(input) // the block must not alias its input
			if !reflect.DeepEqual(got, b) {
				t.Fatalf("DecodeBlock()=%+v, want %+v", got, b)
			}
			c, err := got.CID()
			if err != nil || c != BlockCID(encoded[h]) {
				t.Fatalf("CID()=%v, %v, want %v", c, err, BlockCID(encoded[h]))
			}
		})
	}
}

func TestBlockEncodeRefusesInvalid(t *testing.T) {
	b := blkValid(t)
	b.StateHash = nil
	if _, err := b.Encode(); !errors.Is(err, ErrInvalidBlock) {
		t.Fatalf("Encode()=%v, want %v", err, ErrInvalidBlock)
	}
	if _, err := b.CID(); !errors.Is(err, ErrInvalidBlock) {
		t.Fatalf("CID()=%v, want %v", err, ErrInvalidBlock)
	}
}

func TestBlockCIDKind(t *testing.T) {
	c := BlockCID([]byte("abc"))
	p := c.Prefix()
	if p.Version != 1 || p.Codec != cid.DagCBOR || p.MhType != multihash.SHA2_256 || p.MhLength != 32 {
		t.Fatalf("BlockCID().Prefix()=%+v, want CIDv1 dag-cbor sha2-256/32", p)
	}
	want, err := cid.Prefix{Version: 1, Codec: cid.DagCBOR, MhType: multihash.SHA2_256, MhLength: -1}.Sum([]byte("abc"))
	if err != nil || c != want {
		t.Fatalf("BlockCID()=%v, want %v (%v)", c, want, err)
	}
}

func TestTxCID(t *testing.T) {
	// The BigchainDB id of BIGCHAINDB.md's test vector is not needed here: any
	// digest must come back as the same hex id.
	const id = "4957744b3ac54434b8270f2c854cc1040228c82ea4e72d66d2887a4d3e30b317"
	c, err := TxCIDFromHex(id)
	if err != nil {
		t.Fatalf("TxCIDFromHex()=%v, want nil", err)
	}
	dec, err := multihash.Decode(c.Hash())
	if err != nil || c.Version() != 1 || c.Type() != 0x0200 || dec.Code != multihash.SHA3_256 || fmt.Sprintf("%x", dec.Digest) != id {
		t.Fatalf("TxCIDFromHex()=%v (%+v, %v), want CIDv1 json sha3-256 of %s", c, dec, err, id)
	}
	if got, err := TxIDFromCID(c); got != id || err != nil {
		t.Fatalf("TxIDFromCID()=%q, %v, want %q", got, err, id)
	}
	if _, err := TxIDFromCID(BlockCID(nil)); !errors.Is(err, ErrInvalidCID) {
		t.Fatalf("TxIDFromCID(block cid)=%v, want %v", err, ErrInvalidCID)
	}
	for _, bad := range []string{"", id[:62], id + "00", strings.ToUpper(id), id[:63] + "g", id[:63] + " "} {
		if _, err := TxCIDFromHex(bad); !errors.Is(err, ErrInvalidCID) {
			t.Fatalf("TxCIDFromHex(%q)=%v, want %v", bad, err, ErrInvalidCID)
		}
	}
}

func TestBlockIPLDReadable(t *testing.T) {
	blocks, encoded, _ := blkChain(t, 3, 2)
	for h, b := range blocks {
		t.Run(fmt.Sprint("height ", h), func(t *testing.T) {
			n := blkIPLDDecode(t, encoded[h])
			var buf bytes.Buffer
			if err := dagcbor.Encode(n, &buf); err != nil || !bytes.Equal(buf.Bytes(), encoded[h]) {
				t.Fatalf("go-ipld-prime re-encoding=%x (%v), want %x", buf.Bytes(), err, encoded[h])
			}
			if got := blkIPLDLink(t, n, "prev"); got != b.Prev {
				t.Fatalf("prev=%v, want %v", got, b.Prev)
			}
			txs, err := n.LookupByString("txs")
			if err != nil || txs.Length() != int64(len(b.Txs)) {
				t.Fatalf("txs=%v (%v), want %d links", txs, err, len(b.Txs))
			}
			for i, want := range b.Txs {
				tx, _ := txs.LookupByIndex(int64(i))
				if got := blkAsLink(t, tx); got != want {
					t.Fatalf("txs[%d]=%v, want %v", i, got, want)
				}
			}
			if b.LastCommit != nil {
				commit, _ := n.LookupByString("commit")
				if got := blkIPLDLink(t, commit, "block"); got != b.LastCommit.Block {
					t.Fatalf("commit.block=%v, want %v", got, b.LastCommit.Block)
				}
			}
		})
	}
}

func blkIPLDDecode(t *testing.T, data []byte) datamodel.Node {
	t.Helper()
	nb := basicnode.Prototype.Any.NewBuilder()
	if err := dagcbor.Decode(nb, bytes.NewReader(data)); err != nil {
		t.Fatalf("dagcbor.Decode()=%v, want nil", err)
	}
	return nb.Build()
}

// blkIPLDLink returns the link at key of n, or cid.Undef when it is null.
func blkIPLDLink(t *testing.T, n datamodel.Node, key string) cid.Cid {
	t.Helper()
	v, err := n.LookupByString(key)
	if err != nil {
		t.Fatalf("LookupByString(%q)=%v, want nil", key, err)
	}
	if v.IsNull() {
		return cid.Undef
	}
	return blkAsLink(t, v)
}

func blkAsLink(t *testing.T, n datamodel.Node) cid.Cid {
	t.Helper()
	if n.Kind() != datamodel.Kind_Link {
		t.Fatalf("Kind()=%v, want %v", n.Kind(), datamodel.Kind_Link)
	}
	l, _ := n.AsLink()
	return l.(cidlink.Link).Cid
}

func TestBlockGolden(t *testing.T) {
	blocks, encoded, _ := blkChain(t, 3, 2)
	commit, err := blocks[2].LastCommit.Encode()
	if err != nil {
		t.Fatalf("Commit.Encode()=%v", err)
	}
	files := map[string][]byte{"genesis": encoded[0], "height1": encoded[1], "height2": encoded[2], "commit": commit}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			blkGolden(t, name, data)
		})
	}
}

// blkGolden checks data and its CID against testdata/block/name.cbor and
// name.cid, which -update-block rewrites.
func blkGolden(t *testing.T, name string, data []byte) {
	t.Helper()
	path := filepath.Join("testdata", "block", name+".cbor")
	cidPath := filepath.Join("testdata", "block", name+".cid")
	if *blkUpdate {
		blkWrite(t, path, data)
		blkWrite(t, cidPath, []byte(BlockCID(data).String()+"\n"))
	}
	want, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(data, want) {
		t.Fatalf("encoding=%x (%v), want %s = %x", data, err, path, want)
	}
	wantCID, err := os.ReadFile(cidPath)
	if got := BlockCID(data).String() + "\n"; err != nil || got != string(wantCID) {
		t.Fatalf("BlockCID()=%q (%v), want %q", got, err, wantCID)
	}
}

func blkWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBlockLimitsFit checks that a block at every limit encodes within
// MaxBlockBytes and decodes, and its commit within MaxCommitBytes.
func TestBlockLimitsFit(t *testing.T) {
	b := blkValid(t)
	b.ChainID = strings.Repeat("x", MaxChainIDBytes)
	b.Height, b.Time = MaxBlockHeight, -1<<63
	b.Txs = blkManyTxs(MaxBlockTxs)
	sigs := blkCaretakers(make([]uint64, MaxCommitSigs)...)
	b.LastCommit = blkSign(sigs, MaxBlockHeight-1, 1<<32-1, b.Prev)
	for i := range MaxBlockEvidence {
		ev := blkEquivocation(sigs[i], VotePrecommit, 1<<32-1, b.Prev)
		ev.Height = MaxBlockHeight - 1
		b.Evidence = append(b.Evidence, ev)
	}
	SortEvidence(b.Evidence)
	data, err := b.Encode()
	if err != nil || len(data) > MaxBlockBytes {
		t.Fatalf("Encode()=%d bytes, %v, want at most %d", len(data), err, MaxBlockBytes)
	}
	commit, err := b.LastCommit.Encode()
	if err != nil || len(commit) > MaxCommitBytes {
		t.Fatalf("Commit.Encode()=%d bytes, %v, want at most %d", len(commit), err, MaxCommitBytes)
	}
	t.Logf("largest block %d bytes, largest commit %d bytes", len(data), len(commit))
	if _, err := DecodeBlock(data); err != nil {
		t.Fatalf("DecodeBlock(largest)=%v, want nil", err)
	}
}

// blkGen generates valid blocks with random contents (signatures are random
// bytes: ValidateBasic does not verify them).
func blkGen() *rapid.Generator[*Block] {
	return rapid.Custom(func(t *rapid.T) *Block {
		b := &Block{
			ChainID:        rapid.String().Filter(func(s string) bool { return s != "" && len(s) <= MaxChainIDBytes }).Draw(t, "chain"),
			Height:         rapid.OneOf(rapid.Just(uint64(0)), rapid.Just(uint64(1)), rapid.Uint64Range(2, MaxBlockHeight)).Draw(t, "height"),
			Time:           rapid.Int64().Draw(t, "time"),
			StateHash:      rapid.SliceOfN(rapid.Byte(), BlockHashBytes, BlockHashBytes).Draw(t, "state"),
			CaretakersHash: rapid.SliceOfN(rapid.Byte(), BlockHashBytes, BlockHashBytes).Draw(t, "caretakers"),
		}
		if b.Height == 0 {
			return b
		}
		b.Prev = BlockCID(rapid.SliceOf(rapid.Byte()).Draw(t, "prev"))
		digests := rapid.SliceOfDistinct(rapid.SliceOfN(rapid.Byte(), 32, 32), func(d []byte) string { return string(d) })
		for _, d := range digests.Draw(t, "txs") {
			b.Txs = append(b.Txs, TxCID([32]byte(d)))
		}
		if b.Height > 1 {
			b.LastCommit = commitGen(b.Height-1, b.Prev).Draw(t, "commit")
		}
		return b
	})
}

func TestBlockEncodeDecodeProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := blkGen().Draw(t, "block")
		data, err := b.Encode()
		if err != nil {
			t.Fatalf("Encode()=%v, want nil", err)
		}
		got, err := DecodeBlock(data)
		if err != nil {
			t.Fatalf("DecodeBlock(Encode())=%v, want nil", err)
		}
		if !reflect.DeepEqual(got, b) {
			t.Fatalf("DecodeBlock(Encode())=%+v, want %+v", got, b)
		}
		if again, _ := got.Encode(); !bytes.Equal(again, data) {
			t.Fatalf("Encode(DecodeBlock())=%x, want %x", again, data)
		}
	})
}

func blkBench(b *testing.B) *Block {
	b.Helper()
	blocks, _, _ := blkChain(b, 3, 0)
	blk := blocks[2]
	blk.Txs = blkManyTxs(1000)
	return blk
}

func BenchmarkBlockEncode(b *testing.B) {
	blk := blkBench(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := blk.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBlockDecode(b *testing.B) {
	data, err := blkBench(b).Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBlock(data); err != nil {
			b.Fatal(err)
		}
	}
}
