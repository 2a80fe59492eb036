package p2p

import (
	"sync/atomic"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
)

// Traffic is what gossip brought a node on one topic since its host
// started: the messages first received and accepted (Delivered, with
// those the Validator judged AcceptNoRelay), and the
// further copies of messages already seen (Duplicates), each with the
// bytes of their data; the node's own publishes are not counted.
// Gossipsub relays a message on every mesh link, so a node may receive
// several copies of each; IDONTWANT suppresses some.
type Traffic struct {
	Delivered, DeliveredBytes  int64
	Duplicates, DuplicateBytes int64
}

// topicTraffic is a topic's Traffic, counted by the tracer from
// gossipsub's event loop and read by Host.Traffic at any time.
type topicTraffic struct {
	delivered, deliveredBytes  atomic.Int64
	duplicates, duplicateBytes atomic.Int64
}

func (c *topicTraffic) load() Traffic {
	return Traffic{Delivered: c.delivered.Load(), DeliveredBytes: c.deliveredBytes.Load(),
		Duplicates: c.duplicates.Load(), DuplicateBytes: c.duplicateBytes.Load()}
}

// Traffic returns the gossip received on each joined topic, by topic name
// (TopicConfig.Name; the versions of one name are summed). Safe for
// concurrent use.
func (h *Host) Traffic() map[string]Traffic {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]Traffic, len(h.topics))
	for _, t := range h.topics {
		sum, add := out[t.cfg.Name], t.traffic.load()
		sum.Delivered += add.Delivered
		sum.DeliveredBytes += add.DeliveredBytes
		sum.Duplicates += add.Duplicates
		sum.DuplicateBytes += add.DuplicateBytes
		out[t.cfg.Name] = sum
	}
	return out
}

// countedTopic returns the counters of the joined topic named name
// (versioned), or nil. It takes no lock: the tracer calls it from
// gossipsub's event loop.
func (h *Host) countedTopic(name string) *topicTraffic {
	if c, ok := h.traffic.Load(name); ok {
		return c.(*topicTraffic)
	}
	return nil
}

// countDelivered counts msg as delivered.
func (c *topicTraffic) countDelivered(msg *pubsub.Message) {
	c.delivered.Add(1)
	c.deliveredBytes.Add(int64(len(msg.Data)))
}

// DeliverMessage counts a message accepted and delivered.
func (r *rejectTracer) DeliverMessage(msg *pubsub.Message) {
	if c := r.h.countedTopic(msg.GetTopic()); c != nil {
		c.countDelivered(msg)
	}
}

// DuplicateMessage counts a copy of a message already seen.
func (r *rejectTracer) DuplicateMessage(msg *pubsub.Message) {
	if c := r.h.countedTopic(msg.GetTopic()); c != nil {
		c.duplicates.Add(1)
		c.duplicateBytes.Add(int64(len(msg.Data)))
	}
}
