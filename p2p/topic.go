package p2p

import (
	"context"
	"errors"
	"fmt"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Verdict is a gossip validator's decision.
type Verdict int

// Verdicts. Reject means invalid (malformed, bad signature, not allowed): the message is
// dropped and the forwarding peer's score is penalised. Ignore means "not now" (stale,
// duplicate, future): dropped without penalty. Accept delivers and forwards.
// AcceptNoRelay means the Validator took the message in itself and nobody needs it
// from us: it is counted as delivered (Host.Traffic) but neither passed to the Handler
// nor forwarded, and costs the peer nothing. For a message whose author sent it to
// every peer that needs it, relaying only adds duplicates.
const (
	Accept Verdict = iota
	Reject
	Ignore
	AcceptNoRelay
)

// String names the verdict for logs.
func (v Verdict) String() string {
	switch v {
	case Accept:
		return "accept"
	case Reject:
		return "reject"
	case Ignore:
		return "ignore"
	case AcceptNoRelay:
		return "accept_no_relay"
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// Validator decides on one gossiped message. from is the original author (its signature
// was checked by gossipsub), or on an Unsigned topic the peer that sent it to us. It may
// run concurrently with itself and is bounded by a ctx deadline; it also runs on our own
// messages before Publish sends them.
type Validator func(ctx context.Context, from peer.ID, data []byte) Verdict

// Handler is called for each accepted message from another author, serially per topic,
// in one goroutine owned by the Host. It may keep data but must not modify it (gossipsub
// keeps the same bytes to forward). A slow handler makes gossipsub drop deliveries to it
// beyond subscriptionBuffer (logged at debug); it should hand heavy work elsewhere.
type Handler func(from peer.ID, data []byte)

// TopicConfig describes one gossip topic, /ipdb/<chain>/<Name>/<Version>.
type TopicConfig struct {
	Name           string // "txs", "proposals", "votes"
	MaxBytes       int    // message size limit, 1..Config.MaxMessageBytes
	CaretakersOnly bool   // authors outside SetCaretakers are Rejected before Validate runs
	// Unsigned topics carry messages without a libp2p signature, for data
	// that proves itself (signed transactions): signing each message and
	// checking it at every hop is then pure cost. Their author is not
	// known, so Validate and Handle get the peer that sent the message to
	// us (ourselves for our own publishes), and CaretakersOnly is refused.
	Unsigned bool
	Validate Validator // nil = Accept
	Handle   Handler   // nil = messages are validated and relayed only
	// Version is the topic's wire version, the last element of its name (0 means 1).
	// Raise it when the topic's messages change so that older nodes would penalise
	// newer ones: nodes of two versions then simply do not share the topic, and keep
	// their other topics during a rolling upgrade.
	Version int
	// Concurrency bounds how many of the topic's messages are validated at
	// once (0: gossipsub's default, 1024). Messages beyond it are dropped
	// unjudged, so that a heavy topic cannot take the CPU from the others.
	Concurrency int
}

// Topic is a joined gossip topic.
type Topic struct {
	h      *Host
	cfg    TopicConfig
	name   string
	topic  *pubsub.Topic
	sub    *pubsub.Subscription
	cancel context.CancelFunc
	// traffic counts what gossip brought on the topic (Host.Traffic).
	traffic topicTraffic
}

// Join joins a topic: it registers the validator chain (signature rule, size, caretaker
// allow-list, then tc.Validate) and starts the handler goroutine. One name may be joined
// at several versions. Errors wrap ErrConfig, ErrTopicJoined or ErrClosed. Safe for
// concurrent use.
func (h *Host) Join(tc TopicConfig) (*Topic, error) {
	if err := h.checkTopicConfig(tc); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	name := h.versionedName(tc.Name, max(1, tc.Version))
	if _, ok := h.topics[name]; ok {
		return nil, fmt.Errorf("%w: %s", ErrTopicJoined, name)
	}
	t, err := h.joinLocked(tc, name)
	if err != nil {
		return nil, err
	}
	h.topics[name] = t
	h.traffic.Store(name, &t.traffic)
	return t, nil
}

// checkTopicConfig checks a TopicConfig's bounds.
func (h *Host) checkTopicConfig(tc TopicConfig) error {
	if tc.Name == "" || len(tc.Name) > maxNameBytes {
		return fmt.Errorf("%w: topic name must have 1..%d bytes", ErrConfig, maxNameBytes)
	}
	if tc.MaxBytes <= 0 || tc.MaxBytes > h.cfg.MaxMessageBytes {
		return fmt.Errorf("%w: topic %s MaxBytes %d not in 1..%d", ErrConfig, tc.Name, tc.MaxBytes, h.cfg.MaxMessageBytes)
	}
	if tc.Version < 0 || tc.Version > maxTopicVersion {
		return fmt.Errorf("%w: topic %s version %d not in 0..%d", ErrConfig, tc.Name, tc.Version, maxTopicVersion)
	}
	if tc.Unsigned && tc.CaretakersOnly {
		return fmt.Errorf("%w: topic %s: an unsigned topic has no author to check against the caretakers", ErrConfig, tc.Name)
	}
	return nil
}

// joinLocked does the pubsub work of Join for the topic named name; h.mu is held.
func (h *Host) joinLocked(tc TopicConfig, name string) (*Topic, error) {
	t := &Topic{h: h, cfg: tc, name: name}
	opts := []pubsub.ValidatorOpt{pubsub.WithValidatorTimeout(validateTimeout)}
	if tc.Concurrency > 0 {
		opts = append(opts, pubsub.WithValidatorConcurrency(tc.Concurrency))
	}
	err := h.ps.RegisterTopicValidator(t.name, t.validate, opts...)
	if err != nil {
		return nil, fmt.Errorf("register validator %s: %w", t.name, err)
	}
	if err := t.subscribe(); err != nil {
		_ = h.ps.UnregisterTopicValidator(t.name)
		return nil, err
	}
	var ctx context.Context
	ctx, t.cancel = context.WithCancel(h.ctx)
	h.wg.Add(1) // h.mu is held and h.closed is false
	go func() {
		defer h.wg.Done()
		t.deliver(ctx)
	}()
	return t, nil
}

// subscribe joins the pubsub topic with scoring and subscribes to it.
func (t *Topic) subscribe() error {
	topic, err := t.h.ps.Join(t.name)
	if err != nil {
		return fmt.Errorf("join %s: %w", t.name, err)
	}
	if err := topic.SetScoreParams(topicScoreParams()); err != nil {
		_ = topic.Close()
		return fmt.Errorf("score params %s: %w", t.name, err)
	}
	sub, err := topic.Subscribe(pubsub.WithBufferSize(subscriptionBuffer))
	if err != nil {
		_ = topic.Close()
		return fmt.Errorf("subscribe %s: %w", t.name, err)
	}
	t.topic, t.sub = topic, sub
	return nil
}

// Publish sends data to the topic's peers, signed unless the topic is Unsigned, after
// running the local validator chain. Errors wrap ErrMessageTooLarge, ErrClosed, or gossipsub's validation error when
// our own validator rejects data. Safe for concurrent use.
func (t *Topic) Publish(ctx context.Context, data []byte) error {
	if len(data) > t.cfg.MaxBytes {
		return fmt.Errorf("%w: %d > %d bytes on %s", ErrMessageTooLarge, len(data), t.cfg.MaxBytes, t.cfg.Name)
	}
	if err := t.h.ctx.Err(); err != nil {
		return ErrClosed
	}
	var opts []pubsub.PubOpt
	if !t.cfg.Unsigned {
		opts = append(opts, pubsub.WithSecretKeyAndPeerId(t.h.cfg.Key, t.h.host.ID()))
	}
	if err := t.topic.Publish(ctx, data, opts...); err != nil {
		if errors.Is(err, pubsub.ErrTopicClosed) {
			return ErrClosed
		}
		return fmt.Errorf("publish %s: %w", t.cfg.Name, err)
	}
	return nil
}

// Peers returns the peers known to be subscribed to the topic: those a
// Publish sends to.
func (t *Topic) Peers() []peer.ID { return t.topic.ListPeers() }

// validate is the gossipsub validator: signature presence, size, then allow-list, then
// the caller's Validator.
func (t *Topic) validate(ctx context.Context, _ peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	author := t.author(msg)
	switch signed := len(msg.Signature) > 0; {
	case signed && t.cfg.Unsigned:
		t.logReject(msg, "signed message on an unsigned topic")
		return pubsub.ValidationReject
	case !signed && !t.cfg.Unsigned:
		t.logReject(msg, "unsigned message on a signed topic")
		return pubsub.ValidationReject
	}
	if len(msg.Data) > t.cfg.MaxBytes {
		t.logReject(msg, fmt.Sprintf("size %d > %d bytes", len(msg.Data), t.cfg.MaxBytes))
		return pubsub.ValidationReject
	}
	if t.cfg.CaretakersOnly && !t.h.IsCaretaker(author) {
		t.logReject(msg, "author is not a caretaker")
		return pubsub.ValidationReject
	}
	if t.cfg.Validate == nil {
		return pubsub.ValidationAccept
	}
	switch v := t.cfg.Validate(ctx, author, msg.Data); v {
	case Accept:
		return pubsub.ValidationAccept
	case Ignore:
		return pubsub.ValidationIgnore
	case AcceptNoRelay:
		// Gossipsub's Ignore drops the message unforwarded and without
		// penalty; its tracer then never reports it delivered.
		if c := t.h.countedTopic(msg.GetTopic()); c != nil {
			c.countDelivered(msg)
		}
		return pubsub.ValidationIgnore
	default:
		t.logReject(msg, "validator: "+v.String())
		return pubsub.ValidationReject
	}
}

// author is who a message is from for our validator and handler: its signer (gossipsub
// checked the signature), or on an Unsigned topic the peer that sent it to us.
func (t *Topic) author(msg *pubsub.Message) peer.ID {
	if t.cfg.Unsigned {
		return msg.ReceivedFrom
	}
	return msg.GetFrom()
}

// logReject logs a rejected message at debug with the topic, author, forwarder and reason.
func (t *Topic) logReject(msg *pubsub.Message, reason string) {
	t.h.log.Debug("gossip message rejected", "topic", t.cfg.Name, "author", msg.GetFrom(),
		"forwarder", msg.ReceivedFrom, "bytes", len(msg.Data), "reason", reason)
}

// deliver runs the topic's handler on each accepted message from others until ctx ends.
func (t *Topic) deliver(ctx context.Context) {
	self := t.h.host.ID()
	for {
		msg, err := t.sub.Next(ctx)
		if err != nil {
			return // ctx cancelled or subscription cancelled by close
		}
		if msg.ReceivedFrom == self || t.author(msg) == self || t.cfg.Handle == nil {
			continue
		}
		t.cfg.Handle(t.author(msg), msg.Data)
	}
}

// close stops the handler and leaves the topic; called by Host.Close.
func (t *Topic) close() {
	t.cancel()
	t.sub.Cancel()
	_ = t.h.ps.UnregisterTopicValidator(t.name)
	_ = t.topic.Close()
}
