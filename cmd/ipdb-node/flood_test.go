package main

import (
	"bufio"
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

// TestFloodHeldToLimit floods a real node whose per-IP limit is 100
// requests per second and checks the flood's accepted rate, beyond its
// burst, is within 5% of the limit (a property of the node's token bucket,
// not of this machine's speed).
func TestFloodHeldToLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("floods a node for 4 s")
	}
	dir := t.TempDir()
	mustRunCLI(t, "init", "--home", dir)
	mustRunCLI(t, "config", "--home", dir, "set", "gateway.ip_rate", "100")
	mustRunCLI(t, "config", "--home", dir, "set", "gateway.ip_burst", "100")
	n := startNode(t, dir)
	key, err := newKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cfg := floodConfig{API: n.api, Rate: 2000, Duration: 3 * time.Second, Baseline: time.Second, Conns: 16,
		Clients: 2, HonestRate: 5, Path: floodDefaultPath, Key: key, Progress: &out}
	res, err := runFlood(t.Context(), cfg)
	if err != nil {
		t.Fatalf("runFlood()=%v\n%s", err, out.String())
	}
	if res.Policy != `"ip";q=100;w=1` || res.Limit != 100 || res.Burst != 100 {
		t.Fatalf("policy %q, limit %v, burst %d; want \"ip\";q=100;w=1, 100 and 100\n%s", res.Policy, res.Limit, res.Burst, out.String())
	}
	if math.Abs(res.Deviation) > 0.05 || res.Limited == 0 || res.Failed != 0 || res.Other != 0 {
		t.Fatalf("flood %+v, want the accepted rate within 5%% of 100/s, some 429s and no failures\n%s", res, out.String())
	}
	if res.Unloaded.Failed != 0 || res.Loaded.Failed != 0 || res.Loaded.Requests == 0 {
		t.Fatalf("honest clients %+v / %+v, want every request accepted\n%s", res.Unloaded, res.Loaded, out.String())
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); lines[len(lines)-1] != res.Summary() {
		t.Fatalf("last line %q, want the summary %q", lines[len(lines)-1], res.Summary())
	}
}

func TestFloodConfigCheck(t *testing.T) {
	ok := floodConfig{API: "http://127.0.0.1:1", Rate: 1, Duration: time.Second, Baseline: time.Second, Conns: 1,
		Clients: 1, HonestRate: 1, Path: "/"}
	if err := ok.check(); err != nil {
		t.Fatalf("check()=%v, want nil", err)
	}
	tests := []struct {
		name   string
		modify func(c *floodConfig)
		want   string
	}{
		{"https", func(c *floodConfig) { c.API = "https://x:1" }, "plain HTTP/1.1"},
		{"rate", func(c *floodConfig) { c.Rate = math.NaN() }, "--rate"},
		{"duration", func(c *floodConfig) { c.Duration = 0 }, "--duration"},
		{"conns", func(c *floodConfig) { c.Conns = maxFloodConns + 1 }, "--conns"},
		{"clients", func(c *floodConfig) { c.Clients = 0 }, "--clients"},
		{"honest rate", func(c *floodConfig) { c.HonestRate = -1 }, "--honest-rate"},
		{"path", func(c *floodConfig) { c.Path = "/a b" }, "--path"},
		{"relative path", func(c *floodConfig) { c.Path = "a" }, "--path"},
		{"limit", func(c *floodConfig) { c.Limit = -1 }, "--limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.modify(&c)
			if err := c.check(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("check()=%v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		in   string
		q, w int
	}{
		{`"ip";q=20;w=2`, 20, 2}, {`"key";q=200;w=2, "other";q=1;w=9`, 200, 2}, {"", 0, 0}, {`"x";q=abc`, 0, 0},
	}
	for _, tt := range tests {
		if q, w := parsePolicy(tt.in); q != tt.q || w != tt.w {
			t.Fatalf("parsePolicy(%q)=%d, %d; want %d, %d", tt.in, q, w, tt.q, tt.w)
		}
	}
}

func TestReadHead(t *testing.T) {
	var c floodCounts
	in := "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 2\r\nRateLimit-Policy: \"ip\";q=1;w=1\r\n\r\n{}"
	code, n, closing, err := readHead(bufioReader(in), &c)
	if err != nil || code != 429 || n != 2 || closing || c.policy != `"ip";q=1;w=1` {
		t.Fatalf("readHead()=%d, %d, %v, %v, policy %q", code, n, closing, err, c.policy)
	}
	for _, bad := range []string{"HTTP/1.0 200 OK\r\n\r\n", "HTTP/1.1 2xx OK\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 9999999999\r\n\r\n", "HTTP/1.1 200"} {
		if _, _, _, err := readHead(bufioReader(bad), &c); err == nil {
			t.Fatalf("readHead(%q)=nil, want an error", bad)
		}
	}
}

func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }
