package node

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Reasons of GatewayMetrics.GatewayRejected: a bounded set.
const (
	// RejectRate is a request over its IP's or API key's rate (429).
	RejectRate = "rate"
	// RejectConns is a connection over max_conns_per_ip (closed at once)
	// or a stream subscriber over max_ws_per_ip (429).
	RejectConns = "conns"
	// RejectKey is a request with malformed (400) or unknown (401) API
	// credentials.
	RejectKey = "key"
	// RejectSize is a request body over http.max_body_bytes (413).
	RejectSize = "size"
	// RejectQuota is a transaction over its issuer's quota (429
	// QuotaExceeded), counted by the node.
	RejectQuota = "quota"
)

// Names of the RateLimit policies: the client IP's bucket or its API key's.
const (
	policyIP  = "ip"
	policyKey = "key"
)

// Headers of limited answers (draft-ietf-httpapi-ratelimit-headers-10,
// https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/10/).
const (
	headerRateLimit       = "RateLimit"
	headerRateLimitPolicy = "RateLimit-Policy"
	headerRetryAfter      = "Retry-After"
	headerForwardedFor    = "X-Forwarded-For"
)

// maxForwardedHops bounds the X-Forwarded-For entries read: a chain of
// proxies longer than this is junk.
const maxForwardedHops = 16

// GatewayMetrics records the gateway's refusals; the node's Metrics
// implements it. Implementations must be safe for concurrent use.
type GatewayMetrics interface {
	// GatewayRejected counts one refusal; reason is one of the Reject*
	// constants.
	GatewayRejected(reason string)
}

// Gateway is the http.Handler in front of the API that keeps a public node
// up: a token bucket per client IP (ip_rate, ip_burst) and per API key of
// the keys file (key_rate, key_burst, or the key's own), which replaces
// the IP's bucket for requests that carry the key; 429 with Retry-After
// over a limit; the RateLimit and RateLimit-Policy headers on every answer
// a limit applies to; 400/401 for malformed or unknown credentials, before
// anything is applied; and a cap on event stream subscribers per IP.
// /healthz, /readyz and /metrics are exempt, so that monitoring works
// during a flood. It is safe for concurrent use.
type Gateway struct {
	next     http.Handler
	ips      *clientTable // nil: no per-IP limit
	ipRate   float64
	ipPolicy string
	keys     *keyRing // nil: no keys file; credentials are ignored
	proxies  []netip.Prefix
	wsPerIP  int
	streams  *perIPCount // stream subscribers per IP, up to wsPerIP
	metrics  GatewayMetrics
	now      func() time.Time
}

// NewGateway returns the gateway of c in front of next: it loads and checks
// c.KeysFile (errors name the entry). m may be nil. c must be valid
// (Config.Validate).
func NewGateway(next http.Handler, c GatewayConfig, m GatewayMetrics) (*Gateway, error) {
	var keys []APIKey
	if c.KeysFile != "" {
		var err error
		if keys, err = LoadAPIKeys(c.KeysFile); err != nil {
			return nil, fmt.Errorf("gateway.keys_file: %w", err)
		}
	}
	return newGateway(next, c, keys, m)
}

// newGateway is NewGateway with the keys given.
func newGateway(next http.Handler, c GatewayConfig, keys []APIKey, m GatewayMetrics) (*Gateway, error) {
	g := &Gateway{next: next, ipRate: c.IPRate, wsPerIP: c.MaxWSPerIP, metrics: m, now: time.Now, streams: newPerIPCount(c.MaxWSPerIP)}
	if c.IPRate > 0 {
		burst := burstOf(c.IPRate, c.IPBurst)
		g.ips = newClientTable(c.IPRate, burst, maxGatewayClients)
		g.ipPolicy = policyValue(policyIP, c.IPRate, burst)
	}
	if c.KeysFile != "" || keys != nil {
		if err := checkKeys(keys); err != nil {
			return nil, err
		}
		g.keys = newKeyRing(keys, c)
	}
	for i, s := range c.TrustedProxies {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("gateway.trusted_proxies[%d]: %w", i, err)
		}
		g.proxies = append(g.proxies, p)
	}
	return g, nil
}

// ServeHTTP applies the limits, then serves the request with the next
// handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if exemptPath(r.URL.Path) {
		g.next.ServeHTTP(w, r)
		return
	}
	addr := g.clientAddr(r)
	var key *keyBucket
	if g.keys != nil {
		var e *apiError
		if key, e = g.keys.authenticate(r.Header); e != nil {
			g.refuse(w, e, RejectKey)
			return
		}
	}
	if !g.admit(w, addr, key) {
		return
	}
	if g.wsPerIP > 0 && isStreamPath(r.URL.Path) && headerHasToken(r.Header, "Upgrade", "websocket") {
		if !g.streams.enter(addr) {
			g.refuse(w, errMessage(http.StatusTooManyRequests, fmt.Sprintf(
				"Too many event stream subscribers from %s: the limit is %d per IP; close one first", clientLabel(addr), g.wsPerIP)), RejectConns)
			return
		}
		defer g.streams.leave(addr)
	}
	g.next.ServeHTTP(w, r)
}

// admit spends a token of the request's bucket (its key's, else its IP's),
// writes the RateLimit headers, and answers 429 when none is left. It
// reports whether the request may go on.
func (g *Gateway) admit(w http.ResponseWriter, addr netip.Addr, key *keyBucket) bool {
	var v verdict
	var name, policy, who string
	var r float64
	switch {
	case key != nil && key.lim != nil:
		v, name, policy, who, r = key.take(g.now()), policyKey, key.policy, "app_id "+key.id, float64(key.lim.Limit())
	case key != nil:
		key.take(g.now()) // unlimited: counted for the top talkers only
		return true
	case g.ips != nil:
		v, name, policy, who, r = g.ips.take(addr, g.now()), policyIP, g.ipPolicy, clientLabel(addr), g.ipRate
	default:
		return true
	}
	h := w.Header()
	h.Set(headerRateLimitPolicy, policy)
	h.Set(headerRateLimit, limitValue(name, v))
	if v.ok {
		return true
	}
	g.refuseRate(w, who, r, max(1, ceilSeconds(v.wait)))
	return false
}

// refuseRate writes the 429 of a request over its rate. It is the flood's
// answer, so it is built without reflection; who (an IP or an app_id of
// checked characters) needs no JSON escaping.
func (g *Gateway) refuseRate(w http.ResponseWriter, who string, r float64, retry int64) {
	if g.metrics != nil {
		g.metrics.GatewayRejected(RejectRate)
	}
	b := make([]byte, 0, 128)
	b = append(b, `{"message":"Too many requests from `...)
	b = append(b, who...)
	b = append(b, ": limit "...)
	b = strconv.AppendFloat(b, r, 'f', -1, 64)
	b = append(b, " per second; retry after "...)
	b = strconv.AppendInt(b, retry, 10)
	b = append(b, ` s","status":429}`...)
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	h.Set(headerRetryAfter, strconv.FormatInt(retry, 10))
	writeRaw(w, http.StatusTooManyRequests, b)
}

// refuse writes a refusal with the API's CORS headers (so that browsers
// may read it) and counts it.
func (g *Gateway) refuse(w http.ResponseWriter, e *apiError, reason string) {
	if g.metrics != nil {
		g.metrics.GatewayRejected(reason)
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	if e.retryAfter != "" {
		h.Set(headerRetryAfter, e.retryAfter)
	}
	writeRaw(w, e.status, mustJSON(e.body))
}

// exemptPath reports whether path is exempt from the limits: the health,
// readiness and metrics endpoints, which monitoring polls.
func exemptPath(path string) bool {
	switch strings.TrimSuffix(path, "/") {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// isStreamPath reports whether path is one of the WebSocket streams.
func isStreamPath(path string) bool {
	p := strings.TrimSuffix(path, "/")
	return p == streamPath || p == electionStreamPath
}

// clientAddr returns the bucket key of the request's client: the remote
// address, or, when that is a trusted proxy, the right-most address of
// X-Forwarded-For that is not one.
func (g *Gateway) clientAddr(r *http.Request) netip.Addr {
	addr := remoteAddr(r.RemoteAddr)
	if len(g.proxies) == 0 || !g.trusted(addr) {
		return clientKey(addr)
	}
	hops := forwardedHops(r.Header.Values(headerForwardedFor))
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			break // junk: keep the last trusted hop
		}
		addr = a.Unmap()
		if !g.trusted(addr) {
			break
		}
	}
	return clientKey(addr)
}

// forwardedHops returns the X-Forwarded-For entries, at most
// maxForwardedHops of the right-most.
func forwardedHops(values []string) []string {
	var hops []string
	for _, v := range values {
		for h := range strings.SplitSeq(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	if len(hops) > maxForwardedHops {
		hops = hops[len(hops)-maxForwardedHops:]
	}
	return hops
}

// trusted reports whether a is a trusted proxy.
func (g *Gateway) trusted(a netip.Addr) bool {
	for _, p := range g.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// remoteAddr parses a host:port remote address; an unparsable one (a
// Unix socket, a test) is the unspecified address, one shared bucket.
func remoteAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap()
	}
	return netip.IPv4Unspecified()
}

// Clients returns how many client IPs have a bucket now.
func (g *Gateway) Clients() int {
	if g.ips == nil {
		return 0
	}
	return g.ips.len()
}

// TopTalkers returns at most n clients (IPs and API keys) with the most
// requests in the last minute, most first.
func (g *Gateway) TopTalkers(n int) []Talker {
	tt := &topTalkers{n: n}
	now := g.now()
	if g.ips != nil {
		g.ips.talkers(tt, now)
	}
	if g.keys != nil {
		for _, b := range g.keys.byID {
			b.mu.Lock()
			req := b.counts.lastMinute(now)
			b.mu.Unlock()
			tt.offer(func() string { return "key:" + b.id }, req)
		}
	}
	return tt.top
}
