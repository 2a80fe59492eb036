package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/node"
)

// readTestnet reads DIR/testnet.json.
func readTestnet(t *testing.T, dir string) []testnetEntry {
	t.Helper()
	var entries []testnetEntry
	if err := json.Unmarshal(readAll(t, filepath.Join(dir, testnetFile)), &entries); err != nil {
		t.Fatalf("decode %s: %v", testnetFile, err)
	}
	return entries
}

func TestTestnetLayout(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "net")
	out := mustRunCLI(t, "testnet", "--nodes", "3", "--followers", "1", "--out", dir, "--base-port", "41000",
		"--chain-id", "tn", "--param", "max_block_txs=50", "--param", "fee_per_tx=0")
	entries := readTestnet(t, dir)
	wantHomes := []string{"node0", "node1", "node2", "follower0"}
	if len(entries) != len(wantHomes) {
		t.Fatalf("%s lists %d homes, want %d", testnetFile, len(entries), len(wantHomes))
	}
	genesisBytes := readAll(t, filepath.Join(dir, "node0", genesisFile))
	doc, err := genesis.Decode(genesisBytes)
	if err != nil {
		t.Fatalf("genesis: %v", err)
	}
	if doc.ChainID != "tn" || len(doc.Caretakers) != 3 || doc.Params.MaxBlockTxs != 50 || doc.Params.FeePerTx != 0 {
		t.Fatalf("genesis %+v, want chain tn, 3 caretakers, max_block_txs 50, fee 0", doc)
	}
	treasury, err := readKeyFile(filepath.Join(dir, treasuryKeyFile))
	if err != nil {
		t.Fatalf("treasury key: %v", err)
	}
	fee, err := ledger.DecodeTx(readAll(t, filepath.Join(dir, feeAssetTxFile)))
	if err != nil || doc.Fee == nil || fee.ID != doc.Fee.AssetID || doc.Fee.Treasury != treasury.PublicBase58() {
		t.Fatalf("fee asset %v (%v), genesis fee %+v, treasury %s", fee, err, doc.Fee, treasury.PublicBase58())
	}
	for i, e := range entries {
		h := home{filepath.Join(dir, e.Home)}
		wantRole := node.RoleCaretaker
		if i == 3 {
			wantRole = node.RoleFollower
		}
		httpPort, p2pPort := 41000+2*i, 41000+2*i+1
		nk, err := h.loadNodeKey()
		if err != nil {
			t.Fatal(err)
		}
		key, _, err := h.loadKey()
		if err != nil {
			t.Fatal(err)
		}
		wantEntry := testnetEntry{Home: wantHomes[i], Role: wantRole, HTTP: fmt.Sprintf("127.0.0.1:%d", httpPort),
			P2P: fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", p2pPort, nk.id), PeerID: nk.id.String(), PublicKey: key.PublicBase58()}
		if e != wantEntry {
			t.Fatalf("entry %d = %+v, want %+v", i, e, wantEntry)
		}
		if !bytes.Equal(readAll(t, h.path(genesisFile)), genesisBytes) {
			t.Fatalf("%s has another genesis than node0", e.Home)
		}
		if i < 3 {
			c := doc.Caretakers[i]
			if c.PublicKey != key.PublicBase58() || c.PeerID != nk.id.String() || c.Power != 10 || c.Name != e.Home {
				t.Fatalf("genesis caretaker %d = %+v, want %s's key, peer id and power 10", i, c, e.Home)
			}
		}
		// Three caretakers share this machine's cores; the follower has all.
		procs := max(1, runtime.NumCPU()/3)
		if e.Role == node.RoleFollower {
			procs = 0
		}
		checkTestnetConfig(t, h, e, entries[:3], procs)
		if fi, err := os.Stat(h.nodeKeyPath()); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: node key mode %v, %v; want 0600", e.Home, fi.Mode().Perm(), err)
		}
	}
	for _, want := range append(wantHomes, "4 homes of chain tn", testnetFile, "ipdb-node start --home") {
		if !strings.Contains(out, want) {
			t.Fatalf("summary %q lacks %q", out, want)
		}
	}
}

// checkTestnetConfig checks a home's config: role, HTTP address, TCP and
// QUIC listen addresses on the entry's port, every other caretaker as a
// peer, and procs as [runtime] max_procs.
func checkTestnetConfig(t *testing.T, h home, e testnetEntry, caretakers []testnetEntry, procs int) {
	t.Helper()
	cfg, err := h.loadConfig()
	if err != nil {
		t.Fatalf("%s: %v", e.Home, err)
	}
	tcp := strings.TrimSuffix(e.P2P, "/p2p/"+e.PeerID)
	quic := strings.Replace(tcp, "/tcp/", "/udp/", 1) + "/quic-v1"
	var peers []string
	for _, c := range caretakers {
		if c.Home != e.Home {
			peers = append(peers, c.P2P)
		}
	}
	if cfg.Role != e.Role || cfg.HTTP.Addr != e.HTTP || !slices.Equal(cfg.P2P.Listen, []string{tcp, quic}) || !slices.Equal(cfg.P2P.Peers, peers) {
		t.Fatalf("%s: config role %q http %s listen %v peers %v, want %q %s %v %v", e.Home, cfg.Role, cfg.HTTP.Addr,
			cfg.P2P.Listen, cfg.P2P.Peers, e.Role, e.HTTP, []string{tcp, quic}, peers)
	}
	if cfg.Runtime.MaxProcs != procs {
		t.Fatalf("%s: runtime.max_procs %d, want %d", e.Home, cfg.Runtime.MaxProcs, procs)
	}
}

func TestTestnetFreePortsAndJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := mustRunCLI(t, "testnet", "--nodes", "2", "--followers", "2", "--out", dir, "--json", "--max-procs", "3")
	var printed []testnetEntry
	if err := json.Unmarshal([]byte(out), &printed); err != nil {
		t.Fatalf("--json printed %q: %v", out, err)
	}
	entries := readTestnet(t, dir)
	if !slices.Equal(printed, entries) {
		t.Fatalf("--json printed %+v, want %s's %+v", printed, testnetFile, entries)
	}
	seen := make(map[string]bool)
	for _, e := range entries {
		tcp := strings.TrimSuffix(e.P2P, "/p2p/"+e.PeerID)
		port := tcp[strings.LastIndex(tcp, "/")+1:]
		httpPort := e.HTTP[strings.LastIndex(e.HTTP, ":")+1:]
		for _, p := range []string{port, httpPort} {
			if p == "0" || seen[p] {
				t.Fatalf("port %s used twice or zero in %+v", p, entries)
			}
			seen[p] = true
		}
	}
	if entries[2].Role != node.RoleFollower || entries[3].Home != "follower1" {
		t.Fatalf("entries %+v, want followers follower0 and follower1 after the caretakers", entries)
	}
	for _, e := range entries {
		cfg, err := home{filepath.Join(dir, e.Home)}.loadConfig()
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{node.RoleCaretaker: 3, node.RoleFollower: 0}[e.Role]; cfg.Runtime.MaxProcs != want {
			t.Fatalf("%s: runtime.max_procs %d with --max-procs 3, want %d", e.Home, cfg.Runtime.MaxProcs, want)
		}
	}
}

func TestTestnetRefuses(t *testing.T) {
	t.Parallel()
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no out", []string{"--nodes", "2"}, "--out: required"},
		{"non-empty out", []string{"--out", full}, "not empty"},
		{"zero nodes", []string{"--nodes", "0"}, "--nodes: want 1 to 100 (max_caretakers), got 0"},
		{"too many nodes", []string{"--nodes", "101"}, "--nodes: want 1 to 100 (max_caretakers), got 101"},
		{"negative followers", []string{"--followers", "-1"}, "--followers: want 0 to 100, got -1"},
		{"bad host", []string{"--host", "localhost"}, `--host: want an IP address such as 127.0.0.1, got "localhost"`},
		{"base port over", []string{"--nodes", "4", "--base-port", "65530"}, "--base-port: want 0, or 1 to 65528 for 4 homes, got 65530"},
		{"bad param", []string{"--param", "max_block_txs=0"}, "--param max_block_txs=0: genesis: params.max_block_txs: want 1 to"},
		{"unknown param", []string{"--param", "speed=1"}, "valid names are max_block_txs"},
		{"bad chain id", []string{"--chain-id", "a b"}, "--chain-id: genesis: chain_id"},
		{"max procs below", []string{"--max-procs", "-2"}, "--max-procs: -1, or runtime.max_procs: must be between 0 and 4096, got -2"},
		{"max procs over", []string{"--max-procs", "4097"}, "--max-procs: -1, or runtime.max_procs: must be between 0 and 4096, got 4097"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"testnet"}, tt.args...)
			out := filepath.Join(t.TempDir(), "net")
			if !slices.Contains(tt.args, "--out") && tt.name != "no out" {
				args = append(args, "--out", out)
			}
			_, stderr, err := runCLI(t, args...)
			checkOneLineError(t, stderr, err, tt.want)
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatalf("a refused testnet wrote %s (%v)", out, err)
			}
		})
	}
}

func TestInitFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	peer := "/ip4/127.0.0.1/tcp/26657/p2p/12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5"
	out := mustRunCLI(t, "init", "--home", dir, "--p2p", "/ip4/127.0.0.1/tcp/26656", "--p2p", "/ip4/127.0.0.1/udp/26656/quic-v1",
		"--peer", peer, "--param", "epoch_blocks=7")
	h := home{dir}
	cfg, err := h.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Role != node.RoleCaretaker || len(cfg.P2P.Listen) != 2 || !slices.Equal(cfg.P2P.Peers, []string{peer}) {
		t.Fatalf("config %+v, want a caretaker listening on 2 addrs with the peer", cfg)
	}
	doc, err := h.loadGenesis()
	nk, _ := h.loadNodeKey()
	if err != nil || doc.Params.EpochBlocks != 7 || doc.Caretakers[0].PeerID != nk.id.String() {
		t.Fatalf("genesis %+v, %v, want epoch_blocks 7 and the node's peer id %s", doc, err, nk.id)
	}
	if !strings.Contains(out, "peer id "+nk.id.String()) || !strings.Contains(out, nodeKeyFile) {
		t.Fatalf("init printed %q, want the peer id and the node key file", out)
	}

	follower := t.TempDir()
	mustRunCLI(t, "init", "--home", follower, "--follow", "--genesis", h.path(genesisFile), "--peer", peer)
	fh := home{follower}
	fcfg, err := fh.loadConfig()
	if err != nil || fcfg.Role != node.RoleFollower {
		t.Fatalf("follower config %+v, %v, want role follower", fcfg, err)
	}
	if !bytes.Equal(readAll(t, fh.path(genesisFile)), readAll(t, h.path(genesisFile))) {
		t.Fatalf("the follower's genesis is not the --genesis file")
	}
}

func TestInitFlagErrors(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	mustRunCLI(t, "init", "--home", src)
	gen := home{src}.path(genesisFile)
	peer := "/ip4/127.0.0.1/tcp/26657/p2p/12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5"
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"follow without genesis", []string{"--follow", "--peer", peer}, []string{"--follow needs --genesis FILE"}},
		{"follow without peer", []string{"--follow", "--genesis", gen}, []string{"p2p.peers: a follower needs at least one peer"}},
		{"follow with param", []string{"--follow", "--genesis", gen, "--param", "fee_per_tx=2"}, []string{"--param: a follower takes the parameters"}},
		{"genesis without follow", []string{"--genesis", gen}, []string{"--genesis: only with --follow"}},
		{"missing genesis", []string{"--follow", "--genesis", filepath.Join(src, "nope.json"), "--peer", peer}, []string{"--genesis", "no such file"}},
		{"bad p2p", []string{"--p2p", "127.0.0.1:26656"}, []string{"--p2p", "p2p.listen[0]: must be a multiaddr"}},
		{"peer without id", []string{"--peer", "/ip4/127.0.0.1/tcp/1"}, []string{"p2p.peers[0]: must end in /p2p/<peer id>"}},
		{"bad param", []string{"--param", "fee_per_tx"}, []string{"--param fee_per_tx", "want NAME=VALUE"}},
		{"unknown param", []string{"--param", "fee=1"}, []string{`unknown parameter "fee"`, "fee_per_tx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			_, stderr, err := runCLI(t, append([]string{"init", "--home", dir}, tt.args...)...)
			checkOneLineError(t, stderr, err, tt.want...)
			if empty, err := (home{dir}).isEmpty(); !empty || err != nil {
				t.Fatalf("isEmpty()=%v, %v after a refused init, want true", empty, err)
			}
		})
	}
}

func TestStartP2PFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRunCLI(t, "init", "--home", dir)
	tests := []struct {
		name  string
		flags []string
		want  []string
	}{
		{"bad p2p", []string{"--p2p", "nope"}, []string{"--p2p", "p2p.listen[0]: must be a multiaddr"}},
		{"follow without peers", []string{"--follow"}, []string{"--follow", "p2p.peers: a follower needs at least one peer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := runCLI(t, append([]string{"start", "--home", dir, "--http", "127.0.0.1:0"}, tt.flags...)...)
			checkOneLineError(t, stderr, err, tt.want...)
		})
	}
	empty := t.TempDir()
	_, stderr, err := runCLI(t, "start", "--home", empty, "--follow")
	checkOneLineError(t, stderr, err, "no node in "+empty+" to start as a follower", "init --follow --genesis")
}

func TestStartMakesMissingNodeKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRunCLI(t, "init", "--home", dir)
	h := home{dir}
	if err := os.Remove(h.nodeKeyPath()); err != nil {
		t.Fatal(err)
	}
	k, made, err := h.ensureNodeKey()
	if err != nil || !made {
		t.Fatalf("ensureNodeKey()=%v, made %v; want a new key", err, made)
	}
	again, made, err := h.ensureNodeKey()
	if err != nil || made || again.id != k.id {
		t.Fatalf("ensureNodeKey() again = %s, made %v, %v; want the same key %s", again.id, made, err, k.id)
	}
}

func TestNodeKeyFile(t *testing.T) {
	t.Parallel()
	k, err := nodeKeyFromSeed(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeNodeKey(k.encode())
	if err != nil || got.id != k.id || !got.priv.Equals(k.priv) {
		t.Fatalf("decodeNodeKey(encode(k))=%v, %v; want k", got.id, err)
	}
	good := string(k.encode())
	other, _ := nodeKeyFromSeed(bytes.Repeat([]byte{4}, 32))
	tests := []struct{ name, file, want string }{
		{"wrong peer id", strings.Replace(good, k.id.String(), other.id.String(), 1), "is not the private key's"},
		{"unknown field", strings.Replace(good, `"peer_id"`, `"x": 1, "peer_id"`, 1), "unknown field"},
		{"short seed", strings.Replace(good, `"private_key": "`, `"private_key": "1`, 1), "private_key"},
		{"not base58", strings.Replace(good, `"private_key": "`, `"private_key": "0OIl`, 1), "not base58"},
		{"trailing", good + "{}", "data after"},
		{"huge", strings.Repeat(" ", maxKeyFileBytes+1), "over the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeNodeKey([]byte(tt.file)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("decodeNodeKey()=%v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestWriteStatusPeers(t *testing.T) {
	t.Parallel()
	raw := `{"chain_id":"c","height":3,"peers":2,"peer_list":[
		{"id":"12D3KooWA","addr":"/ip4/127.0.0.1/tcp/1","caretaker":true,"height":3,"score":1.5},
		{"id":"12D3KooWB","addr":"/ip4/127.0.0.1/tcp/2","caretaker":false,"height":2,"score":0}]}`
	var st node.Status
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := writeStatus(&b, "http://x", st); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"peers         2\n",
		"  12D3KooWA caretaker height 3 score 1.50 /ip4/127.0.0.1/tcp/1\n",
		"  12D3KooWB follower  height 2 score 0.00 /ip4/127.0.0.1/tcp/2\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Fatalf("writeStatus() wrote %q, want a line %q", b.String(), want)
		}
	}
}

// TestReadmeParams checks the README's parameter table against
// genesis.ParamTable: every name with its default.
func TestReadmeParams(t *testing.T) {
	t.Parallel()
	readme := string(readAll(t, filepath.Join("..", "..", "README.md")))
	for _, info := range genesis.ParamTable() {
		row := fmt.Sprintf("| `%s` | %d | %d to ", info.Name, info.Default, info.Min)
		if !strings.Contains(readme, row) {
			t.Fatalf("README has no parameter row starting %q", row)
		}
	}
	for _, want := range []string{"ipdb-node testnet", "--follow", "keys/node_key.json", "`[p2p]`", "`[consensus]`", "`role`"} {
		if !strings.Contains(readme, want) {
			t.Fatalf("README does not mention %s", want)
		}
	}
}

func TestKeysGenerateNode(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "node_key.json")
	out := mustRunCLI(t, "keys", "generate", "--node", "--out", path)
	k, err := decodeNodeKey(readAll(t, path))
	if err != nil || strings.TrimSpace(out) != k.id.String() {
		t.Fatalf("keys generate --node wrote a key %v (%v) and printed %q, want its peer id", k.id, err, out)
	}
	printed := mustRunCLI(t, "keys", "generate", "--node")
	if _, err := decodeNodeKey([]byte(printed)); err != nil {
		t.Fatalf("keys generate --node printed %q: %v", printed, err)
	}
}
