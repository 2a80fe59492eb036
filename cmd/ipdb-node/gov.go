package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/mr-tron/base58"
	"github.com/spf13/cobra"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/governance"
	"github.com/ipdb/ipdb-node/ledger"
)

// Defaults and limits of the governance commands (gov and params).
const (
	// defaultGovTimeout bounds one gov or params command: a mode=commit POST
	// and a few reads.
	defaultGovTimeout = 60 * time.Second
	// maxGovTimeout bounds --timeout: an operator waiting longer than this
	// for one block has a stuck network, not a slow one.
	maxGovTimeout = time.Hour
	// maxJSONInt is the largest integer the governance rules accept in an
	// election (2^53-1, what a JavaScript client reads exactly).
	maxJSONInt = 1<<53 - 1
	// uuidBytes is the size of the random UUID4 seed of a proposal.
	uuidBytes = 16
)

// govFlags are the flags shared by the gov subcommands and params.
type govFlags struct {
	api     string
	asJSON  bool
	timeout time.Duration
}

// add registers the shared flags on c, as persistent flags when
// persistent (the gov group) or local ones (params).
func (f *govFlags) add(c *cobra.Command, persistent bool) {
	fs := c.Flags()
	if persistent {
		fs = c.PersistentFlags()
	}
	fs.StringVar(&f.api, "api", "", "API URL, such as "+defaultAPI+" (default: the [http] addr of the home's config)")
	fs.BoolVar(&f.asJSON, "json", false, "print one JSON value instead of text")
	fs.DurationVar(&f.timeout, "timeout", defaultGovTimeout, "give up after this long (such as 30s or 2m)")
}

// govSession is one gov or params command talking to one node.
type govSession struct {
	a    *app
	f    *govFlags
	base string
	c    *apiClient
}

// newGovSession checks the shared flags and returns a session with the API
// they name and ctx bounded by --timeout; the caller calls cancel.
func (a *app) newGovSession(ctx context.Context, f *govFlags) (*govSession, context.Context, context.CancelFunc, error) {
	if f.timeout <= 0 || f.timeout > maxGovTimeout {
		return nil, nil, nil, fmt.Errorf("--timeout: want more than 0s and at most %v, got %v", maxGovTimeout, f.timeout)
	}
	base, err := a.apiURL(f.api)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	return &govSession{a: a, f: f, base: base, c: newAPIClient(base)}, ctx, cancel, nil
}

// runGov runs fn in a session of the shared flags.
func (a *app) runGov(ctx context.Context, f *govFlags, fn func(context.Context, *govSession) error) error {
	s, ctx, cancel, err := a.newGovSession(ctx, f)
	if err != nil {
		return err
	}
	defer cancel()
	return fn(ctx, s)
}

// newGovCmd returns `ipdb-node gov` and its subcommands.
func newGovCmd(a *app) *cobra.Command {
	f := &govFlags{}
	c := newGroupCmd("gov", "Propose, vote on and show elections of the caretaker set, parameters and quotas",
		newGovProposeCmd(a, f), newGovVoteCmd(a, f), newGovShowCmd(a, f), newGovListCmd(a, f))
	c.Long = "gov runs the network's governance: a caretaker proposes an election (a change of\n" +
		"the caretaker set, of a network parameter, or of a key's quota), the caretakers vote\n" +
		"with the vote tokens it gave them, and more than 2/3 of the voting power approves it;\n" +
		"it takes effect at the next block. The signing key is the home's caretaker key\n" +
		"(--home), the API the home's [http] addr unless --api is given."
	f.add(c, true)
	return c
}

// signer returns the home's caretaker key, printing a warning about its
// file mode to stderr.
func (s *govSession) signer() (ledger.KeyPair, error) {
	dir, err := s.a.homeDir()
	if err != nil {
		return ledger.KeyPair{}, err
	}
	k, warning, err := home{dir}.loadKey()
	if err != nil {
		return ledger.KeyPair{}, fmt.Errorf("the signing key is the home's caretaker key (--home): %w", err)
	}
	if warning != "" {
		fmt.Fprintf(s.a.stderr, "ipdb-node: warning: %s\n", warning)
	}
	return k, nil
}

// getJSON GETs path and decodes its answer into v, returning the raw answer.
func (s *govSession) getJSON(ctx context.Context, path string, v any) ([]byte, error) {
	body, err := s.c.get(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, fmt.Errorf("GET %s%s: decode answer: %w", s.base, path, err)
	}
	return body, nil
}

// post posts tx with mode commit. A refusal (4xx) is reported with the
// node's message, which names the rule at fault; a 5xx (such as the commit
// wait passing) with its status, as the transaction may still commit.
func (s *govSession) post(ctx context.Context, what string, tx *ledger.Tx) error {
	_, err := s.c.postTx(ctx, tx.Canonical(), modeCommit)
	var ae *apiError
	if errors.As(err, &ae) && ae.status/100 == 4 {
		return &refusedError{what: what, api: ae}
	}
	if errors.As(err, &ae) {
		return fmt.Errorf("the %s %s is not known to be committed: %d %s: %s", what, tx.ID, ae.status, http.StatusText(ae.status), ae.message)
	}
	if err != nil {
		return fmt.Errorf("post the %s %s: %w", what, tx.ID, err)
	}
	return nil
}

// refusedError is a transaction the node refused (a 4xx answer).
type refusedError struct {
	what string // "vote", "add-caretaker election", ...
	api  *apiError
}

// Error returns "the node refused the WHAT: MESSAGE".
func (e *refusedError) Error() string {
	return fmt.Sprintf("the node refused the %s: %s", e.what, e.api.message)
}

// Unwrap returns the API's answer.
func (e *refusedError) Unwrap() error { return e.api }

// election reads one election, returning it and its raw JSON.
func (s *govSession) election(ctx context.Context, id string) (governance.Election, []byte, error) {
	var e governance.Election
	raw, err := s.getJSON(ctx, apiPrefix+"/elections/"+id, &e)
	if err != nil {
		return governance.Election{}, nil, err
	}
	if e.ID != id {
		return governance.Election{}, nil, fmt.Errorf("asked the API for election %s, got %q", id, e.ID)
	}
	return e, raw, nil
}

// writeCompact writes raw JSON as one line.
func writeCompact(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return fmt.Errorf("compact json: %w", err)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// newSeed returns a random UUID4 (RFC 9562), the seed BigchainDB's CLI puts
// in an election so that identical proposals get distinct ids.
func newSeed() (string, error) {
	var u [uuidBytes]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", fmt.Errorf("seed: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // variant 10
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}

// checkElectionID refuses an id that is not 64 lowercase hex digits.
func checkElectionID(id string) error {
	if !isTxID(id) {
		return fmt.Errorf("%q is not an election id (64 lowercase hex digits, as gov propose and gov list print)", id)
	}
	return nil
}

// writeJSONCompact writes v as JSON on one line.
func writeJSONCompact(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// validatorEntry is one entry of GET /api/v1/validators (and of the status'
// validators): BigchainDB's shape plus the peer id and name.
type validatorEntry struct {
	PublicKey struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"public_key"`
	VotingPower uint64 `json:"voting_power"`
	PeerID      string `json:"peer_id"`
	Name        string `json:"name"`
}

// caretaker returns the entry as a genesis.Caretaker, its key in base58.
func (v validatorEntry) caretaker() (genesis.Caretaker, error) {
	pub, err := decodeValidatorKey(v.PublicKey.Type, v.PublicKey.Value)
	if err != nil {
		return genesis.Caretaker{}, err
	}
	return genesis.Caretaker{Name: v.Name, PublicKey: pub, Power: v.VotingPower, PeerID: v.PeerID}, nil
}

// decodeValidatorKey returns the base58 form of a validator key in any of
// BigchainDB's four encodings.
func decodeValidatorKey(typ, value string) (string, error) {
	var raw []byte
	var err error
	switch typ {
	case "ed25519-base58":
		raw, err = base58.Decode(value)
	case "ed25519-base64":
		raw, err = base64.StdEncoding.DecodeString(value)
	case "ed25519-base16":
		raw, err = hex.DecodeString(value)
	case "ed25519-base32":
		raw, err = base32.StdEncoding.DecodeString(value)
	default:
		return "", fmt.Errorf("validator key type %q: want ed25519-base58, -base64, -base16 or -base32", typ)
	}
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return "", fmt.Errorf("validator key %q (%s): not a %d-byte Ed25519 key", value, typ, ed25519.PublicKeySize)
	}
	return base58.Encode(raw), nil
}

// validatorSet converts validator entries to a governance.Set.
func validatorSet(entries []validatorEntry) (governance.Set, error) {
	if len(entries) > genesis.MaxCaretakers {
		return governance.Set{}, fmt.Errorf("%d validators, over the limit of %d", len(entries), genesis.MaxCaretakers)
	}
	set := governance.Set{Caretakers: make([]genesis.Caretaker, len(entries))}
	for i, v := range entries {
		c, err := v.caretaker()
		if err != nil {
			return governance.Set{}, fmt.Errorf("validator %d: %w", i, err)
		}
		set.Caretakers[i] = c
	}
	return set, nil
}

// validators reads the caretaker set in force at the node's next height.
func (s *govSession) validators(ctx context.Context) (governance.Set, error) {
	var entries []validatorEntry
	if _, err := s.getJSON(ctx, apiPrefix+"/validators", &entries); err != nil {
		return governance.Set{}, err
	}
	set, err := validatorSet(entries)
	if err != nil {
		return governance.Set{}, fmt.Errorf("GET %s%s/validators: %w", s.base, apiPrefix, err)
	}
	return set, nil
}
