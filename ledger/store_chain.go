package ledger

import (
	"crypto/sha3"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

func (s *storeImpl) latestBlock() (*Block, cid.Cid, error) {
	tip := s.tip.Load()
	if tip == nil {
		return nil, cid.Undef, fmt.Errorf("latest block: %w", ErrNotFound)
	}
	if tip.block != nil {
		return tip.block.clone(), tip.cid, nil
	}
	return s.blockByHeight(tip.height)
}

func (s *storeImpl) blockByHeight(h uint64) (*Block, cid.Cid, error) {
	var enc []byte
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		enc, err = getCopy(txn, heightKey(prefixBlock, h))
		return err
	})
	if err != nil {
		return nil, cid.Undef, fmt.Errorf("block %d: %w", h, err)
	}
	b, err := decodeStoredBlock(enc)
	if err != nil {
		return nil, cid.Undef, fmt.Errorf("block %d: %w", h, err)
	}
	return b, BlockCID(enc), nil
}

func (s *storeImpl) blockByCID(c cid.Cid) (*Block, error) {
	var enc []byte
	err := s.db.View(func(txn *badger.Txn) error {
		v, err := getCopy(txn, idKeyCID(c))
		if err != nil {
			return err
		}
		h, n := binary.Uvarint(v)
		if n != len(v) {
			return fmt.Errorf("%w: height of block %s", errCorrupt, c)
		}
		enc, err = getCopy(txn, heightKey(prefixBlock, h))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("block %s: %w", c, err)
	}
	return decodeStoredBlock(enc)
}

// decodeStoredBlock decodes a block the store wrote.
func decodeStoredBlock(enc []byte) (*Block, error) {
	b, err := DecodeBlock(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	return b, nil
}

func (s *storeImpl) commit(h uint64) (*Commit, error) {
	var enc []byte
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		enc, err = getCopy(txn, heightKey(prefixCommit, h))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("commit %d: %w", h, err)
	}
	c, err := DecodeCommit(enc)
	if err != nil {
		return nil, fmt.Errorf("commit %d: %w: %w", h, errCorrupt, err)
	}
	return c, nil
}

// walk reads one snapshot: the blocks from the newest down, then every
// transaction in id order. A transaction's data is what its CID addresses,
// the canonical JSON with "id" null (see contentBytes), so that each CAR
// section verifies against its CID; Tx gives the bytes with the id.
func (s *storeImpl) walk(fn func(c cid.Cid, data []byte) error) error {
	tip := s.tip.Load()
	if tip == nil {
		return nil
	}
	return s.db.View(func(txn *badger.Txn) error {
		for h := tip.height; ; h-- {
			enc, err := getCopy(txn, heightKey(prefixBlock, h))
			if err != nil {
				return fmt.Errorf("walk block %d: %w", h, err)
			}
			if err := fn(BlockCID(enc), enc); err != nil {
				return err
			}
			if h == 0 {
				break
			}
		}
		return walkTxs(txn, fn)
	})
}

func walkTxs(txn *badger.Txn, fn func(c cid.Cid, data []byte) error) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixTx}, PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		k := item.Key()
		if len(k) != 33 {
			return fmt.Errorf("%w: transaction key of %d bytes", errCorrupt, len(k))
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("walk transactions: %w", err)
		}
		rec, err := decodeTxRecord(v)
		if err != nil {
			return err
		}
		id := idBytes(k[1:])
		data, err := contentBytes(rec.canonical, id)
		if err != nil {
			return err
		}
		if err := fn(TxCID(id), data); err != nil {
			return err
		}
	}
	return nil
}

// contentBytes returns the bytes a transaction's CID addresses: its canonical
// JSON with "id" null, whose SHA3-256 is the id (BigchainDB spec v2.0, "The
// Transaction ID"). The stored canonical bytes carry the id itself, so they
// do not hash to it.
func contentBytes(canonical []byte, id idBytes) ([]byte, error) {
	v, err := DecodeJSON(canonical)
	body, ok := v.(map[string]any)
	if err != nil || !ok {
		return nil, fmt.Errorf("%w: transaction %x is not a JSON object", errCorrupt, id)
	}
	body["id"] = nil
	data := AppendCanonical(nil, body)
	if sha3.Sum256(data) != id {
		return nil, fmt.Errorf("%w: transaction %x does not hash to its id", errCorrupt, id)
	}
	return data, nil
}

// size sums the disk space the store's files take (allocated blocks where
// the platform reports them: Badger preallocates sparse files).
func (s *storeImpl) size() (int64, error) {
	var total int64
	err := filepath.WalkDir(s.db.Opts().Dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed by a compaction meanwhile
		}
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		total += diskUsage(info)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store size: %w", err)
	}
	return total, nil
}
