package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipdb/ipdb-node/governance"
	"github.com/ipdb/ipdb-node/ledger"
)

// outputRefEntry is one entry of GET /api/v1/outputs.
type outputRefEntry struct {
	TransactionID string `json:"transaction_id"`
	OutputIndex   uint64 `json:"output_index"`
}

// newGovVoteCmd returns `ipdb-node gov vote ID [--against]`.
func newGovVoteCmd(a *app, f *govFlags) *cobra.Command {
	var against bool
	c := &cobra.Command{
		Use:   "vote ID",
		Short: "Vote for an election (or --against it) with all the vote tokens the home's key holds",
		Long: "vote spends every unspent vote token of election ID that the home's caretaker key\n" +
			"holds (from the election itself, or delegated to it by another caretaker's VOTE) in\n" +
			"one VOTE, posts it (mode commit) and prints the election as it then stands. An\n" +
			"election is approved when more than 2/3 of the voting power has voted for it.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkElectionID(args[0]); err != nil {
				return err
			}
			return a.runGov(cmd.Context(), f, func(ctx context.Context, s *govSession) error {
				return s.vote(ctx, args[0], against)
			})
		},
	}
	c.Flags().BoolVar(&against, "against", false, "vote against the election (enough power against rejects it)")
	return c
}

// vote spends the home key's vote tokens of election id for (or against)
// it, and prints the election after the vote. A key without tokens is told
// so first (it may have voted already); then a closed election is refused
// with its status.
func (s *govSession) vote(ctx context.Context, id string, against bool) error {
	key, err := s.signer()
	if err != nil {
		return err
	}
	e, err := s.awaitElection(ctx, id)
	if err != nil {
		return err
	}
	me := key.PublicBase58()
	tokens, err := s.voteTokens(ctx, id, me)
	if err != nil {
		return err
	}
	if len(tokens) == 0 {
		return fmt.Errorf("key %s holds no vote tokens of election %s: not a caretaker at height %d, or already voted (the election is %s)",
			me, id, e.Height, e.Status)
	}
	if e.Status != governance.StatusOngoing {
		return closedError(e)
	}
	tx, err := governance.NewVote(id, tokens, key, against)
	if err != nil {
		return fmt.Errorf("make the vote: %w", err)
	}
	if err := s.post(ctx, "vote", tx); err != nil {
		return err
	}
	e, raw, err := s.election(ctx, id)
	if err != nil {
		return fmt.Errorf("vote %s committed, but: %w", tx.ID, err)
	}
	if s.f.asJSON {
		return writeCompact(s.a.stdout, raw)
	}
	return writeVoted(s.a.stdout, e, tx.ID, tokenPower(tokens), against)
}

// closedError reports an election that takes no more votes, with its status.
func closedError(e governance.Election) error {
	switch e.Status {
	case governance.StatusExpired:
		return fmt.Errorf("election %s expired at height %d; votes are closed", e.ID, e.ExpiresHeight)
	case governance.StatusApproved, governance.StatusRejected, governance.StatusInconclusive:
		return fmt.Errorf("election %s is %s (at height %d); votes are closed", e.ID, e.Status, e.ConcludedHeight)
	}
	return fmt.Errorf("election %s is %q, not ongoing; votes are closed", e.ID, e.Status)
}

// voteTokens returns the unspent outputs of the election or of its VOTEs
// that me alone holds: the unspent outputs of me (GET /outputs) that are
// outputs of the election's transactions (GET /transactions?asset_id=).
func (s *govSession) voteTokens(ctx context.Context, id, me string) ([]governance.Token, error) {
	var refs []outputRefEntry
	if _, err := s.getJSON(ctx, apiPrefix+"/outputs?public_key="+url.QueryEscape(me)+"&spent=false", &refs); err != nil {
		return nil, err
	}
	unspent := make(map[ledger.OutputRef]bool, len(refs))
	for _, r := range refs {
		unspent[ledger.OutputRef{TxID: r.TransactionID, Index: r.OutputIndex}] = true
	}
	var raws []json.RawMessage
	if _, err := s.getJSON(ctx, apiPrefix+"/transactions?asset_id="+id, &raws); err != nil {
		return nil, err
	}
	var tokens []governance.Token
	seen := make(map[string]bool, len(raws))
	for _, raw := range raws {
		tx, err := ledger.DecodeTx(raw)
		if err != nil {
			return nil, fmt.Errorf("a transaction of election %s from the API: %w", id, err)
		}
		if seen[tx.ID] {
			continue
		}
		seen[tx.ID] = true
		if tx.ID == id || tx.Operation == ledger.OpVote && tx.Asset.ID == id {
			tokens = append(tokens, heldTokens(tx, me, unspent)...)
		}
	}
	return tokens, nil
}

// heldTokens returns the outputs of tx in unspent whose only owner is me.
func heldTokens(tx *ledger.Tx, me string, unspent map[ledger.OutputRef]bool) []governance.Token {
	var tokens []governance.Token
	for i, o := range tx.Outputs {
		ref := ledger.OutputRef{TxID: tx.ID, Index: uint64(i)}
		if unspent[ref] && len(o.PublicKeys) == 1 && o.PublicKeys[0] == me {
			tokens = append(tokens, governance.Token{Ref: ref, Amount: o.Amount})
		}
	}
	return tokens
}

// tokenPower returns the sum of the tokens' amounts (each at most
// ledger.MaxAmount, and an election's outputs sum to a set's total).
func tokenPower(tokens []governance.Token) uint64 {
	var sum uint64
	for _, t := range tokens {
		sum += t.Amount
	}
	return sum
}

// writeVoted prints a vote and the election after it.
func writeVoted(w io.Writer, e governance.Election, voteID string, power uint64, against bool) error {
	side := "for"
	if against {
		side = "against"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "voted %s %s election %s with power %d (vote %s)\n", side, e.Kind, e.ID, power, voteID)
	writeElectionLines(&b, e)
	_, err := io.WriteString(w, b.String())
	return err
}

// electionPoll is how often vote asks again for an election the node does
// not know yet.
const electionPoll = 100 * time.Millisecond

// awaitElection returns election id, waiting (within ctx) while the node
// answers 404: an election proposed through another node is known here
// once this node has committed its block, a moment later.
func (s *govSession) awaitElection(ctx context.Context, id string) (governance.Election, error) {
	tick := time.NewTicker(electionPoll)
	defer tick.Stop()
	var notFound error
	for {
		e, _, err := s.election(ctx, id)
		var ae *apiError
		switch {
		case errors.As(err, &ae) && ae.status == http.StatusNotFound:
			notFound = err
		case err != nil && notFound != nil && ctx.Err() != nil:
			return governance.Election{}, notFoundAfterWait(notFound)
		default:
			return e, err
		}
		select {
		case <-ctx.Done():
			return governance.Election{}, notFoundAfterWait(notFound)
		case <-tick.C:
		}
	}
}

// notFoundAfterWait is the error of an election still unknown at the end
// of --timeout.
func notFoundAfterWait(err error) error {
	return fmt.Errorf("%w (waited for the node to commit it until the --timeout)", err)
}
