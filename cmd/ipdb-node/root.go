package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Names of the environment the CLI reads.
const (
	// envHome is the home directory used when --home is not given.
	envHome = "IPDB_HOME"
	// defaultHomeName is the home directory under the user's home when
	// neither --home nor $IPDB_HOME is set.
	defaultHomeName = ".ipdb-node"
	// versionUnknown stands for a version or commit the build does not record.
	versionUnknown = "unknown"
	// develVersion is the main module's version in a build from a work tree.
	develVersion = "(devel)"
)

// app is the state of one run of the CLI: its output streams, its
// environment, its build and the values of the persistent flags. Each run
// makes its own, so that tests may run commands side by side.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	build          buildInfo
	home           string // --home, "" when not given
}

// run executes the command line args (without the program name), writing
// output to stdout and logs and errors to stderr. An error is printed as one
// line, "ipdb-node: <message>", and returned; the caller exits 1.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := &app{stdout: stdout, stderr: stderr, getenv: os.Getenv, build: readBuildInfo()}
	root := newRootCmd(a)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "ipdb-node: %s\n", oneLine(err))
	}
	return err
}

// oneLine joins the lines of a (possibly joined) error with "; ".
func oneLine(err error) string {
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	return strings.Join(lines, "; ")
}

// newRootCmd returns the ipdb-node command tree bound to a.
func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "ipdb-node",
		Short: "Run and operate an ipdb-node (a BigchainDB-compatible blockchain database node)",
		Long: "ipdb-node runs a node of a public blockchain database that speaks BigchainDB 2.x's\n" +
			"HTTP API and transaction spec v2.0. `ipdb-node start` runs a single-caretaker\n" +
			"development network in ~/.ipdb-node with no setup.",
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       a.build.Version,
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.PersistentFlags().StringVar(&a.home, "home", "",
		"node home directory (default $"+envHome+", else ~/"+defaultHomeName+")")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())
	})
	root.AddCommand(newInitCmd(a), newStartCmd(a), newStatusCmd(a), newVersionCmd(a),
		newKeysCmd(a), newTestnetCmd(a), newTxCmd(a), newExportCmd(a), addConfigEdit(a, newConfigCmd(a)),
		addFlood(a, newBenchCmd(a)),   // gateway (issue 8): configcmd.go, flood.go
		newGovCmd(a), newParamsCmd(a), // governance (issue 7): gov.go, params.go
		newQuotaCmd(a)) // quotas (issue 8): quota.go
	return root
}

// homeDir returns the absolute home directory: --home, else $IPDB_HOME, else
// ~/.ipdb-node.
func (a *app) homeDir() (string, error) {
	dir := a.home
	if dir == "" {
		dir = a.getenv(envHome)
	}
	if dir == "" {
		user, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no --home, no $%s and no user home directory: %w", envHome, err)
		}
		dir = filepath.Join(user, defaultHomeName)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("home %s: %w", dir, err)
	}
	return abs, nil
}

// buildInfo is what `ipdb-node version` reports.
type buildInfo struct {
	Version  string `json:"version"`
	Go       string `json:"go"`
	Commit   string `json:"commit"`
	Modified bool   `json:"modified"`
}

// readBuildInfo reads the module version and VCS stamp the Go toolchain
// recorded in the binary.
func readBuildInfo() buildInfo {
	b := buildInfo{Version: versionUnknown, Go: runtime.Version(), Commit: versionUnknown}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	switch v := info.Main.Version; v {
	case "":
	case develVersion:
		b.Version = "devel"
	default:
		b.Version = v
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// newVersionCmd returns `ipdb-node version`.
func newVersionCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version, the Go version and the commit of this binary",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if asJSON {
				return writeJSONLine(a.stdout, a.build)
			}
			b := a.build
			modified := ""
			if b.Modified {
				modified = " (modified)"
			}
			_, err := fmt.Fprintf(a.stdout, "ipdb-node %s\ngo %s\ncommit %s%s\n", b.Version, b.Go, b.Commit, modified)
			return err
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// newGroupCmd returns a command that only groups subcommands: alone it
// prints its help; with an unknown subcommand it fails.
func newGroupCmd(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(subs...)
	return c
}

// writeJSONLine writes v as indented JSON and a newline.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
