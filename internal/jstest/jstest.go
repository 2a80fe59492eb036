// Package jstest runs the official BigchainDB JavaScript driver from Go
// tests: it finds Node.js and installs the pinned npm packages of a testdata
// directory (npm ci from its package-lock.json) when they are missing.
//
// Tests that need it skip when Node.js is not installed, except under CI
// (CI=true), where a missing Node.js is a failure: .ci/run installs it.
package jstest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// installMu serialises installs within one test binary; a file lock
// serialises them across the binaries go test runs in parallel.
var installMu sync.Mutex

// Node returns the path of the node binary, skipping the test (failing it
// under CI) when there is none.
func Node(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node not found under CI: %v", err)
		}
		t.Skipf("node not found: %v (install Node.js to run the driver tests)", err)
	}
	return p
}

// Install makes sure dir's npm packages are installed, running `npm ci` in
// dir when dir/node_modules is missing or older than package-lock.json.
func Install(t testing.TB, dir string) {
	t.Helper()
	Node(t)
	installMu.Lock()
	defer installMu.Unlock()
	lock, err := os.OpenFile(filepath.Join(dir, ".npm-install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("open install lock: %v", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("lock %s: %v", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if fresh(dir) {
		return
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out.String())
	}
}

// fresh reports whether node_modules was installed after the lockfile last
// changed.
func fresh(dir string) bool {
	mods, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if err != nil {
		return false
	}
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	return err == nil && !mods.ModTime().Before(lock.ModTime())
}
