package ledger

import (
	"bytes"
	"crypto/sha3"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/ipdb/ipdb-node/ledger/cryptocondition"
)

// DecodeTx decodes outside bytes into a transaction, in BigchainDB's order
// (bigchaindb/models.py Transaction.from_dict): strict JSON, the id
// (InvalidHash), the schema (SchemaValidationError), key names and language
// values (ValidationError), fulfillments (InvalidSignature), amounts and
// condition depth (AmountError, ThresholdTooDeep).
//
// The error is a *JSONError when b is not JSON at all, otherwise a
// *ValidationError. The returned Tx is untrusted: its signatures are not yet
// checked. Signed transactions in canonical form (as nodes gossip them)
// take a fast path that reads the same Tx (decode_fast.go). DecodeTx is
// safe for concurrent use.
func DecodeTx(b []byte) (*Tx, error) {
	if tx := decodeFast(b); tx != nil {
		return tx, nil
	}
	return decodeGeneral(b)
}

// decodeGeneral is DecodeTx without its fast path (decode_fast.go): every
// input, valid or not, in any JSON layout.
func decodeGeneral(b []byte) (*Tx, error) {
	v, in, err := decodeJSON(b)
	if err != nil {
		var je *JSONError
		if errors.As(err, &je) && !je.Syntax {
			return nil, schemaErr(je.Path, "%s", je.Reason)
		}
		return nil, err
	}
	body, ok := v.(map[string]any)
	if !ok {
		return nil, notType("", v, "object")
	}
	return txFromBody(body, in)
}

// txFromBody runs every decode step on a generic body. It keeps body. in
// is the canonical input body was decoded from, or nil: then the body is
// serialized again to be hashed.
func txFromBody(body map[string]any, in *canonicalInput) (*Tx, error) {
	proposed, ok := body["id"]
	if !ok {
		return nil, invalid(ErrInvalidHash, "id", "No transaction id found!")
	}
	var want string
	var hashed []byte
	if in != nil {
		want = in.id()
	} else {
		want, hashed = hashID(body, nil)
	}
	if s, _ := proposed.(string); s != want {
		return nil, invalid(ErrInvalidHash, "id", "The transaction's id '%s' isn't equal to the hash of its body, i.e. it's not valid.", idText(proposed))
	}
	tx := &Tx{body: body}
	if err := schemaTx(body, tx); err != nil {
		return nil, err
	}
	if err := checkKeys(tx); err != nil {
		return nil, err
	}
	if err := decodeFulfillments(tx); err != nil {
		return nil, err
	}
	if err := decodeOutputs(body, tx); err != nil {
		return nil, err
	}
	if in != nil {
		tx.canonical = bytes.Clone(in.b)
	} else {
		tx.canonical = canonicalWithID(hashed, body)
	}
	return tx, nil
}

// id is the package's idOf for canonical input: the SHA3-256 of the input
// with the id's value replaced by null, hashed in three pieces rather than
// copied into one.
func (in *canonicalInput) id() string {
	h := sha3.New256()
	h.Write(in.b[:in.idStart])
	h.Write([]byte("null"))
	h.Write(in.b[in.idEnd:])
	var sum [32]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// idText renders a proposed id for the InvalidHash message.
func idText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return strings.Trim(pyRepr(v), "'")
}

// canonicalWithID returns the canonical bytes of a schema-checked body, given
// those hashed for its id (the same with "id":null). The top-level keys are
// exactly the seven of the schema, so "id" follows the asset's value; the
// splice point is found by skipping that value, and if the bytes there are
// not as expected the body is simply serialized again.
func canonicalWithID(hashed []byte, body map[string]any) []byte {
	const head, null = `{"asset":`, `,"id":null`
	at := skipValue(hashed, len(head))
	if at < 0 || at+len(null) > len(hashed) || string(hashed[at:at+len(null)]) != null {
		return AppendCanonical(nil, body)
	}
	id := body["id"].(string)
	out := make([]byte, 0, len(hashed)+len(id)-2)
	out = append(out, hashed[:at]...)
	out = append(out, `,"id":"`...)
	out = append(out, id...)
	out = append(out, '"')
	return append(out, hashed[at+len(null):]...)
}

// skipValue returns the offset just past the JSON value that starts at i in
// canonical bytes (no whitespace), or -1 if b ends first.
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

var validLanguages = []string{"danish", "dutch", "english", "finnish", "french", "german",
	"hungarian", "italian", "norwegian", "portuguese", "romanian", "russian", "spanish",
	"swedish", "turkish", "none", "da", "nl", "en", "fi", "fr", "de", "hu", "it", "nb", "pt",
	"ro", "ru", "es", "sv", "tr"}

// isBadKey reports whether k breaks BigchainDB's key rule, the expression
// `^[$]|\.|\x00`: it starts with "$" or holds "." or NUL.
func isBadKey(k string) bool {
	return strings.HasPrefix(k, "$") || strings.ContainsAny(k, ".\x00")
}

// checkKeys applies BigchainDB's rules for MongoDB: key names in asset data
// and metadata (bigchaindb/common/utils.py validate_key) and the values of
// keys named "language" (validate_language).
func checkKeys(tx *Tx) *ValidationError {
	if err := walkKeys(tx.Asset.Data, "asset", "asset.data"); err != nil {
		return err
	}
	if err := walkKeys(tx.Metadata, "metadata", "metadata"); err != nil {
		return err
	}
	if err := walkLanguage(tx.Asset.Data, "asset.data"); err != nil {
		return err
	}
	return walkLanguage(tx.Metadata, "metadata")
}

func walkKeys(v any, objName, field string) *ValidationError {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if isBadKey(k) {
				return invalid(ErrValidation, join(field, k), `Invalid key name "%s" in %s object. The key name cannot contain characters ".", "$" or null characters`, k, objName)
			}
			if err := walkKeys(x[k], objName, join(field, k)); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := walkKeys(e, objName, index(field, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func walkLanguage(v any, field string) *ValidationError {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if k == "language" {
				if s, ok := x[k].(string); !ok || !slices.Contains(validLanguages, s) {
					return invalid(ErrValidation, join(field, k), `MongoDB does not support text search for the language "%s". If you do not understand this error message then please rename key/field "language" to something else like "lang".`, strings.Trim(pyRepr(x[k]), "'"))
				}
			}
			if err := walkLanguage(x[k], join(field, k)); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := walkLanguage(e, index(field, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// decodeFulfillments parses every fulfillment URI (BigchainDB Input.from_dict).
func decodeFulfillments(tx *Tx) *ValidationError {
	for i := range tx.Inputs {
		in := &tx.Inputs[i]
		if in.Fulfillment == "" {
			continue
		}
		ff, err := cryptocondition.ParseFulfillmentURI(in.Fulfillment)
		if errors.Is(err, cryptocondition.ErrTooDeep) {
			return invalid(ErrThresholdTooDeep, index("inputs", i)+".fulfillment", "fulfillment nests thresholds deeper than %d", MaxThresholdDepth)
		}
		if err != nil {
			return invalid(ErrInvalidSignature, index("inputs", i)+".fulfillment", "Fulfillment URI couldn't been parsed")
		}
		in.ff = ff
	}
	return nil
}

// decodeOutputs reads each output's amount and condition details
// (BigchainDB Output.from_dict) and applies our stricter rules: the uri must
// be the one computed from the details, and public_keys must be the details'
// keys.
func decodeOutputs(body map[string]any, tx *Tx) *ValidationError {
	outs := body["outputs"].([]any) // shape checked by schemaOutputs
	for i := range tx.Outputs {
		field := index("outputs", i)
		m := outs[i].(map[string]any)
		amount, err := parseAmount(field+".amount", m["amount"].(string))
		if err != nil {
			return err
		}
		out := &tx.Outputs[i]
		out.Amount = amount
		details, derr := cryptocondition.ParseDetails(m["condition"].(map[string]any)["details"])
		if errors.Is(derr, cryptocondition.ErrTooDeep) {
			return invalid(ErrThresholdTooDeep, field+".condition.details", "condition details nest thresholds deeper than %d", MaxThresholdDepth)
		}
		if derr != nil {
			return schemaErr(field+".condition.details", "%v", derr)
		}
		out.Details = details
		if err := checkOutputAgrees(field, out); err != nil {
			return err
		}
	}
	return nil
}

// parseAmount converts an amount string (already matching ^[0-9]{1,20}$).
func parseAmount(field, s string) (uint64, *ValidationError) {
	a, err := strconv.ParseUint(s, 10, 64)
	if err != nil || a > MaxAmount {
		return 0, invalid(ErrAmount, field, "`amount` must be <= %d", MaxAmount)
	}
	if a == 0 {
		return 0, invalid(ErrAmount, field, "`amount` must be greater than 0")
	}
	return a, nil
}

// checkOutputAgrees is our stricter rule: an output's uri and public_keys
// follow from its details, so that indexes built on them cannot lie.
func checkOutputAgrees(field string, out *Output) *ValidationError {
	if uri := out.Details.URI(); uri != out.URI {
		return schemaErr(field+".condition.uri", "'%s' is not the uri of the condition details (%s)", out.URI, uri)
	}
	want := keySet(out.Details)
	if !sameKeys(out.PublicKeys, want) {
		return schemaErr(field+".public_keys", "%s are not the keys of the condition details %s", pyRepr(anyStrings(out.PublicKeys)), pyRepr(anyStrings(want)))
	}
	return nil
}

// keySet returns the distinct base58 keys of details, depth first.
func keySet(d *cryptocondition.Details) []string {
	var keys []string
	for _, pk := range d.PublicKeys() {
		k := encodeKey(pk)
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// sameKeys reports whether a and b hold the same set of keys.
func sameKeys(a, b []string) bool { return subset(a, b) && subset(b, a) }

func anyStrings(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
