package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

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
			if err := json.Unmarshal(body, &st); err != nil {
				return fmt.Errorf("GET %s%s/status: decode answer: %w", base, apiPrefix, err)
			}
			if asJSON {
				return writeIndented(a.stdout, body)
			}
			return writeStatus(a.stdout, base, st)
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
