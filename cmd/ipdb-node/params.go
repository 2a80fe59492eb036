package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// paramsAnswer is GET /api/v1/params: the values in force at the next
// height after Height (the node's tip).
type paramsAnswer struct {
	Height uint64       `json:"height"`
	Params []paramEntry `json:"params"`
}

// paramEntry is one network parameter of GET /api/v1/params.
type paramEntry struct {
	Name   string `json:"name"`
	Value  uint64 `json:"value"`
	Height uint64 `json:"height"` // first height the value is in force; 0 = genesis
	Min    uint64 `json:"min"`
	Max    uint64 `json:"max"`
	Unit   string `json:"unit"`
	Doc    string `json:"doc"`
}

// value returns the value of the parameter called name.
func (p paramsAnswer) value(name string) (uint64, bool) {
	for _, e := range p.Params {
		if e.Name == name {
			return e.Value, true
		}
	}
	return 0, false
}

// newParamsCmd returns `ipdb-node params`.
func newParamsCmd(a *app) *cobra.Command {
	f := &govFlags{}
	c := &cobra.Command{
		Use:   "params",
		Short: "Print the network parameters in force, since when, and their bounds",
		Long: "params reads GET /api/v1/params of a node: each network parameter's value in force\n" +
			"at the next height, the height it took effect (0: the genesis), its bounds and unit.\n" +
			"A caretaker changes one with `ipdb-node gov propose set-param NAME VALUE`.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runGov(cmd.Context(), f, func(ctx context.Context, s *govSession) error {
				p, raw, err := s.params(ctx)
				if err != nil {
					return err
				}
				if f.asJSON {
					return writeCompact(a.stdout, raw)
				}
				return writeParams(a.stdout, p)
			})
		},
	}
	f.add(c, false)
	return c
}

// params reads GET /api/v1/params, returning it decoded and raw.
func (s *govSession) params(ctx context.Context) (paramsAnswer, []byte, error) {
	var p paramsAnswer
	raw, err := s.getJSON(ctx, apiPrefix+"/params", &p)
	return p, raw, err
}

// writeParams prints one aligned line per parameter.
func writeParams(w io.Writer, p paramsAnswer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "network parameters in force after height %d:\n", p.Height)
	for _, e := range p.Params {
		since := "genesis"
		if e.Height > 0 {
			since = fmt.Sprintf("height %d", e.Height)
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\tsince %s\t%d to %d\n", e.Name, e.Value, e.Unit, since, e.Min, e.Max)
	}
	return tw.Flush()
}
