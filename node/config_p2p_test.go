package node

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// Multiaddrs of the tests; the peer ids are of Ed25519 keys.
const (
	testListen = "/ip4/127.0.0.1/tcp/26656"
	testQUIC   = "/ip4/127.0.0.1/udp/26656/quic-v1"
	testPeer   = "/ip4/127.0.0.1/tcp/26657/p2p/12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5"
	testPeer2  = "/ip4/127.0.0.1/udp/26658/quic-v1/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq"
)

func genP2P(t *rapid.T) P2PConfig {
	p := P2PConfig{MaxPeers: rapid.IntRange(1, maxMaxPeers).Draw(t, "max_peers")}
	p.Listen = rapid.SliceOfN(rapid.SampledFrom([]string{testListen, testQUIC, "/ip6/::/tcp/0"}), 0, 3).Draw(t, "listen")
	p.Peers = rapid.SliceOfN(rapid.SampledFrom([]string{testPeer, testPeer2}), 1, 3).Draw(t, "peers")
	p.normalize()
	return p
}

func genConsensus(t *rapid.T) ConsensusConfig {
	dur := func(name string, lo, hi time.Duration) Duration {
		return Dur(time.Duration(rapid.Int64Range(int64(lo), int64(hi)).Draw(t, name)))
	}
	return ConsensusConfig{
		TimeoutPropose:   dur("timeout_propose", minConsensusTimeout, maxConsensusTimeout),
		TimeoutPrevote:   dur("timeout_prevote", minConsensusTimeout, maxConsensusTimeout),
		TimeoutPrecommit: dur("timeout_precommit", minConsensusTimeout, maxConsensusTimeout),
		TimeoutDelta:     dur("timeout_delta", 0, maxTimeoutDelta),
		RetryInterval:    dur("retry_interval", minConsensusTimeout, maxConsensusTimeout),
	}
}

func TestDefaultP2PConsensus(t *testing.T) {
	c := DefaultConfig()
	want := ConsensusConfig{Dur(time.Second), Dur(500 * time.Millisecond), Dur(500 * time.Millisecond), Dur(250 * time.Millisecond), Dur(time.Second), false}
	if c.Consensus != want {
		t.Fatalf("DefaultConfig().Consensus=%+v, want %+v", c.Consensus, want)
	}
	if c.Role != RoleCaretaker || c.P2P.Listen != nil || c.P2P.Peers != nil || c.P2P.MaxPeers != 50 {
		t.Fatalf("DefaultConfig() role %q p2p %+v, want caretaker, p2p off, max_peers 50", c.Role, c.P2P)
	}
}

func TestValidateP2PConsensusBounds(t *testing.T) {
	many := func(n int, s string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	tests := []struct {
		name   string
		modify func(c *Config)
		want   string
	}{
		{"role", func(c *Config) { c.Role = "voter" }, `role: must be one of caretaker, follower, got "voter"`},
		{"role empty", func(c *Config) { c.Role = "" }, `role: must be one of caretaker, follower, got ""`},
		{"follower without peers", func(c *Config) { c.Role = RoleFollower }, "p2p.peers: a follower needs at least one peer"},
		{"max peers zero", func(c *Config) { c.P2P.MaxPeers = 0 }, "p2p.max_peers: must be between 1 and 1000, got 0"},
		{"max peers over", func(c *Config) { c.P2P.MaxPeers = 1001 }, "p2p.max_peers: must be between 1 and 1000, got 1001"},
		{"listen not multiaddr", func(c *Config) { c.P2P.Listen = []string{testListen, "127.0.0.1:26656"} }, `p2p.listen[1]: must be a multiaddr such as /ip4/127.0.0.1/tcp/26656, got "127.0.0.1:26656"`},
		{"listen too many", func(c *Config) { c.P2P.Listen = many(17, testListen) }, "p2p.listen: at most 16 addresses, got 17"},
		{"listen too long", func(c *Config) { c.P2P.Listen = []string{"/dns4/" + strings.Repeat("a", 400) + "/tcp/1"} }, "p2p.listen[0]: must be a multiaddr of at most 400 bytes"},
		{"peer without id", func(c *Config) { c.P2P.Peers = []string{testListen} }, `p2p.peers[0]: must end in /p2p/<peer id>, got "/ip4/127.0.0.1/tcp/26656"`},
		{"peer bad", func(c *Config) { c.P2P.Peers = []string{testPeer, "/p2p/xyz"} }, "p2p.peers[1]: must be a multiaddr"},
		{"peers too many", func(c *Config) { c.P2P.Peers = many(201, testPeer) }, "p2p.peers: at most 200 addresses, got 201"},
		{"propose zero", func(c *Config) { c.Consensus.TimeoutPropose = Duration{} }, "consensus.timeout_propose: must be between 10ms and 1m0s, got 0s"},
		{"prevote over", func(c *Config) { c.Consensus.TimeoutPrevote = Dur(2 * time.Minute) }, "consensus.timeout_prevote: must be between 10ms and 1m0s, got 2m0s"},
		{"precommit small", func(c *Config) { c.Consensus.TimeoutPrecommit = Dur(time.Millisecond) }, "consensus.timeout_precommit: must be between 10ms and 1m0s, got 1ms"},
		{"delta negative", func(c *Config) { c.Consensus.TimeoutDelta = Dur(-time.Millisecond) }, "consensus.timeout_delta: must be between 0s and 10s, got -1ms"},
		{"delta over", func(c *Config) { c.Consensus.TimeoutDelta = Dur(11 * time.Second) }, "consensus.timeout_delta: must be between 0s and 10s, got 11s"},
		{"retry zero", func(c *Config) { c.Consensus.RetryInterval = Duration{} }, "consensus.retry_interval: must be between 10ms and 1m0s, got 0s"},
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

func TestValidateAcceptsP2PBounds(t *testing.T) {
	c := DefaultConfig()
	c.Role = RoleFollower
	c.P2P = P2PConfig{Listen: []string{testListen, testQUIC, "/ip6/::1/tcp/0"}, Peers: []string{testPeer, testPeer2}, MaxPeers: maxMaxPeers}
	c.Consensus = ConsensusConfig{Dur(minConsensusTimeout), Dur(maxConsensusTimeout), Dur(minConsensusTimeout), Duration{}, Dur(maxConsensusTimeout), true}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate()=%v, want nil", err)
	}
}

func TestParseConfigP2P(t *testing.T) {
	doc := fmt.Sprintf("role = \"follower\"\n[p2p]\nlisten = [%q, %q]\npeers = [%q]\n[consensus]\ntimeout_propose = \"3s\"\nsync_verify_signatures = true\n",
		testListen, testQUIC, testPeer)
	got, err := ParseConfig([]byte(doc))
	if err != nil {
		t.Fatalf("ParseConfig()=%v", err)
	}
	if got.Role != RoleFollower || len(got.P2P.Listen) != 2 || got.P2P.Peers[0] != testPeer || got.Consensus.TimeoutPropose != Dur(3*time.Second) ||
		!got.Consensus.SyncVerifySignatures {
		t.Fatalf("ParseConfig()=%+v, want the follower, two listen addrs, the peer, a 3s propose timeout and signatures checked in sync", got)
	}
	for _, tt := range []struct{ doc, want string }{
		{"[consensus]\ntimeout_prevote = 1\n", `consensus.timeout_prevote: want a duration string`},
		{"[p2p]\nlisten = \"/ip4/1.2.3.4/tcp/1\"\n", "p2p.listen"},
		{"[p2p]\nseeds = []\n", "p2p.seeds: unknown key"},
		{"[p2p]\npeers = []\n", ""},
	} {
		_, err := ParseConfig([]byte(tt.doc))
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Fatalf("ParseConfig(%q)=%v, want an error containing %q", tt.doc, err, tt.want)
		}
	}
}

// TestRenderConfigDocumentsP2PKeys checks each new key is written with a
// comment stating its default.
func TestRenderConfigDocumentsP2PKeys(t *testing.T) {
	out := string(RenderConfig(DefaultConfig()))
	for _, k := range []struct{ key, def string }{
		{"role", `"caretaker"`}, {"listen", "[]"}, {"peers", "[]"}, {"max_peers", "50"},
		{"timeout_propose", `"1s"`}, {"timeout_prevote", `"500ms"`}, {"timeout_precommit", `"500ms"`},
		{"timeout_delta", `"250ms"`}, {"retry_interval", `"1s"`},
	} {
		line := k.key + " = " + k.def
		i := strings.Index(out, "\n"+line+"\n")
		if i < 0 {
			t.Fatalf("RenderConfig() has no line %q:\n%s", line, out)
		}
		prev := out[strings.LastIndex(out[:i], "\n")+1 : i]
		if !strings.HasPrefix(prev, "# ") || !strings.Contains(prev, "Default "+k.def) {
			t.Fatalf("RenderConfig(): %s has no comment with its default above it, got %q", k.key, prev)
		}
	}
}
