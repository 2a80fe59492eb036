// Package node runs an ipdb-node: it wires the ledger store, the backlog of
// pending transactions, the block producer, the event fan-out, metrics and
// the BigchainDB-compatible HTTP API into one process.
//
// Use:
//
//	cfg, err := node.ParseConfig(tomlBytes) // or node.DefaultConfig()
//	n, err := node.New(node.Options{Config: cfg, DataDir: dir, Genesis: doc, Key: key, Logger: log})
//	err = n.Run(ctx) // until ctx is done; the node is closed when Run returns
//
// # A transaction's way through the node
//
// The HTTP handler decodes and verifies a posted transaction (ledger.Verify:
// schema, id, signatures; the expensive part, in the request's goroutine),
// then calls Node.Submit. Submit admits it to the backlog, which checks it
// against the committed ledger plus the pending transactions under the
// backlog's lock: a pending CREATE can be spent by a later TRANSFER, and an
// output already spent by a pending transaction refuses a second spender at
// once (DoubleSpend). The producer reaps pending transactions in arrival
// order, checks them again in a ledger.Batch over the store, builds and
// signs a block, and commits it to the store; only then are they removed
// from the backlog, published to stream subscribers and their mode=commit
// submitters released. Blocks are cut when block.max_txs are pending or
// block.interval has passed since the oldest pending transaction arrived;
// there are no empty blocks.
//
// # Federation
//
// A network of one caretaker uses the solo engine above. With several
// caretakers (or on a follower) the BFT engine (bftEngine) runs the
// federation package's Tendermint machine over the p2p host instead:
// proposals carry the block header and its transaction CIDs, peers fetch
// the transactions they lack from the proposer ("txs" requests), verify the
// block (header, stateless check, ledger batch, state hash), and vote;
// precommits are signed over ledger.CommitSignBytes, so the decided
// precommits become the block's commit. Our own proposals and votes are
// appended to the consensus WAL (consensus.wal in the data directory) and
// fsynced before they are published; after a restart they are replayed into
// the machine, and the signer refuses to sign a different message for a
// (height, round, type) it signed before. A node behind its peers fetches
// blocks ("blocks" requests), checks each commit, re-executes the
// transactions and stores them. Accepted transactions are gossiped in
// batches on the "txs" topic, and published again while they stay pending.
// A new height starts as soon as the previous block is stored, so that the
// proposals and votes of faster peers count at once; only our own
// TxsAvailable (which makes a proposer propose) waits for the block
// interval in force (params.block_interval_ms).
// A follower (role "follower") runs the machine as an observer: it never
// votes, follows the decisions and block sync, and gossips the
// transactions posted to it.
//
// # Governance and quotas
//
// The caretaker set, the network parameters and the quotas come from the
// governance state (package governance) in force at each height, not from
// the genesis document: govBook holds it and the caretaker sets of every
// epoch, for the engine (StartHeight's validators, whose votes count), the
// gossip validators (a message is judged with the set of its own height),
// block checks (caretakers hash, commits, max_block_txs, max_tx_bytes) and
// p2p's caretaker allow-list. Every block is checked with the election
// rules and a ratelimit tracker of its height; committing it applies its
// elections and writes the new governance state and the block's quota
// usage rows in the block's own atomic store write
// (ledger.Store.CommitBlockApp), and only then does the engine goroutine
// install the new state. A caretaker whose key is not in the set runs the
// BFT engine as an observer until an election adds it. The backlog keeps
// one checker for its pending transactions, so that a signer's pending
// transactions count against its quota, until a block commits one it did
// not hold, an election changes the rules or the epoch turns.
//
// # Goroutines: who owns what
//
// Run starts three goroutines under an errgroup (four with p2p: the
// transaction gossiper) and waits for all of them; the first error cancels
// the others.
//
//   - The HTTP server (http.Server.Serve) starts one goroutine per
//     connection (net/http's). Request goroutines call the Backend methods:
//     Submit, Subscribe, Status, and Store for queries. They own nothing;
//     they reach shared state only through the types below.
//   - The producer (soloEngine.Run) owns block production: it is the only
//     caller of ledger.Store.CommitBlock (whose calls must be serialised),
//     of ledgerApp.ProposeBlock and CommitBlock, and of
//     backlog.Reap/Committed/Drop. It learns of new transactions from
//     backlog.Ready (a channel of capacity 1) and times blocks with one
//     timer. It finishes the block in progress when ctx is done.
//   - With several caretakers, the engine is the BFT one (bftEngine.Run).
//     Its goroutine owns the federation.Machine, the proposed blocks and
//     vote signatures of the current height, the timers' bookkeeping and
//     the WAL and signer; it is the only caller of the application's
//     ProposeBlock and CommitBlock. Others reach it through its inbox (a
//     bounded channel): the p2p topic handlers post proposals and votes
//     (gossip validators run in p2p's goroutines and read only immutable
//     state and the atomic current height), time.AfterFunc timers post
//     timeouts, verifier goroutines (one per proposed block) post verdicts,
//     and the block syncer (one goroutine, started and waited for by
//     bftEngine.Run) posts verified blocks and waits for the answer. Run
//     waits for the verifiers and the syncer before it returns.
//   - The gossiper (txGossip.run) owns the batch being built; Submit hands
//     it transactions through a bounded channel (never blocking: when full,
//     the transaction is published later, by the periodic re-gossip).
//   - The p2p host runs its own goroutines (libp2p's); request handlers
//     ("txs", "blocks") read the backlog and the store only.
//   - The stopper waits for ctx, marks the node stopping (Submit answers
//     ErrStopping), waits for the producer to return, closes the event
//     fan-out (waiters get ErrStopping, subscriptions are closed) and shuts
//     the HTTP server down with ShutdownTimeout. Run then closes the store.
//
// Shared state and its guards:
//
//   - backlog: one mutex (backlog.mu) guards the pending set, the output
//     reservations and the pending-outputs overlay. It is held for the
//     stateful check of one transaction (a few store reads) and for map
//     updates, never across ledger.Verify or a block commit.
//   - events: one mutex (events.mu) guards subscribers and commit waiters.
//     It is held while a block's events are handed out; every send is
//     non-blocking, so a slow subscriber is dropped (its channel closed)
//     rather than allowed to delay a commit.
//   - the newest block's height, CID and time: an atomic pointer written by
//     the producer after each commit and read by Status.
//   - the governance state and its caretaker sets (govBook): an atomic
//     pointer to an immutable snapshot, swapped by the engine goroutine
//     after the commit of a block that changed it.
//   - ledger.Store: safe for concurrent use; only the producer writes.
//   - Metrics: Prometheus collectors, safe for concurrent use.
//
// Subscribers read their Subscription's channel in their own goroutine (the
// WebSocket handler's); a waiter is a channel of capacity 1 read by the
// Submit call that made it.
//
// The backlog lives in memory only: transactions accepted but not yet in a
// block are lost if the process stops, as in BigchainDB (Tendermint's
// mempool).
package node
