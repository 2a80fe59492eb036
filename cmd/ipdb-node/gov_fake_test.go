package main

import (
	"cmp"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/governance"
	"github.com/ipdb/ipdb-node/ledger"
)

// govTestdata is the directory of the recorded API answers the fake serves.
const govTestdata = "testdata/gov"

// fakeAPI is an httptest server answering the governance API from the
// recorded JSON of testdata/gov. A posted election becomes an ongoing
// election (election_ongoing.json with its id); a posted VOTE makes its
// election approved (election_approved.json). It records every request.
type fakeAPI struct {
	t   *testing.T
	srv *httptest.Server

	mu           sync.Mutex
	requests     []string            // "METHOD path?query"
	posted       []*ledger.Tx        // accepted POSTs
	elections    map[string][]byte   // id → election object
	assetTxs     map[string][][]byte // asset id → its transactions
	outputs      []outputRefEntry    // what GET /outputs answers
	refuse       string              // when set, POST answers refuseStatus (400 if 0) with this message
	refuseStatus int
	// onPost, when set, sees each decodable POST first (with mu held); a
	// non-empty message refuses it with 400.
	onPost  func(tx *ledger.Tx) string
	bodies  map[string][]byte // path → answer body, overriding the defaults
	headers map[string]string // extra headers of GET /api/v1/genesis and of bodies
}

// newFakeAPI starts a fake API; it stops with the test.
func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, elections: map[string][]byte{}, assetTxs: map[string][][]byte{}, bodies: map[string][]byte{}, headers: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// url returns the fake's base URL.
func (f *fakeAPI) url() string { return f.srv.URL }

// readTestdata returns a file of testdata/gov.
func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := readTestdataFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readTestdataFile returns a file of testdata/gov.
func readTestdataFile(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(govTestdata, name))
}

// serve answers one request.
func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	path := r.URL.Path
	if b, ok := f.bodies[path]; ok {
		for k, v := range f.headers {
			w.Header().Set(k, v)
		}
		w.Write(b)
		return
	}
	switch {
	case r.Method == http.MethodPost && path == "/api/v1/transactions":
		f.post(w, r)
	case path == "/api/v1/validators":
		f.writeFile(w, "validators.json")
	case path == "/api/v1/params":
		f.writeFile(w, "params.json")
	case path == "/api/v1/status":
		f.writeFile(w, "status.json")
	case path == "/api/v1/elections":
		f.writeFile(w, "elections.json")
	case path == "/api/v1/genesis":
		f.genesis(w)
	case strings.HasPrefix(path, "/api/v1/elections/"):
		f.election(w, strings.TrimPrefix(path, "/api/v1/elections/"))
	case path == "/api/v1/outputs":
		writeTestJSON(w, http.StatusOK, f.outputs)
	case path == "/api/v1/transactions":
		txs := f.assetTxs[r.URL.Query().Get("asset_id")]
		w.Write([]byte("[" + string(joinBytes(txs)) + "]"))
	default:
		writeTestJSON(w, http.StatusNotFound, map[string]any{"message": "not found", "status": 404})
	}
}

// writeFile answers a testdata file.
func (f *fakeAPI) writeFile(w http.ResponseWriter, name string) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(readTestdata(f.t, name))
}

// genesis answers genesis.json with its hash header (unless overridden).
func (f *fakeAPI) genesis(w http.ResponseWriter) {
	b := readTestdata(f.t, "genesis.json")
	doc, err := genesis.Decode(b)
	if err != nil {
		f.t.Errorf("testdata genesis: %v", err)
	}
	w.Header().Set(genesisHashHeader, hex.EncodeToString(doc.Hash()))
	for k, v := range f.headers {
		w.Header().Set(k, v)
	}
	w.Write(b)
}

// election answers one election, or BigchainDB's 404.
func (f *fakeAPI) election(w http.ResponseWriter, id string) {
	if e, ok := f.elections[id]; ok {
		w.Write(e)
		return
	}
	writeTestJSON(w, http.StatusNotFound, map[string]any{"message": "election " + id + " not found", "status": 404})
}

// post accepts an election or a VOTE (or refuses it with f.refuse).
func (f *fakeAPI) post(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	tx, err := ledger.DecodeTx(body)
	if err != nil {
		writeTestJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid transaction (SchemaValidationError): " + err.Error(), "status": 400})
		return
	}
	if f.onPost != nil {
		if msg := f.onPost(tx); msg != "" {
			writeTestJSON(w, http.StatusBadRequest, map[string]any{"message": msg, "status": http.StatusBadRequest})
			return
		}
	}
	if f.refuse != "" {
		code := cmp.Or(f.refuseStatus, http.StatusBadRequest)
		writeTestJSON(w, code, map[string]any{"message": f.refuse, "status": code})
		return
	}
	f.posted = append(f.posted, tx)
	switch {
	case tx.Operation == ledger.OpVote:
		f.elections[tx.Asset.ID] = f.electionWithID("election_approved.json", tx.Asset.ID)
	case governance.IsGovernanceOp(tx.Operation):
		f.elections[tx.ID] = f.electionWithID("election_ongoing.json", tx.ID)
	}
	f.assetTxs[tx.AssetID()] = append(f.assetTxs[tx.AssetID()], tx.Canonical())
	w.WriteHeader(http.StatusAccepted)
	w.Write(tx.Canonical())
}

// electionWithID returns a recorded election object with its id set.
func (f *fakeAPI) electionWithID(name, id string) []byte {
	var m map[string]any
	if err := json.Unmarshal(readTestdata(f.t, name), &m); err != nil {
		f.t.Errorf("%s: %v", name, err)
	}
	m["id"] = id
	b, _ := json.Marshal(m)
	return b
}

// addElection records a committed election tx whose outputs unspent the
// fake reports unspent (adding to those reported before). Adding one twice
// lists it twice under its asset, which the CLI must tolerate.
func (f *fakeAPI) addElection(tx *ledger.Tx, file string, unspent ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.elections[tx.ID] = f.electionWithID(file, tx.ID)
	f.assetTxs[tx.ID] = append(f.assetTxs[tx.ID], tx.Canonical())
	for _, i := range unspent {
		f.outputs = append(f.outputs, outputRefEntry{TransactionID: tx.ID, OutputIndex: uint64(i)})
	}
}

// setRefuse makes every later POST answer code (400 if 0) with msg.
func (f *fakeAPI) setRefuse(msg string, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse, f.refuseStatus = msg, code
}

// lastPosted returns the last accepted transaction, failing without one.
func (f *fakeAPI) lastPosted() *ledger.Tx {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.posted) == 0 {
		f.t.Fatalf("nothing posted; requests: %v", f.requests)
	}
	return f.posted[len(f.posted)-1]
}

// requestCount returns how many requests the fake answered.
func (f *fakeAPI) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// writeTestJSON writes v as JSON with status code.
func writeTestJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// joinBytes joins JSON documents with commas.
func joinBytes(docs [][]byte) []byte {
	var out []byte
	for i, d := range docs {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, d...)
	}
	return out
}

// govHome makes a home holding only the testdata caretaker key (caretaker
// c0 of the recorded set) and returns its directory and key.
func govHome(t *testing.T) (string, ledger.KeyPair) {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, keysDir), privateDirMode); err != nil {
		t.Fatal(err)
	}
	b := readTestdata(t, "caretaker.json")
	if err := os.WriteFile(home{dir}.keyPath(), b, privateFileMode); err != nil {
		t.Fatal(err)
	}
	k, err := decodeKeyFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return dir, k
}

// recordedSet returns the set of testdata/gov/validators.json.
func recordedSet(t *testing.T) governance.Set {
	t.Helper()
	var entries []validatorEntry
	if err := json.Unmarshal(readTestdata(t, "validators.json"), &entries); err != nil {
		t.Fatal(err)
	}
	set, err := validatorSet(entries)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// assetData returns a transaction's asset.data as a map.
func assetData(t *testing.T, tx *ledger.Tx) map[string]any {
	t.Helper()
	m, ok := tx.Asset.Data.(map[string]any)
	if !ok {
		t.Fatalf("asset.data %T of %s, want an object", tx.Asset.Data, tx.Operation)
	}
	return m
}

// num returns a JSON number of decoded asset data as a string.
func num(v any) string { return fmt.Sprint(v) }
