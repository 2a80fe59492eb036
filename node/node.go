package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"golang.org/x/sync/errgroup"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/governance"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/p2p"
)

// ShutdownTimeout bounds how long Run waits for in-flight HTTP requests when
// it stops; connections still open then are closed.
const ShutdownTimeout = 10 * time.Second

// Log keys used by the node, so that every line names things the same way.
const (
	logKeyHeight = "height"
	logKeyBlock  = "block"
	logKeyTx     = "tx"
	logKeyTxs    = "txs"
	logKeyErr    = "err"
	logKeyAddr   = "addr"
	logKeyChain  = "chain"
	logKeyRound  = "round"
	logKeyPeer   = "peer"
	logKeyTopic  = "topic"
)

// Options is what New needs to make a node.
type Options struct {
	// Config is the node's configuration; it must be valid.
	Config Config
	// DataDir is the Badger directory (the CLI passes HOME/data); it is
	// created if needed.
	DataDir string
	// Genesis is the network's genesis document.
	Genesis *genesis.Doc
	// Key is this caretaker's signing key. It must be a caretaker's; alone
	// (a network of one caretaker) it holds all the power. A follower
	// (Config.Role RoleFollower) needs none.
	Key ledger.KeyPair
	// P2PKey is the node's libp2p identity (Ed25519). It is needed when the
	// node runs p2p: several caretakers, a follower, or p2p addresses set.
	P2PKey crypto.PrivKey
	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger
	// Version is reported by Status and the API root.
	Version string
}

// Node is a running ipdb-node: the ledger store, the backlog, the block
// producer, the event fan-out and the HTTP server. It implements Backend.
// See the package doc for which goroutine owns what.
type Node struct {
	cfg       Config
	version   string
	chainID   string
	genesis   *genesis.Doc
	self      string // our caretaker key, base58 ("" for a follower)
	gov       *govBook
	govEvents *govEvents
	log       *slog.Logger
	store     *ledger.Store
	backlog   *backlog
	events    *events
	metrics   *Metrics // nil when metrics are disabled
	app       *ledgerApp
	engine    engine
	host      *p2p.Host // nil without p2p
	gossip    *txGossip // nil without p2p
	wal       *wal      // a federated caretaker's consensus WAL, else nil
	ln        net.Listener
	srv       *http.Server
	prof      *profiler // nil unless [metrics] pprof_addr is set

	serving  atomic.Bool // Run is serving and not stopping
	stopping atomic.Bool // Run is stopping or Close was called: Submit refuses

	mu        sync.Mutex // guards runCancel, runDone and closed
	runCancel context.CancelFunc
	runDone   chan struct{} // closed when Run returns
	closed    bool
	closeErr  error
}

var _ Backend = (*Node)(nil)

// New opens the store in o.DataDir, stores the genesis block (or checks the
// stored one is o.Genesis's), and listens on Config.HTTP.Addr, so that a
// taken port fails here. The node serves nothing until Run.
func New(o Options) (*Node, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	store, err := ledger.OpenStore(o.DataDir, ledger.StoreOptions{Logger: log.With("component", "store")})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", o.DataDir, err)
	}
	n, err := assemble(o, store, log)
	if err != nil {
		return nil, errors.Join(err, store.Close())
	}
	return n, nil
}

// check validates the options.
func (o *Options) check() error {
	if err := o.Config.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if o.DataDir == "" {
		return errors.New("node: no data directory")
	}
	if o.Genesis == nil {
		return errors.New("node: no genesis document")
	}
	if err := o.Genesis.Validate(); err != nil {
		return err
	}
	if o.Config.Role == RoleFollower {
		return nil
	}
	if len(o.Key.Private) != ed25519.PrivateKeySize || !o.Key.Public.Equal(o.Key.Private.Public()) {
		return errors.New("node: the caretaker key pair is missing or inconsistent")
	}
	return nil
}

// soloPower checks that the caretaker key pub alone can make a block of
// set final: more than 2/3 of its voting power.
func soloPower(set governance.Set, chainID, pub string) error {
	mine, total := set.Power(pub), set.Total()
	if mine == 0 {
		return fmt.Errorf("node: key %s is not a caretaker of chain %s, and the node has no p2p peers to follow the chain from", pub, chainID)
	}
	if 3*mine <= 2*total {
		return fmt.Errorf("node: key %s holds %d of %d voting power; without p2p a single node needs more than 2/3", pub, mine, total)
	}
	return nil
}

// assemble builds the node over an open store.
func assemble(o Options, store *ledger.Store, log *slog.Logger) (*Node, error) {
	if err := store.InitGenesis(o.Genesis.Block()); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	cfg := o.Config
	n := &Node{cfg: cfg, version: o.Version, chainID: o.Genesis.ChainID, genesis: o.Genesis, log: log, store: store,
		govEvents: newGovEvents()}
	if cfg.Role != RoleFollower {
		n.self = o.Key.PublicBase58()
	}
	gov, err := loadGovernance(o.Genesis, store)
	if err != nil {
		return nil, err
	}
	n.gov = gov
	if cfg.Metrics.Enabled {
		n.metrics = NewMetrics()
	}
	// The backlog signals a full block's worth at the most we propose.
	full := int(min(uint64(cfg.Block.MaxTxs), gov.paramsAt(store.Height()+1).MaxBlockTxs))
	n.backlog = newBacklog(store, ledger.Checker{}, cfg.Backlog.MaxTxs, cfg.Backlog.MaxBytes, full)
	n.backlog.rules = gov
	n.backlog.maxTxBytes = gov.paramsAt(store.Height() + 1).MaxTxBytes
	n.metrics.watchBacklog(n.backlog.Stats)
	n.events = newEvents(n.metrics)
	n.app = &ledgerApp{store: store, backlog: n.backlog, events: n.events, metrics: n.metrics,
		chainID: n.chainID, gov: gov, govEvents: n.govEvents, maxTxs: cfg.Block.MaxTxs, log: log}
	if err := n.app.loadTip(); err != nil {
		return nil, err
	}
	n.engine = &soloEngine{app: n.app, src: n.backlog, key: o.Key, chainID: n.chainID, gov: gov,
		maxTxs: cfg.Block.MaxTxs, interval: cfg.Block.Interval.Duration}
	if !n.needsP2P(&o) && cfg.Role != RoleFollower {
		if err := soloPower(gov.state().SetAt(store.Height()+1), n.chainID, n.self); err != nil {
			return nil, err
		}
	}
	if n.needsP2P(&o) {
		if err := n.startP2P(&o); err != nil {
			return nil, errors.Join(err, n.closeP2P())
		}
	}
	ln, err := n.listen(cfg.HTTP.Addr)
	if err != nil {
		return nil, errors.Join(err, n.closeP2P())
	}
	n.ln = ln
	if n.srv, err = n.server(); err != nil {
		return nil, errors.Join(err, ln.Close(), n.closeP2P())
	}
	if cfg.Metrics.PprofAddr != "" {
		if n.prof, err = newProfiler(cfg.Metrics.PprofAddr, log); err != nil {
			return nil, errors.Join(err, ln.Close(), n.closeP2P())
		}
	}
	return n, nil
}

// listen binds addr, explaining the usual cause of a taken port, and caps
// the connections per client IP ([gateway] max_conns_per_ip).
func (n *Node) listen(addr string) (net.Listener, error) {
	ln, err := listen(addr)
	if err != nil || n.cfg.Gateway.MaxConnsPerIP == 0 {
		return ln, err
	}
	var m GatewayMetrics
	if n.metrics != nil {
		m = n.metrics // left a nil interface otherwise
	}
	return NewLimitListener(ln, n.cfg.Gateway.MaxConnsPerIP, m), nil
}

// listen binds addr, explaining the usual cause of a taken port.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("http: listen %s: %w; is another ipdb-node running? set [http] addr or --http", addr, syscall.EADDRINUSE)
	}
	if err != nil {
		return nil, fmt.Errorf("http: listen %s: %w", addr, err)
	}
	return ln, nil
}

// server returns the HTTP server of the API, the event stream and metrics,
// behind the gateway's limits; it fails on a bad [gateway] keys_file.
func (n *Node) server() (*http.Server, error) {
	h := n.cfg.HTTP
	subs := n.cfg.Stream.MaxSubscribers
	if n.cfg.Gateway.MaxWSSubscribers > 0 {
		subs = n.cfg.Gateway.MaxWSSubscribers // [gateway] overrides [stream]
	}
	opts := HandlerOptions{
		MaxBodyBytes:   h.MaxBodyBytes,
		CommitWait:     h.CommitWait.Duration,
		StreamURL:      h.StreamURL,
		MaxSubscribers: subs,
		StreamBuffer:   n.cfg.Stream.Buffer,
		Logger:         n.log,
		Version:        n.version,
	}
	if n.metrics != nil {
		opts.Metrics = n.metrics // left a nil interface otherwise
		opts.MetricsHandler = n.metrics.Handler()
	}
	var gm GatewayMetrics
	if n.metrics != nil {
		gm = n.metrics
	}
	gw, err := NewGateway(NewHandler(n, opts), n.cfg.Gateway, gm)
	if err != nil {
		return nil, err
	}
	n.metrics.WatchGateway(gw)
	return &http.Server{
		Handler:           gw,
		ReadHeaderTimeout: h.ReadHeaderTimeout.Duration,
		ReadTimeout:       h.ReadTimeout.Duration,
		WriteTimeout:      h.WriteTimeout.Duration,
		IdleTimeout:       h.IdleTimeout.Duration,
		MaxHeaderBytes:    h.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelDebug),
	}, nil
}

// PprofAddr returns the address the profile server is bound to, or "" when
// [metrics] pprof_addr is unset. It is safe for concurrent use.
func (n *Node) PprofAddr() string {
	if n.prof == nil {
		return ""
	}
	return n.prof.ln.Addr().String()
}

// HTTPAddr returns the address the HTTP server is bound to, such as
// "127.0.0.1:41234". It is safe for concurrent use.
func (n *Node) HTTPAddr() string { return n.ln.Addr().String() }

// Run serves HTTP and produces blocks until ctx is done, then stops cleanly:
// the block in progress is committed, commit waiters and stream subscribers
// are released, HTTP is shut down (in-flight requests get ShutdownTimeout),
// and the store is closed. It returns nil on a clean stop, or the first
// error of the producer or the server. Run may be called once; the node is
// closed when it returns.
func (n *Node) Run(ctx context.Context) error {
	ctx, cancel, err := n.startRun(ctx)
	if err != nil {
		return err
	}
	defer close(n.runDone)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	produced := make(chan struct{})
	n.serving.Store(true) // the listener is bound: connections queue until Serve takes them
	g.Go(func() error {
		if err := n.srv.Serve(n.ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: serve: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		defer close(produced)
		return n.engine.Run(gctx)
	})
	if n.gossip != nil {
		g.Go(func() error { return n.gossip.run(gctx) })
	}
	if n.prof != nil {
		g.Go(func() error { return n.prof.run(gctx) })
	}
	g.Go(func() error {
		<-gctx.Done()
		return n.shutdown(produced)
	})
	n.log.Info("node running", logKeyChain, n.chainID, logKeyAddr, n.HTTPAddr(), logKeyHeight, n.app.tip.Load().height)
	err = g.Wait()
	return errors.Join(err, n.closeResources())
}

// startRun records that Run runs and returns its context, which Close
// cancels.
func (n *Node) startRun(ctx context.Context) (context.Context, context.CancelFunc, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed || n.runDone != nil {
		return nil, nil, errors.New("node: Run called on a closed node or more than once")
	}
	ctx, n.runCancel = context.WithCancel(ctx)
	n.runDone = make(chan struct{})
	return ctx, n.runCancel, nil
}

// shutdown stops serving once the producer has finished its block.
func (n *Node) shutdown(produced <-chan struct{}) error {
	n.serving.Store(false)
	n.stopping.Store(true)
	<-produced
	n.events.Close()
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := n.srv.Shutdown(ctx); err != nil {
		n.srv.Close()
		return fmt.Errorf("http: shutdown: %w", err)
	}
	n.log.Info("node stopped", logKeyHeight, n.app.tip.Load().height)
	return nil
}

// Close stops the node. For a node that never ran, it closes the listener
// and the store; while Run runs, it cancels Run and waits for it to return.
// It is safe to call more than once and from any goroutine.
func (n *Node) Close() error {
	n.mu.Lock()
	cancel, done := n.runCancel, n.runDone
	n.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return n.closeResources()
}

// closeResources releases everything once.
func (n *Node) closeResources() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return n.closeErr
	}
	n.closed = true
	n.serving.Store(false)
	n.stopping.Store(true)
	n.events.Close()
	n.govEvents.close()
	lerr := n.closeP2P()
	if err := n.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		lerr = errors.Join(lerr, fmt.Errorf("http: close listener: %w", err))
	}
	if n.prof != nil {
		lerr = errors.Join(lerr, n.prof.close())
	}
	if err := n.store.Close(); err != nil {
		n.closeErr = errors.Join(lerr, fmt.Errorf("close store: %w", err))
	} else {
		n.closeErr = lerr
	}
	return n.closeErr
}

// Store implements Backend.
func (n *Node) Store() *ledger.Store { return n.store }

// Submit implements Backend: ledger.Verify has run already (in the caller's
// goroutine); the backlog checks v against committed state and pending
// transactions under its lock. Errors: *ledger.ValidationError,
// ErrBacklogFull, ErrCommitTimeout, ErrStopping, ctx's error, or a store
// error. It is safe for concurrent use.
func (n *Node) Submit(ctx context.Context, v *ledger.VerifiedTx, mode Mode) error {
	if n.stopping.Load() {
		return ErrStopping
	}
	if mode != ModeCommit {
		return n.admit(v)
	}
	w := n.events.Wait(v.Tx().ID) // before Add, so that a fast commit is not missed
	defer n.events.Cancel(w)
	if err := n.admit(v); err != nil {
		return err
	}
	t := time.NewTimer(n.cfg.HTTP.CommitWait.Duration)
	defer t.Stop()
	select {
	case r := <-w.c:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return ErrCommitTimeout
	}
}

// Full returns ErrBacklogFull (wrapped) when the backlog has no room for any
// client's transaction: POST /api/v1/transactions asks before checking a
// signature. It is safe for concurrent use.
func (n *Node) Full() error { return n.backlog.ClientFull() }

// admit adds a client's v to the backlog and, with p2p, gossips it.
func (n *Node) admit(v *ledger.VerifiedTx) error {
	if err := n.backlog.AddFromClient(v); err != nil {
		return err
	}
	if n.gossip != nil {
		n.gossip.enqueue(v.Tx().Canonical())
	}
	return nil
}

// Subscribe implements Backend. It is safe for concurrent use.
func (n *Node) Subscribe(buf int) *Subscription { return n.events.Subscribe(buf) }

// Status implements Backend: Ready is true while Run serves. It is safe for
// concurrent use and reads no disk.
func (n *Node) Status() Status {
	tip := n.app.tip.Load()
	txs, bytes := n.backlog.Stats()
	st := Status{
		ChainID:      n.chainID,
		Version:      n.version,
		Height:       tip.height,
		LatestBlock:  tip.cid.String(),
		LatestTime:   tip.time,
		BacklogTxs:   txs,
		BacklogBytes: int(bytes),
		Ready:        n.serving.Load(),
	}
	st.PeerList = n.peerList()
	st.Peers = len(st.PeerList)
	n.governanceStatus(&st, tip.height)
	return st
}

// NewLogger returns a logger writing to w at c's level in c's format. c must
// be valid (Validate); an unknown level logs at info, an unknown format as
// text.
func NewLogger(w io.Writer, c LogConfig) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
