package cryptocondition

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// fingerprintChars is the length of an unpadded base64url SHA-256 digest.
const fingerprintChars = 43

// ParseURI parses a condition URI. It accepts what BigchainDB's output schema
// regex accepts and Python cryptoconditions' Condition.from_uri can read:
// "ni:///sha-256;" then the base64url fingerprint, "?", and the parameters
// fpt, cost and (thresholds only) subtypes, each once, in any order, joined by
// '&', with at most one trailing '&'. Within that it is strict, so that
// URI() of the result names the same condition:
//   - the fingerprint is exactly 43 base64url characters (32 bytes, canonical);
//   - fpt is ed25519-sha-256 or threshold-sha-256;
//   - cost is decimal without leading zeros and at most MaxCost;
//   - subtypes is required for a threshold and must be exactly
//     ed25519-sha-256 (as the schema requires); it is refused for Ed25519.
//
// Errors wrap ErrInvalidURI (ErrTooLarge past MaxURIBytes, ErrCostTooHigh past
// MaxCost, ErrUnsupportedType for other types).
func ParseURI(s string) (Condition, error) {
	if len(s) > MaxURIBytes {
		return Condition{}, fmt.Errorf("condition URI of %d bytes, limit %d: %w", len(s), MaxURIBytes, ErrTooLarge)
	}
	rest, ok := strings.CutPrefix(s, uriPrefix)
	if !ok {
		return Condition{}, uriErr("must start with %q", uriPrefix)
	}
	fp, query, ok := strings.Cut(rest, "?")
	if !ok {
		return Condition{}, uriErr("missing '?'")
	}
	var c Condition
	if err := parseFingerprint(fp, &c.Fingerprint); err != nil {
		return Condition{}, err
	}
	params, err := splitParams(query)
	if err != nil {
		return Condition{}, err
	}
	if err := applyParams(&c, params); err != nil {
		return Condition{}, err
	}
	return c, nil
}

// uriErr wraps ErrInvalidURI with a formatted reason.
func uriErr(format string, args ...any) error {
	return fmt.Errorf("condition URI %s: %w", fmt.Sprintf(format, args...), ErrInvalidURI)
}

// parseFingerprint decodes the canonical unpadded base64url form of a 32-byte
// fingerprint into out.
func parseFingerprint(s string, out *[32]byte) error {
	if len(s) != fingerprintChars || !isBase64URL(s) {
		return uriErr("fingerprint must be %d base64url characters", fingerprintChars)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != len(out) {
		return uriErr("fingerprint is not canonical base64url")
	}
	copy(out[:], b)
	return nil
}

// isBase64URL reports whether s holds only the base64url alphabet (the
// standard decoder would also skip '\r' and '\n', which must not pass).
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

// splitParams splits the query into name=value pairs: two or three of them,
// each name once, '&'-separated, one trailing '&' allowed.
func splitParams(query string) (map[string]string, error) {
	query = strings.TrimSuffix(query, "&")
	parts := strings.Split(query, "&")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, uriErr("has %d parameters, want 2 or 3", len(parts))
	}
	params := make(map[string]string, len(parts))
	for _, p := range parts {
		name, value, ok := strings.Cut(p, "=")
		if !ok {
			return nil, uriErr("parameter %q has no '='", p)
		}
		if name != "fpt" && name != "cost" && name != "subtypes" {
			return nil, uriErr("unknown parameter %q", name)
		}
		if _, dup := params[name]; dup {
			return nil, uriErr("parameter %q repeated", name)
		}
		params[name] = value
	}
	return params, nil
}

// applyParams sets c's type, cost and subtypes from the parsed parameters.
func applyParams(c *Condition, params map[string]string) error {
	fpt, ok := params["fpt"]
	if !ok {
		return uriErr("missing fpt")
	}
	if c.Type, ok = typeFromName(fpt); !ok {
		return fmt.Errorf("condition URI fpt %q: %w", fpt, ErrUnsupportedType)
	}
	cost, ok := params["cost"]
	if !ok {
		return uriErr("missing cost")
	}
	var err error
	if c.Cost, err = parseDecimalCost(cost); err != nil {
		return err
	}
	return applySubtypes(c, params)
}

// parseDecimalCost parses a canonical decimal cost of at most MaxCost.
func parseDecimalCost(s string) (uint64, error) {
	if s == "" || (s[0] == '0' && len(s) > 1) || strings.TrimLeft(s, "0123456789") != "" {
		return 0, uriErr("cost %q is not a canonical decimal", s)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > MaxCost {
		return 0, fmt.Errorf("condition URI cost %s exceeds %d: %w", s, uint64(MaxCost), ErrCostTooHigh)
	}
	return v, nil
}

// applySubtypes checks the subtypes parameter against c.Type and sets
// c.Subtypes.
func applySubtypes(c *Condition, params map[string]string) error {
	value, present := params["subtypes"]
	switch {
	case c.Type == TypeEd25519 && present:
		return uriErr("subtypes given for %v", c.Type)
	case c.Type == TypeThreshold && !present:
		return uriErr("missing subtypes for %v", c.Type)
	case c.Type == TypeThreshold && value != TypeEd25519.String():
		return fmt.Errorf("condition URI subtypes %q, want %q: %w", value, TypeEd25519.String(), ErrUnsupportedType)
	case c.Type == TypeThreshold:
		c.Subtypes = thresholdSubtypes
	}
	return nil
}
