package ledger_test

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
	"github.com/ipdb/ipdb-node/ledger/textsearch"
)

func TestStoreTx(t *testing.T) {
	s, chain, key := newTestChain(t)
	tx := ledgertest.Create(t, key, map[string]any{"n": 1}, nil)
	b := chain.Commit(tx)
	missing := ledgertest.Create(t, key, map[string]any{"n": 2}, nil)
	tests := []struct {
		name   string
		id     string
		want   []byte
		height uint64
	}{
		{"committed", tx.ID, tx.Canonical(), b.Height},
		{"not committed", missing.ID, nil, 0},
		{"upper-case id", strings.ToUpper(tx.ID), nil, 0},
		{"short id", tx.ID[:10], nil, 0},
		{"not hex", strings.Repeat("z", 64), nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, h, err := s.Tx(tt.id)
			if tt.want == nil {
				if !errors.Is(err, ledger.ErrNotFound) {
					t.Fatalf("Tx()=%q, %v, want ErrNotFound", got, err)
				}
			} else if err != nil || h != tt.height || !bytes.Equal(got, tt.want) {
				t.Fatalf("Tx()=%q, %d, %v, want %q, %d", got, h, err, tt.want, tt.height)
			}
			heights, err := s.BlocksWithTx(tt.id)
			want := []uint64{}
			if tt.want != nil {
				want = []uint64{tt.height}
			}
			if err != nil || !slices.Equal(heights, want) {
				t.Fatalf("BlocksWithTx()=%v, %v, want %v", heights, err, want)
			}
			hasKey, err := s.HasTx(tt.id)
			if err != nil || hasKey != (tt.want != nil) {
				t.Fatalf("HasTx()=%v, %v, want %v", hasKey, err, tt.want != nil)
			}
		})
	}
}

func TestStoreTxsByAsset(t *testing.T) {
	s, chain, _ := newTestChain(t)
	a, b := ledgertest.Key(t, 10), ledgertest.Key(t, 11)
	asset := ledgertest.Create(t, a, map[string]any{"n": 1}, nil, ledger.To(3, a.Public))
	other := ledgertest.Create(t, a, map[string]any{"n": 2}, nil)
	chain.Commit(asset, other)
	t1 := ledgertest.Transfer(t, asset, 0, nil, []ledger.KeyPair{a}, ledger.To(2, a.Public), ledger.To(1, b.Public))
	chain.Commit(t1)
	t2 := ledgertest.Transfer(t, t1, 0, nil, []ledger.KeyPair{a})
	t3 := ledgertest.Transfer(t, t1, 1, nil, []ledger.KeyPair{b}, ledger.To(1, a.Public))
	chain.Commit(t2, t3)
	tests := []struct {
		name  string
		asset string
		op    string
		last  bool
		limit int
		want  []*ledger.Tx
	}{
		{"all", asset.ID, "", false, 0, []*ledger.Tx{asset, t1, t2, t3}},
		{"create", asset.ID, ledger.OpCreate, false, 0, []*ledger.Tx{asset}},
		{"transfers", asset.ID, ledger.OpTransfer, false, 0, []*ledger.Tx{t1, t2, t3}},
		{"last", asset.ID, "", true, 0, []*ledger.Tx{t3}},
		{"last create", asset.ID, ledger.OpCreate, true, 0, []*ledger.Tx{asset}},
		{"last transfer", asset.ID, ledger.OpTransfer, true, 5, []*ledger.Tx{t3}},
		{"limit", asset.ID, "", false, 2, []*ledger.Tx{asset, t1}},
		{"limit transfers", asset.ID, ledger.OpTransfer, false, 1, []*ledger.Tx{t1}},
		{"asset without transfers", other.ID, "", false, 0, []*ledger.Tx{other}},
		{"no transfers", other.ID, ledger.OpTransfer, false, 0, nil},
		{"no such op", asset.ID, ledger.OpVote, false, 0, nil},
		{"unknown op", asset.ID, "BURN", false, 0, nil},
		{"a transfer's id", t1.ID, "", false, 0, nil},
		{"unknown asset", strings.Repeat("ab", 32), "", false, 0, nil},
		{"malformed id", "nothex", "", false, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.TxsByAsset(tt.asset, tt.op, tt.last, tt.limit)
			if err != nil {
				t.Fatalf("TxsByAsset()=%v", err)
			}
			if want := canonicalsOf(tt.want); !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("TxsByAsset()=%s, want %s", ids(t, got), ids(t, want))
			}
		})
	}
}

func canonicalsOf(txs []*ledger.Tx) [][]byte {
	out := [][]byte{}
	for _, tx := range txs {
		out = append(out, tx.Canonical())
	}
	return out
}

// ids returns the ids of canonical transactions, for messages.
func ids(t *testing.T, txs [][]byte) []string {
	t.Helper()
	out := make([]string, len(txs))
	for i, b := range txs {
		tx, err := ledger.DecodeTx(b)
		if err != nil {
			t.Fatalf("DecodeTx()=%v", err)
		}
		out[i] = tx.ID[:8]
	}
	return out
}

func TestStoreOutputs(t *testing.T) {
	s, chain, _ := newTestChain(t)
	a, b, c := ledgertest.Key(t, 10), ledgertest.Key(t, 11), ledgertest.Key(t, 12)
	c1 := ledgertest.Create(t, a, nil, nil,
		ledger.To(1, a.Public), ledger.ToThreshold(1, 1, a.Public, b.Public), ledger.To(5, c.Public))
	chain.Commit(c1)
	tr := ledgertest.Transfer(t, c1, 0, nil, []ledger.KeyPair{a}, ledger.To(1, b.Public))
	chain.Commit(tr)
	ref := func(tx *ledger.Tx, i uint64) ledger.OutputRef { return ledger.OutputRef{TxID: tx.ID, Index: i} }
	yes, no := true, false
	tests := []struct {
		name  string
		pub   string
		spent *bool
		limit int
		want  []ledger.OutputRef
	}{
		{"all of a", a.PublicBase58(), nil, 0, []ledger.OutputRef{ref(c1, 0), ref(c1, 1)}},
		{"spent of a", a.PublicBase58(), &yes, 0, []ledger.OutputRef{ref(c1, 0)}},
		{"unspent of a", a.PublicBase58(), &no, 0, []ledger.OutputRef{ref(c1, 1)}},
		{"threshold member and transfer", b.PublicBase58(), nil, 0, []ledger.OutputRef{ref(c1, 1), ref(tr, 0)}},
		{"limit", b.PublicBase58(), nil, 1, []ledger.OutputRef{ref(c1, 1)}},
		{"limit after filter", a.PublicBase58(), &no, 1, []ledger.OutputRef{ref(c1, 1)}},
		{"spent of b", b.PublicBase58(), &yes, 0, []ledger.OutputRef{}},
		{"single owner", c.PublicBase58(), nil, 0, []ledger.OutputRef{ref(c1, 2)}},
		{"unknown key", ledgertest.Key(t, 13).PublicBase58(), nil, 0, []ledger.OutputRef{}},
		{"malformed key", "0OIl", nil, 0, []ledger.OutputRef{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Outputs(tt.pub, tt.spent, tt.limit)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("Outputs()=%v, %v, want %v", got, err, tt.want)
			}
		})
	}
	chain.Commit(ledgertest.Transfer(t, c1, 1, nil, []ledger.KeyPair{b}, ledger.To(1, c.Public)))
	got, err := s.Outputs(a.PublicBase58(), &yes, 0)
	if want := []ledger.OutputRef{ref(c1, 0), ref(c1, 1)}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("Outputs(a, spent) after spending the threshold output=%v, %v, want %v", got, err, want)
	}
}

// TestStoreStateMatchesMemState commits random CREATEs and TRANSFERs to the
// store and to a MemState and compares every output both report.
func TestStoreStateMatchesMemState(t *testing.T) {
	s, chain, _ := newTestChain(t)
	mem := ledger.NewMemState()
	keys := []ledger.KeyPair{ledgertest.Key(t, 20), ledgertest.Key(t, 21), ledgertest.Key(t, 22)}
	rng := rand.New(rand.NewPCG(1, 2))
	var all []*ledger.Tx
	type unspent struct {
		tx    *ledger.Tx
		index int
		owner ledger.KeyPair
	}
	split := func(amount uint64, to, owner ledger.KeyPair) []ledger.OutputSpec {
		if amount == 1 {
			return []ledger.OutputSpec{ledger.To(1, to.Public)}
		}
		return []ledger.OutputSpec{ledger.To(1, to.Public), ledger.To(amount-1, owner.Public)}
	}
	var pool []unspent
	for block := range 6 {
		var txs []*ledger.Tx
		for i := range 8 {
			k := keys[rng.IntN(len(keys))]
			if len(pool) == 0 || rng.IntN(2) == 0 {
				tx := ledgertest.Create(t, k, map[string]any{"b": block, "i": i}, nil,
					ledger.To(3, k.Public), ledger.ToThreshold(1, 2, keys[0].Public, keys[1].Public))
				txs = append(txs, tx)
				pool = append(pool, unspent{tx, 0, k})
				continue
			}
			j := rng.IntN(len(pool))
			u := pool[j]
			pool = slices.Delete(pool, j, j+1)
			to := keys[rng.IntN(len(keys))]
			tx := ledgertest.Transfer(t, u.tx, u.index, nil, []ledger.KeyPair{u.owner},
				split(u.tx.Outputs[u.index].Amount, to, u.owner)...)
			txs = append(txs, tx)
			pool = append(pool, unspent{tx, 0, to})
			if len(tx.Outputs) == 2 {
				pool = append(pool, unspent{tx, 1, u.owner})
			}
		}
		for _, c := range chain.Check(txs...) {
			mem.Apply(c)
		}
		chain.Commit(txs...)
		all = append(all, txs...)
	}
	for _, tx := range all {
		for i := range len(tx.Outputs) + 1 {
			ref := ledger.OutputRef{TxID: tx.ID, Index: uint64(i)}
			got, found, err := s.Output(ref)
			want, wantFound, _ := mem.Output(ref)
			if err != nil || found != wantFound || !reflect.DeepEqual(got, want) {
				t.Fatalf("Output(%v)=%+v, %v, %v, want %+v, %v", ref, got, found, err, want, wantFound)
			}
		}
	}
	if _, found, err := s.Output(ledger.OutputRef{TxID: "zz", Index: 0}); found || err != nil {
		t.Fatalf("Output(malformed id)=%v, %v, want not found", found, err)
	}
}

func TestStoreSearch(t *testing.T) {
	s, chain, key := newTestChain(t)
	create := func(data, meta any) *ledger.Tx { return ledgertest.Create(t, key, data, meta) }
	red := create(map[string]any{"name": "red bicycle", "desc": "a fast red bicycle"}, nil)
	blue := create(map[string]any{"name": "blue bicycle"}, map[string]any{"note": "sold in Paris"})
	cafe := create(map[string]any{"name": "Café au lait", "lang": []any{"French", 3}}, nil)
	shoes := create(map[string]any{"name": "running shoes"}, nil)
	chain.Commit(red, blue, cafe, shoes)
	var zebras []*ledger.Tx
	for i := range 3 {
		zebras = append(zebras, create(map[string]any{"name": "zebra", "n": i}, nil))
		chain.Commit(zebras[i])
	}
	moved := ledgertest.Transfer(t, red, 0, map[string]any{"note": "bicycle sold"}, []ledger.KeyPair{key})
	chain.Commit(moved)
	tests := []struct {
		name  string
		query string
		limit int
		want  []*ledger.Tx
	}{
		{"ranked", "bicycle", 0, []*ledger.Tx{red, blue}},
		{"limit after ranking", "bicycle", 1, []*ledger.Tx{red}},
		{"or", "cafe shoes", 0, []*ledger.Tx{shoes, cafe}}, // 1 of 2 words beats 1 of 3
		{"negation", "bicycle -red", 0, []*ledger.Tx{blue}},
		{"phrase", `"fast red" bicycle`, 0, []*ledger.Tx{red}},
		{"negated phrase", `bicycle -"fast red"`, 0, []*ledger.Tx{blue}},
		{"diacritics and case", "CAFE", 0, []*ledger.Tx{cafe}},
		{"stemming", "run", 0, []*ledger.Tx{shoes}},
		{"ties in commit order", "zebra", 0, zebras},
		{"stop word only", "the", 0, nil},
		{"no match", "submarine", 0, nil},
		{"numbers are not indexed", "3", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits, err := s.SearchAssets(tt.query, tt.limit)
			if err != nil {
				t.Fatalf("SearchAssets(%q)=%v", tt.query, err)
			}
			got := make([]string, len(hits))
			for i, h := range hits {
				got[i] = h.ID
			}
			want := make([]string, len(tt.want))
			for i, tx := range tt.want {
				want[i] = tx.ID
				if !reflect.DeepEqual(hits[i].Data, tx.Asset.Data) {
					t.Fatalf("SearchAssets(%q)[%d].Data=%v, want %v", tt.query, i, hits[i].Data, tx.Asset.Data)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("SearchAssets(%q)=%v, want %v", tt.query, got, want)
			}
		})
	}
	hits, err := s.SearchMetadata("sold", 0)
	if err != nil || len(hits) != 2 || hits[0].ID != blue.ID || hits[1].ID != moved.ID {
		t.Fatalf("SearchMetadata(sold)=%v, %v, want [blue, moved]", hits, err)
	}
	if !reflect.DeepEqual(hits[1].Metadata, moved.Metadata) {
		t.Fatalf("SearchMetadata(sold)[1].Metadata=%v, want %v", hits[1].Metadata, moved.Metadata)
	}
	if _, err := s.SearchAssets(strings.Repeat("x", textsearch.MaxQueryBytes+1), 0); !errors.Is(err, textsearch.ErrQueryTooLong) {
		t.Fatalf("SearchAssets(too long)=%v, want ErrQueryTooLong", err)
	}
}

// TestStoreConcurrentReads reads the store from several goroutines while
// blocks are committed (run with -race).
func TestStoreConcurrentReads(t *testing.T) {
	s, chain, key := newTestChain(t)
	txs := ledgertest.Creates(t, key, 40, 400)
	chain.Commit(txs[0])
	stop := make(chan struct{})
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := readTip(s, key); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := 1; i < len(txs); i += 3 {
		chain.Commit(txs[i:min(i+3, len(txs))]...)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// readTip reads the newest block and its transactions as a reader would.
func readTip(s *ledger.Store, key ledger.KeyPair) error {
	b, _, err := s.LatestBlock()
	if err != nil {
		return fmt.Errorf("LatestBlock()=%w", err)
	}
	if b.Height > s.Height() {
		return fmt.Errorf("LatestBlock().Height=%d > Height()=%d", b.Height, s.Height())
	}
	for _, c := range b.Txs {
		id := hex.EncodeToString(c.Hash()[len(c.Hash())-32:])
		if _, h, err := s.Tx(id); err != nil || h != b.Height {
			return fmt.Errorf("Tx(%s)=%d, %w", id, h, err)
		}
	}
	if _, err := s.Outputs(key.PublicBase58(), nil, 5); err != nil {
		return fmt.Errorf("Outputs()=%w", err)
	}
	return nil
}

func TestStoreSearchTooBroad(t *testing.T) {
	s, chain, key := newTestChain(t)
	var txs []*ledger.Tx
	for i := range 4 {
		txs = append(txs, ledgertest.Create(t, key, map[string]any{"name": "bicycle", "n": i}, nil))
	}
	chain.Commit(txs...)
	tests := []struct {
		name         string
		cands, loads int // search bounds
		query        string
		limit        int
		want         int // hits; -1: ErrSearchTooBroad
	}{
		{"more candidates than ranked", 3, 100, "bicycle", 1, -1},
		{"candidates ranked", 4, 100, "bicycle", 1, 1},
		{"hits within the reads", 4, 2, "bicycle", 2, 2},
		{"all hits over the reads", 4, 2, "bicycle", 0, -1},
		{"filtering over the reads", 4, 2, "bicycle -tricycle", 3, -1},
		{"filtering within the reads", 4, 3, "bicycle -tricycle", 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ledger.SetSearchCaps(s, tt.cands, tt.loads)
			hits, err := s.SearchAssets(tt.query, tt.limit)
			if tt.want < 0 {
				if !errors.Is(err, ledger.ErrSearchTooBroad) {
					t.Fatalf("SearchAssets(%q)=%d hits, %v, want ErrSearchTooBroad", tt.query, len(hits), err)
				}
			} else if err != nil || len(hits) != tt.want {
				t.Fatalf("SearchAssets(%q)=%d hits, %v, want %d", tt.query, len(hits), err, tt.want)
			}
		})
	}
}

// TestStoreSearchMatchesScore checks random queries against a brute-force
// search: every committed document scored with textsearch's Query.Score,
// matches sorted by score (ties in commit order), then limited.
func TestStoreSearchMatchesScore(t *testing.T) {
	s, chain, key := newTestChain(t)
	vocab := []string{"red", "reds", "bicycle", "bicycles", "the", "running", "run", "café", "cafe", "blue", "old", "new"}
	rng := rand.New(rand.NewPCG(3, 4))
	phrase := func(n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = vocab[rng.IntN(len(vocab))]
		}
		return strings.Join(w, " ")
	}
	var docs []*ledger.Tx
	for range 4 {
		var block []*ledger.Tx
		for range 15 {
			data := map[string]any{"a": phrase(1 + rng.IntN(6)), "b": []any{phrase(1 + rng.IntN(3)), 7}}
			block = append(block, ledgertest.Create(t, key, data, nil))
		}
		block = append(block, ledgertest.Create(t, key, map[string]any{"a": "red bicycle", "n": len(docs)}, nil))
		chain.Commit(block...)
		docs = append(docs, block...)
	}
	rapid.Check(t, func(rt *rapid.T) {
		words := rapid.SliceOfN(rapid.SampledFrom(vocab), 1, 3).Draw(rt, "words")
		query := strings.Join(words, " ")
		if rapid.Bool().Draw(rt, "negation") {
			query += " -" + rapid.SampledFrom(vocab).Draw(rt, "negated")
		}
		if rapid.Bool().Draw(rt, "phrase") {
			query += ` "` + rapid.SampledFrom(vocab).Draw(rt, "phrase") + ` ` + rapid.SampledFrom(vocab).Draw(rt, "phrase2") + `"`
		}
		limit := rapid.IntRange(0, 5).Draw(rt, "limit")
		hits, err := s.SearchAssets(query, limit)
		if err != nil {
			rt.Fatalf("SearchAssets(%q)=%v", query, err)
		}
		got := make([]string, len(hits))
		for i, h := range hits {
			got[i] = h.ID
		}
		if want := bruteForceSearch(query, limit, docs); !slices.Equal(got, want) {
			rt.Fatalf("SearchAssets(%q, %d)=%v, want %v", query, limit, got, want)
		}
	})
}

// bruteForceSearch scores every document of docs (in commit order) for query.
func bruteForceSearch(query string, limit int, docs []*ledger.Tx) []string {
	q, err := textsearch.ParseQuery(query)
	if err != nil {
		return []string{}
	}
	type hit struct {
		id    string
		score float64
	}
	var hits []hit
	for _, tx := range docs {
		if score, ok := q.Score(tx.Asset.Data); ok {
			hits = append(hits, hit{tx.ID, score})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return cmp.Compare(b.score, a.score) })
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.id
	}
	return out
}
