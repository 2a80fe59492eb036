package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ipdb/ipdb-node/governance"
)

// govNode is a single-caretaker development node driven through the CLI.
type govNode struct {
	t   *testing.T
	n   *runningNode
	dir string
}

// run runs a gov or params command (args) against the node, with its home.
func (g govNode) run(args ...string) (string, string, error) {
	g.t.Helper()
	return runCLI(g.t, append(args, "--home", g.dir, "--api", g.n.api)...)
}

// json runs a command with --json and decodes its one line into v.
func (g govNode) json(v any, args ...string) {
	g.t.Helper()
	out := mustRunCLI(g.t, append(args, "--home", g.dir, "--api", g.n.api, "--json")...)
	if strings.Count(out, "\n") != 1 {
		g.t.Fatalf("%v --json printed %d lines, want one:\n%s", args, strings.Count(out, "\n"), out)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		g.t.Fatalf("%v --json printed %q: %v", args, out, err)
	}
}

// pass proposes args, checks the election is ongoing without votes, votes
// for it with the only caretaker's key and returns it approved.
func (g govNode) pass(args ...string) governance.Election {
	g.t.Helper()
	var p proposedJSON
	g.json(&p, append([]string{"gov", "propose"}, args...)...)
	var e governance.Election
	g.json(&e, "gov", "show", p.ID)
	if e.ID != p.ID || e.Kind != p.Kind || e.Height != p.Height || e.Status != governance.StatusOngoing || e.VotesPower != 0 {
		g.t.Fatalf("show after propose %v: %+v, want %+v ongoing without votes", args, e, p)
	}
	g.json(&e, "gov", "vote", p.ID)
	if e.Status != governance.StatusApproved || e.VotesPower != e.TotalPower || e.EffectHeight != e.ConcludedHeight+governance.EffectDelay {
		g.t.Fatalf("election %v after the only caretaker's vote: %+v, want approved from the next height", args, e)
	}
	return e
}

// fails runs args and checks the one-line error holds want.
func (g govNode) fails(want []string, args ...string) {
	g.t.Helper()
	_, stderr, err := g.run(args...)
	checkOneLineError(g.t, stderr, err, want...)
}

func TestGovAgainstNode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	g := govNode{t: t, n: startNode(t, dir, "--p2p", "/ip4/127.0.0.1/tcp/0"), dir: dir}

	set := g.pass("set-param", "block_interval_ms", "200")
	var params paramsAnswer
	g.json(&params, "params")
	if v, _ := params.value("block_interval_ms"); v != 200 || params.Params[1].Height != set.EffectHeight || params.Height+1 < set.EffectHeight {
		t.Fatalf("params after the election: %+v, want block_interval_ms 200 from height %d", params, set.EffectHeight)
	}

	user := outsider(t)
	grant := g.pass("grant-quota", "--public-key", user, "--txs", "5")
	if grant.QuotaBytes == nil || *grant.QuotaBytes != 5*15000 || grant.PublicKey != user {
		t.Fatalf("grant-quota without --bytes: %+v, want 5 × max_tx_bytes (75000) bytes for %s", grant, user)
	}
	g.pass("revoke-quota", "--public-key", user)

	// Bad input: refused before posting, or by the node's rules.
	g.fails([]string{"unknown parameter", "max_block_txs"}, "gov", "propose", "set-param", "max_block_size", "10")
	g.fails([]string{"params.block_interval_ms", "1 to 10000"}, "gov", "propose", "set-param", "block_interval_ms", "0")
	g.fails([]string{"the node refused the set-param election", "block_interval_ms"}, "gov", "propose", "set-param", "block_interval_ms", "200")
	g.fails([]string{"the node refused the revoke-quota election"}, "gov", "propose", "revoke-quota", "--public-key", user)
	g.fails([]string{"the node refused the remove-caretaker election", "power change must be less than 1/3 of total power"},
		"gov", "propose", "remove-caretaker", "--public-key", mustKeyOf(t, dir))
	g.fails([]string{"holds no vote tokens", "already voted"}, "gov", "vote", set.ID)

	var all []governance.Election
	g.json(&all, "gov", "list")
	var approved []governance.Election
	g.json(&approved, "gov", "list", "--status", "approved")
	if len(all) != 3 || len(approved) != 3 || all[0].ID != set.ID || all[1].ID != grant.ID {
		t.Fatalf("list: %d elections, %d approved, want the 3 passed, oldest first", len(all), len(approved))
	}
	out, _, err := g.run("status")
	if err != nil || !strings.Contains(out, "validators    1 in force at the next height:") || !strings.Contains(out, "elections     0 ongoing") {
		t.Fatalf("status printed %q (%v), want the set of one and no ongoing election", out, err)
	}

	// A new home joins from this node's API: its genesis, byte for byte.
	joined := t.TempDir()
	out = mustRunCLI(t, "init", "--home", joined, "--join", g.n.api)
	if !bytes.Equal(readAll(t, home{joined}.path(genesisFile)), readAll(t, home{dir}.path(genesisFile))) {
		t.Fatalf("the joined home's genesis differs from the node's")
	}
	if !strings.Contains(out, "ipdb-node gov propose add-caretaker --public-key ") {
		t.Fatalf("init --join printed\n%s\nwant the add-caretaker command", out)
	}
}

// mustKeyOf returns the caretaker public key of home dir.
func mustKeyOf(t *testing.T, dir string) string {
	t.Helper()
	k, _, err := home{dir}.loadKey()
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicBase58()
}
