// Command ipdb-node runs and operates an ipdb-node: a node of a public
// blockchain database wire-compatible with BigchainDB 2.x. Its subcommands
// make a node home (init), run the node (start), query it (status, tx show),
// post transactions (tx create, tx transfer), export the ledger as a CAR
// file (export), and measure a network's throughput (bench).
//
// The command tree is built by newRootCmd with no package-level state, so
// that tests run every command in-process through run.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		os.Exit(1)
	}
}
