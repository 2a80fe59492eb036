package node

import (
	"strings"
	"testing"
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
