package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
)

// testLogger sends logs to the test's output, shown only on failure.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testOptions returns options for a node on a free loopback port whose key
// is the only caretaker.
func testOptions(t *testing.T) Options {
	t.Helper()
	key := newKey(t, 9)
	cfg := DefaultConfig()
	cfg.HTTP.Addr = "127.0.0.1:0"
	return Options{Config: cfg, DataDir: t.TempDir(), Genesis: genesis.Dev("test-chain", key, time.Now()),
		Key: key, Logger: testLogger(t), Version: "test"}
}

func newTestNode(t *testing.T, o Options) *Node {
	t.Helper()
	n, err := New(o)
	if err != nil {
		t.Fatalf("New()=%v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// runNode runs n until the returned stop is called; stop returns Run's error.
func runNode(t *testing.T, n *Node) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	return func() error {
		cancel()
		return <-done
	}
}

// leakedGoroutines returns the stacks of goroutines the node may have
// started: its own, Badger's and net/http's.
func leakedGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "testing.tRunner") || strings.Contains(g, "runtime.Stack") {
			continue
		}
		for _, mark := range []string{"ipdb-node/node.", "ipdb-node/ledger.", "badger", "ristretto", "net/http.(*conn)", "net/http.(*Server)", "net/http.(*persistConn)"} {
			if strings.Contains(g, mark) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// checkNoLeaks fails if goroutines of the node are still running once they
// have had a few seconds to finish (a bounded poll: exiting goroutines
// signal nothing to wait on).
func checkNoLeaks(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		leaked := leakedGoroutines()
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left running:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNodeRunCommitsAndStops(t *testing.T) {
	o := testOptions(t)
	n := newTestNode(t, o)
	stop := runNode(t, n)
	sub := n.Subscribe(10)
	alice := newKey(t, 1)
	create := createTx(t, alice, 0, 1)
	if err := n.Submit(t.Context(), verify(t, create), ModeCommit); err != nil {
		t.Fatalf("Submit(commit)=%v, want nil", err)
	}
	if e := <-sub.C; e.TxID != create.ID || e.Height != 1 {
		t.Fatalf("event %+v, want %s at height 1", e, create.ID)
	}
	st := n.Status()
	if !st.Ready || st.Height != 1 || st.ChainID != "test-chain" || st.Version != "test" || st.LatestTime.IsZero() ||
		len(st.Caretakers) != 1 || st.Caretakers[0] != o.Key.PublicBase58() || st.BacklogTxs != 0 {
		t.Fatalf("Status()=%+v, want ready at height 1 with one caretaker", st)
	}
	if _, h, err := n.Store().Tx(create.ID); err != nil || h != 1 {
		t.Fatalf("Store().Tx()=%d, %v, want height 1", h, err)
	}
	if err := n.Submit(t.Context(), verify(t, create), ModeSync); !errors.Is(err, ledger.ErrDuplicateTx) {
		t.Fatalf("Submit(committed again)=%v, want DuplicateTransaction", err)
	}
	checkHTTP(t, n, alice)

	if err := stop(); err != nil {
		t.Fatalf("Run()=%v, want nil", err)
	}
	if n.Status().Ready {
		t.Fatalf("Status().Ready after Run returned, want false")
	}
	if err := n.Submit(t.Context(), verify(t, createTx(t, alice, 9, 1)), ModeAsync); !errors.Is(err, ErrStopping) {
		t.Fatalf("Submit after stop=%v, want ErrStopping", err)
	}
	if got, closed := drain(sub); !closed || len(got) != 1 || got[0].Height != 2 {
		t.Fatalf("subscription holds %+v, closed=%v after stop; want block 2's event, closed", got, closed)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("Close() after Run=%v, want nil", err)
	}
	checkNoLeaks(t)
}

// checkHTTP posts a transaction through the real handler in mode=commit and
// reads status and metrics.
func checkHTTP(t *testing.T, n *Node, alice ledger.KeyPair) {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	base := "http://" + n.HTTPAddr()
	tx := createTx(t, alice, 1, 1)
	resp, err := client.Post(base+"/api/v1/transactions?mode=commit", "application/json", bytes.NewReader(tx.Canonical()))
	if err != nil {
		t.Fatalf("POST=%v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST mode=commit status %d, want 202", resp.StatusCode)
	}
	var st Status
	if code := getJSON(t, client, base+"/api/v1/status", &st); code != 200 || st.Height != 2 {
		t.Fatalf("GET /api/v1/status = %d %+v, want 200 at height 2", code, st)
	}
	resp, err = client.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics=%v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"ipdb_height 2", "ipdb_txs_committed_total 2", "ipdb_backlog_txs 0"} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("/metrics lacks %q", want)
		}
	}
}

func getJSON(t *testing.T, c *http.Client, url string, v any) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s=%v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: decode: %v", url, err)
	}
	return resp.StatusCode
}

func TestNodeShutdownReleasesCommitWaiters(t *testing.T) {
	o := testOptions(t)
	o.Config.Block.Interval = Dur(maxBlockInterval) // the tx stays pending
	n := newTestNode(t, o)
	stop := runNode(t, n)
	v := verify(t, createTx(t, newKey(t, 1), 0, 1))
	if err := n.Submit(t.Context(), v, ModeAsync); err != nil {
		t.Fatalf("Submit(async)=%v", err)
	}
	result := make(chan error, 1)
	go func() { result <- n.Submit(context.Background(), v, ModeCommit) }()
	if err := stop(); err != nil {
		t.Fatalf("Run()=%v, want nil", err)
	}
	// Whether Submit ran before, during or after the shutdown, it ends.
	if err := <-result; !errors.Is(err, ErrStopping) {
		t.Fatalf("Submit(commit) during shutdown=%v, want ErrStopping", err)
	}
	checkNoLeaks(t)
}

func TestNodeCommitTimeout(t *testing.T) {
	o := testOptions(t)
	o.Config.HTTP.CommitWait = Dur(minTimeout)
	n := newTestNode(t, o) // never run: nothing commits
	err := n.Submit(t.Context(), verify(t, createTx(t, newKey(t, 1), 0, 1)), ModeCommit)
	if !errors.Is(err, ErrCommitTimeout) {
		t.Fatalf("Submit(commit)=%v, want ErrCommitTimeout", err)
	}
	if st := n.Status(); st.Ready || st.BacklogTxs != 1 {
		t.Fatalf("Status()=%+v, want not ready with 1 pending", st)
	}
}

func TestNodeCloseStopsRun(t *testing.T) {
	n := newTestNode(t, testOptions(t))
	done := make(chan error, 1)
	go func() { done <- n.Run(context.Background()) }()
	// Once a commit-mode submission returns, Run is running.
	if err := n.Submit(t.Context(), verify(t, createTx(t, newKey(t, 1), 0, 1)), ModeCommit); err != nil {
		t.Fatalf("Submit(commit)=%v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("Close()=%v, want nil", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run()=%v after Close, want nil", err)
	}
	if err := n.Run(context.Background()); err == nil {
		t.Fatalf("Run() on a closed node=nil, want an error")
	}
	checkNoLeaks(t)
}

func TestNodeCloseWithoutRun(t *testing.T) {
	o := testOptions(t)
	n, err := New(o)
	if err != nil {
		t.Fatalf("New()=%v", err)
	}
	addr := n.HTTPAddr()
	if err := n.Close(); err != nil {
		t.Fatalf("Close()=%v, want nil", err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close()=%v, want nil", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port %s still taken after Close: %v", addr, err)
	}
	ln.Close()
	n2 := newTestNode(t, o) // the store reopens with the same genesis
	if n2.Status().Height != 0 {
		t.Fatalf("reopened Height=%d, want 0", n2.Status().Height)
	}
}

func TestNewAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen()=%v", err)
	}
	defer ln.Close()
	o := testOptions(t)
	o.Config.HTTP.Addr = ln.Addr().String()
	_, err = New(o)
	want := "http: listen " + ln.Addr().String() + ": address already in use; is another ipdb-node running? set [http] addr or --http"
	if err == nil || err.Error() != want || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("New()=%v, want %q", err, want)
	}
	n := newTestNode(t, testOptions(t)) // and the store was released
	n.Close()
}

func TestNewRefusesBadOptions(t *testing.T) {
	other := newKey(t, 7)
	tests := []struct {
		name   string
		modify func(o *Options)
		want   string
	}{
		{"invalid config", func(o *Options) { o.Config.Block.MaxTxs = 0 }, "config: block.max_txs: must be between"},
		{"no data dir", func(o *Options) { o.DataDir = "" }, "node: no data directory"},
		{"no genesis", func(o *Options) { o.Genesis = nil }, "node: no genesis document"},
		{"invalid genesis", func(o *Options) { o.Genesis.ChainID = "" }, "genesis: chain_id"},
		{"no key", func(o *Options) { o.Key = ledger.KeyPair{} }, "node: the caretaker key pair is missing or inconsistent"},
		{"not a caretaker", func(o *Options) { o.Key = other }, "is not a caretaker of chain test-chain"},
		{"several caretakers without a p2p key", func(o *Options) {
			o.Genesis.Caretakers[0].PeerID = testPeerID(t, 1).String()
			o.Genesis.Caretakers = append(o.Genesis.Caretakers, genesis.Caretaker{Name: "b", PublicKey: other.PublicBase58(), Power: 10, PeerID: testPeerID(t, 2).String()})
		}, "no p2p key was given"},
		{"other genesis", func(o *Options) {
			first := newTestNode(t, *o)
			first.Close()
			o.Genesis = genesis.Dev("other-chain", o.Key, time.Now())
		}, "genesis:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions(t)
			tt.modify(&o)
			if _, err := New(o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New()=%v, want an error containing %q", err, tt.want)
			}
		})
	}
}
