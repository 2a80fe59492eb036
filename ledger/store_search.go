package ledger

import (
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"

	"github.com/ipdb/ipdb-node/ledger/textsearch"
)

// Bounds on the work of one text search. MongoDB has none; a search over
// one fails with ErrSearchTooBroad rather than answer partly.
const (
	// MaxSearchCandidates bounds the documents one search ranks: those
	// holding at least one of its terms, read from the postings (about a
	// microsecond each, so a quarter of a second at most).
	MaxSearchCandidates = 250_000

	// MaxSearchLoads bounds the documents one search reads: the hits it
	// returns and, for a query with phrases or negations, the candidates
	// it must tokenize to filter (up to 100 µs each, so about a second).
	MaxSearchLoads = 10_000
)

// ErrSearchTooBroad is returned by SearchAssets and SearchMetadata when a
// search would rank more than MaxSearchCandidates documents or read more
// than MaxSearchLoads: a narrower query or a limit helps.
var ErrSearchTooBroad = errors.New("ledger: search matches too many documents")

// searchHit is one document that matches a search.
type searchHit struct {
	id  idBytes
	doc any
}

// candidate is a document holding a term of the query: its place (block
// height, position in the block) and its score.
type candidate struct {
	height uint64
	pos    int
	score  float64
}

// place identifies a candidate.
type place struct {
	height uint64
	pos    int
}

func (s *storeImpl) searchAssets(query string, limit int) ([]AssetHit, error) {
	hits, err := s.search(prefixAssetTerm, query, limit, assetData)
	if err != nil {
		return nil, err
	}
	out := make([]AssetHit, len(hits))
	for i, h := range hits {
		out[i] = AssetHit{ID: hex.EncodeToString(h.id[:]), Data: h.doc}
	}
	return out, nil
}

func (s *storeImpl) searchMetadata(query string, limit int) ([]MetadataHit, error) {
	hits, err := s.search(prefixMetaTerm, query, limit, metadataOf)
	if err != nil {
		return nil, err
	}
	out := make([]MetadataHit, len(hits))
	for i, h := range hits {
		out[i] = MetadataHit{ID: hex.EncodeToString(h.id[:]), Metadata: h.doc}
	}
	return out, nil
}

func assetData(body map[string]any) any {
	asset, _ := body["asset"].(map[string]any)
	return asset["data"]
}

func metadataOf(body map[string]any) any { return body["metadata"] }

// search runs query over the postings under prefix: candidates are ranked
// by their score summed from the postings' weights (which equals
// textsearch's Query.Score), best first and ties in commit order, then read
// in that order, each document doc(body) kept when Query.Score matches it
// (phrases and negations), until limit hits (0: no limit).
func (s *storeImpl) search(prefix byte, query string, limit int, doc func(map[string]any) any) ([]searchHit, error) {
	q, err := textsearch.ParseQuery(query)
	if errors.Is(err, textsearch.ErrEmptyQuery) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	var hits []searchHit
	err = s.db.View(func(txn *badger.Txn) error {
		cands, err := rankCandidates(txn, prefix, q.IndexTerms(), s.searchCap)
		if err != nil {
			return err
		}
		hits, err = loadHits(txn, q, cands, limit, s.loadCap, doc)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	return hits, nil
}

// rankCandidates returns the documents holding one of terms with their
// scores, best first, ties in commit order; more than limit is an error.
// A score sums the weights in the order of terms, as Query.Score does, so
// that both give the same float64.
func rankCandidates(txn *badger.Txn, prefix byte, terms []string, limit int) ([]candidate, error) {
	scores := make(map[place]float64)
	for _, t := range terms {
		p := termPrefix(prefix, t)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true, PrefetchSize: 64})
		err := addPostings(it, len(p), scores, limit)
		it.Close()
		if err != nil {
			return nil, err
		}
	}
	out := make([]candidate, 0, len(scores))
	for pl, score := range scores {
		out = append(out, candidate{pl.height, pl.pos, score})
	}
	slices.SortFunc(out, func(a, b candidate) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		if c := cmp.Compare(a.height, b.height); c != 0 {
			return c
		}
		return cmp.Compare(a.pos, b.pos)
	})
	return out, nil
}

// addPostings adds to scores the weights listed under one term's prefix (of
// prefixLen bytes), failing when scores grows over limit.
func addPostings(it *badger.Iterator, prefixLen int, scores map[place]float64, limit int) error {
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		if len(item.Key()) != prefixLen+8 {
			return fmt.Errorf("%w: posting key of %d bytes", errCorrupt, len(item.Key()))
		}
		h := keyHeightSuffix(item.Key())
		err := item.Value(func(v []byte) error {
			return readPostings(v, func(pos int, w float64) { scores[place{h, pos}] += w })
		})
		if err != nil {
			return err
		}
		if len(scores) > limit {
			return fmt.Errorf("%w: over %d candidates", ErrSearchTooBroad, limit)
		}
	}
	return nil
}

// loadHits reads the ranked candidates' documents in order and returns
// those q matches, at most limit (0: all). It reads at most maxLoads.
func loadHits(txn *badger.Txn, q textsearch.Query, cands []candidate, limit, maxLoads int, doc func(map[string]any) any) ([]searchHit, error) {
	filter := len(q.Negated)+len(q.Phrases)+len(q.NegatedPhrases) > 0
	blocks := blockTxsCache{txn: txn, txs: make(map[uint64][]cid.Cid)}
	var hits []searchHit
	for i, c := range cands {
		if limit > 0 && len(hits) == limit {
			break
		}
		if i == maxLoads {
			return nil, fmt.Errorf("%w: over %d documents to read", ErrSearchTooBroad, maxLoads)
		}
		id, err := blocks.txID(c)
		if err != nil {
			return nil, err
		}
		body, err := loadTxBody(txn, id)
		if err != nil {
			return nil, err
		}
		d := doc(body)
		if filter {
			if _, ok := q.Score(d); !ok {
				continue
			}
		}
		hits = append(hits, searchHit{id: id, doc: d})
	}
	return hits, nil
}

// loadTxBody reads and decodes a stored transaction.
func loadTxBody(txn *badger.Txn, id idBytes) (map[string]any, error) {
	v, err := getCopy(txn, idKey(prefixTx, id))
	if err != nil {
		return nil, fmt.Errorf("transaction %x: %w", id, err)
	}
	rec, err := decodeTxRecord(v)
	if err != nil {
		return nil, err
	}
	g, err := DecodeJSON(rec.canonical)
	body, ok := g.(map[string]any)
	if err != nil || !ok {
		return nil, fmt.Errorf("%w: transaction %x is not a JSON object", errCorrupt, id)
	}
	return body, nil
}

// blockTxsCache maps places to transaction ids through the blocks' Txs,
// decoding each block once.
type blockTxsCache struct {
	txn *badger.Txn
	txs map[uint64][]cid.Cid
}

func (b *blockTxsCache) txID(c candidate) (idBytes, error) {
	txs, ok := b.txs[c.height]
	if !ok {
		enc, err := getCopy(b.txn, heightKey(prefixBlock, c.height))
		if err != nil {
			return idBytes{}, fmt.Errorf("block %d: %w", c.height, err)
		}
		blk, err := decodeStoredBlock(enc)
		if err != nil {
			return idBytes{}, err
		}
		txs = blk.Txs
		b.txs[c.height] = txs
	}
	if c.pos >= len(txs) {
		return idBytes{}, fmt.Errorf("%w: posting for position %d of block %d", errCorrupt, c.pos, c.height)
	}
	k := txs[c.pos].KeyString() // a tx CID ends with its 32-byte sha3-256 digest, the id
	return idBytes([]byte(k[len(k)-32:])), nil
}
