package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ipdb/ipdb-node/p2p"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/governance"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

// testGov returns the governance book of g's genesis state over st (nil:
// a test that needs no store height).
func testGov(tb testing.TB, g *genesis.Doc, st *ledger.Store) *govBook {
	tb.Helper()
	gov, err := newGovBook(g, governance.Genesis(g), st)
	if err != nil {
		tb.Fatalf("newGovBook()=%v", err)
	}
	return gov
}

// submitTx verifies tx and submits it to n, waiting for its commit.
func submitTx(t *testing.T, n *Node, tx *ledger.Tx) {
	t.Helper()
	v, err := ledger.Verify(tx.Canonical())
	if err != nil {
		t.Fatalf("Verify()=%v", err)
	}
	if err := n.Submit(t.Context(), v, ModeCommit); err != nil {
		t.Fatalf("Submit(%s)=%v", tx.Operation, err)
	}
}

// electSetParam proposes name=value on the one-caretaker node n and votes
// for it with key, returning the election id.
func electSetParam(t *testing.T, n *Node, key ledger.KeyPair, name string, value uint64, seed string) string {
	t.Helper()
	st, tip := n.Governance()
	el, err := governance.NewElection(governance.Proposal{Kind: governance.KindSetParam, Param: name, Value: value},
		st.SetAt(tip+1), key, seed)
	if err != nil {
		t.Fatalf("NewElection()=%v", err)
	}
	submitTx(t, n, el)
	vote, err := governance.NewVote(el.ID, []governance.Token{{Ref: ledger.OutputRef{TxID: el.ID, Index: 0}, Amount: genesis.DevPower}}, key, false)
	if err != nil {
		t.Fatalf("NewVote()=%v", err)
	}
	submitTx(t, n, vote)
	return el.ID
}

func TestNodeGovernance(t *testing.T) {
	o := testOptions(t)
	n := newTestNode(t, o)
	stop := runNode(t, n)
	base := "http://" + n.HTTPAddr()
	c := &http.Client{Timeout: 10 * time.Second}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+n.HTTPAddr()+electionStreamPath, nil)
	if err != nil {
		t.Fatalf("Dial(elections stream)=%v", err)
	}
	defer ws.CloseNow()

	id := electSetParam(t, n, o.Key, "max_tx_bytes", 2048, "seed-1")

	var types []string
	for len(types) < 3 {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("Read(elections stream)=%v after %v", err, types)
		}
		var ev governance.Event
		if err := json.Unmarshal(msg, &ev); err != nil || ev.ElectionID != id {
			t.Fatalf("event %s: %v", msg, err)
		}
		types = append(types, ev.Type)
	}
	if want := []string{governance.EventProposed, governance.EventVoted, governance.EventApproved}; !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}

	var el governance.Election
	if code := getJSON(t, c, base+"/api/v1/elections/"+id, &el); code != http.StatusOK || el.Status != governance.StatusApproved || el.EffectHeight != 3 {
		t.Fatalf("GET election: %d %+v, want approved in effect from 3", code, el)
	}
	var params struct {
		Height uint64      `json:"height"`
		Params []paramJSON `json:"params"`
	}
	getJSON(t, c, base+"/api/v1/params", &params)
	i := slices.IndexFunc(params.Params, func(p paramJSON) bool { return p.Name == "max_tx_bytes" })
	if i < 0 || params.Params[i].Value != 2048 || params.Params[i].Height != 3 {
		t.Fatalf("params %+v, want max_tx_bytes 2048 from height 3", params)
	}

	// The new max_tx_bytes binds admission from the next block on.
	big := ledgertest.Create(t, o.Key, map[string]any{"pad": strings.Repeat("x", 3000)}, nil, ledger.To(1, o.Key.Public))
	v, err := ledger.Verify(big.Canonical())
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Submit(t.Context(), v, ModeSync); err == nil || !strings.Contains(err.Error(), "max_tx_bytes of 2048") {
		t.Fatalf("Submit(a %d-byte tx)=%v, want max_tx_bytes refusal", len(big.Canonical()), err)
	}

	// The state survives a restart: it is stored with the block.
	if err := stop(); err != nil {
		t.Fatalf("Run()=%v", err)
	}
	n.Close()
	n = newTestNode(t, o)
	st, tip := n.Governance()
	if got := st.ParamsAt(tip + 1).MaxTxBytes; got != 2048 || tip != 2 {
		t.Fatalf("after restart: max_tx_bytes %d at tip %d, want 2048 at 2", got, tip)
	}
	if el, ok := st.Election(id); !ok || el.StatusAt(tip) != governance.StatusApproved {
		t.Fatalf("after restart: election %+v, %v", el, ok)
	}
}

func TestGovernanceHTTPErrors(t *testing.T) {
	o := testOptions(t)
	n := newTestNode(t, o)
	defer runNode(t, n)()
	base := "http://" + n.HTTPAddr()
	c := &http.Client{Timeout: 10 * time.Second}
	tests := []struct {
		path string
		code int
		want string
	}{
		{"/api/v1/elections/xyz", http.StatusBadRequest, "want 64 hexadecimal digits"},
		{"/api/v1/elections/" + strings.Repeat("ab", 32), http.StatusNotFound, "not found"},
		{"/api/v1/elections?status=won", http.StatusBadRequest, "Want one of ongoing"},
		{"/api/v1/elections?limit=3", http.StatusBadRequest, "Unknown arguments: limit"},
		{"/api/v1/validators?height=0", http.StatusBadRequest, "Want a height from 1 to 1"},
		{"/api/v1/validators?height=x", http.StatusBadRequest, "Want a height"},
		{"/api/v1/params?x=1", http.StatusBadRequest, "Unknown arguments: x"},
		{"/api/v1/quota/xyz", http.StatusBadRequest, `Invalid public key in the path: \"xyz\" is not a base58 Ed25519 public key`},
		{"/api/v1/quota/" + strings.Repeat("1", 45), http.StatusBadRequest, "Invalid public key in the path: 45 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := c.Get(base + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.code || !strings.Contains(string(body), tt.want) {
				t.Fatalf("GET %s = %d %s, want %d with %q", tt.path, resp.StatusCode, body, tt.code, tt.want)
			}
		})
	}
	resp, err := c.Get(base + "/api/v1/genesis")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	doc, err := genesis.Decode(body)
	if err != nil || resp.Header.Get(genesisHashHeader) != fmt.Sprintf("%x", doc.Hash()) || !bytes.Equal(doc.Hash(), o.Genesis.Hash()) {
		t.Fatalf("GET genesis: %v, hash header %q", err, resp.Header.Get(genesisHashHeader))
	}
}

// removalState returns the governance state of g after an election in
// block 1 to remove caretaker gone, approved by the votes of voters in
// block 2: gone is out of the set from height 3.
func removalState(t *testing.T, g *genesis.Doc, proposer ledger.KeyPair, gone string, voters []ledger.KeyPair) *governance.State {
	t.Helper()
	st, err := ledger.OpenStore(t.TempDir(), ledger.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	chain := ledgertest.NewChain(t, st, proposer)
	state := governance.Genesis(g)
	set := state.SetAt(1)
	peerID := set.Caretakers[set.Index(gone)].PeerID
	el, err := governance.NewElection(governance.Proposal{Kind: governance.KindRemoveCaretaker, PublicKey: gone, PeerID: peerID},
		set, proposer, "remove")
	if err != nil {
		t.Fatalf("NewElection()=%v", err)
	}
	apply := func(h uint64, txs ...*ledger.Tx) {
		t.Helper()
		chain.Checker = ledger.Checker{Elections: state.Rules(h)}
		checked := chain.Check(txs...)
		if state, _, err = state.Apply(h, checked); err != nil {
			t.Fatalf("Apply(%d)=%v", h, err)
		}
		chain.CommitChecked(checked)
	}
	apply(1, el)
	set = state.SetAt(2)
	var votes []*ledger.Tx
	for _, k := range voters {
		i := set.Index(k.PublicBase58())
		v, err := governance.NewVote(el.ID, []governance.Token{{Ref: ledger.OutputRef{TxID: el.ID, Index: uint64(i)}, Amount: set.Caretakers[i].Power}}, k, false)
		if err != nil {
			t.Fatalf("NewVote()=%v", err)
		}
		votes = append(votes, v)
	}
	apply(2, votes...)
	if got := state.SetAt(3).Power(gone); got != 0 {
		t.Fatalf("after the election, %s has power %d at height 3", gone, got)
	}
	return state
}

// A caretaker removed by election may vote and propose up to the height
// before the effect; from then on its messages are rejected (and its peer
// penalised), while a message of a height past the next is only ignored.
func TestValidateAfterRemoval(t *testing.T) {
	e, keys := validatorEngine(t)
	k3, k4 := newKey(t, 43), newKey(t, 44)
	g := e.gov.doc
	for i, k := range []ledger.KeyPair{k3, k4} {
		g.Caretakers = append(g.Caretakers, genesis.Caretaker{Name: fmt.Sprint(i + 2), PublicKey: k.PublicBase58(), Power: 10,
			PeerID: testPeerID(t, byte(83+i)).String()})
	}
	state := removalState(t, g, keys[0], k4.PublicBase58(), []ledger.KeyPair{keys[0], keys[1], k3})
	gov, err := newGovBook(g, state, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.gov = gov
	from := testPeerID(t, 84)
	c := blockCIDOf(t, testBlock(t, 1))
	for _, tc := range []struct {
		name   string
		height uint64 // the machine's
		vote   uint64 // the vote's
		want   p2p.Verdict
	}{
		{"before the effect height", 2, 2, p2p.Accept},
		{"at the effect height", 3, 3, p2p.Reject},
		{"past it", 5, 5, p2p.Reject},
		{"the next height, not known yet", 2, 3, p2p.Ignore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.height.Store(tc.height)
			if got := e.validateVote(t.Context(), from, signedTestVote(t, k4, votePrevote, tc.vote, 0, c).encode()); got != tc.want {
				t.Fatalf("validateVote(removed caretaker, height %d at %d)=%v, want %v", tc.vote, tc.height, got, tc.want)
			}
		})
	}
	e.height.Store(3)
	if got := e.validateVote(t.Context(), testPeerID(t, 83), signedTestVote(t, k3, votePrevote, 3, 0, c).encode()); got != p2p.Accept {
		t.Fatalf("validateVote(remaining caretaker)=%v, want accept", got)
	}
	if got := e.gov.setAt(3).vals.Len(); got != 3 {
		t.Fatalf("machine's set at height 3 has %d caretakers, want 3", got)
	}
}

// A key over its free tier is refused with 429 at the HTTP API, counted in
// /metrics, and its account shows what it used.
func TestNodeQuota(t *testing.T) {
	o := testOptions(t)
	o.Genesis.Params.FreeTierTxsPerEpoch = 1
	o.Config.Metrics.Enabled = true
	n := newTestNode(t, o)
	defer runNode(t, n)()
	base := "http://" + n.HTTPAddr()
	c := &http.Client{Timeout: 10 * time.Second}
	user := newKey(t, 30)
	post := func(tx *ledger.Tx) (int, string) {
		t.Helper()
		resp, err := c.Post(base+"/api/v1/transactions?mode=commit", "application/json", bytes.NewReader(tx.Canonical()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(createTx(t, user, 1, 1)); code != http.StatusAccepted {
		t.Fatalf("first tx: %d %s", code, body)
	}
	code, body := post(createTx(t, user, 2, 1))
	if code != http.StatusTooManyRequests || !strings.Contains(body, "Invalid transaction (QuotaExceeded): "+user.PublicBase58()+" has used 1 of 1 transactions in epoch 0, renews at height 1001") {
		t.Fatalf("second tx: %d %s, want 429 QuotaExceeded", code, body)
	}
	var acct struct {
		UsedTxs      uint64 `json:"used_txs"`
		RemainingTxs uint64 `json:"remaining_txs"`
	}
	if code := getJSON(t, c, base+"/api/v1/quota/"+user.PublicBase58(), &acct); code != http.StatusOK || acct.UsedTxs != 1 || acct.RemainingTxs != 0 {
		t.Fatalf("quota: %d %+v, want 1 used, 0 remaining", code, acct)
	}
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(m), `ipdb_gateway_rejected_total{reason="quota"} 1`) {
		t.Fatalf("/metrics lacks the quota rejection:\n%s", m)
	}
}
