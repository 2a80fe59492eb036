package node

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits of the API keys file and of credentials headers, each with the
// reason for it.
const (
	// maxKeysFileBytes bounds the keys file: maxAPIKeys entries of about
	// 100 bytes.
	maxKeysFileBytes = 1 << 20
	// maxAPIKeys bounds the entries: each holds a bucket, and a gateway
	// with more customers belongs in a database.
	maxAPIKeys = 10_000
	// maxAppIDBytes bounds app_id: IPDB's were 8 hex characters.
	maxAppIDBytes = 64
	// minAppKeyBytes, maxAppKeyBytes bound app_key: IPDB's were 32 hex
	// characters; below 16 a key is guessable, above 256 it is junk.
	minAppKeyBytes = 16
	maxAppKeyBytes = 256
	// maxKeyNameBytes bounds a key's name (logs and the keys file only).
	maxKeyNameBytes = 100
)

// Credentials headers: IPDB's gateway took app_id and app_key headers;
// Authorization: Bearer <app_key> is the usual alternative.
const (
	headerAppID   = "app_id"
	headerAppKey  = "app_key"
	headerAuth    = "Authorization"
	bearerPrefix  = "bearer "
	appIDCharset  = "A-Z a-z 0-9 . _ ~ -"
	appKeyCharset = "A-Z a-z 0-9 . _ ~ - + / and trailing ="
)

// ErrGatewayKeys wraps every problem of an API keys file.
var ErrGatewayKeys = errors.New("node: API keys file")

// APIKey is one entry of the API keys file: a client that is limited by
// its own bucket instead of its IP's.
type APIKey struct {
	// AppID names the key in headers, logs and metrics; it is not secret.
	AppID string `json:"app_id"`
	// AppKey is the secret the client sends.
	AppKey string `json:"app_key"`
	// Rate is the key's requests per second; 0 takes gateway.key_rate.
	Rate float64 `json:"rate"`
	// Burst is the key's burst; 0 takes gateway.key_burst.
	Burst int `json:"burst"`
	// Name describes the key's holder, for operators.
	Name string `json:"name"`
}

// LoadAPIKeys reads and checks the keys file at path (ParseAPIKeys).
func LoadAPIKeys(path string) ([]APIKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrGatewayKeys, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeysFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrGatewayKeys, path, err)
	}
	keys, err := ParseAPIKeys(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}

// ParseAPIKeys decodes a keys file, a JSON array of APIKey, strictly (no
// unknown field, nothing after the array) and checks every entry: app_id
// of 1 to 64 characters of A-Z a-z 0-9 . _ ~ -, app_key of 16 to 256
// token characters, both unique, rate and burst in the gateway's bounds,
// at most 10,000 entries. Errors name the entry.
func ParseAPIKeys(b []byte) ([]APIKey, error) {
	if len(b) > maxKeysFileBytes {
		return nil, fmt.Errorf("%w: %d bytes, over the limit of %d", ErrGatewayKeys, len(b), maxKeysFileBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var keys []APIKey
	if err := dec.Decode(&keys); err != nil {
		return nil, fmt.Errorf("%w: want a JSON array of {\"app_id\", \"app_key\", \"rate\", \"burst\", \"name\"}: %w", ErrGatewayKeys, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON array", ErrGatewayKeys)
	}
	if len(keys) > maxAPIKeys {
		return nil, fmt.Errorf("%w: %d entries, over the limit of %d", ErrGatewayKeys, len(keys), maxAPIKeys)
	}
	return keys, checkKeys(keys)
}

// checkKeys checks each entry and that ids and keys are unique.
func checkKeys(keys []APIKey) error {
	ids := make(map[string]int, len(keys))
	secrets := make(map[string]int, len(keys))
	var errs []error
	for i, k := range keys {
		where := fmt.Sprintf("entry %d (app_id %q)", i, k.AppID)
		if err := k.check(); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %w", ErrGatewayKeys, where, err))
			continue
		}
		if j, dup := ids[k.AppID]; dup {
			errs = append(errs, fmt.Errorf("%w: %s: app_id also in entry %d", ErrGatewayKeys, where, j))
		}
		if j, dup := secrets[k.AppKey]; dup {
			errs = append(errs, fmt.Errorf("%w: %s: app_key also in entry %d", ErrGatewayKeys, where, j))
		}
		ids[k.AppID], secrets[k.AppKey] = i, i
	}
	return errors.Join(errs...)
}

// check checks one entry's fields.
func (k APIKey) check() error {
	if err := checkAppID(k.AppID); err != nil {
		return err
	}
	if err := checkAppKey(k.AppKey); err != nil {
		return err
	}
	if err := checkRate("rate", k.Rate); err != nil {
		return err
	}
	if err := between("burst", k.Burst, 0, maxGatewayBurst); err != nil {
		return err
	}
	if len(k.Name) > maxKeyNameBytes || !printable(k.Name, false) {
		return fmt.Errorf("name: must be at most %d printable characters", maxKeyNameBytes)
	}
	return nil
}

// checkAppID returns an error unless id is a valid app_id.
func checkAppID(id string) error {
	if id == "" || len(id) > maxAppIDBytes || !tokenChars(id, false) {
		return fmt.Errorf("app_id must be 1 to %d characters of %s", maxAppIDBytes, appIDCharset)
	}
	return nil
}

// checkAppKey returns an error unless key is a valid app_key.
func checkAppKey(key string) error {
	if len(key) < minAppKeyBytes || len(key) > maxAppKeyBytes || !tokenChars(strings.TrimRight(key, "="), true) {
		return fmt.Errorf("app_key must be %d to %d characters of %s", minAppKeyBytes, maxAppKeyBytes, appKeyCharset)
	}
	return nil
}

// tokenChars reports whether s holds only unreserved URI characters, plus
// + and / when token68 (RFC 9110's token68, without the trailing =).
func tokenChars(s string, token68 bool) bool {
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '~', c == '-':
		case token68 && (c == '+' || c == '/'):
		default:
			return false
		}
	}
	return true
}

// printable reports whether s is printable ASCII (spaces allowed unless
// noSpace).
func printable(s string, noSpace bool) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c > 0x7e || (noSpace && c == ' ') {
			return false
		}
	}
	return true
}

// keyBucket is one API key's bucket and request counts.
type keyBucket struct {
	id     string
	secret []byte
	lim    *rate.Limiter // nil: unlimited
	burst  int
	policy string // RateLimit-Policy value; "" when unlimited

	mu     sync.Mutex // guards counts
	counts minuteCounts
}

// keyRing holds the API keys, by app_id and by the hash of app_key. It is
// immutable after newKeyRing except for the buckets, which lock themselves.
type keyRing struct {
	byID   map[string]*keyBucket
	byHash map[[sha256.Size]byte]*keyBucket
}

// newKeyRing returns the buckets of keys with the gateway's defaults.
func newKeyRing(keys []APIKey, c GatewayConfig) *keyRing {
	kr := &keyRing{byID: make(map[string]*keyBucket, len(keys)), byHash: make(map[[sha256.Size]byte]*keyBucket, len(keys))}
	for _, k := range keys {
		r, burst := c.KeyRate, c.KeyBurst
		if k.Rate > 0 {
			r, burst = k.Rate, k.Burst
		} else if k.Burst > 0 {
			burst = k.Burst
		}
		b := &keyBucket{id: k.AppID, secret: []byte(k.AppKey)}
		if r > 0 {
			b.burst = burstOf(r, burst)
			b.lim = rate.NewLimiter(rate.Limit(r), b.burst)
			b.policy = policyValue(policyKey, r, b.burst)
		}
		kr.byID[k.AppID] = b
		kr.byHash[sha256.Sum256(b.secret)] = b
	}
	return kr
}

// take counts a request of the key and spends a token of its bucket.
func (b *keyBucket) take(now time.Time) verdict {
	b.mu.Lock()
	b.counts.add(now)
	b.mu.Unlock()
	if b.lim == nil {
		return verdict{ok: true}
	}
	return spend(b.lim, now)
}

// credentials are what a request's headers claim.
type credentials struct {
	id, key, bearer string
	present         bool
}

// readCredentials reads the app_id, app_key and Authorization: Bearer
// headers, refusing junk with a 400 that names the header.
func readCredentials(h http.Header) (credentials, *apiError) {
	ids, keys := h.Values(headerAppID), h.Values(headerAppKey)
	var c credentials
	bearers := 0
	for _, v := range h.Values(headerAuth) {
		if len(v) >= len(bearerPrefix) && strings.EqualFold(v[:len(bearerPrefix)], bearerPrefix) {
			c.bearer, bearers = strings.TrimSpace(v[len(bearerPrefix):]), bearers+1
		}
	}
	c.present = len(ids) > 0 || len(keys) > 0 || bearers > 0
	switch {
	case !c.present:
		return c, nil
	case len(ids) > 1 || len(keys) > 1 || bearers > 1:
		return c, errCredentials("more than one app_id, app_key or Authorization: Bearer header")
	case len(ids) == 1 && len(keys) == 0:
		return c, errCredentials("app_id without app_key")
	case len(keys) == 1 && len(ids) == 0:
		return c, errCredentials("app_key without app_id")
	}
	if len(ids) == 1 {
		c.id, c.key = ids[0], keys[0]
	}
	return c, c.check()
}

// check refuses malformed or conflicting credentials.
func (c credentials) check() *apiError {
	if c.id != "" || c.key != "" {
		if err := checkAppID(c.id); err != nil {
			return errCredentials(err.Error())
		}
		if err := checkAppKey(c.key); err != nil {
			return errCredentials(err.Error())
		}
	}
	if c.bearer != "" || (c.id == "" && c.key == "") {
		if err := checkAppKey(c.bearer); err != nil {
			return errCredentials("the Bearer token: " + err.Error())
		}
	}
	if c.key != "" && c.bearer != "" && c.key != c.bearer {
		return errCredentials("app_key and the Bearer token differ")
	}
	return nil
}

// authenticate returns the bucket of a request's credentials: nil for a
// request without any, a 400 for junk and a 401 for an unknown key.
func (kr *keyRing) authenticate(h http.Header) (*keyBucket, *apiError) {
	c, e := readCredentials(h)
	if e != nil || !c.present {
		return nil, e
	}
	if c.id != "" {
		b := kr.byID[c.id]
		if b == nil || subtle.ConstantTimeCompare(b.secret, []byte(c.key)) != 1 {
			return nil, errUnknownKey(fmt.Sprintf("app_id %q with this app_key", c.id))
		}
		return b, nil
	}
	b := kr.byHash[sha256.Sum256([]byte(c.bearer))]
	if b == nil {
		return nil, errUnknownKey("the Bearer token matches no app_key")
	}
	return b, nil
}

// errCredentials returns the 400 of malformed credentials headers.
func errCredentials(what string) *apiError {
	return errMessage(http.StatusBadRequest, "Malformed API credentials: "+what)
}

// errUnknownKey returns the 401 of credentials that match no key; it never
// repeats the secret.
func errUnknownKey(what string) *apiError {
	return errMessage(http.StatusUnauthorized, "Unknown API key: "+what)
}
