package governance

import (
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/mr-tron/base58"

	"github.com/ipdb/ipdb-node/ledger"
)

// Limits on election asset data, which comes from outside.
const (
	// MaxSeedBytes bounds asset.data.seed: a UUID4 is 36 bytes.
	MaxSeedBytes = 64
	// maxKeyChars bounds a public key string before decoding: 32 bytes are
	// 64 hex, 56 base32, 44 base64 or at most 44 base58 characters.
	maxKeyChars = 128
	// maxParamNameBytes bounds a parameter name; the longest is 25 bytes.
	maxParamNameBytes = 64
	// MaxDataInt is the largest integer asset data may hold (2^53-1): what
	// a JavaScript client reads exactly.
	MaxDataInt = 1<<53 - 1
	// maxIntDigits is the most digits an integer of asset data may have:
	// MaxDataInt has 16.
	maxIntDigits = 16
)

// Key encodings a VALIDATOR_ELECTION's public_key.type may name.
const (
	keyBase16 = "ed25519-base16"
	keyBase32 = "ed25519-base32"
	keyBase64 = "ed25519-base64"
	keyBase58 = "ed25519-base58"
)

// Quota actions.
const (
	actionGrant  = "grant"
	actionRevoke = "revoke"
)

// dataField is the field path of asset.data.key, for errors.
func dataField(key string) string { return "asset.data." + key }

// parseProposal reads the asset.data of an election of operation op
// strictly: every field required, no other, exact types, integers exact
// and at most MaxDataInt. A VALIDATOR_ELECTION's Kind is left empty (the
// set in force decides it); keys come out in base58.
func parseProposal(op string, data any) (Proposal, string, error) {
	switch op {
	case ledger.OpValidatorElection:
		return parseValidator(data)
	case ledger.OpParameterElection:
		return parseParam(data)
	case ledger.OpQuotaElection:
		return parseQuota(data)
	}
	return Proposal{}, "", refuse(ErrProposal, "operation", "%s is not a governance election", op)
}

// fields checks that data is an object with exactly the keys want (sorted).
func fields(field string, data any, want ...string) (map[string]any, error) {
	m, ok := data.(map[string]any)
	if !ok {
		return nil, refuse(ErrProposal, field, "%s: want an object", field)
	}
	for k := range m {
		if !slices.Contains(want, k) {
			return nil, refuse(ErrProposal, field, "%s: unexpected field %q", field, k)
		}
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			return nil, refuse(ErrProposal, field+"."+k, "%s.%s: required", field, k)
		}
	}
	return m, nil
}

// str reads m[key] as a string of 1 to limit bytes.
func str(m map[string]any, key string, limit int) (string, error) {
	s, ok := m[key].(string)
	if !ok || len(s) == 0 || len(s) > limit {
		return "", refuse(ErrProposal, dataField(key), "%s: want a string of 1 to %d bytes", dataField(key), limit)
	}
	return s, nil
}

// integer reads m[key] as an exact integer from 0 to MaxDataInt.
func integer(m map[string]any, key string) (uint64, error) {
	n, ok := m[key].(json.Number)
	s := string(n)
	bad := !ok || s == "" || len(s) > maxIntDigits || (s[0] == '0' && len(s) > 1)
	for i := 0; !bad && i < len(s); i++ {
		bad = s[i] < '0' || s[i] > '9'
	}
	if bad {
		return 0, refuse(ErrProposal, dataField(key), "%s: want an integer from 0 to %d", dataField(key), uint64(MaxDataInt))
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > MaxDataInt {
		return 0, refuse(ErrProposal, dataField(key), "%s: want an integer from 0 to %d", dataField(key), uint64(MaxDataInt))
	}
	return v, nil
}

func parseValidator(data any) (Proposal, string, error) {
	m, err := fields("asset.data", data, "node_id", "power", "public_key", "seed")
	if err != nil {
		return Proposal{}, "", err
	}
	var p Proposal
	if p.PublicKey, err = validatorKey(m["public_key"]); err != nil {
		return Proposal{}, "", err
	}
	if p.Power, err = integer(m, "power"); err != nil {
		return Proposal{}, "", err
	}
	if p.PeerID, err = str(m, "node_id", maxKeyChars); err != nil {
		return Proposal{}, "", err
	}
	seed, err := str(m, "seed", MaxSeedBytes)
	return p, seed, err
}

// validatorKey reads {"value", "type"} and returns the key in base58.
func validatorKey(v any) (string, error) {
	const field = "asset.data.public_key"
	m, err := fields(field, v, "type", "value")
	if err != nil {
		return "", err
	}
	value, ok := m["value"].(string)
	if !ok || len(value) > maxKeyChars {
		return "", refuse(ErrInvalidPublicKey, field+".value", "%s.value: want a string of at most %d bytes", field, maxKeyChars)
	}
	typ, _ := m["type"].(string)
	raw, err := decodeKeyAs(typ, value)
	if err != nil {
		return "", err
	}
	if len(raw) != 32 {
		return "", refuse(ErrInvalidPublicKey, field+".value", "Public key should be of size 32, not %d", len(raw))
	}
	return base58.Encode(raw), nil
}

// decodeKeyAs decodes value in the encoding typ names.
func decodeKeyAs(typ, value string) ([]byte, error) {
	var raw []byte
	var err error
	switch typ {
	case keyBase16:
		raw, err = hex.DecodeString(value)
	case keyBase32:
		raw, err = base32.StdEncoding.DecodeString(value)
	case keyBase64:
		raw, err = base64.StdEncoding.DecodeString(value)
	case keyBase58:
		raw, err = base58.Decode(value)
		if err == nil && base58.Encode(raw) != value {
			err = strconv.ErrSyntax
		}
	default:
		return nil, refuse(ErrInvalidPublicKey, "asset.data.public_key.type",
			"asset.data.public_key.type: want %s, %s, %s or %s", keyBase16, keyBase32, keyBase64, keyBase58)
	}
	if err != nil {
		return nil, refuse(ErrInvalidPublicKey, "asset.data.public_key.value", "asset.data.public_key.value: not %s", typ)
	}
	return raw, nil
}

func parseParam(data any) (Proposal, string, error) {
	m, err := fields("asset.data", data, "name", "seed", "value")
	if err != nil {
		return Proposal{}, "", err
	}
	p := Proposal{Kind: KindSetParam}
	if p.Param, err = str(m, "name", maxParamNameBytes); err != nil {
		return Proposal{}, "", err
	}
	if p.Value, err = integer(m, "value"); err != nil {
		return Proposal{}, "", err
	}
	seed, err := str(m, "seed", MaxSeedBytes)
	return p, seed, err
}

func parseQuota(data any) (Proposal, string, error) {
	m, err := fields("asset.data", data, "action", "bytes", "public_key", "seed", "txs", "until_height")
	if err != nil {
		return Proposal{}, "", err
	}
	var p Proposal
	switch m["action"] {
	case actionGrant:
		p.Kind = KindGrantQuota
	case actionRevoke:
		p.Kind = KindRevokeQuota
	default:
		return Proposal{}, "", refuse(ErrProposal, "asset.data.action", `asset.data.action: want "grant" or "revoke"`)
	}
	if p.PublicKey, err = str(m, "public_key", maxKeyChars); err != nil {
		return Proposal{}, "", err
	}
	if _, err := ledger.DecodePublicKey(p.PublicKey); err != nil || !canonicalBase58(p.PublicKey) {
		return Proposal{}, "", refuse(ErrInvalidPublicKey, "asset.data.public_key", "asset.data.public_key: want the base58 of a 32-byte Ed25519 key")
	}
	if p.Txs, err = integer(m, "txs"); err != nil {
		return Proposal{}, "", err
	}
	if p.Bytes, err = integer(m, "bytes"); err != nil {
		return Proposal{}, "", err
	}
	if p.UntilHeight, err = integer(m, "until_height"); err != nil {
		return Proposal{}, "", err
	}
	seed, err := str(m, "seed", MaxSeedBytes)
	return p, seed, err
}

// canonicalBase58 reports whether s is the one base58 spelling of its bytes.
func canonicalBase58(s string) bool {
	b, err := base58.Decode(s)
	return err == nil && base58.Encode(b) == s
}
