package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipdb/ipdb-node/governance"
	"github.com/ipdb/ipdb-node/node"
)

// newStatusCmd returns `ipdb-node status`.
func newStatusCmd(a *app) *cobra.Command {
	var api string
	var asJSON bool
	c := &cobra.Command{
		Use:   "status",
		Short: "Show a running node's height, latest block, caretakers, backlog and peers",
		Long: "status reads GET /api/v1/status of a node: the API of --api, else the [http] addr\n" +
			"of the home's config.toml, else " + defaultAPI + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			base, err := a.apiURL(api)
			if err != nil {
				return err
			}
			body, err := newAPIClient(base).get(cmd.Context(), apiPrefix+"/status")
			if err != nil {
				return err
			}
			var st node.Status
			var gov statusGov
			if err := errors.Join(json.Unmarshal(body, &st), json.Unmarshal(body, &gov)); err != nil {
				return fmt.Errorf("GET %s%s/status: decode answer: %w", base, apiPrefix, err)
			}
			if asJSON {
				return writeIndented(a.stdout, body)
			}
			if err := writeStatus(a.stdout, base, st); err != nil {
				return err
			}
			return writeStatusGov(a.stdout, gov)
		},
	}
	c.Flags().StringVar(&api, "api", "", "API URL, such as "+defaultAPI+" (default: from the home's config)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the status JSON")
	return c
}

// writeStatus writes st as aligned lines, then one line per peer.
func writeStatus(w io.Writer, base string, st node.Status) error {
	latest := st.LatestBlock
	if !st.LatestTime.IsZero() {
		latest += " at " + st.LatestTime.UTC().Format(time.RFC3339Nano)
	}
	lines := [][2]string{
		{"node", base + " (ipdb-node " + st.Version + ")"},
		{"chain", st.ChainID},
		{"ready", fmt.Sprint(st.Ready)},
		{"height", fmt.Sprint(st.Height)},
		{"latest block", latest},
		{"caretakers", fmt.Sprintf("%d: %s", len(st.Caretakers), strings.Join(st.Caretakers, ", "))},
		{"backlog", fmt.Sprintf("%d transactions, %d bytes", st.BacklogTxs, st.BacklogBytes)},
		{"peers", fmt.Sprint(st.Peers)},
	}
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%-13s %s\n", l[0], l[1])
	}
	for _, p := range st.PeerList {
		role := "follower"
		if p.Caretaker {
			role = "caretaker"
		}
		fmt.Fprintf(&b, "  %s %-9s height %d score %.2f %s\n", p.ID, role, p.Height, p.Score, p.Addr)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// statusGov holds the governance fields of GET /api/v1/status (issue 7).
type statusGov struct {
	Validators []validatorEntry      `json:"validators"`
	Elections  []governance.Election `json:"elections"`
}

// writeStatusGov writes the caretaker set in force at the next height (key,
// power, peer id, name) and the ongoing elections; nothing when the node
// reports neither (a node without governance).
func writeStatusGov(w io.Writer, g statusGov) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	if len(g.Validators) > 0 {
		fmt.Fprintf(tw, "validators    %d in force at the next height:\n", len(g.Validators))
	}
	for _, v := range g.Validators {
		pub, err := decodeValidatorKey(v.PublicKey.Type, v.PublicKey.Value)
		if err != nil {
			pub = v.PublicKey.Value
		}
		fmt.Fprintf(tw, "  %s\tpower %d\tpeer %s\t%s\n", pub, v.VotingPower, v.PeerID, v.Name)
	}
	if g.Validators != nil || g.Elections != nil {
		fmt.Fprintf(tw, "elections     %d ongoing\n", len(g.Elections))
	}
	for _, e := range g.Elections {
		fmt.Fprintf(tw, "  %s %s: %s; %d of %d for (%d needed), expires at height %d\n",
			e.ID, e.Kind, electionChange(e), e.VotesPower, e.TotalPower, e.NeededPower, e.ExpiresHeight)
	}
	return tw.Flush()
}

// writeIndented writes JSON indented, and a newline.
func writeIndented(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("indent json: %w", err)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}
