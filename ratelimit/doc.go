// Package ratelimit is ipdb-node's consensus-level free tier and quotas
// (issue 8): per signing public key, a free allowance of
// free_tier_txs_per_epoch transactions and free_tier_bytes_per_epoch bytes
// in each epoch of epoch_blocks blocks, and above it quota granted by a
// governance election or bought with the network's fee asset. It is pure
// and deterministic: no goroutines, clock, randomness, I/O or logging, so
// every node reaches the same verdicts.
//
// # Accounting
//
// Heights 1..epoch_blocks are epoch 0; Epoch(h) = (h-1)/epoch_blocks. Each
// distinct key among a transaction's owners_before is charged the whole
// transaction: one transaction and its canonical bytes. A key's allowance
// in an epoch at height h is
//
//	txs   = free_tier_txs_per_epoch   + granted txs at h   + bought txs
//	bytes = free_tier_bytes_per_epoch + granted bytes at h + bought txs * max_tx_bytes
//
// where the grant is the governance quota in force at h (so a revoke takes
// effect from its height; what was used stays used) and bought txs are
// those the key paid for in this epoch. A charge is all or nothing: when
// any key would pass its allowance, nothing is charged and the error
// (Kind ErrQuotaExceeded) names the first such key in sorted order.
//
// A fee payment (a TRANSFER of the fee asset with an output whose only key
// is the treasury, not signed by the treasury) is never charged; it buys
// floor(amount to the treasury / fee_per_tx) transactions for its single
// signer in the current epoch. Elections and VOTEs are never charged:
// governance has its own limits.
//
// # Using it
//
// For each block at height h, with the parameters in force at h, the node
// makes a Tracker over the usage rows earlier blocks stored (Committed),
// calls Charge for every transaction after ledger.Batch.Add accepts it,
// and writes Changes() under RowKey in the block's atomic write
// (ledger.AppWrite.Rows). A block whose transaction Charge refuses is
// invalid. The backlog keeps its own Tracker at the next height for
// pending transactions and refuses (HTTP 429) what Charge refuses; the
// quota endpoint shows Tracker.Account. A Tracker reads each key's
// committed row once, so the backlog makes a new one after every
// committed block. NewPurchase builds a fee payment.
package ratelimit
