package ledger

import (
	"crypto/ed25519"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/mr-tron/base58"
)

// This file checks a decoded transaction body against BigchainDB's JSON
// schemas (bigchaindb/common/schema/transaction_v2.0.yaml and the CREATE and
// TRANSFER sub-schemas), with messages in the words of Python's jsonschema,
// and fills a Tx from it. It is stricter than the reference where
// ../shared/DESIGN.md says so: patterns are anchored, public keys must decode
// to 32 bytes, output keys and URIs must agree with the condition details.

// pattern is a string rule of the schema: its regular expression, shown in
// messages as jsonschema shows it, and a function that matches it (hand
// written where it is on the hot path).
type pattern struct {
	expr  string
	match func(string) bool
}

var (
	hexIDPattern  = pattern{`^[0-9a-f]{64}$`, isHexID}
	amountPattern = pattern{`^[0-9]{1,20}$`, isAmount}
	// uriPattern is BigchainDB's condition uri pattern, anchored.
	uriPattern         = pattern{uriExpr, isConditionURI}
	fulfillmentPattern = pattern{`^[a-zA-Z0-9_-]*$`, isBase64URL}
)

const uriExpr = `^ni:///sha-256;([a-zA-Z0-9_-]{0,86})[?](fpt=(ed25519|threshold)-sha-256(&)?|cost=[0-9]+(&)?|subtypes=ed25519-sha-256(&)?){2,3}$`

// isConditionURI matches uriExpr without a regular expression (it ran
// once per output, 3% of a loaded caretaker's CPU). One left-to-right pass
// decides it: the alternatives of the repeated group begin differently,
// "cost=" takes every digit (what follows a group is "&", the next group
// or the end, never a digit), and an "&" must be taken, as no group
// begins with one. The differential tests hold it to the expression.
func isConditionURI(s string) bool {
	const head = "ni:///sha-256;"
	if !strings.HasPrefix(s, head) {
		return false
	}
	s = s[len(head):]
	q := strings.IndexByte(s, '?')
	if q < 0 || q > 86 || !isBase64URL(s[:q]) {
		return false
	}
	s = s[q+1:]
	groups := 0
	for ; s != "" && groups < 3; groups++ {
		switch {
		case strings.HasPrefix(s, "fpt=ed25519-sha-256"):
			s = s[len("fpt=ed25519-sha-256"):]
		case strings.HasPrefix(s, "fpt=threshold-sha-256"):
			s = s[len("fpt=threshold-sha-256"):]
		case strings.HasPrefix(s, "subtypes=ed25519-sha-256"):
			s = s[len("subtypes=ed25519-sha-256"):]
		case strings.HasPrefix(s, "cost="):
			s = s[len("cost="):]
			n := 0
			for n < len(s) && s[n] >= '0' && s[n] <= '9' {
				n++
			}
			if n == 0 {
				return false
			}
			s = s[n:]
		default:
			return false
		}
		s = strings.TrimPrefix(s, "&")
	}
	return s == "" && groups >= 2
}

func isHexID(s string) bool { return len(s) == 64 && isLowerHex(s) }

func isAmount(s string) bool {
	if len(s) == 0 || len(s) > MaxAmountDigits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

var operations = []string{OpCreate, OpTransfer, OpValidatorElection, OpChainMigrationElection, OpVote, OpParameterElection, OpQuotaElection}

var topLevelKeys = []string{"asset", "id", "inputs", "metadata", "operation", "outputs", "version"}

// pyRepr renders a JSON value roughly as Python's repr does in jsonschema
// messages: 'text', 12, None, True; objects and arrays as short JSON.
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return "'" + x + "'"
	case json.Number:
		return string(x)
	}
	b := AppendCanonical(nil, v)
	if len(b) > 60 {
		return string(b[:57]) + "..."
	}
	return string(b)
}

func required(field, key string) *ValidationError {
	return schemaErr(join(field, key), "'%s' is a required property", key)
}

func notType(field string, v any, typ string) *ValidationError {
	return schemaErr(field, "%s is not of type '%s'", pyRepr(v), typ)
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func index(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

// object checks that v is an object with exactly the keys in want (sorted),
// reporting extra keys before missing ones, as jsonschema does for
// additionalProperties and required.
func object(field string, v any, want ...string) (map[string]any, *ValidationError) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, notType(field, v, "object")
	}
	if len(m) > len(want) || !hasOnly(m, want) {
		var extra []string
		for k := range m {
			if !slices.Contains(want, k) {
				extra = append(extra, "'"+k+"'")
			}
		}
		slices.Sort(extra)
		verb := "was"
		if len(extra) > 1 {
			verb = "were"
		}
		return nil, schemaErr(field, "Additional properties are not allowed (%s %s unexpected)", strings.Join(extra, ", "), verb)
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			return nil, required(field, k)
		}
	}
	return m, nil
}

func hasOnly(m map[string]any, want []string) bool {
	for k := range m {
		if !slices.Contains(want, k) {
			return false
		}
	}
	return true
}

func str(field string, v any) (string, *ValidationError) {
	s, ok := v.(string)
	if !ok {
		return "", notType(field, v, "string")
	}
	return s, nil
}

func match(field string, v any, p pattern) (string, *ValidationError) {
	s, err := str(field, v)
	if err != nil {
		return "", err
	}
	if !p.match(s) {
		return "", schemaErr(field, "'%s' does not match '%s'", s, p.expr)
	}
	return s, nil
}

func array(field string, v any, min, max int) ([]any, *ValidationError) {
	a, ok := v.([]any)
	if !ok {
		return nil, notType(field, v, "array")
	}
	if len(a) < min {
		return nil, schemaErr(field, "%s is too short", pyRepr(v))
	}
	if len(a) > max {
		return nil, schemaErr(field, "%s is too long (at most %d items)", pyRepr(v), max)
	}
	return a, nil
}

// publicKey checks a base58 Ed25519 public key.
func publicKey(field string, v any) (string, *ValidationError) {
	s, err := str(field, v)
	if err != nil {
		return "", err
	}
	if len(s) < 32 || len(s) > 44 {
		return "", schemaErr(field, "'%s' is not a base58 Ed25519 public key", s)
	}
	b, derr := base58.Decode(s)
	if derr != nil || len(b) != ed25519.PublicKeySize {
		return "", schemaErr(field, "'%s' is not a base58 Ed25519 public key", s)
	}
	return s, nil
}

func publicKeys(field string, v any) ([]string, *ValidationError) {
	a, err := array(field, v, 1, MaxKeysPerList)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(a))
	for i, x := range a {
		if keys[i], err = publicKey(index(field, i), x); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// nonEmptyObjectOrNull checks metadata and asset data: an object with at
// least one property, or null. (Asset data may be an empty object.)
func objectOrNull(field string, v any, minProps int) (any, *ValidationError) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, schemaErr(field, "%s is not valid under any of the given schemas", pyRepr(v))
	}
	if len(m) < minProps {
		return nil, schemaErr(field, "%s does not have enough properties", pyRepr(v))
	}
	return m, nil
}

// schemaTx checks body against the schema and fills tx. Amount strings are
// checked for their pattern only; their range is an AmountError, checked
// later in BigchainDB's order.
func schemaTx(body map[string]any, tx *Tx) *ValidationError {
	if _, err := object("", body, topLevelKeys...); err != nil {
		return err
	}
	id, err := match("id", body["id"], hexIDPattern)
	if err != nil {
		return err
	}
	tx.ID = id
	if tx.Version, err = str("version", body["version"]); err != nil {
		return err
	}
	if tx.Version != Version {
		return schemaErr("version", "'%s' does not match '^2\\.0$'", tx.Version)
	}
	if tx.Operation, err = str("operation", body["operation"]); err != nil {
		return err
	}
	if !slices.Contains(operations, tx.Operation) {
		return schemaErr("operation", "'%s' is not one of ['CREATE', 'TRANSFER', 'VALIDATOR_ELECTION', 'CHAIN_MIGRATION_ELECTION', 'VOTE', 'PARAMETER_ELECTION', 'QUOTA_ELECTION']", tx.Operation)
	}
	if tx.Metadata, err = objectOrNull("metadata", body["metadata"], 1); err != nil {
		return err
	}
	if err := schemaAsset(body["asset"], tx); err != nil {
		return err
	}
	if err := schemaInputs(body["inputs"], tx); err != nil {
		return err
	}
	return schemaOutputs(body["outputs"], tx)
}

func schemaAsset(v any, tx *Tx) *ValidationError {
	if tx.IsCreateLike() {
		m, err := object("asset", v, "data")
		if err != nil {
			return err
		}
		tx.Asset.Data, err = objectOrNull("asset.data", m["data"], 0)
		return err
	}
	m, err := object("asset", v, "id")
	if err != nil {
		return err
	}
	tx.Asset.ID, err = match("asset.id", m["id"], hexIDPattern)
	return err
}

func schemaInputs(v any, tx *Tx) *ValidationError {
	min, max := 1, MaxInputs
	if tx.IsCreateLike() {
		max = 1
	}
	ins, err := array("inputs", v, min, max)
	if err != nil {
		return err
	}
	tx.Inputs = make([]Input, len(ins))
	for i, x := range ins {
		if err := schemaInput(index("inputs", i), x, tx.IsCreateLike(), &tx.Inputs[i]); err != nil {
			return err
		}
	}
	return nil
}

func schemaInput(field string, v any, createLike bool, in *Input) *ValidationError {
	m, err := object(field, v, "fulfillment", "fulfills", "owners_before")
	if err != nil {
		return err
	}
	if in.OwnersBefore, err = publicKeys(join(field, "owners_before"), m["owners_before"]); err != nil {
		return err
	}
	switch f := m["fulfillment"].(type) {
	case string:
		if _, err := match(join(field, "fulfillment"), f, fulfillmentPattern); err != nil {
			return err
		}
		in.Fulfillment = f
	case map[string]any, nil:
		// Unsigned: BigchainDB parses details here and refuses the signature later.
	default:
		return schemaErr(join(field, "fulfillment"), "%s is not valid under any of the given schemas", pyRepr(f))
	}
	fulfills := m["fulfills"]
	if createLike {
		if fulfills != nil {
			return notType(join(field, "fulfills"), fulfills, "null")
		}
		return nil
	}
	if fulfills == nil {
		return notType(join(field, "fulfills"), fulfills, "object")
	}
	ref, err := schemaOutputRef(join(field, "fulfills"), fulfills)
	in.Fulfills = ref
	return err
}

func schemaOutputRef(field string, v any) (*OutputRef, *ValidationError) {
	m, err := object(field, v, "output_index", "transaction_id")
	if err != nil {
		return nil, err
	}
	id, err := match(join(field, "transaction_id"), m["transaction_id"], hexIDPattern)
	if err != nil {
		return nil, err
	}
	n, ok := m["output_index"].(json.Number)
	idx, perr := strconv.ParseUint(string(n), 10, 64)
	if !ok || perr != nil || idx >= MaxOutputs {
		return nil, schemaErr(join(field, "output_index"), "%s is not an output index (an integer from 0 to %d)", pyRepr(m["output_index"]), MaxOutputs-1)
	}
	return &OutputRef{TxID: id, Index: idx}, nil
}

func schemaOutputs(v any, tx *Tx) *ValidationError {
	outs, err := array("outputs", v, 0, MaxOutputs)
	if err != nil {
		return err
	}
	tx.Outputs = make([]Output, len(outs))
	for i, x := range outs {
		if err := schemaOutput(index("outputs", i), x, &tx.Outputs[i]); err != nil {
			return err
		}
	}
	return nil
}

func schemaOutput(field string, v any, out *Output) *ValidationError {
	m, err := object(field, v, "amount", "condition", "public_keys")
	if err != nil {
		return err
	}
	if _, err := match(join(field, "amount"), m["amount"], amountPattern); err != nil {
		return err
	}
	if out.PublicKeys, err = publicKeys(join(field, "public_keys"), m["public_keys"]); err != nil {
		return err
	}
	cond, err := object(join(field, "condition"), m["condition"], "details", "uri")
	if err != nil {
		return err
	}
	if out.URI, err = match(join(field, "condition.uri"), cond["uri"], uriPattern); err != nil {
		return err
	}
	return nil
}
