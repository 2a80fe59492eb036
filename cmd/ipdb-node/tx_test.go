package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"
	_ "github.com/multiformats/go-multihash/register/sha3" // lets go-car verify the json/sha3-256 transaction sections

	"github.com/ipdb/ipdb-node/ledger"
)

// showTx runs `tx show` and decodes the transaction.
func showTx(t *testing.T, api, id string) *ledger.Tx {
	t.Helper()
	out := mustRunCLI(t, "tx", "show", "--api", api, id)
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(out)); err != nil {
		t.Fatalf("tx show printed %q: %v", out, err)
	}
	tx, err := ledger.DecodeTx(compact.Bytes())
	if err != nil || tx.ID != id {
		t.Fatalf("tx show %s printed a transaction that decodes to %v, %v", id, tx, err)
	}
	return tx
}

func TestTxCreateTransferShow(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir())
	dir := t.TempDir()
	alicePath, alice := newKeyFile(t, dir, "alice")
	bobPath, bob := newKeyFile(t, dir, "bob")

	id := strings.TrimSpace(mustRunCLI(t, "tx", "create", "--api", n.api, "--key", alicePath,
		"--data", `{"serial":"A-1","tags":["x",1.5]}`, "--metadata", `{"note":"made by the CLI"}`, "--amount", "10"))
	created := showTx(t, n.api, id)
	if created.Operation != ledger.OpCreate || len(created.Outputs) != 1 || created.Outputs[0].Amount != 10 ||
		created.Outputs[0].PublicKeys[0] != alice.PublicBase58() || created.Metadata.(map[string]any)["note"] != "made by the CLI" {
		t.Fatalf("created %+v, want a CREATE of 10 to alice with the metadata", created)
	}

	out := mustRunCLI(t, "tx", "transfer", "--api", n.api, "--key", alicePath, "--input", id+":0",
		"--to", bob.PublicBase58()+":3", "--to", alice.PublicBase58()+":7", "--json")
	var echoed map[string]any
	if err := json.Unmarshal([]byte(out), &echoed); err != nil || echoed["operation"] != ledger.OpTransfer {
		t.Fatalf("tx transfer --json printed %q (%v), want the TRANSFER", out, err)
	}
	moved := showTx(t, n.api, echoed["id"].(string))
	if moved.AssetID() != id || moved.Outputs[0].Amount != 3 || moved.Outputs[1].Amount != 7 {
		t.Fatalf("transfer %+v, want 3 to bob and 7 to alice of asset %s", moved, id)
	}

	// One --to without an amount takes the sum of the inputs.
	back := strings.TrimSpace(mustRunCLI(t, "tx", "transfer", "--api", n.api, "--key", bobPath,
		"--input", moved.ID+":0", "--to", alice.PublicBase58()))
	if tx := showTx(t, n.api, back); tx.Outputs[0].Amount != 3 || tx.Outputs[0].PublicKeys[0] != alice.PublicBase58() {
		t.Fatalf("transfer back %+v, want 3 to alice", tx)
	}

	_, stderr, err := runCLI(t, "tx", "transfer", "--api", n.api, "--key", alicePath, "--input", id+":0", "--to", bob.PublicBase58())
	checkOneLineError(t, stderr, err, "400 Bad Request", "DoubleSpend")
	if st := getStatus(t, n.api); st.Height != 3 {
		t.Fatalf("height %d after three committed transactions (mode commit), want 3", st.Height)
	}
}

func TestTxFlagErrors(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir())
	dir := t.TempDir()
	alicePath, alice := newKeyFile(t, dir, "alice")
	id := strings.TrimSpace(mustRunCLI(t, "tx", "create", "--api", n.api, "--key", alicePath, "--data", `{"a":1}`))
	missing := strings.Repeat("ab", 32)
	pub := alice.PublicBase58()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"data not an object", []string{"create", "--data", "[1]"}, []string{"--data: want a JSON object"}},
		{"data duplicate key", []string{"create", "--data", `{"a":1,"a":2}`}, []string{"--data", `duplicate key "a"`}},
		{"metadata not json", []string{"create", "--data", "{}", "--metadata", "{"}, []string{"--metadata"}},
		{"bad to key", []string{"create", "--data", "{}", "--to", "nope"}, []string{`--to "nope"`, "base58"}},
		{"zero amount", []string{"create", "--data", "{}", "--to", pub + ":0"}, []string{"AMOUNT must be a number from 1 to 9000000000000000000"}},
		{"amount too large", []string{"create", "--data", "{}", "--amount", "9000000000000000001"}, []string{"AMOUNT"}},
		{"bad mode", []string{"create", "--data", "{}", "--mode", "now"}, []string{"--mode: want async, sync or commit"}},
		{"bad input", []string{"transfer", "--input", "abc:0", "--to", pub}, []string{`--input "abc:0"`}},
		{"bad input index", []string{"transfer", "--input", id + ":x", "--to", pub}, []string{"INDEX must be a number"}},
		{"missing input tx", []string{"transfer", "--input", missing + ":0", "--to", pub}, []string{"404 Not Found"}},
		{"input index out of range", []string{"transfer", "--input", id + ":1", "--to", pub}, []string{"has 1 outputs"}},
		{"two outputs need amounts", []string{"transfer", "--input", id + ":0", "--to", pub, "--to", pub}, []string{"give an amount"}},
		{"amounts do not add up", []string{"transfer", "--input", id + ":0", "--to", pub + ":2"}, []string{"400 Bad Request", "AmountError"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"tx"}, tt.args...)
			args = append(args, "--api", n.api, "--key", alicePath)
			_, stderr, err := runCLI(t, args...)
			checkOneLineError(t, stderr, err, tt.want...)
		})
	}
}

func TestTxAPIUnreachable(t *testing.T) {
	t.Parallel()
	path, _ := newKeyFile(t, t.TempDir(), "k")
	_, stderr, err := runCLI(t, "tx", "create", "--api", "http://127.0.0.1:1", "--key", path, "--data", "{}")
	checkOneLineError(t, stderr, err, "is the node running")
}

func TestStatusCommand(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir())
	out := mustRunCLI(t, "status", "--api", n.api+"/api/v1/")
	for _, want := range []string{"chain         " + defaultChainID, "ready         true", "height        0", "latest block  bafy", "caretakers    1: ", "peers         0"} {
		if !strings.Contains(out, want) {
			t.Fatalf("status printed %q, want a line %q", out, want)
		}
	}
	out = mustRunCLI(t, "status", "--api", n.api, "--json")
	var st map[string]any
	if err := json.Unmarshal([]byte(out), &st); err != nil || st["chain_id"] != defaultChainID {
		t.Fatalf("status --json printed %q: %v", out, err)
	}
}

func TestExportCAR(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, stderr, err := runCLI(t, "export", "--home", dir, "--car", filepath.Join(dir, "x.car"))
	checkOneLineError(t, stderr, err, "no ledger in "+filepath.Join(dir, dataDir))

	n := startNode(t, dir)
	var ids []string
	for i := range 3 {
		out := mustRunCLI(t, "tx", "create", "--api", n.api, "--key", home{dir}.keyPath(), "--data", `{"i":`+strconv.Itoa(i)+`}`)
		ids = append(ids, strings.TrimSpace(out))
	}
	root := getStatus(t, n.api).LatestBlock
	if err := n.stop(t); err != nil {
		t.Fatalf("stop=%v", err)
	}
	car := filepath.Join(t.TempDir(), "ledger.car")
	out := mustRunCLI(t, "export", "--home", dir, "--car", car)
	if want := "exported 4 blocks and 3 transactions to " + car + " (root " + root + ")"; !strings.Contains(out, want) {
		t.Fatalf("export printed %q, want %q", out, want)
	}
	sections := readCAR(t, car, root)
	for _, id := range ids {
		c, err := ledger.TxCIDFromHex(id)
		if err != nil || !sections[c] {
			t.Fatalf("the CAR lacks transaction %s (%v)", id, err)
		}
	}
	if len(sections) != 4+3 {
		t.Fatalf("the CAR holds %d sections, want 4 blocks and 3 transactions", len(sections))
	}
}

// readCAR reads a CAR with go-car, which verifies every section against its
// CID, checks its one root, and returns the set of CIDs.
func readCAR(t *testing.T, path, root string) map[cid.Cid]bool {
	t.Helper()
	sections, r := carSections(t, path)
	if r.String() != root {
		t.Fatalf("root %s, want %s", r, root)
	}
	seen := make(map[cid.Cid]bool, len(sections))
	for c := range sections {
		seen[c] = true
	}
	return seen
}

// carSections reads a CAR with go-car, verifying each section against its
// CID, and returns the sections by CID and its one root.
func carSections(t *testing.T, path string) (map[cid.Cid][]byte, cid.Cid) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br, err := carv2.NewBlockReader(f, carv2.WithTrustedCAR(false))
	if err != nil {
		t.Fatalf("NewBlockReader()=%v", err)
	}
	if len(br.Roots) != 1 {
		t.Fatalf("CAR roots %v, want one", br.Roots)
	}
	out := make(map[cid.Cid][]byte)
	for {
		b, err := br.Next()
		if errors.Is(err, io.EOF) {
			return out, br.Roots[0]
		}
		if err != nil {
			t.Fatalf("CAR section %d: %v", len(out), err)
		}
		out[b.Cid()] = b.RawData()
	}
}
