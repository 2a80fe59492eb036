package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// postServer is an API stub answering POSTs with handle, counting the
// connections it accepted.
func postServer(t *testing.T, handle http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(handle)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// echo answers 202 with the request's body, after checking the request is
// the bench's POST.
func echo(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.RequestURI() != postPath || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s %s (Content-Type %q), want POST %s as JSON", r.Method, r.URL.RequestURI(), r.Header.Get("Content-Type"), postPath)
		}
		w.WriteHeader(http.StatusAccepted)
		w.Write(body)
	}
}

func TestPosterKeepsOneConnectionPerAPI(t *testing.T) {
	srv1, conns1 := postServer(t, echo(t))
	srv2, conns2 := postServer(t, echo(t))
	p := newPoster(t.Context(), []string{srv1.URL, srv2.URL}, nil)
	defer p.close()
	for i := range 10 {
		body := []byte(strings.Repeat("x", i*100))
		a, err := p.post(i%2, body)
		if err != nil || a.status != http.StatusAccepted || !bytes.Equal(a.body, body) || a.retry != 0 {
			t.Fatalf("post %d = %+v %v, want 202 and the body echoed", i, a, err)
		}
	}
	if conns1.Load() != 1 || conns2.Load() != 1 {
		t.Fatalf("connections %d and %d, want one per API", conns1.Load(), conns2.Load())
	}
}

func TestPosterConnectionClose(t *testing.T) {
	srv, conns := postServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"message":"Backlog full","status":503}`)
	})
	p := newPoster(t.Context(), []string{srv.URL}, nil)
	defer p.close()
	for i := range 3 {
		a, err := p.post(0, []byte("{}"))
		if err != nil || a.status != http.StatusServiceUnavailable || errorMessage(a.body) != "Backlog full" || a.retry != 2*time.Second {
			t.Fatalf("post %d = %+v %v, want the 503, its message and Retry-After 2 s", i, a, err)
		}
	}
	if conns.Load() != 3 {
		t.Fatalf("connections %d, want a new one after each answer saying close", conns.Load())
	}
}

// TestPosterRetriesStaleConnection: a kept-alive connection the server
// closed while idle fails before any answer; the POST goes again, once,
// on a new connection.
func TestPosterRetriesStaleConnection(t *testing.T) {
	srv, conns := postServer(t, echo(t))
	p := newPoster(t.Context(), []string{srv.URL}, nil)
	defer p.close()
	if _, err := p.post(0, []byte("1")); err != nil {
		t.Fatal(err)
	}
	srv.CloseClientConnections()
	a, err := p.post(0, []byte("2"))
	if err != nil || a.status != http.StatusAccepted || string(a.body) != "2" {
		t.Fatalf("post after the server closed the connection = %+v %v, want 202 on a new one", a, err)
	}
	if conns.Load() != 2 {
		t.Fatalf("connections %d, want 2", conns.Load())
	}
}

// TestPosterNoRetryOnNewConnection: a new connection that fails is an error,
// not sent again.
func TestPosterNoRetryOnNewConnection(t *testing.T) {
	var calls atomic.Int64
	srv, _ := postServer(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			c.Close()
		}
	})
	p := newPoster(t.Context(), []string{srv.URL}, nil)
	defer p.close()
	if _, err := p.post(0, []byte("{}")); err == nil {
		t.Fatal("post to a server that closes without answering succeeded")
	}
	if calls.Load() != 1 {
		t.Fatalf("the server got %d requests, want 1", calls.Load())
	}
}

func TestPosterAnswerTooLarge(t *testing.T) {
	srv, conns := postServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("mode") == modeAsync && r.ContentLength == 3 {
			w.Write(bytes.Repeat([]byte("a"), maxAPIResponseBytes+1))
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	p := newPoster(t.Context(), []string{srv.URL}, nil)
	defer p.close()
	if _, err := p.post(0, []byte("big")); err == nil || !strings.Contains(err.Error(), "answer over") {
		t.Fatalf("post with an answer over the limit: err %v, want it named", err)
	}
	if a, err := p.post(0, []byte("{}")); err != nil || a.status != http.StatusAccepted {
		t.Fatalf("post after a too large answer = %+v %v, want 202", a, err)
	}
	if conns.Load() != 2 {
		t.Fatalf("connections %d, want the one out of step replaced", conns.Load())
	}
}

func TestPosterContextEndsRoundTrip(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	srv, _ := postServer(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	})
	ctx, cancel := context.WithCancel(t.Context())
	p := newPoster(ctx, []string{srv.URL}, nil)
	defer p.close()
	done := make(chan error, 1)
	go func() {
		_, err := p.post(0, []byte("{}"))
		done <- err
	}()
	<-started
	cancel()
	if err := <-done; err == nil {
		t.Fatal("post returned no error after its context ended")
	}
	if _, err := p.post(0, []byte("{}")); err == nil {
		t.Fatal("post on an ended context succeeded")
	}
}

func TestPosterHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(echo(t))
	defer srv.Close()
	p := newPoster(t.Context(), []string{srv.URL}, srv.Client())
	defer p.close()
	a, err := p.post(0, []byte(`{"a":1}`))
	if err != nil || a.status != http.StatusAccepted || string(a.body) != `{"a":1}` {
		t.Fatalf("post over https = %+v %v, want 202 and the body echoed", a, err)
	}
}

func TestPosterUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p := newPoster(t.Context(), []string{"http://" + addr}, nil)
	defer p.close()
	if _, err := p.post(0, []byte("{}")); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("post to a closed port: err %v, want the connection refused", err)
	}
}

func TestAppendPostRequest(t *testing.T) {
	body := []byte(`{"id":null}`)
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(appendPostRequest(nil, "127.0.0.1:9984", body))))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(req.Body)
	if req.Method != http.MethodPost || req.RequestURI != postPath || req.Host != "127.0.0.1:9984" ||
		req.Header.Get("Content-Type") != "application/json" || req.ContentLength != int64(len(body)) || !bytes.Equal(got, body) {
		t.Fatalf("request %s %s host %q %v, body %q", req.Method, req.RequestURI, req.Host, req.Header, got)
	}
}

func TestNewPosterTargets(t *testing.T) {
	p := newPoster(t.Context(), []string{"http://h:1", "http://h", "http://[::1]", "https://h:2"}, nil)
	want := []postTarget{
		{base: "http://h:1", addr: "h:1", host: "h:1"},
		{base: "http://h", addr: "h:80", host: "h"},
		{base: "http://[::1]", addr: "[::1]:80", host: "[::1]"},
		{base: "https://h:2"},
	}
	for i, w := range want {
		if p.targets[i] != w {
			t.Fatalf("target %d = %+v, want %+v", i, p.targets[i], w)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0}, {"1", time.Second}, {"30", 30 * time.Second}, {"3600", maxRetryAfter},
		{"0", 0}, {"-1", 0}, {"1.5", 0}, {"Wed, 21 Oct 2026 07:28:00 GMT", 0}, {"99999999999999999999", 0},
	} {
		h := http.Header{}
		if tc.v != "" {
			h.Set("Retry-After", tc.v)
		}
		if got := retryAfter(h); got != tc.want {
			t.Fatalf("retryAfter(%q)=%v, want %v", tc.v, got, tc.want)
		}
	}
}

// TestBenchBackoff: with --backoff a worker refused with Retry-After waits
// that long (until the offering ends), and only then.
func TestBenchBackoff(t *testing.T) {
	var retry atomic.Bool
	srv, _ := postServer(t, func(w http.ResponseWriter, r *http.Request) {
		if retry.Load() {
			w.Header().Set("Retry-After", "7")
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"message":"Backlog full","status":503}`)
	})
	for _, tc := range []struct {
		backoff, retry bool
		want           []time.Duration
	}{
		{true, true, []time.Duration{7 * time.Second}},
		{false, true, nil},
		{true, false, nil},
	} {
		retry.Store(tc.retry)
		r := newBenchRun(benchConfig{APIs: []string{srv.URL}, Backoff: tc.backoff}, []benchTx{{id: "a", body: []byte("{}")}})
		var waited []time.Duration
		r.backoff = func(_ context.Context, d time.Duration) { waited = append(waited, d) }
		p := newPoster(t.Context(), r.cfg.APIs, nil)
		r.post(t.Context(), p, 0)
		p.close()
		if r.refused.Load() != 1 || len(waited) != len(tc.want) || len(waited) == 1 && waited[0] != tc.want[0] {
			t.Fatalf("backoff %v, Retry-After %v: refused %d, waited %v; want 1 refused, waits %v",
				tc.backoff, tc.retry, r.refused.Load(), waited, tc.want)
		}
	}
}

func TestSleepCtxEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	sleepCtx(ctx, time.Hour) // returns at once: the context is done
}
