package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

const apiTestChain = "http-test"

// apiTestBackend is the Backend the HTTP tests serve: a real ledger store
// with committed blocks, a recording Submit and a controllable Subscribe.
type apiTestBackend struct {
	store *ledger.Store

	mu        sync.Mutex // guards the fields below
	modes     []Mode
	submitted []string // tx ids
	submitErr error
	status    Status
	panics    bool             // Status panics, to exercise the recovery
	subs      chan *apiTestSub // announces each Subscribe, when non-nil
}

// apiTestSub is one subscription handed to the stream.
type apiTestSub struct {
	c      chan Event
	closed chan struct{} // closed by the subscription's Close
}

func (b *apiTestBackend) Store() *ledger.Store { return b.store }

func (b *apiTestBackend) Submit(_ context.Context, v *ledger.VerifiedTx, mode Mode) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.submitErr != nil {
		return b.submitErr
	}
	b.modes = append(b.modes, mode)
	b.submitted = append(b.submitted, v.Tx().ID)
	return nil
}

func (b *apiTestBackend) Subscribe(buf int) *Subscription {
	s := &apiTestSub{c: make(chan Event, buf), closed: make(chan struct{})}
	var once sync.Once
	if b.subs != nil {
		b.subs <- s
	}
	return NewSubscription(s.c, func() { once.Do(func() { close(s.closed) }) })
}

func (b *apiTestBackend) Status() Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.panics {
		panic("apiTestBackend: Status asked to panic")
	}
	return b.status
}

// apiFixture is a store holding genesis, block 1 (CREATEs c1 by alice and c2
// by bob) and block 2 (t1: alice sends 2 of c1 to bob and keeps 1), and a
// handler over it.
type apiFixture struct {
	b          *apiTestBackend
	h          http.Handler
	alice, bob ledger.KeyPair
	c1, c2, t1 *ledger.Tx
	fresh      *ledger.Tx // a valid CREATE that is not committed
}

func newAPIFixture(tb testing.TB) *apiFixture {
	tb.Helper()
	st, err := ledger.OpenStore(tb.TempDir(), ledger.StoreOptions{})
	if err != nil {
		tb.Fatalf("OpenStore()=%v", err)
	}
	tb.Cleanup(func() { st.Close() })
	f := &apiFixture{alice: apiKey(tb, 1), bob: apiKey(tb, 2)}
	doc := genesis.Dev(apiTestChain, f.alice, time.UnixMilli(1_700_000_000_000))
	if err := st.InitGenesis(doc.Block()); err != nil {
		tb.Fatalf("InitGenesis()=%v", err)
	}
	f.b = &apiTestBackend{store: st, status: Status{ChainID: apiTestChain, Version: "test",
		Caretakers: []string{f.alice.PublicBase58()}, Powers: []uint64{7}, Ready: true}}
	f.c1 = apiCreate(tb, f.alice, map[string]any{"msg": "hello world"}, map[string]any{"note": "first"}, 3)
	f.c2 = apiCreate(tb, f.bob, map[string]any{"msg": "another thing"}, nil, 1)
	f.commit(tb, f.c1, f.c2)
	f.t1 = apiTransfer(tb, f.c1, f.alice, map[string]any{"note": "second"},
		ledger.To(2, f.bob.Public), ledger.To(1, f.alice.Public))
	f.commit(tb, f.t1)
	f.fresh = apiCreate(tb, f.bob, map[string]any{"msg": "not yet"}, nil, 1)
	f.h = NewHandler(f.b, HandlerOptions{Version: "9.9.9", Logger: apiLogger(tb)})
	return f
}

func apiLogger(tb testing.TB) *slog.Logger {
	if t, ok := tb.(*testing.T); ok {
		return slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	return nil
}

func apiKey(tb testing.TB, seed byte) ledger.KeyPair {
	tb.Helper()
	k, err := ledger.NewKeyPair(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	if err != nil {
		tb.Fatalf("NewKeyPair()=%v", err)
	}
	return k
}

func apiCreate(tb testing.TB, k ledger.KeyPair, data, meta any, amount uint64) *ledger.Tx {
	tb.Helper()
	return ledgertest.Create(tb, k, data, meta, ledger.To(amount, k.Public))
}

func apiTransfer(tb testing.TB, from *ledger.Tx, k ledger.KeyPair, meta any, outs ...ledger.OutputSpec) *ledger.Tx {
	tb.Helper()
	return ledgertest.Transfer(tb, from, 0, meta, []ledger.KeyPair{k}, outs...)
}

// commit checks txs (ledger.Verify of their bytes, then a Batch) and commits
// them as the next block, signed by alice.
func (f *apiFixture) commit(tb testing.TB, txs ...*ledger.Tx) {
	tb.Helper()
	st := f.b.store
	batch := ledger.NewBatch(st, ledger.Checker{})
	cids := make([]cid.Cid, len(txs))
	for i, tx := range txs {
		v, err := ledger.Verify(tx.Canonical())
		if err != nil {
			tb.Fatalf("Verify()=%v", err)
		}
		if _, err := batch.Add(v); err != nil {
			tb.Fatalf("Batch.Add()=%v", err)
		}
		cids[i] = tx.CID()
	}
	prev, prevCID, err := st.LatestBlock()
	if err != nil {
		tb.Fatalf("LatestBlock()=%v", err)
	}
	b := &ledger.Block{ChainID: apiTestChain, Height: prev.Height + 1, Time: prev.Time + 1000, Prev: prevCID,
		Txs: cids, StateHash: ledger.NextStateHash(prev.StateHash, batch.Checked()), CaretakersHash: prev.CaretakersHash}
	if prev.Height > 0 {
		if b.LastCommit, err = st.Commit(prev.Height); err != nil {
			tb.Fatalf("Commit(%d)=%v", prev.Height, err)
		}
	}
	bc, err := b.CID()
	if err != nil {
		tb.Fatalf("CID()=%v", err)
	}
	sig := ed25519.Sign(f.alice.Private, ledger.CommitSignBytes(apiTestChain, b.Height, 0, bc))
	c := &ledger.Commit{Height: b.Height, Block: bc,
		Signatures: []ledger.CommitSig{{PublicKey: f.alice.Public, Signature: sig}}}
	if err := st.CommitBlock(b, c, batch.Checked()); err != nil {
		tb.Fatalf("CommitBlock()=%v", err)
	}
}

// apiDo serves one request in process. hdr holds header name, value pairs.
func apiDo(h http.Handler, method, target string, body []byte, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// apiJSONEqual fails unless got and want are the same JSON value.
func apiJSONEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	decode := func(b []byte) any {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("body %q is not JSON: %v", b, err)
		}
		return v
	}
	if g, w := decode(got), decode([]byte(want)); !reflect.DeepEqual(g, w) {
		t.Fatalf("body=%s, want %s", got, want)
	}
}

// apiList renders raw JSON documents as a JSON array.
func apiList(txs ...*ledger.Tx) string {
	parts := make([]string, len(txs))
	for i, tx := range txs {
		parts[i] = string(tx.Canonical())
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestHTTPSuccessShapes(t *testing.T) {
	f := newAPIFixture(t)
	alice, bob := f.alice.PublicBase58(), f.bob.PublicBase58()
	b1, c1ID, t1ID, c2ID := apiBlockCID(t, f, 1), f.c1.ID, f.t1.ID, f.c2.ID
	b0 := apiBlockCID(t, f, 0)
	links := func(prefix string) string {
		return fmt.Sprintf(`{"assets":"%[1]sassets/","blocks":"%[1]sblocks/","docs":"%[2]s","metadata":"%[1]smetadata/",`+
			`"outputs":"%[1]soutputs/","streams":"ws://node.test/api/v1/streams/valid_transactions",`+
			`"transactions":"%[1]stransactions/","validators":"%[1]svalidators"}`, prefix, apiDocsURL)
	}
	tests := []struct {
		path string
		want string
	}{
		{"/", `{"api":{"v1":` + links("/api/v1/") + `},"docs":"` + docsURL + `","software":"ipdb-node","version":"9.9.9"}`},
		{"/api/v1", links("/")},
		{"/api/v1/transactions/" + c1ID, string(f.c1.Canonical())},
		{"/api/v1/transactions?asset_id=" + c1ID, apiList(f.c1, f.t1)},
		{"/api/v1/transactions?asset_id=" + strings.ToUpper(c1ID) + "&operation=create", apiList(f.c1)},
		{"/api/v1/transactions?asset_id=" + c1ID + "&operation=TRANSFER", apiList(f.t1)},
		{"/api/v1/transactions?asset_id=" + c1ID + "&last_tx=TRUE", apiList(f.t1)},
		{"/api/v1/transactions?asset_id=" + c1ID + "&last_tx=false&ignored=1", apiList(f.c1, f.t1)},
		{"/api/v1/transactions?asset_id=" + strings.Repeat("ab", 32), `[]`},
		{"/api/v1/outputs?public_key=" + alice, fmt.Sprintf(`[{"transaction_id":"%s","output_index":0},{"transaction_id":"%s","output_index":1}]`, c1ID, t1ID)},
		{"/api/v1/outputs?public_key=" + alice + "&spent=True", fmt.Sprintf(`[{"transaction_id":"%s","output_index":0}]`, c1ID)},
		{"/api/v1/outputs?public_key=" + alice + "&spent=false", fmt.Sprintf(`[{"transaction_id":"%s","output_index":1}]`, t1ID)},
		{"/api/v1/outputs?spent=false&public_key=" + bob, fmt.Sprintf(`[{"transaction_id":"%s","output_index":0},{"transaction_id":"%s","output_index":0}]`, c2ID, t1ID)},
		{"/api/v1/assets?search=hello", fmt.Sprintf(`[{"data":{"msg":"hello world"},"id":"%s"}]`, c1ID)},
		{"/api/v1/assets?search=nothing-like-it", `[]`},
		{"/api/v1/assets?search=hello&limit=0", fmt.Sprintf(`[{"data":{"msg":"hello world"},"id":"%s"}]`, c1ID)},
		{"/api/v1/metadata?search=second&limit=1", fmt.Sprintf(`[{"metadata":{"note":"second"},"id":"%s"}]`, t1ID)},
		{"/api/v1/blocks?transaction_id=" + t1ID, `[2]`},
		{"/api/v1/blocks?transaction_id=", `[]`},
		{"/api/v1/blocks?transaction_id=123", `[]`},
		{"/api/v1/blocks/0", fmt.Sprintf(`{"height":0,"cid":"%s","prev":null,"time":"2023-11-14T22:13:20Z","transactions":[]}`, b0)},
		{"/api/v1/blocks/001", fmt.Sprintf(`{"height":1,"cid":"%s","prev":"%s","time":"2023-11-14T22:13:21Z","transactions":%s}`, b1, b0, apiList(f.c1, f.c2))},
		{"/api/v1/blocks/latest", fmt.Sprintf(`{"height":2,"cid":"%s","prev":"%s","time":"2023-11-14T22:13:22Z","transactions":%s}`, apiBlockCID(t, f, 2), b1, apiList(f.t1))},
		{"/api/v1/validators", fmt.Sprintf(`[{"public_key":{"type":"ed25519-base64","value":"%s"},"voting_power":7,"public_key_base58":"%s"}]`, base64.StdEncoding.EncodeToString(f.alice.Public), alice)},
		{"/api/v1/status", fmt.Sprintf(`{"chain_id":"http-test","version":"test","height":0,"latest_block_cid":"","latest_block_time":"0001-01-01T00:00:00Z","caretakers":["%s"],"powers":[7],"backlog_txs":0,"backlog_bytes":0,"peers":0,"ready":true,"peer_list":null,"genesis_hash":"","peer_id":"","p2p_addrs":null,"voting":false,"validators":null,"elections":null}`, alice)},
		{"/healthz", `{"healthy":true}`},
		{"/readyz", `{"ready":true}`},
	}
	for _, tt := range tests {
		for _, path := range apiSlashForms(tt.path) {
			t.Run(path, func(t *testing.T) {
				w := apiDo(f.h, http.MethodGet, "http://node.test"+path, nil, "Content-Type", "application/json")
				if w.Code != http.StatusOK {
					t.Fatalf("GET %s: status=%d, want 200 (body %s)", path, w.Code, w.Body)
				}
				if ct := w.Header().Get("Content-Type"); ct != "application/json" {
					t.Fatalf("Content-Type=%q, want application/json", ct)
				}
				apiJSONEqual(t, w.Body.Bytes(), tt.want)
			})
		}
	}
}

// apiSlashForms returns path with and without a trailing slash before its query.
func apiSlashForms(path string) []string {
	p, q, hasQuery := strings.Cut(path, "?")
	if p == "/" {
		return []string{path}
	}
	other := p + "/"
	if hasQuery {
		return []string{path, other + "?" + q}
	}
	return []string{path, other}
}

func apiBlockCID(t *testing.T, f *apiFixture, h uint64) string {
	t.Helper()
	_, c, err := f.b.store.BlockByHeight(h)
	if err != nil {
		t.Fatalf("BlockByHeight(%d)=%v", h, err)
	}
	return c.String()
}

func TestHTTPErrorAnswers(t *testing.T) {
	f := newAPIFixture(t)
	alice, c1 := f.alice.PublicBase58(), f.c1.ID
	missing := func(p string) string { return `{"message":{"` + p + `":"` + msgMissingParam + `"}}` }
	notFound := `{"message":"Not found","status":404}`
	manyParams := "?" + strings.Repeat("x=1&", maxQueryParams) + "x=1"
	tests := []struct {
		method, path string
		code         int
		want         string
	}{
		{"GET", "/nope", 404, notFound},
		{"GET", "/api/v2", 404, notFound},
		{"GET", "/api/v1//transactions", 404, notFound},
		{"GET", "/api/v1/transactions//", 404, notFound},
		{"GET", "/api/v1/transactions/123", 404, notFound},
		{"GET", "/api/v1/transactions/" + strings.ToUpper(c1), 404, notFound},
		{"GET", "/api/v1/transactions/" + strings.Repeat("0", 64), 404, notFound},
		{"GET", "/api/v1/transactions/" + c1 + "/extra", 404, notFound},
		{"GET", "/api/v1/transactions", 400, missing("asset_id")},
		{"GET", "/api/v1/transactions?asset_id=xyz", 400, `{"message":{"asset_id":"Invalid hash"}}`},
		{"GET", "/api/v1/transactions?asset_id=" + c1 + "%0A", 400, `{"message":{"asset_id":"Invalid hash"}}`},
		{"GET", "/api/v1/transactions?asset_id=" + c1 + "&operation=foo", 400, `{"message":{"operation":"Operation must be \"CREATE\" or \"TRANSFER\""}}`},
		{"GET", "/api/v1/transactions?operation=foo", 400, `{"message":{"operation":"Operation must be \"CREATE\" or \"TRANSFER\""}}`},
		{"GET", "/api/v1/transactions?asset_id=" + c1 + "&last_tx=yes", 400, `{"message":{"last_tx":"Boolean value must be \"true\" or \"false\" (lowercase)"}}`},
		{"GET", "/api/v1/transactions?asset_id=" + c1 + "&asset_id=" + c1, 400, `{"message":{"asset_id":"Parameter given more than once"}}`},
		{"GET", "/api/v1/transactions?asset_id=%FF", 400, `{"message":{"asset_id":"Value is not valid UTF-8"}}`},
		{"GET", "/api/v1/transactions?asset_id=%zz", 400, `{"message":{"asset_id":"Value is not URL-encoded"}}`},
		{"GET", "/api/v1/transactions?%zz=1", 400, `{"message":"Invalid query string: a parameter name is not URL-encoded UTF-8","status":400}`},
		{"GET", "/api/v1/transactions" + manyParams, 400, `{"message":"Too many query parameters (the limit is 16)","status":400}`},
		{"GET", "/api/v1/transactions?x=" + strings.Repeat("a", maxQueryBytes), 414, `{"message":"Query string exceeds the limit of 4096 bytes","status":414}`},
		{"GET", "/api/v1/outputs", 400, missing("public_key")},
		{"GET", "/api/v1/outputs?public_key=abc", 400, `{"message":{"public_key":"Invalid base58 ed25519 key"}}`},
		{"GET", "/api/v1/outputs?public_key=" + strings.Repeat("O", 44), 400, `{"message":{"public_key":"Invalid base58 ed25519 key"}}`},
		{"GET", "/api/v1/outputs?public_key=", 400, `{"message":{"public_key":"Invalid base58 ed25519 key"}}`},
		{"GET", "/api/v1/outputs?public_key=" + alice + "&spent=tru", 400, `{"message":{"spent":"Boolean value must be \"true\" or \"false\" (lowercase)"}}`},
		{"GET", "/api/v1/outputs?public_key=" + alice + "&foo=1&bar=2&foo=3", 400, `{"message":"Unknown arguments: foo, bar"}`},
		{"GET", "/api/v1/outputs?public_key=abc&foo=1", 400, `{"message":{"public_key":"Invalid base58 ed25519 key"}}`},
		{"GET", "/api/v1/assets", 400, missing("search")},
		{"GET", "/api/v1/assets?search=", 400, `{"message":"text_search cannot be empty","status":400}`},
		{"GET", "/api/v1/assets?search=x&limit=abc", 400, `{"message":{"limit":"invalid literal for int() with base 10: 'abc'"}}`},
		{"GET", "/api/v1/assets?search=x&limit=it's", 400, `{"message":{"limit":"invalid literal for int() with base 10: \"it's\""}}`},
		{"GET", "/api/v1/assets?search=x&limit=", 400, `{"message":{"limit":"invalid literal for int() with base 10: ''"}}`},
		{"GET", "/api/v1/assets?search=x&limit=-1", 400, `{"message":{"limit":"Limit must not be negative"}}`},
		{"GET", "/api/v1/assets?search=" + strings.Repeat("a", maxParamBytes+1), 400, `{"message":{"search":"Value exceeds the limit of 1024 bytes"}}`},
		{"GET", "/api/v1/metadata?search=", 400, `{"message":"text_search cannot be empty","status":400}`},
		{"GET", "/api/v1/metadata?limit=1", 400, missing("search")},
		{"GET", "/api/v1/blocks", 400, missing("transaction_id")},
		{"GET", "/api/v1/blocks?ts_id=123", 400, missing("transaction_id")},
		{"GET", "/api/v1/blocks?transaction_id=123&foo=123", 400, `{"message":"Unknown arguments: foo"}`},
		{"GET", "/api/v1/blocks?transaction_id=123&status=123", 400, `{"message":"Unknown arguments: status"}`},
		{"GET", "/api/v1/blocks/3", 404, notFound},
		{"GET", "/api/v1/blocks/123", 404, notFound},
		{"GET", "/api/v1/blocks/abc", 404, notFound},
		{"GET", "/api/v1/blocks/-1", 404, notFound},
		{"GET", "/api/v1/blocks/1.0", 404, notFound},
		{"GET", "/api/v1/blocks/99999999999999999999999", 404, notFound},
		{"GET", "/api/v1/streams/valid_transactions", 426, `{"message":"This endpoint is a WebSocket stream; connect with a WebSocket client","status":426}`},
		{"GET", "/metrics", 404, notFound},
		{"DELETE", "/api/v1/transactions", 405, `{"message":"The method is not allowed for the requested URL.","status":405}`},
		{"PUT", "/api/v1/transactions/" + c1, 405, `{"message":"The method is not allowed for the requested URL.","status":405}`},
		{"POST", "/api/v1/outputs", 405, `{"message":"The method is not allowed for the requested URL.","status":405}`},
		{"POST", "/nope", 404, notFound},
	}
	for _, tt := range tests {
		for _, path := range apiSlashForms(tt.path) {
			t.Run(tt.method+" "+apiShort(path), func(t *testing.T) {
				w := apiDo(f.h, tt.method, path, nil)
				if w.Code != tt.code || w.Body.String() != tt.want {
					t.Fatalf("%s %s=%d %s, want %d %s", tt.method, apiShort(path), w.Code, w.Body, tt.code, tt.want)
				}
				if ct := w.Header().Get("Content-Type"); ct != "application/json" {
					t.Fatalf("Content-Type=%q, want application/json", ct)
				}
			})
		}
	}
}

// apiShort shortens a path for a subtest name.
func apiShort(path string) string {
	if len(path) > 100 {
		return path[:100] + "..."
	}
	return path
}

func TestHTTPMethods(t *testing.T) {
	f := newAPIFixture(t)
	tests := []struct {
		method, path string
		code         int
		allow        string
	}{
		{"DELETE", "/api/v1/transactions/", 405, "GET, HEAD, OPTIONS, POST"},
		{"PATCH", "/api/v1/blocks/1", 405, "GET, HEAD, OPTIONS"},
		{"POST", "/", 405, "GET, HEAD, OPTIONS"},
		{"HEAD", "/api/v1/transactions/" + f.c1.ID, 200, ""},
		{"OPTIONS", "/api/v1/outputs", 204, "GET, HEAD, OPTIONS"},
	}
	for _, tt := range tests {
		w := apiDo(f.h, tt.method, tt.path, nil)
		if got := w.Header().Get("Allow"); w.Code != tt.code || got != tt.allow {
			t.Fatalf("%s %s=%d Allow=%q, want %d Allow=%q", tt.method, tt.path, w.Code, got, tt.code, tt.allow)
		}
	}
}

func TestHTTPCORS(t *testing.T) {
	f := newAPIFixture(t)
	for _, path := range []string{"/", "/api/v1/transactions/" + f.c1.ID, "/nope", "/api/v1/outputs"} {
		w := apiDo(f.h, http.MethodGet, path, nil, "Origin", "https://app.example")
		h := w.Header()
		if h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Expose-Headers") != corsExposeHeaders {
			t.Fatalf("GET %s: CORS headers %v, want Allow-Origin * and Expose-Headers %q", path, h, corsExposeHeaders)
		}
	}
	for _, path := range []string{"/api/v1/transactions", "/api/v1/transactions/", "/api/v1/blocks/1"} {
		w := apiDo(f.h, http.MethodOptions, path, nil, "Origin", "https://app.example",
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,app_id")
		h := w.Header()
		want := map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
			"Access-Control-Allow-Headers": "Content-Type, app_id, app_key, Authorization", "Access-Control-Max-Age": "43200",
			"Access-Control-Expose-Headers": "RateLimit, RateLimit-Policy, Retry-After"}
		if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
			t.Fatalf("OPTIONS %s=%d %q, want 204 and no body", path, w.Code, w.Body)
		}
		for k, v := range want {
			if got := h.Get(k); got != v {
				t.Fatalf("OPTIONS %s: %s=%q, want %q", path, k, got, v)
			}
		}
	}
}

// BenchmarkGetTx serves GET /api/v1/transactions/{id} from a real store;
// compare with BenchmarkTrivialHandler: the ratio of their ns/op is the cost of
// the API over the least a handler can do (target: trivial/GetTx >= 0.33).
func BenchmarkGetTx(b *testing.B) {
	f := newAPIFixture(b)
	apiBenchmark(b, f.h, "/api/v1/transactions/"+f.c1.ID)
}

// BenchmarkTrivialHandler serves a fixed small JSON body.
func BenchmarkTrivialHandler(b *testing.B) {
	body := []byte(`{"message":"ok","status":200}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	apiBenchmark(b, h, "/")
}

// apiBenchmark measures h in process and over loopback HTTP with keep-alive.
func apiBenchmark(b *testing.B, h http.Handler, path string) {
	b.Run("inproc", func(b *testing.B) {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		w := &apiDiscardWriter{header: make(http.Header)}
		for b.Loop() {
			clear(w.header)
			w.code = 0
			h.ServeHTTP(w, r)
			if w.code != http.StatusOK && w.code != 0 {
				b.Fatalf("GET %s=%d", path, w.code)
			}
		}
	})
	b.Run("loopback", func(b *testing.B) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		client := srv.Client()
		for b.Loop() {
			resp, err := client.Get(srv.URL + path)
			if err != nil {
				b.Fatalf("GET %s: %v", path, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("GET %s=%d", path, resp.StatusCode)
			}
		}
	})
}

// apiDiscardWriter is a ResponseWriter that keeps only the status, so that
// in-process benchmarks measure the handler rather than a recorder.
type apiDiscardWriter struct {
	header http.Header
	code   int
}

func (w *apiDiscardWriter) Header() http.Header         { return w.header }
func (w *apiDiscardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *apiDiscardWriter) WriteHeader(code int)        { w.code = code }
