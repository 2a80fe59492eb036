package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Defaults of HandlerOptions fields left zero.
const (
	// httpDefaultMaxBody is the POST body limit: IPDB's gateway in front of
	// BigchainDB allowed 15 kB (../shared/DESIGN.md).
	httpDefaultMaxBody = 15 << 10
	// streamDefaultMaxSubscribers bounds WebSocket subscribers: each holds a
	// connection, two goroutines and a buffer.
	streamDefaultMaxSubscribers = 100
	// streamDefaultBuffer is the events buffered per subscriber: one full
	// block of the default 1,000 transactions fits, so a live client is not
	// dropped for a burst.
	streamDefaultBuffer = 1024
)

// Texts of GET / and GET /api/v1.
const (
	softwareName = "ipdb-node"
	// docsURL documents the API we are wire-compatible with: BigchainDB 2.2.2's.
	docsURL    = "https://docs.bigchaindb.com/projects/server/en/v2.2.2/"
	apiDocsURL = docsURL + "http-client-server-api.html"
	// validatorKeyType is the key type BigchainDB's /validators reports.
	validatorKeyType = "ed25519-base64"
)

// Labels of requests that match no route, for HTTPMetrics.
const routeUnmatched = "unmatched"

// CORS headers on every answer (flask-cors defaults plus IPDB's NGINX
// preflight answer).
const (
	corsAllowMethods  = "GET, POST, OPTIONS"
	corsAllowHeaders  = "Content-Type, app_id, app_key, Authorization"
	corsMaxAge        = "43200"
	corsExposeHeaders = "RateLimit, RateLimit-Policy, Retry-After"
)

// HTTPMetrics records requests; the node's Metrics implements it; nil records
// nothing. Implementations must be safe for concurrent use.
type HTTPMetrics interface {
	// ObserveHTTP records one answered request: its route pattern (not the
	// raw path), status code and duration.
	ObserveHTTP(route string, code int, d time.Duration)
	// Rejected records a refused POST /api/v1/transactions by reason: a
	// BigchainDB exception name ("DoubleSpend") or one of bad_request,
	// invalid_json, body_too_large, backlog_full, stopping.
	Rejected(reason string)
}

// HandlerOptions configures NewHandler. Zero fields take the defaults noted.
type HandlerOptions struct {
	// MaxBodyBytes is the POST body limit in bytes (413 above it); 0 means 15 kB.
	MaxBodyBytes int64
	// CommitWait is informational: Backend.Submit enforces the mode=commit wait.
	CommitWait time.Duration
	// StreamURL is the WebSocket URL advertised by GET / and GET /api/v1;
	// "" means "ws://" + the request's Host + "/api/v1/streams/valid_transactions"
	// ("wss://" on TLS).
	StreamURL string
	// MaxSubscribers bounds WebSocket subscribers at once (503 JSON above);
	// 0 means 100.
	MaxSubscribers int
	// StreamBuffer is the events buffered per subscriber before the node
	// drops it; 0 means 1024.
	StreamBuffer int
	// Logger receives request errors (4xx at Debug, 5xx at Error); nil discards.
	Logger *slog.Logger
	// Metrics records requests and rejections; nil records nothing.
	Metrics HTTPMetrics
	// MetricsHandler is served at /metrics when non-nil (Prometheus text, the
	// only answer that is not JSON).
	MetricsHandler http.Handler
	// Version is reported by GET /.
	Version string
}

// endpoint serves one method of one route. param is the route's path
// parameter ("" when it has none). It writes success answers itself and
// returns errors for the dispatcher to write.
type endpoint func(w http.ResponseWriter, r *http.Request, param string) *apiError

// route is one path of the API.
type route struct {
	pattern string // metrics label, like "/api/v1/transactions/{id}"
	get     endpoint
	post    endpoint // nil: GET only
}

// allow returns the route's Allow header.
func (rt *route) allow() string {
	if rt.post != nil {
		return "GET, HEAD, OPTIONS, POST"
	}
	return "GET, HEAD, OPTIONS"
}

// api is the handler NewHandler returns. It is immutable after NewHandler
// except for the stream's subscriber count, so it is safe for concurrent use.
type api struct {
	b       Backend
	o       HandlerOptions
	log     *slog.Logger
	maxBody int64
	static  map[string]*route
	txRoute route // /api/v1/transactions/{id}
	blRoute route // /api/v1/blocks/{height}
	elRoute route // /api/v1/elections/{id}
	quRoute route // /api/v1/quota/{public_key}
	stream  *eventStream
	// elections streams election events (a GovernanceBackend's).
	elections *electionStream
}

// NewHandler returns the BigchainDB-compatible HTTP API v1 and the WebSocket
// event stream over b (routes in ../shared/BIGCHAINDB.md §1.2, plus
// /api/v1/blocks/latest, /api/v1/status, /healthz, /readyz and /metrics).
// Every path answers with and without a trailing slash; every answer is JSON
// (except /metrics) with CORS headers; bad input always gets a 4xx, never a
// 5xx. The handler is safe for concurrent use.
func NewHandler(b Backend, o HandlerOptions) http.Handler {
	a := &api{b: b, o: o, log: o.Logger, maxBody: o.MaxBodyBytes}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.maxBody <= 0 {
		a.maxBody = httpDefaultMaxBody
	}
	a.stream = newEventStream(b, o.MaxSubscribers, o.StreamBuffer, a.log)
	a.txRoute = route{pattern: "/api/v1/transactions/{id}", get: a.getTx}
	a.blRoute = route{pattern: "/api/v1/blocks/{height}", get: a.getBlock}
	a.elRoute = route{pattern: "/api/v1/elections/{id}", get: a.getElection}
	a.quRoute = route{pattern: "/api/v1/quota/{public_key}", get: a.getQuota}
	a.elections = newElectionStream(b, o.MaxSubscribers, o.StreamBuffer, a.log)
	a.static = a.staticRoutes()
	return a
}

// staticRoutes returns the routes without path parameters, by path without
// trailing slash.
func (a *api) staticRoutes() map[string]*route {
	routes := []*route{
		{pattern: "/", get: a.getRoot},
		{pattern: "/api/v1", get: a.getIndex},
		{pattern: "/api/v1/transactions", get: a.listTxs, post: a.postTx},
		{pattern: "/api/v1/outputs", get: a.listOutputs},
		{pattern: "/api/v1/assets", get: a.searchAssets},
		{pattern: "/api/v1/metadata", get: a.searchMetadata},
		{pattern: "/api/v1/blocks", get: a.listBlocks},
		{pattern: "/api/v1/blocks/latest", get: a.getLatestBlock},
		{pattern: "/api/v1/validators", get: a.getValidators},
		{pattern: "/api/v1/elections", get: a.listElections},
		{pattern: "/api/v1/params", get: a.getParams},
		{pattern: "/api/v1/genesis", get: a.getGenesis},
		{pattern: electionStreamPath, get: a.elections.serve},
		{pattern: "/api/v1/status", get: a.getStatus},
		{pattern: streamPath, get: a.stream.serve},
		{pattern: "/healthz", get: a.getHealth},
		{pattern: "/readyz", get: a.getReady},
	}
	if a.o.MetricsHandler != nil {
		routes = append(routes, &route{pattern: "/metrics", get: a.getMetrics})
	}
	m := make(map[string]*route, len(routes))
	for _, rt := range routes {
		m[rt.pattern] = rt
	}
	return m
}

// match finds the route of a request path and its path parameter. One
// trailing slash is ignored, as BigchainDB's strict_slashes=False does.
func (a *api) match(path string) (*route, string) {
	if len(path) > 1 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	if rt, ok := a.static[path]; ok {
		return rt, ""
	}
	if id, ok := pathParam(path, "/api/v1/transactions/"); ok {
		return &a.txRoute, id
	}
	if h, ok := pathParam(path, "/api/v1/blocks/"); ok {
		return &a.blRoute, h
	}
	if id, ok := pathParam(path, "/api/v1/elections/"); ok {
		return &a.elRoute, id
	}
	if pub, ok := pathParam(path, "/api/v1/quota/"); ok {
		return &a.quRoute, pub
	}
	return nil, ""
}

// pathParam returns the one non-empty segment after prefix.
func pathParam(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok || rest == "" || strings.IndexByte(rest, '/') >= 0 {
		return "", false
	}
	return rest, true
}

// ServeHTTP routes a request, with CORS headers, metrics and a last-resort
// recovery that answers 500 JSON.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	rt, param := a.match(r.URL.Path)
	label := routeUnmatched
	if rt != nil {
		label = rt.pattern
	}
	defer a.finish(rec, r, label, start)
	if err := a.dispatch(rec, r, rt, param); err != nil {
		a.fail(rec, r, err)
	}
}

// dispatch calls the route's endpoint for the request's method.
func (a *api) dispatch(w http.ResponseWriter, r *http.Request, rt *route, param string) *apiError {
	if rt == nil {
		return errNotFound()
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return rt.get(w, r, param)
	case http.MethodPost:
		if rt.post != nil {
			return rt.post(w, r, param)
		}
	case http.MethodOptions:
		preflight(w, rt)
		return nil
	}
	return errMethod(rt.allow())
}

// preflight answers a CORS preflight (or plain OPTIONS) request.
func preflight(w http.ResponseWriter, rt *route) {
	h := w.Header()
	h.Set("Allow", rt.allow())
	h.Set("Access-Control-Allow-Methods", corsAllowMethods)
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
}

// finish recovers a panic (logging it and answering 500 JSON if nothing was
// written yet) and records the request's metrics. It must be deferred.
func (a *api) finish(rec *statusRecorder, r *http.Request, label string, start time.Time) {
	if p := recover(); p != nil {
		if p == http.ErrAbortHandler {
			a.observe(label, rec.code(), start)
			panic(p)
		}
		a.log.Error("http: handler panic", "method", r.Method, "path", r.URL.Path,
			"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		if rec.status == 0 {
			writeRaw(rec, http.StatusInternalServerError, mustJSON(messageBody{Message: msgInternal, Status: 500}))
		}
	}
	a.observe(label, rec.code(), start)
}

// observe records one request in the metrics, if any.
func (a *api) observe(label string, code int, start time.Time) {
	if a.o.Metrics != nil {
		a.o.Metrics.ObserveHTTP(label, code, time.Since(start))
	}
}

// reject records a refused POST in the metrics, if any.
func (a *api) reject(reason string) {
	if a.o.Metrics != nil && reason != "" {
		a.o.Metrics.Rejected(reason)
	}
}

// fail writes an error answer, logs it (BigchainDB's "HTTP API error" line:
// internal errors at Error, the rest at Debug) and records a rejected
// transaction when the error has a reason.
func (a *api) fail(w http.ResponseWriter, r *http.Request, e *apiError) {
	a.reject(e.reason)
	level := slog.LevelDebug // refusals are expected and counted, not alarming
	if e.internal != nil {
		level = slog.LevelError
	}
	a.log.Log(r.Context(), level, "http: API error", "status", e.status, "method", r.Method,
		"path", r.URL.Path, "body", e.body, "err", e.internal)
	if e.allow != "" {
		w.Header().Set("Allow", e.allow)
	}
	if e.retryAfter != "" {
		w.Header().Set("Retry-After", e.retryAfter)
	}
	writeRaw(w, e.status, mustJSON(e.body))
}

// writeJSON writes v as a JSON answer, or a 500 if it cannot be encoded.
func writeJSON(w http.ResponseWriter, status int, v any) *apiError {
	b, err := encodeJSON(v)
	if err != nil {
		return errInternal(fmt.Errorf("encode answer: %w", err))
	}
	writeRaw(w, status, b)
	return nil
}

// writeRaw writes body, which must be JSON, with its headers.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body) // an error means the client left; nothing to do
}

// encodeJSON encodes v without HTML escaping (as Flask's jsonify does).
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// mustJSON encodes the package's own error bodies, which always encode.
func mustJSON(v any) []byte {
	b, err := encodeJSON(v)
	if err != nil {
		panic("node: error body does not encode: " + err.Error())
	}
	return b
}

// statusRecorder remembers the status written, for metrics and recovery.
// Unwrap lets http.ResponseController and the WebSocket upgrade reach the
// connection.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records and forwards the status.
func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and forwards p.
func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

// Unwrap returns the wrapped writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// code returns the status written (200 when the handler wrote nothing).
func (s *statusRecorder) code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// apiLinks is the v1 object of GET / and GET /api/v1 (keys sorted as
// Flask's jsonify sorts them).
type apiLinks struct {
	Assets       string `json:"assets"`
	Blocks       string `json:"blocks"`
	Docs         string `json:"docs"`
	Metadata     string `json:"metadata"`
	Outputs      string `json:"outputs"`
	Streams      string `json:"streams"`
	Transactions string `json:"transactions"`
	Validators   string `json:"validators"`
}

// links returns the v1 links with paths under prefix, as BigchainDB's
// get_api_v1_info does.
func (a *api) links(r *http.Request, prefix string) apiLinks {
	return apiLinks{
		Assets: prefix + "assets/", Blocks: prefix + "blocks/", Docs: apiDocsURL,
		Metadata: prefix + "metadata/", Outputs: prefix + "outputs/", Streams: a.streamURL(r),
		Transactions: prefix + "transactions/", Validators: prefix + "validators",
	}
}

// streamURL returns the advertised WebSocket URL.
func (a *api) streamURL(r *http.Request) string {
	if a.o.StreamURL != "" {
		return a.o.StreamURL
	}
	scheme := "ws://"
	if r.TLS != nil {
		scheme = "wss://"
	}
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	return scheme + host + streamPath
}

// getRoot serves GET /.
func (a *api) getRoot(w http.ResponseWriter, r *http.Request, _ string) *apiError {
	return writeJSON(w, http.StatusOK, struct {
		API      map[string]apiLinks `json:"api"`
		Docs     string              `json:"docs"`
		Software string              `json:"software"`
		Version  string              `json:"version"`
	}{map[string]apiLinks{"v1": a.links(r, "/api/v1/")}, docsURL, softwareName, a.o.Version})
}

// getIndex serves GET /api/v1.
func (a *api) getIndex(w http.ResponseWriter, r *http.Request, _ string) *apiError {
	return writeJSON(w, http.StatusOK, a.links(r, "/"))
}

// getStatus serves GET /api/v1/status.
func (a *api) getStatus(w http.ResponseWriter, _ *http.Request, _ string) *apiError {
	return writeJSON(w, http.StatusOK, a.b.Status())
}

// getHealth serves GET /healthz: 200 while the handler serves.
func (a *api) getHealth(w http.ResponseWriter, _ *http.Request, _ string) *apiError {
	return writeJSON(w, http.StatusOK, map[string]bool{"healthy": true})
}

// getReady serves GET /readyz: 200 when Status().Ready, else 503.
func (a *api) getReady(w http.ResponseWriter, _ *http.Request, _ string) *apiError {
	if !a.b.Status().Ready {
		return errUnavailable("Not ready", "")
	}
	return writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
}

// getMetrics serves GET /metrics with HandlerOptions.MetricsHandler.
func (a *api) getMetrics(w http.ResponseWriter, r *http.Request, _ string) *apiError {
	a.o.MetricsHandler.ServeHTTP(w, r)
	return nil
}
