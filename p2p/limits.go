package p2p

import (
	"encoding/binary"
	"time"
)

// Peer and connection limits.
const (
	// DefaultMaxPeers bounds connections when Config.MaxPeers is 0: a federation has tens of
	// caretakers, and each connection costs gossipsub state and heartbeat work.
	DefaultMaxPeers = 50
	// maxPersistentPeers bounds Config.Peers: each one owns a redial goroutine.
	maxPersistentPeers = 256
	// maxListenAddrs bounds Config.ListenAddrs: an operator needs a handful of interfaces.
	maxListenAddrs = 32
	// maxChainIDBytes bounds Config.ChainID: it appears in every topic and protocol name.
	maxChainIDBytes = 64
	// maxNameBytes bounds topic and protocol names for the same reason.
	maxNameBytes = 64
	// maxTopicVersion bounds TopicConfig.Version, for the same reason.
	maxTopicVersion = 1 << 16
	// maxDropReasons bounds disconnect reasons awaiting their Disconnected notification;
	// beyond it a disconnect is logged without its reason.
	maxDropReasons = 1024
	// maxCaretakers bounds SetCaretakers: the allow-list is consulted on every message.
	maxCaretakers = 1024
)

// Gossip size limits (message data only; see gossipEnvelopeBytes for the framing).
const (
	// DefaultTxsTopicBytes suits a batch of transactions of at most 15 kB each (the
	// HTTP body limit).
	DefaultTxsTopicBytes = 256 << 10
	// DefaultProposalsTopicBytes suits a block header with tens of thousands of transaction
	// CIDs and the previous commit.
	DefaultProposalsTopicBytes = 1 << 20
	// DefaultVotesTopicBytes suits one signed prevote or precommit with its ids.
	DefaultVotesTopicBytes = 4 << 10
	// DefaultMaxMessageBytes is the gossip cap when Config.MaxMessageBytes is 0: the
	// largest default topic limit.
	DefaultMaxMessageBytes = DefaultProposalsTopicBytes
	// MaxMessageBytesCap is the largest Config.MaxMessageBytes accepted: gossipsub holds
	// whole messages in memory per peer queue.
	MaxMessageBytesCap = 8 << 20
	// gossipEnvelopeBytes is added to the largest message size for the gossipsub RPC
	// framing around it (signature, author, seqno, topic, piggy-backed control).
	gossipEnvelopeBytes = 16 << 10
	// validateQueueSize bounds messages waiting for validation (gossipsub's default of 32
	// drops bursts: each message arrives once per mesh peer); beyond it they are dropped
	// without penalty.
	validateQueueSize = 1024
	// peerOutboundQueue bounds RPCs queued for one peer (gossipsub's default of 32 drops
	// bursts of transactions); beyond it RPCs are dropped (logged at debug).
	peerOutboundQueue = 256
	// subscriptionBuffer bounds accepted messages queued for a topic handler; beyond it
	// gossipsub drops deliveries to a slow handler (logged at debug).
	subscriptionBuffer = 1024
)

// Stream limits.
const (
	// MaxFrameBytes caps any request or response frame whatever the caller asks: a frame
	// is held in memory whole.
	MaxFrameBytes = 16 << 20
	// MaxErrorBytes bounds the error string a handler sends back; longer ones are cut.
	MaxErrorBytes = 256
	// maxStatusBytes bounds a status frame: one uvarint height.
	maxStatusBytes = binary.MaxVarintLen64
	// maxPeerIDBytes bounds a peer id on the wire (an Ed25519 one has 38 bytes; RSA
	// ones, inlined as hashes, 34).
	maxPeerIDBytes = 128
	// maxMultiaddrBytes bounds one address in a caretaker-address answer.
	maxMultiaddrBytes = 256
	// maxMeshAddrs bounds the addresses given for one caretaker.
	maxMeshAddrs = 8
	// maxMeshRequestBytes bounds a caretaker-address request: maxCaretakers ids.
	maxMeshRequestBytes = maxCaretakers * (maxPeerIDBytes + 2)
	// maxMeshResponseBytes bounds its answer: maxMeshAddrs addresses for each.
	maxMeshResponseBytes = maxCaretakers * (maxPeerIDBytes + 3 + maxMeshAddrs*(maxMultiaddrBytes+2))
)

// Timing.
const (
	// DefaultRequestTimeout bounds a request handler and a Request whose ctx has no deadline.
	DefaultRequestTimeout = 10 * time.Second
	// validateTimeout bounds one gossip validator call so a stuck validator cannot pin
	// gossipsub's validation workers.
	validateTimeout = 5 * time.Second
	// statusTimeout bounds one status push to one peer.
	statusTimeout = 5 * time.Second
	// statusInterval coalesces height announcements: at most one round per interval.
	statusInterval = 100 * time.Millisecond
	// maxStatusSends bounds concurrent status pushes so a slow peer cannot hold others back.
	maxStatusSends = 16
	// dialTimeout bounds one dial of a persistent peer.
	dialTimeout = 5 * time.Second
	// redialMin and redialMax bound the exponential backoff between persistent-peer dials.
	redialMin = 100 * time.Millisecond
	redialMax = 10 * time.Second
	// scoreInspectPeriod is how stale the scores in Peers() may be, and how fast a
	// graylisted peer is dropped; computing scores for MaxPeers peers is cheap.
	scoreInspectPeriod = 250 * time.Millisecond
	// meshInterval is how often a caretaker lacking connections to others asks its
	// caretaker peers for their addresses (mesh.go).
	meshInterval = 10 * time.Second
	// connGracePeriod protects new connections from connection-manager trimming.
	connGracePeriod = 10 * time.Second
)
