package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/ipdb/ipdb-node/federation"
)

// node is one simulated validator: a machine (lost on a crash) plus what
// survives a crash, its store of decided blocks and its WAL.
type node struct {
	idx       int
	id        federation.ValidatorID
	byzantine bool
	observer  bool // not in the validator set: follows, never signs

	m      *federation.Machine // nil while down
	up     bool
	inc    uint64 // incarnation: inputs scheduled for an older one are void
	height uint64 // the height the machine works on

	stored        []federation.Decision      // durable: stored[h-1] is height h
	sets          []*federation.ValidatorSet // derived from stored: sets[h-1] is the set of height h
	wal           []federation.Message       // durable: own messages of heights not yet stored
	crashAfterWAL bool                       // crash right after the next WAL write
	syncing       bool                       // a block-sync fetch is in flight

	heard    []federation.Message // with Config.Relay: others' messages of the current height
	heardSet map[heardKey]bool
}

// boot (re)starts n: a new machine at the height after its last stored block,
// then every WAL record of that height replayed.
func (s *Sim) boot(n *node) {
	cfg := s.cfg.Machine
	cfg.Self = n.id
	m, err := federation.New(cfg)
	if err != nil {
		s.fail(ErrMachine, fmt.Sprintf("%s: new machine: %v", n.id, err))
		return
	}
	n.m, n.up, n.syncing = m, true, false
	n.inc++
	h := uint64(len(n.stored)) + 1
	s.startHeight(n, h)
	for _, rec := range n.wal {
		if n.up && msgHeight(rec) == h {
			s.step(n, federation.Replay{Message: rec}, nil)
		}
	}
}

// crash loses n's machine and pending inputs, keeps its store and WAL, and
// schedules the restart.
func (s *Sim) crash(n *node, why string) {
	s.trace.note("%s %s at height %d (wal %d records)", n.id, why, n.height, len(n.wal))
	n.m, n.up, n.crashAfterWAL, n.syncing = nil, false, false, false
	n.forget()
	n.inc++
	s.stats.Crashes++
	down := time.Duration(1+s.rng.Int64N(int64(maxDowntime)/int64(time.Millisecond))) * time.Millisecond
	s.schedule(down, &event{kind: evRestart, node: n.idx})
}

// startHeight moves n's machine to height h; the app has transactions for
// every target height and reports them after a short delay.
func (s *Sim) startHeight(n *node, h uint64) {
	n.height = h
	n.forget()
	kept := n.wal[:0]
	for _, rec := range n.wal {
		if msgHeight(rec) >= h {
			kept = append(kept, rec)
		}
	}
	n.wal = kept
	set := n.setAt(h)
	s.checkSet(n, h, set)
	s.step(n, federation.StartHeight{Height: h, Validators: set}, nil)
	if n.up && h <= s.cfg.Heights {
		s.schedule(s.randDelay(defaultTxsDelay), &event{kind: evInput, node: n.idx, inc: n.inc,
			input: federation.TxsAvailable{Height: h}})
	}
}

// step feeds one input to n's machine and carries out the output; from is
// the sender of a delivered message, nil otherwise.
func (s *Sim) step(n *node, in federation.Input, from *node) {
	h := n.height
	out, err := n.m.Step(in)
	s.trace.machine(n.id, out.Trace)
	if err != nil {
		s.stepError(n, in, from, err)
	} else if from != nil && inputHeight(in) == h && !s.entitled(n, in) {
		s.fail(ErrMachine, fmt.Sprintf("%s accepted a message its set of h%d does not entitle: %s", n.id, h, describeInput(in)))
	}
	s.apply(n, out)
}

// stepError classifies a Step error: ErrFuture and ErrStale from a lagging
// sender trigger block sync; ErrInvalid is a failure unless the signer is
// byzantine or not entitled to the message at its height (a removed
// caretaker, a proposal from a non-proposer); anything else is a failure.
func (s *Sim) stepError(n *node, in federation.Input, from *node, err error) {
	s.trace.note("%s: %v", n.id, err)
	switch {
	case errors.Is(err, federation.ErrFuture):
		s.catchUp(n)
	case errors.Is(err, federation.ErrStale):
		if from != nil && inputHeight(in) < n.height {
			s.catchUp(from)
		}
	case errors.Is(err, federation.ErrInvalid) && from != nil && (s.signedByByzantine(in) || !s.entitled(n, in)):
		s.stats.Refused++
	default:
		s.fail(ErrMachine, fmt.Sprintf("%s: Step(%T): %v", n.id, in, err))
	}
}

// apply carries out an Output in the documented order: WAL, Broadcast,
// Timers, Build, Verify, Decided, Evidence.
func (s *Sim) apply(n *node, out federation.Output) {
	n.wal = append(n.wal, out.WAL...)
	if len(out.WAL) > 0 && n.crashAfterWAL {
		if s.now < s.cfg.GST {
			s.crash(n, "crash right after WAL write")
			return
		}
		n.crashAfterWAL = false
	}
	for _, m := range out.Broadcast {
		s.checkEntitled(n, m)
		s.checkSigned(n, m)
		s.broadcast(n, m)
	}
	for _, t := range out.Timers {
		s.schedule(t.After, &event{kind: evInput, node: n.idx, inc: n.inc,
			input: federation.TimeoutFired{Height: t.Height, Round: t.Round, Step: t.Step}})
	}
	s.answerApp(n, out)
	if out.Decided != nil {
		s.decide(n, *out.Decided)
	}
	for _, ev := range out.Evidence {
		s.checkEvidence(n, ev)
	}
}

// answerApp schedules the app's answers to Build and Verify requests.
func (s *Sim) answerApp(n *node, out federation.Output) {
	if b := out.Build; b != nil {
		s.schedule(s.randDelay(defaultAppDelay), &event{kind: evInput, node: n.idx, inc: n.inc,
			input: federation.BlockBuilt{Height: b.Height, Round: b.Round, BlockID: s.buildBlock(n, b.Height, b.Round)}})
	}
	for _, v := range out.Verify {
		delay := s.randDelay(defaultAppDelay)
		if s.rng.IntN(slowVerifyOneIn) == 0 {
			delay = s.randDelay(s.cfg.Machine.TimeoutPropose * 5 / 2)
		}
		s.schedule(delay, &event{kind: evInput, node: n.idx, inc: n.inc,
			input: federation.BlockVerdict{Height: v.Height, BlockID: v.BlockID, Valid: s.checkBlock(n, v.Height, v.BlockID)}})
	}
}

// decide checks a machine's decision, stores it and starts the next height.
func (s *Sim) decide(n *node, d federation.Decision) {
	if d.Height != uint64(len(n.stored))+1 {
		s.fail(ErrMachine, fmt.Sprintf("%s decided height %d with %d heights stored", n.id, d.Height, len(n.stored)))
		return
	}
	s.store(n, d)
	if s.err == nil {
		s.startHeight(n, d.Height+1)
	}
}

// store makes d durable on n after checking it (against n's own set of its
// height) and agreement with every block stored so far at its height, and
// derives n's set of the next height from it.
func (s *Sim) store(n *node, d federation.Decision) {
	if err := s.checkDecision(d, n.setAt(d.Height)); err != nil {
		s.fail(ErrBadDecision, fmt.Sprintf("%s: %v", n.id, err))
		return
	}
	next, err := nextSet(n, d)
	if err != nil {
		s.fail(ErrBadDecision, fmt.Sprintf("%s: decided block h%d %q: %v", n.id, d.Height, d.BlockID, err))
		return
	}
	s.trace.note("%s stores h%d r%d %q", n.id, d.Height, d.Round, d.BlockID)
	n.stored = append(n.stored, d)
	n.sets = append(n.sets, next)
	first, ok := s.decided[d.Height]
	if !ok {
		s.decided[d.Height] = d.BlockID
		s.stats.Heights++
		s.stats.Rounds += uint64(d.Round) + 1
		s.stats.MaxRound = max(s.stats.MaxRound, d.Round)
		s.countNewcomers(n, d)
		return
	}
	if first != d.BlockID {
		s.fail(ErrAgreement, fmt.Sprintf("%s stored %q at height %d, another node stored %q", n.id, d.BlockID, d.Height, first))
	}
}

// catchUp schedules block sync for n when some live node stored n's height.
func (s *Sim) catchUp(n *node) {
	if !n.up || n.syncing {
		return
	}
	for _, p := range s.nodes {
		if p != n && p.up && uint64(len(p.stored)) >= n.height {
			d := p.stored[n.height-1]
			n.syncing = true
			s.schedule(s.randDelay(defaultCatchUpDelay), &event{kind: evCatchUp, node: n.idx, inc: n.inc, decision: &d})
			return
		}
	}
}

// applyCatchUp stores a synced decision if n still needs it, starts the next
// height and keeps syncing while it is behind.
func (s *Sim) applyCatchUp(n *node, e *event) {
	if !n.up || e.inc != n.inc {
		return
	}
	n.syncing = false
	if e.decision.Height != n.height {
		return
	}
	s.stats.CatchUps++
	s.trace.note("%s syncs h%d from block sync", n.id, e.decision.Height)
	s.store(n, *e.decision)
	if s.err == nil {
		s.startHeight(n, n.height+1)
		s.catchUp(n)
	}
}

// randDelay returns a uniform delay in [1ms, maxD].
func (s *Sim) randDelay(maxD time.Duration) time.Duration {
	return time.Millisecond + time.Duration(s.rng.Int64N(int64(maxD)))
}

// altSuffix marks the byzantine proposer's second block.
const altSuffix = "-alt"

// blockID is the block the app of node idx builds for (h, r), e.g. "h5/r2/n3".
func blockID(h uint64, r uint32, idx int) federation.BlockID {
	return federation.BlockID(fmt.Sprintf("h%d/r%d/n%d", h, r, idx))
}

// msgHeight returns the height of a proposal or vote.
func msgHeight(m federation.Message) uint64 {
	if m.Proposal != nil {
		return m.Proposal.Height
	}
	return m.Vote.Height
}

// inputHeight returns the height of a received message input, 0 for others.
func inputHeight(in federation.Input) uint64 {
	switch v := in.(type) {
	case federation.ProposalReceived:
		return v.Proposal.Height
	case federation.VoteReceived:
		return v.Vote.Height
	}
	return 0
}

// countNewcomers counts d if it holds a precommit of a caretaker that was
// not a member of n's set of the height before: its votes counted from its
// first height.
func (s *Sim) countNewcomers(n *node, d federation.Decision) {
	prev := n.setAt(d.Height - 1)
	if prev == nil {
		return
	}
	for _, v := range d.Precommits {
		if prev.Power(v.Validator) == 0 {
			s.stats.Newcomers++
			return
		}
	}
}
