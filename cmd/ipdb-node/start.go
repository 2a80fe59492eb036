package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ipdb/ipdb-node/node"
)

// startFlags are the flags of `ipdb-node start` that override config.toml.
type startFlags struct {
	http, logLevel, logFormat string
	p2p                       []string // [p2p] listen
	follow                    bool     // role follower
}

// defaultGCPercent is the garbage collector's target (GOGC) of a running
// node unless the environment sets GOGC: a node's heap is mostly
// short-lived transaction decoding, and collecting at 200% growth instead
// of Go's 100% gave a 4-node testnet on two cores 6% more committed tx/s
// for some tens of MB more memory.
const defaultGCPercent = 200

// newStartCmd returns `ipdb-node start`.
func newStartCmd(a *app) *cobra.Command {
	var f startFlags
	c := &cobra.Command{
		Use:   "start",
		Short: "Run the node until SIGINT or SIGTERM (making the home first if there is none)",
		Long: "start runs the node of the home: the HTTP API, the event stream, metrics and block\n" +
			"production. If the home is empty or missing, it is initialised first as `init` does.\n" +
			"The flags override config.toml. SIGINT or SIGTERM stops the node cleanly.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := a.homeDir()
			if err != nil {
				return err
			}
			return a.start(cmd.Context(), home{dir}, f, cmd)
		},
	}
	c.Flags().StringVar(&f.http, "http", "", "HTTP API address host:port (overrides [http] addr; port 0 picks a free port)")
	c.Flags().StringVar(&f.logLevel, "log-level", "", "lowest log level: debug, info, warn or error (overrides [log] level)")
	c.Flags().StringVar(&f.logFormat, "log-format", "", "log format: text or json (overrides [log] format)")
	c.Flags().StringArrayVar(&f.p2p, "p2p", nil, "libp2p listen multiaddr, such as /ip4/0.0.0.0/tcp/26656 (repeatable; overrides [p2p] listen)")
	c.Flags().BoolVar(&f.follow, "follow", false, "run as a non-voting follower (overrides role)")
	return c
}

// start takes the home's LOCK, initialises the home if it is empty, and
// runs its node until ctx is done.
func (a *app) start(ctx context.Context, h home, f startFlags, cmd *cobra.Command) error {
	if err := os.MkdirAll(h.dir, privateDirMode); err != nil {
		return fmt.Errorf("make home: %w", err)
	}
	lock, err := lockHome(h.dir)
	if err != nil {
		return err
	}
	return errors.Join(a.startLocked(ctx, h, f, cmd), lock.release())
}

// startLocked is start once the LOCK is held.
func (a *app) startLocked(ctx context.Context, h home, f startFlags, cmd *cobra.Command) error {
	empty, err := h.isEmpty()
	if err != nil {
		return err
	}
	if empty && f.follow {
		return fmt.Errorf("no node in %s to start as a follower; make one with `ipdb-node init --follow --genesis FILE --peer MULTIADDR --home %s`", h.dir, h.dir)
	}
	if empty {
		fmt.Fprintf(a.stdout, "no node in %s yet: making a single-caretaker development network\n", h.dir)
		if err := initLocked(h, initOptions{chainID: defaultChainID}, a.stdout); err != nil {
			return err
		}
	}
	o, warning, err := a.nodeOptions(h, f, cmd)
	if err != nil {
		return err
	}
	if warning != "" {
		o.Logger.Warn(warning)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if n := o.Config.Runtime.MaxProcs; n > 0 && os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(n)
	}
	n, err := node.New(o)
	if err != nil {
		return err
	}
	addr := n.HTTPAddr()
	fmt.Fprintf(a.stdout, "ipdb-node %s: chain %s, HTTP API on http://%s/api/v1/, event stream ws://%s/api/v1/streams/valid_transactions\n",
		a.build.Version, o.Genesis.ChainID, addr, addr)
	return n.Run(ctx)
}

// nodeOptions reads the home's config (with the flags applied), genesis and
// key, and makes the logger. It returns a warning to log, if any.
func (a *app) nodeOptions(h home, f startFlags, cmd *cobra.Command) (node.Options, string, error) {
	cfg, err := h.loadConfig()
	if err != nil {
		return node.Options{}, "", err
	}
	if cfg, err = applyStartFlags(cfg, f, cmd); err != nil {
		return node.Options{}, "", err
	}
	doc, err := h.loadGenesis()
	if err != nil {
		return node.Options{}, "", err
	}
	key, warning, err := h.loadKey()
	if err != nil {
		return node.Options{}, "", err
	}
	nk, made, err := h.ensureNodeKey()
	if err != nil {
		return node.Options{}, "", err
	}
	if made {
		warning = strings.TrimPrefix(warning+"; the home had no libp2p node key: made "+h.nodeKeyPath()+", peer id "+nk.id.String(), "; ")
	}
	return node.Options{
		Config:  cfg,
		DataDir: h.path(dataDir),
		Genesis: doc,
		Key:     key,
		P2PKey:  nk.priv,
		Logger:  node.NewLogger(a.stderr, cfg.Log),
		Version: a.build.Version,
	}, warning, nil
}

// applyStartFlags overrides cfg with the flags given and validates the
// result, naming the flag at fault.
func applyStartFlags(cfg node.Config, f startFlags, cmd *cobra.Command) (node.Config, error) {
	flags := cmd.Flags()
	if flags.Changed("http") {
		cfg.HTTP.Addr = f.http
	}
	if flags.Changed("log-level") {
		cfg.Log.Level = f.logLevel
	}
	if flags.Changed("log-format") {
		cfg.Log.Format = f.logFormat
	}
	if flags.Changed("p2p") {
		cfg.P2P.Listen = f.p2p
	}
	if f.follow {
		cfg.Role = node.RoleFollower
	}
	if err := cfg.Validate(); err != nil {
		return node.Config{}, fmt.Errorf("flags --http, --p2p, --follow, --log-level, --log-format: %w", err)
	}
	return cfg, nil
}
