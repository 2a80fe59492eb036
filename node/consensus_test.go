package node

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ipdb/ipdb-node/federation"
	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
)

// soloBFT returns a BFT engine of a one-caretaker network over a fake
// transport (topics that record what is published, no block sync).
func soloBFT(t *testing.T, st *ledger.Store, g *genesis.Doc, key ledger.KeyPair, walPath string) (*bftEngine, *fakeTopic, *fakeTopic) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	gov := testGov(t, g, st)
	bl := newBacklog(st, ledger.Checker{}, 100, 1<<20, 100)
	app := &ledgerApp{store: st, backlog: bl, events: newEvents(nil), chainID: g.ChainID, gov: gov, log: log}
	if err := app.loadTip(); err != nil {
		t.Fatalf("loadTip()=%v", err)
	}
	w, recs, err := openWAL(walPath)
	if err != nil {
		t.Fatalf("openWAL()=%v", err)
	}
	t.Cleanup(func() { w.Close() })
	props, votes := &fakeTopic{}, &fakeTopic{}
	e := &bftEngine{app: app, gov: gov, log: log, maxTxs: 100,
		verifier: &verifier{store: st, backlog: bl, gov: gov},
		net:      &consensusNet{proposals: props, votes: votes, txs: &fakeTopic{}},
		signer:   newSigner(key, g.ChainID, w), self: federation.ValidatorID(key.Public), walRecs: recs,
		inbox: make(chan any, engineInbox), stop: make(chan struct{}), kick: make(chan struct{}, 1),
		timers: make(map[federation.Timer]*time.Timer)}
	e.fed = federation.Config{Self: e.self, TimeoutPropose: time.Second, TimeoutPrevote: time.Second,
		TimeoutPrecommit: time.Second, TimeoutDelta: time.Second, RetryInterval: time.Second}
	if e.m, err = federation.New(e.fed); err != nil {
		t.Fatalf("federation.New()=%v", err)
	}
	return e, props, votes
}

// soloRun is a running one-caretaker BFT engine in a synctest bubble, as
// runSoloBFT hands it to a test.
type soloRun struct {
	e            *bftEngine
	st           *ledger.Store
	props, votes *fakeTopic
	alice        ledger.KeyPair
}

// add puts a CREATE of alice's (number n) in the engine's backlog.
func (r *soloRun) add(t *testing.T, n int) {
	t.Helper()
	if err := r.e.app.backlog.Add(verify(t, createTx(t, r.alice, n, 1))); err != nil {
		t.Fatalf("backlog.Add()=%v", err)
	}
}

// runSoloBFT runs the BFT engine of g's one caretaker (key 9) in virtual
// time over a fresh store, calls test, then stops the engine and checks
// that Run returned nil. prepare, when not nil, adjusts the engine before
// it runs.
func runSoloBFT(t *testing.T, g *genesis.Doc, prepare func(*bftEngine), test func(*testing.T, *soloRun)) {
	t.Helper()
	key := newKey(t, 9)
	dir, walPath := t.TempDir(), filepath.Join(t.TempDir(), walFileName)
	warmStore(t, dir, g)
	alice := newKey(t, 1)
	synctest.Test(t, func(t *testing.T) {
		st, err := ledger.OpenStore(dir, ledger.StoreOptions{}) // in the bubble: Badger's goroutines too
		if err != nil {
			t.Fatalf("OpenStore()=%v", err)
		}
		defer st.Close()
		e, props, votes := soloBFT(t, st, g, key, walPath)
		if prepare != nil {
			prepare(e)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		test(t, &soloRun{e: e, st: st, props: props, votes: votes, alice: alice})
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run()=%v", err)
		}
	})
}

// TestBFTEngineDecidesAloneAndWaitsTheInterval drives the BFT engine of a
// one-caretaker network in virtual time: a pending transaction is
// proposed, voted, decided and committed with our precommit as its commit;
// the next block waits for the genesis block interval.
func TestBFTEngineDecidesAloneAndWaitsTheInterval(t *testing.T) {
	g := genesis.Dev("bft-solo", newKey(t, 9), time.Unix(1_700_000_000, 0))
	g.Params.BlockIntervalMS = 500
	runSoloBFT(t, g, nil, func(t *testing.T, r *soloRun) {
		r.add(t, 0)
		waitStore(t, r.st, 1)
		c, err := r.st.Commit(1)
		if err != nil || len(c.Signatures) != 1 || c.Verify(g.ChainID, r.e.gov.setAt(1).power, r.e.gov.setAt(1).total) != nil {
			t.Fatalf("Commit(1)=%+v, %v; want our precommit as a verifying commit", c, err)
		}
		if p, v := len(r.props.batchesRaw()), len(r.votes.batchesRaw()); p != 1 || v != 2 {
			t.Fatalf("published %d proposals and %d votes, want 1 and 2", p, v)
		}

		r.add(t, 1)
		synctest.Wait()
		if h := r.st.Height(); h != 1 {
			t.Fatalf("height %d before the block interval passed, want 1", h)
		}
		time.Sleep(time.Duration(g.Params.BlockIntervalMS) * time.Millisecond) // virtual time
		waitStore(t, r.st, 2)
	})
}

// TestBFTEngineGateCountsTheOldestTransaction checks the gate's wait after
// a commit, in virtual time: the whole block interval with nothing
// pending, less what the oldest pending transaction has waited (under load
// it waited during the height's rounds, and the next block follows at
// once).
func TestBFTEngineGateCountsTheOldestTransaction(t *testing.T) {
	g := genesis.Dev("bft-gate", newKey(t, 9), time.Unix(1_700_000_000, 0))
	g.Params.BlockIntervalMS = 500
	interval := time.Duration(g.Params.BlockIntervalMS) * time.Millisecond
	runSoloBFT(t, g, nil, func(t *testing.T, r *soloRun) {
		r.add(t, 0)
		waitStore(t, r.st, 1)
		if w := r.e.gateWait(2); w != interval {
			t.Fatalf("gateWait with nothing pending = %v, want the interval %v", w, interval)
		}
		r.add(t, 1)
		time.Sleep(300 * time.Millisecond) // virtual time
		r.add(t, 2)
		if w := r.e.gateWait(2); w != interval-300*time.Millisecond {
			t.Fatalf("gateWait with the oldest pending for 300ms = %v, want %v", w, interval-300*time.Millisecond)
		}
		time.Sleep(interval) // virtual time: block 2 is cut
		waitStore(t, r.st, 2)
		if w := r.e.gateWait(3); w != interval {
			t.Fatalf("gateWait after block 2 took both = %v, want %v", w, interval)
		}
	})
}

// TestBFTEngineFullBlockSkipsTheInterval checks that a full block's worth
// of pending transactions starts the next height at once instead of
// waiting out the block interval.
func TestBFTEngineFullBlockSkipsTheInterval(t *testing.T) {
	g := genesis.Dev("bft-full", newKey(t, 9), time.Unix(1_700_000_000, 0))
	g.Params.BlockIntervalMS = 10_000
	prepare := func(e *bftEngine) {
		e.maxTxs = 2
		e.app.backlog.signalAt = 2 // as assemble sets it: the most we propose
	}
	runSoloBFT(t, g, prepare, func(t *testing.T, r *soloRun) {
		r.add(t, 0)
		waitStore(t, r.st, 1)
		start := time.Now()
		r.add(t, 1)
		r.add(t, 2)
		waitStore(t, r.st, 2)
		if waited := time.Since(start); waited >= (time.Duration(g.Params.BlockIntervalMS) * time.Millisecond) {
			t.Fatalf("a full block waited %v, want less than the block interval %v", waited, (time.Duration(g.Params.BlockIntervalMS) * time.Millisecond))
		}
	})
}

// warmStore stores g's genesis block in dir, then reopens and reads it:
// Badger's zstd coder is a package-level value made on first use, and it
// must not be made inside a synctest bubble (a later bubble could not use
// its channels).
func warmStore(t *testing.T, dir string, g *genesis.Doc) {
	t.Helper()
	for range 2 {
		st, err := ledger.OpenStore(dir, ledger.StoreOptions{})
		if err != nil {
			t.Fatalf("OpenStore()=%v", err)
		}
		if err := st.InitGenesis(g.Block()); err != nil {
			t.Fatalf("InitGenesis()=%v", err)
		}
		if _, _, err := st.LatestBlock(); err != nil {
			t.Fatalf("LatestBlock()=%v", err)
		}
		if err := st.Close(); err != nil {
			t.Fatalf("Close()=%v", err)
		}
	}
}

// waitStore waits in virtual time until st is at height h (Badger's file
// I/O does not block durably, so a round may end before a write does).
func waitStore(t *testing.T, st *ledger.Store, h uint64) {
	t.Helper()
	for range 1000 {
		synctest.Wait()
		if st.Height() >= h {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("store at height %d, want %d", st.Height(), h)
}

func (f *fakeTopic) batchesRaw() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.msgs
}
