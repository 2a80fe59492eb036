package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/ipdb/ipdb-node/internal/atomicfile"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/node"
)

// newExportCmd returns `ipdb-node export`.
func newExportCmd(a *app) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "export --car FILE",
		Short: "Write the whole ledger of a stopped node to a CAR file",
		Long: "export writes every block (dag-cbor) and every transaction (json codec) of the home's\n" +
			"ledger to a CARv1 file whose root is the newest block's CID. Badger allows one\n" +
			"process per ledger, so stop the node first. The file is written atomically.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := a.homeDir()
			if err != nil {
				return err
			}
			st, err := exportCAR(cmd.Context(), home{dir}, out)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "exported %d blocks and %d transactions to %s (root %s)\n", st.blocks, st.txs, out, st.root)
			return err
		},
	}
	c.Flags().StringVar(&out, "car", "", "the CAR file to write")
	c.MarkFlagRequired("car")
	return c
}

// exportStats says what exportCAR wrote.
type exportStats struct {
	root        cid.Cid
	blocks, txs int
}

// exportCAR writes the ledger of the home to the CAR file out, holding the
// home's LOCK so that no node runs meanwhile.
func exportCAR(ctx context.Context, h home, out string) (exportStats, error) {
	if _, err := os.Stat(h.path(dataDir)); errors.Is(err, fs.ErrNotExist) {
		return exportStats{}, fmt.Errorf("no ledger in %s; start the node once to make one", h.path(dataDir))
	}
	lock, err := lockHome(h.dir)
	if err != nil {
		var inUse *homeInUseError
		if errors.As(err, &inUse) {
			return exportStats{}, fmt.Errorf("%w; stop it first: its ledger cannot be opened twice", err)
		}
		return exportStats{}, err
	}
	st, err := exportLocked(ctx, h, out)
	return st, errors.Join(err, lock.release())
}

// exportLocked is exportCAR once the LOCK is held.
func exportLocked(ctx context.Context, h home, out string) (exportStats, error) {
	store, err := ledger.OpenStore(h.path(dataDir), ledger.StoreOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return exportStats{}, fmt.Errorf("open ledger %s: %w", h.path(dataDir), err)
	}
	var st exportStats
	err = atomicfile.Write(out, publicFileMode, func(w io.Writer) error {
		var err error
		st, err = writeLedgerCAR(ctx, store, w)
		return err
	})
	return st, errors.Join(err, store.Close())
}

// writeLedgerCAR writes store's blocks and transactions to w as a CAR.
func writeLedgerCAR(ctx context.Context, store *ledger.Store, w io.Writer) (exportStats, error) {
	_, root, err := store.LatestBlock()
	if err != nil {
		return exportStats{}, fmt.Errorf("latest block: %w", err)
	}
	st := exportStats{root: root}
	cw, err := ledger.NewCARWriter(w, root)
	if err != nil {
		return exportStats{}, err
	}
	err = store.Walk(func(c cid.Cid, data []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if c.Prefix().Codec == cid.DagCBOR {
			st.blocks++
		} else {
			st.txs++
		}
		return cw.Put(c, data)
	})
	if err != nil {
		return exportStats{}, fmt.Errorf("walk ledger: %w", err)
	}
	return st, cw.Close()
}

// newConfigCmd returns `ipdb-node config` and `config show`.
func newConfigCmd(a *app) *cobra.Command {
	return newGroupCmd("config", "Show the node configuration", &cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration of the home as commented TOML (the defaults if it has none)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return a.configShow()
		},
	})
}

// configShow prints the home's configuration, or the defaults.
func (a *app) configShow() error {
	cfg, path, found, err := a.homeConfig()
	if err != nil {
		return err
	}
	if !found {
		fmt.Fprintf(a.stderr, "ipdb-node: no %s: showing the defaults\n", path)
	}
	_, err = a.stdout.Write(node.RenderConfig(cfg))
	return err
}

// homeConfig returns the home's configuration and its path, or the
// defaults (found false) when the home has no config file.
func (a *app) homeConfig() (cfg node.Config, path string, found bool, err error) {
	dir, err := a.homeDir()
	if err != nil {
		return node.Config{}, "", false, err
	}
	h := home{dir}
	path = h.path(configFile)
	if _, err := os.Stat(path); err != nil {
		return node.DefaultConfig(), path, false, nil
	}
	cfg, err = h.loadConfig()
	return cfg, path, err == nil, err
}
