package ledger

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"math"
	"math/big"
	"reflect"
	"slices"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime/datamodel"
	"pgregory.net/rapid"
)

// commitGen generates valid commits for block at height (signatures are
// random bytes: ValidateBasic does not verify them).
func commitGen(height uint64, block cid.Cid) *rapid.Generator[*Commit] {
	return rapid.Custom(func(t *rapid.T) *Commit {
		keys := rapid.SliceOfNDistinct(rapid.SliceOfN(rapid.Byte(), 32, 32), 1, 20, func(k []byte) string { return string(k) }).Draw(t, "keys")
		c := &Commit{Height: height, Round: rapid.Uint32().Draw(t, "round"), Block: block}
		for _, k := range keys {
			c.Signatures = append(c.Signatures, CommitSig{PublicKey: k, Signature: rapid.SliceOfN(rapid.Byte(), 64, 64).Draw(t, "sig")})
		}
		c.SortSignatures()
		return c
	})
}

// commitValid returns a valid commit of block 1 signed by all of cs.
func commitValid(t *testing.T, cs []blkCaretaker) *Commit {
	t.Helper()
	return blkSign(cs, 1, 0, BlockCID([]byte("block 1")))
}

func TestCommitValidateBasic(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func(c *Commit)
		wantField string
	}{
		{"valid", func(*Commit) {}, ""},
		{"height 0", func(c *Commit) { c.Height = 0 }, "height"},
		{"height over limit", func(c *Commit) { c.Height = MaxBlockHeight + 1 }, "height"},
		{"undefined block", func(c *Commit) { c.Block = cid.Undef }, "block"},
		{"block is a tx cid", func(c *Commit) { c.Block, _ = blkTx(1) }, "block"},
		{"no signatures", func(c *Commit) { c.Signatures = nil }, "sigs"},
		{"too many signatures", func(c *Commit) { c.Signatures = commitManySigs(MaxCommitSigs + 1) }, "sigs"},
		{"signatures at limit", func(c *Commit) { c.Signatures = commitManySigs(MaxCommitSigs) }, ""},
		{"short key", func(c *Commit) { c.Signatures[2].PublicKey = c.Signatures[2].PublicKey[:31] }, "sigs[2].pk"},
		{"short signature", func(c *Commit) { c.Signatures[0].Signature = c.Signatures[0].Signature[:63] }, "sigs[0].sig"},
		{"duplicate signer", func(c *Commit) { c.Signatures[1] = c.Signatures[0] }, "sigs[1].pk"},
		{"unsorted", func(c *Commit) { c.Signatures[0], c.Signatures[1] = c.Signatures[1], c.Signatures[0] }, "sigs[1].pk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := commitValid(t, blkCaretakers(1, 1, 1, 1))
			tt.mutate(c)
			blkCheckField(t, c.ValidateBasic(), ErrInvalidCommit, tt.wantField)
			if _, err := c.Encode(); (err == nil) != (tt.wantField == "") {
				t.Fatalf("Encode()=%v, want an error iff ValidateBasic fails", err)
			}
		})
	}
}

func commitManySigs(n int) []CommitSig {
	sigs := make([]CommitSig, n)
	for i := range sigs {
		pk := make([]byte, 32)
		pk[0], pk[1] = byte(i>>8), byte(i)
		sigs[i] = CommitSig{PublicKey: pk, Signature: make([]byte, 64)}
	}
	return sigs
}

func TestCommitVerify(t *testing.T) {
	// Powers 1+1+1+3 = 6: 2/3 is 4, so 5 is the least that is enough.
	cs := blkCaretakers(1, 1, 1, 3)
	power, total := blkPower(cs)
	block := BlockCID([]byte("block 1"))
	outsider := blkCaretakers(1, 1, 1, 3, 5)[4]
	tests := []struct {
		name   string
		commit func() *Commit
		total  uint64
		want   error
	}{
		{"all sign", func() *Commit { return blkSign(cs, 1, 0, block) }, total, nil},
		{"just above 2/3", func() *Commit { return blkSign([]blkCaretaker{cs[0], cs[1], cs[3]}, 1, 0, block) }, total, nil},
		{"exactly 2/3", func() *Commit { return blkSign([]blkCaretaker{cs[0], cs[3]}, 1, 0, block) }, total, ErrCommitPower},
		{"too little power", func() *Commit { return blkSign(cs[:3], 1, 0, block) }, total, ErrCommitPower},
		{"zero total", func() *Commit { return blkSign(cs, 1, 0, block) }, 0, ErrCommitPower},
		{"power over total", func() *Commit { return blkSign(cs, 1, 0, block) }, 5, ErrCommitPower},
		{"unknown key", func() *Commit { return blkSign(append(slices.Clone(cs), outsider), 1, 0, block) }, total, ErrCommitSigner},
		{"duplicate signer", func() *Commit {
			c := blkSign(cs, 1, 0, block)
			c.Signatures = append(c.Signatures, c.Signatures[3])
			c.SortSignatures()
			return c
		}, total, ErrInvalidCommit},
		{"bad signature", func() *Commit {
			c := blkSign(cs, 1, 0, block)
			c.Signatures[2].Signature[0] ^= 1
			return c
		}, total, ErrCommitSignature},
		{"signature of another round", func() *Commit {
			c := blkSign(cs, 1, 0, block)
			c.Round = 1
			return c
		}, total, ErrCommitSignature},
		{"signature of another block", func() *Commit {
			c := blkSign(cs, 1, 0, block)
			c.Block = BlockCID([]byte("block 1'"))
			return c
		}, total, ErrCommitSignature},
		{"invalid shape", func() *Commit { return &Commit{Height: 1, Block: block} }, total, ErrInvalidCommit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.commit().Verify(blkChainID, power, tt.total)
			if (tt.want == nil && err != nil) || !errors.Is(err, tt.want) {
				t.Fatalf("Verify()=%v, want %v", err, tt.want)
			}
		})
	}
	t.Run("another chain", func(t *testing.T) {
		if err := blkSign(cs, 1, 0, block).Verify("other-chain", power, total); !errors.Is(err, ErrCommitSignature) {
			t.Fatalf("Verify()=%v, want %v", err, ErrCommitSignature)
		}
	})
}

// TestMoreThanTwoThirdsOracle checks the overflow-free comparison against
// big-integer arithmetic.
func TestMoreThanTwoThirdsOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		total := rapid.OneOf(rapid.Uint64(), rapid.Uint64Range(math.MaxUint64-10, math.MaxUint64), rapid.Uint64Range(0, 100)).Draw(t, "total")
		part := rapid.Uint64Range(0, total).Draw(t, "part")
		lhs := new(big.Int).Mul(new(big.Int).SetUint64(part), big.NewInt(3))
		rhs := new(big.Int).Mul(new(big.Int).SetUint64(total), big.NewInt(2))
		if got, want := moreThanTwoThirds(part, total), lhs.Cmp(rhs) > 0; got != want {
			t.Fatalf("moreThanTwoThirds(%d, %d)=%v, want %v", part, total, got, want)
		}
	})
}

func TestCommitSignBytes(t *testing.T) {
	block := BlockCID([]byte("b"))
	msg := CommitSignBytes("chain", 7, 2, block)
	prefix := []byte("ipdb-node/precommit/v1\x00")
	if !bytes.HasPrefix(msg, prefix) {
		t.Fatalf("CommitSignBytes()=%q, want prefix %q", msg, prefix)
	}
	body := msg[len(prefix):]
	if want := cbArray(cbText("chain"), cbUint(7), cbUint(2), cbLink(block)); !bytes.Equal(body, want) {
		t.Fatalf("CommitSignBytes() body=%x, want %x", body, want)
	}
	n := blkIPLDDecode(t, body)
	if n.Kind() != datamodel.Kind_List || n.Length() != 4 {
		t.Fatalf("go-ipld-prime view=%v, want a list of 4", n.Kind())
	}
	if last, _ := n.LookupByIndex(3); blkAsLink(t, last) != block {
		t.Fatalf("element 3=%v, want link %v", last, block)
	}
	if got := CommitSignBytes("chain", 7, 2, cid.Undef); !bytes.Equal(got[len(prefix):], cbArray(cbText("chain"), cbUint(7), cbUint(2), cbNull)) {
		t.Fatalf("CommitSignBytes(undef)=%x, want null block", got)
	}
	for _, other := range [][]byte{CommitSignBytes("chain", 8, 2, block), CommitSignBytes("chain", 7, 3, block), CommitSignBytes("chaim", 7, 2, block)} {
		if bytes.Equal(other, msg) {
			t.Fatalf("CommitSignBytes gave %x for different arguments", msg)
		}
	}
}

func TestDecodeCommitStrict(t *testing.T) {
	c := commitValid(t, blkCaretakers(1, 1, 1))
	p := cbCommitPairs(c)
	valid := cbMap(p...)
	if enc, err := c.Encode(); err != nil || !bytes.Equal(enc, valid) {
		t.Fatalf("Encode()=%x, %v, want %x", enc, err, valid)
	}
	sig := cbMap(cbPair{"pk", cbBytes(c.Signatures[0].PublicKey)}, cbPair{"sig", cbBytes(c.Signatures[0].Signature)})
	tests := []decodeCase{
		{"valid", valid, nil, nil},
		{"over MaxCommitBytes", make([]byte, MaxCommitBytes+1), errTooLarge, nil},
		{"missing key", cbMap(p[1:]...), errFieldCount, nil},
		{"extra key", cbMap(append(p, cbPair{"more", cbNull})...), errFieldCount, nil},
		{"unknown key", cbMap(cbRenamed(p, "sigs", "sign")...), ErrMalformedCBOR, cbErrAs[*cbor.UnknownFieldError]()},
		{"duplicate key", cbMap(cbRenamed(p, "round", "block")...), ErrMalformedCBOR, cbErrAs[*cbor.DupMapKeyError]()},
		{"keys out of order", cbMap(cbSwapped(p, 1, 2)...), errNonCanonical, nil},
		{"indefinite map", cbIndefMap(p...), ErrMalformedCBOR, cbErrAs[*cbor.IndefiniteLengthError]()},
		{"non-minimal round", cbMap(cbWith(p, "round", []byte{0x18, 0})...), errNonCanonical, nil},
		{"float round", cbMap(cbWith(p, "round", []byte{0xf9, 0, 0})...), ErrMalformedCBOR, cbErrAs[*cbor.UnmarshalTypeError]()},
		{"signature keys out of order", cbMap(cbWith(p, "sigs", cbArray(cbMap(cbPair{"sig", cbBytes(c.Signatures[0].Signature)}, cbPair{"pk", cbBytes(c.Signatures[0].PublicKey)})))...), errNonCanonical, nil},
		{"signature extra key", cbMap(cbWith(p, "sigs", cbArray(cbMap(cbPair{"pk", cbBytes(c.Signatures[0].PublicKey)}, cbPair{"sig", cbNull}, cbPair{"x", cbNull})))...), errFieldCount, nil},
		{"signature not a map", cbMap(cbWith(p, "sigs", cbArray(cbArray()))...), ErrMalformedCBOR, cbErrAs[*cbor.UnmarshalTypeError]()},
		{"signatures nested too deep", cbMap(cbWith(p, "sigs", cbArray(cbMap(cbPair{"pk", cbArray(cbArray())}, cbPair{"sig", cbNull})))...), ErrMalformedCBOR, cbErrAs[*cbor.MaxNestedLevelError]()},
		{"duplicate signer", cbMap(cbWith(p, "sigs", cbArray(sig, sig))...), ErrInvalidCommit, nil},
		{"height 0", cbMap(cbWith(p, "height", cbUint(0))...), ErrInvalidCommit, nil},
		{"empty signatures", cbMap(cbWith(p, "sigs", cbArray())...), ErrInvalidCommit, nil},
		{"null signatures", cbMap(cbWith(p, "sigs", cbNull)...), errNonCanonical, nil},
	}
	runDecodeCases(t, tests, func(data []byte) error {
		_, err := DecodeCommit(data)
		return err
	})
}

func TestCommitEncodeDecodeProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := commitGen(rapid.Uint64Range(1, MaxBlockHeight).Draw(t, "height"), BlockCID([]byte("b"))).Draw(t, "commit")
		data, err := c.Encode()
		if err != nil {
			t.Fatalf("Encode()=%v, want nil", err)
		}
		got, err := DecodeCommit(data)
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Fatalf("DecodeCommit(Encode())=%+v, %v, want %+v", got, err, c)
		}
	})
}

func TestCommitVerifyRealSignaturesRoundTrip(t *testing.T) {
	cs := blkCaretakers(5, 5, 5)
	power, total := blkPower(cs)
	data, err := commitValid(t, cs).Encode()
	if err != nil {
		t.Fatalf("Encode()=%v", err)
	}
	c, err := DecodeCommit(data)
	if err != nil {
		t.Fatalf("DecodeCommit()=%v", err)
	}
	if err := c.Verify(blkChainID, power, total); err != nil {
		t.Fatalf("Verify(decoded)=%v, want nil", err)
	}
	if len(c.Signatures[0].PublicKey) != ed25519.PublicKeySize {
		t.Fatalf("decoded key length %d", len(c.Signatures[0].PublicKey))
	}
}

func FuzzDecodeCommit(f *testing.F) {
	for _, s := range blkSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCommit(data)
		if err != nil {
			var be *BlockError
			if !errors.Is(err, ErrMalformedCBOR) && !errors.As(err, &be) {
				t.Fatalf("DecodeCommit()=%v, want ErrMalformedCBOR or *BlockError", err)
			}
			return
		}
		again, err := c.Encode()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("Encode(DecodeCommit(%x))=%x, %v, want the input", data, again, err)
		}
	})
}
