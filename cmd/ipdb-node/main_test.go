package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/node"
)

// testWait bounds every wait of a test for something that should happen
// quickly; reaching it is a failure, never a synchronisation.
const testWait = 60 * time.Second

// lineWriter collects output written from any goroutine and sends each
// complete line to lines (dropping lines nobody reads once it is full).
type lineWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	partial []byte
	lines   chan string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 1024)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		select {
		case w.lines <- string(w.partial[:i]):
		default:
		}
		w.partial = w.partial[i+1:]
	}
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// runCLI runs the CLI in-process and returns its stdout, stderr and error.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// mustRunCLI runs the CLI and fails the test on an error.
func mustRunCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := runCLI(t, args...)
	if err != nil {
		t.Fatalf("ipdb-node %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// checkOneLineError checks that a failed run printed exactly one line,
// "ipdb-node: <msg>", holding every want.
func checkOneLineError(t *testing.T, stderr string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("run()=nil, want an error holding %q", want)
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "ipdb-node: ") {
		t.Fatalf("last stderr line %q, want it to start with \"ipdb-node: \"", last)
	}
	for _, w := range want {
		if !strings.Contains(last, w) {
			t.Fatalf("error line %q, want it to hold %q", last, w)
		}
	}
}

var bannerRE = regexp.MustCompile(`^ipdb-node \S+: chain (\S+), HTTP API on http://([^/]+)/api/v1/, event stream ws://([^/]+)/api/v1/streams/valid_transactions$`)

// runningNode is `ipdb-node start` running in a goroutine of the test.
type runningNode struct {
	home, api      string
	stdout, stderr *lineWriter
	cancel         context.CancelFunc
	done           chan error
}

// startNode runs `ipdb-node start --home home --http 127.0.0.1:0` plus
// extra args, and waits for its banner to learn the API address. The node
// is stopped at the end of the test if stop was not called.
func startNode(t *testing.T, home string, extra ...string) *runningNode {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n := &runningNode{home: home, stdout: newLineWriter(), stderr: newLineWriter(), cancel: cancel, done: make(chan error, 1)}
	args := append([]string{"start", "--home", home, "--http", "127.0.0.1:0"}, extra...)
	go func() { n.done <- run(ctx, args, n.stdout, n.stderr) }()
	t.Cleanup(func() { n.stop(t) })
	timeout := time.NewTimer(testWait)
	defer timeout.Stop()
	for {
		select {
		case line := <-n.stdout.lines:
			if m := bannerRE.FindStringSubmatch(line); m != nil {
				n.api = "http://" + m[2]
				return n
			}
		case err := <-n.done:
			n.done <- err
			t.Fatalf("start returned %v before its banner\nstdout: %s\nstderr: %s", err, n.stdout, n.stderr)
		case <-timeout.C:
			t.Fatalf("no banner after %v\nstdout: %s\nstderr: %s", testWait, n.stdout, n.stderr)
		}
	}
}

// stop cancels the node's context (as SIGTERM does) and returns run's error.
// It may be called more than once.
func (n *runningNode) stop(t *testing.T) error {
	t.Helper()
	n.cancel()
	select {
	case err := <-n.done:
		n.done <- err
		return err
	case <-time.After(testWait):
		t.Fatalf("start did not return %v after its context was cancelled", testWait)
		return nil
	}
}

// httpClient returns a client whose idle connections close with the test.
func httpClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: testWait}
}

// getStatus reads GET /api/v1/status.
func getStatus(t *testing.T, api string) node.Status {
	t.Helper()
	resp, err := httpClient(t).Get(api + "/api/v1/status")
	if err != nil {
		t.Fatalf("GET status: %v", err)
	}
	defer resp.Body.Close()
	var st node.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("decode status: %v", err)
	}
	return st
}

// newKeyFile writes a fresh key file in dir and returns its path and key.
func newKeyFile(t *testing.T, dir, name string) (string, ledger.KeyPair) {
	t.Helper()
	path := filepath.Join(dir, name+".json")
	out := mustRunCLI(t, "keys", "generate", "--out", path)
	k, err := readKeyFile(path)
	if err != nil {
		t.Fatalf("readKeyFile(%s)=%v", path, err)
	}
	if got := strings.TrimSpace(out); got != k.PublicBase58() {
		t.Fatalf("keys generate printed %q, want the public key %s", got, k.PublicBase58())
	}
	return path, k
}

// readAll reads a file or fails.
func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return b
}

// postRaw posts body to the node and returns the status code.
func postRaw(t *testing.T, api string, body []byte) int {
	t.Helper()
	resp, err := httpClient(t).Post(api+"/api/v1/transactions?mode=commit", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
