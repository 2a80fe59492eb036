package ledger

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/ipfs/go-cid"
)

// ErrNotFound is returned by Store lookups for a block, transaction or
// commit that is not stored.
var ErrNotFound = errors.New("ledger: not found")

// StoreOptions configures a Store.
type StoreOptions struct {
	// Logger receives Badger's and the store's logs; nil discards them.
	Logger *slog.Logger
}

// Store is the node's ledger on disk (Badger): blocks by height and CID,
// commits, transactions by id, outputs spent and unspent, and the indexes the
// HTTP API reads (by asset, by owner, text search over asset data and
// metadata). Each block is committed in one atomic write, synced to disk
// before CommitBlock returns. Store implements State over the committed
// ledger. All methods are safe for concurrent use; CommitBlock calls must be
// serialised.
type Store struct {
	impl *storeImpl
}

// AssetHit is one result of SearchAssets.
type AssetHit struct {
	ID   string // the CREATE transaction's id
	Data any    // the asset data (generic JSON value)
}

// MetadataHit is one result of SearchMetadata.
type MetadataHit struct {
	ID       string // the transaction's id
	Metadata any    // the metadata (generic JSON value)
}

// OpenStore opens (creating if needed) the store in dir.
func OpenStore(dir string, opts StoreOptions) (*Store, error) { return openStore(dir, opts) }

// Close closes the store; it is safe to call once all other calls returned.
func (s *Store) Close() error { return s.impl.close() }

// InitGenesis stores genesis as block 0 if the store is empty, and checks that
// the stored block 0 is genesis otherwise (error naming both CIDs).
func (s *Store) InitGenesis(genesis *Block) error { return s.impl.initGenesis(genesis) }

// Height returns the height of the newest committed block (0: only genesis).
func (s *Store) Height() uint64 { return s.impl.height() }

// LatestBlock returns the newest committed block and its CID.
func (s *Store) LatestBlock() (*Block, cid.Cid, error) { return s.impl.latestBlock() }

// BlockByHeight returns a committed block and its CID, or ErrNotFound.
func (s *Store) BlockByHeight(h uint64) (*Block, cid.Cid, error) { return s.impl.blockByHeight(h) }

// BlockByCID returns a committed block by CID, or ErrNotFound.
func (s *Store) BlockByCID(c cid.Cid) (*Block, error) { return s.impl.blockByCID(c) }

// Commit returns the commit that made block h final, or ErrNotFound.
func (s *Store) Commit(h uint64) (*Commit, error) { return s.impl.commit(h) }

// Tx returns a committed transaction's canonical bytes and the height of its
// block, or ErrNotFound. The caller may keep the returned slice.
func (s *Store) Tx(id string) ([]byte, uint64, error) { return s.impl.tx(id) }

// BlockTxs returns the canonical bytes of the transactions of stored block
// b, in block order, read in one snapshot: a block-sync server reads 1,000
// at a time.
func (s *Store) BlockTxs(b *Block) ([][]byte, error) { return s.impl.blockTxs(b) }

// TxsByAsset returns the canonical bytes of the committed transactions of an
// asset, in commit order: its CREATE (unless op is OpTransfer) and its
// TRANSFERs (unless op is OpCreate); op "" means both. With last, only the
// newest one. At most limit results (0: no limit).
func (s *Store) TxsByAsset(assetID, op string, last bool, limit int) ([][]byte, error) {
	return s.impl.txsByAsset(assetID, op, last, limit)
}

// Outputs returns the outputs whose condition holds the base58 key pub, in
// commit order: all of them when spent is nil, else only the spent or unspent.
// At most limit results (0: no limit).
func (s *Store) Outputs(pub string, spent *bool, limit int) ([]OutputRef, error) {
	return s.impl.outputs(pub, spent, limit)
}

// BlocksWithTx returns the heights of the blocks holding the transaction
// (one at most; empty when it is not committed).
func (s *Store) BlocksWithTx(id string) ([]uint64, error) { return s.impl.blocksWithTx(id) }

// SearchAssets runs a MongoDB-style text search (package textsearch) over
// the asset data of committed CREATEs, best match first, at most limit
// results (0: no limit).
func (s *Store) SearchAssets(query string, limit int) ([]AssetHit, error) {
	return s.impl.searchAssets(query, limit)
}

// SearchMetadata runs the same search over committed transactions' metadata.
func (s *Store) SearchMetadata(query string, limit int) ([]MetadataHit, error) {
	return s.impl.searchMetadata(query, limit)
}

// HasTx implements State over the committed ledger.
func (s *Store) HasTx(id string) (bool, error) { return s.impl.hasTx(id) }

// Output implements State over the committed ledger.
func (s *Store) Output(ref OutputRef) (StoredOutput, bool, error) { return s.impl.output(ref) }

// CommitBlock executes block b (whose Txs are exactly the ids of txs, in
// order) with the commit that made it final, in one atomic write synced to
// disk: the block by height and CID, the commit, the transactions, spent and
// new outputs, and every index. b.Height must be Height()+1 and b.Prev the
// newest block's CID. Calls must be serialised.
func (s *Store) CommitBlock(b *Block, commit *Commit, txs []*CheckedTx) error {
	return s.impl.commitBlock(b, commit, txs, AppWrite{})
}

// CommitBlockState is CommitBlock that also replaces the application state
// (AppState) with appState in the same atomic write, so that a state derived
// from the blocks (governance's) is never ahead of or behind them, kill -9
// included. A nil appState leaves the stored one as it is.
func (s *Store) CommitBlockState(b *Block, commit *Commit, txs []*CheckedTx, appState []byte) error {
	return s.impl.commitBlock(b, commit, txs, AppWrite{State: appState})
}

// AppWrite is what an application writes with a block: its state (nil:
// unchanged) and rows of its own (the ratelimit usage), each replacing the
// row of its key.
type AppWrite struct {
	State []byte
	Rows  []AppRow
}

// AppRow is one application row; Key is at most MaxAppRowKey bytes.
type AppRow struct {
	Key, Value []byte
}

// MaxAppRowKey bounds an application row's key: a public key and an
// epoch fit many times over.
const MaxAppRowKey = 256

// CommitBlockApp is CommitBlock that also writes w in the same atomic
// write, so that what the application derives from the blocks is never
// ahead of or behind them, kill -9 included.
func (s *Store) CommitBlockApp(b *Block, commit *Commit, txs []*CheckedTx, w AppWrite) error {
	for _, r := range w.Rows {
		if len(r.Key) == 0 || len(r.Key) > MaxAppRowKey {
			return fmt.Errorf("ledger: application row key of %d bytes, want 1 to %d", len(r.Key), MaxAppRowKey)
		}
	}
	return s.impl.commitBlock(b, commit, txs, w)
}

// AppRow returns the application row of key; nil (and no error) when none
// was written.
func (s *Store) AppRow(key []byte) ([]byte, error) { return s.impl.appRow(key) }

// AppState returns the application state last written by
// CommitBlockState; nil (and no error) when none was ever written.
func (s *Store) AppState() ([]byte, error) { return s.impl.appState() }

// Walk calls fn for every block from the newest back to genesis, then for
// every transaction, with its CID and encoded bytes (for CAR export). It
// stops at fn's first error and returns it.
func (s *Store) Walk(fn func(c cid.Cid, data []byte) error) error { return s.impl.walk(fn) }

// Size returns the bytes the store uses on disk.
func (s *Store) Size() (int64, error) { return s.impl.size() }

// NextStateHash returns the state hash after executing txs on a state whose
// hash is prev: SHA-256 over prev and each transaction's id in order. The
// execution of a block is a function of its transactions, so this chains
// every block's effects.
func NextStateHash(prev []byte, txs []*CheckedTx) []byte { return nextStateHash(prev, txs) }
