package p2p

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Peer scoring. The values follow the shape of Lotus' (Filecoin) gossipsub scoring,
// scaled to one invalid-message weight: a peer that forwards a few invalid messages
// falls below GossipThreshold, a handful more and it is graylisted and dropped.
const (
	// CaretakerScoreBonus is the AppSpecificScore of a caretaker (in the allow-list): it
	// keeps caretakers in meshes but is outweighed by a few invalid messages.
	CaretakerScoreBonus = 50.0
	// InvalidMessageWeight is the P4 weight per topic: the penalty is this times the
	// square of the (decaying) count of invalid messages a peer forwarded.
	InvalidMessageWeight = -100.0
	// GossipThreshold, PublishThreshold and GraylistThreshold are the score thresholds
	// below which gossip to a peer stops, we no longer publish to it, and all its
	// messages are ignored and the connection is closed.
	GossipThreshold   = -500.0
	PublishThreshold  = -1000.0
	GraylistThreshold = -2500.0
	// invalidMessageDecay is how long invalid deliveries weigh against a peer.
	invalidMessageDecay = time.Hour
	// scoreRetention is how long a disconnected peer's score is remembered, so that
	// reconnecting does not wash it.
	scoreRetention = time.Hour
)

// newPubSub starts gossipsub with scoring and flood publishing.
//
// Signatures are chosen per topic (TopicConfig.Unsigned), which gossipsub's
// policies do not offer: its policy is per router. So the router runs
// LaxNoSign, which signs nothing itself and checks a signature wherever
// one is present; Publish signs the messages of signed topics with the
// host's key (pubsub.WithSecretKeyAndPeerId), and Topic.validate rejects
// an unsigned message on a signed topic and a signed one on an unsigned
// topic. LaxNoSign is marked deprecated upstream, in favour of the two
// strict policies, neither of which allows this mix; the version is
// pinned in go.mod.
func (h *Host) newPubSub() (*pubsub.PubSub, error) {
	ps, err := pubsub.NewGossipSub(h.ctx, h.host,
		pubsub.WithMessageSignaturePolicy(pubsub.LaxNoSign), //nolint:staticcheck // see above
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithFloodPublish(true),
		pubsub.WithPeerExchange(false),
		pubsub.WithValidateQueueSize(validateQueueSize),
		pubsub.WithPeerOutboundQueueSize(peerOutboundQueue),
		pubsub.WithMaxMessageSize(h.cfg.MaxMessageBytes+gossipEnvelopeBytes),
		pubsub.WithPeerScore(h.peerScoreParams(), peerScoreThresholds()),
		pubsub.WithPeerScoreInspect(pubsub.PeerScoreInspectFn(h.storeScores), scoreInspectPeriod),
		pubsub.WithRawTracer(&rejectTracer{h: h}),
		pubsub.WithLogger(slog.New(minLevel{h.log.Handler(), slog.LevelInfo}).With("component", "gossipsub")),
	)
	if err != nil {
		return nil, fmt.Errorf("gossipsub: %w", err)
	}
	return ps, nil
}

// messageID is gossipsub's message id, under which a message is
// deduplicated. A signed message keeps gossipsub's default, author and
// sequence number, which its signature covers. An unsigned message's
// author and sequence number are the sender's word only: anyone could send
// junk under the next number of a peer's and have the real message
// dropped as a duplicate. Its id is therefore 'u' and a digest of its
// topic, author, sequence number and data. No peer id starts with 'u'
// (they are multihashes, starting 0x00 or 0x12), so the kinds never meet.
func messageID(m *pb.Message) string {
	if len(m.Signature) > 0 {
		return pubsub.DefaultMsgIdFn(m)
	}
	d := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, f := range [][]byte{[]byte(m.GetTopic()), m.GetFrom(), m.GetSeqno(), m.GetData()} {
		d.Write(binary.AppendUvarint(n[:0], uint64(len(f))))
		d.Write(f)
	}
	return string(d.Sum([]byte{'u'}))
}

// peerScoreParams are the global scoring parameters; topics add theirs at Join.
func (h *Host) peerScoreParams() *pubsub.PeerScoreParams {
	return &pubsub.PeerScoreParams{
		Topics:                      map[string]*pubsub.TopicScoreParams{},
		TopicScoreCap:               100,
		AppSpecificScore:            h.appScore,
		AppSpecificWeight:           1,
		IPColocationFactorWeight:    -10,
		IPColocationFactorThreshold: 10,
		IPColocationFactorWhitelist: loopbackNets(),
		BehaviourPenaltyWeight:      -10,
		BehaviourPenaltyThreshold:   6,
		BehaviourPenaltyDecay:       pubsub.ScoreParameterDecay(time.Hour),
		DecayInterval:               pubsub.DefaultDecayInterval,
		DecayToZero:                 pubsub.DefaultDecayToZero,
		RetainScore:                 scoreRetention,
	}
}

// loopbackNets exempts local test networks from the IP-colocation penalty.
func loopbackNets() []*net.IPNet {
	return []*net.IPNet{
		{IP: net.IPv4(127, 0, 0, 0), Mask: net.CIDRMask(8, 32)},
		{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
	}
}

// peerScoreThresholds returns the thresholds documented on GossipThreshold.
func peerScoreThresholds() *pubsub.PeerScoreThresholds {
	return &pubsub.PeerScoreThresholds{
		GossipThreshold:             GossipThreshold,
		PublishThreshold:            PublishThreshold,
		GraylistThreshold:           GraylistThreshold,
		AcceptPXThreshold:           1000,
		OpportunisticGraftThreshold: 3.5,
	}
}

// topicScoreParams rewards time in mesh and first deliveries a little and penalises
// invalid deliveries heavily. Mesh-delivery deficits (P3) are off: our topics are quiet
// between blocks and honest peers would be penalised.
func topicScoreParams() *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		TopicWeight:                    1,
		TimeInMeshWeight:               0.01,
		TimeInMeshQuantum:              time.Second,
		TimeInMeshCap:                  600,
		FirstMessageDeliveriesWeight:   1,
		FirstMessageDeliveriesDecay:    pubsub.ScoreParameterDecay(10 * time.Minute),
		FirstMessageDeliveriesCap:      50,
		InvalidMessageDeliveriesWeight: InvalidMessageWeight,
		InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(invalidMessageDecay),
	}
}

// appScore is gossipsub's P5: the caretaker bonus. Called from gossipsub's loop.
func (h *Host) appScore(p peer.ID) float64 {
	if h.IsCaretaker(p) {
		return CaretakerScoreBonus
	}
	return 0
}

// storeScores is the score inspector; gossipsub calls it every scoreInspectPeriod.
func (h *Host) storeScores(scores map[peer.ID]float64) {
	h.scores.Store(&scores)
	h.conns.scoresUpdated()
}

// score returns a peer's last inspected gossipsub score (0 if unknown).
func (h *Host) score(p peer.ID) float64 {
	return (*h.scores.Load())[p]
}

// SetCaretakers replaces the caretaker allow-list used by CaretakersOnly topics, the
// score bonus, admission beyond MaxPeers and protection from connection trimming.
// Entries past maxCaretakers are ignored. Safe for concurrent use.
func (h *Host) SetCaretakers(ids []peer.ID) {
	m := make(map[peer.ID]struct{}, len(ids))
	for _, id := range ids[:min(len(ids), maxCaretakers)] {
		m[id] = struct{}{}
	}
	h.mu.Lock() // serialises the protect/unprotect below
	defer h.mu.Unlock()
	old := h.caretakers.Swap(&m)
	cm := h.host.ConnManager()
	for id := range *old {
		if _, keep := m[id]; !keep {
			cm.Unprotect(id, caretakerTag)
		}
	}
	for id := range m {
		cm.Protect(id, caretakerTag)
	}
}

// caretakerTag protects caretakers' connections from connection-manager trimming.
const caretakerTag = "caretaker"

// IsCaretaker reports whether p is in the allow-list SetCaretakers last
// set. Safe for concurrent use.
func (h *Host) IsCaretaker(p peer.ID) bool {
	_, ok := (*h.caretakers.Load())[p]
	return ok
}
