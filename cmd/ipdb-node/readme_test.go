package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipdb/ipdb-node/internal/jstest"
)

// readmeSnippets returns the ```js blocks of the README whose first line is
// "// NAME", by NAME.
func readmeSnippets(t *testing.T, path string) map[string]string {
	t.Helper()
	re := regexp.MustCompile("(?s)```js\n// ([a-z]+\\.js)\n(.*?)```")
	out := make(map[string]string)
	for _, m := range re.FindAllStringSubmatch(string(readAll(t, path)), -1) {
		out[m[1]] = m[2]
	}
	return out
}

// websocketFlags returns the flags node needs for a global WebSocket
// (Node.js 20 has it behind a flag; 22 has it by default).
func websocketFlags(t *testing.T, nodeBin string) []string {
	t.Helper()
	out, err := exec.Command(nodeBin, "-p", "typeof WebSocket").Output()
	if err != nil {
		t.Fatalf("node -p: %v", err)
	}
	if strings.TrimSpace(string(out)) == "undefined" {
		return []string{"--experimental-websocket"}
	}
	return nil
}

// TestReadmeJavaScript runs the README's post.js and watch.js, as written
// but for the node's address, with the official JS driver: the stream
// announces the CREATE that post.js posts and finds by text search.
func TestReadmeJavaScript(t *testing.T) {
	t.Parallel()
	nodeBin := jstest.Node(t)
	jsDir, err := filepath.Abs(filepath.Join("..", "..", "ledger", "testdata", "js"))
	if err != nil {
		t.Fatal(err)
	}
	jstest.Install(t, jsDir)
	snippets := readmeSnippets(t, filepath.Join("..", "..", "README.md"))
	if len(snippets) != 2 || snippets["post.js"] == "" || snippets["watch.js"] == "" {
		t.Fatalf("README JS snippets %v, want post.js and watch.js", snippets)
	}
	n := startNode(t, t.TempDir())
	dir := t.TempDir()
	for name, code := range snippets {
		code = strings.ReplaceAll(code, "127.0.0.1:9984", strings.TrimPrefix(n.api, "http://"))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "NODE_PATH="+filepath.Join(jsDir, "node_modules"))
	events := runWatch(t, nodeBin, dir, env)
	waitLine(t, events, func(s string) bool { return s == "connected" })

	post := exec.Command(nodeBin, "post.js")
	post.Dir, post.Env = dir, env
	out, err := post.CombinedOutput()
	if err != nil {
		t.Fatalf("node post.js: %v\n%s", err, out)
	}
	id, assets, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	var found []map[string]any
	if err := json.Unmarshal([]byte(assets), &found); err != nil || !isTxID(id) || len(found) != 1 || found[0]["id"] != id {
		t.Fatalf("post.js printed %q (%v), want the id and the asset found by search", out, err)
	}
	waitLine(t, events, func(s string) bool { return strings.Contains(s, `"transaction_id": "`+id+`"`) })
}

// runWatch starts watch.js and returns its stdout lines.
func runWatch(t *testing.T, nodeBin, dir string, env []string) <-chan string {
	t.Helper()
	cmd := exec.Command(nodeBin, append(websocketFlags(t, nodeBin), "watch.js")...)
	cmd.Dir, cmd.Env = dir, env
	stderr := newLineWriter()
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("node watch.js: %v", err)
	}
	lines := make(chan string, 16)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		for range lines { // unblock the reader
		}
		<-exited
		if t.Failed() {
			t.Logf("watch.js stderr: %s", stderr)
		}
	})
	return lines
}

// waitLine reads lines until one satisfies ok.
func waitLine(t *testing.T, lines <-chan string, ok func(string) bool) {
	t.Helper()
	timeout := time.After(testWait)
	for {
		select {
		case l, open := <-lines:
			if !open {
				t.Fatalf("watch.js ended before the awaited line")
			}
			if ok(l) {
				return
			}
		case <-timeout:
			t.Fatalf("no awaited line from watch.js after %v", testWait)
		}
	}
}
