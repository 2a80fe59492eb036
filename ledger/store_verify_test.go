package ledger_test

import (
	"bytes"
	"encoding/hex"
	"slices"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/ipdb/ipdb-node/ledger"
)

// verifyStore checks the whole stored chain from the newest block to
// genesis: links, CIDs and commits, and every transaction with its indexes.
func verifyStore(t *testing.T, s *ledger.Store) {
	t.Helper()
	verifyChain(t, s, 1)
}

// verifyChain checks the links and CIDs of the stored chain from the newest
// block to genesis, and the blocks from height deep up as verifyStore does.
func verifyChain(t *testing.T, s *ledger.Store, deep uint64) {
	t.Helper()
	owners := make(map[string]map[ledger.OutputRef]bool)
	b, c, err := s.LatestBlock()
	if err != nil {
		t.Fatalf("LatestBlock()=%v", err)
	}
	if b.Height != s.Height() {
		t.Fatalf("LatestBlock().Height=%d, Height()=%d", b.Height, s.Height())
	}
	for b.Height > 0 {
		if b.Height >= deep {
			verifyBlock(t, s, b, c, owners)
		}
		prev, pc, err := s.BlockByHeight(b.Height - 1)
		if err != nil || pc != b.Prev {
			t.Fatalf("block %d: BlockByHeight(%d)=%v, %v, want prev %v", b.Height, b.Height-1, pc, err, b.Prev)
		}
		b, c = prev, pc
	}
	if got, err := s.BlockByCID(c); err != nil || got.Height != 0 {
		t.Fatalf("BlockByCID(genesis)=%v, %v", got, err)
	}
}

func verifyBlock(t *testing.T, s *ledger.Store, b *ledger.Block, c cid.Cid, owners map[string]map[ledger.OutputRef]bool) {
	t.Helper()
	if got, err := s.BlockByCID(c); err != nil || mustCID(t, got) != c {
		t.Fatalf("BlockByCID(%v)=%v, %v", c, got, err)
	}
	commit, err := s.Commit(b.Height)
	if err != nil || commit.Block != c || commit.Height != b.Height {
		t.Fatalf("Commit(%d)=%v, %v, want a commit of %v", b.Height, commit, err, c)
	}
	for _, txc := range b.Txs {
		verifyTx(t, s, b.Height, txc, owners)
	}
}

func verifyTx(t *testing.T, s *ledger.Store, h uint64, txc cid.Cid, owners map[string]map[ledger.OutputRef]bool) {
	t.Helper()
	id := hex.EncodeToString(txc.Hash()[len(txc.Hash())-32:])
	data, th, err := s.Tx(id)
	if err != nil || th != h {
		t.Fatalf("Tx(%s)=%d bytes, %d, %v, want the tx of block %d", id, len(data), th, err, h)
	}
	tx, err := ledger.DecodeTx(data)
	if err != nil || tx.ID != id {
		t.Fatalf("DecodeTx(stored %s)=%v, %v", id, tx, err)
	}
	if got, err := s.BlocksWithTx(id); err != nil || !slices.Equal(got, []uint64{h}) {
		t.Fatalf("BlocksWithTx(%s)=%v, %v, want [%d]", id, got, err, h)
	}
	byAsset, err := s.TxsByAsset(tx.AssetID(), "", false, 0)
	if err != nil || !slices.ContainsFunc(byAsset, func(b []byte) bool { return bytes.Equal(b, data) }) {
		t.Fatalf("TxsByAsset(%s) does not list %s: %v", tx.AssetID(), id, err)
	}
	for i, o := range tx.Outputs {
		ref := ledger.OutputRef{TxID: id, Index: uint64(i)}
		out, found, err := s.Output(ref)
		if err != nil || !found || out.Amount != o.Amount || out.AssetID != tx.AssetID() {
			t.Fatalf("Output(%v)=%+v, %v, %v", ref, out, found, err)
		}
		for _, pub := range o.PublicKeys {
			if !ownerRefs(t, s, owners, pub)[ref] {
				t.Fatalf("Outputs(%s) does not list %v", pub, ref)
			}
		}
	}
	verifySearchTag(t, s, tx)
}

// ownerRefs returns the set of outputs Outputs(pub) lists, reading it once.
func ownerRefs(t *testing.T, s *ledger.Store, owners map[string]map[ledger.OutputRef]bool, pub string) map[ledger.OutputRef]bool {
	t.Helper()
	if refs, ok := owners[pub]; ok {
		return refs
	}
	list, err := s.Outputs(pub, nil, 0)
	if err != nil {
		t.Fatalf("Outputs(%s)=%v", pub, err)
	}
	refs := make(map[ledger.OutputRef]bool, len(list))
	for _, r := range list {
		refs[r] = true
	}
	owners[pub] = refs
	return refs
}

// verifySearchTag checks that a transaction whose asset data or metadata
// has a "tag" string is found by searching that tag.
func verifySearchTag(t *testing.T, s *ledger.Store, tx *ledger.Tx) {
	t.Helper()
	if tag, ok := tagOf(tx.Asset.Data); ok && tx.Operation == ledger.OpCreate {
		hits, err := s.SearchAssets(tag, 0)
		if err != nil || !slices.ContainsFunc(hits, func(h ledger.AssetHit) bool { return h.ID == tx.ID }) {
			t.Fatalf("SearchAssets(%q)=%v, %v, want %s among the hits", tag, hits, err, tx.ID)
		}
	}
	if tag, ok := tagOf(tx.Metadata); ok {
		hits, err := s.SearchMetadata(tag, 0)
		if err != nil || !slices.ContainsFunc(hits, func(h ledger.MetadataHit) bool { return h.ID == tx.ID }) {
			t.Fatalf("SearchMetadata(%q)=%v, %v, want %s among the hits", tag, hits, err, tx.ID)
		}
	}
}

func tagOf(doc any) (string, bool) {
	m, _ := doc.(map[string]any)
	tag, ok := m["tag"].(string)
	return tag, ok
}
