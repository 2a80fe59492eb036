package node

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGatewayMetrics(t *testing.T) {
	m := NewMetrics()
	g, err := newGateway(http.NotFoundHandler(), GatewayConfig{IPRate: 1, IPBurst: 1}, []APIKey{gwTestKey}, m)
	if err != nil {
		t.Fatal(err)
	}
	m.WatchGateway(g)
	for _, hdr := range [][]string{nil, nil, nil, {"app_id", "nope", "app_key", gwTestKey.AppKey}} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "192.0.2.1:1"
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		g.ServeHTTP(httptest.NewRecorder(), r)
	}
	m.RejectedQuota()
	m.Rejected(rejectTooLarge)
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	out := w.Body.String()
	for _, line := range []string{
		`ipdb_gateway_rejected_total{reason="rate"} 2`,
		`ipdb_gateway_rejected_total{reason="key"} 1`,
		`ipdb_gateway_rejected_total{reason="quota"} 1`,
		`ipdb_gateway_rejected_total{reason="size"} 1`,
		`ipdb_gateway_rejected_total{reason="conns"} 0`,
		`ipdb_gateway_clients 1`,
		`ipdb_gateway_top_requests{client="192.0.2.1"} 3`,
	} {
		if !strings.Contains(out, line+"\n") {
			t.Fatalf("/metrics has no line %q:\n%s", line, grepLines(out, "ipdb_gateway"))
		}
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestNilMetricsGateway(t *testing.T) {
	var m *Metrics
	m.GatewayRejected(RejectRate)
	m.RejectedQuota()
	m.WatchGateway(nil)
}
