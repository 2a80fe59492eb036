package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/ipdb/ipdb-node/ledger"
)

// Limits and defaults of bench.
const (
	// maxBenchTxs bounds the transactions signed ahead and held in memory
	// (about --size bytes each, plus their ids).
	maxBenchTxs = 1_000_000
	// maxBenchRate bounds --rate, in transactions per second.
	maxBenchRate = 1_000_000
	// maxBenchWorkers bounds --workers: each is a goroutine and a connection.
	maxBenchWorkers = 4096
	// maxBenchAPIs bounds the URLs of --api: each is an event stream too.
	maxBenchAPIs = 64
	// maxBenchEventBytes bounds one event stream message; an event is
	// about 250 bytes.
	maxBenchEventBytes = 4 << 10
	// benchDialTimeout bounds connecting to one event stream.
	benchDialTimeout = 10 * time.Second
	// benchBurstFraction is the share of a second of tokens the rate limiter
	// may hold: a dispatcher delayed by up to that long (a busy machine,
	// timer granularity) catches up instead of losing its tokens.
	benchBurstFraction = 0.1
	// benchShortfall is the share of the offered rate below which the run
	// says the rate was not reached.
	benchShortfall = 0.95
	// benchEventsPath is the event stream of an API base URL.
	benchEventsPath = apiPrefix + streamSuffix
)

// benchConfig is what a load run needs.
type benchConfig struct {
	APIs     []string      // API base URLs (normalizeAPIURL); POSTs go round-robin
	Rate     float64       // transactions per second offered
	Duration time.Duration // how long they are offered
	Size     int           // about how many bytes each CREATE has
	Workers  int           // most POSTs in flight
	Drain    time.Duration // how long to wait for commits after the last POST
	// Backoff makes a worker refused with a Retry-After (503) wait that
	// long before its next POST, as a client that honours it does; the
	// refused transaction is not sent again.
	Backoff bool
	// Timeline prints, after the summary, what happened in each second of
	// the run: POSTs sent, refused, and commits seen.
	Timeline bool
	Key      ledger.KeyPair
	Progress io.Writer // progress lines
}

// check validates the configuration against the bench limits.
func (c benchConfig) check() error {
	switch {
	case len(c.APIs) == 0 || len(c.APIs) > maxBenchAPIs:
		return fmt.Errorf("--api: want 1 to %d URLs, got %d", maxBenchAPIs, len(c.APIs))
	case !(c.Rate > 0 && c.Rate <= maxBenchRate):
		return fmt.Errorf("--rate: want more than 0 and at most %d transactions per second, got %v", maxBenchRate, c.Rate)
	case c.Duration <= 0:
		return fmt.Errorf("--duration: want more than 0, got %v", c.Duration)
	case c.Size < 0 || c.Size > ledger.MaxTxBytes:
		return fmt.Errorf("--size: want 0 to %d bytes, got %d", ledger.MaxTxBytes, c.Size)
	case c.Workers < 1 || c.Workers > maxBenchWorkers:
		return fmt.Errorf("--workers: want 1 to %d, got %d", maxBenchWorkers, c.Workers)
	case c.Drain < 0:
		return fmt.Errorf("--drain: want 0 or more, got %v", c.Drain)
	}
	if n := c.Rate * c.Duration.Seconds(); n > maxBenchTxs {
		return fmt.Errorf("--rate times --duration is %.0f transactions, over the limit of %d signed ahead", n, maxBenchTxs)
	}
	return nil
}

// count returns how many transactions the run offers: rate × duration,
// at least one.
func (c benchConfig) count() int {
	return max(1, int(math.Ceil(c.Rate*c.Duration.Seconds())))
}

// benchTx is one pre-signed transaction and its timeline.
type benchTx struct {
	id   string
	body []byte
	// sent is when its POST began, committed when a stream first reported
	// it: nanoseconds since the run's epoch, 0 before.
	sent, committed atomic.Int64
	// refused says the API did not accept it.
	refused atomic.Bool
}

// benchResult is the outcome of a run.
type benchResult struct {
	Signed, Submitted, Accepted, Refused, Committed int
	// Elapsed runs from the first POST to the last commit seen.
	Elapsed time.Duration
	// Sustained is the commit rate in the load's steady part: commits
	// seen from a quarter of the duration after the first POST to the
	// end of the offering, over those three quarters (so that the ramp-up
	// and the drain after it do not count, as in ../shared/peer-bench's
	// window after its warm-up).
	Sustained float64
	// P50 and P99 are percentiles of submit-to-commit latency.
	P50, P99     time.Duration
	FirstRefusal string
}

// Summary returns the run's last line: "committed N tx in S s: X tx/s,
// p50 A ms, p99 B ms, sustained Y tx/s".
func (r benchResult) Summary() string {
	tps := 0.0
	if r.Elapsed > 0 {
		tps = float64(r.Committed) / r.Elapsed.Seconds()
	}
	return fmt.Sprintf("committed %d tx in %.2f s: %.1f tx/s, p50 %.1f ms, p99 %.1f ms, sustained %.1f tx/s",
		r.Committed, r.Elapsed.Seconds(), tps, ms(r.P50), ms(r.P99), r.Sustained)
}

// ms returns d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchRun is one load run. Its counters and the txs' timelines are updated
// by the workers and stream watchers concurrently.
type benchRun struct {
	cfg   benchConfig
	txs   []benchTx
	byID  map[string]int // read-only once the run starts
	epoch time.Time
	hc    *http.Client
	// backoff waits out a Retry-After (sleepCtx; tests record it instead).
	backoff func(ctx context.Context, d time.Duration)

	accepted, refused, commits atomic.Int64
	progress                   chan struct{} // capacity 1: a commit was seen
	streamErr                  chan error    // capacity len(APIs): a stream ended
	mu                         sync.Mutex    // guards firstRefusal
	firstRefusal               string
}

// runBench signs cfg.count() CREATEs, offers them to the APIs at cfg.Rate
// for cfg.Duration, and waits up to cfg.Drain for the accepted ones to be
// reported committed by the event streams. It returns the result even with
// an error (a stream that ended, or ctx).
func runBench(ctx context.Context, cfg benchConfig) (benchResult, error) {
	if err := cfg.check(); err != nil {
		return benchResult{}, err
	}
	n := cfg.count()
	fmt.Fprintf(cfg.Progress, "bench: signing %d CREATEs of about %d bytes\n", n, cfg.Size)
	began := time.Now()
	txs, err := presign(ctx, cfg.Key, n, cfg.Size)
	if err != nil {
		return benchResult{}, err
	}
	fmt.Fprintf(cfg.Progress, "bench: signed %d in %.2f s\n", n, time.Since(began).Seconds())
	r := newBenchRun(cfg, txs)
	defer r.hc.CloseIdleConnections()
	watchCtx, stopWatching := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopWatching()
	if err := r.watchStreams(watchCtx, &wg); err != nil {
		return benchResult{}, err
	}
	return r.load(ctx)
}

// newBenchRun returns a run over txs.
func newBenchRun(cfg benchConfig, txs []benchTx) *benchRun {
	r := &benchRun{cfg: cfg, txs: txs, byID: make(map[string]int, len(txs)), epoch: time.Now(), backoff: sleepCtx,
		progress: make(chan struct{}, 1), streamErr: make(chan error, len(cfg.APIs))}
	for i := range txs {
		r.byID[txs[i].id] = i
	}
	r.hc = &http.Client{Timeout: apiTimeout, Transport: &http.Transport{
		MaxIdleConns: cfg.Workers * len(cfg.APIs), MaxIdleConnsPerHost: cfg.Workers, IdleConnTimeout: time.Minute}}
	return r
}

// load submits the transactions, then drains, and summarises.
func (r *benchRun) load(ctx context.Context) (benchResult, error) {
	fmt.Fprintf(r.cfg.Progress, "bench: offering %.0f tx/s for %v to %s with %d workers\n",
		r.cfg.Rate, r.cfg.Duration, strings.Join(r.cfg.APIs, ", "), r.cfg.Workers)
	start := r.now()
	submitted := r.submit(ctx)
	took := time.Duration(r.now() - start)
	fmt.Fprintf(r.cfg.Progress, "bench: submitted %d in %.2f s (%.1f tx/s): %d accepted, %d refused\n",
		submitted, took.Seconds(), float64(submitted)/took.Seconds(), r.accepted.Load(), r.refused.Load())
	if offered := float64(submitted) / took.Seconds(); offered < benchShortfall*r.cfg.Rate && submitted < len(r.txs) {
		fmt.Fprintf(r.cfg.Progress, "bench: offered %.1f tx/s, short of --rate %.0f: the workers were busy or the machine saturated (raise --workers, or run bench elsewhere)\n",
			offered, r.cfg.Rate)
	}
	if msg := r.refusal(); msg != "" {
		fmt.Fprintf(r.cfg.Progress, "bench: first refusal: %s\n", msg)
	}
	err := r.drain(ctx)
	res := r.result(start)
	res.Submitted = submitted
	fmt.Fprintln(r.cfg.Progress, res.Summary())
	if r.cfg.Timeline {
		r.printTimeline(start)
	}
	if err == nil && res.Committed == 0 {
		err = errors.New("bench: no transaction was committed")
	}
	return res, err
}

// now returns the nanoseconds since the run's epoch, at least 1.
func (r *benchRun) now() int64 { return max(1, int64(time.Since(r.epoch))) }

// watchStreams connects to the first API's event stream and starts its
// watcher under wg; the watcher stops when ctx is done. Every node commits
// the same blocks, so one stream sees every commit: watching all of them
// made each node serialise, and the generator parse, every event once per
// API, on the same cores as the nodes under test.
func (r *benchRun) watchStreams(ctx context.Context, wg *sync.WaitGroup) error {
	for _, base := range r.cfg.APIs[:1] {
		u := streamURLOf(base)
		dctx, cancel := context.WithTimeout(ctx, benchDialTimeout)
		c, _, err := websocket.Dial(dctx, u, nil)
		cancel()
		if err != nil {
			return fmt.Errorf("bench: connect to the event stream %s: %w", u, err)
		}
		c.SetReadLimit(maxBenchEventBytes)
		wg.Go(func() { r.watch(ctx, u, c) })
	}
	return nil
}

// watch records the commits one stream reports until ctx is done or the
// stream ends (reported on r.streamErr).
func (r *benchRun) watch(ctx context.Context, u string, c *websocket.Conn) {
	defer c.CloseNow()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.streamErr <- fmt.Errorf("bench: event stream %s ended: %w", u, err)
			}
			return
		}
		var ev struct {
			TxID string `json:"transaction_id"`
		}
		if json.Unmarshal(data, &ev) == nil {
			r.observe(ev.TxID)
		}
	}
}

// observe records the first report of a commit of one of the run's txs.
func (r *benchRun) observe(id string) {
	i, ok := r.byID[id]
	if !ok || !r.txs[i].committed.CompareAndSwap(0, r.now()) {
		return
	}
	r.commits.Add(1)
	select {
	case r.progress <- struct{}{}:
	default:
	}
}

// submit offers the transactions at cfg.Rate (an open loop paced by a
// token bucket) to cfg.Workers posting workers, until all are offered or
// cfg.Duration has passed. It returns how many were handed to workers.
func (r *benchRun) submit(ctx context.Context) int {
	burst := max(1, int(r.cfg.Rate*benchBurstFraction))
	lim := rate.NewLimiter(rate.Limit(r.cfg.Rate), burst)
	lim.AllowN(time.Now(), burst) // start empty: paced from the first POST, no opening burst
	jobs := make(chan int)
	// sendCtx ends the offering; a worker backing off stops waiting then.
	sendCtx, cancel := context.WithTimeout(ctx, r.cfg.Duration)
	defer cancel()
	var wg sync.WaitGroup
	for range r.cfg.Workers {
		wg.Go(func() {
			p := newPoster(ctx, r.cfg.APIs, r.hc)
			defer p.close()
			for i := range jobs {
				r.post(sendCtx, p, i)
			}
		})
	}
	sent := 0
offer:
	for i := range r.txs {
		if lim.Wait(sendCtx) != nil {
			break
		}
		select {
		case jobs <- i:
			sent++
		case <-sendCtx.Done():
			break offer
		}
	}
	close(jobs)
	wg.Wait()
	return sent
}

// post sends transaction i with mode=async to the next API in turn. With
// cfg.Backoff, a refusal carrying Retry-After keeps the worker idle that
// long (until ctx is done).
func (r *benchRun) post(ctx context.Context, p *poster, i int) {
	tx := &r.txs[i]
	tx.sent.Store(r.now())
	a, err := p.post(i%len(r.cfg.APIs), tx.body)
	switch {
	case err != nil:
		tx.refused.Store(true)
		r.refuse(err.Error())
	case a.status != http.StatusAccepted:
		tx.refused.Store(true)
		r.refuse(fmt.Sprintf("%d %s", a.status, errorMessage(a.body)))
		if r.cfg.Backoff && a.retry > 0 {
			r.backoff(ctx, a.retry)
		}
	default:
		r.accepted.Add(1)
	}
}

// refuse counts a transaction the API did not accept, keeping the first
// reason.
func (r *benchRun) refuse(msg string) {
	r.refused.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.firstRefusal == "" {
		r.firstRefusal = msg
	}
}

// refusal returns the first refusal's reason, or "".
func (r *benchRun) refusal() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.firstRefusal
}

// drain waits until every accepted transaction was seen committed, the
// drain time passes (not an error: the result counts what was seen), a
// stream ends, or ctx is done.
func (r *benchRun) drain(ctx context.Context) error {
	timer := time.NewTimer(r.cfg.Drain)
	defer timer.Stop()
	for r.commits.Load() < r.accepted.Load() {
		select {
		case <-r.progress:
		case err := <-r.streamErr:
			return err
		case <-timer.C:
			fmt.Fprintf(r.cfg.Progress, "bench: gave up after --drain %v: %d accepted transactions not seen committed\n",
				r.cfg.Drain, r.accepted.Load()-r.commits.Load())
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// result summarises the timelines; start is when the first POST could go.
func (r *benchRun) result(start int64) benchResult {
	res := benchResult{Signed: len(r.txs), Accepted: int(r.accepted.Load()), Refused: int(r.refused.Load()),
		FirstRefusal: r.refusal()}
	lat := make([]time.Duration, 0, len(r.txs))
	var last int64
	from, to := start+int64(r.cfg.Duration/4), start+int64(r.cfg.Duration)
	steady := 0
	for i := range r.txs {
		sent, committed := r.txs[i].sent.Load(), r.txs[i].committed.Load()
		if sent == 0 || committed == 0 {
			continue
		}
		lat = append(lat, time.Duration(max(0, committed-sent)))
		last = max(last, committed)
		if committed >= from && committed < to {
			steady++
		}
	}
	if to > from {
		res.Sustained = float64(steady) / time.Duration(to-from).Seconds()
	}
	slices.Sort(lat)
	res.Committed = len(lat)
	res.P50, res.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	if last > start {
		res.Elapsed = time.Duration(last - start)
	}
	return res
}

// benchSecond is one second of a run's timeline.
type benchSecond struct{ sent, refused, committed int }

// timeline counts, for each second from start, the POSTs sent (refused
// ones too), those refused, and the commits seen.
func (r *benchRun) timeline(start int64) []benchSecond {
	var out []benchSecond
	at := func(t int64) *benchSecond {
		i := int(max(0, t-start) / int64(time.Second))
		for len(out) <= i {
			out = append(out, benchSecond{})
		}
		return &out[i]
	}
	for i := range r.txs {
		tx := &r.txs[i]
		if sent := tx.sent.Load(); sent != 0 {
			s := at(sent)
			s.sent++
			if tx.refused.Load() {
				s.refused++
			}
		}
		if c := tx.committed.Load(); c != 0 {
			at(c).committed++
		}
	}
	return out
}

// printTimeline writes the timeline, one line a second.
func (r *benchRun) printTimeline(start int64) {
	fmt.Fprintln(r.cfg.Progress, "bench: second   sent  refused  committed")
	for i, s := range r.timeline(start) {
		fmt.Fprintf(r.cfg.Progress, "bench: %6d %6d %8d %10d\n", i, s.sent, s.refused, s.committed)
	}
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 1) of
// sorted values, or 0 for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// presign builds and signs n CREATEs of about size bytes, in parallel, each
// unique to this run (a random nonce and its index in the asset data).
func presign(ctx context.Context, key ledger.KeyPair, n, size int) ([]benchTx, error) {
	var nonce [8]byte
	rand.Read(nonce[:])
	tag := hex.EncodeToString(nonce[:])
	base, err := benchCreate(key, tag, 0, "")
	if err != nil {
		return nil, err
	}
	pad := strings.Repeat("x", max(0, size-len(base.Canonical())))
	// One key per benchTxsPerKey transactions, derived once: deriving it
	// for each transaction took a fifth of the signing time.
	signers := make([]ledger.KeyPair, (n+benchTxsPerKey-1)/benchTxsPerKey)
	for j := range signers {
		signers[j] = signerOf(key, j*benchTxsPerKey)
	}
	txs := make([]benchTx, n)
	g, gctx := errgroup.WithContext(ctx)
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		g.Go(func() error {
			for i := w; i < n; i += workers {
				if err := gctx.Err(); err != nil {
					return err
				}
				tx, err := benchCreate(signers[i/benchTxsPerKey], tag, i, pad)
				if err != nil {
					return err
				}
				txs[i].id, txs[i].body = tx.ID, tx.Canonical()
			}
			return nil
		})
	}
	return txs, g.Wait()
}

// benchTxsPerKey is how many transactions of a run one key signs: below
// the default free tier of an epoch (1000), so that a load test measures
// the network, not the quota of one key.
const benchTxsPerKey = 500

// signerOf returns the key that signs transaction i of a run: key itself
// for the first benchTxsPerKey, then keys derived from it.
func signerOf(key ledger.KeyPair, i int) ledger.KeyPair {
	j := i / benchTxsPerKey
	if j == 0 {
		return key
	}
	seed := sha256.Sum256(fmt.Appendf(key.Private.Seed(), "/bench/%d", j))
	k, err := ledger.NewKeyPair(seed[:])
	if err != nil { // a 32-byte seed is always valid
		return key
	}
	return k
}

// benchCreate returns CREATE number i of the run tagged tag: one output of
// 1 to key, asset data {"bench": tag, "n": i, "pad": pad}.
func benchCreate(key ledger.KeyPair, tag string, i int, pad string) (*ledger.Tx, error) {
	data := map[string]any{"bench": tag, "n": i, "pad": pad}
	u, err := ledger.BuildCreate([]ed25519.PublicKey{key.Public}, data, nil, ledger.To(1, key.Public))
	if err != nil {
		return nil, fmt.Errorf("bench: build transaction %d: %w", i, err)
	}
	return u.Sign(key.Private)
}
