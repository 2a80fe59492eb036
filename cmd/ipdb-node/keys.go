package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/ipdb/ipdb-node/internal/atomicfile"
)

// newKeysCmd returns `ipdb-node keys` and its subcommands.
func newKeysCmd(a *app) *cobra.Command {
	return newGroupCmd("keys", "Make and show Ed25519 keys (BigchainDB's base58 form)",
		newKeysGenerateCmd(a), newKeysShowCmd(a))
}

// newKeysGenerateCmd returns `ipdb-node keys generate`.
func newKeysGenerateCmd(a *app) *cobra.Command {
	var out string
	var force, nodeKind bool
	c := &cobra.Command{
		Use:   "generate",
		Short: `Make a key pair: print {"public_key","private_key"} or write it to --out (mode 0600)`,
		Long: "generate makes a caretaker key pair, {\"public_key\", \"private_key\"} in base58, or with\n" +
			"--node a libp2p node key, {\"peer_id\", \"private_key\"} as keys/node_key.json holds it.\n" +
			"It prints the key, or writes it to --out (mode 0600) and prints the public key or peer id.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			file, shown, err := generateKey(nodeKind)
			if err != nil {
				return err
			}
			if out == "" {
				_, err := a.stdout.Write(file)
				return err
			}
			if _, err := os.Stat(out); !force && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s exists; use --force to replace it (its key would be lost)", out)
			}
			if err := atomicfile.WriteFile(out, file, privateFileMode); err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.stdout, shown)
			return err
		},
	}
	c.Flags().StringVar(&out, "out", "", "write the key to this file (mode 0600) and print its public key or peer id")
	c.Flags().BoolVar(&force, "force", false, "replace an existing --out file")
	c.Flags().BoolVar(&nodeKind, "node", false, "make a libp2p node key (keys/node_key.json) instead of a caretaker key")
	return c
}

// generateKey returns a new key file and what identifies it: the public key
// of a caretaker key, or the peer id of a node key.
func generateKey(nodeKind bool) (file []byte, shown string, err error) {
	if nodeKind {
		k, err := newNodeKey()
		if err != nil {
			return nil, "", err
		}
		return k.encode(), k.id.String(), nil
	}
	k, err := newKeyPair()
	if err != nil {
		return nil, "", err
	}
	return encodeKeyFile(k), k.PublicBase58(), nil
}

// newKeysShowCmd returns `ipdb-node keys show`.
func newKeysShowCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show",
		Short: "Print the home's caretaker public key and libp2p peer id",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			dir, err := a.homeDir()
			if err != nil {
				return err
			}
			h := home{dir}
			k, _, err := h.loadKey()
			if err != nil {
				return err
			}
			nk, err := h.loadNodeKey()
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSONLine(a.stdout, keysShowJSON{PublicKey: k.PublicBase58(), PeerID: nk.id.String()})
			}
			_, err = fmt.Fprintf(a.stdout, "public_key %s\npeer_id    %s\n", k.PublicBase58(), nk.id)
			return err
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"public_key": ..., "peer_id": ...}`)
	return c
}

// keysShowJSON is what `keys show --json` prints.
type keysShowJSON struct {
	PublicKey string `json:"public_key"` // base58 Ed25519 caretaker key
	PeerID    string `json:"peer_id"`    // libp2p peer id of keys/node_key.json
}
