package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/ristretto/v2/z"
	"github.com/ipfs/go-cid"

	"github.com/ipdb/ipdb-node/ledger/textsearch"
)

// Badger settings. The store keeps every value in the LSM tree (none in the
// value log) so that ZSTD compresses transactions along with their keys, and
// writes each block in one Badger transaction synced to disk.
const (
	// storeMemTableSize bounds one Badger transaction to 15% of it (Badger's
	// rule): 128 MiB admits a block write of about 19 MiB of keys and values
	// (10,000 transactions of 1 KiB with their indexes) and about 200,000
	// entries, at the cost of one 128 MiB arena per memtable.
	storeMemTableSize = 128 << 20

	// storeNumMemtables is the memtables kept in memory (one written, the
	// other being flushed): two let a block be written while the previous
	// memtable is flushed and bound their memory to about 2 x 170 MiB (an
	// arena holds a memtable and one maximal transaction).
	storeNumMemtables = 2

	// storeValueThreshold keeps every value smaller than 1 MiB (Badger's
	// maximum) in the LSM tree, where it is compressed: transactions are at
	// most MaxTxBytes and blocks at most MaxBlockBytes.
	storeValueThreshold = 1 << 20

	// storeValueLogFileSize is small because the value log only holds values
	// of 1 MiB or more: at most a block of MaxBlockBytes.
	storeValueLogFileSize = 64 << 20

	// storeBlockSize is the SSTable block size: 16 KiB blocks hold a dozen
	// transactions, which ZSTD compresses better than the 4 KiB default,
	// for a little more work per random read.
	storeBlockSize = 16 << 10

	// storeZSTDLevel is ZSTD's fastest level: it already stores 1 KiB
	// transactions with all their indexes in about 0.55 of their canonical
	// bytes, so higher levels would spend CPU for little.
	storeZSTDLevel = 1

	// storeBlockCacheSize caches decompressed SSTable blocks (Badger needs
	// one when compression is on); reads of hot state hit it.
	storeBlockCacheSize = 256 << 20
)

// ErrChainMismatch is returned by CommitBlock for a block that does not
// extend the stored chain (wrong height, previous block, commit or
// transactions), and by InitGenesis for a store holding another genesis.
var ErrChainMismatch = errors.New("ledger: block does not extend the stored chain")

// ErrStoreFormat is returned by OpenStore for a directory written with
// another key layout.
var ErrStoreFormat = errors.New("ledger: unknown store format")

// storeImpl is the Badger store behind Store.
type storeImpl struct {
	db  *badger.DB
	log *slog.Logger
	// searchCap and loadCap bound one search: MaxSearchCandidates and
	// MaxSearchLoads (lowered by tests).
	searchCap, loadCap int
	// terms computes text-search postings with a memo of stems.
	terms *textsearch.Indexer
	// writeMu serialises InitGenesis and CommitBlock.
	writeMu sync.Mutex
	// tip is the newest committed block; nil before InitGenesis. CommitBlock
	// replaces it after each durable write, readers load it.
	tip atomic.Pointer[storeTip]
	// filter holds every committed transaction id once filled: fill reads
	// the stored ones in the background from open (HasTx asks Badger
	// until then), CommitBlock adds each block's before writing it.
	filter   *txFilter
	stopFill context.CancelFunc
	filled   chan struct{} // closed when fill returns
}

// storeTip is the newest committed block's height and CID, and the block
// itself when it was committed by this process (nil after opening: it is
// then read from the store), so that LatestBlock, asked for several times
// a height, need not read and decode it each time. block is never handed
// out, only copies of it.
type storeTip struct {
	height uint64
	cid    cid.Cid
	block  *Block
}

func openStore(dir string, opts StoreOptions) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := openBadger(dir, log)
	if err != nil {
		return nil, fmt.Errorf("open ledger store %s: %w", dir, err)
	}
	s := &storeImpl{db: db, log: log, searchCap: MaxSearchCandidates, loadCap: MaxSearchLoads, terms: textsearch.NewIndexer()}
	if err := s.loadTip(); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	s.filter, s.filled = newTxFilter(txFilterFirstIDs), make(chan struct{})
	ctx, stop := context.WithCancel(context.Background())
	s.stopFill = stop
	go s.fill(ctx)
	log.Info("ledger store opened", "dir", dir, "height", s.height())
	return &Store{impl: s}, nil
}

// fill adds every stored transaction id to s.filter, then makes it ready;
// it gives up, leaving the filter unused, when ctx ends or a read fails.
// Keys alone are wanted, but Badger keeps a transaction's bytes in the
// same table blocks, so this reads the chain once: about a second per
// million transactions, while the node runs.
func (s *storeImpl) fill(ctx context.Context) {
	defer close(s.filled)
	began, n := time.Now(), 0
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixTx}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if n%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			var id idBytes
			if k := it.Item().Key(); len(k) == 1+len(id) {
				copy(id[:], k[1:])
				s.filter.add(id)
				n++
			}
		}
		return nil
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("ledger store: reading transaction ids failed; lookups of new ids go to disk", "err", err)
		}
		return
	}
	s.filter.ready.Store(true)
	s.log.Debug("ledger store: transaction id filter filled", "txs", n, "seconds", time.Since(began).Seconds())
}

// openBadger opens Badger on dir. Badger's Open creates a new value log
// file each time; if the process dies before the file's header is written,
// the next Open fails on the empty file ("Open existing file ... Create a
// new file", z.NewFile's message, not wrapped), but only after writing that
// header. openBadger then tries once more, which succeeds.
func openBadger(dir string, log *slog.Logger) (*badger.DB, error) {
	db, err := badger.Open(badgerOptions(dir, log))
	if err == nil || !strings.Contains(err.Error(), z.NewFile.Error()) {
		return db, err
	}
	log.Warn("reopening the ledger store after an interrupted open", "err", err)
	return badger.Open(badgerOptions(dir, log))
}

func badgerOptions(dir string, log *slog.Logger) badger.Options {
	return badger.DefaultOptions(dir).
		WithLogger(badgerLogger{log}).
		// A committed block must survive power loss, not only a crash of the
		// process (which Badger survives without SyncWrites): each block's
		// write is synced to disk before CommitBlock returns.
		WithSyncWrites(true).
		WithCompression(options.ZSTD).
		WithZSTDCompressionLevel(storeZSTDLevel).
		WithValueThreshold(storeValueThreshold).
		WithValueLogFileSize(storeValueLogFileSize).
		WithMemTableSize(storeMemTableSize).
		WithNumMemtables(storeNumMemtables).
		WithBlockSize(storeBlockSize).
		WithBlockCacheSize(storeBlockCacheSize).
		WithDetectConflicts(false). // CommitBlock calls are serialised
		WithMetricsEnabled(false)
}

// loadTip reads the newest block's height and CID, checking the layout.
func (s *storeImpl) loadTip() error {
	return s.db.View(func(txn *badger.Txn) error {
		if err := checkFormat(txn); err != nil {
			return err
		}
		v, err := getCopy(txn, []byte(keyHeight))
		if errors.Is(err, ErrNotFound) {
			return nil // empty store
		}
		if err != nil {
			return err
		}
		h, err := decodeHeight(v)
		if err != nil {
			return err
		}
		enc, err := getCopy(txn, heightKey(prefixBlock, h))
		if err != nil {
			return fmt.Errorf("newest block %d: %w", h, err)
		}
		s.tip.Store(&storeTip{height: h, cid: BlockCID(enc)})
		return nil
	})
}

func checkFormat(txn *badger.Txn) error {
	v, err := getCopy(txn, []byte(keyFormat))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(v, []byte{storeFormat}) {
		return fmt.Errorf("%w: version %x, want %d", ErrStoreFormat, v, storeFormat)
	}
	return nil
}

func (s *storeImpl) close() error {
	s.stopFill()
	<-s.filled
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close ledger store: %w", err)
	}
	return nil
}

func (s *storeImpl) height() uint64 {
	if t := s.tip.Load(); t != nil {
		return t.height
	}
	return 0
}

// getCopy returns a copy of the value of key, or ErrNotFound.
func getCopy(txn *badger.Txn, key []byte) ([]byte, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", key[:1], err)
	}
	return item.ValueCopy(nil)
}

// hasKey reports whether key is stored.
func hasKey(txn *badger.Txn, key []byte) (bool, error) {
	_, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %q: %w", key[:1], err)
	}
	return true, nil
}

// badgerLogger sends Badger's logs to a slog.Logger. Badger's Info lines
// (table opening, compactions, flushes) go at Debug: they are routine.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.log(slog.LevelError, f, a) }
func (b badgerLogger) Warningf(f string, a ...any) { b.log(slog.LevelWarn, f, a) }
func (b badgerLogger) Infof(f string, a ...any)    { b.log(slog.LevelDebug, f, a) }
func (b badgerLogger) Debugf(f string, a ...any)   { b.log(slog.LevelDebug, f, a) }

func (b badgerLogger) log(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if !b.l.Enabled(ctx, level) {
		return
	}
	b.l.Log(ctx, level, strings.TrimSpace(fmt.Sprintf(format, args...)), "component", "badger")
}
