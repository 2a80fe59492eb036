package node

import (
	"crypto/sha3"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/ipdb/ipdb-node/ledger"
)

// TestSyncRefusesBadAnswers delivers a block-sync answer of three blocks,
// whole and tampered with, to a node at height 0: the blocks before the
// first bad one are stored, none from it on, and the error says why.
func TestSyncRefusesBadAnswers(t *testing.T) {
	const blocks, perBlock = 3, 3
	src, resp := servedChain(t, blocks, perBlock)
	tests := []struct {
		name    string
		tamper  func([]syncEntry) []syncEntry
		height  uint64 // the syncing node's height after delivery
		wantErr string // "" for none
	}{
		{"whole", func(e []syncEntry) []syncEntry { return e }, 3, ""},
		{"transaction of another block", func(e []syncEntry) []syncEntry {
			e[1].Txs[0] = e[2].Txs[0]
			return e
		}, 1, "block 2"},
		{"block missing", func(e []syncEntry) []syncEntry { return []syncEntry{e[0], e[2]} }, 1, "height after 1"},
		{"commit of another block", func(e []syncEntry) []syncEntry {
			e[2].Commit = e[1].Commit
			return e
		}, 2, "commit"},
		{"transactions missing", func(e []syncEntry) []syncEntry {
			e[0].Txs = e[0].Txs[:1]
			return e
		}, 0, "1 transactions sent for 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, err := decodeSyncAnswer(resp)
			if err != nil {
				t.Fatalf("decodeSyncAnswer()=%v", err)
			}
			dst := openBenchChain(t, src.key, src.gen)
			e, stop := startSyncEngine(dst)
			defer stop()
			_, err = e.sync.deliver(t.Context(), mustEncode(tt.tamper(entries)))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("deliver()=%v, want an error with %q", err, tt.wantErr)
			}
			if h := dst.store.Height(); h != tt.height {
				t.Fatalf("height after deliver()=%d, want %d", h, tt.height)
			}
		})
	}
}

// TestSyncSignaturesOnTrust syncs a block whose commit is good but which
// holds a transaction whose signature is not (honest caretakers never
// commit one): taken on the commit's trust, the default, the block is
// stored; with consensus.sync_verify_signatures it is refused.
func TestSyncSignaturesOnTrust(t *testing.T) {
	src := newBenchChain(t)
	forged := forgeSignature(t, createTx(t, newKey(t, 1), 0, 1))
	if _, err := ledger.Verify(forged); !errors.Is(err, ledger.ErrInvalidSignature) {
		t.Fatalf("Verify(forged)=%v, want InvalidSignature", err)
	}
	v, err := ledger.VerifyCommitted(forged)
	if err != nil {
		t.Fatalf("VerifyCommitted(forged)=%v", err)
	}
	b, checked := src.nextBlockOf(t, []*ledger.VerifiedTx{v})
	src.commit(t, b, checked)
	resp, err := (&blockSync{store: src.store}).serve(t.Context(), "", mustEncode(syncRequest{From: 1, Max: MaxSyncBlocks}))
	if err != nil {
		t.Fatalf("serve()=%v", err)
	}
	for _, verifySignatures := range []bool{false, true} {
		dst := openBenchChain(t, src.key, src.gen)
		e, stop := startSyncEngine(dst)
		e.sync.checkTx = syncCheck(verifySignatures)
		_, err := e.sync.deliver(t.Context(), resp)
		stop()
		if verifySignatures && (err == nil || !errors.Is(err, ledger.ErrInvalidSignature) || dst.store.Height() != 0) {
			t.Errorf("signatures checked: deliver()=%v, height %d; want InvalidSignature, height 0", err, dst.store.Height())
		}
		if !verifySignatures && (err != nil || dst.store.Height() != 1) {
			t.Errorf("signatures on trust: deliver()=%v, height %d; want the block stored", err, dst.store.Height())
		}
	}
}

// forgeSignature returns tx's canonical bytes with other metadata under the
// same fulfillments, and the id of the new body: every check passes but the
// signature's.
func forgeSignature(t *testing.T, tx *ledger.Tx) []byte {
	t.Helper()
	v, err := ledger.DecodeJSON(tx.Canonical())
	if err != nil {
		t.Fatalf("DecodeJSON()=%v", err)
	}
	body := v.(map[string]any)
	body["metadata"] = map[string]any{"forged": true}
	body["id"] = nil
	sum := sha3.Sum256(ledger.AppendCanonical(nil, body))
	body["id"] = hex.EncodeToString(sum[:])
	return ledger.AppendCanonical(nil, body)
}

// TestApplySyncedCountsWhatItStores applies two synced blocks, then the
// same two again, as when consensus stored their heights meanwhile: the
// second time both are skipped, and none is counted as stored by sync.
func TestApplySyncedCountsWhatItStores(t *testing.T) {
	src, resp := servedChain(t, 2, 2)
	entries, err := decodeSyncAnswer(resp)
	if err != nil {
		t.Fatalf("decodeSyncAnswer()=%v", err)
	}
	dst := openBenchChain(t, src.key, src.gen)
	e := benchEngine(dst)
	prev, prevCID, err := dst.store.LatestBlock()
	if err != nil {
		t.Fatalf("LatestBlock()=%v", err)
	}
	var blocks []*syncedBlock
	err = e.sync.verifyEntries(t.Context(), entries, prev, prevCID, func(sb *syncedBlock, _ int) error {
		blocks = append(blocks, sb)
		return nil
	})
	if err != nil || len(blocks) != 2 {
		t.Fatalf("verifyEntries()=%v with %d blocks, want 2", err, len(blocks))
	}
	for _, want := range []int{2, 0} {
		n, serr, err := e.applySynced(blocks)
		if n != want || serr != nil || err != nil {
			t.Fatalf("applySynced()=%d, %v, %v; want %d stored", n, serr, err, want)
		}
	}
	if h := dst.store.Height(); h != 2 {
		t.Fatalf("height %d, want 2", h)
	}
}
