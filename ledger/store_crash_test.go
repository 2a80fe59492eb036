package ledger_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

// crashDirEnv names the store directory of TestStoreCrashChild; the child
// runs only when it is set.
const crashDirEnv = "LEDGER_STORE_CRASH_DIR"

// Bounds of the crash test: kills, the longest a child runs before its kill,
// and the blocks a child commits at most (should its parent be gone).
const (
	crashRounds    = 20
	crashMaxLife   = 400 * time.Millisecond
	crashMaxBlocks = 10_000
)

// TestStoreCrash commits blocks in a child process, kills it with SIGKILL
// at a random moment, reopens the store and checks that every block the
// child reported committed is there, whole, with its indexes, and that the
// chain verifies from the newest block to genesis; 20 times on one store.
// Each round checks the new blocks in depth and the links of all; the last
// round checks every block in depth.
func TestStoreCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills 20 child processes")
	}
	dir := t.TempDir()
	reported := uint64(0)
	deepFrom := uint64(1) // blocks below were checked after an earlier kill
	for round := range crashRounds {
		h, out := runCrashChild(t, dir, rand.N(crashMaxLife))
		reported = max(reported, h)
		s := openTestStore(t, dir)
		if got := s.Height(); got < reported {
			t.Fatalf("round %d: Height()=%d after the kill, but the child reported block %d committed\n%s", round, got, reported, out)
		}
		if _, _, err := s.BlockByHeight(s.Height() + 1); !errors.Is(err, ledger.ErrNotFound) {
			t.Fatalf("round %d: BlockByHeight(%d) above the newest block=%v, want ErrNotFound", round, s.Height()+1, err)
		}
		if _, _, err := s.LatestBlock(); errors.Is(err, ledger.ErrNotFound) && reported == 0 {
			s.Close() // killed before its genesis block
			continue
		}
		verifyChain(t, s, deepFrom)
		deepFrom = s.Height() + 1
		if round == crashRounds-2 {
			deepFrom = 1 // the last round checks every block again
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close()=%v", err)
		}
		t.Logf("round %d: killed after %d reported blocks, store at height %d", round, h, s.Height())
	}
}

// runCrashChild runs TestStoreCrashChild on dir, kills it with SIGKILL after
// life, and returns the highest height it reported committed and its output.
func runCrashChild(t *testing.T, dir string, life time.Duration) (uint64, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestStoreCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("StdoutPipe()=%v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("Start()=%v", err)
	}
	kill := time.AfterFunc(life, func() { cmd.Process.Signal(syscall.SIGKILL) })
	defer kill.Stop()
	var reported uint64
	var lines []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		var h uint64
		if _, err := fmt.Sscanf(sc.Text(), "committed %d", &h); err == nil {
			reported = h
		}
	}
	err = cmd.Wait()
	out := strings.Join(lines, "\n") + "\n" + stderr.String()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want a SIGKILL\n%s", err, out)
	}
	return reported, out
}

// TestStoreCrashChild is the child of TestStoreCrash: it commits blocks of
// tagged CREATEs and TRANSFERs to the store in $LEDGER_STORE_CRASH_DIR and
// prints "committed <height>" once each CommitBlock has returned.
func TestStoreCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestStoreCrash")
	}
	s, err := ledger.OpenStore(dir, ledger.StoreOptions{})
	if err != nil {
		t.Fatalf("OpenStore()=%v", err)
	}
	key := ledgertest.Key(t, 1)
	chain := ledgertest.NewChain(t, s, key)
	var prev []*ledger.Tx
	for range crashMaxBlocks {
		txs := taggedCreates(t, key, 20)
		for _, tx := range prev[:min(len(prev), 5)] {
			txs = append(txs, ledgertest.Transfer(t, tx, 0, map[string]any{"tag": randomWord()}, []ledger.KeyPair{key}))
		}
		chain.Commit(txs...)
		fmt.Printf("committed %d\n", chain.Height())
		prev = txs[:20]
	}
}

// taggedCreates returns n CREATEs whose asset data and metadata each have a
// "tag" word of their own (see verifySearchTag).
func taggedCreates(t *testing.T, key ledger.KeyPair, n int) []*ledger.Tx {
	out := make([]*ledger.Tx, n)
	for i := range out {
		data := map[string]any{"tag": randomWord(), "text": "crash test asset", "n": i}
		out[i] = ledgertest.Create(t, key, data, map[string]any{"tag": randomWord()})
	}
	return out
}

// randomWord returns 12 random lower-case letters: a term no other
// document has.
func randomWord() string {
	b := make([]byte, 12)
	for i := range b {
		b[i] = byte('a' + rand.N(26))
	}
	return string(b)
}
