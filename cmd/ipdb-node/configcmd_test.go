package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipdb/ipdb-node/node"
)

func TestConfigGetSet(t *testing.T) {
	dir := t.TempDir()
	mustRunCLI(t, "init", "--home", dir)
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"get", "gateway.ip_rate"}, "0\n"},
		{[]string{"set", "gateway.ip_rate", "12.5"}, "gateway.ip_rate = 12.5 (was 0) in " + filepath.Join(dir, configFile) + "; restart the node to apply\n"},
		{[]string{"get", "gateway.ip_rate"}, "12.5\n"},
		{[]string{"set", "gateway.keys_file", "/etc/ipdb/keys.json"}, ""},
		{[]string{"get", "gateway.keys_file"}, "/etc/ipdb/keys.json\n"},
		{[]string{"set", "gateway.trusted_proxies", "10.0.0.0/8, ::1"}, ""},
		{[]string{"get", "gateway.trusted_proxies"}, "10.0.0.0/8,::1\n"},
		{[]string{"set", "gateway.trusted_proxies", `["192.0.2.1"]`}, ""},
		{[]string{"get", "gateway.trusted_proxies"}, "192.0.2.1\n"},
		{[]string{"set", "block.interval", "50ms"}, ""},
		{[]string{"get", "block.interval"}, "50ms\n"},
		{[]string{"set", "metrics.enabled", "false"}, ""},
		{[]string{"get", "metrics.enabled"}, "false\n"},
		{[]string{"get", "role"}, "caretaker\n"},
		{[]string{"get", "http.addr"}, node.DefaultHTTPAddr + "\n"},
	}
	for _, s := range steps {
		t.Run(strings.Join(s.args, " "), func(t *testing.T) {
			out := mustRunCLI(t, append([]string{"config", "--home", dir}, s.args...)...)
			if s.want != "" && out != s.want {
				t.Fatalf("config %v printed %q, want %q", s.args, out, s.want)
			}
		})
	}
	cfg, err := (home{dir}).loadConfig()
	if err != nil || cfg.Gateway.IPRate != 12.5 || cfg.Block.Interval.String() != "50ms" || cfg.Metrics.Enabled {
		t.Fatalf("config after set: %+v, %v", cfg, err)
	}
}

func TestConfigSetRefusals(t *testing.T) {
	dir := t.TempDir()
	mustRunCLI(t, "init", "--home", dir)
	path := filepath.Join(dir, configFile)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown key", []string{"set", "gateway.ip_rates", "1"}, []string{`config: unknown key "gateway.ip_rates"`, "ip_rate, ip_burst"}},
		{"unknown section", []string{"get", "gateways.ip_rate"}, []string{`unknown key "gateways.ip_rate"`}},
		{"section only", []string{"get", "gateway"}, []string{`unknown key "gateway"`}},
		{"too deep", []string{"get", "gateway.ip_rate.x"}, []string{`unknown key "gateway.ip_rate.x"`}},
		{"empty key", []string{"get", ""}, []string{`unknown key ""`}},
		{"not a number", []string{"set", "gateway.ip_rate", "fast"}, []string{`config set gateway.ip_rate: want a number, got "fast"`}},
		{"nan", []string{"set", "gateway.ip_rate", "NaN"}, []string{"nothing written", "gateway.ip_rate: must be between 0 (off) and 1000000 requests per second, got NaN"}},
		{"negative", []string{"set", "--", "gateway.max_conns_per_ip", "-1"}, []string{"gateway.max_conns_per_ip: must be between 0 and 100000, got -1"}},
		{"huge int", []string{"set", "gateway.ip_burst", "99999999999999999999"}, []string{"want a whole number"}},
		{"bad bool", []string{"set", "metrics.enabled", "yes please"}, []string{"want true or false"}},
		{"bad duration", []string{"set", "block.interval", "20"}, []string{"want a duration string"}},
		{"relative keys file", []string{"set", "gateway.keys_file", "keys.json"}, []string{"gateway.keys_file: must be an absolute path"}},
		{"bad list", []string{"set", "gateway.trusted_proxies", "[1,"}, []string{"want a TOML array"}},
		{"missing args", []string{"set", "gateway.ip_rate"}, []string{"accepts 2 arg(s)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := runCLI(t, append([]string{"config", "--home", dir}, tt.args...)...)
			checkOneLineError(t, stderr, err, tt.want...)
			after, rerr := os.ReadFile(path)
			if rerr != nil || string(after) != string(before) {
				t.Fatalf("config.toml changed by a refused %v", tt.args)
			}
		})
	}
	_, stderr, err := runCLI(t, "config", "--home", t.TempDir(), "set", "gateway.ip_rate", "1")
	checkOneLineError(t, stderr, err, "config.toml: missing; make the home first")
}

func TestInitFollowStartsWithPublicLimits(t *testing.T) {
	dev := t.TempDir()
	mustRunCLI(t, "init", "--home", dev)
	if cfg, err := (home{dev}).loadConfig(); err != nil || cfg.Gateway.IPRate != 0 || cfg.Gateway.MaxConnsPerIP != 0 {
		t.Fatalf("dev home gateway %+v, %v; want every limit off", cfg.Gateway, err)
	}
	follower := t.TempDir()
	mustRunCLI(t, "init", "--home", follower, "--follow", "--genesis", filepath.Join(dev, genesisFile),
		"--peer", "/ip4/127.0.0.1/tcp/26657/p2p/12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5")
	cfg, err := (home{follower}).loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if want := node.PublicGatewayLimits(); cfg.Gateway.IPRate != want.IPRate || cfg.Gateway.MaxConnsPerIP != want.MaxConnsPerIP ||
		cfg.Gateway.KeyRate != want.KeyRate || cfg.Gateway.MaxWSSubscribers != want.MaxWSSubscribers {
		t.Fatalf("follower gateway %+v, want %+v", cfg.Gateway, want)
	}
	if out := mustRunCLI(t, "config", "--home", follower, "get", "gateway.ip_rate"); out != "10\n" {
		t.Fatalf("config get gateway.ip_rate=%q, want 10", out)
	}
}
