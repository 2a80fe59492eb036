package p2p

import (
	"context"
	"log/slog"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// rejectTracer logs gossipsub's own rejections (bad signatures, throttling), prunes and
// dropped deliveries at debug, and counts each topic's Traffic (traffic.go). Our
// validator logs its rejections with the precise reason, so "validation failed" and
// "validation ignored" are not logged again here. Gossipsub calls it from its event
// loop: every method must return quickly.
type rejectTracer struct{ h *Host }

var _ pubsub.RawTracer = (*rejectTracer)(nil)

// RejectMessage logs rejections that did not come from our validator.
func (r *rejectTracer) RejectMessage(msg *pubsub.Message, reason string) {
	if reason == pubsub.RejectValidationFailed || reason == pubsub.RejectValidationIgnored ||
		reason == pubsub.RejectSelfOrigin {
		return
	}
	r.h.log.Debug("gossip message rejected", "topic", msg.GetTopic(), "author", msg.GetFrom(),
		"forwarder", msg.ReceivedFrom, "bytes", len(msg.Data), "reason", reason)
}

// Prune logs a peer pruned from a topic mesh.
func (r *rejectTracer) Prune(p peer.ID, topic string) {
	r.h.log.Debug("gossip mesh prune", "peer", p, "topic", topic, "score", r.h.score(p))
}

// UndeliverableMessage logs a message dropped because a topic handler is too slow.
func (r *rejectTracer) UndeliverableMessage(msg *pubsub.Message) {
	r.h.log.Debug("gossip message dropped: handler too slow", "topic", msg.GetTopic(), "author", msg.GetFrom())
}

// ThrottlePeer logs a peer throttled by gossipsub.
func (r *rejectTracer) ThrottlePeer(p peer.ID) { r.h.log.Debug("gossip peer throttled", "peer", p) }

// OnNewOutboundStream is not logged.
func (r *rejectTracer) OnNewOutboundStream(peer.ID, protocol.ID) {}

// OnClosedOutboundStream is not logged.
func (r *rejectTracer) OnClosedOutboundStream(peer.ID) {}

// Join is not logged.
func (r *rejectTracer) Join(string) {}

// Leave is not logged.
func (r *rejectTracer) Leave(string) {}

// Graft is not logged.
func (r *rejectTracer) Graft(peer.ID, string) {}

// ValidateMessage is not logged.
func (r *rejectTracer) ValidateMessage(*pubsub.Message) {}

// RecvRPC is not logged.
func (r *rejectTracer) RecvRPC(*pubsub.RPC) {}

// SendRPC is not logged.
func (r *rejectTracer) SendRPC(*pubsub.RPC, peer.ID) {}

// SendRPCCompleted is not logged.
func (r *rejectTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}

// DropRPC logs an outbound RPC dropped because the peer's queue is full.
func (r *rejectTracer) DropRPC(rpc *pubsub.RPC, p peer.ID) {
	r.h.log.Debug("gossip rpc dropped: peer queue full", "peer", p, "messages", len(rpc.GetPublish()))
}

// minLevel raises a handler's threshold: gossipsub logs every RPC at debug, which would
// drown our own debug logs of rejections.
type minLevel struct {
	slog.Handler
	level slog.Level
}

// Enabled reports whether l reaches both the floor and the wrapped handler's level.
func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.level && m.Handler.Enabled(ctx, l)
}

// WithAttrs keeps the floor.
func (m minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{m.Handler.WithAttrs(as), m.level}
}

// WithGroup keeps the floor.
func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{m.Handler.WithGroup(name), m.level}
}
