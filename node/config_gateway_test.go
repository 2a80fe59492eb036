package node

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestGatewayConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(g *GatewayConfig)
		want   string
	}{
		{"negative rate", func(g *GatewayConfig) { g.IPRate = -1 }, "gateway.ip_rate: must be between 0 (off) and 1000000 requests per second, got -1"},
		{"nan rate", func(g *GatewayConfig) { g.IPRate = math.NaN() }, "gateway.ip_rate: must be between 0 (off) and 1000000 requests per second, got NaN"},
		{"inf key rate", func(g *GatewayConfig) { g.KeyRate = math.Inf(1) }, "gateway.key_rate: must be between 0 (off) and 1000000 requests per second, got +Inf"},
		{"huge rate", func(g *GatewayConfig) { g.IPRate = 1e7 }, "gateway.ip_rate: must be between 0 (off) and 1000000 requests per second, got 1e+07"},
		{"negative burst", func(g *GatewayConfig) { g.IPBurst = -1 }, "gateway.ip_burst: must be between 0 and 1000000, got -1"},
		{"huge key burst", func(g *GatewayConfig) { g.KeyBurst = 1_000_001 }, "gateway.key_burst: must be between 0 and 1000000, got 1000001"},
		{"negative conns", func(g *GatewayConfig) { g.MaxConnsPerIP = -1 }, "gateway.max_conns_per_ip: must be between 0 and 100000, got -1"},
		{"huge ws", func(g *GatewayConfig) { g.MaxWSSubscribers = 100_001 }, "gateway.max_ws_subscribers: must be between 0 and 100000, got 100001"},
		{"negative ws per ip", func(g *GatewayConfig) { g.MaxWSPerIP = -3 }, "gateway.max_ws_per_ip: must be between 0 and 100000, got -3"},
		{"relative keys file", func(g *GatewayConfig) { g.KeysFile = "keys.json" }, `gateway.keys_file: must be an absolute path, got "keys.json"`},
		{"nul in keys file", func(g *GatewayConfig) { g.KeysFile = "/a\x00b" }, "gateway.keys_file: must be a UTF-8 path of at most 4096 bytes"},
		{"bad proxy", func(g *GatewayConfig) { g.TrustedProxies = []string{"10.0.0.0/8", "10.0.0.0/33"} }, `gateway.trusted_proxies[1]: must be an IP or CIDR prefix such as 10.0.0.0/8, got "10.0.0.0/33"`},
		{"many proxies", func(g *GatewayConfig) { g.TrustedProxies = make([]string, 65) }, "gateway.trusted_proxies: at most 64 entries, got 65"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.modify(&c.Gateway)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate()=%v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestGatewayConfigDefaultsOffAndPublicValid(t *testing.T) {
	if g := DefaultConfig().Gateway; !reflect.DeepEqual(g, GatewayConfig{}) {
		t.Fatalf("DefaultConfig().Gateway=%+v, want every limit off", g)
	}
	c := DefaultConfig()
	c.Gateway = PublicGatewayLimits()
	if err := c.Validate(); err != nil {
		t.Fatalf("PublicGatewayLimits() Validate()=%v", err)
	}
	want := GatewayConfig{IPRate: 10, IPBurst: 20, KeyRate: 100, KeyBurst: 200, MaxConnsPerIP: 32, MaxWSSubscribers: 1000, MaxWSPerIP: 10}
	if !reflect.DeepEqual(c.Gateway, want) {
		t.Fatalf("PublicGatewayLimits()=%+v, want %+v", c.Gateway, want)
	}
}

func TestGatewayConfigRoundTrip(t *testing.T) {
	for _, g := range []GatewayConfig{
		PublicGatewayLimits(),
		{IPRate: 0.5, IPBurst: 1, KeyRate: 1e6, KeyBurst: 3, KeysFile: `/etc/ipdb/"keys".json`, TrustedProxies: []string{"10.0.0.0/8", "::1"}},
		{IPRate: 12.75},
	} {
		c := DefaultConfig()
		c.Gateway = g
		got, err := ParseConfig(RenderConfig(c))
		if err != nil {
			t.Fatalf("ParseConfig(RenderConfig())=%v\n%s", err, RenderConfig(c))
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("ParseConfig(RenderConfig(c)).Gateway=%+v, want %+v", got.Gateway, c.Gateway)
		}
	}
}

func TestGatewayConfigParse(t *testing.T) {
	c, err := ParseConfig([]byte("[gateway]\nip_rate = 10\nip_burst = 20\n"))
	if err != nil || c.Gateway.IPRate != 10 || c.Gateway.IPBurst != 20 {
		t.Fatalf("ParseConfig(integer ip_rate)=%+v, %v; want 10 and 20", c.Gateway, err)
	}
	for doc, want := range map[string]string{
		"[gateway]\nip_rate = nan\n":     "gateway.ip_rate: must be between 0 (off) and 1000000 requests per second, got NaN",
		"[gateway]\nip_rate = -inf\n":    "gateway.ip_rate: must be between 0 (off) and 1000000",
		"[gateway]\nip_rate = \"10\"\n":  "gateway.ip_rate",
		"[gateway]\nip_rates = 10\n":     "gateway.ip_rates: unknown key",
		"[gateway]\nip_burst = 1.5\n":    "gateway.ip_burst",
		"[gateway]\nkeys_file = \"k\"\n": "gateway.keys_file: must be an absolute path",
	} {
		if _, err := ParseConfig([]byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("ParseConfig(%q)=%v, want an error containing %q", doc, err, want)
		}
	}
}

func TestRenderConfigDocumentsGateway(t *testing.T) {
	out := string(RenderConfig(DefaultConfig()))
	lines := strings.Split(out, "\n")
	for _, k := range []struct{ key, def string }{
		{"ip_rate", "0.0"}, {"ip_burst", "0"}, {"key_rate", "0.0"}, {"key_burst", "0"}, {"max_conns_per_ip", "0"},
		{"max_ws_subscribers", "0"}, {"max_ws_per_ip", "0"}, {"keys_file", `""`}, {"trusted_proxies", "[]"},
	} {
		i := indexOf(lines, k.key+" = "+k.def)
		if i < 1 || !strings.HasPrefix(lines[i-1], "# ") || !strings.Contains(lines[i-1], "Default "+k.def) {
			t.Fatalf("RenderConfig(): no line %q after a comment with its default:\n%s", k.key+" = "+k.def, out)
		}
	}
}

func indexOf(lines []string, s string) int {
	for i, l := range lines {
		if l == s {
			return i
		}
	}
	return -1
}
