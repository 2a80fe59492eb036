//go:build unix

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/ipdb/ipdb-node/ledger"
)

// TestCrashRecovery kill -9s a real node at random moments while clients
// post transactions with mode=commit, restarts it each time, and checks that
// every acknowledged transaction survived, that the node restarts without
// repair, and at the end that the chain exported from its home verifies from
// the newest block back to genesis (CIDs, prev links, commits, transactions).
// IPDB_CRASH_SEED replays a run; -short does 5 kills instead of 20.
func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	seed := uint64(envUint("IPDB_CRASH_SEED", uint64(time.Now().UnixNano())))
	t.Logf("seed %d (replay: IPDB_CRASH_SEED=%d go test ./cmd/ipdb-node -run TestCrashRecovery)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	kills := 20
	if testing.Short() {
		kills = 5
	}
	home := t.TempDir()
	key := crashKey(t)
	var acked []string
	next := 0
	for i := range kills {
		p := startProcess(t, bin, home)
		checkCommitted(t, p.api, acked)
		delay := time.Duration(20+rng.IntN(400)) * time.Millisecond
		got := loadUntilKilled(t, p, key, &next, delay)
		acked = append(acked, got...)
		t.Logf("kill %d after %v: %d acknowledged in this run, %d in all", i+1, delay, len(got), len(acked))
	}
	p := startProcess(t, bin, home)
	checkCommitted(t, p.api, acked)
	if err := p.signal(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: exit %v\nstderr: %s", err, p.stderr)
	}
	if len(acked) == 0 {
		t.Fatal("no transaction was acknowledged in any run; the test proved nothing")
	}
	verifyExportedChain(t, home, acked)
}

func crashKey(t *testing.T) ledger.KeyPair {
	t.Helper()
	k, err := ledger.NewKeyPair(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// loadUntilKilled posts CREATEs with mode=commit from 8 clients and kills
// the node with SIGKILL after delay. It returns the ids the node answered 202.
func loadUntilKilled(t *testing.T, p *process, key ledger.KeyPair, next *int, delay time.Duration) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex // guards acked and *next
	var acked []string
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				mu.Lock()
				n := *next
				*next++
				mu.Unlock()
				tx := crashCreate(t, key, n)
				if tx == nil {
					return
				}
				if postCommit(ctx, client, p.api, tx.Canonical()) == http.StatusAccepted {
					mu.Lock()
					acked = append(acked, tx.ID)
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(delay) // the kill moment is what is random here, not a synchronisation
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill: %v", err)
	}
	<-p.exited
	p.exited <- nil
	cancel()
	wg.Wait()
	return acked
}

// crashCreate returns CREATE number n, signed by key or, past the first
// benchTxsPerKey, by a key derived from it (as the load generator does),
// so that long loads stay within every key's free tier.
func crashCreate(t *testing.T, key ledger.KeyPair, n int) *ledger.Tx {
	key = signerOf(key, n%1_000_000)
	u, err := ledger.BuildCreate([]ed25519.PublicKey{key.Public}, map[string]any{"crash": n}, nil, ledger.To(1, key.Public))
	if err != nil {
		t.Error(err)
		return nil
	}
	tx, err := u.Sign(key.Private)
	if err != nil {
		t.Error(err)
	}
	return tx
}

// postCommit posts body with mode=commit and returns the status, or 0 when
// no answer came (the node was killed).
func postCommit(ctx context.Context, c *http.Client, api string, body []byte) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+"/api/v1/transactions?mode=commit", bytes.NewReader(body))
	if err != nil {
		return 0
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// checkCommitted fails unless every id is served by GET /transactions/{id}.
func checkCommitted(t *testing.T, api string, ids []string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	for _, id := range ids {
		resp, err := client.Get(api + "/api/v1/transactions/" + id)
		if err != nil {
			t.Fatalf("GET %s: %v", id, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("acknowledged transaction %s lost after a kill: GET answered %d", id, resp.StatusCode)
		}
	}
}

// verifyExportedChain exports the home's ledger as a CAR and walks it from
// the root: each block's bytes hash to its CID, decode strictly, link to the
// previous block one height down, carry the commit of that block, and name
// only transactions that are in the CAR; genesis is reached; every
// acknowledged transaction is in a block.
func verifyExportedChain(t *testing.T, home string, acked []string) {
	t.Helper()
	car := filepath.Join(t.TempDir(), "chain.car")
	mustRunCLI(t, "export", "--home", home, "--car", car)
	sections, root := carSections(t, car)
	inBlocks := make(map[cid.Cid]bool)
	c := root
	for height := uint64(0); ; {
		data, ok := sections[c]
		if !ok {
			t.Fatalf("block %s missing from the CAR", c)
		}
		if ledger.BlockCID(data) != c {
			t.Fatalf("block bytes do not hash to %s", c)
		}
		b, err := ledger.DecodeBlock(data)
		if err != nil {
			t.Fatalf("DecodeBlock(%s) = %v", c, err)
		}
		if c != root && b.Height != height-1 {
			t.Fatalf("block %s at height %d, want %d", c, b.Height, height-1)
		}
		height = b.Height
		for _, tx := range b.Txs {
			if _, ok := sections[tx]; !ok {
				t.Fatalf("block %d names transaction %s, missing from the CAR", b.Height, tx)
			}
			inBlocks[tx] = true
		}
		if b.Height == 0 {
			break
		}
		if b.LastCommit != nil && b.LastCommit.Block != b.Prev {
			t.Fatalf("block %d carries a commit of %s, want of prev %s", b.Height, b.LastCommit.Block, b.Prev)
		}
		c = b.Prev
	}
	for _, id := range acked {
		tc, err := ledger.TxCIDFromHex(id)
		if err != nil || !inBlocks[tc] {
			t.Fatalf("acknowledged transaction %s is in no block of the exported chain (%v)", id, err)
		}
	}
}

func envUint(name string, def uint64) uint64 {
	if s := os.Getenv(name); s != "" {
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return n
		}
		panic(fmt.Sprintf("%s=%q is not an unsigned integer", name, s))
	}
	return def
}
