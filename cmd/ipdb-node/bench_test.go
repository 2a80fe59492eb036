package main

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var summaryRE = regexp.MustCompile(`^committed (\d+) tx in [0-9]+\.[0-9]{2} s: [0-9]+\.[0-9] tx/s, p50 [0-9]+\.[0-9] ms, p99 [0-9]+\.[0-9] ms, sustained [0-9]+\.[0-9] tx/s$`)

func TestBenchAgainstNode(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir())
	key, err := newKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cfg := benchConfig{APIs: []string{n.api}, Rate: 200, Duration: time.Second, Size: 700, Workers: 4,
		Drain: testWait, Key: key, Progress: &out}
	res, err := runBench(t.Context(), cfg)
	if err != nil {
		t.Fatalf("runBench()=%v\n%s", err, out.String())
	}
	if res.Signed != 200 || res.Submitted == 0 || res.Accepted != res.Submitted || res.Refused != 0 || res.Committed != res.Accepted {
		t.Fatalf("runBench()=%+v, want 200 signed and every submitted one accepted and committed\n%s", res, out.String())
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.Elapsed <= 0 {
		t.Fatalf("runBench()=%+v, want 0 < p50 <= p99 and a positive elapsed time", res)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := lines[len(lines)-1]; !summaryRE.MatchString(last) || last != res.Summary() {
		t.Fatalf("last line %q, want the summary %q", last, res.Summary())
	}
	if st := getStatus(t, n.api); st.BacklogTxs != 0 || st.Height == 0 {
		t.Fatalf("status after bench %+v, want an empty backlog and blocks", st)
	}
}

func TestBenchCommandTwoAPIs(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir())
	// The same node twice: the POSTs alternate between the two URLs, and the
	// first's stream reports every commit, each counted once.
	out := mustRunCLI(t, "bench", "--api", n.api+","+n.api+"/api/v1", "--rate", "50", "--duration", "1s",
		"--size", "2000", "--workers", "2")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	m := summaryRE.FindStringSubmatch(lines[len(lines)-1])
	if m == nil {
		t.Fatalf("last line %q does not match %v", lines[len(lines)-1], summaryRE)
	}
	if !strings.Contains(out, "bench: submitted "+m[1]+" in ") || !strings.Contains(out, m[1]+" accepted, 0 refused") {
		t.Fatalf("committed %s, want every submitted transaction accepted and committed once:\n%s", m[1], out)
	}
}

func TestBenchRefusals(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir())
	// Bodies over the node's 15 kB limit are refused with 413.
	out, stderr, err := runCLI(t, "bench", "--api", n.api, "--rate", "20", "--duration", "100ms", "--size", "20000", "--timeline")
	checkOneLineError(t, stderr, err, "no transaction was committed")
	if !strings.Contains(out, ": 0 accepted, ") || !strings.Contains(out, "first refusal: 413") {
		t.Fatalf("bench printed %q, want every transaction refused with 413", out)
	}
	// The timeline's seconds add up to the POSTs sent, every one refused.
	m := regexp.MustCompile(`bench: submitted (\d+) in`).FindStringSubmatch(out)
	rows := regexp.MustCompile(`(?m)^bench: +\d+ +(\d+) +(\d+) +(\d+)$`).FindAllStringSubmatch(out, -1)
	sent, refused := 0, 0
	for _, row := range rows {
		s, _ := strconv.Atoi(row[1])
		f, _ := strconv.Atoi(row[2])
		c, _ := strconv.Atoi(row[3])
		sent, refused = sent+s, refused+f
		if c != 0 {
			t.Fatalf("timeline row %q shows commits, want none", row[0])
		}
	}
	if m == nil || len(rows) == 0 || strconv.Itoa(sent) != m[1] || refused != sent {
		t.Fatalf("timeline sums to %d sent, %d refused; want every submitted POST refused:\n%s", sent, refused, out)
	}
}

func TestPresignSizes(t *testing.T) {
	t.Parallel()
	key, _ := newKeyPair()
	for _, size := range []int{0, 1024, 5000} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			txs, err := presign(t.Context(), key, 20, size)
			if err != nil {
				t.Fatalf("presign()=%v", err)
			}
			ids := make(map[string]bool)
			for i := range txs {
				if ids[txs[i].id] {
					t.Fatalf("transaction %d repeats id %s", i, txs[i].id)
				}
				ids[txs[i].id] = true
				if got := len(txs[i].body); size > 0 && (got < size || got > size+4) {
					t.Fatalf("transaction %d is %d bytes, want about %d", i, got, size)
				}
			}
		})
	}
}

func TestBenchConfigCheck(t *testing.T) {
	t.Parallel()
	good := benchConfig{APIs: []string{defaultAPI}, Rate: 10, Duration: time.Second, Size: 1024, Workers: 1, Drain: time.Second}
	tests := []struct {
		name   string
		change func(*benchConfig)
		want   string
	}{
		{"good", func(*benchConfig) {}, ""},
		{"no api", func(c *benchConfig) { c.APIs = nil }, "--api"},
		{"zero rate", func(c *benchConfig) { c.Rate = 0 }, "--rate"},
		{"zero duration", func(c *benchConfig) { c.Duration = 0 }, "--duration"},
		{"huge size", func(c *benchConfig) { c.Size = 1 << 20 }, "--size"},
		{"no workers", func(c *benchConfig) { c.Workers = 0 }, "--workers"},
		{"negative drain", func(c *benchConfig) { c.Drain = -1 }, "--drain"},
		{"too many txs", func(c *benchConfig) { c.Rate, c.Duration = 100_000, time.Hour }, "over the limit of 1000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.change(&c)
			err := c.check()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("check()=%v, want an error holding %q", err, tt.want)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"none", nil, 0.5, 0},
		{"one", ms(7), 0.99, 7 * time.Millisecond},
		{"median of four", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"p99 of 100", ms(func() []int {
			v := make([]int, 100)
			for i := range v {
				v[i] = i + 1
			}
			return v
		}()...), 0.99, 99 * time.Millisecond},
		{"p100", ms(1, 2, 3), 1, 3 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Fatalf("percentile(%v)=%v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestBenchResultSustained(t *testing.T) {
	t.Parallel()
	const start = int64(time.Second)
	// A 4 s load: its steady part runs from 1 s to 4 s after the first POST.
	r := &benchRun{cfg: benchConfig{Duration: 4 * time.Second}, txs: make([]benchTx, 7)}
	at := func(d time.Duration) int64 { return start + int64(d) }
	for i, c := range []struct{ sent, committed time.Duration }{
		{0, 900 * time.Millisecond},                        // ramp-up: out
		{0, time.Second},                                   // first instant of the window: in
		{time.Second, 2 * time.Second},                     // in
		{2 * time.Second, 3 * time.Second},                 // in
		{3 * time.Second, 4*time.Second - time.Nanosecond}, // last instant: in
		{3 * time.Second, 4 * time.Second},                 // after the offering: out
		{3 * time.Second, -1},                              // not committed: out
	} {
		r.txs[i].sent.Store(at(c.sent))
		if c.committed >= 0 {
			r.txs[i].committed.Store(at(c.committed))
		}
	}
	res := r.result(start)
	if res.Committed != 6 || res.Elapsed != 4*time.Second {
		t.Fatalf("result: %d committed in %v, want 6 in 4s", res.Committed, res.Elapsed)
	}
	if want := 4.0 / 3; res.Sustained != want {
		t.Fatalf("Sustained=%v, want %v (4 commits in the 3 s window)", res.Sustained, want)
	}
}

func TestBenchTimeline(t *testing.T) {
	t.Parallel()
	const start = int64(time.Second)
	r := &benchRun{txs: make([]benchTx, 5)}
	at := func(d time.Duration) int64 { return start + int64(d) }
	for i, c := range []struct {
		sent, committed time.Duration
		refused         bool
	}{
		{0, 1500 * time.Millisecond, false},   // sent in second 0, committed in 1
		{999 * time.Millisecond, -1, true},    // refused in second 0
		{time.Second, 3 * time.Second, false}, // second 1, committed in 3
		{2500 * time.Millisecond, -1, false},  // accepted, never seen committed
		{-1, -1, false},                       // never sent
	} {
		if c.sent >= 0 {
			r.txs[i].sent.Store(at(c.sent))
		}
		if c.committed >= 0 {
			r.txs[i].committed.Store(at(c.committed))
		}
		r.txs[i].refused.Store(c.refused)
	}
	got := r.timeline(start)
	want := []benchSecond{{sent: 2, refused: 1}, {sent: 1, committed: 1}, {sent: 1}, {committed: 1}}
	if !slices.Equal(got, want) {
		t.Fatalf("timeline=%+v, want %+v", got, want)
	}
}

func TestBenchSummaryFormat(t *testing.T) {
	t.Parallel()
	r := benchResult{Committed: 1500, Elapsed: 3 * time.Second, P50: 12345 * time.Microsecond, P99: 80 * time.Millisecond, Sustained: 512.34}
	if got, want := r.Summary(), "committed 1500 tx in 3.00 s: 500.0 tx/s, p50 12.3 ms, p99 80.0 ms, sustained 512.3 tx/s"; got != want {
		t.Fatalf("Summary()=%q, want %q", got, want)
	}
	if got, want := (benchResult{}).Summary(), "committed 0 tx in 0.00 s: 0.0 tx/s, p50 0.0 ms, p99 0.0 ms, sustained 0.0 tx/s"; got != want {
		t.Fatalf("Summary()=%q, want %q", got, want)
	}
}
