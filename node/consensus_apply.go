package node

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ipdb/ipdb-node/federation"
	"github.com/ipdb/ipdb-node/ledger"
)

// apply carries out one Output in the order the machine requires: WAL
// (durable) before Broadcast; then timers, build, verify; the decision;
// evidence. Answers to Build and Verify that are ready at once are stepped
// after the whole output.
func (e *bftEngine) apply(out federation.Output) error {
	for _, t := range out.Trace {
		e.log.Debug("consensus", logKeyHeight, t.Height, logKeyRound, t.Round, "event", t.Event)
	}
	for _, m := range out.WAL {
		if _, err := e.signMsg(m); err != nil {
			return err
		}
	}
	for _, m := range out.Broadcast {
		if err := e.broadcast(m); err != nil {
			return err
		}
	}
	for _, t := range out.Timers {
		e.arm(t)
	}
	var next []federation.Input
	if out.Build != nil {
		in, err := e.build(*out.Build)
		if err != nil {
			return err
		}
		next = append(next, in)
	}
	for _, v := range out.Verify {
		if in := e.startVerify(v); in != nil {
			next = append(next, in)
		}
	}
	if out.Decided != nil {
		if err := e.decided(out.Decided); err != nil {
			return err
		}
	}
	e.noteEvidence(out.Evidence)
	for _, in := range next {
		if err := e.step(in); err != nil {
			return err
		}
	}
	return nil
}

// signMsg signs (and, the first time, logs durably) one of our messages
// and returns its wire bytes and the topic it goes on. ErrSignConflict is
// returned as is: the machine asked for a double signature.
func (e *bftEngine) signMsg(m federation.Message) ([]byte, error) {
	if e.signer == nil {
		return nil, errors.New("node: observer asked to sign a consensus message")
	}
	if v := m.Vote; v != nil {
		sv := &signedVote{Type: uint8(v.Type), Height: v.Height, Round: v.Round,
			Block: blockCIDOfID(v.BlockID), Validator: e.signer.key.Public}
		data, err := e.signer.signVote(sv)
		if err != nil {
			return nil, err
		}
		e.sigs[voteKey{e.self, v.Height, v.Round, v.Type}] = voteSig{v.BlockID, sv.Signature}
		return data, nil
	}
	p := m.Proposal
	b := e.sent[p.BlockID]
	if b == nil {
		if c := e.cands[p.BlockID]; c != nil {
			b = c.block
		}
	}
	if b == nil {
		return nil, fmt.Errorf("node: asked to propose block %s of height %d, which we do not have", blockCIDOfID(p.BlockID), p.Height)
	}
	sp, err := newProposal(b, p.Round, p.POLRound)
	if err != nil {
		return nil, err
	}
	sp.Proposer = e.signer.key.Public
	return e.signer.signProposal(sp)
}

// broadcast signs m (a no-op when already signed) and publishes it.
func (e *bftEngine) broadcast(m federation.Message) error {
	data, err := e.signMsg(m)
	if errors.Is(err, ErrSignConflict) {
		e.log.Error("refused to sign a conflicting consensus message", logKeyErr, err)
		return nil
	}
	if err != nil {
		return err
	}
	topic := e.net.votes
	if m.Proposal != nil {
		topic = e.net.proposals
	}
	if err := topic.Publish(e.ctx, data); err != nil && e.ctx.Err() == nil {
		e.log.Debug("publish consensus message", logKeyErr, err)
	}
	return nil
}

// arm schedules t to fire back through the inbox.
func (e *bftEngine) arm(t federation.Timer) {
	if old := e.timers[t]; old != nil {
		old.Stop()
	}
	e.timers[t] = time.AfterFunc(t.After, func() { e.post(timeoutIn{t}) })
}

// build answers a BuildRequest: a block from the backlog, or nothing.
func (e *bftEngine) build(req federation.BuildRequest) (federation.Input, error) {
	nothing := federation.BlockBuilt{Height: req.Height, Round: req.Round}
	if req.Height != e.app.tip.Load().height+1 {
		return nothing, nil
	}
	e.app.evidence = e.evidence
	p, err := e.app.ProposeBlock(e.blockTxs(req.Height))
	if err != nil || p == nil {
		return nothing, err
	}
	id := federation.BlockID(p.cid.KeyString())
	e.cands[id] = &candidate{block: p.block, cid: p.cid, checked: p.txs, built: p.built}
	e.sent[id] = p.block
	e.log.Debug("proposing block", logKeyHeight, req.Height, logKeyRound, req.Round, logKeyTxs, len(p.txs))
	return federation.BlockBuilt{Height: req.Height, Round: req.Round, BlockID: id}, nil
}

// startVerify answers a VerifyRequest at once when the block is known (our
// own, or checked before), else starts a verifier; nil means the answer
// comes later through the inbox.
func (e *bftEngine) startVerify(req federation.VerifyRequest) federation.Input {
	c := e.cands[req.BlockID]
	switch {
	case c == nil:
		return federation.BlockVerdict{Height: req.Height, BlockID: req.BlockID, Valid: false}
	case c.checked != nil:
		return federation.BlockVerdict{Height: req.Height, BlockID: req.BlockID, Valid: true}
	case c.verifying:
		return nil
	}
	c.verifying = true
	e.work.Add(1)
	go func() {
		defer e.work.Done()
		checked, err := e.verifier.verify(e.ctx, c)
		e.post(verdictIn{height: req.Height, id: req.BlockID, checked: checked, err: err})
	}()
	return nil
}

// onVerdict records a verifier's answer and steps it.
func (e *bftEngine) onVerdict(m verdictIn) error {
	c := e.cands[m.id]
	if m.height != e.height.Load() || c == nil {
		return nil
	}
	c.verifying = false
	valid := m.err == nil
	if valid {
		c.checked = m.checked
	} else {
		e.log.Info("proposed block refused", logKeyHeight, m.height, logKeyBlock, c.cid, logKeyErr, m.err)
	}
	e.metrics.verdict(valid)
	if err := e.step(federation.BlockVerdict{Height: m.height, BlockID: m.id, Valid: valid}); err != nil {
		return err
	}
	if d := e.pending; valid && d != nil && d.BlockID == m.id && d.Height == m.height {
		return e.commitDecision(d, c)
	}
	return nil
}

// decided commits a decided block when we have it checked; else it waits
// for its verification or asks block sync for it.
func (e *bftEngine) decided(d *federation.Decision) error {
	c := e.cands[d.BlockID]
	if c == nil || c.checked == nil {
		e.pending = d
		if c == nil || !c.verifying {
			e.kickSync()
		}
		return nil
	}
	return e.commitDecision(d, c)
}

// commitDecision stores block c with the commit made of d's precommits,
// then starts the next height.
func (e *bftEngine) commitDecision(d *federation.Decision, c *candidate) error {
	commit := e.commitOf(d)
	if err := e.gov.setAt(d.Height).verifyCommit(commit, d.Height, c.cid); err != nil {
		return fmt.Errorf("node: the machine decided block %d without a valid commit: %w", d.Height, err)
	}
	p := &proposal{block: c.block, cid: c.cid, txs: c.checked, built: c.built}
	if p.built.IsZero() {
		p.built = time.Now()
	}
	if err := e.app.CommitBlock(p, commit); err != nil {
		return err
	}
	e.dropEvidence(c.block)
	e.metrics.decided(d.Round)
	return e.afterCommit(d.Height)
}

// commitOf builds the ledger commit of d from the precommit signatures.
func (e *bftEngine) commitOf(d *federation.Decision) *ledger.Commit {
	c := &ledger.Commit{Height: d.Height, Round: d.Round, Block: blockCIDOfID(d.BlockID)}
	for _, v := range d.Precommits {
		s, ok := e.sigs[voteKey{v.Validator, v.Height, v.Round, federation.Precommit}]
		if ok && s.block == d.BlockID {
			c.Signatures = append(c.Signatures, ledger.CommitSig{PublicKey: []byte(v.Validator), Signature: s.sig})
		}
	}
	c.SortSignatures()
	return c
}

// afterCommit prunes the WAL and starts the next height. We propose again
// once the block interval has passed since this commit or since the oldest
// pending transaction arrived, whichever is first (or at once when a full
// block is pending). Under a steady load the oldest transaction has
// usually waited out the interval during this height's rounds, so the next
// block follows at once instead of adding the interval to every height:
// the interval is the longest a transaction waits for its block to be cut,
// as in the solo engine.
func (e *bftEngine) afterCommit(h uint64) error {
	if e.signer != nil {
		if err := e.signer.prune(h); err != nil {
			return err
		}
	}
	if err := e.startHeight(h + 1); err != nil {
		return err
	}
	e.gateOpen = false
	if e.gate != nil {
		e.gate.Stop()
	}
	next := h + 1
	e.gate = time.AfterFunc(e.gateWait(next), func() { e.post(gateIn{height: next}) })
	return nil
}

// gateWait is how long after a commit the gate of height h opens: the
// block interval, less the time the oldest pending transaction has
// already waited.
func (e *bftEngine) gateWait(h uint64) time.Duration {
	wait := e.gov.interval(h)
	if n, oldest := e.app.backlog.Pending(); n > 0 {
		wait -= time.Since(oldest)
	}
	return max(wait, 0)
}

// blockTxs is the most transactions we put in a block at height h: our
// configured limit within the network's max_block_txs.
func (e *bftEngine) blockTxs(h uint64) int {
	return int(min(uint64(e.maxTxs), e.gov.paramsAt(h).MaxBlockTxs, ledger.MaxBlockTxs))
}

// noteEvidence keeps double votes, with both signatures, for the next
// block we propose.
func (e *bftEngine) noteEvidence(evs []federation.Equivocation) {
	for _, ev := range evs {
		v := ev.First
		e.log.Warn("caretaker signed two different votes", logKeyHeight, v.Height, logKeyRound, v.Round,
			"validator", fmt.Sprintf("%x", []byte(v.Validator)))
		e.metrics.equivocation()
		k := voteKey{v.Validator, v.Height, v.Round, v.Type}
		a, b := e.sigs[k], e.conflict[k]
		if a.sig == nil || b.sig == nil || len(e.evidence) >= ledger.MaxBlockEvidence {
			continue
		}
		e.evidence = append(e.evidence, ledger.Equivocation{Type: uint8(v.Type), Height: v.Height, Round: v.Round,
			PublicKey: []byte(v.Validator), BlockA: blockCIDOfID(a.block), SigA: a.sig, BlockB: blockCIDOfID(b.block), SigB: b.sig})
	}
}

// dropEvidence forgets the evidence block b carries (or that is too old
// to matter) once b is stored.
func (e *bftEngine) dropEvidence(b *ledger.Block) {
	kept := e.evidence[:0]
	for _, ev := range e.evidence {
		if ev.Height+evidenceMaxAge < b.Height || slices.ContainsFunc(b.Evidence, func(o ledger.Equivocation) bool {
			return bytes.Equal(o.PublicKey, ev.PublicKey) && o.Height == ev.Height && o.Round == ev.Round && o.Type == ev.Type
		}) {
			continue
		}
		kept = append(kept, ev)
	}
	e.evidence = kept
}
