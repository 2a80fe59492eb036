package node

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ipdb/ipdb-node/p2p"
)

// gaugeValue returns the value of the unlabelled metric name (a gauge or a
// counter) in m's registry.
func gaugeValue(t *testing.T, m *Metrics, name string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("Gather()=%v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		metric := f.GetMetric()[0]
		if g := metric.GetGauge(); g != nil {
			return g.GetValue()
		}
		return metric.GetCounter().GetValue()
	}
	t.Fatalf("metric %s not gathered", name)
	return 0
}

func TestMetricsHandler(t *testing.T) {
	m := NewMetrics()
	m.ObserveHTTP("/api/v1/transactions/{id}", 200, 3*time.Millisecond)
	m.Rejected("DoubleSpend")
	m.committedBlock(7, 3, time.Millisecond, 20*time.Millisecond)
	m.watchBacklog(func() (int, int64) { return 4, 1234 })
	m.watchCaretakers(func() int { return 2 })
	m.watchGossipTraffic(func() map[string]p2p.Traffic {
		return map[string]p2p.Traffic{"txs": {Delivered: 3, DeliveredBytes: 3000, Duplicates: 2, DuplicateBytes: 2000}}
	})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`ipdb_http_requests_total{code="200",route="/api/v1/transactions/{id}"} 1`,
		`ipdb_http_request_seconds_count{route="/api/v1/transactions/{id}"} 1`,
		`ipdb_rejected_txs_total{reason="DoubleSpend"} 1`,
		"ipdb_height 7", "ipdb_txs_committed_total 3", "ipdb_block_txs_count 1",
		"ipdb_block_commit_seconds_count 1", "ipdb_block_interval_seconds_count 1",
		"ipdb_backlog_txs 4", "ipdb_backlog_bytes 1234", "ipdb_stream_subscribers 0",
		"ipdb_stream_dropped_total 0", "go_goroutines", "ipdb_p2p_caretakers_unconnected 2",
		`ipdb_gossip_received_messages_total{kind="delivered",topic="txs"} 3`,
		`ipdb_gossip_received_messages_total{kind="duplicate",topic="txs"} 2`,
		`ipdb_gossip_received_bytes_total{kind="delivered",topic="txs"} 3000`,
		`ipdb_gossip_received_bytes_total{kind="duplicate",topic="txs"} 2000`,
	} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.ObserveHTTP("/", 200, time.Second)
	m.Rejected("x")
	m.committedBlock(1, 1, 0, 0)
	m.setHeight(1)
	m.setSubscribers(1)
	m.streamDropped()
	m.watchBacklog(nil)
	m.watchCaretakers(nil)
	m.watchGossipTraffic(nil)
}
