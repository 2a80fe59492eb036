package node

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// gwTestKey and gwTestKey2 are keys of the test keys file.
var (
	gwTestKey  = APIKey{AppID: "app1", AppKey: "0123456789abcdef0123456789abcdef", Name: "test"}
	gwTestKey2 = APIKey{AppID: "app2", AppKey: "fedcba9876543210fedcba9876543210", Rate: 1, Burst: 1}
)

// gwFixture is a gateway over a handler that answers 200 (404 on
// /missing), with a settable clock and counted refusals.
type gwFixture struct {
	g      *Gateway
	clock  time.Time
	served int
	mu     sync.Mutex
	counts map[string]int
}

// GatewayRejected implements GatewayMetrics.
func (f *gwFixture) GatewayRejected(reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[reason]++
}

// count returns the refusals counted for reason.
func (f *gwFixture) count(reason string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[reason]
}

func newGWFixture(t *testing.T, c GatewayConfig, keys []APIKey) *gwFixture {
	t.Helper()
	f := &gwFixture{clock: time.Unix(1_700_000_000, 0), counts: map[string]int{}}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.served++
		if r.URL.Path == "/missing" {
			writeRaw(w, http.StatusNotFound, []byte(`{"message": "Not found", "status": 404}`))
			return
		}
		writeRaw(w, http.StatusOK, []byte(`{}`))
	})
	g, err := newGateway(next, c, keys, f)
	if err != nil {
		t.Fatalf("newGateway()=%v", err)
	}
	g.now = func() time.Time { return f.clock }
	f.g = g
	return f
}

// do serves a GET of path from remote with header name, value pairs.
func (f *gwFixture) do(path, remote string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	f.g.ServeHTTP(w, r)
	return w
}

type gwWant struct {
	code                      int
	limit, policy, retryAfter string
	body                      string
}

func checkGW(t *testing.T, w *httptest.ResponseRecorder, want gwWant) {
	t.Helper()
	h := w.Header()
	got := gwWant{code: w.Code, limit: h.Get(headerRateLimit), policy: h.Get(headerRateLimitPolicy), retryAfter: h.Get(headerRetryAfter)}
	if want.body != "" {
		got.body = w.Body.String()
	}
	if got != want {
		t.Fatalf("answer=%+v, want %+v", got, want)
	}
}

func TestGatewayIPLimit(t *testing.T) {
	f := newGWFixture(t, GatewayConfig{IPRate: 10, IPBurst: 3}, nil)
	const a, b = "192.0.2.1:1000", "192.0.2.2:1000"
	policy := `"ip";q=3;w=1`
	steps := []struct {
		name    string
		advance time.Duration
		remote  string
		path    string
		want    gwWant
	}{
		{"first", 0, a, "/api/v1/", gwWant{code: 200, limit: `"ip";r=2;t=1`, policy: policy}},
		{"second", 0, a, "/api/v1/", gwWant{code: 200, limit: `"ip";r=1;t=1`, policy: policy}},
		{"third on a 404", 0, a, "/missing", gwWant{code: 404, limit: `"ip";r=0;t=1`, policy: policy}},
		{"over", 0, a, "/api/v1/", gwWant{code: 429, limit: `"ip";r=0;t=1`, policy: policy, retryAfter: "1",
			body: `{"message":"Too many requests from 192.0.2.1: limit 10 per second; retry after 1 s","status":429}`}},
		{"other client", 0, b, "/api/v1/", gwWant{code: 200, limit: `"ip";r=2;t=1`, policy: policy}},
		{"same client other port", 0, "192.0.2.1:2000", "/", gwWant{code: 429, limit: `"ip";r=0;t=1`, policy: policy, retryAfter: "1"}},
		{"a token later", 100 * time.Millisecond, a, "/api/v1/", gwWant{code: 200, limit: `"ip";r=0;t=1`, policy: policy}},
		{"exempt healthz", 0, a, "/healthz", gwWant{code: 200}},
		{"exempt readyz slash", 0, a, "/readyz/", gwWant{code: 200}},
		{"exempt metrics", 0, a, "/metrics", gwWant{code: 200}},
		{"refilled", time.Second, a, "/api/v1/", gwWant{code: 200, limit: `"ip";r=2;t=1`, policy: policy}},
	}
	for _, s := range steps {
		f.clock = f.clock.Add(s.advance)
		t.Run(s.name, func(t *testing.T) { checkGW(t, f.do(s.path, s.remote), s.want) })
	}
	if f.counts[RejectRate] != 2 {
		t.Fatalf("rejected rate=%d, want 2", f.counts[RejectRate])
	}
}

func TestGatewayOffPassesEverything(t *testing.T) {
	f := newGWFixture(t, GatewayConfig{}, nil)
	for range 100 {
		checkGW(t, f.do("/api/v1/", "192.0.2.1:1", "app_id", "junk\x01"), gwWant{code: 200})
	}
}

func TestGatewayIPv6GroupedBy64(t *testing.T) {
	f := newGWFixture(t, GatewayConfig{IPRate: 1, IPBurst: 1}, nil)
	checkGW(t, f.do("/", "[2001:db8:1:2::1]:1"), gwWant{code: 200, limit: `"ip";r=0;t=1`, policy: `"ip";q=1;w=1`})
	w := f.do("/", "[2001:db8:1:2:ffff::9]:1")
	if w.Code != 429 || !strings.Contains(w.Body.String(), "from 2001:db8:1:2::/64:") {
		t.Fatalf("same /64: %d %s, want 429 naming the /64", w.Code, w.Body)
	}
	checkGW(t, f.do("/", "[2001:db8:1:3::1]:1"), gwWant{code: 200, limit: `"ip";r=0;t=1`, policy: `"ip";q=1;w=1`})
}

func TestGatewayCredentials(t *testing.T) {
	long := strings.Repeat("k", maxAppKeyBytes+1)
	tests := []struct {
		name string
		hdr  []string
		code int
		msg  string
	}{
		{"none", nil, 200, ""},
		{"app headers", []string{"app_id", "app1", "app_key", gwTestKey.AppKey}, 200, ""},
		{"bearer", []string{"Authorization", "Bearer " + gwTestKey.AppKey}, 200, ""},
		{"bearer lowercase scheme", []string{"Authorization", "bearer " + gwTestKey.AppKey}, 200, ""},
		{"both agreeing", []string{"app_id", "app1", "app_key", gwTestKey.AppKey, "Authorization", "Bearer " + gwTestKey.AppKey}, 200, ""},
		{"basic auth ignored", []string{"Authorization", "Basic dXNlcjpwYXNz"}, 200, ""},
		{"unknown app_id", []string{"app_id", "nope", "app_key", gwTestKey.AppKey}, 401, `Unknown API key: app_id \"nope\" with this app_key`},
		{"wrong app_key", []string{"app_id", "app1", "app_key", gwTestKey2.AppKey}, 401, `Unknown API key: app_id \"app1\" with this app_key`},
		{"unknown bearer", []string{"Authorization", "Bearer " + strings.Repeat("z", 32)}, 401, "Unknown API key: the Bearer token matches no app_key"},
		{"app_id alone", []string{"app_id", "app1"}, 400, "Malformed API credentials: app_id without app_key"},
		{"app_key alone", []string{"app_key", gwTestKey.AppKey}, 400, "Malformed API credentials: app_key without app_id"},
		{"two app_ids", []string{"app_id", "app1", "app_id", "app2", "app_key", gwTestKey.AppKey}, 400, "more than one app_id"},
		{"empty bearer", []string{"Authorization", "Bearer "}, 400, "the Bearer token: app_key must be 16 to 256"},
		{"long key", []string{"app_id", "app1", "app_key", long}, 400, "app_key must be 16 to 256"},
		{"short key", []string{"app_id", "app1", "app_key", "short"}, 400, "app_key must be 16 to 256"},
		{"long app_id", []string{"app_id", strings.Repeat("a", 65), "app_key", gwTestKey.AppKey}, 400, "app_id must be 1 to 64"},
		{"non-printable app_id", []string{"app_id", "app\x7f1", "app_key", gwTestKey.AppKey}, 400, "app_id must be 1 to 64"},
		{"space in key", []string{"app_id", "app1", "app_key", "0123456789 abcdef0123"}, 400, "app_key must be"},
		{"conflict", []string{"app_id", "app1", "app_key", gwTestKey.AppKey, "Authorization", "Bearer " + gwTestKey2.AppKey}, 400, "app_key and the Bearer token differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newGWFixture(t, GatewayConfig{IPRate: 1, IPBurst: 1, KeyRate: 100, KeyBurst: 5}, []APIKey{gwTestKey, gwTestKey2})
			w := f.do("/api/v1/", "192.0.2.1:1", tt.hdr...)
			if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.msg) {
				t.Fatalf("answer=%d %s, want %d containing %q", w.Code, w.Body, tt.code, tt.msg)
			}
			if tt.code != 200 {
				// Nothing applied: the handler did not run, the IP's bucket is untouched.
				if f.served != 0 || w.Header().Get(headerRateLimit) != "" || f.counts[RejectKey] != 1 {
					t.Fatalf("refused: served %d, RateLimit %q, rejected key %d; want 0, none, 1", f.served, w.Header().Get(headerRateLimit), f.counts[RejectKey])
				}
				checkGW(t, f.do("/", "192.0.2.1:1"), gwWant{code: 200, limit: `"ip";r=0;t=1`, policy: `"ip";q=1;w=1`})
			}
		})
	}
}

func TestGatewayKeyReplacesIPBucket(t *testing.T) {
	f := newGWFixture(t, GatewayConfig{IPRate: 1, IPBurst: 1, KeyRate: 100, KeyBurst: 3}, []APIKey{gwTestKey, gwTestKey2})
	key1 := []string{"app_id", "app1", "app_key", gwTestKey.AppKey}
	checkGW(t, f.do("/", "192.0.2.1:1"), gwWant{code: 200, limit: `"ip";r=0;t=1`, policy: `"ip";q=1;w=1`})
	checkGW(t, f.do("/", "192.0.2.1:1"), gwWant{code: 429, limit: `"ip";r=0;t=1`, policy: `"ip";q=1;w=1`, retryAfter: "1"})
	for i, r := range []string{"2", "1", "0"} {
		t.Run(fmt.Sprint("key request ", i), func(t *testing.T) {
			checkGW(t, f.do("/", "192.0.2.1:1", key1...), gwWant{code: 200, limit: `"key";r=` + r + `;t=1`, policy: `"key";q=3;w=1`})
		})
	}
	checkGW(t, f.do("/", "198.51.100.7:1", key1...), gwWant{code: 429, limit: `"key";r=0;t=1`, policy: `"key";q=3;w=1`, retryAfter: "1",
		body: `{"message":"Too many requests from app_id app1: limit 100 per second; retry after 1 s","status":429}`})
	// app2 has its own rate of 1 per second, burst 1.
	key2 := []string{"Authorization", "Bearer " + gwTestKey2.AppKey}
	checkGW(t, f.do("/", "192.0.2.1:1", key2...), gwWant{code: 200, limit: `"key";r=0;t=1`, policy: `"key";q=1;w=1`})
	checkGW(t, f.do("/", "192.0.2.1:1", key2...), gwWant{code: 429, limit: `"key";r=0;t=1`, policy: `"key";q=1;w=1`, retryAfter: "1"})
}

func TestGatewayNoKeysIgnoresCredentials(t *testing.T) {
	f := newGWFixture(t, GatewayConfig{IPRate: 5, IPBurst: 5}, nil)
	checkGW(t, f.do("/", "192.0.2.1:1", "app_id", "whatever", "Authorization", "Bearer x"), gwWant{code: 200, limit: `"ip";r=4;t=1`, policy: `"ip";q=5;w=1`})
}

func TestGatewayRetryAfterRoundsUp(t *testing.T) {
	f := newGWFixture(t, GatewayConfig{IPRate: 0.25, IPBurst: 1}, nil)
	checkGW(t, f.do("/", "192.0.2.1:1"), gwWant{code: 200, limit: `"ip";r=0;t=4`, policy: `"ip";q=1;w=4`})
	f.clock = f.clock.Add(1500 * time.Millisecond)
	w := f.do("/", "192.0.2.1:1")
	checkGW(t, w, gwWant{code: 429, limit: `"ip";r=0;t=3`, policy: `"ip";q=1;w=4`, retryAfter: "3",
		body: `{"message":"Too many requests from 192.0.2.1: limit 0.25 per second; retry after 3 s","status":429}`})
}

func TestGatewayTrustedProxies(t *testing.T) {
	c := GatewayConfig{IPRate: 1, IPBurst: 1, TrustedProxies: []string{"10.0.0.0/8", "192.0.2.9"}}
	tests := []struct {
		name, remote, xff, want string
	}{
		{"untrusted remote ignores the header", "198.51.100.1:1", "203.0.113.5", "198.51.100.1"},
		{"trusted proxy", "10.1.2.3:1", "203.0.113.5", "203.0.113.5"},
		{"chain of proxies", "192.0.2.9:1", "203.0.113.5, 10.9.9.9", "203.0.113.5"},
		{"spoofed left entries", "10.1.2.3:1", "1.1.1.1, 203.0.113.5", "203.0.113.5"},
		{"junk header", "10.1.2.3:1", "not-an-ip", "10.1.2.3"},
		{"no header", "10.1.2.3:1", "", "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newGWFixture(t, c, nil)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set(headerForwardedFor, tt.xff)
			}
			if got := clientLabel(f.g.clientAddr(r)); got != tt.want {
				t.Fatalf("clientAddr()=%s, want %s", got, tt.want)
			}
		})
	}
}

func TestGatewayEvictionBoundsMemory(t *testing.T) {
	f := newGWFixture(t, GatewayConfig{IPRate: 10, IPBurst: 10}, nil)
	const n = 200_000
	for i := range n {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if v := f.g.ips.take(a, f.clock); !v.ok {
			t.Fatalf("take(%v)=%+v, want a new client allowed", a, v)
		}
	}
	if got := f.g.Clients(); got > maxGatewayClients || got < maxGatewayClients-gatewayShards {
		t.Fatalf("Clients()=%d after %d distinct IPs, want about %d and at most that", got, n, maxGatewayClients)
	}
	// Once their buckets are full again, idle clients make way for new ones.
	f.clock = f.clock.Add(2 * time.Second)
	for i := range 1000 {
		f.g.ips.take(netip.AddrFrom4([4]byte{11, 0, byte(i >> 8), byte(i)}), f.clock)
	}
	if got := f.g.Clients(); got > maxGatewayClients-1000 {
		t.Fatalf("Clients()=%d, want idle clients freed (at most %d)", got, maxGatewayClients-1000)
	}
}

func TestGatewayStreamPerIP(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	})
	m := &gwFixture{counts: map[string]int{}}
	g, err := newGateway(next, GatewayConfig{MaxWSPerIP: 1}, nil, m)
	if err != nil {
		t.Fatal(err)
	}
	upgrade := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, streamPath, nil)
		r.RemoteAddr = "192.0.2.1:5"
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Upgrade", "websocket")
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		return w
	}
	done := make(chan struct{})
	go func() { upgrade(); close(done) }()
	<-entered
	w := upgrade()
	if w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), "Too many event stream subscribers from 192.0.2.1: the limit is 1 per IP") {
		t.Fatalf("second subscriber: %d %s, want 429", w.Code, w.Body)
	}
	close(release)
	<-done
	go func() { <-entered }()
	if w := upgrade(); w.Code != 200 || m.counts[RejectConns] != 1 {
		t.Fatalf("after the first left: %d, rejected conns %d; want 200 and 1", w.Code, m.counts[RejectConns])
	}
}

func TestGatewayTopTalkers(t *testing.T) {
	f := newGWFixture(t, GatewayConfig{IPRate: 1000, IPBurst: 1000, KeyRate: 1000}, []APIKey{gwTestKey})
	for i := range 20 {
		for range i + 1 {
			f.do("/", fmt.Sprintf("192.0.2.%d:1", i))
		}
	}
	for range 50 {
		f.do("/", "192.0.2.200:1", "app_id", "app1", "app_key", gwTestKey.AppKey)
	}
	top := f.g.TopTalkers(3)
	want := []Talker{{"key:app1", 50}, {"192.0.2.19", 20}, {"192.0.2.18", 19}}
	if fmt.Sprint(top) != fmt.Sprint(want) {
		t.Fatalf("TopTalkers(3)=%v, want %v", top, want)
	}
	// Two minutes later nothing is left.
	f.clock = f.clock.Add(2 * time.Minute)
	if top := f.g.TopTalkers(3); len(top) != 0 {
		t.Fatalf("TopTalkers(3) two minutes later=%v, want none", top)
	}
}

func TestMinuteCounts(t *testing.T) {
	var m minuteCounts
	t0 := time.Unix(600, 0) // the start of a minute
	for range 60 {
		m.add(t0)
	}
	m.add(t0.Add(time.Minute)) // the next minute
	tests := []struct {
		at   time.Duration
		want float64
	}{
		{time.Minute, 61}, {90 * time.Second, 31}, {2 * time.Minute, 1}, {3 * time.Minute, 0},
	}
	for _, tt := range tests {
		if got := m.lastMinute(t0.Add(tt.at)); got != tt.want {
			t.Fatalf("lastMinute(+%v)=%v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestPolicyValue(t *testing.T) {
	tests := []struct {
		r    float64
		b    int
		want string
	}{
		{10, 20, `"ip";q=20;w=2`}, {100, 100, `"ip";q=100;w=1`}, {1000, 1, `"ip";q=1;w=1`}, {0.5, 1, `"ip";q=1;w=2`}, {3, 10, `"ip";q=10;w=4`},
	}
	for _, tt := range tests {
		if got := policyValue(policyIP, tt.r, tt.b); got != tt.want {
			t.Fatalf("policyValue(%v, %d)=%s, want %s", tt.r, tt.b, got, tt.want)
		}
	}
}

func BenchmarkGatewayTake(b *testing.B) {
	t := newClientTable(1e6, 1e6, maxGatewayClients)
	a := netip.MustParseAddr("192.0.2.1")
	now := time.Now()
	for b.Loop() {
		t.take(a, now)
	}
}

// BenchmarkGatewayManyClients reports the bytes a tracked client costs.
func BenchmarkGatewayManyClients(b *testing.B) {
	now := time.Now()
	for b.Loop() {
		t := newClientTable(10, 20, maxGatewayClients)
		for i := range maxGatewayClients {
			t.take(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), now)
		}
	}
	b.ReportMetric(0, "ns/op")
}
