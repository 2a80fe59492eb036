package main

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/governance"
	"github.com/ipdb/ipdb-node/ledger"
)

// Keys and peer ids of the recorded set (testdata/gov/validators.json).
const (
	keyC0   = "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"
	keyC1   = "9hSR6S7WPtxmTojgo6GG3k4yDPecgJY292j7xrsUGWBu"
	peerC1  = "12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq"
	newPeer = "12D3KooWRndVhVZPCiQwHBBBdg769GyrPUW13zxwqQyf9r3ANaba"
)

// outsider returns a key that is in no recorded set.
func outsider(t *testing.T) string {
	t.Helper()
	k, err := ledger.NewKeyPair([]byte(strings.Repeat("o", 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicBase58()
}

func TestGovFlagErrors(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	dir, _ := govHome(t)
	out := outsider(t)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"add without key", []string{"propose", "add-caretaker", "--peer-id", newPeer, "--power", "1"}, []string{"--public-key: required"}},
		{"add bad key", []string{"propose", "add-caretaker", "--public-key", "nope", "--peer-id", newPeer, "--power", "1"}, []string{`--public-key "nope"`}},
		{"add without peer", []string{"propose", "add-caretaker", "--public-key", out, "--power", "1"}, []string{"--peer-id: required"}},
		{"add bad peer", []string{"propose", "add-caretaker", "--public-key", out, "--peer-id", "QmNope", "--power", "1"}, []string{`--peer-id "QmNope"`}},
		{"add without power", []string{"propose", "add-caretaker", "--public-key", out, "--peer-id", newPeer}, []string{"--power: required: a whole number from 1 to 1099511627776"}},
		{"add negative power", []string{"propose", "add-caretaker", "--public-key", out, "--peer-id", newPeer, "--power", "-3"}, []string{"--power", "negative -3"}},
		{"add zero power", []string{"propose", "add-caretaker", "--public-key", out, "--peer-id", newPeer, "--power", "0"}, []string{"--power", "from 1 to", "got 0"}},
		{"add text power", []string{"propose", "add-caretaker", "--public-key", out, "--peer-id", newPeer, "--power", "ten"}, []string{"--power", `got "ten"`}},
		{"add huge power", []string{"propose", "add-caretaker", "--public-key", out, "--peer-id", newPeer, "--power", "1099511627777"}, []string{"--power", "got 1099511627777"}},
		{"set-power zero", []string{"propose", "set-power", "--public-key", keyC1, "--power", "0"}, []string{"--power", "use gov propose remove-caretaker"}},
		{"set-param unknown", []string{"propose", "set-param", "max_block_size", "10"}, []string{"unknown parameter", "max_block_txs", "max_caretakers"}},
		{"set-param text", []string{"propose", "set-param", "fee_per_tx", "free"}, []string{"set-param fee_per_tx", `VALUE: want a whole number`}},
		{"set-param negative", []string{"propose", "set-param", "fee_per_tx", "-1"}, []string{"set-param: VALUE must be a whole number", "not negative"}},
		{"set-param arity", []string{"propose", "set-param", "fee_per_tx"}, []string{"accepts 2 arg(s)"}},
		{"grant zero txs", []string{"propose", "grant-quota", "--public-key", out, "--txs", "0"}, []string{"--txs", "got 0"}},
		{"grant zero bytes", []string{"propose", "grant-quota", "--public-key", out, "--txs", "1", "--bytes", "0"}, []string{"--bytes", "got 0"}},
		{"grant negative until", []string{"propose", "grant-quota", "--public-key", out, "--txs", "1", "--until-height", "-1"}, []string{"--until-height", "negative"}},
		{"grant over 2^53", []string{"propose", "grant-quota", "--public-key", out, "--txs", "9007199254740992"}, []string{"--txs", "to 9007199254740991"}},
		{"revoke without key", []string{"propose", "revoke-quota"}, []string{"--public-key: required"}},
		{"vote bad id", []string{"vote", "xyz"}, []string{`"xyz" is not an election id`}},
		{"show bad id", []string{"show", strings.Repeat("A", 64)}, []string{"is not an election id"}},
		{"list bad status", []string{"list", "--status", "open"}, []string{`--status "open"`, "ongoing, approved, rejected, expired, inconclusive"}},
		{"zero timeout", []string{"list", "--timeout", "0s"}, []string{"--timeout", "more than 0s"}},
		{"unknown kind", []string{"propose", "set-quorum"}, []string{"unknown command"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append(append([]string{"gov"}, tt.args...), "--home", dir, "--api", f.url())
			_, stderr, err := runCLI(t, args...)
			checkOneLineError(t, stderr, err, tt.want...)
		})
	}
	if n := f.requestCount(); n != 0 {
		t.Fatalf("flag errors made %d API requests, want none (checked before any request)", n)
	}
}

func TestGovProposeSetParam(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	dir, key := govHome(t)
	out := mustRunCLI(t, "gov", "propose", "set-param", "block_interval_ms", "250", "--home", dir, "--api", f.url(), "--json")
	tx := f.lastPosted()
	data := assetData(t, tx)
	if tx.Operation != ledger.OpParameterElection || data["name"] != "block_interval_ms" || num(data["value"]) != "250" {
		t.Fatalf("posted %s %v, want a PARAMETER_ELECTION of block_interval_ms 250", tx.Operation, data)
	}
	if tx.Inputs[0].OwnersBefore[0] != key.PublicBase58() {
		t.Fatalf("signed by %v, want the home key %s", tx.Inputs[0].OwnersBefore, key.PublicBase58())
	}
	set := recordedSet(t)
	for i, o := range tx.Outputs {
		if o.PublicKeys[0] != set.Caretakers[i].PublicKey || o.Amount != set.Caretakers[i].Power {
			t.Fatalf("output %d: %v %d, want caretaker %+v's token", i, o.PublicKeys, o.Amount, set.Caretakers[i])
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(data["seed"].(string)) {
		t.Fatalf("seed %q, want a UUID4", data["seed"])
	}
	want := `{"id":"` + tx.ID + `","kind":"set-param","height":13}` + "\n"
	if out != want {
		t.Fatalf("propose --json printed %q, want %q", out, want)
	}

	human := mustRunCLI(t, "gov", "propose", "set-param", "block_interval_ms", "250", "--home", dir, "--api", f.url())
	second := f.lastPosted()
	if second.ID == tx.ID {
		t.Fatalf("two equal proposals have the same id %s: the seed is not random", tx.ID)
	}
	for _, w := range []string{"proposed set-param election " + second.ID + " at height 13", "change   block_interval_ms = 250",
		"status   ongoing", "votes    0 of 30 for (21 needed), 0 against", "ipdb-node gov vote " + second.ID} {
		if !strings.Contains(human, w) {
			t.Fatalf("propose printed\n%s\nwant it to hold %q", human, w)
		}
	}
}

func TestGovProposeCaretakerAndQuota(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	dir, _ := govHome(t)
	out := outsider(t)
	run := func(args ...string) map[string]any {
		t.Helper()
		mustRunCLI(t, append(append([]string{"gov", "propose"}, args...), "--home", dir, "--api", f.url(), "--json")...)
		return assetData(t, f.lastPosted())
	}
	tests := []struct {
		name string
		args []string
		op   string
		want map[string]string
	}{
		{"add", []string{"add-caretaker", "--public-key", out, "--peer-id", newPeer, "--power", "5"}, ledger.OpValidatorElection,
			map[string]string{"node_id": newPeer, "power": "5", "public_key": "map[type:ed25519-base58 value:" + out + "]"}},
		{"remove takes the peer id from the set", []string{"remove-caretaker", "--public-key", keyC1}, ledger.OpValidatorElection,
			map[string]string{"node_id": peerC1, "power": "0"}},
		{"set-power", []string{"set-power", "--public-key", keyC1, "--power", "12"}, ledger.OpValidatorElection,
			map[string]string{"node_id": peerC1, "power": "12"}},
		{"grant with bytes", []string{"grant-quota", "--public-key", out, "--txs", "7", "--bytes", "99", "--until-height", "500"}, ledger.OpQuotaElection,
			map[string]string{"action": "grant", "public_key": out, "txs": "7", "bytes": "99", "until_height": "500"}},
		{"grant bytes default txs × max_tx_bytes", []string{"grant-quota", "--public-key", out, "--txs", "7"}, ledger.OpQuotaElection,
			map[string]string{"txs": "7", "bytes": "105000", "until_height": "0"}},
		{"revoke", []string{"revoke-quota", "--public-key", out}, ledger.OpQuotaElection,
			map[string]string{"action": "revoke", "public_key": out, "txs": "0", "bytes": "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := run(tt.args...)
			if op := f.lastPosted().Operation; op != tt.op {
				t.Fatalf("operation %s, want %s", op, tt.op)
			}
			for k, v := range tt.want {
				if got := num(data[k]); got != v {
					t.Fatalf("asset.data.%s = %s, want %s (data %v)", k, got, v, data)
				}
			}
		})
	}
}

func TestGovProposeRefusals(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	dir, _ := govHome(t)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"add a member", []string{"add-caretaker", "--public-key", keyC1, "--peer-id", newPeer, "--power", "1"}, []string{"already a caretaker (power 10)", "set-power"}},
		{"remove a stranger", []string{"remove-caretaker", "--public-key", outsider(t)}, []string{"is not a caretaker", "3 caretakers"}},
		{"out of bounds", []string{"set-param", "block_interval_ms", "0"}, []string{"params.block_interval_ms", "1 to 10000"}},
		{"grant overflow", []string{"grant-quota", "--public-key", outsider(t), "--txs", "9007199254740991"}, []string{"× max_tx_bytes 15000", "give --bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := runCLI(t, append(append([]string{"gov", "propose"}, tt.args...), "--home", dir, "--api", f.url())...)
			checkOneLineError(t, stderr, err, tt.want...)
		})
	}

	refusal := "Invalid transaction (InvalidPowerChange): power change must be less than 1/3 of total power"
	f.setRefuse(refusal, 0)
	_, stderr, err := runCLI(t, "gov", "propose", "set-power", "--public-key", keyC1, "--power", "30", "--home", dir, "--api", f.url())
	checkOneLineError(t, stderr, err, "the node refused the set-power election: "+refusal)

	f.setRefuse("Timed out waiting for the transaction to be committed", http.StatusGatewayTimeout)
	_, stderr, err = runCLI(t, "gov", "propose", "set-param", "fee_per_tx", "2", "--home", dir, "--api", f.url())
	checkOneLineError(t, stderr, err, "the set-param election", "is not known to be committed: 504 Gateway Timeout: Timed out")
}

func TestGovProposeSetChanged(t *testing.T) {
	t.Parallel()
	const unequal = "Invalid transaction (UnequalValidatorSet): Validator set much be exactly same to the outputs of election"
	var recorded []json.RawMessage
	if err := json.Unmarshal(readTestdata(t, "validators.json"), &recorded); err != nil {
		t.Fatal(err)
	}
	// The node serves the set without its last caretaker until the first
	// election reaches it, and then refuses that election: an election
	// concluded in between and changed the set.
	older, err := json.Marshal(recorded[:len(recorded)-1])
	if err != nil {
		t.Fatal(err)
	}
	t.Run("built again for the new set", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t)
		dir, _ := govHome(t)
		f.bodies["/api/v1/validators"] = older
		posts := 0
		f.onPost = func(*ledger.Tx) string {
			if posts++; posts == 1 {
				delete(f.bodies, "/api/v1/validators")
				return unequal
			}
			return ""
		}
		mustRunCLI(t, "gov", "propose", "set-param", "block_interval_ms", "250", "--home", dir, "--api", f.url(), "--json")
		tx, set := f.lastPosted(), recordedSet(t)
		if posts != 2 || len(tx.Outputs) != len(set.Caretakers) {
			t.Fatalf("%d POSTs, the last with %d outputs; want 2, the second for the %d caretakers of the new set", posts, len(tx.Outputs), len(set.Caretakers))
		}
		for i, o := range tx.Outputs {
			if o.PublicKeys[0] != set.Caretakers[i].PublicKey || o.Amount != set.Caretakers[i].Power {
				t.Fatalf("output %d: %v %d, want caretaker %+v's token", i, o.PublicKeys, o.Amount, set.Caretakers[i])
			}
		}
	})
	t.Run("the same set: the refusal stands", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t)
		dir, _ := govHome(t)
		posts := 0
		f.onPost = func(*ledger.Tx) string { posts++; return unequal }
		_, stderr, err := runCLI(t, "gov", "propose", "set-param", "block_interval_ms", "250", "--home", dir, "--api", f.url())
		checkOneLineError(t, stderr, err, "the node refused the set-param election: "+unequal)
		if posts != 1 {
			t.Fatalf("%d POSTs, want 1: the set served did not change", posts)
		}
	})
	t.Run("at most three attempts", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t)
		dir, _ := govHome(t)
		posts := 0
		f.onPost = func(*ledger.Tx) string {
			// Every refusal comes with another set served.
			if posts++; posts%2 == 1 {
				f.bodies["/api/v1/validators"] = older
			} else {
				delete(f.bodies, "/api/v1/validators")
			}
			return unequal
		}
		_, stderr, err := runCLI(t, "gov", "propose", "set-param", "block_interval_ms", "250", "--home", dir, "--api", f.url())
		checkOneLineError(t, stderr, err, "the node refused the set-param election: "+unequal)
		if posts != proposeAttempts {
			t.Fatalf("%d POSTs, want %d", posts, proposeAttempts)
		}
	})
}

func TestGovVote(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	dir, key := govHome(t)
	election, err := governance.NewElection(governance.Proposal{Kind: governance.KindSetParam, Param: "block_interval_ms", Value: 250},
		recordedSet(t), key, "seed")
	if err != nil {
		t.Fatal(err)
	}
	id := election.ID
	_, stderr, err := runCLI(t, "gov", "vote", id, "--home", dir, "--api", f.url(), "--timeout", "300ms")
	checkOneLineError(t, stderr, err, "election "+id+" not found", "waited for the node to commit it")

	f.addElection(election, "election_ongoing.json") // output 0 (the key's) spent: already voted
	_, stderr, err = runCLI(t, "gov", "vote", id, "--home", dir, "--api", f.url())
	checkOneLineError(t, stderr, err, "key "+key.PublicBase58()+" holds no vote tokens of election "+id, "at height 13, or already voted")

	f.addElection(election, "election_ongoing.json", 0, 1) // output 1 is another caretaker's
	out := mustRunCLI(t, "gov", "vote", id, "--home", dir, "--api", f.url(), "--json")
	vote := f.lastPosted()
	addr, _ := governance.ElectionAddress(id)
	if vote.Operation != ledger.OpVote || vote.Asset.ID != id || len(vote.Inputs) != 1 || *vote.Inputs[0].Fulfills != (ledger.OutputRef{TxID: id, Index: 0}) ||
		vote.Outputs[0].Amount != 10 || vote.Outputs[0].PublicKeys[0] != addr {
		t.Fatalf("posted %s %+v, want a VOTE spending %s/0 (10) to the election address %s", vote.Operation, vote, id, addr)
	}
	var e governance.Election
	if err := json.Unmarshal([]byte(out), &e); err != nil || strings.Count(out, "\n") != 1 || e.ID != id || e.Status != governance.StatusApproved {
		t.Fatalf("vote --json printed %q (%v), want the approved election on one line", out, err)
	}

	f.addElection(election, "election_ongoing.json") // reset: ongoing, token 0 unspent
	human := mustRunCLI(t, "gov", "vote", id, "--against", "--home", dir, "--api", f.url())
	reject, _ := governance.RejectAddress(id)
	if to := f.lastPosted().Outputs[0].PublicKeys[0]; to != reject {
		t.Fatalf("--against voted to %s, want the reject address %s", to, reject)
	}
	for _, w := range []string{"voted against set-param election " + id + " with power 10", "approved at height 15, in effect from height 16"} {
		if !strings.Contains(human, w) {
			t.Fatalf("vote printed\n%s\nwant it to hold %q", human, w)
		}
	}

	f.addElection(election, "election_approved.json")
	_, stderr, err = runCLI(t, "gov", "vote", id, "--home", dir, "--api", f.url())
	checkOneLineError(t, stderr, err, "election "+id+" is approved (at height 15); votes are closed")
}

func TestGovShowListParamsStatus(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	dir, key := govHome(t)
	election, err := governance.NewElection(governance.Proposal{Kind: governance.KindSetParam, Param: "block_interval_ms", Value: 250},
		recordedSet(t), key, "show")
	if err != nil {
		t.Fatal(err)
	}
	f.addElection(election, "election_approved.json")
	api := []string{"--home", dir, "--api", f.url()}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"show", []string{"gov", "show", election.ID}, []string{"election  " + election.ID, "kind      set-param", "proposed  height 13 by " + keyC0,
			"change    block_interval_ms = 250", "status    approved at height 15, in effect from height 16", "votes     30 of 30 for (21 needed), 0 against", "expires   at height 10013"}},
		{"show json", []string{"gov", "show", election.ID, "--json"}, []string{`"id":"` + election.ID + `"`, `"effect_height":16`, `"needed_power":21`}},
		{"list", []string{"gov", "list"}, []string{"ID", "FOR/NEEDED", "add-caretaker  approved", "20/14", "grant-quota    ongoing",
			"grant 3rW3NvLrfbLuQ9nGZ1yzV4M8sPjQ4CpjWufxBC3YXoHo a quota of 500 transactions, 7500000 bytes, no end"}},
		{"list json", []string{"gov", "list", "--status", "approved", "--json"}, []string{`[{"id":"5b1fd8e3`, `"kind":"grant-quota"`}},
		{"params", []string{"params"}, []string{"network parameters in force after height 12:", "block_interval_ms", "200", "since height 9", "since genesis", "1024 to 65536"}},
		{"params json", []string{"params", "--json"}, []string{`{"height":12,"params":[{"name":"max_block_txs","value":1000`}},
		{"status", []string{"status"}, []string{"validators    3 in force at the next height:", "  " + keyC1 + " power 10 peer " + peerC1 + " c1",
			"elections     1 ongoing", "  9f0e1d2c3b4a5968778695a4b3c2d1e0f9e8d7c6b5a4938271605f4e3d2c1b0a grant-quota: grant"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := mustRunCLI(t, append(tt.args, api...)...)
			if strings.HasSuffix(tt.name, "json") && strings.Count(out, "\n") != 1 {
				t.Fatalf("%v printed %d lines, want one JSON line:\n%s", tt.args, strings.Count(out, "\n"), out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Fatalf("%v printed\n%s\nwant it to hold %q", tt.args, out, w)
				}
			}
		})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !strings.Contains(strings.Join(f.requests, "\n"), "GET /api/v1/elections?status=approved") {
		t.Fatalf("list --status approved did not pass the status to the API: %v", f.requests)
	}
}

func TestDecodeValidatorKey(t *testing.T) {
	t.Parallel()
	pub, err := ledger.DecodePublicKey(keyC0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		typ, value string
		ok         bool
	}{
		{"ed25519-base58", keyC0, true},
		{"ed25519-base64", "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=", true},
		{"ed25519-base16", strings.ToUpper(hex.EncodeToString(pub)), true},
		{"ed25519-base32", "RKEOHXLUBHYZL7KS3MWTZOS5OLFGOCN7DWKBEG7TOSEADNAPN5OA====", true},
		{"ed25519-base64", "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPbw==", false}, // 31 bytes
		{"ed25519-base58", "0OIl", false},
		{"secp256k1", keyC0, false},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.value, func(t *testing.T) {
			got, err := decodeValidatorKey(tt.typ, tt.value)
			if (err == nil) != tt.ok || tt.ok && got != keyC0 {
				t.Fatalf("decodeValidatorKey(%s, %s)=%q, %v, want %s: %v", tt.typ, tt.value, got, err, keyC0, tt.ok)
			}
		})
	}
}

func TestParseCountProperty(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		lo := rapid.Uint64Range(0, 10).Draw(t, "lo")
		hi := rapid.Uint64Range(lo, maxJSONInt).Draw(t, "hi")
		v := rapid.Uint64().Draw(t, "v")
		got, err := parseCount("--n", strconv.FormatUint(v, 10), lo, hi)
		if inside := v >= lo && v <= hi; inside != (err == nil) || inside && got != v {
			t.Fatalf("parseCount(%d, %d..%d)=%d, %v", v, lo, hi, got, err)
		}
		if _, err := parseCount("--n", "-"+strconv.FormatUint(v, 10), lo, hi); err == nil {
			t.Fatalf("parseCount(-%d) accepted a negative number", v)
		}
	})
}

func TestNewSeed(t *testing.T) {
	t.Parallel()
	uuid4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		s, err := newSeed()
		if err != nil || !uuid4.MatchString(s) || seen[s] {
			t.Fatalf("newSeed()=%q, %v, want a fresh UUID4", s, err)
		}
		seen[s] = true
	}
}

// FuzzValidatorSet decodes validator answers: validatorSet never panics, and
// every caretaker it returns has a 32-byte base58 key.
func FuzzValidatorSet(f *testing.F) {
	for _, name := range []string{"validators.json"} {
		b, err := readTestdataFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`[{"public_key":{"type":"ed25519-base16","value":"zz"},"voting_power":1}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var entries []validatorEntry
		if json.Unmarshal(b, &entries) != nil {
			return
		}
		set, err := validatorSet(entries)
		if err != nil {
			return
		}
		if len(set.Caretakers) > genesis.MaxCaretakers {
			t.Fatalf("validatorSet kept %d caretakers, over the limit", len(set.Caretakers))
		}
		for _, c := range set.Caretakers {
			if _, err := ledger.DecodePublicKey(c.PublicKey); err != nil {
				t.Fatalf("validatorSet returned key %q: %v", c.PublicKey, err)
			}
		}
	})
}
