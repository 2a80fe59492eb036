package node

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"

	"github.com/ipdb/ipdb-node/ledger"
)

// Defaults of Config. The comments RenderConfig writes are generated from
// these constants, so the documentation cannot drift from the values.
const (
	// DefaultHTTPAddr is where the API listens: loopback, BigchainDB's port.
	DefaultHTTPAddr = "127.0.0.1:9984"
	// DefaultMaxBodyBytes is the POST body limit: 15 kB, as IPDB's gateway.
	DefaultMaxBodyBytes = 15360
	// DefaultReadHeaderTimeout bounds reading a request's headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds reading a whole request.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds a request after its headers; it exceeds
	// DefaultCommitWait so that a mode=commit answer can still be written.
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout bounds an idle keep-alive connection.
	DefaultIdleTimeout = 120 * time.Second
	// DefaultMaxHeaderBytes bounds a request's headers.
	DefaultMaxHeaderBytes = 32 << 10
	// DefaultCommitWait is how long a mode=commit POST waits for its block.
	DefaultCommitWait = 30 * time.Second
	// DefaultBlockMaxTxs is the most transactions in one block.
	DefaultBlockMaxTxs = 1000
	// DefaultBlockInterval is the longest the oldest pending tx waits.
	DefaultBlockInterval = 20 * time.Millisecond
	// DefaultBacklogMaxTxs is the most transactions waiting for a block:
	// four full blocks, about a second of a loaded network's commits. A
	// deeper backlog only lengthens the wait of what it accepts. On a
	// saturated 4-node testnet, 50,000 let admission starve consensus
	// (1,383-1,661 tx/s committed at 3,000 offered) where 10,000 shed the
	// excess with 503 (1,884-2,004 tx/s); at 3,300 offered, 4,000 against
	// 10,000 in five alternating pairs committed as much (2,000-2,333
	// against 1,867-2,400 tx/s) with a p50 of 1.3-1.7 s instead of
	// 3.2-3.9 s and a p99 of 1.8-2.7 s instead of 4.5-6.2 s.
	DefaultBacklogMaxTxs = 4_000
	// DefaultBacklogMaxBytes is the most canonical bytes waiting for a block.
	DefaultBacklogMaxBytes = 64 << 20
	// DefaultStreamMaxSubscribers is the most event-stream clients at once.
	DefaultStreamMaxSubscribers = 256
	// DefaultStreamBuffer is the events a stream client may lag: 10 blocks.
	DefaultStreamBuffer = 10 * DefaultBlockMaxTxs
	// DefaultLogLevel is the lowest level logged.
	DefaultLogLevel = "info"
	// DefaultLogFormat is the log line format.
	DefaultLogFormat = "text"
	// DefaultMetricsEnabled says whether /metrics is served.
	DefaultMetricsEnabled = true
)

// Bounds Validate enforces, each with the reason for it.
const (
	// minMaxBodyBytes: a signed one-output CREATE is about 600 bytes.
	minMaxBodyBytes = 1 << 10
	// maxMaxBodyBytes: 16 times ledger.MaxTxBytes, for pretty-printed bodies.
	maxMaxBodyBytes = 1 << 20
	// minTimeout, maxTimeout: real clients fail below; slow ones squat above.
	minTimeout = 100 * time.Millisecond
	maxTimeout = 10 * time.Minute
	// minMaxHeaderBytes fits any API request; maxMaxHeaderBytes is net/http's.
	minMaxHeaderBytes = 1 << 10
	maxMaxHeaderBytes = 1 << 20
	// maxAddrBytes bounds http.addr: a host name is at most 253 bytes.
	maxAddrBytes = 300
	// maxStreamURLBytes bounds http.stream_url, as browsers bound URLs.
	maxStreamURLBytes = 2048
	// minBlockInterval, maxBlockInterval: the producer spins below; a lone tx
	// waits too long above.
	minBlockInterval = time.Millisecond
	maxBlockInterval = 10 * time.Second
	// maxBacklogTxs: each pending tx holds its decoded form (several KiB).
	maxBacklogTxs = 1_000_000
	// minBacklogBytes: the backlog holds at least one largest transaction.
	minBacklogBytes = ledger.MaxTxBytes
	// maxBacklogBytes bounds backlog.max_bytes at 16 GiB of canonical bytes.
	maxBacklogBytes = 16 << 30
	// maxStreamSubscribers: each holds a connection, a goroutine, a buffer.
	maxStreamSubscribers = 100_000
	// maxStreamBuffer: about 60 bytes an event, allocated on subscribing.
	maxStreamBuffer = 1_000_000
	// maxConfigBytes bounds a configuration file.
	maxConfigBytes = 1 << 20
	// maxMaxProcs bounds runtime.max_procs: beyond the largest machines.
	maxMaxProcs = 4096
)

// Config is the node's configuration: plain data, read from TOML by
// ParseConfig and written by RenderConfig. The zero Config is not valid;
// start from DefaultConfig.
type Config struct {
	// Role is RoleCaretaker (a voting node) or RoleFollower (a non-voting
	// gateway).
	Role      string          `toml:"role"`
	HTTP      HTTPConfig      `toml:"http"`
	P2P       P2PConfig       `toml:"p2p"`
	Consensus ConsensusConfig `toml:"consensus"`
	Block     BlockConfig     `toml:"block"`
	Backlog   BacklogConfig   `toml:"backlog"`
	Stream    StreamConfig    `toml:"stream"`
	Log       LogConfig       `toml:"log"`
	Metrics   MetricsConfig   `toml:"metrics"`
	Runtime   RuntimeConfig   `toml:"runtime"`
	Gateway   GatewayConfig   `toml:"gateway"`
}

// HTTPConfig is the http table of the TOML file: the API server.
type HTTPConfig struct {
	// Addr is the host:port the API, event stream and metrics listen on.
	// Port 0 picks a free port (see Node.HTTPAddr). Empty is refused.
	Addr string `toml:"addr"`
	// MaxBodyBytes is the largest POST body in bytes (413 above). Zero is refused.
	MaxBodyBytes int64 `toml:"max_body_bytes"`
	// ReadHeaderTimeout bounds reading request headers. Zero is refused.
	ReadHeaderTimeout Duration `toml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request. Zero is refused.
	ReadTimeout Duration `toml:"read_timeout"`
	// WriteTimeout bounds a request from the end of its headers to the end
	// of its response; it must exceed CommitWait. Zero is refused.
	WriteTimeout Duration `toml:"write_timeout"`
	// IdleTimeout bounds an idle keep-alive connection. Zero is refused.
	IdleTimeout Duration `toml:"idle_timeout"`
	// MaxHeaderBytes bounds request headers in bytes. Zero is refused.
	MaxHeaderBytes int `toml:"max_header_bytes"`
	// CommitWait is how long a mode=commit POST waits for the block that
	// commits its transaction before answering 504. Zero is refused.
	CommitWait Duration `toml:"commit_wait"`
	// StreamURL is the event stream URL advertised in the API index
	// (ws:// or wss://). Empty: derived from each request's Host.
	StreamURL string `toml:"stream_url"`
}

// BlockConfig is the block table of the TOML file: when blocks are cut.
type BlockConfig struct {
	// MaxTxs is the most transactions in a block, at most ledger.MaxBlockTxs.
	// A block is cut as soon as this many are pending. Zero is refused.
	MaxTxs int `toml:"max_txs"`
	// Interval is the longest the first pending transaction waits before a
	// block that is not full is cut. Zero is refused.
	Interval Duration `toml:"interval"`
}

// BacklogConfig is the backlog table of the TOML file: pending transactions.
type BacklogConfig struct {
	// MaxTxs is the most pending transactions; more are refused with 503.
	// It must be at least block.max_txs. Zero is refused.
	MaxTxs int `toml:"max_txs"`
	// MaxBytes is the most pending canonical bytes (503 above). Zero is refused.
	MaxBytes int64 `toml:"max_bytes"`
}

// StreamConfig is the stream table of the TOML file: the event stream.
type StreamConfig struct {
	// MaxSubscribers is the most stream clients at once. Zero is refused.
	MaxSubscribers int `toml:"max_subscribers"`
	// Buffer is how many events a client may lag before it is dropped; at
	// least block.max_txs, so that one block fits. Zero is refused.
	Buffer int `toml:"buffer"`
}

// LogConfig is the log table of the TOML file.
type LogConfig struct {
	// Level is the lowest level logged: debug, info, warn or error (empty
	// is refused).
	Level string `toml:"level"`
	// Format is text (key=value) or json (empty is refused).
	Format string `toml:"format"`
}

// MetricsConfig is the metrics table of the TOML file.
type MetricsConfig struct {
	// Enabled serves Prometheus metrics at /metrics on the HTTP address.
	Enabled bool `toml:"enabled"`
	// PprofAddr is a host:port serving Go's runtime profiles at
	// /debug/pprof/ on a listener of its own; empty (the default) serves
	// none. Keep it on loopback: profiles reveal the process's internals.
	PprofAddr string `toml:"pprof_addr"`
}

// RuntimeConfig is the runtime table of the TOML file: how much of the
// machine the process takes. `ipdb-node start` applies it; the node
// itself does not, since tests run several nodes in one process.
type RuntimeConfig struct {
	// MaxProcs is how many threads run Go code at once (GOMAXPROCS):
	// for several nodes sharing one machine, each its share of the cores.
	// Zero (the default) leaves Go's choice, every core the process may
	// use. The GOMAXPROCS environment variable overrides it.
	MaxProcs int `toml:"max_procs"`
}

// Duration is a time.Duration written in TOML as a string such as "20ms" or
// "1m30s" (time.ParseDuration). A bare TOML integer is refused rather than
// read as nanoseconds.
type Duration struct{ time.Duration }

// Dur returns d as a Duration.
func Dur(d time.Duration) Duration { return Duration{d} }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with time.ParseDuration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("want a duration string such as \"20ms\" or \"30s\": %w", err)
	}
	d.Duration = v
	return nil
}

// DefaultConfig returns the single-node defaults (the Default* constants).
func DefaultConfig() Config {
	return Config{
		Role: DefaultRole,
		HTTP: HTTPConfig{
			Addr:              DefaultHTTPAddr,
			MaxBodyBytes:      DefaultMaxBodyBytes,
			ReadHeaderTimeout: Dur(DefaultReadHeaderTimeout),
			ReadTimeout:       Dur(DefaultReadTimeout),
			WriteTimeout:      Dur(DefaultWriteTimeout),
			IdleTimeout:       Dur(DefaultIdleTimeout),
			MaxHeaderBytes:    DefaultMaxHeaderBytes,
			CommitWait:        Dur(DefaultCommitWait),
		},
		P2P: P2PConfig{MaxPeers: DefaultMaxPeers},
		Consensus: ConsensusConfig{
			TimeoutPropose:   Dur(DefaultTimeoutPropose),
			TimeoutPrevote:   Dur(DefaultTimeoutPrevote),
			TimeoutPrecommit: Dur(DefaultTimeoutPrecommit),
			TimeoutDelta:     Dur(DefaultTimeoutDelta),
			RetryInterval:    Dur(DefaultRetryInterval),
		},
		Block:   BlockConfig{MaxTxs: DefaultBlockMaxTxs, Interval: Dur(DefaultBlockInterval)},
		Backlog: BacklogConfig{MaxTxs: DefaultBacklogMaxTxs, MaxBytes: DefaultBacklogMaxBytes},
		Stream:  StreamConfig{MaxSubscribers: DefaultStreamMaxSubscribers, Buffer: DefaultStreamBuffer},
		Log:     LogConfig{Level: DefaultLogLevel, Format: DefaultLogFormat},
		Metrics: MetricsConfig{Enabled: DefaultMetricsEnabled},
	}
}

// Validate checks every field against its bounds and the fields against each
// other. Each problem is one line naming the TOML key and the bound, such as
// "block.interval: must be between 1ms and 10s, got 0s"; all problems are
// reported, joined.
func (c Config) Validate() error {
	errs := []error{
		oneOf("role", c.Role, RoleCaretaker, RoleFollower),
		checkAddr("http.addr", c.HTTP.Addr),
		between("http.max_body_bytes", c.HTTP.MaxBodyBytes, minMaxBodyBytes, maxMaxBodyBytes),
		betweenDur("http.read_header_timeout", c.HTTP.ReadHeaderTimeout, minTimeout, maxTimeout),
		betweenDur("http.read_timeout", c.HTTP.ReadTimeout, minTimeout, maxTimeout),
		betweenDur("http.write_timeout", c.HTTP.WriteTimeout, minTimeout, maxTimeout),
		betweenDur("http.idle_timeout", c.HTTP.IdleTimeout, minTimeout, maxTimeout),
		between("http.max_header_bytes", c.HTTP.MaxHeaderBytes, minMaxHeaderBytes, maxMaxHeaderBytes),
		betweenDur("http.commit_wait", c.HTTP.CommitWait, minTimeout, maxTimeout),
		checkStreamURL("http.stream_url", c.HTTP.StreamURL),
		between("block.max_txs", c.Block.MaxTxs, 1, ledger.MaxBlockTxs),
		betweenDur("block.interval", c.Block.Interval, minBlockInterval, maxBlockInterval),
		between("backlog.max_txs", c.Backlog.MaxTxs, 1, maxBacklogTxs),
		between("backlog.max_bytes", c.Backlog.MaxBytes, minBacklogBytes, maxBacklogBytes),
		between("stream.max_subscribers", c.Stream.MaxSubscribers, 1, maxStreamSubscribers),
		between("stream.buffer", c.Stream.Buffer, 1, maxStreamBuffer),
		oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error"),
		oneOf("log.format", c.Log.Format, "text", "json"),
		between("runtime.max_procs", c.Runtime.MaxProcs, 0, maxMaxProcs),
	}
	if c.Metrics.PprofAddr != "" {
		errs = append(errs, checkAddr("metrics.pprof_addr", c.Metrics.PprofAddr))
	}
	errs = append(errs, c.P2P.validate()...)
	errs = append(errs, c.Consensus.validate()...)
	errs = append(errs, c.Gateway.validate()...)
	errs = append(errs, c.roleChecks()...)
	return errors.Join(append(errs, c.crossChecks()...)...)
}

// crossChecks are the bounds between fields.
func (c Config) crossChecks() []error {
	var errs []error
	if c.HTTP.WriteTimeout.Duration <= c.HTTP.CommitWait.Duration {
		errs = append(errs, fmt.Errorf("http.write_timeout: must exceed http.commit_wait (%v) so that a mode=commit answer can be written, got %v",
			c.HTTP.CommitWait, c.HTTP.WriteTimeout))
	}
	if c.Backlog.MaxTxs < c.Block.MaxTxs {
		errs = append(errs, fmt.Errorf("backlog.max_txs: must be at least block.max_txs (%d), got %d", c.Block.MaxTxs, c.Backlog.MaxTxs))
	}
	if c.Stream.Buffer < c.Block.MaxTxs {
		errs = append(errs, fmt.Errorf("stream.buffer: must be at least block.max_txs (%d) so that one block's events fit, got %d",
			c.Block.MaxTxs, c.Stream.Buffer))
	}
	return errs
}

// between returns an error naming key unless lo <= got <= hi.
func between[T int | int64 | time.Duration](key string, got, lo, hi T) error {
	if got < lo || got > hi {
		return fmt.Errorf("%s: must be between %v and %v, got %v", key, lo, hi, got)
	}
	return nil
}

// betweenDur is between for a Duration field.
func betweenDur(key string, got Duration, lo, hi time.Duration) error {
	return between(key, got.Duration, lo, hi)
}

func oneOf(key, got string, allowed ...string) error {
	for _, a := range allowed {
		if got == a {
			return nil
		}
	}
	return fmt.Errorf("%s: must be one of %s, got %q", key, strings.Join(allowed, ", "), got)
}

func checkAddr(key, addr string) error {
	if addr == "" || len(addr) > maxAddrBytes || !utf8.ValidString(addr) {
		return fmt.Errorf("%s: must be host:port of at most %d bytes, got %q", key, maxAddrBytes, addr)
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s: must be host:port, got %q: %w", key, addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%s: port must be a number from 0 to 65535, got %q", key, port)
	}
	return nil
}

func checkStreamURL(key, s string) error {
	if s == "" {
		return nil
	}
	if len(s) > maxStreamURLBytes || !utf8.ValidString(s) {
		return fmt.Errorf("%s: must be UTF-8 of at most %d bytes, got %d bytes", key, maxStreamURLBytes, len(s))
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%s: must be a ws:// or wss:// URL: %w", key, err)
	}
	if (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return fmt.Errorf("%s: must be a ws:// or wss:// URL with a host, got %q", key, s)
	}
	return nil
}

// ParseConfig reads a TOML configuration strictly over DefaultConfig (a
// missing key keeps its default, an unknown key is refused) and validates
// it. Errors name the key and, when the TOML library gives it, the line.
func ParseConfig(b []byte) (Config, error) {
	if len(b) > maxConfigBytes {
		return Config{}, fmt.Errorf("config: %d bytes, over the limit of %d", len(b), maxConfigBytes)
	}
	c := DefaultConfig()
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, decodeError(b, err)
	}
	c.P2P.normalize()
	c.Gateway.normalize()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// decodeError rewrites go-toml's errors as "line N: key: message" lines.
// An error without a position (a duration given as a number) is traced to
// its key by durationKinds.
func decodeError(doc []byte, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		errs := make([]error, len(strict.Errors))
		for i := range strict.Errors {
			e := &strict.Errors[i]
			line, _ := e.Position()
			errs[i] = fmt.Errorf("line %d: %s: unknown key", line, strings.Join(e.Key(), "."))
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if key := strings.Join(de.Key(), "."); key != "" {
			return fmt.Errorf("line %d: %s: %s", line, key, msg)
		}
		return fmt.Errorf("line %d: %s", line, msg)
	}
	if kerr := durationKinds(doc); kerr != nil {
		return kerr
	}
	return fmt.Errorf("config: %w", err)
}

// durationKinds names the Duration keys of doc whose value is not a string.
func durationKinds(doc []byte) error {
	var m map[string]any
	if toml.Unmarshal(doc, &m) != nil {
		return nil
	}
	var errs []error
	ct := reflect.TypeFor[Config]()
	for i := range ct.NumField() {
		sec, f := ct.Field(i).Tag.Get("toml"), ct.Field(i).Type
		if f.Kind() != reflect.Struct {
			continue
		}
		table, _ := m[sec].(map[string]any)
		for j := range f.NumField() {
			key := f.Field(j).Tag.Get("toml")
			v, ok := table[key]
			if _, isString := v.(string); ok && !isString && f.Field(j).Type == reflect.TypeFor[Duration]() {
				errs = append(errs, fmt.Errorf("%s.%s: want a duration string such as \"20ms\" or \"30s\", got %v", sec, key, v))
			}
		}
	}
	return errors.Join(errs...)
}
