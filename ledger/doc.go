// Package ledger is the transaction model of ipdb-node: BigchainDB's
// transaction spec v2.0, byte for byte, with its crypto-conditions and its
// validation rules, and the stricter rules of ipdb-node's design.
//
// A transaction's path through a node:
//
//  1. Decode. DecodeTx reads outside bytes strictly (DecodeJSON: no duplicate
//     or case-twin keys, valid UTF-8, bounded size and depth), then checks
//     the id (spec v2.0 "The Transaction ID": SHA3-256 of the canonical JSON
//     with "id": null), the JSON schema, MongoDB key rules, fulfillment
//     encodings and amounts, in that order, as BigchainDB's
//     Transaction.from_dict does. The result, *Tx, is untrusted.
//  2. Check without state. CheckStateless (or Verify, from bytes) verifies
//     every fulfillment over its message (spec "Signing": SHA3-256 of the
//     canonical JSON with every fulfillment and the id null, followed for a
//     spending input by the spent transaction id and output index), giving a
//     *VerifiedTx. This is the expensive, parallel part. VerifyCommitted
//     skips the signatures of a transaction whose block's commit is checked
//     (block sync), and nothing else.
//  3. Check against state. Checker.Check (or Batch.Add, for the transactions
//     of one block) reads a State: duplicate CREATEs, missing or spent
//     inputs, asset ids, amount conservation, and that each fulfillment's
//     condition is the spent output's. Only this makes a *CheckedTx.
//  4. Execute. Only a *CheckedTx can be applied to state (MemState.Apply, or
//     the Badger store's block commit).
//
// Errors are *ValidationError values naming BigchainDB's exception
// (InvalidHash, SchemaValidationError, InvalidSignature, AmountError,
// DuplicateTransaction, InputDoesNotExist, DoubleSpend, AssetIdMismatch,
// ThresholdTooDeep, ValidationError) with its message; see errors.go.
//
// Transactions are built and signed with BuildCreate and BuildTransfer, then
// Unsigned.Sign. A transaction's CID (Tx.CID) is CIDv1 with the json
// multicodec and a sha3-256 multihash, whose digest is its BigchainDB id.
//
// References: the BigchainDB transaction spec v2.0 (BEP-13), the schemas in
// bigchaindb/common/schema/transaction_v2.0.yaml, bigchaindb/models.py and
// bigchaindb/common/transaction.py, and draft-thomas-crypto-conditions-03
// (package cryptocondition).
package ledger
