package ledger

import (
	"slices"

	"github.com/ipdb/ipdb-node/ledger/cryptocondition"
)

// VerifiedTx is a transaction that passed every check that needs nothing but
// the transaction itself: schema, id, and every fulfillment's signatures over
// its message. Only CheckStateless and Verify make one, and VerifyCommitted,
// which takes the signatures on trust from the caretakers that committed
// the transaction's block.
type VerifiedTx struct {
	tx *Tx
	// conds[i] is the condition input i's fulfillment fulfills.
	conds []cryptocondition.Condition
}

// Tx returns the transaction. The caller must not modify it.
func (v *VerifiedTx) Tx() *Tx { return v.tx }

// Verify decodes outside bytes and runs the stateless check: DecodeTx then
// CheckStateless. It is safe for concurrent use.
func Verify(b []byte) (*VerifiedTx, error) {
	tx, err := DecodeTx(b)
	if err != nil {
		return nil, err
	}
	return CheckStateless(tx)
}

// VerifyCommitted is Verify for a transaction of a block whose commit (the
// precommits of more than 2/3 of the caretakers' power) the caller checks
// before the block is executed: every check of Verify but the fulfillments'
// Ed25519 signatures, which those caretakers checked before they voted. A
// block with such a commit was checked by caretakers holding more than 1/3
// of the power, so with faulty power below 1/3, as consensus assumes, it
// holds no bad signature; skipping the checks nearly halves a syncing
// node's CPU. The fulfillments' structure and key rules are still checked.
// It is safe for concurrent use.
func VerifyCommitted(b []byte) (*VerifiedTx, error) {
	tx, err := DecodeTx(b)
	if err != nil {
		return nil, err
	}
	return checkStateless(tx, false)
}

// CheckStateless verifies every input's fulfillment against the message it
// must sign (BigchainDB Transaction.inputs_valid) and our stricter key rules:
// a CREATE's fulfillment is signed by exactly its owners_before, and a spending
// input's signers are all among its owners_before. It also refuses a
// transaction that spends one output twice (DoubleSpend). It is safe for
// concurrent use.
func CheckStateless(tx *Tx) (*VerifiedTx, error) { return checkStateless(tx, true) }

// checkStateless is CheckStateless; without signatures, the fulfillments'
// structure is checked but not their signatures (VerifyCommitted).
func checkStateless(tx *Tx, signatures bool) (*VerifiedTx, error) {
	if !tx.IsCreateLike() {
		if err := distinctInputs(tx); err != nil {
			return nil, err
		}
	}
	var base []byte
	if signatures {
		base = tx.signingBase()
	}
	v := &VerifiedTx{tx: tx, conds: make([]cryptocondition.Condition, len(tx.Inputs))}
	for i := range tx.Inputs {
		in := &tx.Inputs[i]
		if in.ff == nil {
			return nil, badSignature(i)
		}
		if err := verifyInput(in, base, signatures); err != nil {
			return nil, badSignature(i)
		}
		if !signersAllowed(in, tx.IsCreateLike()) {
			return nil, badSignature(i)
		}
		v.conds[i] = in.ff.Condition()
	}
	return v, nil
}

// verifyInput checks in's fulfillment over its message (from the signing
// base), or only its structure without signatures.
func verifyInput(in *Input, base []byte, signatures bool) error {
	if !signatures {
		return in.ff.Validate()
	}
	msg := inputMessage(base, in.Fulfills)
	return in.ff.Verify(msg[:])
}

func badSignature(i int) *ValidationError {
	return invalid(ErrInvalidSignature, index("inputs", i)+".fulfillment", "Transaction signature is invalid.")
}

// signersAllowed applies the owners_before rule of ../shared/DESIGN.md
// ("signed by exactly the keys in its owners_before"): every key that signed
// is listed, and a CREATE lists no key that did not sign. A spending input may
// list co-owners of a threshold output that did not sign, as the BigchainDB
// drivers do (they copy the spent output's public_keys); Check then requires
// every listed key to be an owner of the spent output.
func signersAllowed(in *Input, createLike bool) bool {
	signers := make([]string, 0, 1)
	for _, pk := range in.ff.SigningKeys() {
		if k := encodeKey(pk); !slices.Contains(signers, k) {
			signers = append(signers, k)
		}
	}
	for _, k := range signers {
		if !slices.Contains(in.OwnersBefore, k) {
			return false
		}
	}
	return !createLike || sameKeys(signers, in.OwnersBefore)
}

// subset reports whether every key of a is in b.
func subset(a, b []string) bool {
	for _, k := range a {
		if !slices.Contains(b, k) {
			return false
		}
	}
	return true
}

func distinctInputs(tx *Tx) *ValidationError {
	seen := make(map[OutputRef]struct{}, len(tx.Inputs))
	for _, in := range tx.Inputs {
		if _, dup := seen[*in.Fulfills]; dup {
			return invalid(ErrDoubleSpend, "inputs", `tx "%s" spends inputs twice`, tx.ID)
		}
		seen[*in.Fulfills] = struct{}{}
	}
	return nil
}

// StoredOutput is what the stateful check needs to know of a spent output.
type StoredOutput struct {
	Amount     uint64
	Condition  cryptocondition.Condition
	PublicKeys []string // the distinct keys of its condition details
	AssetID    string
	Spent      bool
}

// State is the committed ledger state the stateful check reads. The store
// implements it on Badger; MemState in memory; Batch overlays the
// transactions accepted earlier in the same block.
type State interface {
	// HasTx reports whether a transaction with this id is committed.
	HasTx(id string) (bool, error)
	// Output returns the output ref names; found is false when the
	// transaction has no such output or does not exist.
	Output(ref OutputRef) (out StoredOutput, found bool, err error)
}

// ElectionRules checks the operations governance owns (the elections:
// VALIDATOR_ELECTION, CHAIN_MIGRATION_ELECTION, PARAMETER_ELECTION and
// QUOTA_ELECTION; and VOTE) once the generic checks have passed.
type ElectionRules interface {
	CheckElection(st State, v *VerifiedTx) error
}

// CheckedTx is a transaction that passed the stateless and stateful checks
// against some state. Only Checker.Check (and Batch.Add) make one; executing a
// block accepts nothing else.
type CheckedTx struct {
	tx    *Tx
	spent []StoredOutput
}

// Tx returns the transaction. The caller must not modify it.
func (c *CheckedTx) Tx() *Tx { return c.tx }

// Spent returns the outputs the transaction spends, in input order.
func (c *CheckedTx) Spent() []StoredOutput { return c.spent }

// QuotaRules charges a transaction that passed every other check to its
// signers' quotas (package ratelimit). Charge refuses it, charging nothing,
// when a signer is over quota.
type QuotaRules interface {
	Charge(tx *Tx) error
}

// Checker runs the stateful check. The zero Checker refuses the governance
// operations and charges no quota; governance sets Elections, the node
// Quotas.
type Checker struct {
	Elections ElectionRules
	Quotas    QuotaRules
}

// Check checks v against st with the zero Checker.
func Check(st State, v *VerifiedTx) (*CheckedTx, error) { return Checker{}.Check(st, v) }

// Check runs the stateful checks in BigchainDB's order
// (bigchaindb/models.py Transaction.validate): DuplicateTransaction for
// CREATE; InputDoesNotExist, DoubleSpend, AssetIdMismatch, AmountError and the
// condition match (InvalidSignature) for TRANSFER. It is safe for concurrent
// use if st is.
func (c Checker) Check(st State, v *VerifiedTx) (*CheckedTx, error) {
	ct, err := c.check(st, v)
	if err != nil || c.Quotas == nil {
		return ct, err
	}
	if err := c.Quotas.Charge(v.tx); err != nil {
		return nil, err
	}
	return ct, nil
}

// check is Check without the quota charge.
func (c Checker) check(st State, v *VerifiedTx) (*CheckedTx, error) {
	tx := v.tx
	if tx.IsCreateLike() {
		return c.checkCreate(st, v)
	}
	spent, err := checkTransfer(st, v)
	if err != nil {
		return nil, err
	}
	if tx.Operation == OpVote {
		if err := c.checkElection(st, v); err != nil {
			return nil, err
		}
	}
	return &CheckedTx{tx: tx, spent: spent}, nil
}

func (c Checker) checkCreate(st State, v *VerifiedTx) (*CheckedTx, error) {
	exists, err := st.HasTx(v.tx.ID)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, invalid(ErrDuplicateTx, "id", "transaction `%s` already exists", v.tx.ID)
	}
	if v.tx.Operation != OpCreate {
		if err := c.checkElection(st, v); err != nil {
			return nil, err
		}
	}
	return &CheckedTx{tx: v.tx}, nil
}

func (c Checker) checkElection(st State, v *VerifiedTx) error {
	if c.Elections == nil {
		return invalid(ErrOperation, "operation", "operation %s is not accepted on this network", v.tx.Operation)
	}
	return c.Elections.CheckElection(st, v)
}

// checkTransfer is BigchainDB's validate_transfer_inputs plus our owners rule.
func checkTransfer(st State, v *VerifiedTx) ([]StoredOutput, error) {
	tx := v.tx
	spent := make([]StoredOutput, len(tx.Inputs))
	for i, in := range tx.Inputs {
		out, err := spendable(st, i, *in.Fulfills)
		if err != nil {
			return nil, err
		}
		spent[i] = out
	}
	if err := sameAsset(tx, spent); err != nil {
		return nil, err
	}
	if err := amountsConserved(tx, spent); err != nil {
		return nil, err
	}
	for i, in := range tx.Inputs {
		if v.conds[i] != spent[i].Condition || !subset(in.OwnersBefore, spent[i].PublicKeys) {
			return nil, badSignature(i)
		}
	}
	return spent, nil
}

func spendable(st State, i int, ref OutputRef) (StoredOutput, error) {
	field := index("inputs", i) + ".fulfills"
	exists, err := st.HasTx(ref.TxID)
	if err != nil {
		return StoredOutput{}, err
	}
	if !exists {
		return StoredOutput{}, invalid(ErrInputDoesNotExist, field, "input `%s` doesn't exist", ref.TxID)
	}
	out, found, err := st.Output(ref)
	if err != nil {
		return StoredOutput{}, err
	}
	if !found {
		return StoredOutput{}, invalid(ErrInputDoesNotExist, field, "input `%s` has no output %d", ref.TxID, ref.Index)
	}
	if out.Spent {
		return StoredOutput{}, invalid(ErrDoubleSpend, field, "input `%s` was already spent", ref.TxID)
	}
	return out, nil
}

func sameAsset(tx *Tx, spent []StoredOutput) *ValidationError {
	for _, s := range spent[1:] {
		if s.AssetID != spent[0].AssetID {
			return invalid(ErrAssetIDMismatch, "inputs", "All inputs of all transactions passed need to have the same asset id")
		}
	}
	if spent[0].AssetID != tx.Asset.ID {
		return invalid(ErrAssetIDMismatch, "asset.id", "The asset id of the input does not match the asset id of the transaction")
	}
	return nil
}

func amountsConserved(tx *Tx, spent []StoredOutput) *ValidationError {
	var in, out AmountSum
	for _, s := range spent {
		in.Add(s.Amount)
	}
	for _, o := range tx.Outputs {
		out.Add(o.Amount)
	}
	if in != out {
		return invalid(ErrAmount, "outputs", "The amount used in the inputs `%s` needs to be same as the amount used in the outputs `%s`", in, out)
	}
	return nil
}

// storedOutputs returns the outputs tx creates, as State reports them.
func storedOutputs(tx *Tx) []StoredOutput {
	outs := make([]StoredOutput, len(tx.Outputs))
	for i, o := range tx.Outputs {
		outs[i] = StoredOutput{Amount: o.Amount, Condition: o.Details.Condition(),
			PublicKeys: keySet(o.Details), AssetID: tx.AssetID()}
	}
	return outs
}
