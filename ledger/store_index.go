package ledger

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
	"github.com/mr-tron/base58"
)

func (s *storeImpl) tx(id string) ([]byte, uint64, error) {
	tid, ok := parseHexID(id)
	if !ok {
		return nil, 0, fmt.Errorf("transaction %q: %w", id, ErrNotFound)
	}
	var rec txRecord
	err := s.db.View(func(txn *badger.Txn) error {
		v, err := getCopy(txn, idKey(prefixTx, tid))
		if err != nil {
			return err
		}
		rec, err = decodeTxRecord(v)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("transaction %s: %w", id, err)
	}
	return rec.canonical, rec.height, nil
}

func (s *storeImpl) blockTxs(b *Block) ([][]byte, error) {
	out := make([][]byte, len(b.Txs))
	key := make([]byte, 0, 1+len(idBytes{}))
	read := func(txn *badger.Txn, c cid.Cid) ([]byte, error) {
		d, err := txCIDDigest(c)
		if err != nil {
			return nil, err
		}
		key = append(append(key[:0], prefixTx), d...)
		v, err := getCopy(txn, key)
		if err != nil {
			return nil, err
		}
		rec, err := decodeTxRecord(v)
		return rec.canonical, err
	}
	err := s.db.View(func(txn *badger.Txn) error {
		for i, c := range b.Txs {
			var err error
			if out[i], err = read(txn, c); err != nil {
				return fmt.Errorf("block %d transaction %d: %w", b.Height, i, err)
			}
		}
		return nil
	})
	return out, err
}

func (s *storeImpl) hasTx(id string) (bool, error) {
	tid, ok := parseHexID(id)
	if !ok || s.filter.committedAbsent(tid) {
		return false, nil
	}
	var found bool
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		found, err = hasKey(txn, idKey(prefixTx, tid))
		return err
	})
	return found, err
}

func (s *storeImpl) output(ref OutputRef) (StoredOutput, bool, error) {
	tid, ok := parseHexID(ref.TxID)
	if !ok || ref.Index >= MaxOutputs {
		return StoredOutput{}, false, nil
	}
	var out StoredOutput
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(outputKey(tid, ref.Index))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			out, err = decodeOutput(v, tid)
			return err
		})
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return StoredOutput{}, false, nil
	}
	if err != nil {
		return StoredOutput{}, false, fmt.Errorf("output %s: %w", ref, err)
	}
	return out, true, nil
}

func (s *storeImpl) blocksWithTx(id string) ([]uint64, error) {
	_, h, err := s.tx(id)
	if errors.Is(err, ErrNotFound) {
		return []uint64{}, nil
	}
	if err != nil {
		return nil, err
	}
	return []uint64{h}, nil
}

// reverseSeekSuffix sorts after every key suffix of the asset index.
const reverseSeekSuffix = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"

func (s *storeImpl) txsByAsset(assetID, op string, last bool, limit int) ([][]byte, error) {
	asset, ok := parseHexID(assetID)
	code, known := opCode(op)
	if !ok || (op != "" && !known) {
		return [][]byte{}, nil
	}
	if last {
		limit = 1
	}
	out := [][]byte{}
	err := s.db.View(func(txn *badger.Txn) error {
		ids, err := assetTxIDs(txn, asset, code, last, limit)
		if err != nil {
			return err
		}
		for _, id := range ids {
			v, err := getCopy(txn, idKey(prefixTx, id))
			if err != nil {
				return fmt.Errorf("transaction %x of asset %s: %w", id, assetID, err)
			}
			rec, err := decodeTxRecord(v)
			if err != nil {
				return err
			}
			out = append(out, rec.canonical)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("transactions of asset %s: %w", assetID, err)
	}
	return out, nil
}

// assetTxIDs returns the ids of the asset's transactions of operation code
// (0: any) in commit order, or newest first when reverse, at most limit
// (0: no limit).
func assetTxIDs(txn *badger.Txn, asset idBytes, code byte, reverse bool, limit int) ([]idBytes, error) {
	prefix := idKey(prefixAsset, asset)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: reverse})
	defer it.Close()
	seek := prefix
	if reverse {
		seek = append(prefix[:len(prefix):len(prefix)], reverseSeekSuffix...)
	}
	var ids []idBytes
	for it.Seek(seek); it.Valid() && (limit <= 0 || len(ids) < limit); it.Next() {
		id, op, err := assetRow(it.Item(), asset)
		if err != nil {
			return nil, err
		}
		if code == 0 || op == code {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// assetRow reads a row of the asset index: the transaction id and operation.
func assetRow(item *badger.Item, asset idBytes) (id idBytes, op byte, err error) {
	err = item.Value(func(v []byte) error {
		switch len(v) {
		case 1:
			id = asset
		case 1 + len(id):
			id = idBytes(v[1:])
		default:
			return fmt.Errorf("%w: asset index row of %d bytes", errCorrupt, len(v))
		}
		op = v[0]
		return nil
	})
	return id, op, err
}

func (s *storeImpl) outputs(pub string, spent *bool, limit int) ([]OutputRef, error) {
	key, err := base58.Decode(pub)
	if err != nil || len(key) != len(idBytes{}) {
		return []OutputRef{}, nil
	}
	out := []OutputRef{}
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: idKey(prefixOwner, idBytes(key))})
		defer it.Close()
		for it.Rewind(); it.Valid() && (limit <= 0 || len(out) < limit); it.Next() {
			ref, keep, err := ownerRow(txn, it.Item(), spent)
			if err != nil {
				return err
			}
			if keep {
				out = append(out, ref)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outputs of %s: %w", pub, err)
	}
	return out, nil
}

// ownerRow reads a row of the owner index and reports whether its output
// passes the spent filter (nil: any).
func ownerRow(txn *badger.Txn, item *badger.Item, spent *bool) (OutputRef, bool, error) {
	k := item.Key()
	var id idBytes
	err := item.Value(func(v []byte) error {
		if len(v) != len(id) {
			return fmt.Errorf("%w: owner index row of %d bytes", errCorrupt, len(v))
		}
		id = idBytes(v)
		return nil
	})
	if err != nil {
		return OutputRef{}, false, err
	}
	index := uint64(binary.BigEndian.Uint16(k[len(k)-2:]))
	ref := OutputRef{TxID: hex.EncodeToString(id[:]), Index: index}
	if spent == nil {
		return ref, true, nil
	}
	rec, err := getCopy(txn, outputKey(id, index))
	if err != nil {
		return OutputRef{}, false, fmt.Errorf("output %s: %w", ref, err)
	}
	return ref, (rec[0]&outputSpent != 0) == *spent, nil
}
