package cryptocondition

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/mr-tron/base58"
)

// Details is BigchainDB's condition details tree (outputs[].condition.details,
// or an unsigned inputs[].fulfillment): an Ed25519 public key, or an m-of-n
// threshold of further details.
type Details struct {
	Type          Type
	PublicKey     ed25519.PublicKey // TypeEd25519 only, 32 bytes
	Threshold     int               // TypeThreshold only, 1..len(Subconditions)
	Subconditions []*Details        // TypeThreshold only
}

// JSON keys of a details object, as BigchainDB writes them.
const (
	keyType          = "type"
	keyPublicKey     = "public_key"
	keyThreshold     = "threshold"
	keySubconditions = "subconditions"
)

// Ed25519 returns the details of a single-key condition. It does not copy pub.
func Ed25519(pub ed25519.PublicKey) *Details {
	return &Details{Type: TypeEd25519, PublicKey: pub}
}

// Threshold returns the details of an m-of-len(subs) threshold condition. It
// does not validate; call Validate.
func Threshold(m int, subs ...*Details) *Details {
	return &Details{Type: TypeThreshold, Threshold: m, Subconditions: subs}
}

// ParseDetails reads the generic decoded JSON value of a details tree (as
// encoding/json decodes into any with UseNumber): objects of exactly the keys
// "type" and "public_key" (base58 of 32 bytes) for ed25519-sha-256, or
// "type", "threshold" (a json.Number holding an integer, or an int) and
// "subconditions" (a non-empty array) for threshold-sha-256. It enforces
// 1 <= threshold <= len(subconditions) <= MaxSubconditions, MaxDepth levels and
// a cost of at most MaxCost. Errors are *DetailsError naming the path, such as
// "subconditions[1].public_key".
func ParseDetails(v any) (*Details, error) {
	d, err := parseDetails(v, "", 1)
	if err != nil {
		return nil, err
	}
	if cost := d.cost(); cost > MaxCost {
		return nil, detailsErr("", ErrCostTooHigh, "condition cost %d exceeds %d", cost, uint64(MaxCost))
	}
	return d, nil
}

// parseDetails reads one details object found at path, at tree level level.
func parseDetails(v any, path string, level int) (*Details, error) {
	if level > MaxDepth {
		return nil, detailsErr(path, ErrTooDeep, "more than %d levels", MaxDepth)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, detailsErr(path, ErrInvalidDetails, "want an object, got %s", jsonKind(v))
	}
	name, ok := obj[keyType].(string)
	if !ok {
		return nil, detailsErr(join(path, keyType), ErrInvalidDetails, "missing or not a string")
	}
	t, ok := typeFromName(name)
	if !ok {
		return nil, detailsErr(join(path, keyType), ErrUnsupportedType, "%q", name)
	}
	if t == TypeEd25519 {
		return parseEd25519Details(obj, path)
	}
	return parseThresholdDetails(obj, path, level)
}

// parseEd25519Details reads an ed25519-sha-256 details object.
func parseEd25519Details(obj map[string]any, path string) (*Details, error) {
	if err := checkKeys(obj, path, keyType, keyPublicKey); err != nil {
		return nil, err
	}
	pub, err := parsePublicKey(obj[keyPublicKey], join(path, keyPublicKey))
	if err != nil {
		return nil, err
	}
	return Ed25519(pub), nil
}

// parsePublicKey decodes a base58 Ed25519 public key.
func parsePublicKey(v any, path string) (ed25519.PublicKey, error) {
	s, ok := v.(string)
	if !ok {
		return nil, detailsErr(path, ErrInvalidDetails, "want a base58 string, got %s", jsonKind(v))
	}
	if len(s) > maxBase58KeyChars {
		return nil, detailsErr(path, ErrInvalidDetails, "%d characters, at most %d", len(s), maxBase58KeyChars)
	}
	b, err := base58.Decode(s)
	if err != nil || base58.Encode(b) != s {
		return nil, detailsErr(path, ErrInvalidDetails, "not base58")
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, detailsErr(path, ErrInvalidDetails, "key of %d bytes, want %d", len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// parseThresholdDetails reads a threshold-sha-256 details object at level.
func parseThresholdDetails(obj map[string]any, path string, level int) (*Details, error) {
	if err := checkKeys(obj, path, keyType, keyThreshold, keySubconditions); err != nil {
		return nil, err
	}
	m, err := parseInt(obj[keyThreshold], join(path, keyThreshold))
	if err != nil {
		return nil, err
	}
	subsPath := join(path, keySubconditions)
	items, ok := obj[keySubconditions].([]any)
	if !ok {
		return nil, detailsErr(subsPath, ErrInvalidDetails, "want an array, got %s", jsonKind(obj[keySubconditions]))
	}
	if err := checkMembers(m, len(items), path); err != nil {
		return nil, err
	}
	d := Threshold(m, make([]*Details, len(items))...)
	for i, item := range items {
		if d.Subconditions[i], err = parseDetails(item, fmt.Sprintf("%s[%d]", subsPath, i), level+1); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// checkMembers enforces 1 <= m <= n <= MaxSubconditions for the threshold at path.
func checkMembers(m, n int, path string) error {
	switch {
	case n == 0:
		return detailsErr(join(path, keySubconditions), ErrInvalidDetails, "empty")
	case n > MaxSubconditions:
		return detailsErr(join(path, keySubconditions), ErrTooManySubconditions, "%d members, at most %d", n, MaxSubconditions)
	case m < 1:
		return detailsErr(join(path, keyThreshold), ErrInvalidDetails, "%d, must be at least 1", m)
	case m > n:
		return detailsErr(join(path, keyThreshold), ErrInvalidDetails, "%d exceeds the %d subconditions", m, n)
	}
	return nil
}

// parseInt reads a JSON integer: a json.Number without fraction or exponent,
// or an int.
func parseInt(v any, path string) (int, error) {
	switch n := v.(type) {
	case int:
		return n, nil
	case json.Number:
		i, err := strconv.Atoi(string(n))
		if err != nil {
			return 0, detailsErr(path, ErrInvalidDetails, "%q is not an integer", string(n))
		}
		return i, nil
	}
	return 0, detailsErr(path, ErrInvalidDetails, "want an integer (json.Number or int), got %s", jsonKind(v))
}

// checkKeys requires obj to have exactly the given keys; the first unknown key
// (in sorted order), else the first missing one, is reported.
func checkKeys(obj map[string]any, path string, keys ...string) error {
	var unknown []string
	for k := range obj {
		if !slices.Contains(keys, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return detailsErr(join(path, unknown[0]), ErrInvalidDetails, "unknown key")
	}
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			return detailsErr(join(path, k), ErrInvalidDetails, "missing key")
		}
	}
	return nil
}

// join appends a key to a path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonKind names the JSON kind of a decoded value for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64, int:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
