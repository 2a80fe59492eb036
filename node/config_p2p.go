package node

import (
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// Defaults of the role, p2p and consensus settings of Config.
const (
	// DefaultRole is a voting caretaker node.
	DefaultRole = RoleCaretaker
	// DefaultMaxPeers is the most connected peers: enough for a testnet or a
	// network of a few dozen caretakers and followers (a node of a larger
	// network raises it). It is the p2p package's own default.
	DefaultMaxPeers = 50
	// DefaultTimeoutPropose is how long a validator waits for the round's
	// proposal. On loopback and LAN a proposal arrives within milliseconds;
	// 1s tolerates a busy machine yet skips a dead proposer quickly.
	DefaultTimeoutPropose = time.Second
	// DefaultTimeoutPrevote is how long a validator waits for more prevotes
	// after seeing 2/3 of any: half the propose timeout, as votes are small.
	DefaultTimeoutPrevote = 500 * time.Millisecond
	// DefaultTimeoutPrecommit is the same for precommits.
	DefaultTimeoutPrecommit = 500 * time.Millisecond
	// DefaultTimeoutDelta is added to each timeout per round, so that a
	// network slower than the defaults still converges in later rounds.
	DefaultTimeoutDelta = 250 * time.Millisecond
	// DefaultRetryInterval is how often a node behind its peers asks for
	// blocks again, and re-sends its latest votes, when nothing arrived.
	DefaultRetryInterval = time.Second
)

// Roles of a node (Config.Role).
const (
	// RoleCaretaker is a voting node: its key must be in the caretaker set.
	RoleCaretaker = "caretaker"
	// RoleFollower is a non-voting gateway: it follows the chain through
	// p2p, serves the API and relays transactions to the caretakers.
	RoleFollower = "follower"
)

// Bounds of the p2p and consensus settings, each with the reason for it.
const (
	// maxListenAddrs bounds p2p.listen: a TCP and a QUIC address per
	// interface of a few interfaces.
	maxListenAddrs = 16
	// maxPeerAddrs bounds p2p.peers: every caretaker of the largest set,
	// twice (TCP and QUIC).
	maxPeerAddrs = 200
	// maxMultiaddrBytes bounds one multiaddr: a DNS name (253) plus
	// protocols and a peer id.
	maxMultiaddrBytes = 400
	// maxMaxPeers bounds p2p.max_peers: each peer holds connections,
	// goroutines and gossip state.
	maxMaxPeers = 1000
	// minConsensusTimeout, maxConsensusTimeout bound the consensus
	// timeouts: below 10ms a round times out before loopback votes arrive;
	// above 1m a dead proposer stalls the chain for too long.
	minConsensusTimeout = 10 * time.Millisecond
	maxConsensusTimeout = time.Minute
	// maxTimeoutDelta bounds consensus.timeout_delta (0 allowed: no growth).
	maxTimeoutDelta = 10 * time.Second
)

// P2PConfig is the p2p table of the TOML file: the libp2p host.
type P2PConfig struct {
	// Listen are the multiaddrs the host listens on, such as
	// /ip4/0.0.0.0/tcp/26656 and /ip4/0.0.0.0/udp/26656/quic-v1. Empty
	// (the default) turns p2p off, as a single development node needs no
	// peers.
	Listen []string `toml:"listen"`
	// Peers are persistent peers, full multiaddrs ending in /p2p/<peer id>,
	// dialled at start and re-dialled when lost.
	Peers []string `toml:"peers"`
	// MaxPeers is the most connected peers. Zero is refused.
	MaxPeers int `toml:"max_peers"`
}

// ConsensusConfig is the consensus table of the TOML file: the timeouts of
// the caretakers' BFT rounds. Round r waits Timeout + r*TimeoutDelta.
type ConsensusConfig struct {
	// TimeoutPropose is how long to wait for a round's proposal.
	TimeoutPropose Duration `toml:"timeout_propose"`
	// TimeoutPrevote is how long to wait for more prevotes after 2/3 of any.
	TimeoutPrevote Duration `toml:"timeout_prevote"`
	// TimeoutPrecommit is how long to wait for more precommits after 2/3 of any.
	TimeoutPrecommit Duration `toml:"timeout_precommit"`
	// TimeoutDelta is added to each timeout per round (zero: no growth).
	TimeoutDelta Duration `toml:"timeout_delta"`
	// RetryInterval is how often a node re-requests missing blocks and
	// re-sends its latest votes while nothing arrives.
	RetryInterval Duration `toml:"retry_interval"`
	// SyncVerifySignatures makes block sync check every transaction's
	// signatures again. By default a synced block's transactions are
	// taken on the trust of its commit (ledger.VerifyCommitted): the
	// caretakers that signed it checked them, and sync takes about half
	// the CPU.
	SyncVerifySignatures bool `toml:"sync_verify_signatures"`
}

// validate checks the p2p table, one error per problem, naming the key.
func (p P2PConfig) validate() []error {
	errs := []error{between("p2p.max_peers", p.MaxPeers, 1, maxMaxPeers)}
	if len(p.Listen) > maxListenAddrs {
		errs = append(errs, fmt.Errorf("p2p.listen: at most %d addresses, got %d", maxListenAddrs, len(p.Listen)))
	}
	for i, a := range p.Listen {
		errs = append(errs, checkMultiaddr(fmt.Sprintf("p2p.listen[%d]", i), a))
	}
	if len(p.Peers) > maxPeerAddrs {
		errs = append(errs, fmt.Errorf("p2p.peers: at most %d addresses, got %d", maxPeerAddrs, len(p.Peers)))
	}
	for i, a := range p.Peers {
		errs = append(errs, checkPeerAddr(fmt.Sprintf("p2p.peers[%d]", i), a))
	}
	return errs
}

// checkMultiaddr returns an error naming key unless s is a multiaddr of at
// most maxMultiaddrBytes.
func checkMultiaddr(key, s string) error {
	if len(s) > maxMultiaddrBytes {
		return fmt.Errorf("%s: must be a multiaddr of at most %d bytes, got %d bytes", key, maxMultiaddrBytes, len(s))
	}
	if _, err := multiaddr.NewMultiaddr(s); err != nil {
		return fmt.Errorf("%s: must be a multiaddr such as /ip4/127.0.0.1/tcp/26656, got %q: %w", key, s, err)
	}
	return nil
}

// checkPeerAddr returns an error naming key unless s is a multiaddr ending
// in /p2p/<peer id>.
func checkPeerAddr(key, s string) error {
	if err := checkMultiaddr(key, s); err != nil {
		return err
	}
	if _, err := peer.AddrInfoFromString(s); err != nil {
		return fmt.Errorf("%s: must end in /p2p/<peer id>, got %q: %w", key, s, err)
	}
	return nil
}

// validate checks the consensus table, one error per problem, naming the key.
func (c ConsensusConfig) validate() []error {
	return []error{
		betweenDur("consensus.timeout_propose", c.TimeoutPropose, minConsensusTimeout, maxConsensusTimeout),
		betweenDur("consensus.timeout_prevote", c.TimeoutPrevote, minConsensusTimeout, maxConsensusTimeout),
		betweenDur("consensus.timeout_precommit", c.TimeoutPrecommit, minConsensusTimeout, maxConsensusTimeout),
		betweenDur("consensus.timeout_delta", c.TimeoutDelta, 0, maxTimeoutDelta),
		betweenDur("consensus.retry_interval", c.RetryInterval, minConsensusTimeout, maxConsensusTimeout),
	}
}

// normalize makes empty address lists nil, so that a parsed config equals
// the one rendered (TOML writes both as []).
func (p *P2PConfig) normalize() {
	if len(p.Listen) == 0 {
		p.Listen = nil
	}
	if len(p.Peers) == 0 {
		p.Peers = nil
	}
}

// tomlStrings returns ss as a TOML array of basic strings, one a line when
// there are several.
func tomlStrings(ss []string) string {
	if len(ss) == 0 {
		return "[]"
	}
	out := "["
	for _, s := range ss {
		out += "\n  " + tomlString(s) + ","
	}
	return out + "\n]"
}

// renderP2PBounds are the bounds the rendered p2p and consensus comments state.
type renderP2PBounds struct {
	MaxListen, MaxPeerAddrs, MaxMaxPeers int
	MinTimeout, MaxTimeout, MaxDelta     time.Duration
}

// roleChecks are the bounds between the role and the p2p table.
func (c Config) roleChecks() []error {
	if c.Role == RoleFollower && len(c.P2P.Peers) == 0 {
		return []error{fmt.Errorf("p2p.peers: a follower needs at least one peer to follow (role = %q)", RoleFollower)}
	}
	return nil
}
