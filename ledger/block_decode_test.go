package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
)

// A hand CBOR builder, independent of the encoder under test, to write both
// the canonical form and every kind of bad input.

func cbHead(major byte, n uint64) []byte { return appendCBORHead(nil, major, n) }
func cbUint(n uint64) []byte             { return cbHead(0, n) }
func cbText(s string) []byte             { return append(cbHead(3, uint64(len(s))), s...) }
func cbBytes(b []byte) []byte            { return append(cbHead(2, uint64(len(b))), b...) }
func cbArray(items ...[]byte) []byte {
	return slices.Concat(append([][]byte{cbHead(4, uint64(len(items)))}, items...)...)
}

var cbNull = []byte{0xf6}

func cbInt(v int64) []byte {
	if v < 0 {
		return cbHead(1, uint64(-1-v))
	}
	return cbUint(uint64(v))
}

// cbLink writes tag 42 over 0x00 and the CID, by hand.
func cbLink(c cid.Cid) []byte {
	return append([]byte{0xd8, 0x2a}, cbBytes(append([]byte{0}, c.Bytes()...))...)
}

type cbPair struct {
	k string
	v []byte
}

// cbMap writes a definite map of the pairs in the order given.
func cbMap(pairs ...cbPair) []byte {
	out := cbHead(5, uint64(len(pairs)))
	for _, p := range pairs {
		out = append(append(out, cbText(p.k)...), p.v...)
	}
	return out
}

// cbIndefMap writes an indefinite-length map of the pairs.
func cbIndefMap(pairs ...cbPair) []byte {
	out := cbMap(pairs...)
	out[0] = 0xbf
	return append(out, 0xff)
}

func cbCommitPairs(c *Commit) []cbPair {
	sigs := make([][]byte, len(c.Signatures))
	for i, s := range c.Signatures {
		sigs[i] = cbMap(cbPair{"pk", cbBytes(s.PublicKey)}, cbPair{"sig", cbBytes(s.Signature)})
	}
	return []cbPair{
		{"sigs", cbArray(sigs...)},
		{"block", cbLink(c.Block)},
		{"round", cbUint(uint64(c.Round))},
		{"height", cbUint(c.Height)},
	}
}

// cbBlockPairs returns b's fields in canonical order.
func cbBlockPairs(b *Block) []cbPair {
	prev, commit := cbNull, cbNull
	if b.Prev.Defined() {
		prev = cbLink(b.Prev)
	}
	if b.LastCommit != nil {
		commit = cbMap(cbCommitPairs(b.LastCommit)...)
	}
	txs := make([][]byte, len(b.Txs))
	for i, c := range b.Txs {
		txs[i] = cbLink(c)
	}
	return []cbPair{
		{"txs", cbArray(txs...)},
		{"prev", prev},
		{"time", cbInt(b.Time)},
		{"chain", cbText(b.ChainID)},
		{"state", cbBytes(b.StateHash)},
		{"commit", commit},
		{"height", cbUint(b.Height)},
		{"caretakers", cbBytes(b.CaretakersHash)},
	}
}

// cbWith returns a copy of pairs with key's value replaced by v.
func cbWith(pairs []cbPair, key string, v []byte) []cbPair {
	out := slices.Clone(pairs)
	for i := range out {
		if out[i].k == key {
			out[i].v = v
		}
	}
	return out
}

// cbRenamed returns a copy of pairs with key renamed to name.
func cbRenamed(pairs []cbPair, key, name string) []cbPair {
	out := slices.Clone(pairs)
	for i := range out {
		if out[i].k == key {
			out[i].k = name
		}
	}
	return out
}

func cbWithout(pairs []cbPair, key string) []cbPair {
	return slices.DeleteFunc(slices.Clone(pairs), func(p cbPair) bool { return p.k == key })
}

func cbSwapped(pairs []cbPair, i, j int) []cbPair {
	out := slices.Clone(pairs)
	out[i], out[j] = out[j], out[i]
	return out
}

func TestBlockEncodeMatchesHandEncoding(t *testing.T) {
	blocks, encoded, _ := blkChain(t, 3, 2)
	for h, b := range blocks {
		if want := cbMap(cbBlockPairs(b)...); !bytes.Equal(encoded[h], want) {
			t.Fatalf("Encode(height %d)=%x, want %x", h, encoded[h], want)
		}
	}
}

// cbErrAs returns a check that err wraps an error of type T.
func cbErrAs[T error]() func(error) bool {
	return func(err error) bool {
		var target T
		return errors.As(err, &target)
	}
}

type decodeCase struct {
	name  string
	data  []byte
	is    error            // errors.Is target; nil means valid
	check func(error) bool // more precise check, or nil
}

func TestDecodeBlockStrict(t *testing.T) {
	b := blkValid(t)
	p := cbBlockPairs(b)
	valid := cbMap(p...)
	link := cbLink(b.Prev)
	blockID := b.Prev.Bytes()
	deep := cbArray(cbArray(cbArray(cbArray())))
	tests := []decodeCase{
		{"valid", valid, nil, nil},
		{"empty input", nil, io.EOF, nil},
		{"truncated", valid[:len(valid)-1], io.ErrUnexpectedEOF, nil},
		{"trailing byte", append(slices.Clone(valid), 0), ErrMalformedCBOR, cbErrAs[*cbor.ExtraneousDataError]()},
		{"over MaxBlockBytes", make([]byte, MaxBlockBytes+1), errTooLarge, nil},
		{"not a map", cbArray(), ErrMalformedCBOR, cbErrAs[*cbor.UnmarshalTypeError]()},
		{"keys out of order", cbMap(cbSwapped(p, 0, 1)...), errNonCanonical, nil},
		{"keys in bytewise order", cbMap(cbSwapped(p, 6, 7)...), errNonCanonical, nil},
		{"duplicate key", cbMap(cbWith(cbRenamed(p, "caretakers", "chain"), "chain", cbText("x"))...), ErrMalformedCBOR, cbErrAs[*cbor.DupMapKeyError]()},
		{"duplicate key as ninth pair", cbMap(append(p, p[0])...), ErrMalformedCBOR, cbErrAs[*cbor.DupMapKeyError]()},
		{"missing key", cbMap(cbWithout(p, "time")...), errFieldCount, nil},
		{"extra key", cbMap(append(p, cbPair{"zzzzzzzzzzz", cbUint(1)})...), ErrMalformedCBOR, cbErrAs[*cbor.UnknownFieldError]()},
		{"two extra keys", cbMap(append(p, cbPair{"zzzzzzzzzzz", cbUint(1)}, cbPair{"zzzzzzzzzzy", cbUint(1)})...), errFieldCount, nil},
		{"empty evidence", cbMap(append(p, cbPair{"evidence", []byte{0x80}})...), ErrMalformedCBOR, nil},
		{"unknown key", cbMap(cbRenamed(p, "time", "tyme")...), ErrMalformedCBOR, cbErrAs[*cbor.UnknownFieldError]()},
		{"key in other case", cbMap(cbRenamed(p, "chain", "Chain")...), ErrMalformedCBOR, cbErrAs[*cbor.UnknownFieldError]()},
		{"byte string key", bytes.Replace(valid, cbText("chain"), cbBytes([]byte("chain")), 1), ErrMalformedCBOR, nil},
		{"integer key", bytes.Replace(valid, cbText("txs"), cbUint(3), 1), ErrMalformedCBOR, nil},
		{"indefinite-length map", cbIndefMap(p...), ErrMalformedCBOR, cbErrAs[*cbor.IndefiniteLengthError]()},
		{"indefinite-length array", cbMap(cbWith(p, "txs", []byte{0x9f, 0xff})...), ErrMalformedCBOR, cbErrAs[*cbor.IndefiniteLengthError]()},
		{"indefinite-length bytes", cbMap(cbWith(p, "state", slices.Concat([]byte{0x5f}, cbBytes(b.StateHash), []byte{0xff}))...), ErrMalformedCBOR, cbErrAs[*cbor.IndefiniteLengthError]()},
		{"indefinite-length text", cbMap(cbWith(p, "chain", slices.Concat([]byte{0x7f}, cbText(b.ChainID), []byte{0xff}))...), ErrMalformedCBOR, cbErrAs[*cbor.IndefiniteLengthError]()},
		{"non-minimal map head", append([]byte{0xb8, 8}, valid[1:]...), errNonCanonical, nil},
		{"non-minimal int", cbMap(cbWith(p, "height", []byte{0x18, 2})...), errNonCanonical, nil},
		{"non-minimal int64", cbMap(cbWith(p, "height", binary.BigEndian.AppendUint64([]byte{0x1b}, b.Height))...), errNonCanonical, nil},
		{"non-minimal negative int", cbMap(cbWith(p, "time", []byte{0x38, 0})...), errNonCanonical, nil},
		{"non-minimal text head", cbMap(cbWith(p, "chain", append([]byte{0x78, byte(len(b.ChainID))}, b.ChainID...))...), errNonCanonical, nil},
		{"non-minimal bytes head", cbMap(cbWith(p, "state", append([]byte{0x59, 0, 32}, b.StateHash...))...), errNonCanonical, nil},
		{"float64 time", cbMap(cbWith(p, "time", binary.BigEndian.AppendUint64([]byte{0xfb}, math.Float64bits(float64(b.Time))))...), ErrMalformedCBOR, cbErrAs[*cbor.UnmarshalTypeError]()},
		{"float16 height", cbMap(cbWith(p, "height", []byte{0xf9, 0x40, 0x00})...), ErrMalformedCBOR, cbErrAs[*cbor.UnmarshalTypeError]()},
		{"NaN time", cbMap(cbWith(p, "time", []byte{0xf9, 0x7e, 0x00})...), ErrMalformedCBOR, nil},
		{"negative height", cbMap(cbWith(p, "height", cbInt(-2))...), ErrMalformedCBOR, cbErrAs[*cbor.UnmarshalTypeError]()},
		{"time over int64", cbMap(cbWith(p, "time", cbUint(math.MaxUint64))...), ErrMalformedCBOR, cbErrAs[*cbor.UnmarshalTypeError]()},
		{"bool height", cbMap(cbWith(p, "height", []byte{0xf5})...), ErrMalformedCBOR, cbErrAs[*cbor.UnmarshalTypeError]()},
		{"bignum height", cbMap(cbWith(p, "height", append([]byte{0xc2}, cbBytes([]byte{2})...))...), errNonCanonical, nil},
		{"bytes for chain", cbMap(cbWith(p, "chain", cbBytes([]byte(b.ChainID)))...), ErrMalformedCBOR, cbErrAs[*cbor.UnmarshalTypeError]()},
		{"text for state", cbMap(cbWith(p, "state", cbText(strings.Repeat("s", BlockHashBytes)))...), ErrMalformedCBOR, cbErrAs[*cbor.UnmarshalTypeError]()},
		{"invalid utf-8 chain", cbMap(cbWith(p, "chain", cbText("ipdb\xff"))...), ErrMalformedCBOR, cbErrAs[*cbor.SemanticError]()},
		{"self-described cbor tag", append([]byte{0xd9, 0xd9, 0xf7}, valid...), errNonCanonical, nil},
		{"tagged height", cbMap(cbWith(p, "height", append([]byte{0xc1}, cbUint(2)...))...), errNonCanonical, nil},
		{"undefined for null", cbMap(cbWith(cbBlockPairs(blkH1(t)), "commit", []byte{0xf7})...), errNonCanonical, nil},
		{"nesting too deep", cbMap(cbWith(p, "txs", cbArray(deep))...), ErrMalformedCBOR, cbErrAs[*cbor.MaxNestedLevelError]()},
		{"too many array elements", cbMap(cbWith(p, "txs", cbArray(slices.Repeat([][]byte{cbUint(0)}, MaxBlockTxs+1)...))...), ErrMalformedCBOR, cbErrAs[*cbor.MaxArrayElementsError]()},
		{"link without tag", cbMap(cbWith(p, "prev", cbBytes(append([]byte{0}, blockID...)))...), errNotLink, nil},
		{"link with tag 43", cbMap(cbWith(p, "prev", append([]byte{0xd8, 43}, link[2:]...))...), errNotLink, nil},
		{"link with non-minimal tag head", cbMap(cbWith(p, "prev", append([]byte{0xd9, 0, 42}, link[2:]...))...), errNotLink, nil},
		{"link without 0x00 prefix", cbMap(cbWith(p, "prev", append([]byte{0xd8, 42}, cbBytes(blockID)...))...), errNotLink, nil},
		{"link with non-minimal bytes head", cbMap(cbWith(p, "prev", slices.Concat([]byte{0xd8, 42, 0x59, 0, byte(len(blockID) + 1), 0}, blockID))...), errNotLink, nil},
		{"link over text", cbMap(cbWith(p, "prev", append([]byte{0xd8, 42}, cbText("\x00"+string(blockID))...))...), errNotLink, nil},
		{"link to truncated cid", cbMap(cbWith(p, "prev", slices.Concat([]byte{0xd8, 42}, cbBytes(append([]byte{0}, blockID[:len(blockID)-1]...))))...), errNotLink, nil},
		{"link with trailing byte in cid", cbMap(cbWith(p, "prev", slices.Concat([]byte{0xd8, 42}, cbBytes(slices.Concat([]byte{0}, blockID, []byte{0}))))...), errNotLink, nil},
		{"link to cidv0", cbMap(cbWith(p, "prev", cbLink(cid.NewCidV0(b.Prev.Hash())))...), ErrInvalidBlock, nil},
		{"null link in txs", cbMap(cbWith(p, "txs", cbArray(cbNull))...), errNotLink, nil},
		{"tx link to a block", cbMap(cbWith(p, "txs", cbArray(link))...), ErrInvalidBlock, nil},
		{"commit with missing key", cbMap(cbWith(p, "commit", cbMap(cbCommitPairs(b.LastCommit)[1:]...))...), errFieldCount, nil},
		{"commit with unknown key", cbMap(cbWith(p, "commit", cbMap(cbRenamed(cbCommitPairs(b.LastCommit), "round", "rounds")...))...), ErrMalformedCBOR, cbErrAs[*cbor.UnknownFieldError]()},
		{"commit block null", cbMap(cbWith(p, "commit", cbMap(cbWith(cbCommitPairs(b.LastCommit), "block", cbNull)...))...), errNotLink, nil},
		{"commit round over uint32", cbMap(cbWith(p, "commit", cbMap(cbWith(cbCommitPairs(b.LastCommit), "round", cbUint(1<<32))...))...), ErrMalformedCBOR, cbErrAs[*cbor.UnmarshalTypeError]()},
		{"signature with missing key", cbMap(cbWith(p, "commit", cbMap(cbWith(cbCommitPairs(b.LastCommit), "sigs", cbArray(cbMap(cbPair{"pk", cbBytes(make([]byte, 32))})))...))...), errFieldCount, nil},
		{"height over int64", cbMap(cbWith(p, "height", cbUint(MaxBlockHeight+1))...), ErrInvalidBlock, nil},
		{"empty state hash", cbMap(cbWith(p, "state", cbBytes(nil))...), ErrInvalidBlock, nil},
	}
	runDecodeCases(t, tests, func(data []byte) error {
		_, err := DecodeBlock(data)
		return err
	})
}

// blkH1 returns a valid block at height 1 (commit null).
func blkH1(t *testing.T) *Block {
	t.Helper()
	blocks, _, _ := blkChain(t, 2, 1)
	return blocks[1]
}

func runDecodeCases(t *testing.T, tests []decodeCase, decode func([]byte) error) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := decode(tt.data)
			if tt.is == nil {
				if err != nil {
					t.Fatalf("Decode()=%v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.is) || (tt.check != nil && !tt.check(err)) {
				t.Fatalf("Decode()=%v, want %v", err, tt.is)
			}
			var be *BlockError
			if !errors.Is(err, ErrMalformedCBOR) && !errors.As(err, &be) {
				t.Fatalf("Decode()=%v, want it to wrap %v or be a *BlockError", err, ErrMalformedCBOR)
			}
		})
	}
}

// blkSeeds returns the golden encodings in testdata/block.
func blkSeeds(f *testing.F) [][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "block", "*.cbor"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seeds in testdata/block (%v)", err)
	}
	var seeds [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	return seeds
}

func FuzzDecodeBlock(f *testing.F) {
	for _, s := range blkSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBlock(data)
		if err != nil {
			var be *BlockError
			if !errors.Is(err, ErrMalformedCBOR) && !errors.As(err, &be) {
				t.Fatalf("DecodeBlock()=%v, want ErrMalformedCBOR or *BlockError", err)
			}
			return
		}
		again, err := b.Encode()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("Encode(DecodeBlock(%x))=%x, %v, want the input", data, again, err)
		}
	})
}
