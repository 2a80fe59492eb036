package node

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/ipdb/ipdb-node/ledger"
)

func openTestWAL(t *testing.T, path string) (*wal, [][]byte) {
	t.Helper()
	w, recs, err := openWAL(path)
	if err != nil {
		t.Fatalf("openWAL()=%v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w, recs
}

func appendAll(t *testing.T, w *wal, recs ...string) {
	t.Helper()
	for _, r := range recs {
		if err := w.Append([]byte(r)); err != nil {
			t.Fatalf("Append()=%v", err)
		}
	}
}

func TestWALReopenGivesRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), walFileName)
	w, recs := openTestWAL(t, path)
	if len(recs) != 0 {
		t.Fatalf("new wal has %d records, want 0", len(recs))
	}
	appendAll(t, w, "one", "two", "three")
	w.Close()
	_, recs = openTestWAL(t, path)
	if got := joinRecs(recs); got != "one,two,three" {
		t.Fatalf("records %q, want one,two,three", got)
	}
}

func joinRecs(recs [][]byte) string {
	s := make([]string, len(recs))
	for i, r := range recs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

func TestWALTornTailIsCut(t *testing.T) {
	for _, tc := range []struct {
		name string
		tail []byte
	}{
		{"half header", []byte{0, 0, 0}},
		{"short payload", appendRecord(nil, []byte("fourth"))[:10]},
		{"bad checksum of last record", corruptLast(appendRecord(nil, []byte("fourth")))},
		{"zeros", make([]byte, 64)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), walFileName)
			w, _ := openTestWAL(t, path)
			appendAll(t, w, "one", "two", "three")
			w.Close()
			good, _ := os.ReadFile(path)
			if err := os.WriteFile(path, append(bytes.Clone(good), tc.tail...), 0o600); err != nil {
				t.Fatal(err)
			}
			w2, recs := openTestWAL(t, path)
			if got := joinRecs(recs); got != "one,two,three" {
				t.Fatalf("records %q, want one,two,three", got)
			}
			appendAll(t, w2, "four")
			w2.Close()
			_, recs = openTestWAL(t, path)
			if got := joinRecs(recs); got != "one,two,three,four" {
				t.Fatalf("records after append %q, want one,two,three,four", got)
			}
		})
	}
}

func corruptLast(b []byte) []byte {
	b = bytes.Clone(b)
	b[len(b)-1] ^= 0xff
	return b
}

func TestWALCorruptMiddleIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), walFileName)
	w, _ := openTestWAL(t, path)
	appendAll(t, w, "one", "two", "three")
	w.Close()
	data, _ := os.ReadFile(path)
	data[walHeaderBytes+3+walHeaderBytes] ^= 0xff // first byte of "two"
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := openWAL(path)
	if !errors.Is(err, ErrWALCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "offset 11") {
		t.Fatalf("openWAL()=%v, want ErrWALCorrupt naming %s at offset 11", err, path)
	}
}

func TestWALRewriteIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, walFileName)
	w, _ := openTestWAL(t, path)
	appendAll(t, w, "one", "two", "three")
	if err := w.Rewrite([][]byte{[]byte("three")}); err != nil {
		t.Fatalf("Rewrite()=%v", err)
	}
	appendAll(t, w, "four")
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 {
		t.Fatalf("directory holds %d entries (%v), want only the wal: a temporary file was left behind", len(entries), err)
	}
	w.Close()
	_, recs := openTestWAL(t, path)
	if got := joinRecs(recs); got != "three,four" {
		t.Fatalf("records %q, want three,four", got)
	}
}

// testSigner returns a signer of key 3 over a new WAL at path.
func testSigner(t *testing.T) (s *signer, key ledger.KeyPair, path string) {
	t.Helper()
	key = newKey(t, 3)
	path = filepath.Join(t.TempDir(), walFileName)
	w, _ := openTestWAL(t, path)
	return newSigner(key, testChain, w), key, path
}

func TestSignerRefusesConflicts(t *testing.T) {
	s, key, _ := testSigner(t)
	c1 := blockCIDOf(t, testBlock(t, 1))
	c2 := blockCIDOf(t, testBlock(t, 2))
	first, err := s.signVote(&signedVote{Type: votePrevote, Height: 1, Round: 0, Block: c1, Validator: key.Public})
	if err != nil {
		t.Fatalf("signVote()=%v", err)
	}
	again, err := s.signVote(&signedVote{Type: votePrevote, Height: 1, Round: 0, Block: c1, Validator: key.Public})
	if err != nil || !bytes.Equal(again, first) {
		t.Fatalf("signVote(same)=%x, %v, want the same bytes", again, err)
	}
	for _, tc := range []struct {
		name string
		v    *signedVote
	}{
		{"other block", &signedVote{Type: votePrevote, Height: 1, Round: 0, Block: c2, Validator: key.Public}},
		{"nil instead", &signedVote{Type: votePrevote, Height: 1, Round: 0, Block: cid.Undef, Validator: key.Public}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.signVote(tc.v); !errors.Is(err, ErrSignConflict) {
				t.Fatalf("signVote()=%v, want ErrSignConflict", err)
			}
		})
	}
	if _, err := s.signVote(&signedVote{Type: votePrecommit, Height: 1, Round: 0, Block: c2, Validator: key.Public}); err != nil {
		t.Fatalf("signVote(precommit, same round)=%v, want nil", err)
	}
	p := signedTestProposal(t, key, testBlock(t, 1), 0, -1)
	if _, err := s.signProposal(p); err != nil {
		t.Fatalf("signProposal()=%v", err)
	}
	if _, err := s.signProposal(signedTestProposal(t, key, testBlock(t, 2), 0, -1)); !errors.Is(err, ErrSignConflict) {
		t.Fatalf("signProposal(other block)=%v, want ErrSignConflict", err)
	}
}

func TestSignerRestoresFromWAL(t *testing.T) {
	s, key, path := testSigner(t)
	c1 := blockCIDOf(t, testBlock(t, 1))
	c2 := blockCIDOf(t, testBlock(t, 2))
	for _, v := range []*signedVote{
		{Type: votePrevote, Height: 1, Round: 0, Block: c1, Validator: key.Public},
		{Type: votePrevote, Height: 2, Round: 0, Block: c1, Validator: key.Public},
		{Type: votePrecommit, Height: 2, Round: 0, Block: c1, Validator: key.Public},
	} {
		if _, err := s.signVote(v); err != nil {
			t.Fatalf("signVote()=%v", err)
		}
	}
	if err := s.prune(1); err != nil {
		t.Fatalf("prune()=%v", err)
	}
	s.wal.Close()
	w2, recs := openTestWAL(t, path)
	s2 := newSigner(key, testChain, w2)
	msgs, err := s2.restore(recs)
	if err != nil {
		t.Fatalf("restore()=%v", err)
	}
	// Height 1's record stays in the file until walStaleRecords are stale.
	if len(msgs) != 3 || msgs[1].height() != 2 || msgs[2].vote.Type != votePrecommit {
		t.Fatalf("restore() gave %d messages, want height 1's and the 2 of height 2", len(msgs))
	}
	if _, err := s2.signVote(&signedVote{Type: votePrecommit, Height: 2, Round: 0, Block: c2, Validator: key.Public}); !errors.Is(err, ErrSignConflict) {
		t.Fatalf("signVote(conflict after restart)=%v, want ErrSignConflict", err)
	}
	other := newSigner(newKey(t, 4), testChain, w2)
	if _, err := other.restore(recs); !errors.Is(err, ErrWALCorrupt) {
		t.Fatalf("restore(another key's wal)=%v, want ErrWALCorrupt", err)
	}
}

// TestSignerPrunesTheWALInBatches signs a prevote a height and prunes
// after each: the file keeps the records of decided heights until
// walStaleRecords of them have gathered, then holds none.
func TestSignerPrunesTheWALInBatches(t *testing.T) {
	s, key, path := testSigner(t)
	c := blockCIDOf(t, testBlock(t, 1))
	records := func() int {
		t.Helper()
		w, recs := openTestWAL(t, path)
		w.Close()
		return len(recs)
	}
	for h := uint64(1); h <= walStaleRecords; h++ {
		if _, err := s.signVote(&signedVote{Type: votePrevote, Height: h, Block: c, Validator: key.Public}); err != nil {
			t.Fatalf("signVote(%d)=%v", h, err)
		}
		if err := s.prune(h); err != nil {
			t.Fatalf("prune(%d)=%v", h, err)
		}
		if h == walStaleRecords-1 {
			if n := records(); n != walStaleRecords-1 {
				t.Fatalf("WAL after %d pruned heights holds %d records, want them all", h, n)
			}
		}
	}
	if n := records(); n != 0 {
		t.Fatalf("WAL after %d pruned heights holds %d records, want none", walStaleRecords, n)
	}
	if _, err := s.signVote(&signedVote{Type: votePrevote, Height: walStaleRecords + 1, Block: c, Validator: key.Public}); err != nil {
		t.Fatalf("signVote after the rewrite=%v", err)
	}
	if n := records(); n != 1 {
		t.Fatalf("WAL holds %d records after one more vote, want 1", n)
	}
}
