package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"

	"github.com/ipdb/ipdb-node/ledger/textsearch"
)

// parallelPrepareMin is the block size from which CommitBlock prepares the
// rows of its transactions on every CPU: below it, goroutines cost more
// than they save.
const parallelPrepareMin = 64

func nextStateHash(prev []byte, txs []*CheckedTx) []byte {
	h := sha256.New()
	h.Write(prev)
	for _, c := range txs {
		id := mustParseHexID(c.tx.ID)
		h.Write(id[:])
	}
	return h.Sum(nil)
}

// storeRow is one key and value to write.
type storeRow struct{ k, v []byte }

// txRows are the rows of one transaction and the text terms to post.
type txRows struct {
	id         idBytes // the transaction's id, parsed once
	rows       []storeRow
	assetTerms map[string]float64 // nil: no asset data to index
	metaTerms  map[string]float64 // nil: no metadata
}

func (s *storeImpl) initGenesis(genesis *Block) error {
	if genesis.Height != 0 {
		return fmt.Errorf("%w: genesis block has height %d", ErrChainMismatch, genesis.Height)
	}
	enc, err := genesis.Encode()
	if err != nil {
		return fmt.Errorf("init genesis: %w", err)
	}
	c := BlockCID(enc)
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if tip := s.tip.Load(); tip != nil {
		return s.checkGenesis(c)
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		return setRows(txn, []storeRow{
			{heightKey(prefixBlock, 0), enc},
			{idKeyCID(c), binary.AppendUvarint(nil, 0)},
			{[]byte(keyHeight), binary.BigEndian.AppendUint64(nil, 0)},
			{[]byte(keyFormat), []byte{storeFormat}},
		})
	})
	if err != nil {
		return fmt.Errorf("init genesis: %w", err)
	}
	s.tip.Store(&storeTip{height: 0, cid: c})
	return nil
}

// checkGenesis compares the stored block 0 with the genesis CID c.
func (s *storeImpl) checkGenesis(c cid.Cid) error {
	_, stored, err := s.blockByHeight(0)
	if err != nil {
		return fmt.Errorf("init genesis: %w", err)
	}
	if !stored.Equals(c) {
		return fmt.Errorf("%w: the store holds genesis %s, not %s", ErrChainMismatch, stored, c)
	}
	return nil
}

func idKeyCID(c cid.Cid) []byte { return append([]byte{prefixBlockCID}, c.KeyString()...) }

func (s *storeImpl) commitBlock(b *Block, commit *Commit, txs []*CheckedTx, app AppWrite) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	enc, cenc, err := s.checkNext(b, commit, txs)
	if err != nil {
		return err
	}
	c := BlockCID(enc)
	prepared := prepareRows(b.Height, txs, s.terms)
	// Before the write can be read: the filter must never say a committed
	// id is absent. An id left there by a failed write only costs a
	// lookup.
	for _, r := range prepared {
		s.filter.add(r.id)
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		if err := writeBlock(txn, b.Height, c, enc, cenc, txs, prepared); err != nil {
			return err
		}
		for _, r := range app.Rows {
			if err := txn.Set(append([]byte{prefixAppRow}, r.Key...), r.Value); err != nil {
				return err
			}
		}
		if app.State == nil {
			return nil
		}
		return txn.Set([]byte(keyAppState), app.State)
	})
	if errors.Is(err, badger.ErrTxnTooBig) {
		return fmt.Errorf("commit block %d of %d transactions: too large for one store write (memtable %d bytes): %w",
			b.Height, len(txs), storeMemTableSize, err)
	}
	if err != nil {
		return fmt.Errorf("commit block %d: %w", b.Height, err)
	}
	s.tip.Store(&storeTip{height: b.Height, cid: c, block: b.clone()})
	return nil
}

// checkNext checks that b, with commit and txs, extends the stored chain,
// and returns the block's and the commit's encodings.
func (s *storeImpl) checkNext(b *Block, commit *Commit, txs []*CheckedTx) (enc, cenc []byte, err error) {
	tip := s.tip.Load()
	switch {
	case tip == nil:
		return nil, nil, fmt.Errorf("%w: no genesis block", ErrChainMismatch)
	case b.Height != tip.height+1:
		return nil, nil, fmt.Errorf("%w: block height %d, want %d", ErrChainMismatch, b.Height, tip.height+1)
	case !b.Prev.Equals(tip.cid):
		return nil, nil, fmt.Errorf("%w: block %d prev is %s, want %s", ErrChainMismatch, b.Height, b.Prev, tip.cid)
	case len(txs) != len(b.Txs):
		return nil, nil, fmt.Errorf("%w: block %d lists %d transactions, %d given", ErrChainMismatch, b.Height, len(b.Txs), len(txs))
	}
	for i, c := range txs {
		if !c.tx.CID().Equals(b.Txs[i]) {
			return nil, nil, fmt.Errorf("%w: block %d transaction %d is %s, not %s", ErrChainMismatch, b.Height, i, b.Txs[i], c.tx.CID())
		}
	}
	if enc, err = b.Encode(); err != nil {
		return nil, nil, fmt.Errorf("commit block %d: %w", b.Height, err)
	}
	if commit == nil || commit.Height != b.Height || !commit.Block.Equals(BlockCID(enc)) {
		return nil, nil, fmt.Errorf("%w: block %d: the commit is not for this block", ErrChainMismatch, b.Height)
	}
	if cenc, err = commit.Encode(); err != nil {
		return nil, nil, fmt.Errorf("commit block %d: %w", b.Height, err)
	}
	return enc, cenc, nil
}

// prepareRows builds every transaction's rows, in parallel for large blocks.
func prepareRows(h uint64, txs []*CheckedTx, ix *textsearch.Indexer) []txRows {
	out := make([]txRows, len(txs))
	workers := runtime.GOMAXPROCS(0)
	if len(txs) < parallelPrepareMin || workers == 1 {
		for i, c := range txs {
			out[i] = txRowsOf(h, i, c.tx, ix)
		}
		return out
	}
	var wg sync.WaitGroup
	chunk := (len(txs) + workers - 1) / workers
	for start := 0; start < len(txs); start += chunk {
		end := min(start+chunk, len(txs))
		wg.Go(func() {
			for i := start; i < end; i++ {
				out[i] = txRowsOf(h, i, txs[i].tx, ix)
			}
		})
	}
	wg.Wait()
	return out
}

// txRowsOf returns the rows of tx, at position pos of block h: the
// transaction, its outputs, the owner and asset indexes, and its text terms.
func txRowsOf(h uint64, pos int, tx *Tx, ix *textsearch.Indexer) txRows {
	id := mustParseHexID(tx.ID)
	asset := mustParseHexID(tx.AssetID())
	r := txRows{id: id, rows: make([]storeRow, 0, 2+2*len(tx.Outputs))}
	r.rows = append(r.rows, storeRow{idKey(prefixTx, id), appendTxRecord(nil, h, pos, tx.canonical)})
	for i := range tx.Outputs {
		o := &tx.Outputs[i]
		r.rows = append(r.rows, storeRow{outputKey(id, uint64(i)), appendOutput(nil, id, asset, o)})
		for _, pub := range distinctKeys(o.Details) {
			r.rows = append(r.rows, storeRow{ownerKey(idBytes(pub), h, pos, i), id[:]})
		}
	}
	code, _ := opCode(tx.Operation) // a checked transaction's operation is known
	av := []byte{code}
	if asset != id {
		av = append(av, id[:]...)
	}
	r.rows = append(r.rows, storeRow{assetKey(asset, h, pos), av})
	if tx.IsCreateLike() && tx.Asset.Data != nil {
		r.assetTerms = ix.Terms(tx.Asset.Data)
	}
	if tx.Metadata != nil {
		r.metaTerms = ix.Terms(tx.Metadata)
	}
	return r
}

// writeBlock writes block h (CID c, encoded enc, commit cenc) and its
// transactions' prepared rows in txn.
func writeBlock(txn *badger.Txn, h uint64, c cid.Cid, enc, cenc []byte, txs []*CheckedTx, prepared []txRows) error {
	assetPosts := make(map[string][]posting)
	metaPosts := make(map[string][]posting)
	for pos, r := range prepared {
		if err := setRows(txn, r.rows); err != nil {
			return err
		}
		for t, w := range r.assetTerms {
			assetPosts[t] = append(assetPosts[t], posting{uint16(pos), w})
		}
		for t, w := range r.metaTerms {
			metaPosts[t] = append(metaPosts[t], posting{uint16(pos), w})
		}
	}
	for _, ct := range txs {
		if err := markSpent(txn, ct.tx); err != nil {
			return err
		}
	}
	if err := setPostings(txn, prefixAssetTerm, h, assetPosts); err != nil {
		return err
	}
	if err := setPostings(txn, prefixMetaTerm, h, metaPosts); err != nil {
		return err
	}
	return setRows(txn, []storeRow{
		{heightKey(prefixBlock, h), enc},
		{idKeyCID(c), binary.AppendUvarint(nil, h)},
		{heightKey(prefixCommit, h), cenc},
		{[]byte(keyHeight), binary.BigEndian.AppendUint64(nil, h)},
	})
}

// markSpent sets the spent flag of every output tx spends.
func markSpent(txn *badger.Txn, tx *Tx) error {
	for _, in := range tx.Inputs {
		if in.Fulfills == nil {
			continue
		}
		key := outputKey(mustParseHexID(in.Fulfills.TxID), in.Fulfills.Index)
		rec, err := getCopy(txn, key)
		if err != nil {
			return fmt.Errorf("spend %s: %w", in.Fulfills, err)
		}
		rec[0] |= outputSpent
		if err := txn.Set(key, rec); err != nil {
			return err
		}
	}
	return nil
}

// setPostings writes one posting list per term for block h.
func setPostings(txn *badger.Txn, prefix byte, h uint64, posts map[string][]posting) error {
	for t, ps := range posts {
		if err := txn.Set(termKey(prefix, t, h), appendPostings(nil, ps)); err != nil {
			return err
		}
	}
	return nil
}

func setRows(txn *badger.Txn, rows []storeRow) error {
	for _, r := range rows {
		if err := txn.Set(r.k, r.v); err != nil {
			return err
		}
	}
	return nil
}

func (s *storeImpl) appState() ([]byte, error) { return s.getValue([]byte(keyAppState), "app state") }

func (s *storeImpl) appRow(key []byte) ([]byte, error) {
	return s.getValue(append([]byte{prefixAppRow}, key...), "app row")
}

// getValue returns the value of key, nil when absent; what names it in
// errors.
func (s *storeImpl) getValue(key []byte, what string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}
