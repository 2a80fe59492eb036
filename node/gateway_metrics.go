package node

import (
	"github.com/prometheus/client_golang/prometheus"
)

// gatewayTopTalkers is how many clients ipdb_gateway_top_requests shows:
// a bounded label set however many clients there are.
const gatewayTopTalkers = 10

// newGatewayRejected returns ipdb_gateway_rejected_total.
func newGatewayRejected() *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Name: "gateway_rejected_total",
		Help: "Requests and connections the gateway refused, by reason: rate (429 over a rate limit), conns (connections or stream subscribers over a per-IP cap), key (malformed or unknown API credentials), size (body over http.max_body_bytes), quota (transactions over their issuer's quota)."},
		[]string{"reason"})
	// Every reason is exported from the start, so that rates work before
	// the first refusal.
	for _, r := range []string{RejectRate, RejectConns, RejectKey, RejectSize, RejectQuota} {
		v.WithLabelValues(r)
	}
	return v
}

// GatewayRejected implements GatewayMetrics: it counts one refusal by
// reason (a Reject* constant).
func (m *Metrics) GatewayRejected(reason string) {
	if m != nil {
		m.gateway.WithLabelValues(reason).Inc()
	}
}

// RejectedQuota counts one transaction refused for its issuer's quota (the
// node's 429 QuotaExceeded answer).
func (m *Metrics) RejectedQuota() { m.GatewayRejected(RejectQuota) }

// WatchGateway adds ipdb_gateway_clients and ipdb_gateway_top_requests,
// read from g at each scrape.
func (m *Metrics) WatchGateway(g *Gateway) {
	if m == nil || g == nil {
		return
	}
	m.reg.MustRegister(&gatewayCollector{g: g,
		clients: prometheus.NewDesc(metricsNamespace+"_gateway_clients",
			"Client IPs with a token bucket now (at most 100000).", nil, nil),
		top: prometheus.NewDesc(metricsNamespace+"_gateway_top_requests",
			"Estimated requests in the last minute of the 10 clients (IPs, IPv6 /64s or key:<app_id>) with the most.",
			[]string{"client"}, nil)})
}

// gatewayCollector reads the gateway's gauges at scrape time.
type gatewayCollector struct {
	g            *Gateway
	clients, top *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *gatewayCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.clients
	ch <- c.top
}

// Collect implements prometheus.Collector.
func (c *gatewayCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.clients, prometheus.GaugeValue, float64(c.g.Clients()))
	for _, t := range c.g.TopTalkers(gatewayTopTalkers) {
		ch <- prometheus.MustNewConstMetric(c.top, prometheus.GaugeValue, t.Requests, t.Client)
	}
}
