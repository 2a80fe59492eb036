//go:build unix

package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ipdb/ipdb-node/internal/jstest"
)

// TestDriverInterop runs a real `ipdb-node start` process and drives it with
// the official BigchainDB JS driver (bigchaindb-driver 4.3.0, from the
// lockfile in ledger/testdata/js): CREATE and TRANSFER in the three modes, a
// divisible split and merge, a 2-of-3 threshold, concurrent double spends,
// every query endpoint, error answers and the WebSocket stream. The script is
// ledger/testdata/js/interop.mjs.
func TestDriverInterop(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "ledger", "testdata", "js")
	jstest.Install(t, dir)
	bin := buildBinary(t)
	p := startProcess(t, bin, t.TempDir())
	nodeBin := jstest.Node(t)
	args := append(websocketFlags(t, nodeBin), "interop.mjs", "--api", p.api+"/api/v1/")
	cmd := exec.Command(nodeBin, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("interop.mjs: %v\n%s\nnode stderr:\n%s", err, out.String(), p.stderr)
	}
	t.Log(out.String())
}
