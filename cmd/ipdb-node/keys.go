package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
)

// newKeysCmd returns `ipdb-node keys` and its subcommands.
func newKeysCmd(a *app) *cobra.Command {
	return newGroupCmd("keys", "Make and show Ed25519 keys (BigchainDB's base58 form)",
		newKeysGenerateCmd(a), newKeysShowCmd(a))
}

// newKeysGenerateCmd returns `ipdb-node keys generate`.
func newKeysGenerateCmd(a *app) *cobra.Command {
	var out string
	var force bool
	c := &cobra.Command{
		Use:   "generate",
		Short: `Make a key pair: print {"public_key","private_key"} or write it to --out (mode 0600)`,
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			k, err := newKeyPair()
			if err != nil {
				return err
			}
			if out == "" {
				_, err := a.stdout.Write(encodeKeyFile(k))
				return err
			}
			if _, err := os.Stat(out); !force && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s exists; use --force to replace it (its key would be lost)", out)
			}
			if err := writeFileAtomic(out, encodeKeyFile(k), privateFileMode); err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.stdout, k.PublicBase58())
			return err
		},
	}
	c.Flags().StringVar(&out, "out", "", "write the key pair to this file (mode 0600) and print the public key")
	c.Flags().BoolVar(&force, "force", false, "replace an existing --out file")
	return c
}

// newKeysShowCmd returns `ipdb-node keys show`.
func newKeysShowCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show",
		Short: "Print the public key of the home's caretaker key",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			dir, err := a.homeDir()
			if err != nil {
				return err
			}
			k, _, err := home{dir}.loadKey()
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSONLine(a.stdout, map[string]string{"public_key": k.PublicBase58()})
			}
			_, err = fmt.Fprintln(a.stdout, k.PublicBase58())
			return err
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"public_key": ...}`)
	return c
}
