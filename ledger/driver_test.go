package ledger

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ipdb/ipdb-node/internal/jstest"
)

// This file checks ipdb-node against transactions made by the official
// BigchainDB JavaScript driver (npm bigchaindb-driver 4.3.0, pinned in
// testdata/js/package-lock.json): a corpus checked in under testdata/tx, and
// a differential run of thousands of random transactions.

// errorName returns the BigchainDB exception name of err, or "valid".
func errorName(err error) string {
	if err == nil {
		return "valid"
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Name()
	}
	return fmt.Sprintf("%T", err)
}

func TestDriverCorpusValid(t *testing.T) {
	files, err := filepath.Glob("testdata/tx/valid/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus under testdata/tx/valid (err %v)", err)
	}
	slices.Sort(files)
	st := NewMemState()
	for _, file := range files {
		name := strings.TrimSuffix(file, ".json")
		raw := readFile(t, file)
		wantID := strings.TrimSpace(string(readFile(t, name+".id")))
		wantCanonical := readFile(t, name+".canonical")
		tx, err := DecodeTx(raw)
		if err != nil {
			t.Fatalf("%s: DecodeTx() = %v", file, err)
		}
		if tx.ID != wantID {
			t.Errorf("%s: id = %s, driver says %s", file, tx.ID, wantID)
		}
		if !bytes.Equal(tx.Canonical(), wantCanonical) {
			t.Errorf("%s: canonical bytes differ from the driver's:\n got %s\nwant %s", file, tx.Canonical(), wantCanonical)
		}
		v, err := CheckStateless(tx)
		if err != nil {
			t.Fatalf("%s: CheckStateless() = %v", file, err)
		}
		c, err := Check(st, v)
		if err != nil {
			t.Fatalf("%s: Check() = %v", file, err)
		}
		st.Apply(c)
	}
	t.Run("invalid", func(t *testing.T) { checkInvalidCorpus(t, st) })
}

func checkInvalidCorpus(t *testing.T, st *MemState) {
	files, err := filepath.Glob("testdata/tx/invalid/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus under testdata/tx/invalid (err %v)", err)
	}
	for _, file := range files {
		want := strings.TrimSpace(string(readFile(t, strings.TrimSuffix(file, ".json")+".error")))
		err := checkAll(st, readFile(t, file))
		if got := errorName(err); got != want {
			t.Errorf("%s: got %s (%v), want %s", file, got, err, want)
		}
	}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// diffLine is one transaction of the differential generator.
type diffLine struct {
	Tx   json.RawMessage `json:"tx"`
	ID   string          `json:"id"`
	Want string          `json:"want"`
	Kind string          `json:"kind"`
}

// TestDriverDifferential has the JS driver make random transactions, valid
// and broken on purpose, and checks that Go computes the driver's id for
// every one and reaches the verdict the generator intended. Set
// IPDB_DIFF_SEED and IPDB_DIFF_COUNT to explore further.
func TestDriverDifferential(t *testing.T) {
	dir := filepath.Join("testdata", "js")
	jstest.Install(t, dir)
	seed, count := envInt("IPDB_DIFF_SEED", 1), envInt("IPDB_DIFF_COUNT", 2000)
	if testing.Short() {
		count = 300
	}
	cmd := exec.Command(jstest.Node(t), "differential.mjs", "--count", strconv.Itoa(count), "--seed", strconv.Itoa(seed))
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("differential.mjs: %v\n%s", err, stderr.String())
	}
	st := NewMemState()
	n, kinds := 0, map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l diffLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		n++
		kinds[l.Kind]++
		checkDiffLine(t, st, n, l, seed)
	}
	if n != count {
		t.Fatalf("generator gave %d transactions, want %d", n, count)
	}
	t.Logf("%d transactions, by kind: %v", n, kinds)
}

func checkDiffLine(t *testing.T, st *MemState, n int, l diffLine, seed int) {
	t.Helper()
	replay := fmt.Sprintf("replay: IPDB_DIFF_SEED=%d go test ./ledger -run TestDriverDifferential", seed)
	v, err := DecodeJSON(l.Tx)
	if err != nil {
		t.Fatalf("line %d (%s): DecodeJSON = %v\n%s", n, l.Kind, err, replay)
	}
	if body, ok := v.(map[string]any); ok {
		if id, _ := hashID(body, nil); id != l.ID {
			t.Errorf("line %d (%s): Go id %s, driver id %s\n%s", n, l.Kind, id, l.ID, replay)
		}
	}
	vt, err := Verify(l.Tx)
	var c *CheckedTx
	if err == nil {
		c, err = Check(st, vt)
	}
	if got := errorName(err); got != l.Want {
		t.Errorf("line %d (%s): verdict %s (%v), want %s\n%s\n%s", n, l.Kind, got, err, l.Want, l.Tx, replay)
	}
	if err == nil {
		st.Apply(c)
	}
}

func envInt(name string, def int) int {
	if s := os.Getenv(name); s != "" {
		if n, err := strconv.Atoi(s); err == nil {
			return n
		}
	}
	return def
}
