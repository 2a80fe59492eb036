package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/node"
)

// defaultChainID is the chain id of a development network made by init.
const defaultChainID = "ipdb-dev"

// newInitCmd returns `ipdb-node init`.
func newInitCmd(a *app) *cobra.Command {
	var chainID string
	var force bool
	c := &cobra.Command{
		Use:   "init",
		Short: "Make a node home for a single-caretaker development network",
		Long: "init makes a node home: a new caretaker key (keys/caretaker.json), the genesis of a\n" +
			"development network with that key as its only caretaker (genesis.json), and the\n" +
			"default configuration (config.toml). It refuses to touch an existing home unless\n" +
			"--force is given, which also deletes the home's ledger (data/).",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			dir, err := a.homeDir()
			if err != nil {
				return err
			}
			return initHome(home{dir}, chainID, force, a.stdout)
		},
	}
	c.Flags().StringVar(&chainID, "chain-id", defaultChainID, "chain id of the new network")
	c.Flags().BoolVar(&force, "force", false, "replace an existing home, deleting its key, genesis, config and ledger")
	return c
}

// initHome takes the home's LOCK and initialises it (see initLocked).
func initHome(h home, chainID string, force bool, out io.Writer) error {
	if err := os.MkdirAll(h.dir, privateDirMode); err != nil {
		return fmt.Errorf("make home: %w", err)
	}
	lock, err := lockHome(h.dir)
	if err != nil {
		return err
	}
	return errors.Join(initLocked(h, chainID, force, out), lock.release())
}

// initLocked writes a new key, a development genesis and the default config
// into the home, whose LOCK the caller holds. An existing home is refused
// unless force; with force, its ledger is deleted, since it belongs to the
// old genesis.
func initLocked(h home, chainID string, force bool, out io.Writer) error {
	empty, err := h.isEmpty()
	if err != nil {
		return err
	}
	if !empty && !force {
		return fmt.Errorf("home %s already exists; use --force to replace it (this deletes its key and ledger)", h.dir)
	}
	key, err := newKeyPair()
	if err != nil {
		return err
	}
	doc := genesis.Dev(chainID, key, time.Now())
	if err := doc.Validate(); err != nil {
		return fmt.Errorf("--chain-id: %w", err)
	}
	if !empty {
		if err := os.RemoveAll(h.path(dataDir)); err != nil {
			return fmt.Errorf("remove the old ledger: %w", err)
		}
	}
	if err := writeHome(h, key, doc); err != nil {
		return err
	}
	fmt.Fprintf(out, "initialised %s: chain %s, caretaker %s\n", h.dir, doc.ChainID, key.PublicBase58())
	fmt.Fprintf(out, "  %s\n  %s\n  %s\n", h.path(configFile), h.path(genesisFile), h.keyPath())
	return nil
}

// writeHome writes the key, the genesis and the config, each atomically;
// the config last, as a home with a config is taken for a complete one.
func writeHome(h home, key ledger.KeyPair, doc *genesis.Doc) error {
	if err := os.MkdirAll(h.path(keysDir), privateDirMode); err != nil {
		return fmt.Errorf("make keys directory: %w", err)
	}
	if err := writeFileAtomic(h.keyPath(), encodeKeyFile(key), privateFileMode); err != nil {
		return err
	}
	if err := writeFileAtomic(h.path(genesisFile), doc.Encode(), publicFileMode); err != nil {
		return err
	}
	return writeFileAtomic(h.path(configFile), node.RenderConfig(node.DefaultConfig()), publicFileMode)
}
