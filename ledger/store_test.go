package ledger_test

import (
	"bytes"
	"context"
	"crypto/sha3"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

// openTestStore opens a store in dir, logging to the test, and closes it at
// the end of the test (unless the test closed it).
func openTestStore(t *testing.T, dir string) *ledger.Store {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := ledger.OpenStore(dir, ledger.StoreOptions{Logger: log})
	if err != nil {
		t.Fatalf("OpenStore()=%v", err)
	}
	t.Cleanup(func() { s.Close() }) // Badger ignores a second Close
	return s
}

// newTestChain opens a store in a new directory with a genesis block.
func newTestChain(t *testing.T) (*ledger.Store, *ledgertest.Chain, ledger.KeyPair) {
	t.Helper()
	s := openTestStore(t, t.TempDir())
	key := ledgertest.Key(t, 1)
	return s, ledgertest.NewChain(t, s, key), key
}

func mustCID(t *testing.T, b *ledger.Block) cid.Cid {
	t.Helper()
	c, err := b.CID()
	if err != nil {
		t.Fatalf("CID()=%v", err)
	}
	return c
}

func TestStoreGenesis(t *testing.T) {
	s := openTestStore(t, t.TempDir())
	key := ledgertest.Key(t, 1)
	if _, _, err := s.LatestBlock(); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("LatestBlock() on an empty store=%v, want ErrNotFound", err)
	}
	g := ledgertest.Genesis(key)
	if err := s.InitGenesis(g); err != nil {
		t.Fatalf("InitGenesis()=%v", err)
	}
	if err := s.InitGenesis(g); err != nil {
		t.Fatalf("InitGenesis(same genesis again)=%v", err)
	}
	other := ledgertest.Genesis(ledgertest.Key(t, 2))
	if err := s.InitGenesis(other); !errors.Is(err, ledger.ErrChainMismatch) {
		t.Fatalf("InitGenesis(other genesis)=%v, want ErrChainMismatch", err)
	}
	b, c, err := s.LatestBlock()
	if err != nil || c != mustCID(t, g) || b.Height != 0 {
		t.Fatalf("LatestBlock()=%v, %v, %v, want genesis %v", b, c, err, mustCID(t, g))
	}
	if got, err := s.BlockByCID(c); err != nil || !bytes.Equal(got.StateHash, g.StateHash) {
		t.Fatalf("BlockByCID(genesis)=%v, %v", got, err)
	}
	if h := s.Height(); h != 0 {
		t.Fatalf("Height()=%d, want 0", h)
	}
	if _, err := s.Commit(0); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("Commit(0)=%v, want ErrNotFound", err)
	}
}

func TestStoreCommitBlockRefused(t *testing.T) {
	s, chain, key := newTestChain(t)
	first := chain.Commit(ledgertest.Create(t, key, map[string]any{"n": 1}, nil))
	txs := []*ledger.Tx{ledgertest.Create(t, key, map[string]any{"n": 2}, nil),
		ledgertest.Create(t, key, map[string]any{"n": 3}, nil)}
	checked := chain.Check(txs...)
	other := chain.Check(ledgertest.Create(t, key, map[string]any{"n": 4}, nil))
	tests := []struct {
		name   string
		change func(b *ledger.Block, c *ledger.Commit) (*ledger.Block, *ledger.Commit, []*ledger.CheckedTx)
	}{
		{"same height again", func(b *ledger.Block, c *ledger.Commit) (*ledger.Block, *ledger.Commit, []*ledger.CheckedTx) {
			b.Height, b.Prev, b.LastCommit = first.Height, first.Prev, first.LastCommit
			return b, chain.Sign(b), checked
		}},
		{"height skipped", func(b *ledger.Block, c *ledger.Commit) (*ledger.Block, *ledger.Commit, []*ledger.CheckedTx) {
			b.Height++
			b.LastCommit = &ledger.Commit{Height: b.Height - 1, Block: b.Prev, Signatures: c.Signatures}
			return b, chain.Sign(b), checked
		}},
		{"wrong prev", func(b *ledger.Block, c *ledger.Commit) (*ledger.Block, *ledger.Commit, []*ledger.CheckedTx) {
			b.Prev = first.Prev
			b.LastCommit = &ledger.Commit{Height: b.Height - 1, Block: b.Prev, Signatures: c.Signatures}
			return b, chain.Sign(b), checked
		}},
		{"fewer txs than listed", func(b *ledger.Block, c *ledger.Commit) (*ledger.Block, *ledger.Commit, []*ledger.CheckedTx) {
			return b, c, checked[:1]
		}},
		{"txs not those listed", func(b *ledger.Block, c *ledger.Commit) (*ledger.Block, *ledger.Commit, []*ledger.CheckedTx) {
			return b, c, []*ledger.CheckedTx{checked[0], other[0]}
		}},
		{"txs out of order", func(b *ledger.Block, c *ledger.Commit) (*ledger.Block, *ledger.Commit, []*ledger.CheckedTx) {
			return b, c, []*ledger.CheckedTx{checked[1], checked[0]}
		}},
		{"commit of another block", func(b *ledger.Block, c *ledger.Commit) (*ledger.Block, *ledger.Commit, []*ledger.CheckedTx) {
			other := *b
			other.Time++
			return b, chain.Sign(&other), checked
		}},
		{"no commit", func(b *ledger.Block, c *ledger.Commit) (*ledger.Block, *ledger.Commit, []*ledger.CheckedTx) {
			return b, nil, checked
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, c, txs := tt.change(chain.Build(checked))
			if err := s.CommitBlock(b, c, txs); !errors.Is(err, ledger.ErrChainMismatch) {
				t.Fatalf("CommitBlock()=%v, want ErrChainMismatch", err)
			}
			if h := s.Height(); h != first.Height {
				t.Fatalf("Height()=%d after a refused commit, want %d", h, first.Height)
			}
		})
	}
	b, c := chain.Build(checked)
	if err := s.CommitBlock(b, c, checked); err != nil {
		t.Fatalf("CommitBlock(valid)=%v", err)
	}
	if err := s.CommitBlock(b, c, checked); !errors.Is(err, ledger.ErrChainMismatch) {
		t.Fatalf("CommitBlock(same block twice)=%v, want ErrChainMismatch", err)
	}
}

func TestStoreCommitBlockInvalidBlock(t *testing.T) {
	s, chain, key := newTestChain(t)
	checked := chain.Check(ledgertest.Create(t, key, map[string]any{"n": 1}, nil))
	b, c := chain.Build(checked)
	b.StateHash = b.StateHash[:5]
	if err := s.CommitBlock(b, c, checked); !errors.Is(err, ledger.ErrInvalidBlock) {
		t.Fatalf("CommitBlock(block with a short state hash)=%v, want ErrInvalidBlock", err)
	}
}

func TestStoreReopen(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir)
	key := ledgertest.Key(t, 1)
	chain := ledgertest.NewChain(t, s, key)
	txs := ledgertest.Creates(t, key, 20, 600)
	chain.Commit(txs[:10]...)
	chain.Commit(append(txs[10:], ledgertest.Transfer(t, txs[0], 0, nil, []ledger.KeyPair{key}))...)
	before := walkAll(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close()=%v", err)
	}
	s = openTestStore(t, dir)
	if h := s.Height(); h != 2 {
		t.Fatalf("Height() after reopening=%d, want 2", h)
	}
	if after := walkAll(t, s); !slices.EqualFunc(before, after, walkedEqual) {
		t.Fatalf("Walk() after reopening differs: %d items, want %d", len(after), len(before))
	}
	verifyStore(t, s)
	chain = ledgertest.NewChain(t, s, key)
	chain.Commit(ledgertest.Transfer(t, txs[1], 0, nil, []ledger.KeyPair{key}))
	verifyStore(t, s)
}

// walked is one item Walk yielded.
type walked struct {
	c    cid.Cid
	data []byte
}

func walkedEqual(a, b walked) bool { return a.c == b.c && bytes.Equal(a.data, b.data) }

func walkAll(t *testing.T, s *ledger.Store) []walked {
	t.Helper()
	var out []walked
	err := s.Walk(func(c cid.Cid, data []byte) error {
		out = append(out, walked{c, bytes.Clone(data)})
		return nil
	})
	if err != nil {
		t.Fatalf("Walk()=%v", err)
	}
	return out
}

func TestStoreWalk(t *testing.T) {
	s, chain, key := newTestChain(t)
	txs := ledgertest.Creates(t, key, 6, 500)
	b1 := chain.Commit(txs[:2]...)
	b2 := chain.Commit(txs[2:]...)
	got := walkAll(t, s)
	g, _, err := s.BlockByHeight(0)
	if err != nil {
		t.Fatalf("BlockByHeight(0)=%v", err)
	}
	wantBlocks := []cid.Cid{mustCID(t, b2), mustCID(t, b1), mustCID(t, g)}
	if len(got) != len(wantBlocks)+len(txs) {
		t.Fatalf("Walk() yielded %d items, want %d", len(got), len(wantBlocks)+len(txs))
	}
	for i, w := range wantBlocks {
		if got[i].c != w || ledger.BlockCID(got[i].data) != w {
			t.Fatalf("Walk() item %d=%v, want block %v", i, got[i].c, w)
		}
	}
	wantTxs := make(map[cid.Cid]*ledger.Tx)
	for _, tx := range txs {
		wantTxs[tx.CID()] = tx
	}
	for _, w := range got[len(wantBlocks):] {
		tx := wantTxs[w.c]
		if tx == nil {
			t.Fatalf("Walk() yielded %v, not a committed transaction", w.c)
		}
		// The data is the canonical JSON with "id" null: it hashes to the id.
		if sum := sha3.Sum256(w.data); hex.EncodeToString(sum[:]) != tx.ID {
			t.Fatalf("Walk() tx %v: data %q does not hash to the id", w.c, w.data)
		}
		withID := bytes.Replace(w.data, []byte(`"id":null`), []byte(`"id":"`+tx.ID+`"`), 1)
		if !bytes.Equal(withID, tx.Canonical()) {
			t.Fatalf("Walk() tx %v: data %q with the id is not the canonical %q", w.c, w.data, tx.Canonical())
		}
		delete(wantTxs, w.c)
	}
	if len(wantTxs) > 0 {
		t.Fatalf("Walk() missed %d transactions", len(wantTxs))
	}
	stop := errors.New("stop")
	n := 0
	err = s.Walk(func(cid.Cid, []byte) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Walk(fn failing)=%v after %d calls, want fn's error after 1", err, n)
	}
}

func TestStoreSize(t *testing.T) {
	s, chain, key := newTestChain(t)
	before, err := s.Size()
	if err != nil || before <= 0 {
		t.Fatalf("Size()=%d, %v, want > 0", before, err)
	}
	chain.Commit(ledgertest.Creates(t, key, 200, 1024)...)
	after, err := s.Size()
	if err != nil || after <= before {
		t.Fatalf("Size() after 200 KiB of txs=%d, %v, want > %d", after, err, before)
	}
}

// recordingHandler keeps the messages logged to it.
type recordingHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}

func TestStoreLogsToLogger(t *testing.T) {
	h := &recordingHandler{}
	s, err := ledger.OpenStore(t.TempDir(), ledger.StoreOptions{Logger: slog.New(h)})
	if err != nil {
		t.Fatalf("OpenStore()=%v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close()=%v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	badger := 0
	for _, r := range h.records {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "component" && a.Value.String() == "badger" {
				badger++
			}
			return true
		})
	}
	if badger == 0 {
		t.Fatalf("got %d records, none from badger; want Badger's logs on the logger", len(h.records))
	}
}

// TestStoreNilLoggerIsSilent checks that a store without a logger prints
// nothing: Badger's default logger writes to os.Stderr.
func TestStoreNilLoggerIsSilent(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("Pipe()=%v", err)
	}
	stderr := os.Stderr
	os.Stderr = w
	defer func() { os.Stderr = stderr }()
	dir := t.TempDir()
	for range 2 { // a new store, then an existing one
		s, err := ledger.OpenStore(dir, ledger.StoreOptions{})
		if err != nil {
			t.Fatalf("OpenStore()=%v", err)
		}
		if err := s.InitGenesis(ledgertest.Genesis(ledgertest.Key(t, 1))); err != nil {
			t.Fatalf("InitGenesis()=%v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close()=%v", err)
		}
	}
	os.Stderr = stderr
	w.Close()
	printed, err := io.ReadAll(r)
	if err != nil || len(printed) > 0 {
		t.Fatalf("the store printed %q (%v), want nothing", printed, err)
	}
}

func TestStoreLargeBlock(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 10,000 signed transactions")
	}
	n := min(ledger.MaxBlockTxs, 10_000)
	s, chain, key := newTestChain(t)
	txs := ledgertest.Creates(t, key, n, 1024)
	b := chain.Commit(txs...)
	if got, h, err := s.Tx(txs[n-1].ID); err != nil || h != b.Height || !bytes.Equal(got, txs[n-1].Canonical()) {
		t.Fatalf("Tx(last)=%d bytes, %d, %v", len(got), h, err)
	}
	refs, err := s.Outputs(key.PublicBase58(), nil, 0)
	if err != nil || len(refs) != n {
		t.Fatalf("Outputs()=%d refs, %v, want %d", len(refs), err, n)
	}
}

func TestStoreWalkWritesCAR(t *testing.T) {
	s, chain, key := newTestChain(t)
	txs := ledgertest.Creates(t, key, 4, 400)
	chain.Commit(txs[:2]...)
	chain.Commit(append(txs[2:], ledgertest.Transfer(t, txs[0], 0, map[string]any{"a": "b"}, []ledger.KeyPair{key}))...)
	items := walkAll(t, s)
	next := func() (cid.Cid, []byte, error) {
		if len(items) == 0 {
			return cid.Undef, nil, io.EOF
		}
		w := items[0]
		items = items[1:]
		return w.c, w.data, nil
	}
	var car bytes.Buffer
	if err := ledger.WriteCAR(&car, items[0].c, next); err != nil {
		t.Fatalf("WriteCAR(Walk's items)=%v", err)
	}
}

// TestStoreOpensAfterCrashInOpen reopens a store whose previous Open was
// killed just after creating its new value log file, before writing to it:
// Badger then finds an empty .vlog file and refuses to open.
func TestStoreOpensAfterCrashInOpen(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir)
	ledgertest.NewChain(t, s, ledgertest.Key(t, 1))
	if err := s.Close(); err != nil {
		t.Fatalf("Close()=%v", err)
	}
	logs, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("Glob(*.vlog)=%v, %v, want Badger's value logs", logs, err)
	}
	slices.Sort(logs)
	var fid int
	if _, err := fmt.Sscanf(filepath.Base(logs[len(logs)-1]), "%d.vlog", &fid); err != nil {
		t.Fatalf("value log name %s: %v", logs[len(logs)-1], err)
	}
	empty := filepath.Join(dir, fmt.Sprintf("%06d.vlog", fid+1))
	if err := os.WriteFile(empty, nil, 0o666); err != nil {
		t.Fatalf("WriteFile()=%v", err)
	}
	s = openTestStore(t, dir)
	if h := s.Height(); h != 0 {
		t.Fatalf("Height()=%d, want 0", h)
	}
}

func TestStoreAppState(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir)
	key := ledgertest.Key(t, 1)
	chain := ledgertest.NewChain(t, s, key)
	if got, err := s.AppState(); err != nil || got != nil {
		t.Fatalf("AppState() before any = %q, %v; want nil, nil", got, err)
	}
	commitState := func(state []byte, txs ...*ledger.Tx) {
		t.Helper()
		chain.CommitCheckedState(chain.Check(txs...), state)
	}
	commitState([]byte("one"), ledgertest.Create(t, key, map[string]any{"n": 1}, nil))
	commitState(nil, ledgertest.Create(t, key, map[string]any{"n": 2}, nil))
	if got, err := s.AppState(); err != nil || string(got) != "one" {
		t.Fatalf("AppState() after a nil write = %q, %v; want one", got, err)
	}
	commitState([]byte("two"), ledgertest.Create(t, key, map[string]any{"n": 3}, nil))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestStore(t, dir)
	if got, err := s.AppState(); err != nil || string(got) != "two" {
		t.Fatalf("AppState() after reopen = %q, %v; want two", got, err)
	}
	// A refused block writes no state either.
	b, c := chain.Build(nil)
	b.Height += 5
	if err := s.CommitBlockState(b, c, nil, []byte("three")); err == nil {
		t.Fatal("CommitBlockState of a block at the wrong height succeeded")
	}
	if got, _ := s.AppState(); string(got) != "two" {
		t.Fatalf("AppState() after a refused block = %q, want two", got)
	}
}

func TestStoreAppRows(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir)
	key := ledgertest.Key(t, 1)
	chain := ledgertest.NewChain(t, s, key)
	checked := chain.Check(ledgertest.Create(t, key, map[string]any{"n": 1}, nil))
	b, c := chain.Build(checked)
	w := ledger.AppWrite{State: []byte("s1"), Rows: []ledger.AppRow{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Value: []byte("2")}}}
	if err := s.CommitBlockApp(b, c, checked, w); err != nil {
		t.Fatalf("CommitBlockApp()=%v", err)
	}
	if err := s.CommitBlockApp(b, c, checked, ledger.AppWrite{Rows: []ledger.AppRow{{Key: make([]byte, ledger.MaxAppRowKey+1)}}}); err == nil || !strings.Contains(err.Error(), "row key") {
		t.Fatalf("CommitBlockApp() with an over-long row key = %v, want a row key error", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestStore(t, dir)
	for _, tc := range []struct{ key, want string }{{"a", "1"}, {"b", "2"}, {"c", ""}} {
		got, err := s.AppRow([]byte(tc.key))
		if err != nil || string(got) != tc.want || (tc.want == "" && got != nil) {
			t.Fatalf("AppRow(%q)=%q, %v; want %q", tc.key, got, err, tc.want)
		}
	}
	if got, _ := s.AppState(); string(got) != "s1" {
		t.Fatalf("AppState()=%q, want s1", got)
	}
}

func TestStoreBlockTxs(t *testing.T) {
	s, chain, key := newTestChain(t)
	txs := ledgertest.Creates(t, key, 5, 100)
	b := chain.Commit(txs...)
	got, err := s.BlockTxs(b)
	if err != nil || len(got) != len(txs) {
		t.Fatalf("BlockTxs()=%d txs, %v, want %d", len(got), err, len(txs))
	}
	for i, tx := range txs {
		if !bytes.Equal(got[i], tx.Canonical()) {
			t.Errorf("BlockTxs()[%d]=%s, want %s", i, got[i], tx.Canonical())
		}
	}
	unstored := *b
	unstored.Txs = append(slices.Clone(b.Txs), ledgertest.Creates(t, key, 1, 100)[0].CID())
	if _, err := s.BlockTxs(&unstored); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("BlockTxs(block naming an unstored tx)=%v, want ErrNotFound", err)
	}
	unstored.Txs = []cid.Cid{mustCID(t, b)}
	if _, err := s.BlockTxs(&unstored); !errors.Is(err, ledger.ErrInvalidCID) {
		t.Errorf("BlockTxs(block naming a block CID)=%v, want ErrInvalidCID", err)
	}
}

// TestStoreLatestBlockIsACopy checks that LatestBlock, which keeps the
// block this process committed, gives the block as stored, and copies that
// neither the committer nor the readers can change.
func TestStoreLatestBlockIsACopy(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir)
	key := ledgertest.Key(t, 1)
	chain := ledgertest.NewChain(t, s, key)
	chain.Commit(ledgertest.Create(t, key, map[string]any{"n": 1}, nil))
	committed := chain.Commit(ledgertest.Create(t, key, map[string]any{"n": 2}, nil))
	want := mustCID(t, committed)
	if committed.LastCommit == nil || len(committed.LastCommit.Signatures) == 0 {
		t.Fatal("block 2 has no last commit to copy")
	}
	mutate := func(b *ledger.Block) {
		b.Txs[0] = b.Prev
		b.StateHash[0] ^= 1
		b.CaretakersHash[0] ^= 1
		b.LastCommit.Signatures[0].Signature[0] ^= 1
		b.LastCommit.Height++
	}
	mutate(committed)
	for range 2 {
		b, c, err := s.LatestBlock()
		if err != nil {
			t.Fatalf("LatestBlock()=%v", err)
		}
		if got := mustCID(t, b); c != want || got != want {
			t.Fatalf("LatestBlock() gave CID %v and a block of CID %v, want the committed block %v", c, got, want)
		}
		mutate(b)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestStore(t, dir)
	b, c, err := s.LatestBlock()
	if err != nil || c != want || mustCID(t, b) != want {
		t.Fatalf("LatestBlock() after reopening=%v, %v, want %v", c, err, want)
	}
}
