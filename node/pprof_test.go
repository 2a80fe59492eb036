package node

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPprofServer checks that profiles are served on their own address
// when configured, not on the API address, and not at all by default.
func TestPprofServer(t *testing.T) {
	o := testOptions(t)
	o.Config.Metrics.PprofAddr = "127.0.0.1:0"
	n := newTestNode(t, o)
	stop := runNode(t, n)
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://" + n.PprofAddr() + "/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Fatalf("GET pprof index=%d %.80q, want 200 listing profiles", code, body)
	}
	if code, _ := get("http://" + n.HTTPAddr() + "/debug/pprof/"); code != http.StatusNotFound {
		t.Fatalf("GET pprof on the API address=%d, want 404", code)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run()=%v", err)
	}
	if d := newTestNode(t, testOptions(t)); d.PprofAddr() != "" {
		t.Fatalf("PprofAddr()=%q by default, want none", d.PprofAddr())
	}
}

// TestPprofAddrValidated checks that a bad pprof_addr names the key.
func TestPprofAddrValidated(t *testing.T) {
	c := DefaultConfig()
	c.Metrics.PprofAddr = "localhost"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "metrics.pprof_addr") {
		t.Fatalf("Validate()=%v, want an error naming metrics.pprof_addr", err)
	}
}
