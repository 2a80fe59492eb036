package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/governance"
	"github.com/ipdb/ipdb-node/ledger"
)

// proposeFlags are the flags of the gov propose subcommands, as typed: the
// numbers are parsed by parseCount for errors that say what is wanted.
type proposeFlags struct {
	publicKey, peerID         string
	power, txs, bytes, height string
}

// proposedJSON is what gov propose --json prints.
type proposedJSON struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Height uint64 `json:"height"`
}

// newGovProposeCmd returns `ipdb-node gov propose` and its subcommands.
func newGovProposeCmd(a *app, f *govFlags) *cobra.Command {
	c := newGroupCmd("propose", "Propose an election, signed by the home's caretaker key",
		newProposeCmd(a, f, governance.KindAddCaretaker, "add-caretaker --public-key PK --peer-id ID --power N",
			"Propose a new caretaker with its libp2p peer id and voting power"),
		newProposeCmd(a, f, governance.KindRemoveCaretaker, "remove-caretaker --public-key PK",
			"Propose to remove a caretaker from the set"),
		newProposeCmd(a, f, governance.KindSetPower, "set-power --public-key PK --power N",
			"Propose a new voting power for a caretaker"),
		newSetParamCmd(a, f),
		newProposeCmd(a, f, governance.KindGrantQuota, "grant-quota --public-key PK --txs N [--bytes B] [--until-height H]",
			"Propose a quota of transactions (and bytes) a key may submit beyond the free tier"),
		newProposeCmd(a, f, governance.KindRevokeQuota, "revoke-quota --public-key PK",
			"Propose to revoke a key's quota"))
	c.Long = "propose signs an election with the home's caretaker key and posts it (mode commit).\n" +
		"Its vote tokens go to the caretakers in force at its block, one per unit of power;\n" +
		"every caretaker, the proposer too, then runs `ipdb-node gov vote ID`."
	return c
}

// newProposeCmd returns one flag-driven propose subcommand of kind.
func newProposeCmd(a *app, f *govFlags, kind, use, short string) *cobra.Command {
	var pf proposeFlags
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := pf.proposal(kind)
			if err != nil {
				return err
			}
			return a.runGov(cmd.Context(), f, func(ctx context.Context, s *govSession) error {
				if kind == governance.KindGrantQuota && pf.bytes == "" {
					if p.Bytes, err = s.defaultQuotaBytes(ctx, p.Txs); err != nil {
						return err
					}
				}
				return s.propose(ctx, p)
			})
		},
	}
	fs := c.Flags()
	fs.StringVar(&pf.publicKey, "public-key", "", "the caretaker's or key's public key (base58)")
	switch kind {
	case governance.KindAddCaretaker:
		fs.StringVar(&pf.peerID, "peer-id", "", "the new caretaker's libp2p peer id (ipdb-node keys show on its home)")
		fs.StringVar(&pf.power, "power", "", fmt.Sprintf("voting power, 1 to %d", uint64(genesis.MaxPower)))
	case governance.KindSetPower:
		fs.StringVar(&pf.power, "power", "", fmt.Sprintf("new voting power, 1 to %d", uint64(genesis.MaxPower)))
	case governance.KindGrantQuota:
		fs.StringVar(&pf.txs, "txs", "", "transactions the key may submit")
		fs.StringVar(&pf.bytes, "bytes", "", "transaction bytes the key may submit (default: --txs × max_tx_bytes)")
		fs.StringVar(&pf.height, "until-height", "0", "last height of the quota (0: no end)")
	}
	return c
}

// newSetParamCmd returns `ipdb-node gov propose set-param NAME VALUE`.
func newSetParamCmd(a *app, f *govFlags) *cobra.Command {
	c := &cobra.Command{
		Use:   "set-param NAME VALUE",
		Short: "Propose a new value of a network parameter (see ipdb-node params)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := paramProposal(args[0], args[1])
			if err != nil {
				return err
			}
			return a.runGov(cmd.Context(), f, func(ctx context.Context, s *govSession) error { return s.propose(ctx, p) })
		},
	}
	c.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if strings.Contains(err.Error(), "unknown shorthand flag") && negativeArg.MatchString(err.Error()) {
			return fmt.Errorf("set-param: VALUE must be a whole number from 0 to %d, not negative (%w)", uint64(maxJSONInt), err)
		}
		return fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())
	})
	return c
}

// negativeArg matches pflag's error for a negative number taken for a
// shorthand flag ("unknown shorthand flag: '1' in -1").
var negativeArg = regexp.MustCompile(`in -[0-9]`)

// proposal checks the flags of kind and returns its proposal (without the
// peer id of set-power and remove-caretaker, which the set gives).
func (pf proposeFlags) proposal(kind string) (governance.Proposal, error) {
	p := governance.Proposal{Kind: kind}
	var err error
	if p.PublicKey, err = parsePublicKeyFlag(pf.publicKey); err != nil {
		return p, err
	}
	switch kind {
	case governance.KindAddCaretaker:
		if p.PeerID, err = parsePeerIDFlag(pf.peerID); err != nil {
			return p, err
		}
		p.Power, err = parseCount("--power", pf.power, 1, genesis.MaxPower)
	case governance.KindSetPower:
		if p.Power, err = parseCount("--power", pf.power, 1, genesis.MaxPower); err != nil && pf.power == "0" {
			err = fmt.Errorf("%w; to remove a caretaker, use gov propose remove-caretaker", err)
		}
	case governance.KindGrantQuota:
		return pf.quota(p)
	}
	return p, err
}

// quota fills the grant-quota numbers of p; Bytes stays 0 without --bytes.
func (pf proposeFlags) quota(p governance.Proposal) (governance.Proposal, error) {
	var err error
	if p.Txs, err = parseCount("--txs", pf.txs, 1, maxJSONInt); err != nil {
		return p, err
	}
	if pf.bytes != "" {
		if p.Bytes, err = parseCount("--bytes", pf.bytes, 1, maxJSONInt); err != nil {
			return p, err
		}
	}
	p.UntilHeight, err = parseCount("--until-height", pf.height, 0, maxJSONInt)
	return p, err
}

// paramProposal checks set-param's NAME and VALUE. The value's bounds are
// left to the node, whose rules are the authority.
func paramProposal(name, value string) (governance.Proposal, error) {
	if _, err := genesis.DefaultParams().Get(name); err != nil {
		return governance.Proposal{}, fmt.Errorf("set-param %s: %w", name, err)
	}
	v, err := parseCount("VALUE", value, 0, maxJSONInt)
	if err != nil {
		return governance.Proposal{}, fmt.Errorf("set-param %s: %w", name, err)
	}
	return governance.Proposal{Kind: governance.KindSetParam, Param: name, Value: v}, nil
}

// parseCount parses a flag's whole number within [lo, hi].
func parseCount(flag, s string, lo, hi uint64) (uint64, error) {
	want := fmt.Sprintf("a whole number from %d to %d", lo, hi)
	if s == "" {
		return 0, fmt.Errorf("%s: required: %s", flag, want)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	switch {
	case strings.HasPrefix(s, "-"):
		return 0, fmt.Errorf("%s: want %s, got the negative %s", flag, want, s)
	case err != nil:
		return 0, fmt.Errorf("%s: want %s, got %q", flag, want, s)
	case v < lo || v > hi:
		return 0, fmt.Errorf("%s: want %s, got %d", flag, want, v)
	}
	return v, nil
}

// parsePublicKeyFlag checks --public-key: a base58 Ed25519 key.
func parsePublicKeyFlag(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("--public-key: required: a base58 Ed25519 public key")
	}
	if _, err := ledger.DecodePublicKey(s); err != nil {
		return "", fmt.Errorf("--public-key %q: %w", s, err)
	}
	return s, nil
}

// parsePeerIDFlag checks --peer-id: a libp2p peer id.
func parsePeerIDFlag(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("--peer-id: required: the libp2p peer id of the new caretaker's node (ipdb-node keys show)")
	}
	if _, err := genesis.DecodePeerID(s); err != nil {
		return "", fmt.Errorf("--peer-id %q: %w", s, err)
	}
	return s, nil
}

// defaultQuotaBytes returns txs × max_tx_bytes in force, grant-quota's
// default byte allowance.
func (s *govSession) defaultQuotaBytes(ctx context.Context, txs uint64) (uint64, error) {
	ps, _, err := s.params(ctx)
	if err != nil {
		return 0, err
	}
	per, ok := ps.value("max_tx_bytes")
	if !ok || per == 0 {
		return 0, fmt.Errorf("GET %s%s/params: no max_tx_bytes; give --bytes", s.base, apiPrefix)
	}
	if txs > maxJSONInt/per {
		return 0, fmt.Errorf("--txs %d × max_tx_bytes %d is over %d; give --bytes", txs, per, uint64(maxJSONInt))
	}
	return txs * per, nil
}

// proposeAttempts bounds how many times propose builds an election: the
// caretaker set can change between reading it and the election's block
// (an election that changes it concludes then), and the node refuses an
// election built for another set.
const proposeAttempts = 3

// propose fills p from the set in force at the next height, signs the
// election with the home's key, posts it and prints it. If the node
// refuses it for its set (UnequalValidatorSet) and the set it serves has
// changed since, it builds the election again for the new set.
func (s *govSession) propose(ctx context.Context, p governance.Proposal) error {
	key, err := s.signer()
	if err != nil {
		return err
	}
	set, err := s.validators(ctx)
	if err != nil {
		return err
	}
	var tx *ledger.Tx
	for attempt := 1; ; attempt++ {
		tx, err = s.proposeFor(ctx, p, set, key)
		if err == nil || attempt == proposeAttempts || !refusedFor(err, governance.ErrUnequalValidatorSet) {
			break
		}
		now, verr := s.validators(ctx)
		if verr != nil || bytes.Equal(now.Hash(), set.Hash()) {
			break
		}
		set = now
	}
	if err != nil {
		return err
	}
	e, _, err := s.election(ctx, tx.ID)
	if err != nil {
		return fmt.Errorf("election %s committed, but: %w", tx.ID, err)
	}
	if s.f.asJSON {
		return writeJSONCompact(s.a.stdout, proposedJSON{ID: e.ID, Kind: e.Kind, Height: e.Height})
	}
	return writeProposed(s.a.stdout, e)
}

// proposeFor builds p's election for set, signs it with key and posts it.
func (s *govSession) proposeFor(ctx context.Context, p governance.Proposal, set governance.Set, key ledger.KeyPair) (*ledger.Tx, error) {
	if err := completeProposal(&p, set); err != nil {
		return nil, err
	}
	seed, err := newSeed()
	if err != nil {
		return nil, err
	}
	tx, err := governance.NewElection(p, set, key, seed)
	if err != nil {
		return nil, fmt.Errorf("make the %s election: %w", p.Kind, err)
	}
	return tx, s.post(ctx, p.Kind+" election", tx)
}

// refusedFor reports whether err is the node's refusal of a transaction
// for breaking the rule of kind.
func refusedFor(err error, kind *governance.RuleKind) bool {
	var re *refusedError
	return errors.As(err, &re) && strings.Contains(re.api.message, "("+kind.ExceptionName()+")")
}

// completeProposal checks a caretaker proposal against the set and takes
// the peer id of set-power and remove-caretaker from it.
func completeProposal(p *governance.Proposal, set governance.Set) error {
	i := set.Index(p.PublicKey)
	switch p.Kind {
	case governance.KindAddCaretaker:
		if i >= 0 {
			return fmt.Errorf("--public-key %s is already a caretaker (power %d); use gov propose set-power", p.PublicKey, set.Caretakers[i].Power)
		}
	case governance.KindSetPower, governance.KindRemoveCaretaker:
		if i < 0 {
			return fmt.Errorf("--public-key %s is not a caretaker of the set in force at the next height (%d caretakers; see ipdb-node status)",
				p.PublicKey, len(set.Caretakers))
		}
		p.PeerID = set.Caretakers[i].PeerID
	}
	return nil
}

// writeProposed prints a new election and the command to vote on it.
func writeProposed(w io.Writer, e governance.Election) error {
	var b strings.Builder
	fmt.Fprintf(&b, "proposed %s election %s at height %d\n", e.Kind, e.ID, e.Height)
	writeElectionLines(&b, e)
	fmt.Fprintf(&b, "every caretaker (you too) votes with: ipdb-node gov vote %s\n", e.ID)
	_, err := io.WriteString(w, b.String())
	return err
}
