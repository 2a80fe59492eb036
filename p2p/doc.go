// Package p2p is the node's libp2p host: it moves bytes on gossip topics and
// request/response streams and never interprets them. The layers above give it
// validators and handlers.
//
// # Host
//
// New starts a host with TCP and QUIC (quic-v1) transports, Noise and TLS security and
// yamux. Peers are explicit: no mDNS, DHT, relay or NAT port mapping. Persistent peers
// (Config.Peers) are dialled at start and re-dialled with exponential backoff
// (100 ms .. 10 s) while the host runs. Connections are bounded by MaxPeers (a gater
// refuses extra inbound peers; the connection manager trims beyond it), persistent peers
// and caretakers excepted. The default libp2p resource manager applies. Close stops and
// waits for every goroutine the host started.
//
// # Topics
//
// Gossip topics are named /ipdb/<chain>/<name>/<version> (Join; TopicConfig.Version, 1
// unless a topic's messages changed incompatibly). Messages are flood-published and
// signed by their author, except on Unsigned topics, whose data proves itself (signed
// transactions) and whose messages carry no signature and no author we could trust: their
// Validator and Handler get the peer that sent the message instead. Gossipsub's own
// signature policy is per router, so the router checks a signature wherever one is present
// (LaxNoSign) and the topic decides whether one must be. An unsigned message is identified
// (deduplicated) by a digest of its topic, author, sequence number and data, so nobody can
// pre-empt a peer's next message with junk under its number. Each message passes, in order:
//
//  1. the signature rule: an unsigned message on a signed topic, or a signed one on an
//     Unsigned topic, is Rejected (gossipsub has checked any signature by then);
//  2. the size check: more than TopicConfig.MaxBytes is Rejected (and more than
//     Config.MaxMessageBytes never gets past gossipsub's framing);
//  3. the allow-list on CaretakersOnly topics: an author not in SetCaretakers is Rejected;
//  4. the topic's Validator, which returns Accept, Reject, Ignore or AcceptNoRelay.
//
// Reject means the message is invalid: it is dropped and the peer that forwarded it is
// penalised. Ignore means "not now" (stale, duplicate, future): dropped, no penalty.
// AcceptNoRelay means the Validator took the message in and nobody needs it from us: it
// counts as delivered but goes no further (no Handler, no forwarding, no penalty). The
// same chain runs on our own messages before Publish sends them. Accepted messages from
// other authors reach the topic's Handler serially, in one goroutine per topic. Every
// rejection is logged at Debug with the topic, author, forwarder and reason.
//
// # Scoring
//
// Gossipsub peer scoring is on. Per topic, invalid deliveries (P4) weigh
// InvalidMessageWeight times their square and decay over an hour; time in mesh and first
// deliveries earn a little. Caretakers get CaretakerScoreBonus (P5). Below
// GossipThreshold a peer gets no gossip, below PublishThreshold we do not publish to it,
// below GraylistThreshold its messages are ignored, its connection is closed (logged at
// Info with the reason) and it is refused until its retained score recovers.
//
// # Streams
//
// Request/response protocols are /ipdb/<chain>/<name>/1 (Handle, Request): one request
// per stream, frames are a uvarint length then the bytes, sizes are checked against the
// limit before a body is read, a response frame is a kind byte then data or an error
// string of at most MaxErrorBytes, which Request returns wrapped in ErrRemote. Handlers
// are bound by DefaultRequestTimeout, requests by their ctx (DefaultRequestTimeout when
// it has none).
//
// The status protocol /ipdb/<chain>/status/1 pushes our height (SetHeight) to each peer
// on connect and on every change, coalesced to one round per 100 ms. Peers reports each
// peer's height, score, caretaker flag, direction and address; HeightChanged signals
// new announcements.
package p2p
