package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipdb/ipdb-node/ledger"
)

// Defaults and limits of `ipdb-node bench flood`.
const (
	floodDefaultRate       = 20_000
	floodDefaultDuration   = 5 * time.Second
	floodDefaultBaseline   = 5 * time.Second
	floodDefaultConns      = 128
	floodDefaultClients    = 8
	floodDefaultHonestRate = 5
	floodDefaultPath       = apiPrefix + "/"
	// maxFloodConns bounds --conns: each is a goroutine and a socket.
	maxFloodConns = 4096
	// maxFloodClients bounds --clients: each is a source address of
	// 127.0.0.0/8 and a goroutine.
	maxFloodClients = 200
	// maxFloodPathBytes bounds --path.
	maxFloodPathBytes = 2048
	// floodTxSize is the size of the honest clients' CREATEs.
	floodTxSize = 700
	// metricsScrapeBytes bounds a /metrics answer read for RSS and height.
	metricsScrapeBytes = 8 << 20
)

// floodConfig is what a flood run needs.
type floodConfig struct {
	API        string        // http://host:port
	Rate       float64       // requests per second the flooding client offers
	Duration   time.Duration // how long it floods
	Baseline   time.Duration // how long the honest clients run alone first
	Conns      int           // keep-alive connections of the flood
	Clients    int           // honest clients
	HonestRate float64       // requests per second of each honest client
	Path       string        // what the flood GETs
	Limit      float64       // the node's per-IP limit; 0: from RateLimit-Policy
	Key        ledger.KeyPair
	Progress   io.Writer
}

// check validates the configuration against the flood's limits.
func (c floodConfig) check() error {
	switch {
	case !strings.HasPrefix(c.API, "http://"):
		return fmt.Errorf("--api: bench flood speaks plain HTTP/1.1; want http://HOST:PORT, got %q", c.API)
	case !(c.Rate > 0 && c.Rate <= maxBenchRate):
		return fmt.Errorf("--rate: want more than 0 and at most %d requests per second, got %v", maxBenchRate, c.Rate)
	case c.Duration <= 0 || c.Baseline <= 0:
		return fmt.Errorf("--duration and --baseline: want more than 0, got %v and %v", c.Duration, c.Baseline)
	case c.Conns < 1 || c.Conns > maxFloodConns:
		return fmt.Errorf("--conns: want 1 to %d, got %d", maxFloodConns, c.Conns)
	case c.Clients < 1 || c.Clients > maxFloodClients:
		return fmt.Errorf("--clients: want 1 to %d, got %d", maxFloodClients, c.Clients)
	case !(c.HonestRate > 0 && c.HonestRate <= 1000):
		return fmt.Errorf("--honest-rate: want more than 0 and at most 1000 requests per second, got %v", c.HonestRate)
	case !strings.HasPrefix(c.Path, "/") || len(c.Path) > maxFloodPathBytes || !printableASCII(c.Path):
		return fmt.Errorf("--path: want an absolute path of at most %d printable characters, got %q", maxFloodPathBytes, c.Path)
	case math.IsNaN(c.Limit) || c.Limit < 0:
		return fmt.Errorf("--limit: want 0 (from the RateLimit-Policy header) or more, got %v", c.Limit)
	}
	if n := c.HonestRate * float64(c.Clients) * (c.Duration + c.Baseline).Seconds(); n > maxBenchTxs {
		return fmt.Errorf("honest transactions %.0f, over the limit of %d signed ahead", n, maxBenchTxs)
	}
	return nil
}

// printableASCII reports whether s is printable ASCII without spaces.
func printableASCII(s string) bool {
	for i := range len(s) {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// floodResult is the outcome of a flood run.
type floodResult struct {
	Sent, Accepted, Limited, Other, Failed int64
	Elapsed                                time.Duration // the flood's, first send to last answer
	Offered                                float64       // requests per second sent
	Policy                                 string        // the RateLimit-Policy answered
	Limit                                  float64       // the per-IP limit compared with
	Burst                                  int           // the burst (q) of the policy
	AcceptedRate                           float64       // (Accepted - Burst) / Elapsed
	Deviation                              float64       // AcceptedRate / Limit - 1
	Unloaded, Loaded                       honestStats
	RSSBefore, RSSAfter                    float64 // bytes; 0 unknown
}

// honestStats are the honest clients' figures of one phase.
type honestStats struct {
	Requests, Failed int
	P50, P99         time.Duration
	Blocks           float64 // blocks per second committed in the phase
}

// addFlood adds `bench flood` to the bench command.
func addFlood(a *app, bench *cobra.Command) *cobra.Command {
	cfg := floodConfig{Progress: a.stdout}
	c := &cobra.Command{
		Use:   "flood",
		Short: "Flood a gateway from one client while honest clients post transactions; report how the node holds",
		Long: "flood first runs --clients honest clients alone for --baseline (each POSTs signed CREATEs\n" +
			"with mode=async at --honest-rate), then adds one flooding client that GETs --path (the API\n" +
			"index by default, cheap to answer) at --rate over --conns keep-alive connections for\n" +
			"--duration, with pre-built requests on a raw HTTP/1.1 client. On a loopback API each\n" +
			"client has its own source address (127.0.0.2 floods, 127.0.0.10... are honest), so the\n" +
			"node sees distinct IPs. It reports the flood's accepted rate against the node's per-IP\n" +
			"limit (--limit, else the RateLimit-Policy header: burst q over w seconds), the honest\n" +
			"p50/p99 with and without the flood, the block rate of both phases and the node's RSS\n" +
			"before and after (both from /metrics).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := a.benchAPIs([]string{cfg.API})
			if err != nil {
				return err
			}
			cfg.API = api[0]
			if cfg.Key, err = newKeyPair(); err != nil {
				return err
			}
			_, err = runFlood(cmd.Context(), cfg)
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&cfg.API, "api", "http://127.0.0.1:9984", "API URL of the node to flood (http only)")
	f.Float64Var(&cfg.Rate, "rate", floodDefaultRate, "requests per second the flooding client offers")
	f.DurationVar(&cfg.Duration, "duration", floodDefaultDuration, "how long to flood")
	f.DurationVar(&cfg.Baseline, "baseline", floodDefaultBaseline, "how long the honest clients run alone first")
	f.IntVar(&cfg.Conns, "conns", floodDefaultConns, "keep-alive connections of the flooding client")
	f.IntVar(&cfg.Clients, "clients", floodDefaultClients, "honest clients")
	f.Float64Var(&cfg.HonestRate, "honest-rate", floodDefaultHonestRate, "requests per second of each honest client")
	f.StringVar(&cfg.Path, "path", floodDefaultPath, "path the flood GETs")
	f.Float64Var(&cfg.Limit, "limit", 0, "the node's per-IP limit in requests per second (default: from RateLimit-Policy)")
	bench.AddCommand(c)
	return bench
}

// runFlood runs the baseline and the flood and prints the figures.
func runFlood(ctx context.Context, cfg floodConfig) (floodResult, error) {
	if err := cfg.check(); err != nil {
		return floodResult{}, err
	}
	host := strings.TrimPrefix(cfg.API, "http://")
	floodFrom, honestFrom := sourceAddrs(host, cfg.Clients)
	total := int(math.Ceil(cfg.HonestRate*(cfg.Baseline+cfg.Duration).Seconds())) + 1
	txs, err := presign(ctx, cfg.Key, total*cfg.Clients, floodTxSize)
	if err != nil {
		return floodResult{}, err
	}
	var res floodResult
	res.RSSBefore, _ = scrapeMetric(ctx, cfg.API, "process_resident_memory_bytes")
	hon := newHonest(cfg, honestFrom, txs)
	defer hon.close()
	fmt.Fprintf(cfg.Progress, "flood: baseline: %d honest clients at %v req/s each for %v\n", cfg.Clients, cfg.HonestRate, cfg.Baseline)
	res.Unloaded = hon.phase(ctx, cfg.Baseline, nil)
	fmt.Fprintf(cfg.Progress, "flood: unloaded honest p50 %.1f ms, p99 %.1f ms, %d failed; %.1f blocks/s\n",
		ms(res.Unloaded.P50), ms(res.Unloaded.P99), res.Unloaded.Failed, res.Unloaded.Blocks)
	fmt.Fprintf(cfg.Progress, "flood: offering %.0f req/s of GET %s for %v over %d connections from %s\n",
		cfg.Rate, cfg.Path, cfg.Duration, cfg.Conns, addrName(floodFrom))
	var counts floodCounts
	var elapsed time.Duration
	res.Loaded = hon.phase(ctx, cfg.Duration, func() { elapsed = flood(ctx, cfg, host, floodFrom, &counts) })
	res.RSSAfter, _ = scrapeMetric(ctx, cfg.API, "process_resident_memory_bytes")
	res.fill(&counts, elapsed, cfg.Limit)
	res.print(cfg.Progress)
	return res, ctx.Err()
}

// flood sends the flood and returns how long it took.
func flood(ctx context.Context, cfg floodConfig, host string, from net.Addr, c *floodCounts) time.Duration {
	start := time.Now()
	s := &floodSchedule{start: start, end: start.Add(cfg.Duration), interval: time.Duration(float64(time.Second) / cfg.Rate)}
	req := rawRequest(host, cfg.Path)
	var wg sync.WaitGroup
	for range cfg.Conns {
		wg.Go(func() { floodConn(ctx, host, from, req, s, c) })
	}
	wg.Wait()
	return time.Since(start)
}

// sourceAddrs returns the flood's and the honest clients' source
// addresses: distinct loopback addresses on a loopback API, else nil (the
// system's choice; then the node sees one IP for all).
func sourceAddrs(host string, clients int) (net.Addr, []net.Addr) {
	h, _, err := net.SplitHostPort(host)
	ip, perr := netip.ParseAddr(h)
	honest := make([]net.Addr, clients)
	if err != nil || perr != nil || !ip.Is4() || !ip.IsLoopback() {
		return nil, honest
	}
	for i := range honest {
		honest[i] = &net.TCPAddr{IP: net.IPv4(127, 0, byte(i/200), byte(10+i%200))}
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, honest
}

// addrName names a source address.
func addrName(a net.Addr) string {
	if a == nil {
		return "this host"
	}
	return strings.TrimSuffix(a.String(), ":0")
}

// fill computes the flood's figures from its counts.
func (r *floodResult) fill(c *floodCounts, elapsed time.Duration, limit float64) {
	r.Sent, r.Accepted, r.Limited, r.Other, r.Failed = c.sent.Load(), c.accepted.Load(), c.limited.Load(), c.other.Load(), c.failed.Load()
	r.Elapsed, r.Policy = elapsed, c.policy
	r.Offered = float64(r.Sent) / elapsed.Seconds()
	q, w := parsePolicy(r.Policy)
	r.Burst, r.Limit = q, limit
	if limit == 0 && w > 0 {
		r.Limit = float64(q) / float64(w)
	}
	r.AcceptedRate = float64(r.Accepted-int64(r.Burst)) / elapsed.Seconds()
	if r.Limit > 0 {
		r.Deviation = r.AcceptedRate/r.Limit - 1
	}
}

// parsePolicy reads q and w of the first item of a RateLimit-Policy value
// such as `"ip";q=20;w=2`; zeros when absent.
func parsePolicy(p string) (q, w int) {
	item, _, _ := strings.Cut(p, ",")
	for param := range strings.SplitSeq(item, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(param), "=")
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
		case k == "q":
			q = n
		case k == "w":
			w = n
		}
	}
	return q, w
}

// print writes the figures, the summary last.
func (r floodResult) print(w io.Writer) {
	fmt.Fprintf(w, "flood: sent %d in %.2f s (%.0f req/s offered): %d accepted, %d limited (429), %d other, %d failed\n",
		r.Sent, r.Elapsed.Seconds(), r.Offered, r.Accepted, r.Limited, r.Other, r.Failed)
	if r.Offered < benchShortfall*float64(r.Sent)/r.Elapsed.Seconds() {
		fmt.Fprintln(w, "flood: the offered rate fell short: raise --conns, or run the flood on another machine")
	}
	fmt.Fprintf(w, "flood: RateLimit-Policy %s; node RSS %.1f MB before, %.1f MB after\n", r.Policy, r.RSSBefore/1e6, r.RSSAfter/1e6)
	fmt.Fprintf(w, "flood: loaded honest p50 %.1f ms, p99 %.1f ms, %d failed; %.1f blocks/s\n",
		ms(r.Loaded.P50), ms(r.Loaded.P99), r.Loaded.Failed, r.Loaded.Blocks)
	fmt.Fprintln(w, r.Summary())
}

// Summary returns the run's last line.
func (r floodResult) Summary() string {
	return fmt.Sprintf("flood accepted %.1f req/s beyond its burst of %d vs limit %.4g (%+.1f%%) at %.0f req/s offered; honest p99 %.1f ms loaded vs %.1f ms unloaded (x%.2f); blocks %.1f/s vs %.1f/s (%.0f%%)",
		r.AcceptedRate, r.Burst, r.Limit, 100*r.Deviation, r.Offered, ms(r.Loaded.P99), ms(r.Unloaded.P99),
		ratio(r.Loaded.P99.Seconds(), r.Unloaded.P99.Seconds()), r.Loaded.Blocks, r.Unloaded.Blocks, 100*ratio(r.Loaded.Blocks, r.Unloaded.Blocks))
}

// ratio returns a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// scrapeMetric reads one unlabelled sample of /metrics (exempt from the
// gateway's limits).
func scrapeMetric(ctx context.Context, api, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := (&http.Client{Timeout: floodIOTimeout}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", api, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, metricsScrapeBytes))
	prefix := []byte(name + " ")
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), prefix); ok {
			return strconv.ParseFloat(string(v), 64)
		}
	}
	return 0, fmt.Errorf("scrape %s: no %s", api, name)
}

// honest is the honest clients: each posts pre-signed transactions from its
// own source address at cfg.HonestRate.
type honest struct {
	cfg     floodConfig
	clients []*http.Client
	txs     []benchTx
	next    int // next unused transaction; phases run one at a time
}

// newHonest returns the honest clients over txs.
func newHonest(cfg floodConfig, from []net.Addr, txs []benchTx) *honest {
	h := &honest{cfg: cfg, txs: txs}
	for _, a := range from {
		d := &net.Dialer{Timeout: floodDialTimeout, LocalAddr: a}
		h.clients = append(h.clients, &http.Client{Timeout: floodIOTimeout, Transport: &http.Transport{DialContext: d.DialContext}})
	}
	return h
}

// close closes the clients' idle connections.
func (h *honest) close() {
	for _, c := range h.clients {
		c.CloseIdleConnections()
	}
}

// phase runs the honest clients for d, and during (when not nil) beside
// them; it returns their latencies and the node's block rate.
func (h *honest) phase(ctx context.Context, d time.Duration, during func()) honestStats {
	h0, _ := scrapeMetric(ctx, h.cfg.API, "ipdb_height")
	start := time.Now()
	per := int(math.Ceil(h.cfg.HonestRate * d.Seconds()))
	lat := make([][]time.Duration, len(h.clients))
	fails := make([]int, len(h.clients))
	var wg sync.WaitGroup
	if during != nil {
		wg.Go(during)
	}
	for i, c := range h.clients {
		txs := h.txs[h.next+i*per : h.next+(i+1)*per]
		wg.Go(func() { lat[i], fails[i] = h.post(ctx, c, txs, start) })
	}
	wg.Wait()
	h.next += per * len(h.clients)
	h1, _ := scrapeMetric(ctx, h.cfg.API, "ipdb_height")
	all := slices.Concat(lat...)
	slices.Sort(all)
	st := honestStats{Requests: len(all), P50: percentile(all, 0.50), P99: percentile(all, 0.99),
		Blocks: (h1 - h0) / time.Since(start).Seconds()}
	for _, f := range fails {
		st.Failed += f
	}
	return st
}

// post sends txs at the honest rate from start and returns the latencies
// of the accepted ones and how many failed.
func (h *honest) post(ctx context.Context, c *http.Client, txs []benchTx, start time.Time) ([]time.Duration, int) {
	interval := time.Duration(float64(time.Second) / h.cfg.HonestRate)
	u := h.cfg.API + apiPrefix + "/transactions?mode=" + modeAsync
	var lat []time.Duration
	failed := 0
	for i := range txs {
		sleepCtx(ctx, time.Until(start.Add(time.Duration(i)*interval)))
		began := time.Now()
		resp, err := c.Post(u, "application/json", bytes.NewReader(txs[i].body))
		if err != nil {
			failed++
			continue
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxAPIResponseBytes))
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			failed++
			continue
		}
		lat = append(lat, time.Since(began))
	}
	return lat, failed
}
