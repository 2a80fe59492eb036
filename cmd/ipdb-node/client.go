package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ipdb/ipdb-node/node"
)

// Limits of the API client.
const (
	// maxAPIResponseBytes bounds an API answer the CLI reads: a transaction
	// is at most ledger.MaxTxBytes, a status a few KiB with 100 caretakers.
	maxAPIResponseBytes = 1 << 20
	// apiTimeout bounds one API call; it exceeds the node's default
	// commit_wait (node.DefaultCommitWait), so a mode=commit POST gets its
	// answer.
	apiTimeout = node.DefaultCommitWait + 15*time.Second
	// maxAPIURLBytes bounds an --api URL.
	maxAPIURLBytes = 2048
	// apiPrefix is the path of BigchainDB's HTTP API v1.
	apiPrefix = "/api/v1"
	// streamSuffix is the event stream's path under apiPrefix.
	streamSuffix = "/streams/valid_transactions"
)

// defaultAPI is the API address used when neither --api nor a home config
// gives one: the default [http] addr.
const defaultAPI = "http://" + node.DefaultHTTPAddr

// apiURL returns the base URL (scheme://host[:port], no path) of the API the
// command talks to: flag if given, else the [http] addr of the home's
// config.toml if there is one, else defaultAPI.
func (a *app) apiURL(flag string) (string, error) {
	if flag != "" {
		return normalizeAPIURL(flag)
	}
	dir, err := a.homeDir()
	if err != nil {
		return defaultAPI, nil
	}
	h := home{dir}
	if _, err := os.Stat(h.path(configFile)); err != nil {
		return defaultAPI, nil
	}
	cfg, err := h.loadConfig()
	if err != nil {
		return "", fmt.Errorf("finding the API (or give --api): %w", err)
	}
	return apiURLOfAddr(cfg.HTTP.Addr), nil
}

// apiURLOfAddr turns a listen address into a URL to reach it: an
// unspecified host (0.0.0.0, ::, "") becomes loopback, and port 0 (a port
// picked at start) the default port.
func apiURLOfAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "0" {
		return defaultAPI
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// normalizeAPIURL accepts http[s]://host[:port] with an optional /api/v1
// path (or host:port alone) and returns scheme://host[:port].
func normalizeAPIURL(s string) (string, error) {
	if len(s) > maxAPIURLBytes {
		return "", fmt.Errorf("--api: URL of %d bytes, over the limit of %d", len(s), maxAPIURLBytes)
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("--api %q: %w", s, err)
	}
	path := strings.TrimSuffix(strings.TrimRight(u.Path, "/"), apiPrefix)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || path != "" || u.RawQuery != "" {
		return "", fmt.Errorf("--api %q: want http://HOST:PORT or https://HOST:PORT, optionally ending in %s", s, apiPrefix)
	}
	return u.Scheme + "://" + u.Host, nil
}

// streamURLOf returns the event stream URL of an API base URL.
func streamURLOf(base string) string {
	if rest, ok := strings.CutPrefix(base, "https://"); ok {
		return "wss://" + rest + apiPrefix + streamSuffix
	}
	return "ws://" + strings.TrimPrefix(base, "http://") + apiPrefix + streamSuffix
}

// apiClient calls one node's HTTP API. It is safe for concurrent use.
type apiClient struct {
	base string
	hc   *http.Client
}

// newAPIClient returns a client of the API at base (see normalizeAPIURL).
func newAPIClient(base string) *apiClient {
	return &apiClient{base: base, hc: &http.Client{Timeout: apiTimeout}}
}

// apiError is a non-2xx answer of the API.
type apiError struct {
	method, url string
	status      int
	message     string // BigchainDB's "message", or the start of the body
}

// Error returns "METHOD URL: STATUS: message".
func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.method, e.url, e.status, http.StatusText(e.status), e.message)
}

// get GETs path (under the base URL) and returns the body of a 2xx answer.
func (c *apiClient) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", c.base+path, err)
	}
	return c.do(req)
}

// postTx POSTs a transaction with mode and returns the body of a 2xx answer.
func (c *apiClient) postTx(ctx context.Context, tx []byte, mode string) ([]byte, error) {
	u := c.base + apiPrefix + "/transactions?mode=" + url.QueryEscape(mode)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(tx))
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", u, err)
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req)
}

// do sends req and reads its answer, at most maxAPIResponseBytes.
func (c *apiClient) do(req *http.Request) ([]byte, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, fmt.Errorf("%s %s: %w; is the node running (ipdb-node start), and is --api right?", req.Method, req.URL, err)
		}
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", req.Method, req.URL, err)
	}
	if len(body) > maxAPIResponseBytes {
		return nil, fmt.Errorf("%s %s: answer over the limit of %d bytes", req.Method, req.URL, maxAPIResponseBytes)
	}
	if resp.StatusCode/100 != 2 {
		return nil, &apiError{method: req.Method, url: req.URL.String(), status: resp.StatusCode, message: errorMessage(body)}
	}
	return body, nil
}

// maxErrorEcho bounds how much of a non-JSON error body is quoted.
const maxErrorEcho = 200

// errorMessage returns the "message" of a BigchainDB error body (a string,
// or an object of parameter messages), else the body's start.
func errorMessage(body []byte) string {
	var e struct {
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && len(e.Message) > 0 {
		var s string
		if json.Unmarshal(e.Message, &s) == nil {
			return s
		}
		return string(e.Message)
	}
	s := strings.TrimSpace(string(body))
	if len(s) > maxErrorEcho {
		s = s[:maxErrorEcho] + "..."
	}
	return s
}
