package ledger

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/ipdb/ipdb-node/ledger/cryptocondition"
)

// OutputSpec says how much an output holds and who can spend it.
type OutputSpec struct {
	Amount    uint64
	Condition *cryptocondition.Details
}

// To returns an output of amount owned by owners: one key gives an
// ed25519-sha-256 condition, several give an N-of-N threshold, as BigchainDB's
// Output.generate does.
func To(amount uint64, owners ...ed25519.PublicKey) OutputSpec {
	return OutputSpec{Amount: amount, Condition: ownersCondition(owners)}
}

// ToThreshold returns an output of amount spendable by any m of owners.
func ToThreshold(amount uint64, m int, owners ...ed25519.PublicKey) OutputSpec {
	subs := make([]*cryptocondition.Details, len(owners))
	for i, pk := range owners {
		subs[i] = cryptocondition.Ed25519(pk)
	}
	return OutputSpec{Amount: amount, Condition: cryptocondition.Threshold(m, subs...)}
}

func ownersCondition(owners []ed25519.PublicKey) *cryptocondition.Details {
	if len(owners) == 1 {
		return cryptocondition.Ed25519(owners[0])
	}
	subs := make([]*cryptocondition.Details, len(owners))
	for i, pk := range owners {
		subs[i] = cryptocondition.Ed25519(pk)
	}
	return cryptocondition.Threshold(len(owners), subs...)
}

// Spend names an output to spend and the condition that locks it.
type Spend struct {
	Ref       OutputRef
	Condition *cryptocondition.Details
}

// SpendOf returns the Spend of output i of tx.
func SpendOf(tx *Tx, i int) Spend {
	return Spend{Ref: OutputRef{TxID: tx.ID, Index: uint64(i)}, Condition: tx.Outputs[i].Details}
}

// Unsigned is a transaction built but not yet signed.
type Unsigned struct {
	body  map[string]any
	conds []*cryptocondition.Details // what each input must fulfill
	refs  []*OutputRef
}

// ErrBuild reports a transaction that cannot be built as asked.
var ErrBuild = errors.New("ledger: cannot build transaction")

// BuildCreate builds a CREATE issued by issuers (one input; several issuers
// sign an N-of-N threshold, as BigchainDB's Input.generate does). data and
// metadata are any values encoding/json can marshal, or nil.
func BuildCreate(issuers []ed25519.PublicKey, data, metadata any, outs ...OutputSpec) (*Unsigned, error) {
	if len(issuers) == 0 {
		return nil, fmt.Errorf("%w: a CREATE needs at least one issuer", ErrBuild)
	}
	gdata, err := NormalizeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%w: asset data: %w", ErrBuild, err)
	}
	u := &Unsigned{conds: []*cryptocondition.Details{ownersCondition(issuers)}, refs: []*OutputRef{nil}}
	inputs := []any{inputValue(keyStrings(issuers), nil)}
	return u.finish(OpCreate, map[string]any{"data": gdata}, inputs, metadata, outs)
}

// BuildTransfer builds a TRANSFER of asset assetID spending spends.
func BuildTransfer(spends []Spend, assetID string, metadata any, outs ...OutputSpec) (*Unsigned, error) {
	return buildSpending(OpTransfer, spends, assetID, metadata, outs)
}

// buildSpending builds a transaction of operation op (TRANSFER or VOTE) of
// asset assetID spending spends.
func buildSpending(op string, spends []Spend, assetID string, metadata any, outs []OutputSpec) (*Unsigned, error) {
	if len(spends) == 0 {
		return nil, fmt.Errorf("%w: a %s needs at least one input", ErrBuild, op)
	}
	u := &Unsigned{}
	inputs := make([]any, len(spends))
	for i, s := range spends {
		ref := s.Ref
		u.conds = append(u.conds, s.Condition)
		u.refs = append(u.refs, &ref)
		inputs[i] = inputValue(keySet(s.Condition), &ref)
	}
	return u.finish(op, map[string]any{"id": assetID}, inputs, metadata, outs)
}

func (u *Unsigned) finish(op string, asset map[string]any, inputs []any, metadata any, outs []OutputSpec) (*Unsigned, error) {
	gmeta, err := NormalizeJSON(metadata)
	if err != nil {
		return nil, fmt.Errorf("%w: metadata: %w", ErrBuild, err)
	}
	outputs := make([]any, len(outs))
	for i, o := range outs {
		outputs[i] = outputValue(o)
	}
	u.body = map[string]any{"id": nil, "version": Version, "operation": op, "asset": asset,
		"inputs": inputs, "outputs": outputs, "metadata": gmeta}
	return u, nil
}

func inputValue(owners []string, ref *OutputRef) map[string]any {
	var fulfills any
	if ref != nil {
		fulfills = map[string]any{"transaction_id": ref.TxID, "output_index": jsonInt(ref.Index)}
	}
	return map[string]any{"owners_before": anyStrings(owners), "fulfills": fulfills, "fulfillment": nil}
}

func outputValue(o OutputSpec) map[string]any {
	return map[string]any{
		"amount":      strconv.FormatUint(o.Amount, 10),
		"condition":   map[string]any{"details": o.Condition.JSON(), "uri": o.Condition.URI()},
		"public_keys": anyStrings(keySet(o.Condition)),
	}
}

func keyStrings(keys []ed25519.PublicKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = encodeKey(k)
	}
	return out
}

// Sign signs every input with the keys given (each input takes the keys its
// condition needs; thresholds take any satisfying subset), sets the id, and
// returns the transaction decoded as DecodeTx would, so that it is exactly
// what a node would receive.
func (u *Unsigned) Sign(keys ...ed25519.PrivateKey) (*Tx, error) {
	base := signingBase(u.body)
	inputs := u.body["inputs"].([]any)
	signed := make([]any, len(inputs))
	for i, in := range inputs {
		msg := inputMessage(base, u.refs[i])
		ff, err := u.conds[i].Sign(msg[:], keys)
		if err != nil {
			return nil, fmt.Errorf("%w: input %d: %w", ErrBuild, i, err)
		}
		m := make(map[string]any, 3)
		for k, v := range in.(map[string]any) {
			m[k] = v
		}
		m["fulfillment"] = ff.URI()
		signed[i] = m
	}
	body := make(map[string]any, len(u.body))
	for k, v := range u.body {
		body[k] = v
	}
	body["inputs"] = signed
	body["id"], _ = hashID(body, nil)
	tx, err := txFromBody(body, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBuild, err)
	}
	return tx, nil
}

func jsonInt(n uint64) json.Number { return json.Number(strconv.FormatUint(n, 10)) }
