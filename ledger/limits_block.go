package ledger

import "math"

// Limits on blocks and commits, which arrive from peers and from exported files.
// Each is a protocol safety cap checked by ValidateBasic or by the decoders;
// governance parameters (such as a smaller maximum number of transactions per
// block) are checked elsewhere and can only be lower.
const (
	// MaxChainIDBytes bounds a chain id, as Tendermint's MaxChainIDLen does:
	// it is copied into every block and every precommit's sign bytes.
	MaxChainIDBytes = 50

	// MaxBlockHeight keeps heights within int64, so that IPLD tools (which
	// read DAG-CBOR integers as int64) and int64-based APIs show them exactly.
	MaxBlockHeight uint64 = math.MaxInt64

	// MaxBlockTxs bounds the transactions of one block: each costs a CID in
	// the block (41 bytes) and a state lookup and write when executed.
	MaxBlockTxs = 10_000

	// MaxCommitSigs bounds the signatures of one commit: IPDB's bylaws cap
	// caretakers at 100, and each signature costs an ed25519 check.
	MaxCommitSigs = 256

	// MaxCommitBytes bounds an encoded commit: above the 27,731 bytes of a
	// commit with MaxCommitSigs signatures, so a valid commit never reaches it.
	MaxCommitBytes = 64 << 10

	// MaxBlockTxBytes bounds the canonical bytes of one block's transactions.
	// A block is committed in one Badger transaction, which fails above about
	// 19 MiB with its indexes (measured: 10,000 1-KiB transactions fit); a
	// decided block that cannot be committed would stop the chain.
	MaxBlockTxBytes = 8 << 20

	// MaxBlockBytes bounds an encoded block before it is parsed: above the
	// 447,965 bytes of a block at every other limit, so a valid block never reaches it.
	MaxBlockBytes = 1 << 20

	// maxCBORNesting is the deepest nesting a block needs (block map, commit
	// map, signature array, signature map); fxamacker/cbor accepts no less than 4.
	maxCBORNesting = 4

	// maxCBORMapPairs bounds map sizes before fields are matched; our largest
	// map has 8 fields, and fxamacker/cbor accepts no less than 16.
	maxCBORMapPairs = 16
)
