//go:build unix

package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ipdb/ipdb-node/governance"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ratelimit"
)

// quotaFree is the free tier of the quota testnet: small, so that keys
// exhaust it within the test.
const quotaFree = 5

// quotaKey is key number i of the quota tests.
func quotaKey(t *testing.T, i int) ledger.KeyPair {
	t.Helper()
	seed := sha256.Sum256(fmt.Appendf(nil, "quota-e2e/%d", i))
	k, err := ledger.NewKeyPair(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// quotaCreate returns CREATE number n signed by key.
func quotaCreate(t *testing.T, key ledger.KeyPair, n int) *ledger.Tx {
	t.Helper()
	u, err := ledger.BuildCreate([]ed25519.PublicKey{key.Public}, map[string]any{"quota": n}, nil, ledger.To(1, key.Public))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := u.Sign(key.Private)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// postBody posts tx to home i and returns the status and the body.
func (c govCluster) postBody(i int, tx *ledger.Tx, mode string) (int, string) {
	c.t.Helper()
	resp, err := c.client.Post(c.api(i)+"/api/v1/transactions?mode="+mode, "application/json", strings.NewReader(string(tx.Canonical())))
	if err != nil {
		c.t.Fatalf("post to %s: %v", c.entries[i].Home, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b)
}

// settle waits until every live home has the newest block any has: a
// mode=commit answer says one node committed, the others follow a moment
// later.
func (c govCluster) settle(homes ...int) {
	c.t.Helper()
	top := uint64(0)
	for _, i := range homes {
		top = max(top, c.height(i))
	}
	c.waitHeight(top, homes...)
}

// account returns key's quota account as home i serves it.
func (c govCluster) account(i int, key string) ratelimit.Account {
	c.t.Helper()
	var a ratelimit.Account
	c.getJSON(i, "/api/v1/quota/"+key, &a)
	return a
}

// writeKey writes key to a key file in dir and returns its path.
func writeKey(t *testing.T, dir string, name string, key ledger.KeyPair) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, encodeKeyFile(key), privateFileMode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTestnetQuota(t *testing.T) {
	c := govCluster{newCluster(t, 4, 0, "--param", fmt.Sprintf("free_tier_txs_per_epoch=%d", quotaFree), "--param", "fee_per_tx=2")}
	// Issue the fee asset (the treasury's CREATE is not charged beyond the free tier).
	feeRaw := readAll(t, filepath.Join(c.dir, feeAssetTxFile))
	feeTx, err := ledger.DecodeTx(feeRaw)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := c.postBody(0, feeTx, "commit"); code != http.StatusAccepted {
		t.Fatalf("post the fee asset: %d %s", code, body)
	}

	// A key exhausts its free tier: the next POST is 429 and never stored.
	alice, bob := quotaKey(t, 1), quotaKey(t, 2)
	for n := range quotaFree {
		if code, body := c.postBody(n%4, quotaCreate(t, alice, n), "commit"); code != http.StatusAccepted {
			t.Fatalf("alice's tx %d: %d %s", n, code, body)
		}
	}
	over := quotaCreate(t, alice, quotaFree)
	c.settle(all(4)...)
	code, body := c.postBody(1, over, "commit")
	a := c.account(1, alice.PublicBase58())
	want := fmt.Sprintf(`{"message":"Invalid transaction (QuotaExceeded): %s has used %d of %d transactions in epoch 0, renews at height %d","status":429}`,
		alice.PublicBase58(), quotaFree, quotaFree, a.EpochEndsHeight+1)
	if code != http.StatusTooManyRequests || strings.TrimSpace(body) != want {
		t.Fatalf("alice over quota: %d %s, want 429 %s", code, body, want)
	}
	// Another key is unaffected.
	if code, body := c.postBody(2, quotaCreate(t, bob, 0), "commit"); code != http.StatusAccepted {
		t.Fatalf("bob: %d %s", code, body)
	}

	// A grant-quota election passes and alice posts again.
	grant := c.propose(0, "grant-quota", "--public-key", alice.PublicBase58(), "--txs", "10", "--bytes", "100000")
	c.voteAll(grant, 0, 1, 2)
	c.wantStatus(3, grant, governance.StatusApproved)
	c.commitTxs(3, quotaKey(t, 3), 0, 1) // the block from which the grant is in force
	if code, body := c.postBody(3, over, "commit"); code != http.StatusAccepted {
		t.Fatalf("alice after the grant: %d %s", code, body)
	}
	if a := c.account(3, alice.PublicBase58()); a.GrantedTxs != 10 || a.UsedTxs != quotaFree+1 || a.RemainingTxs != quotaFree+10-quotaFree-1 {
		t.Fatalf("alice's account after the grant: %+v", a)
	}

	// A key buys quota with the fee asset from the shell.
	treasury, err := readKeyFile(filepath.Join(c.dir, treasuryKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	carol := quotaKey(t, 4)
	u, err := ledger.BuildTransfer([]ledger.Spend{ledger.SpendOf(feeTx, 0)},
		feeTx.ID, nil, ledger.To(100, carol.Public), ledger.To(feeTx.Outputs[0].Amount-100, treasury.Public))
	if err != nil {
		t.Fatal(err)
	}
	coins, err := u.Sign(treasury.Private)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := c.postBody(0, coins, "commit"); code != http.StatusAccepted {
		t.Fatalf("treasury pays carol: %d %s", code, body)
	}
	for n := range quotaFree {
		c.postBody(n%4, quotaCreate(t, carol, n), "commit")
	}
	c.settle(all(4)...)
	if code, _ := c.postBody(0, quotaCreate(t, carol, 100), "commit"); code != http.StatusTooManyRequests {
		t.Fatalf("carol over her free tier: %d, want 429", code)
	}
	keyFile := writeKey(t, t.TempDir(), "carol.json", carol)
	out := mustRunCLI(t, "quota", "buy", "--txs", "3", "--key", keyFile, "--home", c.home(0), "--json")
	var bought ratelimit.Account
	if err := json.Unmarshal([]byte(out), &bought); err != nil || bought.BoughtTxs != 3 || bought.RemainingTxs != 3 {
		t.Fatalf("quota buy: %s (%v), want 3 bought and remaining", out, err)
	}
	c.settle(all(4)...)
	for n := range 3 {
		if code, body := c.postBody(n, quotaCreate(t, carol, 100+n), "commit"); code != http.StatusAccepted {
			t.Fatalf("carol's bought tx %d: %d %s", n, code, body)
		}
	}
	c.settle(all(4)...)
	if code, _ := c.postBody(3, quotaCreate(t, carol, 200), "commit"); code != http.StatusTooManyRequests {
		t.Fatalf("carol past her bought quota: %d, want 429", code)
	}
	// Bad purchases: more than the key holds; a key file that is no key.
	_, stderr, err := runCLI(t, "quota", "buy", "--txs", "1000", "--key", keyFile, "--home", c.home(0))
	checkOneLineError(t, stderr, err, "not enough")
	_, stderr, err = runCLI(t, "quota", "buy", "--txs", "0", "--key", keyFile, "--home", c.home(0))
	checkOneLineError(t, stderr, err, "--txs: want a whole number from 1")

	// The stored transactions and accounts agree on every node.
	top := c.height(0)
	c.waitHeight(top, all(4)...)
	c.checkSameChain(top, all(4)...)
	for _, k := range []ledger.KeyPair{alice, bob, carol} {
		c.sameBody("/api/v1/quota/"+k.PublicBase58(), all(4)...)
	}
	for i := range 4 {
		if c.hasTx(i, quotaCreate(t, carol, 200).ID) {
			t.Fatalf("%s stored a transaction refused for quota", c.entries[i].Home)
		}
	}
}

// Over 1,000 keys post through 3 nodes at once, each a random number of
// transactions around its free tier: on every node, each key's committed
// transactions are min(submitted, free tier).
func TestTestnetQuotaExact(t *testing.T) {
	const keys = 1000
	c := govCluster{newCluster(t, 4, 0, "--param", fmt.Sprintf("free_tier_txs_per_epoch=%d", quotaFree))}
	rng := rand.New(rand.NewPCG(7, 9))
	type job struct {
		key int
		tx  *ledger.Tx
	}
	var jobs []job
	submitted := make([]int, keys)
	for k := range keys {
		key := quotaKey(t, 1000+k)
		submitted[k] = 1 + rng.IntN(2*quotaFree)
		for n := range submitted[k] {
			jobs = append(jobs, job{k, quotaCreate(t, key, n)})
		}
	}
	rng.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	var wg sync.WaitGroup
	next := make(chan int)
	for w := range 32 {
		wg.Go(func() {
			for i := range next {
				c.post(context.Background(), w%3, jobs[i].tx, "async") // 202 or 429
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	// Wait until every backlog is empty and the nodes agree.
	c.waitFor("empty backlogs", func() bool {
		for i := range 4 {
			if st := c.status(i); st.BacklogTxs != 0 {
				return false
			}
		}
		return true
	})
	top := c.height(0)
	c.waitHeight(top, all(4)...)
	committed := make([]int, keys)
	for _, j := range jobs {
		if c.hasTx(0, j.tx.ID) {
			committed[j.key]++
		}
	}
	for k := range keys {
		if want := min(submitted[k], quotaFree); committed[k] != want {
			t.Fatalf("key %d: %d committed of %d submitted, want %d", k, committed[k], submitted[k], want)
		}
		for i := range 4 {
			if a := c.account(i, quotaKey(t, 1000+k).PublicBase58()); a.UsedTxs != uint64(committed[k]) {
				t.Fatalf("key %d on %s: used %d, committed %d", k, c.entries[i].Home, a.UsedTxs, committed[k])
			}
		}
	}
	t.Logf("%d keys, %d transactions submitted through 3 nodes; every key holds min(submitted, %d) on all 4", keys, len(jobs), quotaFree)
}
