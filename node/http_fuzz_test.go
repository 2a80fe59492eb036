package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/textsearch"
)

func TestHTTPTransactionBytesVerbatim(t *testing.T) {
	f := newAPIFixture(t)
	for _, tx := range []*ledger.Tx{f.c1, f.c2, f.t1} {
		w := apiDo(f.h, http.MethodGet, "/api/v1/transactions/"+tx.ID, nil)
		if !bytes.Equal(w.Body.Bytes(), tx.Canonical()) {
			t.Fatalf("GET tx %s=%s, want the canonical bytes %s", tx.ID, w.Body, tx.Canonical())
		}
		v, err := ledger.Verify(w.Body.Bytes())
		if err != nil || v.Tx().ID != tx.ID {
			t.Fatalf("Verify(GET tx %s)=%v, want its own id", tx.ID, err)
		}
	}
}

func TestHTTPPostTransaction(t *testing.T) {
	f := newAPIFixture(t)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, f.fresh.Canonical(), "", "  "); err != nil {
		t.Fatalf("Indent()=%v", err)
	}
	tests := []struct {
		name, query string
		body        []byte
		ctype       string
		mode        Mode
	}{
		{"default mode", "", f.fresh.Canonical(), "application/json", ModeAsync},
		{"async", "?mode=async", f.fresh.Canonical(), "application/json", ModeAsync},
		{"sync", "?mode=sync", f.fresh.Canonical(), "", ModeSync},
		{"commit", "?mode=commit&other=1", f.fresh.Canonical(), "text/plain", ModeCommit},
		{"pretty body", "?mode=commit", pretty.Bytes(), "application/json", ModeCommit},
	}
	for _, tt := range tests {
		for _, path := range apiSlashForms("/api/v1/transactions" + tt.query) {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				f.b.modes = nil
				w := apiDo(f.h, http.MethodPost, path, tt.body, "Content-Type", tt.ctype)
				if w.Code != http.StatusAccepted || !bytes.Equal(w.Body.Bytes(), f.fresh.Canonical()) {
					t.Fatalf("POST %s=%d %s, want 202 and the canonical transaction", path, w.Code, w.Body)
				}
				if len(f.b.modes) != 1 || f.b.modes[0] != tt.mode {
					t.Fatalf("Submit modes=%v, want [%v]", f.b.modes, tt.mode)
				}
			})
		}
	}
}

func TestHTTPPostErrors(t *testing.T) {
	f := newAPIFixture(t)
	tampered := bytes.Replace(f.fresh.Canonical(), []byte("not yet"), []byte("not now"), 1)
	_, tamperedErr := ledger.Verify(tampered)
	doubleSpend := &ledger.ValidationError{Kind: ledger.ErrDoubleSpend, Message: "input `x` was already spent"}
	tests := []struct {
		name, query string
		body        []byte
		submitErr   error
		code        int
		want        string
	}{
		{"bad mode", "?mode=fast", f.fresh.Canonical(), nil, 400, `{"message":{"mode":"Mode must be \"async\", \"sync\" or \"commit\""}}`},
		{"mode is case-sensitive", "?mode=ASYNC", f.fresh.Canonical(), nil, 400, `{"message":{"mode":"Mode must be \"async\", \"sync\" or \"commit\""}}`},
		{"mode twice", "?mode=sync&mode=sync", f.fresh.Canonical(), nil, 400, `{"message":{"mode":"Parameter given more than once"}}`},
		{"empty body", "", nil, nil, 400, `{"message":"Invalid JSON in the request body: unexpected end of input at offset 0","status":400}`},
		{"not JSON", "", []byte("tx=1"), nil, 400, `{"message":"Invalid JSON in the request body: invalid character 'x' in literal true at offset 1","status":400}`},
		{"array", "", []byte("[]"), nil, 400, `{"message":"Invalid transaction schema: [] is not of type 'object'","status":400}`},
		{"wrong id", "", []byte(`{"id":"x"}`), nil, 400, `{"message":"Invalid transaction (InvalidHash): The transaction's id 'x' isn't equal to the hash of its body, i.e. it's not valid.","status":400}`},
		{"tampered", "", tampered, nil, 400, fmt.Sprintf(`{"message":%q,"status":400}`, apiErrText(tamperedErr))},
		{"too large", "", bytes.Repeat([]byte(" "), httpDefaultMaxBody+1), nil, 413, `{"message":"Request body exceeds the limit of 15360 bytes","status":413}`},
		{"backlog full", "", f.fresh.Canonical(), fmt.Errorf("%w: 10000 transactions, 64 MiB; retry later", ErrBacklogFull), 503, `{"message":"Backlog full: 10000 transactions, 64 MiB; retry later","status":503}`},
		{"stopping", "", f.fresh.Canonical(), ErrStopping, 503, `{"message":"The node is shutting down; retry on another node or later","status":503}`},
		{"commit timeout", "?mode=commit", f.fresh.Canonical(), ErrCommitTimeout, 504, `{"message":"Timed out waiting for the transaction to be committed; it was accepted and may still be committed","status":504}`},
		{"double spend", "", f.fresh.Canonical(), doubleSpend, 400, "{\"message\":\"Invalid transaction (DoubleSpend): input `x` was already spent\",\"status\":400}"},
		{"internal", "", f.fresh.Canonical(), errors.New("disk on fire"), 500, `{"message":"Internal server error","status":500}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.b.submitErr = tt.submitErr
			w := apiDo(f.h, http.MethodPost, "/api/v1/transactions"+tt.query, tt.body)
			if w.Code != tt.code || w.Body.String() != tt.want {
				t.Fatalf("POST %s=%d %s, want %d %s", tt.name, w.Code, w.Body, tt.code, tt.want)
			}
			if got, want := w.Header().Get("Retry-After"), map[bool]string{true: "1"}[tt.code == 503]; got != want {
				t.Fatalf("Retry-After=%q, want %q", got, want)
			}
		})
	}
}

// apiErrText returns err's text, or "" for nil.
func apiErrText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestHTTPPostTooLargeStreamed(t *testing.T) {
	f := newAPIFixture(t)
	h := NewHandler(f.b, HandlerOptions{MaxBodyBytes: 100})
	r := httptest.NewRequest(http.MethodPost, "/api/v1/transactions", bytes.NewReader(f.fresh.Canonical()))
	r.ContentLength = -1 // as a chunked body: the limit is found while reading
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if want := `{"message":"Request body exceeds the limit of 100 bytes","status":413}`; w.Code != 413 || w.Body.String() != want {
		t.Fatalf("POST chunked over limit=%d %s, want 413 %s", w.Code, w.Body, want)
	}
}

func TestHTTPReadyAndRecovery(t *testing.T) {
	f := newAPIFixture(t)
	f.b.status.Ready = false
	w := apiDo(f.h, http.MethodGet, "/readyz", nil)
	if want := `{"message":"Not ready","status":503}`; w.Code != 503 || w.Body.String() != want {
		t.Fatalf("GET /readyz (not ready)=%d %s, want 503 %s", w.Code, w.Body, want)
	}
	f.b.panics = true
	for _, path := range []string{"/api/v1/status", "/api/v1/validators", "/readyz"} {
		w := apiDo(f.h, http.MethodGet, path, nil)
		if want := `{"message":"Internal server error","status":500}`; w.Code != 500 || w.Body.String() != want {
			t.Fatalf("GET %s (panicking backend)=%d %s, want 500 %s", path, w.Code, w.Body, want)
		}
	}
}

// apiTestMetrics records what the handler reports.
type apiTestMetrics struct {
	mu       sync.Mutex
	observed []string // "route code"
	rejected []string
}

func (m *apiTestMetrics) ObserveHTTP(route string, code int, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.observed = append(m.observed, fmt.Sprintf("%s %d", route, code))
}

func (m *apiTestMetrics) Rejected(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rejected = append(m.rejected, reason)
}

func TestHTTPMetrics(t *testing.T) {
	f := newAPIFixture(t)
	m := &apiTestMetrics{}
	served := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ipdb_height 2\n") })
	h := NewHandler(f.b, HandlerOptions{Metrics: m, MetricsHandler: served})
	apiDo(h, http.MethodGet, "/api/v1/transactions/"+f.c1.ID, nil)
	apiDo(h, http.MethodGet, "/api/v1/transactions/"+f.c2.ID+"/", nil)
	apiDo(h, http.MethodGet, "/no/such/path", nil)
	apiDo(h, http.MethodPost, "/api/v1/transactions", []byte(`{"id":"x"}`))
	apiDo(h, http.MethodPost, "/api/v1/transactions?mode=now", f.fresh.Canonical())
	apiDo(h, http.MethodPost, "/api/v1/transactions", f.t1.Canonical())
	if w := apiDo(h, http.MethodGet, "/metrics", nil); w.Body.String() != "ipdb_height 2\n" {
		t.Fatalf("GET /metrics=%q, want the metrics handler's answer", w.Body)
	}
	wantObserved := []string{"/api/v1/transactions/{id} 200", "/api/v1/transactions/{id} 200", "unmatched 404",
		"/api/v1/transactions 400", "/api/v1/transactions 400", "/api/v1/transactions 202", "/metrics 200"}
	if !reflect.DeepEqual(m.observed, wantObserved) {
		t.Fatalf("observed=%q, want %q", m.observed, wantObserved)
	}
	if want := []string{"InvalidHash", "bad_request"}; !reflect.DeepEqual(m.rejected, want) {
		t.Fatalf("rejected=%q, want %q", m.rejected, want)
	}
}

// apiFuzzSeeds returns the files of the node's and the ledger's test vectors.
func apiFuzzSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	var seeds [][]byte
	for _, pattern := range []string{"testdata/http/post/*", "../ledger/testdata/tx/*/*.json"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			tb.Fatalf("Glob(%s)=%v", pattern, err)
		}
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				tb.Fatalf("ReadFile(%s)=%v", name, err)
			}
			seeds = append(seeds, b)
		}
	}
	return seeds
}

// apiCheckAnswer fails on a 5xx, an answer that is not JSON, or a missing
// CORS header: what no input may cause.
func apiCheckAnswer(t *testing.T, w *httptest.ResponseRecorder, what string) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("%s=%d %s, want no 5xx", what, w.Code, w.Body)
	}
	if w.Code == http.StatusNoContent {
		return
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" || !json.Valid(w.Body.Bytes()) {
		t.Fatalf("%s=%d Content-Type %q body %q, want JSON", what, w.Code, ct, w.Body)
	}
	if w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("%s: no Access-Control-Allow-Origin", what)
	}
}

// FuzzPostTransaction posts random bodies with random query strings: the
// answer is never a 5xx (the recovery's 500 included) and always JSON.
func FuzzPostTransaction(f *testing.F) {
	fx := newAPIFixture(f)
	queries := []string{"", "mode=commit", "mode=sync&mode=async", "mode=%zz", "mode=%FF", "a=b;c"}
	for i, seed := range apiFuzzSeeds(f) {
		f.Add(queries[i%len(queries)], seed)
	}
	f.Add("mode=async", fx.fresh.Canonical())
	f.Fuzz(func(t *testing.T, query string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/transactions", bytes.NewReader(body))
		r.URL.RawQuery = query
		w := httptest.NewRecorder()
		fx.h.ServeHTTP(w, r)
		apiCheckAnswer(t, w, "POST ?"+query)
	})
}

// FuzzGetQuery sends GETs of random paths and query strings, seeded with
// every route: never a 5xx, always JSON.
func FuzzGetQuery(f *testing.F) {
	fx := newAPIFixture(f)
	id, key := fx.c1.ID, fx.alice.PublicBase58()
	seeds := []struct{ path, query string }{
		{"/", ""}, {"/api/v1/", ""}, {"/api/v1/transactions/" + id, ""},
		{"/api/v1/transactions", "asset_id=" + id + "&operation=transfer&last_tx=true"},
		{"/api/v1/outputs/", "public_key=" + key + "&spent=false"}, {"/api/v1/assets", "search=hello&limit=2"},
		{"/api/v1/metadata", "search=-first+%22second%22&limit=0"}, {"/api/v1/blocks", "transaction_id=" + id},
		{"/api/v1/blocks/1", ""}, {"/api/v1/blocks/latest", ""}, {"/api/v1/validators", ""},
		{"/api/v1/status", ""}, {"/healthz", ""}, {"/readyz", ""}, {"/api/v1/streams/valid_transactions", ""},
	}
	for _, s := range seeds {
		f.Add(s.path, s.query)
	}
	f.Fuzz(func(t *testing.T, path, query string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.Path, r.URL.RawQuery = path, query
		w := httptest.NewRecorder()
		fx.h.ServeHTTP(w, r)
		apiCheckAnswer(t, w, "GET "+strings.ToValidUTF8(path, "?")+"?"+query)
	})
}

func TestHTTPSearchTooManyTerms(t *testing.T) {
	f := newAPIFixture(t)
	words := make([]string, 2*textsearch.MaxQueryTerms) // some stem alike
	for i := range words {
		words[i] = fmt.Sprintf("term%c%c", 'a'+i/26, 'a'+i%26)
	}
	for _, path := range []string{"/api/v1/assets", "/api/v1/metadata"} {
		rec := apiDo(f.h, http.MethodGet, path+"?search="+url.QueryEscape(strings.Join(words, " ")), nil)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "too many") {
			t.Fatalf("GET %s with %d terms: %d %s, want 400 naming too many terms", path, len(words), rec.Code, rec.Body)
		}
	}
}

// gatedBackend is apiTestBackend with a backlog that says it is full.
type gatedBackend struct {
	*apiTestBackend
	full error
}

func (b gatedBackend) Full() error { return b.full }

// TestHTTPPostFullBacklogBeforeVerify checks that a full backlog refuses a
// POST before its signature is checked: a tampered transaction gets the
// 503 (not its 400), and nothing reaches Submit.
func TestHTTPPostFullBacklogBeforeVerify(t *testing.T) {
	f := newAPIFixture(t)
	tampered := []byte(string(f.fresh.Canonical()))
	tampered[len(tampered)-3] ^= 1
	full := fmt.Errorf("%w: 2 transactions, 1 MiB; retry later", ErrBacklogFull)
	for _, tt := range []struct {
		name string
		full error
		body []byte
		code int
		want string
	}{
		{"full, tampered", full, tampered, 503, `{"message":"Backlog full: 2 transactions, 1 MiB; retry later","status":503}`},
		{"full, valid", full, f.fresh.Canonical(), 503, `{"message":"Backlog full: 2 transactions, 1 MiB; retry later","status":503}`},
		{"room, tampered", nil, tampered, 400, ""},
		{"room, valid", nil, f.fresh.Canonical(), 202, string(f.fresh.Canonical())},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := gatedBackend{apiTestBackend: f.b, full: tt.full}
			h := NewHandler(b, HandlerOptions{Version: "9.9.9", Logger: apiLogger(t)})
			before := len(f.b.submitted)
			w := apiDo(h, http.MethodPost, "/api/v1/transactions", tt.body)
			if w.Code != tt.code || (tt.want != "" && w.Body.String() != tt.want) {
				t.Fatalf("POST=%d %s, want %d %s", w.Code, w.Body, tt.code, tt.want)
			}
			if got, want := len(f.b.submitted)-before, map[bool]int{true: 1}[tt.code == 202]; got != want {
				t.Fatalf("%d submitted, want %d", got, want)
			}
		})
	}
}
