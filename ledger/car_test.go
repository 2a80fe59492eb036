package ledger

import (
	"bytes"
	"crypto/sha3"
	"errors"
	"io"
	"testing"

	"github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/blockstore"
	"github.com/ipld/go-ipld-prime/datamodel"
	"github.com/ipld/go-ipld-prime/linking"
	cidlink "github.com/ipld/go-ipld-prime/linking/cid"
	"github.com/ipld/go-ipld-prime/node/basicnode"
	_ "github.com/multiformats/go-multihash/register/sha3" // lets go-car verify the json/sha3-256 transaction sections
)

type carSection struct {
	c    cid.Cid
	data []byte
}

// carNext returns a next function yielding sections, then io.EOF.
func carNext(sections []carSection) func() (cid.Cid, []byte, error) {
	i := 0
	return func() (cid.Cid, []byte, error) {
		if i == len(sections) {
			return cid.Undef, nil, io.EOF
		}
		i++
		return sections[i-1].c, sections[i-1].data, nil
	}
}

// carChain builds a chain of three blocks with three transactions each
// (none in genesis) and its sections, newest block first, each block followed
// by its transactions.
func carChain(t *testing.T) (root cid.Cid, sections []carSection, txs map[cid.Cid][]byte) {
	t.Helper()
	blocks, encoded, txs := blkChain(t, 3, 3)
	for h := len(blocks) - 1; h >= 0; h-- {
		sections = append(sections, carSection{BlockCID(encoded[h]), encoded[h]})
		for _, c := range blocks[h].Txs {
			sections = append(sections, carSection{c, txs[c]})
		}
	}
	return BlockCID(encoded[2]), sections, txs
}

func TestWriteCARReadBack(t *testing.T) {
	root, sections, txs := carChain(t)
	var buf bytes.Buffer
	if err := WriteCAR(&buf, root, carNext(sections)); err != nil {
		t.Fatalf("WriteCAR()=%v, want nil", err)
	}
	carVerifiedSections(t, buf.Bytes(), root, len(sections))

	bs, err := blockstore.NewReadOnly(bytes.NewReader(buf.Bytes()), nil, carv2.UseWholeCIDs(true))
	if err != nil {
		t.Fatalf("blockstore.NewReadOnly()=%v", err)
	}
	lsys := cidlink.DefaultLinkSystem()
	lsys.StorageReadOpener = func(lc linking.LinkContext, l datamodel.Link) (io.Reader, error) {
		blk, err := bs.Get(lc.Ctx, l.(cidlink.Link).Cid)
		if err != nil {
			return nil, err
		}
		return bytes.NewReader(blk.RawData()), nil
	}

	height, seen := int64(2), 0
	for at := root; at.Defined(); height-- {
		n, err := lsys.Load(linking.LinkContext{Ctx: t.Context()}, cidlink.Link{Cid: at}, basicnode.Prototype.Any)
		if err != nil {
			t.Fatalf("Load(%v)=%v, want nil", at, err)
		}
		if h, _ := n.LookupByString("height"); carInt(t, h) != height {
			t.Fatalf("height of %v=%d, want %d", at, carInt(t, h), height)
		}
		list, _ := n.LookupByString("txs")
		for it := list.ListIterator(); !it.Done(); seen++ {
			_, tx, _ := it.Next()
			c := blkAsLink(t, tx)
			blk, err := bs.Get(t.Context(), c)
			if err != nil || !bytes.Equal(blk.RawData(), txs[c]) {
				t.Fatalf("Get(tx %v)=%q, %v, want %q", c, blk, err, txs[c])
			}
		}
		at = blkIPLDLink(t, n, "prev")
	}
	if height != -1 || seen != len(txs) {
		t.Fatalf("walk stopped above height %d after %d txs, want height 0 and %d txs", height+1, seen, len(txs))
	}
}

func carInt(t *testing.T, n datamodel.Node) int64 {
	t.Helper()
	v, err := n.AsInt()
	if err != nil {
		t.Fatalf("AsInt()=%v", err)
	}
	return v
}

// carVerifiedSections reads data with go-car's block reader, which checks
// every section against its CID, and checks the roots and section count.
func carVerifiedSections(t *testing.T, data []byte, root cid.Cid, want int) {
	t.Helper()
	br, err := carv2.NewBlockReader(bytes.NewReader(data), carv2.WithTrustedCAR(false))
	if err != nil {
		t.Fatalf("NewBlockReader()=%v, want nil", err)
	}
	if br.Version != 1 || len(br.Roots) != 1 || br.Roots[0] != root {
		t.Fatalf("version %d, roots %v, want version 1 and [%v]", br.Version, br.Roots, root)
	}
	got := 0
	for ; ; got++ {
		if _, err := br.Next(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("Next()=%v after %d sections, want nil", err, got)
		}
	}
	if got != want {
		t.Fatalf("sections=%d, want %d", got, want)
	}
}

type carFailingWriter struct{}

var errCARTestWrite = errors.New("disk full")

func (carFailingWriter) Write([]byte) (int, error) { return 0, errCARTestWrite }

func TestWriteCARErrors(t *testing.T) {
	root, sections, _ := carChain(t)
	txCID, _ := blkTx(1)
	errNext := errors.New("store closed")
	big := make([]byte, MaxBlockBytes+1)
	bigTx := make([]byte, MaxTxBytes+1)
	tests := []struct {
		name string
		w    io.Writer
		root cid.Cid
		next func() (cid.Cid, []byte, error)
		want error
	}{
		{"valid", io.Discard, root, carNext(sections), nil},
		{"root is a tx", io.Discard, txCID, carNext(sections), ErrInvalidCID},
		{"root undefined", io.Discard, cid.Undef, carNext(sections), ErrInvalidCID},
		{"root never yielded", io.Discard, root, carNext(sections[1:]), ErrCARRoot},
		{"block data changed", io.Discard, root, carNext(carAltered(sections, 0)), ErrCARSection},
		{"tx data changed", io.Discard, root, carNext(carAltered(sections, 1)), ErrCARSection},
		{"raw cid", io.Discard, root, carNext([]carSection{{blkCID(cid.Raw, 0x12, 32), nil}}), ErrInvalidCID},
		{"block over limit", io.Discard, root, carNext([]carSection{{BlockCID(big), big}}), ErrCARSection},
		{"tx over limit", io.Discard, root, carNext([]carSection{{blkTxCIDOf(bigTx), bigTx}}), ErrCARSection},
		{"next fails", io.Discard, root, func() (cid.Cid, []byte, error) { return cid.Undef, nil, errNext }, errNext},
		{"writer fails", carFailingWriter{}, root, carNext(sections), errCARTestWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteCAR(tt.w, tt.root, tt.next)
			if (tt.want == nil && err != nil) || !errors.Is(err, tt.want) {
				t.Fatalf("WriteCAR()=%v, want %v", err, tt.want)
			}
		})
	}
}

// carAltered returns a copy of sections with section i's data changed.
func carAltered(sections []carSection, i int) []carSection {
	out := append([]carSection(nil), sections...)
	out[i].data = append(bytes.Clone(out[i].data), ' ')
	return out
}

func blkTxCIDOf(data []byte) cid.Cid { return TxCID(sha3.Sum256(data)) }

// TestTxCIDMatchesMultihashSum checks TxCID against go-cid's own hashing
// (with go-multihash's sha3 registered by this file's import).
func TestTxCIDMatchesMultihashSum(t *testing.T) {
	for _, data := range [][]byte{nil, []byte(`{"a":1}`)} {
		want, err := cid.Prefix{Version: 1, Codec: 0x0200, MhType: 0x16, MhLength: -1}.Sum(data)
		if got := blkTxCIDOf(data); err != nil || got != want {
			t.Fatalf("TxCID(sha3(%q))=%v, want %v (%v)", data, got, want, err)
		}
	}
}

// TestCARWriterPushMatchesWriteCAR checks that pushing sections gives the
// same file as WriteCAR pulling them.
func TestCARWriterPushMatchesWriteCAR(t *testing.T) {
	root, sections, _ := carChain(t)
	var pulled, pushed bytes.Buffer
	if err := WriteCAR(&pulled, root, carNext(sections)); err != nil {
		t.Fatalf("WriteCAR()=%v, want nil", err)
	}
	cw, err := NewCARWriter(&pushed, root)
	if err != nil {
		t.Fatalf("NewCARWriter()=%v, want nil", err)
	}
	for _, s := range sections {
		if err := cw.Put(s.c, s.data); err != nil {
			t.Fatalf("Put(%v)=%v, want nil", s.c, err)
		}
	}
	if err := cw.Close(); err != nil {
		t.Fatalf("Close()=%v, want nil", err)
	}
	if !bytes.Equal(pushed.Bytes(), pulled.Bytes()) {
		t.Fatalf("pushed file=%x, want %x", pushed.Bytes(), pulled.Bytes())
	}
}
