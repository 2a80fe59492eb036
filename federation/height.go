package federation

import "fmt"

// onStartHeight begins in.Height (paper lines 52-54 and 10, but waiting in
// round 0 without timers until txs or a message of the height arrive), then
// processes the messages buffered for it.
func (m *Machine) onStartHeight(in StartHeight) error {
	if in.Validators == nil {
		return fmt.Errorf("start height %d: no validator set: %w", in.Height, ErrInvalid)
	}
	if m.started && in.Height <= m.height {
		return fmt.Errorf("start height %d <= current %d: %w", in.Height, m.height, ErrStale)
	}
	next := m.started && in.Height == m.height+1
	m.resetHeight(in.Height, in.Validators)
	m.trace("start height, wait for txs")
	buffered := m.future.take()
	if !next {
		return nil
	}
	for _, msg := range buffered {
		if m.onMessage(msg) == nil {
			m.advance()
		}
	}
	return nil
}

// resetHeight sets the paper's variables to their initial values (lines 2-9,
// 53) for height h with validator set set.
func (m *Machine) resetHeight(h uint64, set *ValidatorSet) {
	m.started = true
	m.height, m.round, m.step = h, 0, StepPropose
	m.lockedValue, m.lockedRound = "", -1
	m.validValue, m.validRound = "", -1
	m.set = set
	m.observer = m.cfg.Self == "" || set.Power(m.cfg.Self) == 0
	m.waiting, m.decided, m.retrying = true, false, false
	m.buildRound = -1
	m.log = newMessageLog(set)
	m.verdicts = make(map[BlockID]verdict)
	m.fired = make(map[uint32]uint8)
	m.sentProposal = make(map[uint32]Proposal)
	m.sentVotes = make(map[voteKey]Vote)
}

// onMessage routes a buffered message.
func (m *Machine) onMessage(msg Message) error {
	if msg.Proposal != nil {
		return m.onProposal(*msg.Proposal)
	}
	return m.onVote(*msg.Vote)
}

// leaveWaiting ends the waiting state of round 0: the paper's "upon start do
// StartRound(0)" (line 10), and the retry timer chain begins.
func (m *Machine) leaveWaiting() {
	if !m.waiting {
		return
	}
	m.waiting = false
	m.startRetry()
	m.startRound(0)
}

// bufferNext keeps msg of height m.height+1 for the next StartHeight.
func (m *Machine) bufferNext(msg Message, sender ValidatorID) error {
	if !m.future.add(msg, sender) {
		return fmt.Errorf("next-height buffer full for %x: %w", string(sender), ErrFuture)
	}
	return nil
}

// futureBuffer holds messages of the next height, at most MaxFutureBuffer
// per sender and MaxValidators senders, in arrival order.
type futureBuffer struct {
	msgs  []Message
	count map[ValidatorID]int
}

func newFutureBuffer() futureBuffer {
	return futureBuffer{count: make(map[ValidatorID]int)}
}

// add appends msg unless sender's quota or the sender count is exhausted.
func (b *futureBuffer) add(msg Message, sender ValidatorID) bool {
	n, known := b.count[sender]
	if n >= MaxFutureBuffer || (!known && len(b.count) >= MaxValidators) {
		return false
	}
	b.count[sender] = n + 1
	b.msgs = append(b.msgs, msg)
	return true
}

// take empties the buffer and returns its messages in arrival order.
func (b *futureBuffer) take() []Message {
	msgs := b.msgs
	*b = newFutureBuffer()
	return msgs
}

// size returns the number of buffered messages.
func (b *futureBuffer) size() int { return len(b.msgs) }
