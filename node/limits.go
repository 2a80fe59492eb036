package node

import (
	"time"

	"github.com/ipdb/ipdb-node/ledger"
)

// Limits on what peers send: consensus messages, transaction batches, block
// sync and missing-transaction requests. Each is a protocol safety cap
// checked before anything else is done with the bytes.
const (
	// MaxVoteBytes bounds an encoded vote: six fields, a 36-byte CID, a
	// 32-byte key and a 64-byte signature take under 200 bytes.
	MaxVoteBytes = 512

	// MaxProposalBytes bounds an encoded proposal: the largest gossip
	// message p2p carries. A valid block header is under 448 KB (ledger's
	// limits), so every valid proposal fits.
	MaxProposalBytes = 1 << 20

	// MaxGossipBatch bounds the transactions of one gossip batch: a batch is
	// verified as one unit, so its cost must stay small.
	MaxGossipBatch = 256

	// MaxGossipBatchBytes bounds an encoded gossip batch: MaxGossipBatch
	// transactions of 4 KiB, or fewer larger ones (one of ledger.MaxTxBytes
	// always fits).
	MaxGossipBatchBytes = 1 << 20

	// MaxFetchTxs bounds the transaction ids of one missing-transaction
	// request: a whole block's worth.
	MaxFetchTxs = ledger.MaxBlockTxs

	// MaxFetchRequestBytes bounds an encoded missing-transaction request:
	// MaxFetchTxs ids of 32 bytes plus CBOR heads.
	MaxFetchRequestBytes = MaxFetchTxs*35 + 16

	// MaxFetchResponseBytes bounds a missing-transaction answer: the
	// transactions of one block (ledger.MaxBlockTxBytes) plus CBOR heads.
	MaxFetchResponseBytes = ledger.MaxBlockTxBytes + MaxFetchTxs*8 + 16

	// MaxSyncBlocks bounds the blocks of one block-sync answer.
	MaxSyncBlocks = 64

	// MaxSyncRequestBytes bounds an encoded block-sync request: two integers.
	MaxSyncRequestBytes = 64

	// SyncSoftBytes is where a block-sync server stops adding blocks to an
	// answer (it always sends at least one): a few full blocks per stream.
	SyncSoftBytes = 8 << 20

	// MaxSyncResponseBytes bounds an encoded block-sync answer: SyncSoftBytes
	// plus one more block at its limits (header, commit, transactions).
	MaxSyncResponseBytes = SyncSoftBytes + ledger.MaxBlockBytes + ledger.MaxCommitBytes + ledger.MaxBlockTxBytes + MaxFetchTxs*8 + 1024

	// MaxWALRecordBytes bounds one write-ahead-log record: our own largest
	// message, a proposal.
	MaxWALRecordBytes = MaxProposalBytes + 16

	// maxFutureHeights is how far above our height a vote or proposal may be
	// and still be passed to the machine rather than ignored: one height
	// ahead happens when a peer commits slightly before us.
	maxFutureHeights = 1

	// maxBlockSkew bounds how far in the future a proposed block's time may
	// be compared with our clock: proposers' clocks differ a little.
	maxBlockSkew = 30 * time.Second

	// engineInbox bounds the messages waiting for the consensus loop; a
	// handler blocks when it is full (backpressure on gossip).
	engineInbox = 1024

	// evidenceMaxAge is how many heights evidence is kept waiting for a
	// block of ours to carry it.
	evidenceMaxAge = 100

	// maxCandidates bounds the proposed blocks kept in memory for one
	// height: a byzantine proposer can make at most one per round.
	maxCandidates = 64
)
