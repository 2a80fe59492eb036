package node

import (
	"bytes"
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"strconv"
	"text/template"
	"unicode/utf8"
)

// Bounds of the gateway table, each with the reason for it.
const (
	// maxGatewayRate bounds gateway.ip_rate and key_rate (requests per
	// second): far above what one node answers, so a larger value is a typo.
	maxGatewayRate = 1_000_000
	// maxGatewayBurst bounds gateway.ip_burst and key_burst, for the same reason.
	maxGatewayBurst = 1_000_000
	// maxConnsPerIP bounds gateway.max_conns_per_ip: a NAT of a large
	// office, well under the file descriptors of one process.
	maxConnsPerIP = 100_000
	// maxKeysFilePathBytes bounds gateway.keys_file: PATH_MAX on Linux.
	maxKeysFilePathBytes = 4096
	// maxTrustedProxies bounds gateway.trusted_proxies: a few load
	// balancer subnets.
	maxTrustedProxies = 64
)

// Public gateway limits: IPDB's gateway in front of BigchainDB allowed 10
// requests per second per IP (PublicGatewayLimits).
const (
	publicIPRate           = 10
	publicIPBurst          = 20
	publicKeyRate          = 100
	publicKeyBurst         = 200
	publicMaxConnsPerIP    = 32
	publicMaxWSSubscribers = 1000
	publicMaxWSPerIP       = 10
)

// GatewayConfig is the gateway table of the TOML file: per-client limits
// that keep a public node up. Every zero value turns its limit off; the
// defaults are all zero (a development node has no limits).
type GatewayConfig struct {
	// IPRate is the requests per second each client IP may make (IPv6
	// addresses are grouped by /64); 0 is unlimited.
	IPRate float64 `toml:"ip_rate"`
	// IPBurst is how many requests a client IP may make at once; 0 means
	// IPRate rounded up (one second's worth).
	IPBurst int `toml:"ip_burst"`
	// KeyRate is the default requests per second of an API key of the keys
	// file; 0 is unlimited. A key's own rate overrides it.
	KeyRate float64 `toml:"key_rate"`
	// KeyBurst is the default burst of an API key; 0 means KeyRate rounded up.
	KeyBurst int `toml:"key_burst"`
	// MaxConnsPerIP bounds the open connections of one client IP; more are
	// closed at once. 0 is unlimited.
	MaxConnsPerIP int `toml:"max_conns_per_ip"`
	// MaxWSSubscribers bounds the event stream's subscribers at once; 0
	// keeps stream.max_subscribers.
	MaxWSSubscribers int `toml:"max_ws_subscribers"`
	// MaxWSPerIP bounds the event stream subscribers of one client IP; 0
	// is unlimited.
	MaxWSPerIP int `toml:"max_ws_per_ip"`
	// KeysFile is the absolute path of the API keys file (JSON, see
	// ParseAPIKeys); empty: no keys, and credentials headers are ignored.
	KeysFile string `toml:"keys_file"`
	// TrustedProxies are IPs or CIDR prefixes of reverse proxies whose
	// X-Forwarded-For header names the client; empty trusts none.
	TrustedProxies []string `toml:"trusted_proxies"`
}

// PublicGatewayLimits returns the limits of a public gateway, IPDB's: 10
// requests per second per IP (burst 20), 100 per API key (burst 200), 32
// connections per IP, 1000 event stream subscribers (10 per IP).
func PublicGatewayLimits() GatewayConfig {
	return GatewayConfig{IPRate: publicIPRate, IPBurst: publicIPBurst, KeyRate: publicKeyRate, KeyBurst: publicKeyBurst,
		MaxConnsPerIP: publicMaxConnsPerIP, MaxWSSubscribers: publicMaxWSSubscribers, MaxWSPerIP: publicMaxWSPerIP}
}

// validate checks the gateway table, one error per problem, naming the key.
func (g GatewayConfig) validate() []error {
	errs := []error{
		checkRate("gateway.ip_rate", g.IPRate),
		between("gateway.ip_burst", g.IPBurst, 0, maxGatewayBurst),
		checkRate("gateway.key_rate", g.KeyRate),
		between("gateway.key_burst", g.KeyBurst, 0, maxGatewayBurst),
		between("gateway.max_conns_per_ip", g.MaxConnsPerIP, 0, maxConnsPerIP),
		between("gateway.max_ws_subscribers", g.MaxWSSubscribers, 0, maxStreamSubscribers),
		between("gateway.max_ws_per_ip", g.MaxWSPerIP, 0, maxStreamSubscribers),
		checkKeysFile("gateway.keys_file", g.KeysFile),
	}
	if len(g.TrustedProxies) > maxTrustedProxies {
		errs = append(errs, fmt.Errorf("gateway.trusted_proxies: at most %d entries, got %d", maxTrustedProxies, len(g.TrustedProxies)))
	}
	for i, s := range g.TrustedProxies {
		if _, err := parsePrefix(s); err != nil {
			errs = append(errs, fmt.Errorf("gateway.trusted_proxies[%d]: must be an IP or CIDR prefix such as 10.0.0.0/8, got %q", i, s))
		}
	}
	return errs
}

// checkRate returns an error naming key unless 0 <= r <= maxGatewayRate
// (NaN and infinities are refused).
func checkRate(key string, r float64) error {
	if math.IsNaN(r) || r < 0 || r > maxGatewayRate {
		return fmt.Errorf("%s: must be between 0 (off) and %d requests per second, got %v", key, maxGatewayRate, r)
	}
	return nil
}

// checkKeysFile returns an error naming key unless path is empty or an
// absolute path of at most maxKeysFilePathBytes.
func checkKeysFile(key, path string) error {
	if path == "" {
		return nil
	}
	if len(path) > maxKeysFilePathBytes || !utf8.ValidString(path) || bytes.IndexByte([]byte(path), 0) >= 0 {
		return fmt.Errorf("%s: must be a UTF-8 path of at most %d bytes", key, maxKeysFilePathBytes)
	}
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%s: must be an absolute path, got %q", key, path)
	}
	return nil
}

// parsePrefix reads an IP (a one-address prefix) or a CIDR prefix.
func parsePrefix(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("parse %q: %w", s, err)
	}
	return p.Masked(), nil
}

// normalize makes an empty proxy list nil, so that a parsed config equals
// the one rendered.
func (g *GatewayConfig) normalize() {
	if len(g.TrustedProxies) == 0 {
		g.TrustedProxies = nil
	}
}

// burstOf returns burst, or rate rounded up (at least 1) when burst is 0.
func burstOf(rate float64, burst int) int {
	if burst > 0 {
		return burst
	}
	return max(1, int(math.Ceil(rate)))
}

// gatewayTemplate is the [gateway] table RenderConfig writes.
const gatewayTemplate = `
[gateway]
# Per-client limits that keep a public node up. 0 turns a limit off; a
# development node has none, a follower made by ` + "`init --follow`" + ` starts with a
# public gateway's (10 requests per second per IP, as IPDB's gateway).
# Over a rate, requests are answered 429 with Retry-After; every limited
# answer carries the RateLimit and RateLimit-Policy headers. /healthz,
# /readyz and /metrics are never limited.
# Requests per second per client IP (IPv6 grouped by /64). 0 (off) to {{.MaxRate}}. Default {{num .D.IPRate}}.
ip_rate = {{num .C.IPRate}}
# Requests a client IP may make at once; 0 means ip_rate rounded up. 0 to {{.MaxBurst}}. Default {{.D.IPBurst}}.
ip_burst = {{.C.IPBurst}}
# Requests per second per API key of keys_file (instead of its IP's
# limit), unless the key sets its own. 0 (off) to {{.MaxRate}}. Default {{num .D.KeyRate}}.
key_rate = {{num .C.KeyRate}}
# Requests an API key may make at once; 0 means key_rate rounded up. 0 to {{.MaxBurst}}. Default {{.D.KeyBurst}}.
key_burst = {{.C.KeyBurst}}
# Most open connections per client IP; more are closed at once. 0 (off) to {{.MaxConns}}. Default {{.D.MaxConnsPerIP}}.
max_conns_per_ip = {{.C.MaxConnsPerIP}}
# Most event stream (WebSocket) subscribers at once; 0 keeps
# stream.max_subscribers. 0 to {{.MaxSubs}}. Default {{.D.MaxWSSubscribers}}.
max_ws_subscribers = {{.C.MaxWSSubscribers}}
# Most event stream subscribers per client IP. 0 (off) to {{.MaxSubs}}. Default {{.D.MaxWSPerIP}}.
max_ws_per_ip = {{.C.MaxWSPerIP}}
# Absolute path of the API keys file: a JSON array of {"app_id", "app_key",
# "rate", "burst", "name"}. Clients send app_id and app_key headers, or
# "Authorization: Bearer <app_key>"; unknown keys are answered 401. "" (no
# keys) ignores credentials. Default {{str .D.KeysFile}}.
keys_file = {{str .C.KeysFile}}
# IPs or CIDR prefixes of reverse proxies whose X-Forwarded-For header names
# the client. At most {{.MaxProxies}}. Default {{strs .D.TrustedProxies}}.
trusted_proxies = {{strs .C.TrustedProxies}}
`

// renderGateway returns the [gateway] table of c as commented TOML.
func renderGateway(c GatewayConfig) []byte {
	t := template.Must(template.New("gateway").Funcs(template.FuncMap{
		"str": tomlString, "strs": tomlStrings, "num": tomlFloat}).Parse(gatewayTemplate))
	data := struct {
		C, D                                             GatewayConfig
		MaxRate, MaxBurst, MaxConns, MaxSubs, MaxProxies int
	}{C: c, D: DefaultConfig().Gateway, MaxRate: maxGatewayRate, MaxBurst: maxGatewayBurst, MaxConns: maxConnsPerIP,
		MaxSubs: maxStreamSubscribers, MaxProxies: maxTrustedProxies}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		panic("node: the gateway template executes on any GatewayConfig: " + err.Error())
	}
	return buf.Bytes()
}

// tomlFloat returns f as a TOML float that reads back exactly ("10.0",
// "0.5", "1e+06").
func tomlFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return s + ".0"
	}
	return s
}
