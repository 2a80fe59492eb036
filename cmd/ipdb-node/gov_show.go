package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ipdb/ipdb-node/governance"
)

// electionStatuses are the statuses gov list --status accepts, as the API's
// ?status= does.
var electionStatuses = []string{governance.StatusOngoing, governance.StatusApproved, governance.StatusRejected,
	governance.StatusExpired, governance.StatusInconclusive}

// newGovShowCmd returns `ipdb-node gov show ID`.
func newGovShowCmd(a *app, f *govFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Print an election: its change, status, votes and heights",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkElectionID(args[0]); err != nil {
				return err
			}
			return a.runGov(cmd.Context(), f, func(ctx context.Context, s *govSession) error {
				e, raw, err := s.election(ctx, args[0])
				if err != nil {
					return err
				}
				if f.asJSON {
					return writeCompact(a.stdout, raw)
				}
				return writeElection(a.stdout, e)
			})
		},
	}
}

// newGovListCmd returns `ipdb-node gov list [--status S]`.
func newGovListCmd(a *app, f *govFlags) *cobra.Command {
	var status string
	c := &cobra.Command{
		Use:   "list",
		Short: "List the elections, oldest first, optionally only those of one --status",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := apiPrefix + "/elections"
			if status != "" {
				if !slices.Contains(electionStatuses, status) {
					return fmt.Errorf("--status %q: want one of %s", status, strings.Join(electionStatuses, ", "))
				}
				path += "?status=" + url.QueryEscape(status)
			}
			return a.runGov(cmd.Context(), f, func(ctx context.Context, s *govSession) error {
				var es []governance.Election
				raw, err := s.getJSON(ctx, path, &es)
				if err != nil {
					return err
				}
				if f.asJSON {
					return writeCompact(a.stdout, raw)
				}
				return writeElectionList(a.stdout, es)
			})
		},
	}
	c.Flags().StringVar(&status, "status", "", "only elections of this status: "+strings.Join(electionStatuses, ", "))
	return c
}

// writeElection prints one election as aligned lines.
func writeElection(w io.Writer, e governance.Election) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s %s\n", "election", e.ID)
	fmt.Fprintf(&b, "%-9s %s\n", "kind", e.Kind)
	fmt.Fprintf(&b, "%-9s height %d by %s\n", "proposed", e.Height, e.Proposer)
	for _, l := range electionFields(e) {
		fmt.Fprintf(&b, "%-9s %s\n", l[0], l[1])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeElectionLines writes the change, status and votes of e, indented.
func writeElectionLines(b *strings.Builder, e governance.Election) {
	for _, l := range electionFields(e) {
		fmt.Fprintf(b, "  %-8s %s\n", l[0], l[1])
	}
}

// electionFields returns the change, status, votes and expiry of e.
func electionFields(e governance.Election) [][2]string {
	return [][2]string{
		{"change", electionChange(e)},
		{"status", electionStatus(e)},
		{"votes", fmt.Sprintf("%d of %d for (%d needed), %d against", e.VotesPower, e.TotalPower, e.NeededPower, e.AgainstPower)},
		{"expires", fmt.Sprintf("at height %d", e.ExpiresHeight)},
	}
}

// electionStatus describes e's status and the heights that go with it.
func electionStatus(e governance.Election) string {
	switch e.Status {
	case governance.StatusApproved:
		return fmt.Sprintf("approved at height %d, in effect from height %d", e.ConcludedHeight, e.EffectHeight)
	case governance.StatusRejected, governance.StatusInconclusive:
		return fmt.Sprintf("%s at height %d", e.Status, e.ConcludedHeight)
	case governance.StatusExpired:
		return fmt.Sprintf("expired at height %d", e.ExpiresHeight)
	}
	return e.Status
}

// electionChange describes what e changes.
func electionChange(e governance.Election) string {
	switch e.Kind {
	case governance.KindAddCaretaker:
		return fmt.Sprintf("add caretaker %s (peer %s) with power %s", e.PublicKey, e.PeerID, optUint(e.Power))
	case governance.KindSetPower:
		return fmt.Sprintf("set the power of %s to %s", e.PublicKey, optUint(e.Power))
	case governance.KindRemoveCaretaker:
		return fmt.Sprintf("remove caretaker %s", e.PublicKey)
	case governance.KindSetParam:
		return fmt.Sprintf("%s = %s", e.Param, optUint(e.Value))
	case governance.KindGrantQuota:
		until := "no end"
		if e.UntilHeight != nil && *e.UntilHeight != 0 {
			until = fmt.Sprintf("until height %d", *e.UntilHeight)
		}
		return fmt.Sprintf("grant %s a quota of %s transactions, %s bytes, %s", e.PublicKey, optUint(e.QuotaTxs), optUint(e.QuotaBytes), until)
	case governance.KindRevokeQuota:
		return fmt.Sprintf("revoke the quota of %s", e.PublicKey)
	}
	return e.Kind
}

// optUint formats an optional number; "?" when the node left it out.
func optUint(v *uint64) string {
	if v == nil {
		return "?"
	}
	return fmt.Sprint(*v)
}

// writeElectionList prints one line per election.
func writeElectionList(w io.Writer, es []governance.Election) error {
	if len(es) == 0 {
		_, err := io.WriteString(w, "no elections\n")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATUS\tHEIGHT\tFOR/NEEDED\tCHANGE")
	for _, e := range es {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d/%d\t%s\n", e.ID, e.Kind, e.Status, e.Height, e.VotesPower, e.NeededPower, electionChange(e))
	}
	return tw.Flush()
}
