package node

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ipdb/ipdb-node/federation"
	"github.com/ipdb/ipdb-node/p2p"
)

// consensusMetrics are the metrics of the BFT engine, gossip and block
// sync.
type consensusMetrics struct {
	height      prometheus.Gauge
	rounds      prometheus.Histogram
	votes       *prometheus.CounterVec
	verdicts    *prometheus.CounterVec
	gossip      *prometheus.CounterVec
	equivocated prometheus.Counter
	synced      prometheus.Counter
	syncFailed  prometheus.Counter
	relayed     prometheus.Counter
	fetched     prometheus.Counter
}

func newConsensusMetrics() *consensusMetrics {
	return &consensusMetrics{
		height: gauge("consensus_height", "Height the consensus machine is deciding."),
		rounds: histogram("consensus_decision_round", "Round in which each height was decided.", prometheus.LinearBuckets(0, 1, 8)),
		votes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "consensus_votes_total", Help: "Votes received from peers, by type."}, []string{"type"}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "consensus_proposals_verified_total", Help: "Proposed blocks verified, by result."}, []string{"result"}),
		gossip: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "gossip_messages_total", Help: "Gossip messages validated, by topic and verdict."}, []string{"topic", "verdict"}),
		equivocated: counter("consensus_equivocations_total", "Double votes seen."),
		synced:      counter("sync_blocks_total", "Blocks stored by block sync."),
		syncFailed:  counter("sync_failures_total", "Block-sync answers that failed (request, decode or verification); the sync is retried."),
		relayed:     counter("consensus_votes_relayed_total", "Other caretakers' votes re-published on a retry timer."),
		fetched: counter("txs_fetched_total",
			"Transactions a proposal named that had not reached the node by gossip, fetched from peers."),
	}
}

func (c *consensusMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{c.height, c.rounds, c.votes, c.verdicts, c.gossip, c.equivocated, c.synced, c.syncFailed, c.relayed, c.fetched}
}

// watchPeers adds the connected-peers gauge, read from count at each scrape.
func (m *Metrics) watchPeers(count func() int) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: "p2p_peers",
		Help: "Connected libp2p peers."}, func() float64 { return float64(count()) }))
}

// watchCaretakers adds ipdb_p2p_caretakers_unconnected, the current
// caretakers other than this node it has no connection to, read from count
// at each scrape. Caretakers do not relay one another's transaction
// batches, so a caretaker should be connected to every other: above 0, it
// gets the missing ones' transactions only when a proposal names them.
func (m *Metrics) watchCaretakers(count func() int) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: "p2p_caretakers_unconnected",
		Help: "Current caretakers, other than this node, it has no connection to."}, func() float64 { return float64(count()) }))
}

func (m *Metrics) consensusHeight(h uint64) {
	if m != nil {
		m.cons.height.Set(float64(h))
	}
}

func (m *Metrics) decided(round uint32) {
	if m != nil {
		m.cons.rounds.Observe(float64(round))
	}
}

func (m *Metrics) vote(t federation.VoteType) {
	if m != nil {
		m.cons.votes.WithLabelValues(t.String()).Inc()
	}
}

func (m *Metrics) relayed(n int) {
	if m != nil {
		m.cons.relayed.Add(float64(n))
	}
}

func (m *Metrics) verdict(valid bool) {
	if m == nil {
		return
	}
	r := "invalid"
	if valid {
		r = "valid"
	}
	m.cons.verdicts.WithLabelValues(r).Inc()
}

func (m *Metrics) gossip(topic string, v p2p.Verdict) {
	if m == nil {
		return
	}
	names := map[p2p.Verdict]string{p2p.Accept: "accept", p2p.Reject: "reject", p2p.Ignore: "ignore"}
	m.cons.gossip.WithLabelValues(topic, names[v]).Inc()
}

func (m *Metrics) equivocation() {
	if m != nil {
		m.cons.equivocated.Inc()
	}
}

// syncFailed counts a failed block-sync answer.
func (m *Metrics) syncFailed() {
	if m != nil {
		m.cons.syncFailed.Inc()
	}
}

// fetched counts n transactions fetched for a proposal.
func (m *Metrics) fetched(n int) {
	if m != nil {
		m.cons.fetched.Add(float64(n))
	}
}

func (m *Metrics) synced(n int) {
	if m != nil {
		m.cons.synced.Add(float64(n))
	}
}

// watchGossipTraffic adds the gossip received per topic, read from traffic
// at each scrape: ipdb_gossip_received_messages_total and
// ipdb_gossip_received_bytes_total, by topic and kind ("delivered": first
// copies accepted; "duplicate": further copies gossipsub dropped). An
// operator reads the node's gossip bandwidth, and how much of it is
// redundant, from them.
func (m *Metrics) watchGossipTraffic(traffic func() map[string]p2p.Traffic) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&gossipTraffic{traffic: traffic})
}

var (
	gossipReceivedMessages = prometheus.NewDesc(prometheus.BuildFQName(metricsNamespace, "", "gossip_received_messages_total"),
		"Gossip messages received from peers, by topic and kind (delivered: first copies accepted; duplicate: copies already seen).",
		[]string{"topic", "kind"}, nil)
	gossipReceivedBytes = prometheus.NewDesc(prometheus.BuildFQName(metricsNamespace, "", "gossip_received_bytes_total"),
		"Data bytes of the gossip messages received from peers, by topic and kind (as gossip_received_messages_total).",
		[]string{"topic", "kind"}, nil)
)

// gossipTraffic collects p2p.Traffic as counters.
type gossipTraffic struct{ traffic func() map[string]p2p.Traffic }

func (g *gossipTraffic) Describe(ch chan<- *prometheus.Desc) {
	ch <- gossipReceivedMessages
	ch <- gossipReceivedBytes
}

func (g *gossipTraffic) Collect(ch chan<- prometheus.Metric) {
	for topic, t := range g.traffic() {
		for _, c := range []struct {
			desc  *prometheus.Desc
			kind  string
			value int64
		}{
			{gossipReceivedMessages, "delivered", t.Delivered},
			{gossipReceivedMessages, "duplicate", t.Duplicates},
			{gossipReceivedBytes, "delivered", t.DeliveredBytes},
			{gossipReceivedBytes, "duplicate", t.DuplicateBytes},
		} {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(c.value), topic, c.kind)
		}
	}
}
