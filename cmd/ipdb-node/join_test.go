package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/ipdb/ipdb-node/node"
)

// Of the recorded network (testdata/gov/genesis.json and status.json).
const (
	recordedGenesisHash = "9d4e73dc21c5ad4a2a3b80cbaf1d30ee1d1867ad205a6424137b3449f6d5f3e2"
	recordedTCPAddr     = "/ip4/127.0.0.1/tcp/26656/p2p/12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5"
)

func TestInitJoin(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	dir := t.TempDir()
	out := mustRunCLI(t, "init", "--home", dir, "--join", f.url()+"/api/v1/", "--genesis-hash", strings.ToUpper(recordedGenesisHash),
		"--http", "127.0.0.1:19984", "--p2p", "/ip4/127.0.0.1/tcp/26700")
	h := home{dir}
	if got := readAll(t, h.path(genesisFile)); !bytes.Equal(got, readTestdata(t, "genesis.json")) {
		t.Fatalf("the joined home's genesis differs from the bytes served:\n%s", got)
	}
	cfg, err := h.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Role != node.RoleCaretaker || cfg.HTTP.Addr != "127.0.0.1:19984" || !slices.Equal(cfg.P2P.Listen, []string{"/ip4/127.0.0.1/tcp/26700"}) ||
		len(cfg.P2P.Peers) != 2 || cfg.P2P.Peers[0] != recordedTCPAddr {
		t.Fatalf("config %+v, want a caretaker on 127.0.0.1:19984 peering with the status' p2p_addrs", cfg)
	}
	k, _, err := h.loadKey()
	if err != nil {
		t.Fatal(err)
	}
	nk, err := h.loadNodeKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"initialised " + dir + ": chain ipdb-dev", "genesis " + recordedGenesisHash, recordedTCPAddr,
		"ipdb-node gov propose add-caretaker --public-key " + k.PublicBase58() + " --peer-id " + nk.id.String() + " --power 10",
		"ipdb-node start --home " + dir} {
		if !strings.Contains(out, w) {
			t.Fatalf("init --join printed\n%s\nwant it to hold %q", out, w)
		}
	}

	follower := t.TempDir()
	out = mustRunCLI(t, "init", "--home", follower, "--join", f.url(), "--follow")
	if cfg, err := (home{follower}).loadConfig(); err != nil || cfg.Role != node.RoleFollower {
		t.Fatalf("init --join --follow: config %+v, %v, want role follower", cfg, err)
	}
	if strings.Contains(out, "gov propose") {
		t.Fatalf("init --join --follow printed a caretaker proposal:\n%s", out)
	}
}

func TestInitJoinRefusals(t *testing.T) {
	t.Parallel()
	status := string(readTestdata(t, "status.json"))
	noAddrs := strings.Replace(status, `"p2p_addrs":[`, `"p2p_addrs":[],"old_addrs":[`, 1)
	otherHash := strings.Replace(status, recordedGenesisHash, strings.Repeat("ab", 32), 1)
	badGenesis := strings.Replace(string(readTestdata(t, "genesis.json")), `"power": 10`, `"power": "10"`, 1)
	peer := "/ip4/127.0.0.1/tcp/26657/p2p/12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5"
	tests := []struct {
		name    string
		args    []string
		bodies  map[string]string
		headers map[string]string
		want    []string
		noCalls bool
	}{
		{name: "with param", args: []string{"--param", "fee_per_tx=2"}, want: []string{"--param: a node joining a network takes the parameters"}, noCalls: true},
		{name: "with peer", args: []string{"--peer", peer}, want: []string{"--peer: init --join peers with the node of --join"}, noCalls: true},
		{name: "with genesis", args: []string{"--genesis", "genesis.json"}, want: []string{"--genesis: init --join fetches the genesis"}, noCalls: true},
		{name: "with chain id", args: []string{"--chain-id", "other"}, want: []string{"--chain-id: a node joining"}, noCalls: true},
		{name: "malformed hash", args: []string{"--genesis-hash", "9d4e"}, want: []string{`--genesis-hash "9d4e": want the 64 hex digits`}, noCalls: true},
		{name: "other hash", args: []string{"--genesis-hash", strings.Repeat("0", 64)}, want: []string{"--genesis-hash 0000", "hashes to " + recordedGenesisHash, "the network you meant"}},
		{name: "header mismatch", headers: map[string]string{genesisHashHeader: strings.Repeat("1", 64)}, want: []string{"hashes to " + recordedGenesisHash, "header says 1111"}},
		{name: "no header", headers: map[string]string{genesisHashHeader: ""}, want: []string{"no Ipdb-Genesis-Hash header"}},
		{name: "status hash mismatch", bodies: map[string]string{"/api/v1/status": otherHash}, want: []string{"its status says genesis_hash \"abab"}},
		{name: "no p2p addrs", bodies: map[string]string{"/api/v1/status": noAddrs}, want: []string{"lists no p2p_addrs", "[p2p] listen"}},
		{name: "bad genesis", bodies: map[string]string{"/api/v1/genesis": badGenesis}, headers: map[string]string{genesisHashHeader: recordedGenesisHash}, want: []string{"--join: the genesis of", "power"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			for k, v := range tt.bodies {
				f.bodies[k] = []byte(v)
			}
			for k, v := range tt.headers {
				f.headers[k] = v
			}
			dir := t.TempDir()
			_, stderr, err := runCLI(t, append([]string{"init", "--home", dir, "--join", f.url()}, tt.args...)...)
			checkOneLineError(t, stderr, err, tt.want...)
			if empty, err := (home{dir}).isEmpty(); !empty || err != nil {
				t.Fatalf("isEmpty()=%v, %v after a refused init --join, want true", empty, err)
			}
			if n := f.requestCount(); tt.noCalls && n != 0 {
				t.Fatalf("a flag refusal made %d requests, want none", n)
			}
		})
	}

	dir := t.TempDir()
	_, stderr, err := runCLI(t, "init", "--home", dir, "--genesis-hash", recordedGenesisHash)
	checkOneLineError(t, stderr, err, "--genesis-hash: only with --join URL")
	_, stderr, err = runCLI(t, "init", "--home", dir, "--join", "ftp://example.org")
	checkOneLineError(t, stderr, err, `--join "ftp://example.org": want the API URL of a node`)
}
