// Package governance is ipdb-node's on-chain governance: elections that
// change the caretaker set, a network parameter or a high-volume quota,
// decided by the caretakers' votes and applied at a height, the same on
// every node. It is pure and deterministic: no goroutines, clock,
// randomness, I/O or logging.
//
// # Tokens
//
// Elections are transactions in BigchainDB 2.x's frame (spec v2.0,
// BEP-18/21). An election (VALIDATOR_ELECTION, PARAMETER_ELECTION or
// QUOTA_ELECTION) is CREATE-like: one input signed by the proposer, a
// caretaker, and one output per caretaker of the set in force at its
// block, in set order, holding that caretaker's power: its vote tokens. A
// VOTE is TRANSFER-like: it spends tokens and sends them to
// ElectionAddress(id) (for; BigchainDB's election_pk) or RejectAddress(id)
// (against; ours); outputs to any other key delegate (count nothing, and
// the delegate may vote them later), and a plain TRANSFER of tokens counts
// nothing. Tokens can be split, so a caretaker may vote part for and part
// against. The ledger checks the spending (DoubleSpend, amounts, asset id);
// Rules checks the rest.
//
// # Tally and statuses
//
// An election proposed in block E records total = the set's total power at
// E, needed = floor(2*total/3)+1 and expires_height = E +
// election_expiry_blocks (the value in force at E). At the end of every
// block h, after all its transactions, each election voted for in h, in
// order of its first vote in h, concludes:
//
//   - approved when 3*votes > 2*total (strictly more than 2/3); its
//     effect is in force from the effect height h+EffectDelay (h+1);
//   - inconclusive instead if, when approved, its effect is no longer
//     valid against the state as the block leaves it (a key already added
//     or removed, the max_caretakers bylaw reached, the 1/3 rule against
//     the current set, a quota already revoked or ending too early);
//   - rejected when 3*against >= total: it can no longer pass.
//
// An approved set change makes every other open election inconclusive at
// h, since their tokens count the old powers; so at most one set change
// is approved per block and nothing is ever pending across blocks. An
// election neither concluded nor voted to a decision is ongoing until its
// expires_height and expired after it (StatusAt). Votes are refused after
// conclusion or expiry.
//
// # Stricter than BigchainDB
//
// BigchainDB approves at >= 2/3 (floating point), never expires an
// election, tests the 1/3 rule on the proposed power itself (so a large
// caretaker can be neither lowered nor removed), has no vote against and
// compares the outputs with the set ignoring order. ipdb-node needs
// strictly more than 2/3, expires elections after election_expiry_blocks,
// tests the 1/3 rule on the change of power |new-current| (current 0 for
// an addition), counts votes against, requires the outputs in set order,
// adds the kinds set-param, grant-quota and revoke-quota, bounds the set by
// the max_caretakers bylaw, and refuses CHAIN_MIGRATION_ELECTION.
//
// # Using it
//
// Genesis gives the state of a new network. For each block at height h,
// the node checks transactions with ledger.Checker{Elections:
// state.Rules(h)} (one Rules per ledger.Batch), then calls Apply with the
// checked transactions; Encode and Decode persist the state. SetAt,
// ParamsAt and Quota say what is in force at a height. NewElection and
// NewVote build the transactions.
package governance
