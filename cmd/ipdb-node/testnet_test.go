//go:build unix

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipdb/ipdb-node/internal/jstest"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/node"
)

// The end-to-end tests below run `ipdb-node testnet` homes as real
// processes. They are skipped with -short (buildBinary skips), and are not
// parallel with each other: each runs four or five nodes.

// clusterWait bounds each wait of a cluster test for progress (a height, a
// commit); reaching it is a failure, never a synchronisation.
const clusterWait = 60 * time.Second

// clusterPoll is how often a cluster test polls the API while it waits.
const clusterPoll = 50 * time.Millisecond

// cluster is a testnet whose nodes run as processes.
type cluster struct {
	t        *testing.T
	bin, dir string
	entries  []testnetEntry
	procs    []*process // by entry; the latest process of each home
	client   *http.Client
}

// newCluster writes a testnet of nodes caretakers and followers followers
// (with the extra arguments of `ipdb-node testnet`, such as --param) and
// starts every home.
func newCluster(t *testing.T, nodes, followers int, extra ...string) *cluster {
	t.Helper()
	bin := buildBinary(t)
	dir := t.TempDir()
	args := []string{"testnet", "--nodes", strconv.Itoa(nodes), "--followers", strconv.Itoa(followers), "--out", dir}
	mustRunCLI(t, append(args, extra...)...)
	c := &cluster{t: t, bin: bin, dir: dir, entries: readTestnet(t, dir), client: httpClient(t)}
	c.procs = make([]*process, len(c.entries))
	for i := range c.entries {
		c.start(i)
	}
	t.Cleanup(func() {
		if t.Failed() {
			c.dumpLogs()
		}
	})
	return c
}

// start starts home i and waits for its banner. IPDB_E2E_LOG_LEVEL=debug
// makes the nodes log at debug level (their logs are shown on failure).
func (c *cluster) start(i int) {
	c.t.Helper()
	args := []string{"start", "--home", filepath.Join(c.dir, c.entries[i].Home)}
	if level := os.Getenv("IPDB_E2E_LOG_LEVEL"); level != "" {
		args = append(args, "--log-level", level)
	}
	c.procs[i] = startProcessArgs(c.t, c.bin, args...)
	if want := "http://" + c.entries[i].HTTP; c.procs[i].api != want {
		c.t.Fatalf("%s serves on %s, want %s from %s", c.entries[i].Home, c.procs[i].api, want, testnetFile)
	}
}

// kill kills home i with SIGKILL and waits for it to exit.
func (c *cluster) kill(i int) {
	c.t.Helper()
	p := c.procs[i]
	if err := p.cmd.Process.Kill(); err != nil {
		c.t.Fatalf("kill %s: %v", c.entries[i].Home, err)
	}
	err := <-p.exited
	p.exited <- err // for the cleanup of startProcessArgs
}

// api returns the API base URL of home i.
func (c *cluster) api(i int) string { return "http://" + c.entries[i].HTTP }

// dumpLogs logs the end of every node's stderr.
func (c *cluster) dumpLogs() {
	const tail = 8000
	for i, p := range c.procs {
		if p == nil {
			continue
		}
		s := p.stderr.String()
		if len(s) > tail {
			s = s[len(s)-tail:]
		}
		c.t.Logf("stderr of %s (last %d bytes):\n%s", c.entries[i].Home, tail, s)
	}
}

// waitFor polls cond until it holds, failing the test after clusterWait.
func (c *cluster) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(clusterWait)
	tick := time.NewTicker(clusterPoll)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("after %v: still waiting for %s", clusterWait, what)
		}
		<-tick.C
	}
}

// get reads path from home i's API, returning the status and body (0 when
// the node did not answer).
func (c *cluster) get(i int, path string) (int, []byte) {
	resp, err := c.client.Get(c.api(i) + path)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil
	}
	return resp.StatusCode, b
}

// height returns home i's height, or 0 when it does not answer.
func (c *cluster) height(i int) uint64 {
	code, b := c.get(i, "/api/v1/status")
	var st node.Status
	if code != http.StatusOK || json.Unmarshal(b, &st) != nil {
		return 0
	}
	return st.Height
}

// blockCID returns the CID of home i's block at height h, or "".
func (c *cluster) blockCID(i int, h uint64) string {
	code, b := c.get(i, "/api/v1/blocks/"+strconv.FormatUint(h, 10))
	var blk struct {
		CID string `json:"cid"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &blk) != nil {
		return ""
	}
	return blk.CID
}

// hasTx reports whether home i serves the committed transaction id.
func (c *cluster) hasTx(i int, id string) bool {
	code, _ := c.get(i, "/api/v1/transactions/"+id)
	return code == http.StatusOK
}

// post posts tx to home i with mode and returns the status (0: no answer).
func (c *cluster) post(ctx context.Context, i int, tx *ledger.Tx, mode string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.api(i)+"/api/v1/transactions?mode="+mode, bytes.NewReader(tx.Canonical()))
	if err != nil {
		return 0
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// waitHeight waits until every home of homes is at height h or above.
func (c *cluster) waitHeight(h uint64, homes ...int) {
	c.t.Helper()
	for _, i := range homes {
		c.waitFor(fmt.Sprintf("%s at height %d (now %d)", c.entries[i].Home, h, c.height(i)), func() bool { return c.height(i) >= h })
	}
}

// waitTxs waits until every home of homes serves every transaction of ids.
func (c *cluster) waitTxs(ids []string, homes ...int) {
	c.t.Helper()
	for _, i := range homes {
		for _, id := range ids {
			c.waitFor(fmt.Sprintf("transaction %s on %s", id, c.entries[i].Home), func() bool { return c.hasTx(i, id) })
		}
	}
}

// checkSameChain checks that homes have equal block CIDs at every height up
// to the lowest of their heights, which must be at least minHeight.
func (c *cluster) checkSameChain(minHeight uint64, homes ...int) {
	c.t.Helper()
	low := c.height(homes[0])
	for _, i := range homes[1:] {
		low = min(low, c.height(i))
	}
	if low < minHeight {
		c.t.Fatalf("lowest height %d, want at least %d", low, minHeight)
	}
	for h := range low + 1 {
		want := c.blockCID(homes[0], h)
		for _, i := range homes {
			if got := c.blockCID(i, h); got == "" || got != want {
				c.t.Fatalf("block %d: %s has %q, %s has %q", h, c.entries[i].Home, got, c.entries[homes[0]].Home, want)
			}
		}
	}
	c.t.Logf("%d homes agree on %d blocks", len(homes), low+1)
}

// all returns the indexes 0..n-1.
func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// clusterKey is the key the cluster tests sign with.
func clusterKey(t *testing.T, b byte) ledger.KeyPair {
	t.Helper()
	k, err := ledger.NewKeyPair(bytes.Repeat([]byte{b}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// load posts CREATEs with mode=commit to the homes of targets from clients
// goroutines until stop is called, which returns the acknowledged ids.
type load struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	acked  []string
	next   int
}

// startLoad starts the load of clients goroutines signing with key.
func (c *cluster) startLoad(key ledger.KeyPair, clients int, targets ...int) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel}
	for w := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for ctx.Err() == nil {
				l.mu.Lock()
				n := l.next
				l.next++
				l.mu.Unlock()
				tx := crashCreate(c.t, key, n)
				if tx == nil {
					return
				}
				if c.post(ctx, targets[(n+w)%len(targets)], tx, "commit") == http.StatusAccepted {
					l.mu.Lock()
					l.acked = append(l.acked, tx.ID)
					l.mu.Unlock()
				}
			}
		}()
	}
	return l
}

// count returns how many transactions were acknowledged so far.
func (l *load) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// stop ends the load and returns the acknowledged ids.
func (l *load) stop() []string {
	l.cancel()
	l.wg.Wait()
	return l.acked
}

// TestTestnetCommits posts transactions to every node of a 4-caretaker
// testnet and its follower, with mode=commit and mode=async: all commit,
// and all five nodes hold the same blocks.
func TestTestnetCommits(t *testing.T) {
	c := newCluster(t, 4, 1)
	key := clusterKey(t, 21)
	var ids []string
	for n := range 20 {
		tx := crashCreate(t, key, n)
		mode := map[bool]string{true: "commit", false: "async"}[n%2 == 0]
		target := n % len(c.entries)
		if code := c.post(t.Context(), target, tx, mode); code != http.StatusAccepted {
			t.Fatalf("POST mode=%s to %s = %d, want 202", mode, c.entries[target].Home, code)
		}
		if mode == "commit" && !c.hasTx(target, tx.ID) {
			t.Fatalf("%s acknowledged %s with mode=commit but does not serve it", c.entries[target].Home, tx.ID)
		}
		ids = append(ids, tx.ID)
	}
	c.waitTxs(ids, all(len(c.entries))...)
	c.checkSameChain(1, all(len(c.entries))...)
}

// TestTestnetKillOneCaretaker kills one of four caretakers with SIGKILL
// under load: blocks go on (three of four hold more than 2/3 of the power);
// restarted, it catches up to the same blocks.
func TestTestnetKillOneCaretaker(t *testing.T) {
	c := newCluster(t, 4, 0)
	const victim = 3
	l := c.startLoad(clusterKey(t, 22), 4, 0, 1, 2)
	c.waitHeight(3, 0)
	c.kill(victim)
	at := c.height(0)
	c.waitHeight(at+3, 0, 1, 2)
	c.start(victim)
	acked := l.stop()
	if len(acked) == 0 {
		t.Fatal("no transaction was acknowledged; the test proved nothing")
	}
	target := c.height(0)
	c.waitHeight(target, victim)
	c.waitTxs(acked, victim)
	c.checkSameChain(target, all(4)...)
}

// TestTestnetKillAll kills all four caretakers with SIGKILL under load and
// restarts them: no transaction acknowledged with mode=commit is lost, the
// network commits again, and all hold the same blocks.
func TestTestnetKillAll(t *testing.T) {
	c := newCluster(t, 4, 0)
	key := clusterKey(t, 23)
	l := c.startLoad(key, 8, all(4)...)
	c.waitFor("20 acknowledged transactions", func() bool { return l.count() >= 20 })
	for i := range 4 {
		c.kill(i)
	}
	acked := l.stop()
	for i := range 4 {
		c.start(i)
	}
	c.waitTxs(acked, all(4)...)
	tx := crashCreate(t, key, 1_000_000)
	if code := c.post(t.Context(), 1, tx, "commit"); code != http.StatusAccepted {
		t.Fatalf("POST mode=commit after the restart = %d, want 202", code)
	}
	c.waitTxs([]string{tx.ID}, all(4)...)
	c.checkSameChain(1, all(4)...)
	t.Logf("%d acknowledged transactions survived killing every caretaker", len(acked))
}

// TestTestnetDriverInterop runs the JS driver interop script (see
// TestDriverInterop) against a caretaker of a testnet and against its
// follower.
func TestTestnetDriverInterop(t *testing.T) {
	dir := filepath.Join("..", "..", "ledger", "testdata", "js")
	nodeBin := jstest.Node(t)
	jstest.Install(t, dir)
	c := newCluster(t, 4, 1)
	for _, i := range []int{1, 4} {
		args := append(websocketFlags(t, nodeBin), "interop.mjs", "--api", c.api(i)+"/api/v1/")
		cmd := exec.Command(nodeBin, args...)
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("interop.mjs against %s: %v\n%s", c.entries[i].Home, err, out.String())
		}
		t.Logf("%s: %s", c.entries[i].Home, strings.TrimSpace(out.String()))
	}
}
