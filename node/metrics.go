package node

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsNamespace prefixes every metric name.
const metricsNamespace = "ipdb"

// maxMetricsInFlight bounds concurrent /metrics scrapes.
const maxMetricsInFlight = 4

// Metrics are the node's Prometheus metrics, in a registry of their own
// (nothing is registered globally). A nil *Metrics records nothing. All
// methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	height        prometheus.Gauge
	txsCommitted  prometheus.Counter
	blockTxs      prometheus.Histogram
	blockCommit   prometheus.Histogram
	blockInterval prometheus.Histogram
	httpRequests  *prometheus.CounterVec
	httpSeconds   *prometheus.HistogramVec
	rejected      *prometheus.CounterVec
	subscribers   prometheus.Gauge
	dropped       prometheus.Counter
	cons          *consensusMetrics
	gateway       *prometheus.CounterVec
}

// NewMetrics returns the node's metrics in a new registry, with Go runtime
// and process metrics beside them.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg:           prometheus.NewRegistry(),
		height:        gauge("height", "Height of the newest committed block."),
		txsCommitted:  counter("txs_committed_total", "Transactions committed in blocks."),
		blockTxs:      histogram("block_txs", "Transactions per committed block.", prometheus.ExponentialBuckets(1, 2, 14)),
		blockCommit:   histogram("block_commit_seconds", "Time to build, sign and store a block.", prometheus.ExponentialBuckets(0.0005, 2, 16)),
		blockInterval: histogram("block_interval_seconds", "Time between consecutive committed blocks.", prometheus.ExponentialBuckets(0.001, 2, 16)),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "http_requests_total", Help: "HTTP requests answered, by route pattern and status code."}, []string{"route", "code"}),
		httpSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: metricsNamespace,
			Name: "http_request_seconds", Help: "HTTP request durations, by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace,
			Name: "rejected_txs_total", Help: "Transactions refused, by reason."}, []string{"reason"}),
		subscribers: gauge("stream_subscribers", "Open event-stream subscriptions."),
		dropped:     counter("stream_dropped_total", "Event-stream subscribers dropped for falling behind."),
		cons:        newConsensusMetrics(),
		gateway:     newGatewayRejected(),
	}
	m.reg.MustRegister(m.height, m.txsCommitted, m.blockTxs, m.blockCommit,
		m.blockInterval, m.httpRequests, m.httpSeconds, m.rejected, m.subscribers, m.dropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(m.cons.collectors()...)
	m.reg.MustRegister(m.gateway)
	return m
}

func gauge(name, help string) prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: name, Help: help})
}

func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Namespace: metricsNamespace, Name: name, Help: help})
}

func histogram(name, help string, buckets []float64) prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: metricsNamespace, Name: name, Help: help, Buckets: buckets})
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, MaxRequestsInFlight: maxMetricsInFlight})
}

// Registry returns the registry, for tests and for gathering in-process.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveHTTP records one answered request: route is the route pattern (not
// the raw path, so that the label set stays bounded), code the status.
func (m *Metrics) ObserveHTTP(route string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.httpSeconds.WithLabelValues(route).Observe(d.Seconds())
}

// Rejected counts one refused transaction; reason must come from a bounded
// set (such as a BigchainDB error name).
func (m *Metrics) Rejected(reason string) {
	if m == nil {
		return
	}
	m.rejected.WithLabelValues(reason).Inc()
	switch reason {
	case rejectTooLarge:
		m.gateway.WithLabelValues(RejectSize).Inc()
	case rejectQuota:
		m.gateway.WithLabelValues(RejectQuota).Inc()
	}
}

// committedBlock records a block of n transactions at height h that took
// took to build and store, sinceLast after the previous one (0: unknown).
func (m *Metrics) committedBlock(h uint64, n int, took, sinceLast time.Duration) {
	if m == nil {
		return
	}
	m.height.Set(float64(h))
	m.txsCommitted.Add(float64(n))
	m.blockTxs.Observe(float64(n))
	m.blockCommit.Observe(took.Seconds())
	if sinceLast > 0 {
		m.blockInterval.Observe(sinceLast.Seconds())
	}
}

func (m *Metrics) setHeight(h uint64) {
	if m != nil {
		m.height.Set(float64(h))
	}
}

// watchBacklog adds the backlog gauges, read from stats at each scrape.
func (m *Metrics) watchBacklog(stats func() (int, int64)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: "backlog_txs",
			Help: "Transactions waiting for a block."}, func() float64 { n, _ := stats(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: "backlog_bytes",
			Help: "Canonical bytes of the transactions waiting for a block."}, func() float64 { _, b := stats(); return float64(b) }))
}

func (m *Metrics) setSubscribers(n int) {
	if m != nil {
		m.subscribers.Set(float64(n))
	}
}

func (m *Metrics) streamDropped() {
	if m != nil {
		m.dropped.Inc()
	}
}
