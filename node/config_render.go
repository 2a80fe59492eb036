package node

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/ipdb/ipdb-node/ledger"
)

// configTemplate is the file RenderConfig writes. Every key has a comment
// with its unit, bounds and default, taken from the constants above.
const configTemplate = `# ipdb-node configuration (TOML).
# Every key is optional: a missing key takes the default given in its comment.
# Durations are strings such as "20ms", "30s" or "1m30s".

# "caretaker" (a voting node, whose key must be in the genesis caretaker set)
# or "follower" (a non-voting gateway that follows the chain from its peers,
# serves the API and relays transactions). Default {{str .D.Role}}.
role = {{str .C.Role}}

[http]
# Address (host:port) of the HTTP API, the event stream and /metrics.
# Port 0 picks a free port. Default {{str .D.HTTP.Addr}}.
addr = {{str .C.HTTP.Addr}}
# Largest POST body, in bytes; larger bodies are answered 413.
# {{.B.MinBody}} to {{.B.MaxBody}}. Default {{.D.HTTP.MaxBodyBytes}} ({{bytes .D.HTTP.MaxBodyBytes}}, as IPDB).
max_body_bytes = {{.C.HTTP.MaxBodyBytes}}
# Time allowed to read a request's headers. {{.B.MinTimeout}} to {{.B.MaxTimeout}}. Default {{str .D.HTTP.ReadHeaderTimeout}}.
read_header_timeout = {{str .C.HTTP.ReadHeaderTimeout}}
# Time allowed to read a whole request. {{.B.MinTimeout}} to {{.B.MaxTimeout}}. Default {{str .D.HTTP.ReadTimeout}}.
read_timeout = {{str .C.HTTP.ReadTimeout}}
# Time allowed from the end of a request's headers to the end of its
# response; must exceed commit_wait. {{.B.MinTimeout}} to {{.B.MaxTimeout}}. Default {{str .D.HTTP.WriteTimeout}}.
write_timeout = {{str .C.HTTP.WriteTimeout}}
# Time an idle keep-alive connection is kept open. {{.B.MinTimeout}} to {{.B.MaxTimeout}}. Default {{str .D.HTTP.IdleTimeout}}.
idle_timeout = {{str .C.HTTP.IdleTimeout}}
# Largest request headers, in bytes. {{.B.MinHeader}} to {{.B.MaxHeader}}. Default {{.D.HTTP.MaxHeaderBytes}}.
max_header_bytes = {{.C.HTTP.MaxHeaderBytes}}
# How long POST /api/v1/transactions?mode=commit waits for the block that
# commits the transaction before answering 504. {{.B.MinTimeout}} to {{.B.MaxTimeout}}. Default {{str .D.HTTP.CommitWait}}.
commit_wait = {{str .C.HTTP.CommitWait}}
# Event stream URL advertised in the API index (ws:// or wss://), for a node
# behind a proxy. Empty: derived from each request's Host header. Default {{str .D.HTTP.StreamURL}}.
stream_url = {{str .C.HTTP.StreamURL}}

[p2p]
# Multiaddrs the libp2p host listens on, such as "/ip4/0.0.0.0/tcp/26656" and
# "/ip4/0.0.0.0/udp/26656/quic-v1". Empty turns p2p off (a single
# development node needs no peers). At most {{.P.MaxListen}}. Default {{strs .D.P2P.Listen}}.
listen = {{strs .C.P2P.Listen}}
# Persistent peers: full multiaddrs ending in /p2p/<peer id>, dialled at
# start and re-dialled when lost. At most {{.P.MaxPeerAddrs}}. Default {{strs .D.P2P.Peers}}.
peers = {{strs .C.P2P.Peers}}
# Most connected peers. 1 to {{.P.MaxMaxPeers}}. Default {{.D.P2P.MaxPeers}}.
max_peers = {{.C.P2P.MaxPeers}}

[consensus]
# Timeouts of the caretakers' BFT rounds; round r waits timeout + r * timeout_delta.
# The defaults suit loopback and LAN networks; raise them across continents.
# How long to wait for a round's proposal. {{.P.MinTimeout}} to {{.P.MaxTimeout}}. Default {{str .D.Consensus.TimeoutPropose}}.
timeout_propose = {{str .C.Consensus.TimeoutPropose}}
# How long to wait for more prevotes after 2/3 of any. {{.P.MinTimeout}} to {{.P.MaxTimeout}}. Default {{str .D.Consensus.TimeoutPrevote}}.
timeout_prevote = {{str .C.Consensus.TimeoutPrevote}}
# How long to wait for more precommits after 2/3 of any. {{.P.MinTimeout}} to {{.P.MaxTimeout}}. Default {{str .D.Consensus.TimeoutPrecommit}}.
timeout_precommit = {{str .C.Consensus.TimeoutPrecommit}}
# Added to each timeout per round. 0s to {{.P.MaxDelta}}. Default {{str .D.Consensus.TimeoutDelta}}.
timeout_delta = {{str .C.Consensus.TimeoutDelta}}
# How often a node re-requests missing blocks and re-sends its latest votes
# while nothing arrives. {{.P.MinTimeout}} to {{.P.MaxTimeout}}. Default {{str .D.Consensus.RetryInterval}}.
retry_interval = {{str .C.Consensus.RetryInterval}}
# Whether block sync checks every synced transaction's signatures again. When
# false, a synced block's signatures are taken on the trust of its commit (more
# than 2/3 of the caretakers' power signed it, after checking them), as
# consensus already assumes; sync then takes about half the CPU. Everything else
# (ids, schema, key rules, spends, state hash) is checked either way. Default {{.D.Consensus.SyncVerifySignatures}}.
sync_verify_signatures = {{.C.Consensus.SyncVerifySignatures}}

[block]
# Most transactions in one block; a block is cut as soon as this many are
# pending. 1 to {{.B.MaxBlockTxs}}. Default {{.D.Block.MaxTxs}}.
max_txs = {{.C.Block.MaxTxs}}
# Longest the first pending transaction waits before a block that is not
# full is cut. {{.B.MinInterval}} to {{.B.MaxInterval}}. Default {{str .D.Block.Interval}}.
interval = {{str .C.Block.Interval}}

[backlog]
# Most transactions waiting for a block; more are refused with 503.
# At least block.max_txs, at most {{.B.MaxBacklogTxs}}. Default {{.D.Backlog.MaxTxs}}.
max_txs = {{.C.Backlog.MaxTxs}}
# Most canonical bytes waiting for a block, in bytes; more are refused with
# 503. {{.B.MinBacklogBytes}} to {{.B.MaxBacklogBytes}}. Default {{.D.Backlog.MaxBytes}} ({{bytes .D.Backlog.MaxBytes}}).
max_bytes = {{.C.Backlog.MaxBytes}}

[stream]
# Most WebSocket event-stream clients at once. 1 to {{.B.MaxSubscribers}}. Default {{.D.Stream.MaxSubscribers}}.
max_subscribers = {{.C.Stream.MaxSubscribers}}
# Events a client may fall behind before it is dropped (its socket closed).
# At least block.max_txs, at most {{.B.MaxBuffer}}. Default {{.D.Stream.Buffer}}.
buffer = {{.C.Stream.Buffer}}

[log]
# Lowest level logged: "debug", "info", "warn" or "error". Default {{str .D.Log.Level}}.
level = {{str .C.Log.Level}}
# Line format: "text" (key=value) or "json". Default {{str .D.Log.Format}}.
format = {{str .C.Log.Format}}

[metrics]
# Serve Prometheus metrics at /metrics on the HTTP address. Default {{.D.Metrics.Enabled}}.
enabled = {{.C.Metrics.Enabled}}
# host:port serving Go's runtime profiles at /debug/pprof/ (go tool pprof), on a
# listener of its own; "" serves none. Keep it on loopback. Default {{str .D.Metrics.PprofAddr}}.
pprof_addr = {{str .C.Metrics.PprofAddr}}

[runtime]
# How many threads run the node's Go code at once (GOMAXPROCS). For nodes
# sharing one machine, give each its share of the cores (ipdb-node testnet
# does). 0 leaves Go's choice: every core the process may use. The
# GOMAXPROCS environment variable overrides it. 0 to {{.B.MaxMaxProcs}}. Default {{.D.Runtime.MaxProcs}}.
max_procs = {{.C.Runtime.MaxProcs}}
`

// renderBounds are the bounds the rendered comments state.
type renderBounds struct {
	MinBody, MaxBody, MinHeader, MaxHeader           int
	MinTimeout, MaxTimeout, MinInterval, MaxInterval time.Duration
	MaxBlockTxs, MaxBacklogTxs, MaxSubscribers       int
	MinBacklogBytes, MaxBacklogBytes, MaxBuffer      int
	MaxMaxProcs                                      int
}

// RenderConfig returns c as a commented TOML file: every key with its unit,
// bounds and default in a comment. ParseConfig(RenderConfig(c)) returns c
// for every valid c.
func RenderConfig(c Config) []byte {
	t := template.Must(template.New("config").Funcs(template.FuncMap{"str": tomlString, "strs": tomlStrings, "bytes": formatBytes}).Parse(configTemplate))
	data := struct {
		C, D Config
		B    renderBounds
		P    renderP2PBounds
	}{C: c, D: DefaultConfig(), P: renderP2PBounds{
		MaxListen: maxListenAddrs, MaxPeerAddrs: maxPeerAddrs, MaxMaxPeers: maxMaxPeers,
		MinTimeout: minConsensusTimeout, MaxTimeout: maxConsensusTimeout, MaxDelta: maxTimeoutDelta,
	}, B: renderBounds{
		MinBody: minMaxBodyBytes, MaxBody: maxMaxBodyBytes, MinHeader: minMaxHeaderBytes, MaxHeader: maxMaxHeaderBytes,
		MinTimeout: minTimeout, MaxTimeout: maxTimeout,
		MinInterval: minBlockInterval, MaxInterval: maxBlockInterval,
		MaxBlockTxs: ledger.MaxBlockTxs, MaxBacklogTxs: maxBacklogTxs, MaxSubscribers: maxStreamSubscribers,
		MinBacklogBytes: minBacklogBytes, MaxBacklogBytes: maxBacklogBytes, MaxBuffer: maxStreamBuffer,
		MaxMaxProcs: maxMaxProcs,
	}}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		panic("node: the config template executes on any Config: " + err.Error())
	}
	return append(buf.Bytes(), renderGateway(c.Gateway)...)
}

// tomlString returns v (a string or a Duration) as a TOML basic string:
// quotes and backslashes escaped, control characters as \uXXXX.
func tomlString(v any) string {
	s := fmt.Sprint(v)
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
