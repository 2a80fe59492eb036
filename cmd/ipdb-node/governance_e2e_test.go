//go:build unix

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ipdb/ipdb-node/governance"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/node"
)

// govExpiry is the election_expiry_blocks of the governance testnet: short,
// so that one election lapses within the test.
const govExpiry = 25

// govCluster is a testnet driven through the `gov` commands of its homes.
type govCluster struct {
	*cluster
}

// home returns the directory of home i.
func (c govCluster) home(i int) string { return filepath.Join(c.dir, c.entries[i].Home) }

// gov runs `ipdb-node gov ARGS --home HOME_i --json` and decodes its one
// JSON object.
func (c govCluster) gov(i int, args ...string) map[string]any {
	c.t.Helper()
	out := mustRunCLI(c.t, append(append([]string{"gov"}, args...), "--home", c.home(i), "--json")...)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		c.t.Fatalf("gov %s: output %q is not one JSON object: %v", strings.Join(args, " "), out, err)
	}
	return m
}

// govFails runs a gov command that must fail with one line holding want.
func (c govCluster) govFails(i int, want string, args ...string) {
	c.t.Helper()
	_, stderr, err := runCLI(c.t, append(append([]string{"gov"}, args...), "--home", c.home(i), "--json")...)
	checkOneLineError(c.t, stderr, err, want)
}

// propose proposes from home i and returns the election id.
func (c govCluster) propose(i int, args ...string) string {
	c.t.Helper()
	id, _ := c.gov(i, append([]string{"propose"}, args...)...)["id"].(string)
	if len(id) != 64 {
		c.t.Fatalf("propose %v: id %q", args, id)
	}
	return id
}

// voteAll votes for id from each home of homes and returns the election
// after the last vote.
func (c govCluster) voteAll(id string, homes ...int) map[string]any {
	c.t.Helper()
	var el map[string]any
	for _, i := range homes {
		el = c.gov(i, "vote", id)
	}
	return el
}

// getJSON GETs path from home i and decodes its 200 answer into v, failing
// the test otherwise.
func (c govCluster) getJSON(i int, path string, v any) {
	c.t.Helper()
	code, b := c.get(i, path)
	if code != http.StatusOK || json.Unmarshal(b, v) != nil {
		c.t.Fatalf("GET %s on %s: %d %s", path, c.entries[i].Home, code, b)
	}
}

// status returns home i's status.
func (c govCluster) status(i int) node.Status {
	c.t.Helper()
	var st node.Status
	c.getJSON(i, "/api/v1/status", &st)
	return st
}

// election returns election id as home i serves it.
func (c govCluster) election(i int, id string) governance.Election {
	c.t.Helper()
	var el governance.Election
	c.getJSON(i, "/api/v1/elections/"+id, &el)
	return el
}

// wantStatus waits until home i reports election id with status want.
func (c govCluster) wantStatus(i int, id, want string) governance.Election {
	c.t.Helper()
	var el governance.Election
	c.waitFor(fmt.Sprintf("election %s %s on %s", id[:8], want, c.entries[i].Home), func() bool {
		el = c.election(i, id)
		return el.Status == want
	})
	return el
}

// commitTxs posts n CREATEs of key with mode=commit to home i, one at a
// time, so that each makes a block.
func (c govCluster) commitTxs(i int, key ledger.KeyPair, first, n int) []string {
	c.t.Helper()
	var ids []string
	for k := range n {
		tx := crashCreate(c.t, key, 1_000_000+first+k)
		if code := c.post(context.Background(), i, tx, "commit"); code != http.StatusAccepted {
			c.t.Fatalf("post to %s with mode=commit: status %d", c.entries[i].Home, code)
		}
		ids = append(ids, tx.ID)
	}
	return ids
}

// freeAddr returns a loopback TCP address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// join makes a home named name with `init --join` from home 0's API
// (extra: --follow), adds it to the cluster and starts it.
func (c govCluster) join(name string, extra ...string) int {
	c.t.Helper()
	dir := filepath.Join(c.dir, name)
	httpAddr := freeAddr(c.t)
	_, port, _ := net.SplitHostPort(freeAddr(c.t))
	args := []string{"init", "--home", dir, "--join", c.api(0), "--http", httpAddr, "--p2p", "/ip4/127.0.0.1/tcp/" + port}
	mustRunCLI(c.t, append(args, extra...)...)
	if slices.Contains(extra, "--follow") {
		// A follower home starts with a public gateway's limits (10
		// requests a second per IP); the test reads the whole chain.
		mustRunCLI(c.t, "config", "set", "--home", dir, "gateway.ip_rate", "0")
	}
	var keys struct {
		PublicKey string `json:"public_key"`
		PeerID    string `json:"peer_id"`
	}
	out := mustRunCLI(c.t, "keys", "show", "--home", dir, "--json")
	if err := json.Unmarshal([]byte(out), &keys); err != nil || keys.PeerID == "" {
		c.t.Fatalf("keys show --json: %q: %v", out, err)
	}
	c.entries = append(c.entries, testnetEntry{Home: name, HTTP: httpAddr, PeerID: keys.PeerID, PublicKey: keys.PublicKey})
	c.procs = append(c.procs, nil)
	i := len(c.entries) - 1
	c.start(i)
	return i
}

// checkSameSets checks that homes serve the same caretaker set at every
// height from 1 to the lowest of their heights.
func (c govCluster) checkSameSets(homes ...int) {
	c.t.Helper()
	low := c.height(homes[0])
	for _, i := range homes[1:] {
		low = min(low, c.height(i))
	}
	for h := uint64(1); h <= low; h++ {
		path := fmt.Sprintf("/api/v1/validators?height=%d", h)
		_, want := c.get(homes[0], path)
		for _, i := range homes[1:] {
			if code, got := c.get(i, path); code != http.StatusOK || string(got) != string(want) {
				c.t.Fatalf("caretakers at height %d: %s serves %d %s, %s serves %s", h, c.entries[i].Home, code, got, c.entries[homes[0]].Home, want)
			}
		}
	}
}

// sameBody checks that homes serve path with equal bodies.
func (c govCluster) sameBody(path string, homes ...int) {
	c.t.Helper()
	_, want := c.get(homes[0], path)
	for _, i := range homes[1:] {
		if _, got := c.get(i, path); string(got) != string(want) {
			c.t.Fatalf("%s: %s serves %s, %s serves %s", path, c.entries[i].Home, got, c.entries[homes[0]].Home, want)
		}
	}
}

func TestTestnetGovernance(t *testing.T) {
	c := govCluster{newCluster(t, 4, 0, "--param", fmt.Sprintf("election_expiry_blocks=%d", govExpiry))}
	user := clusterKey(t, 7)
	c.commitTxs(0, user, 0, 2)

	// A fifth home joins from node0's API; it follows, but may not propose.
	n4 := c.join("node4")
	if st := c.status(n4); st.Voting {
		t.Fatalf("joined home votes before any election: %+v", st)
	}
	c.govFails(n4, "InvalidProposer", "propose", "set-param", "block_interval_ms", "50")

	// Bad proposals from a caretaker, refused by the node's rules.
	c.govFails(0, "InvalidPowerChange", "propose", "set-power", "--public-key", c.entries[1].PublicKey, "--power", "30")
	c.govFails(0, "max_block_txs", "propose", "set-param", "max_block_txs", "0")
	c.govFails(0, "unknown parameter", "propose", "set-param", "max_block_size", "10")

	// Add it by election: three of four caretakers vote (30 of 40).
	add := c.propose(0, "add-caretaker", "--public-key", c.entries[n4].PublicKey, "--peer-id", c.entries[n4].PeerID, "--power", "10")
	c.voteAll(add, 0, 1, 2)
	el := c.wantStatus(0, add, governance.StatusApproved)
	c.govFails(3, "approved", "vote", add)    // after conclusion
	c.govFails(0, "vote tokens", "vote", add) // tokens spent already
	c.waitHeight(el.EffectHeight-1, n4)       // the block that approved it: the set of the next one is known
	c.waitFor("the joined home to vote", func() bool { return c.status(n4).Voting })

	// Kill an original caretaker: 40 of 50 remain only with the new one.
	c.kill(1)
	live := []int{0, 2, 3, n4}
	c.commitTxs(n4, user, 100, 3)

	// A parameter election open while a set change passes ends inconclusive.
	stale := c.propose(0, "set-param", "max_block_txs", "500")
	remove := c.propose(2, "remove-caretaker", "--public-key", c.entries[1].PublicKey)
	c.voteAll(remove, 0, 2, 3, n4)
	c.wantStatus(0, remove, governance.StatusApproved)
	c.wantStatus(0, stale, governance.StatusInconclusive)
	c.govFails(0, "inconclusive", "vote", stale)

	// Parameters and quotas change by election (30 of 40 now).
	interval := c.propose(3, "set-param", "block_interval_ms", "50")
	ip := c.voteAll(interval, 0, 2, 3)
	if ip["status"] != governance.StatusApproved {
		t.Fatalf("set-param block_interval_ms after 3 votes: %v", ip)
	}
	quota := c.propose(0, "grant-quota", "--public-key", user.PublicBase58(), "--txs", "5000", "--bytes", "5000000")
	c.voteAll(quota, 0, 2, n4)
	c.wantStatus(0, quota, governance.StatusApproved)
	c.commitTxs(2, user, 200, 1)
	var params struct {
		Params []governance.ParamValue `json:"params"`
	}
	_, pb := c.get(2, "/api/v1/params")
	if err := json.Unmarshal(pb, &params); err != nil {
		t.Fatal(err)
	}
	for _, p := range params.Params {
		if p.Name == "block_interval_ms" && (p.Value != 50 || p.Height == 0) {
			t.Fatalf("params: block_interval_ms %+v, want 50 from an election's effect height", p)
		}
	}

	// An election nobody else votes for lapses after govExpiry blocks.
	lapse := c.propose(0, "set-power", "--public-key", c.entries[2].PublicKey, "--power", "12")
	c.voteAll(lapse, 0)
	c.commitTxs(0, user, 300, govExpiry+1)
	c.wantStatus(3, lapse, governance.StatusExpired)
	c.govFails(2, "expired", "vote", lapse)

	// Every live node has the same blocks, sets and elections.
	top := c.height(0)
	c.waitHeight(top, live...)
	c.checkSameChain(top, live...)
	c.checkSameSets(live...)
	c.sameBody("/api/v1/elections", live...)
	c.sameBody("/api/v1/params", live...)

	// A node made from scratch afterwards replays to the same state.
	fresh := c.join("fresh", "--follow")
	c.waitHeight(top, fresh)
	all := append(live, fresh)
	c.checkSameChain(top, all...)
	c.checkSameSets(all...)
	c.sameBody("/api/v1/elections", all...)
	c.sameBody("/api/v1/params", all...)
}
