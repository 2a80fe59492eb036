//go:build unix

package main

import (
	"bufio"
	"crypto/ed25519"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipdb/ipdb-node/ledger"
)

// buildBinary builds ipdb-node into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "ipdb-node")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is `ipdb-node start` running as a child process.
type process struct {
	cmd    *exec.Cmd
	api    string
	stderr *lineWriter
	exited chan error
}

// startProcess starts the binary on home, on a free HTTP port, and waits
// for its banner.
func startProcess(t *testing.T, bin, home string) *process {
	t.Helper()
	return startProcessArgs(t, bin, "start", "--home", home, "--http", "127.0.0.1:0")
}

// startProcessArgs starts the binary with args and waits for its banner.
func startProcessArgs(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), stderr: newLineWriter(), exited: make(chan error, 1)}
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	banner := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := bannerRE.FindStringSubmatch(sc.Text()); m != nil {
				banner <- "http://" + m[2]
			}
		}
		p.exited <- p.cmd.Wait() // after stdout is read to its end, as Wait requires
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	select {
	case p.api = <-banner:
		return p
	case err := <-p.exited:
		p.exited <- err
		t.Fatalf("ipdb-node exited (%v) before its banner\nstderr: %s", err, p.stderr)
	case <-time.After(testWait):
		t.Fatalf("no banner from ipdb-node after %v\nstderr: %s", testWait, p.stderr)
	}
	return nil
}

// signal sends sig and waits for the process to exit, returning Wait's error.
func (p *process) signal(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
	select {
	case err := <-p.exited:
		p.exited <- err
		return err
	case <-time.After(testWait):
		t.Fatalf("ipdb-node still running %v after %v\nstderr: %s", testWait, sig, p.stderr)
		return nil
	}
}

// TestProcess runs the built binary as operators do.
func TestProcess(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	t.Run("start, post, refuse a second start, stop on SIGTERM", func(t *testing.T) { testProcessStartPostStop(t, bin) })
	t.Run("a stale LOCK does not block", func(t *testing.T) { testProcessStaleLock(t, bin) })
	t.Run("runtime.max_procs sets GOMAXPROCS", func(t *testing.T) { testProcessMaxProcs(t, bin) })
}

func testProcessStartPostStop(t *testing.T, bin string) {
	home := t.TempDir()
	p := startProcess(t, bin, home)

	seed := make([]byte, ed25519.SeedSize)
	alice, _ := ledger.NewKeyPair(seed)
	u, err := ledger.BuildCreate([]ed25519.PublicKey{alice.Public}, map[string]any{"process": "test"}, nil, ledger.To(1, alice.Public))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := u.Sign(alice.Private)
	if err != nil {
		t.Fatal(err)
	}
	if code := postRaw(t, p.api, tx.Canonical()); code != 202 {
		t.Fatalf("POST mode=commit = %d, want 202", code)
	}

	out, err := exec.Command(bin, "start", "--home", home, "--http", "127.0.0.1:0").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("second start on the home: %v, want exit code 1", err)
	}
	want := "ipdb-node: home " + home + " is in use by another ipdb-node (pid " + strconv.Itoa(p.cmd.Process.Pid) + ")\n"
	if string(out) != want {
		t.Fatalf("second start printed %q, want %q", out, want)
	}

	if err := p.signal(t, syscall.SIGTERM); err != nil {
		t.Fatalf("ipdb-node after SIGTERM: %v, want exit code 0\nstderr: %s", err, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "node stopped") {
		t.Fatalf("stderr lacks the node's stop log:\n%s", p.stderr)
	}
}

func testProcessStaleLock(t *testing.T, bin string) {
	home := t.TempDir()
	p := startProcess(t, bin, home)
	if err := p.signal(t, syscall.SIGKILL); err == nil {
		t.Fatalf("ipdb-node killed with SIGKILL exited cleanly")
	}
	if got := strings.TrimSpace(string(readAll(t, filepath.Join(home, lockFile)))); got != strconv.Itoa(p.cmd.Process.Pid) {
		t.Fatalf("LOCK holds %q after a kill, want the dead pid %d", got, p.cmd.Process.Pid)
	}
	p = startProcess(t, bin, home)
	if err := p.signal(t, syscall.SIGINT); err != nil {
		t.Fatalf("ipdb-node after SIGINT: %v, want exit code 0", err)
	}
}

// testProcessMaxProcs starts a home whose config sets [runtime] max_procs
// and reads the setting back from the Go runtime metric on /metrics.
func testProcessMaxProcs(t *testing.T, bin string) {
	if runtime.NumCPU() < 2 {
		t.Skip("one core: max_procs 1 is Go's own choice")
	}
	home := t.TempDir()
	mustRunCLI(t, "init", "--home", home)
	mustRunCLI(t, "config", "--home", home, "set", "runtime.max_procs", "1")
	p := startProcess(t, bin, home)
	defer p.signal(t, syscall.SIGTERM)
	resp, err := http.Get(p.api + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^go_sched_gomaxprocs_threads 1$`).Match(body) {
		t.Fatalf("/metrics of a node with max_procs 1 on %d cores lacks go_sched_gomaxprocs_threads 1", runtime.NumCPU())
	}
}
