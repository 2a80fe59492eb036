package node

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/ipdb/ipdb-node/ledger"
)

func TestDefaultConfigValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate()=%v, want nil", err)
	}
}

func TestValidateBounds(t *testing.T) {
	ms := Dur(time.Millisecond)
	tests := []struct {
		name   string
		modify func(c *Config)
		want   string
	}{
		{"addr empty", func(c *Config) { c.HTTP.Addr = "" }, `http.addr: must be host:port of at most 300 bytes, got ""`},
		{"addr no port", func(c *Config) { c.HTTP.Addr = "localhost" }, `http.addr: must be host:port, got "localhost"`},
		{"addr bad port", func(c *Config) { c.HTTP.Addr = "localhost:99999" }, `http.addr: port must be a number from 0 to 65535, got "99999"`},
		{"addr named port", func(c *Config) { c.HTTP.Addr = "localhost:http" }, `http.addr: port must be a number`},
		{"addr too long", func(c *Config) { c.HTTP.Addr = strings.Repeat("a", 300) + ":1" }, `http.addr: must be host:port of at most 300 bytes`},
		{"addr not utf-8", func(c *Config) { c.HTTP.Addr = "\xff:1" }, `http.addr: must be host:port`},
		{"body zero", func(c *Config) { c.HTTP.MaxBodyBytes = 0 }, "http.max_body_bytes: must be between 1024 and 1048576, got 0"},
		{"body over", func(c *Config) { c.HTTP.MaxBodyBytes = 1<<20 + 1 }, "http.max_body_bytes: must be between 1024 and 1048576, got 1048577"},
		{"read header zero", func(c *Config) { c.HTTP.ReadHeaderTimeout = Duration{} }, "http.read_header_timeout: must be between 100ms and 10m0s, got 0s"},
		{"read header over", func(c *Config) { c.HTTP.ReadHeaderTimeout = Dur(11 * time.Minute) }, "http.read_header_timeout: must be between 100ms and 10m0s, got 11m0s"},
		{"read zero", func(c *Config) { c.HTTP.ReadTimeout = Duration{} }, "http.read_timeout: must be between 100ms and 10m0s, got 0s"},
		{"read negative", func(c *Config) { c.HTTP.ReadTimeout = Dur(-ms.Duration) }, "http.read_timeout: must be between 100ms and 10m0s, got -1ms"},
		{"write zero", func(c *Config) { c.HTTP.WriteTimeout = Duration{} }, "http.write_timeout: must be between 100ms and 10m0s, got 0s"},
		{"write over", func(c *Config) { c.HTTP.WriteTimeout = Dur(time.Hour) }, "http.write_timeout: must be between 100ms and 10m0s, got 1h0m0s"},
		{"idle zero", func(c *Config) { c.HTTP.IdleTimeout = Duration{} }, "http.idle_timeout: must be between 100ms and 10m0s, got 0s"},
		{"header bytes zero", func(c *Config) { c.HTTP.MaxHeaderBytes = 0 }, "http.max_header_bytes: must be between 1024 and 1048576, got 0"},
		{"header bytes over", func(c *Config) { c.HTTP.MaxHeaderBytes = 1<<20 + 1 }, "http.max_header_bytes: must be between 1024 and 1048576, got 1048577"},
		{"commit wait zero", func(c *Config) { c.HTTP.CommitWait = Duration{} }, "http.commit_wait: must be between 100ms and 10m0s, got 0s"},
		{"commit wait over write", func(c *Config) { c.HTTP.CommitWait = c.HTTP.WriteTimeout },
			"http.write_timeout: must exceed http.commit_wait (1m0s) so that a mode=commit answer can be written, got 1m0s"},
		{"stream url scheme", func(c *Config) { c.HTTP.StreamURL = "http://example.com/s" }, `http.stream_url: must be a ws:// or wss:// URL with a host, got "http://example.com/s"`},
		{"stream url no host", func(c *Config) { c.HTTP.StreamURL = "ws:///s" }, `http.stream_url: must be a ws:// or wss:// URL with a host`},
		{"stream url bad", func(c *Config) { c.HTTP.StreamURL = "ws://[::1" }, `http.stream_url: must be a ws:// or wss:// URL:`},
		{"stream url long", func(c *Config) { c.HTTP.StreamURL = "ws://h/" + strings.Repeat("a", 2048) }, `http.stream_url: must be UTF-8 of at most 2048 bytes, got 2055 bytes`},
		{"block txs zero", func(c *Config) { c.Block.MaxTxs = 0 }, fmt.Sprintf("block.max_txs: must be between 1 and %d, got 0", ledger.MaxBlockTxs)},
		{"block txs over", func(c *Config) { c.Block.MaxTxs = ledger.MaxBlockTxs + 1 },
			fmt.Sprintf("block.max_txs: must be between 1 and %d, got %d", ledger.MaxBlockTxs, ledger.MaxBlockTxs+1)},
		{"interval zero", func(c *Config) { c.Block.Interval = Duration{} }, "block.interval: must be between 1ms and 10s, got 0s"},
		{"interval over", func(c *Config) { c.Block.Interval = Dur(11 * time.Second) }, "block.interval: must be between 1ms and 10s, got 11s"},
		{"backlog txs zero", func(c *Config) { c.Backlog.MaxTxs = 0 }, "backlog.max_txs: must be between 1 and 1000000, got 0"},
		{"backlog txs over", func(c *Config) { c.Backlog.MaxTxs = 1_000_001 }, "backlog.max_txs: must be between 1 and 1000000, got 1000001"},
		{"backlog below block", func(c *Config) { c.Backlog.MaxTxs = c.Block.MaxTxs - 1 }, "backlog.max_txs: must be at least block.max_txs (1000), got 999"},
		{"backlog bytes small", func(c *Config) { c.Backlog.MaxBytes = ledger.MaxTxBytes - 1 },
			fmt.Sprintf("backlog.max_bytes: must be between %d and 17179869184, got %d", ledger.MaxTxBytes, ledger.MaxTxBytes-1)},
		{"backlog bytes over", func(c *Config) { c.Backlog.MaxBytes = 16<<30 + 1 }, "backlog.max_bytes: must be between 65536 and 17179869184, got 17179869185"},
		{"subscribers zero", func(c *Config) { c.Stream.MaxSubscribers = 0 }, "stream.max_subscribers: must be between 1 and 100000, got 0"},
		{"subscribers over", func(c *Config) { c.Stream.MaxSubscribers = 100_001 }, "stream.max_subscribers: must be between 1 and 100000, got 100001"},
		{"buffer zero", func(c *Config) { c.Stream.Buffer = 0 }, "stream.buffer: must be between 1 and 1000000, got 0"},
		{"buffer over", func(c *Config) { c.Stream.Buffer = 1_000_001 }, "stream.buffer: must be between 1 and 1000000, got 1000001"},
		{"buffer below block", func(c *Config) { c.Stream.Buffer = 999 }, "stream.buffer: must be at least block.max_txs (1000) so that one block's events fit, got 999"},
		{"log level", func(c *Config) { c.Log.Level = "trace" }, `log.level: must be one of debug, info, warn, error, got "trace"`},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, `log.format: must be one of text, json, got "xml"`},
		{"max procs negative", func(c *Config) { c.Runtime.MaxProcs = -1 }, "runtime.max_procs: must be between 0 and 4096, got -1"},
		{"max procs over", func(c *Config) { c.Runtime.MaxProcs = 4097 }, "runtime.max_procs: must be between 0 and 4096, got 4097"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.modify(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate()=%v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestValidateAcceptsBounds(t *testing.T) {
	c := DefaultConfig()
	c.HTTP.Addr = "[::1]:0"
	c.HTTP.MaxBodyBytes = minMaxBodyBytes
	c.HTTP.ReadHeaderTimeout = Dur(minTimeout)
	c.HTTP.WriteTimeout = Dur(maxTimeout)
	c.HTTP.CommitWait = Dur(maxTimeout - 1)
	c.HTTP.StreamURL = "wss://example.com/api/v1/streams/valid_transactions"
	c.Block = BlockConfig{MaxTxs: 1, Interval: Dur(minBlockInterval)}
	c.Backlog = BacklogConfig{MaxTxs: maxBacklogTxs, MaxBytes: maxBacklogBytes}
	c.Stream = StreamConfig{MaxSubscribers: 1, Buffer: 1}
	c.Log = LogConfig{Level: "debug", Format: "json"}
	c.Runtime.MaxProcs = maxMaxProcs
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate()=%v, want nil", err)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := DefaultConfig()
	c.Block.Interval = Duration{}
	c.Log.Level = "loud"
	err := c.Validate()
	for _, want := range []string{"block.interval:", "log.level:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Validate()=%v, want it to name %s", err, want)
		}
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name string
		toml string
		want func(c *Config)
	}{
		{"empty keeps defaults", "", func(c *Config) {}},
		{"partial", "[block]\ninterval = \"50ms\"\n\n[http]\naddr = \"0.0.0.0:9984\"\n", func(c *Config) {
			c.Block.Interval = Dur(50 * time.Millisecond)
			c.HTTP.Addr = "0.0.0.0:9984"
		}},
		{"every section", "[backlog]\nmax_txs = 2000\n[stream]\nbuffer = 5000\n[log]\nlevel = \"debug\"\n[metrics]\nenabled = false\n", func(c *Config) {
			c.Backlog.MaxTxs = 2000
			c.Stream.Buffer = 5000
			c.Log.Level = "debug"
			c.Metrics.Enabled = false
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfig([]byte(tt.toml))
			if err != nil {
				t.Fatalf("ParseConfig()=%v", err)
			}
			want := DefaultConfig()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("ParseConfig()=%+v, want %+v", got, want)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		toml string
		want []string
	}{
		{"unknown key", "[http]\naddr = \"127.0.0.1:1\"\nadr = \"x\"\n", []string{"line 3", "http.adr", "unknown key"}},
		{"unknown section", "[federation]\nx = 1\n", []string{"federation", "unknown key"}},
		{"wrong type", "[block]\nmax_txs = \"many\"\n", []string{"line 2", "block.max_txs"}},
		{"bad duration", "[block]\ninterval = \"soon\"\n", []string{"line 2", "block.interval", "want a duration"}},
		{"duration as number", "[block]\ninterval = 20\n", []string{"block.interval: want a duration string such as \"20ms\" or \"30s\", got 20"}},
		{"bad toml", "[http\naddr = 1\n", []string{"line 1"}},
		{"out of bounds", "[block]\ninterval = \"0s\"\n", []string{"block.interval: must be between 1ms and 10s, got 0s"}},
		{"too big", strings.Repeat("#", maxConfigBytes+1), []string{"over the limit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.toml))
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Fatalf("ParseConfig()=%v, want an error containing %q", err, w)
				}
			}
		})
	}
}

func TestRenderConfigRoundTrip(t *testing.T) {
	c := DefaultConfig()
	c.HTTP.Addr = "0.0.0.0:1234"
	c.HTTP.StreamURL = `wss://example.com/a"b\c/é`
	c.Block.Interval = Dur(1500 * time.Microsecond)
	c.Metrics.Enabled = false
	c.Role = RoleFollower
	c.P2P = P2PConfig{Listen: []string{testListen}, Peers: []string{testPeer, testPeer2}, MaxPeers: 7}
	c.Consensus.TimeoutDelta = Duration{}
	c.Runtime.MaxProcs = 3
	for _, cfg := range []Config{DefaultConfig(), c} {
		got, err := ParseConfig(RenderConfig(cfg))
		if err != nil {
			t.Fatalf("ParseConfig(RenderConfig())=%v\n%s", err, RenderConfig(cfg))
		}
		if !reflect.DeepEqual(got, cfg) {
			t.Fatalf("ParseConfig(RenderConfig(c))=%+v, want %+v", got, cfg)
		}
	}
}

func TestRenderConfigRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genConfig(t)
		if err := c.Validate(); err != nil {
			t.Skip("generated an invalid config:", err)
		}
		got, err := ParseConfig(RenderConfig(c))
		if err != nil {
			t.Fatalf("ParseConfig(RenderConfig())=%v\n%s", err, RenderConfig(c))
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("ParseConfig(RenderConfig(c))=%+v, want %+v", got, c)
		}
	})
}

func genConfig(t *rapid.T) Config {
	dur := func(name string, lo, hi time.Duration) Duration {
		return Dur(time.Duration(rapid.Int64Range(int64(lo), int64(hi)).Draw(t, name)))
	}
	blockTxs := rapid.IntRange(1, ledger.MaxBlockTxs).Draw(t, "block.max_txs")
	commitWait := dur("commit_wait", minTimeout, maxTimeout-1)
	return Config{
		Role:      rapid.SampledFrom([]string{RoleCaretaker, RoleFollower}).Draw(t, "role"),
		P2P:       genP2P(t),
		Consensus: genConsensus(t),
		HTTP: HTTPConfig{
			Addr:              rapid.SampledFrom([]string{"127.0.0.1:0", "[::1]:9984", "node.example:443"}).Draw(t, "addr"),
			MaxBodyBytes:      rapid.Int64Range(minMaxBodyBytes, maxMaxBodyBytes).Draw(t, "max_body_bytes"),
			ReadHeaderTimeout: dur("read_header_timeout", minTimeout, maxTimeout),
			ReadTimeout:       dur("read_timeout", minTimeout, maxTimeout),
			WriteTimeout:      dur("write_timeout", commitWait.Duration+1, maxTimeout),
			IdleTimeout:       dur("idle_timeout", minTimeout, maxTimeout),
			MaxHeaderBytes:    rapid.IntRange(minMaxHeaderBytes, maxMaxHeaderBytes).Draw(t, "max_header_bytes"),
			CommitWait:        commitWait,
			StreamURL:         rapid.SampledFrom([]string{"", "ws://a:1/s", "wss://x.example/\u00e9?q=\"1\"\\"}).Draw(t, "stream_url"),
		},
		Block:   BlockConfig{MaxTxs: blockTxs, Interval: dur("interval", minBlockInterval, maxBlockInterval)},
		Backlog: BacklogConfig{MaxTxs: rapid.IntRange(blockTxs, maxBacklogTxs).Draw(t, "backlog.max_txs"), MaxBytes: rapid.Int64Range(minBacklogBytes, maxBacklogBytes).Draw(t, "max_bytes")},
		Stream:  StreamConfig{MaxSubscribers: rapid.IntRange(1, maxStreamSubscribers).Draw(t, "subs"), Buffer: rapid.IntRange(blockTxs, maxStreamBuffer).Draw(t, "buffer")},
		Log:     LogConfig{Level: rapid.SampledFrom([]string{"debug", "info", "warn", "error"}).Draw(t, "level"), Format: rapid.SampledFrom([]string{"text", "json"}).Draw(t, "format")},
		Metrics: MetricsConfig{Enabled: rapid.Bool().Draw(t, "metrics")},
		Runtime: RuntimeConfig{MaxProcs: rapid.IntRange(0, maxMaxProcs).Draw(t, "max_procs")},
	}
}

// TestRenderConfigDocumentsEveryKey checks each key is written with a
// comment stating its default.
func TestRenderConfigDocumentsEveryKey(t *testing.T) {
	out := string(RenderConfig(DefaultConfig()))
	keys := []struct{ key, def string }{
		{"addr", `"127.0.0.1:9984"`}, {"max_body_bytes", "15360"}, {"read_header_timeout", `"10s"`},
		{"read_timeout", `"30s"`}, {"write_timeout", `"1m0s"`}, {"idle_timeout", `"2m0s"`},
		{"max_header_bytes", "32768"}, {"commit_wait", `"30s"`}, {"stream_url", `""`},
		{"max_txs", "1000"}, {"interval", `"20ms"`}, {"max_txs", "4000"}, {"max_bytes", "67108864"},
		{"max_subscribers", "256"}, {"buffer", "10000"}, {"level", `"info"`}, {"format", `"text"`}, {"enabled", "true"},
	}
	lines := strings.Split(out, "\n")
	for _, k := range keys {
		found := false
		for i, line := range lines {
			if line != k.key+" = "+k.def {
				continue
			}
			if i == 0 || !strings.HasPrefix(lines[i-1], "# ") || !strings.Contains(lines[i-1], "Default "+k.def) {
				t.Fatalf("RenderConfig(): key %s has no comment with its default %s above it:\n%s", k.key, k.def, out)
			}
			found = true
		}
		if !found {
			t.Fatalf("RenderConfig() has no line %q:\n%s", k.key+" = "+k.def, out)
		}
	}
}

func TestDurationText(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("1m30s")); err != nil || d != Dur(90*time.Second) {
		t.Fatalf("UnmarshalText(1m30s)=%v, %v, want 1m30s", d, err)
	}
	if err := d.UnmarshalText([]byte("90")); err == nil {
		t.Fatalf("UnmarshalText(90)=nil, want an error")
	}
	if b, _ := Dur(20 * time.Millisecond).MarshalText(); string(b) != "20ms" {
		t.Fatalf("MarshalText()=%s, want 20ms", b)
	}
}

func TestNewLogger(t *testing.T) {
	tests := []struct {
		cfg      LogConfig
		wantInfo bool
		prefix   string
	}{
		{LogConfig{Level: "info", Format: "text"}, true, "time="},
		{LogConfig{Level: "warn", Format: "json"}, false, ""},
		{LogConfig{Level: "debug", Format: "json"}, true, "{"},
	}
	for _, tt := range tests {
		t.Run(tt.cfg.Level+"/"+tt.cfg.Format, func(t *testing.T) {
			var buf bytes.Buffer
			NewLogger(&buf, tt.cfg).Info("hello")
			got := buf.Len() > 0
			if got != tt.wantInfo || !strings.HasPrefix(buf.String(), tt.prefix) {
				t.Fatalf("NewLogger(%+v).Info wrote %q, want written=%v with prefix %q", tt.cfg, buf.String(), tt.wantInfo, tt.prefix)
			}
		})
	}
	var buf bytes.Buffer
	if NewLogger(&buf, LogConfig{Level: "warn"}).Enabled(t.Context(), slog.LevelInfo) {
		t.Fatalf("NewLogger(warn) enabled at info, want not")
	}
}

func TestConfigErrorsAreJoined(t *testing.T) {
	c := DefaultConfig()
	c.Block.MaxTxs = 0
	c.Stream.Buffer = 0
	var joined interface{ Unwrap() []error }
	if err := c.Validate(); !errors.As(err, &joined) || len(joined.Unwrap()) < 2 {
		t.Fatalf("Validate()=%v, want several joined errors", err)
	}
}

// FuzzParseConfig feeds ParseConfig arbitrary files: it must never panic,
// and whatever it accepts is valid and survives RenderConfig unchanged.
func FuzzParseConfig(f *testing.F) {
	f.Add(RenderConfig(DefaultConfig()))
	f.Add([]byte("[block]\ninterval = \"50ms\"\nmax_txs = 10\n[stream]\nbuffer = 10\n"))
	f.Add([]byte("[http]\nstream_url = \"wss://h/\\u00e9\"\ncommit_wait = \"1m\"\n"))
	f.Add([]byte("[log]\nlevel = 3\n"))
	f.Add([]byte("http.addr = \"[::1]:0\"\n"))
	f.Add([]byte("role = \"follower\"\n[p2p]\nlisten = [\"/ip4/0.0.0.0/udp/1/quic-v1\"]\npeers = [\"" + testPeer + "\"]\n[consensus]\ntimeout_delta = \"0s\"\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		c, err := ParseConfig(doc)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted an invalid config: %v", err)
		}
		again, err := ParseConfig(RenderConfig(c))
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("ParseConfig(RenderConfig(c))=%+v, %v; want %+v", again, err, c)
		}
	})
}
