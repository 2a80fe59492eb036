package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ipdb/ipdb-node/federation"
	"github.com/ipdb/ipdb-node/ledger"
)

// bftEngine is the engine of a network of several caretakers (and of every
// follower): it runs the federation's Tendermint machine over p2p gossip.
//
// One goroutine (Run's) owns the machine and everything marked loop-owned
// below: it selects over the inbox (messages from the p2p handlers, timer
// firings, verification verdicts, synced blocks), the backlog's Ready
// channel and ctx, and carries out each Output in order: WAL (the signer
// logs and fsyncs) before publishing, then timers, build, verify, decision,
// evidence. Proposal verification and block-sync fetching run on worker
// goroutines that Run waits for; they answer through the inbox.
type bftEngine struct {
	app      *ledgerApp
	gov      *govBook
	net      *consensusNet
	signer   *signer // nil for an observer (a follower)
	selfPeer peer.ID // our libp2p id: our own gossip is accepted as is
	self     federation.ValidatorID
	fed      federation.Config
	maxTxs   int // our configured block limit; the network's is a parameter
	log      *slog.Logger
	metrics  *Metrics
	verifier *verifier
	sync     *blockSync

	inbox  chan any
	stop   chan struct{} // closed by halt: posting gives up
	halted sync.Once
	kick   chan struct{} // capacity 1: ask the syncer to look for blocks
	height atomic.Uint64 // the machine's height; read by gossip validators

	// Loop-owned.
	m        *federation.Machine
	started  bool                                 // StartHeight(height) was stepped
	gateOpen bool                                 // the block interval has passed (gateWait)
	cands    map[federation.BlockID]*candidate    // proposed blocks of this height
	sigs     map[voteKey]voteSig                  // vote signatures of this height (the first vote of each slot)
	conflict map[voteKey]voteSig                  // a second, different vote of a slot: evidence
	future   []any                                // messages of height+1, replayed at StartHeight
	pending  *federation.Decision                 // decided, block not verified yet
	evidence []ledger.Equivocation                // double votes seen, for the next block we propose
	timers   map[federation.Timer]*time.Timer     // armed timers
	work     sync.WaitGroup                       // verifiers, syncer
	ctx      context.Context                      // Run's
	gate     *time.Timer                          // opens the block interval gate
	walRecs  [][]byte                             // the WAL's records when opened, for begin
	sent     map[federation.BlockID]*ledger.Block // our own proposals' blocks by id, for signing
}

// voteKey identifies one validator's vote slot.
type voteKey struct {
	validator federation.ValidatorID
	height    uint64
	round     uint32
	typ       federation.VoteType
}

// voteSig is a vote's block and signature.
type voteSig struct {
	block federation.BlockID
	sig   []byte
}

// Inbox messages.
type (
	proposalIn struct {
		p    *signedProposal
		from peer.ID
	}
	voteIn struct {
		v    *signedVote
		from peer.ID
	}
	timeoutIn struct{ t federation.Timer }
	gateIn    struct{ height uint64 }
	verdictIn struct {
		height  uint64
		id      federation.BlockID
		checked []*ledger.CheckedTx
		err     error
	}
	syncedIn struct {
		blocks []*syncedBlock
		done   chan syncDone
	}
)

// syncDone is the loop's answer to a syncedIn: how many of its blocks it
// stored (those that no longer extend the tip are skipped), and why it
// stopped short, if it did.
type syncDone struct {
	stored int
	err    error
}

// post hands msg to the loop, blocking while the inbox is full, unless the
// engine stops.
func (e *bftEngine) post(msg any) {
	select {
	case e.inbox <- msg:
	case <-e.stop:
	}
}

// kickSync asks the syncer to look for blocks; it never blocks.
func (e *bftEngine) kickSync() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Run implements engine.
func (e *bftEngine) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	e.ctx = ctx
	defer e.shutdown()
	defer cancel() // before shutdown waits for the workers
	if err := e.begin(); err != nil {
		return err
	}
	if e.sync != nil { // nil only in tests without a network
		e.work.Add(1)
		go func() {
			defer e.work.Done()
			e.sync.run(ctx)
		}()
		e.kickSync()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg := <-e.inbox:
			if err := e.dispatch(msg); err != nil {
				return err
			}
		case <-e.app.backlog.Ready():
			if err := e.txsAvailable(); err != nil {
				return err
			}
		}
	}
}

// halt makes every post give up from now on. It is safe to call more
// than once and from any goroutine.
func (e *bftEngine) halt() { e.halted.Do(func() { close(e.stop) }) }

// shutdown stops the timers and waits for the workers.
func (e *bftEngine) shutdown() {
	e.halt()
	for _, t := range e.timers {
		t.Stop()
	}
	if e.gate != nil {
		e.gate.Stop()
	}
	e.work.Wait()
}

// begin starts the machine at the height after the stored tip and replays
// our own messages of that height from the WAL.
func (e *bftEngine) begin() error {
	var msgs []walMessage
	if e.signer != nil {
		var err error
		if msgs, err = e.signer.restore(e.walRecs); err != nil {
			return err
		}
	}
	h := e.app.tip.Load().height + 1
	if err := e.startHeight(h); err != nil {
		return err
	}
	e.gateOpen = true
	for _, m := range msgs {
		if m.height() != h {
			continue
		}
		if err := e.replay(m); err != nil {
			return err
		}
	}
	return e.txsAvailable()
}

// replay steps one of our own WAL messages back into the machine.
func (e *bftEngine) replay(m walMessage) error {
	var msg federation.Message
	if m.vote != nil {
		v := toFedVote(m.vote)
		e.sigs[voteKey{v.Validator, v.Height, v.Round, v.Type}] = voteSig{v.BlockID, m.vote.Signature}
		msg.Vote = &v
	} else {
		p := toFedProposal(m.proposal)
		e.addCandidate(m.proposal, "")
		e.sent[p.BlockID] = m.proposal.block
		msg.Proposal = &p
	}
	e.log.Info("replaying own consensus message from the wal", logKeyHeight, m.height())
	return e.step(federation.Replay{Message: msg})
}

// startHeight starts the machine at h (a new machine if the old one
// refuses, as after a sync jump), forgetting the last height's state.
func (e *bftEngine) startHeight(h uint64) error {
	e.height.Store(h)
	e.started = true
	e.cands = make(map[federation.BlockID]*candidate)
	e.sigs = make(map[voteKey]voteSig)
	e.conflict = make(map[voteKey]voteSig)
	e.sent = make(map[federation.BlockID]*ledger.Block)
	e.pending = nil
	for k, t := range e.timers {
		t.Stop()
		delete(e.timers, k)
	}
	in := federation.StartHeight{Height: h, Validators: e.gov.setAt(h).vals}
	out, err := e.m.Step(in)
	if err != nil {
		m, nerr := federation.New(e.fed)
		if nerr != nil {
			return fmt.Errorf("new consensus machine: %w", nerr)
		}
		e.m = m
		if out, err = e.m.Step(in); err != nil {
			return fmt.Errorf("start height %d: %w", h, err)
		}
	}
	e.metrics.consensusHeight(h)
	if err := e.apply(out); err != nil {
		return err
	}
	return e.replayFuture()
}

// replayFuture steps the messages buffered for the next height (those of
// another height are dropped by dispatch).
func (e *bftEngine) replayFuture() error {
	msgs := e.future
	e.future = nil
	for _, msg := range msgs {
		if err := e.dispatch(msg); err != nil {
			return err
		}
	}
	return nil
}

// dispatch handles one inbox message.
func (e *bftEngine) dispatch(msg any) error {
	switch m := msg.(type) {
	case proposalIn:
		return e.onProposal(m)
	case voteIn:
		return e.onVote(m)
	case timeoutIn:
		delete(e.timers, m.t)
		if m.t.Step == federation.StepRetry && m.t.Height == e.height.Load() {
			e.relayVotes(m.t.Round)
		}
		return e.step(federation.TimeoutFired{Height: m.t.Height, Round: m.t.Round, Step: m.t.Step})
	case gateIn:
		if m.height == e.height.Load() {
			e.gateOpen = true
			return e.txsAvailable()
		}
		return nil
	case verdictIn:
		return e.onVerdict(m)
	case syncedIn:
		n, serr, err := e.applySynced(m.blocks)
		m.done <- syncDone{stored: n, err: serr}
		return err
	}
	panic(fmt.Sprintf("node: unknown consensus inbox message %T", msg))
}

// txsAvailable tells the machine there is something to propose, once the
// block interval has passed and transactions wait, or at once when a full
// block's worth waits (as the solo engine does): under load the interval
// would only add its length to every height.
func (e *bftEngine) txsAvailable() error {
	if !e.started {
		return nil
	}
	n, _ := e.app.backlog.Pending()
	if n == 0 || (!e.gateOpen && n < e.blockTxs(e.height.Load())) {
		return nil
	}
	return e.step(federation.TxsAvailable{Height: e.height.Load()})
}

// onProposal records a proposal's block and steps it.
func (e *bftEngine) onProposal(m proposalIn) error {
	h := e.height.Load()
	if m.p.Height == h+1 && len(e.future) < maxCandidates {
		e.future = append(e.future, m)
		return nil
	}
	if m.p.Height != h {
		return nil
	}
	e.addCandidate(m.p, m.from)
	e.log.Debug("proposal received", logKeyHeight, m.p.Height, logKeyRound, m.p.Round, logKeyBlock, m.p.blockCID, logKeyPeer, m.from)
	return e.step(federation.ProposalReceived{Proposal: toFedProposal(m.p)})
}

// addCandidate remembers the block of proposal p (sent by from).
func (e *bftEngine) addCandidate(p *signedProposal, from peer.ID) {
	id := federation.BlockID(p.blockCID.KeyString())
	if _, ok := e.cands[id]; ok || len(e.cands) >= maxCandidates {
		return
	}
	e.cands[id] = &candidate{block: p.block, cid: p.blockCID, from: from}
}

// onVote records a vote's signature and steps it.
func (e *bftEngine) onVote(m voteIn) error {
	h := e.height.Load()
	if m.v.Height == h+1 && len(e.future) < 4*maxCandidates {
		e.future = append(e.future, m)
		return nil
	}
	if m.v.Height != h {
		return nil
	}
	v := toFedVote(m.v)
	k := voteKey{v.Validator, v.Height, v.Round, v.Type}
	if s, ok := e.sigs[k]; !ok {
		e.sigs[k] = voteSig{v.BlockID, m.v.Signature}
	} else if _, seen := e.conflict[k]; !seen && s.block != v.BlockID {
		e.conflict[k] = voteSig{v.BlockID, m.v.Signature}
	}
	e.metrics.vote(v.Type)
	return e.step(federation.VoteReceived{Vote: v})
}

// step advances the machine by in and carries out the output. Errors of
// the input's kind (invalid, stale, future) are logged and dropped; the
// returned error stops the engine.
func (e *bftEngine) step(in federation.Input) error {
	out, err := e.m.Step(in)
	switch {
	case errors.Is(err, federation.ErrFuture):
		e.kickSync()
		return nil
	case errors.Is(err, federation.ErrStale):
		return nil
	case err != nil:
		e.log.Debug("consensus input refused", logKeyErr, err)
		return nil
	}
	return e.apply(out)
}

func toFedVote(v *signedVote) federation.Vote {
	fv := federation.Vote{Type: federation.VoteType(v.Type), Height: v.Height, Round: v.Round,
		Validator: federation.ValidatorID(v.Validator)}
	if v.Block.Defined() {
		fv.BlockID = federation.BlockID(v.Block.KeyString())
	}
	return fv
}

func toFedProposal(p *signedProposal) federation.Proposal {
	return federation.Proposal{Height: p.Height, Round: p.Round, POLRound: p.POLRound,
		BlockID: federation.BlockID(p.blockCID.KeyString()), Proposer: federation.ValidatorID(p.Proposer)}
}

// blockCIDOfID converts a machine block id back to a CID (cid.Undef for
// nil); the machine only ever holds ids we gave it.
func blockCIDOfID(id federation.BlockID) cid.Cid {
	if id == "" {
		return cid.Undef
	}
	c, err := cid.Cast([]byte(id))
	if err != nil {
		panic("node: consensus block id is not a CID: " + err.Error())
	}
	return c
}
