package node

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ipdb/ipdb-node/ledger"
)

// memRebuildSlack is how many transactions the pending-outputs overlay may
// hold beyond twice the backlog before it is dropped and refilled on demand:
// it bounds the memory held for transactions the store already has.
const memRebuildSlack = 4096

// clientShare is the part of the backlog's limits that clients' own
// submissions may fill; the rest is kept for transactions that peers
// gossip, which the next proposals will name. A backlog filled by its
// clients ignored its peers' gossip, and then had to fetch and verify a
// proposal's transactions before voting (BenchmarkVerifyProposal: 6.5 ms
// for a 1,000-tx block already gossiped, 82 ms fetched), on every height
// of an overloaded network.
const clientShareNum, clientShareDen = 3, 4

// backlog holds validated transactions waiting for a block, by id in arrival
// order. Each was checked against the committed ledger plus the transactions
// admitted before it, so a pending CREATE can be spent by a later TRANSFER
// and an output spent by one pending transaction refuses any other spender.
// All methods are safe for concurrent use.
type backlog struct {
	committed ledger.State // the store; read under mu
	checker   ledger.Checker
	// rules, when set, gives the checker of the pending transactions at
	// the next block (the governance rules and quotas in force); it is used
	// instead of checker. One checker serves every admission until the
	// rules change or a block commits a transaction we did not hold, which
	// rechecks the backlog: so a signer's pending transactions count
	// against its quota.
	rules      pendingRules
	pending    ledger.Checker // under mu
	pendingKey any            // under mu; nil: pending not made yet
	// maxTxBytes is the network's max_tx_bytes (0: not checked); under mu.
	maxTxBytes uint64
	maxTxs     int
	maxBytes   int64
	// clientTxs and clientBytes are the limits of clients' submissions:
	// clientShare of maxTxs and maxBytes.
	clientTxs   int
	clientBytes int64
	signalAt    int           // pending count that signals ready (a full block)
	slack       int           // memRebuildSlack; tests lower it
	ready       chan struct{} // capacity 1: a transaction arrived in an empty backlog or signalAt are pending

	// mu guards every field below. It is held to look up and update them and
	// for the stateful check of one transaction (a few store reads), never
	// across ledger.Verify (done by the caller before Add) or a block commit.
	mu       sync.Mutex
	byID     map[string]*entry
	order    []*entry                    // arrival order; removed entries are compacted away
	reserved map[ledger.OutputRef]string // output -> id of the pending tx spending it
	outputs  *ledger.MemState            // outputs of the pending txs looked up so far (and of some since committed)
	memTxs   int                         // transactions applied to outputs since it was new
	bytes    int64                       // canonical bytes of the entries
}

// entry is one pending transaction.
type entry struct {
	v     *ledger.VerifiedTx
	c     *ledger.CheckedTx // checked against committed + earlier entries
	size  int64             // canonical bytes
	added time.Time
	// applied says e.c is in backlog.outputs: pending outputs are made
	// visible when a later transaction first looks one up, as most never are.
	applied bool
	// client says a client submitted e to this node (not a peer); only
	// those are published again (Regossip), regossips times so far, the
	// next not before regossipAt (zero: added plus the first wait).
	client     bool
	regossips  uint8
	regossipAt time.Time
}

// dropped is a transaction removed from the backlog without being committed.
type dropped struct {
	ID  string
	Err error
}

// newBacklog returns an empty backlog over the committed state st that holds
// at most maxTxs transactions and maxBytes canonical bytes, and signals ready
// when signalAt transactions are pending.
func newBacklog(st ledger.State, checker ledger.Checker, maxTxs int, maxBytes int64, signalAt int) *backlog {
	return &backlog{
		committed: st, checker: checker, maxTxs: maxTxs, maxBytes: maxBytes, signalAt: signalAt,
		clientTxs:   max(1, maxTxs*clientShareNum/clientShareDen),
		clientBytes: max(ledger.MaxTxBytes, maxBytes*clientShareNum/clientShareDen),
		slack:       memRebuildSlack, ready: make(chan struct{}, 1), byID: make(map[string]*entry),
		reserved: make(map[ledger.OutputRef]string), outputs: ledger.NewMemState(),
	}
}

// Add checks v against the committed state and the backlog and admits it.
// A transaction already pending is not an error (nil, nothing changes). It
// returns ErrBacklogFull (wrapped) when the backlog is at its limits, a
// *ledger.ValidationError when v is invalid against the committed ledger
// plus the backlog (DoubleSpend when a pending transaction already spends
// one of its inputs), or a store error. Add is for transactions from
// peers (gossip, fetches); AddFromClient for clients' submissions.
func (b *backlog) Add(v *ledger.VerifiedTx) error { return b.add(v, false) }

// AddFromClient is Add for a client's submission: it may fill only
// clientShare of the backlog.
func (b *backlog) AddFromClient(v *ledger.VerifiedTx) error { return b.add(v, true) }

func (b *backlog) add(v *ledger.VerifiedTx, client bool) error {
	tx := v.Tx()
	size := int64(len(tx.Canonical()))
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.byID[tx.ID]; ok {
		return nil
	}
	if err := b.roomLocked(size, client); err != nil {
		return err
	}
	c, err := b.checkLocked(b.checkerLocked(), v)
	if err != nil {
		return err
	}
	b.admitLocked(&entry{v: v, c: c, size: size, added: time.Now(), client: client})
	if n := len(b.byID); n == 1 || n == b.signalAt {
		select {
		case b.ready <- struct{}{}:
		default:
		}
	}
	return nil
}

// admitLocked records e as pending, its inputs reserved.
func (b *backlog) admitLocked(e *entry) {
	tx := e.v.Tx()
	b.byID[tx.ID] = e
	b.order = append(b.order, e)
	b.bytes += e.size
	for _, in := range tx.Inputs {
		if in.Fulfills != nil {
			b.reserved[*in.Fulfills] = tx.ID
		}
	}
}

// applyLocked makes e's outputs visible in b.outputs.
func (b *backlog) applyLocked(e *entry) {
	if !e.applied {
		b.outputs.Apply(e.c)
		e.applied = true
		b.memTxs++
	}
}

// Get returns the pending transaction id, or nil.
func (b *backlog) Get(id string) *ledger.VerifiedTx {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.byID[id]; ok {
		return e.v
	}
	return nil
}

// regossipDoublings caps the doubling of a transaction's wait between
// regossips: retry, 2*retry, ... 16*retry.
const regossipDoublings = 4

// Regossip returns the canonical bytes of at most max transactions to
// publish again at now, oldest first, and schedules each one's next time.
// Only transactions that clients submitted to this node are published
// again (a peer's are its own to publish), when they have been pending
// for retry, then 2*retry more, and so on up to 16*retry. Nothing is
// published again while a full block's worth is pending: the wait is
// then the queue's, not a sign that the caretakers lack the transaction,
// and under load these copies were 20-45% of the transaction gossip a
// caretaker received. A transaction a peer lacks still reaches the chain
// when this node proposes it, and a proposal naming it has it fetched.
func (b *backlog) Regossip(now time.Time, retry time.Duration, max int) [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.order) >= b.signalAt {
		return nil
	}
	var out [][]byte
	for _, e := range b.order {
		if len(out) >= max || e.added.Add(retry).After(now) {
			break // later entries arrived later still
		}
		if !e.client {
			continue
		}
		due := e.regossipAt
		if due.IsZero() {
			due = e.added.Add(retry)
		}
		if due.After(now) {
			continue
		}
		out = append(out, e.v.Tx().Canonical())
		e.regossips = min(e.regossips+1, regossipDoublings)
		e.regossipAt = now.Add(retry << e.regossips)
	}
	return out
}

// Ready is signalled (capacity 1) when a transaction arrives in an empty
// backlog or a full block's worth is pending.
func (b *backlog) Ready() <-chan struct{} { return b.ready }

// Pending returns how many transactions are pending and when the oldest
// arrived (zero when none).
func (b *backlog) Pending() (int, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.order) == 0 {
		return 0, time.Time{}
	}
	return len(b.order), b.order[0].added
}

// Full returns ErrBacklogFull (wrapped) when no transaction could join the
// backlog now. Under overload the callers ask before checking signatures,
// so that a transaction about to be refused costs no verification: on a
// saturated testnet that work starved consensus.
func (b *backlog) Full() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.roomLocked(1, false)
}

// ClientFull is Full for clients' submissions, which may fill only
// clientShare of the backlog.
func (b *backlog) ClientFull() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.roomLocked(1, true)
}

func (b *backlog) roomLocked(size int64, client bool) error {
	if client && (len(b.byID) >= b.clientTxs || b.bytes+size > b.clientBytes) {
		return fmt.Errorf("%w: %d transactions, %s from clients (the rest is kept for peers' gossip); retry later",
			ErrBacklogFull, b.clientTxs, formatBytes(b.clientBytes))
	}
	if len(b.byID) >= b.maxTxs || b.bytes+size > b.maxBytes {
		return fmt.Errorf("%w: %d transactions, %s; retry later", ErrBacklogFull, b.maxTxs, formatBytes(b.maxBytes))
	}
	return nil
}

// Stats returns the pending count and canonical bytes.
func (b *backlog) Stats() (int, int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.byID), b.bytes
}

// Reap returns up to max pending transactions in arrival order, for the
// next block, holding at most ledger.MaxBlockTxBytes canonical bytes (but
// always at least one). They stay pending (and their outputs reserved) until
// Committed or Drop removes them. The caller must not modify the slice's
// elements.
func (b *backlog) Reap(max int) []*ledger.VerifiedTx {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := min(max, len(b.order))
	out := make([]*ledger.VerifiedTx, 0, n)
	var size int64
	for _, e := range b.order[:n] {
		if size += e.size; size > ledger.MaxBlockTxBytes && len(out) > 0 {
			break
		}
		out = append(out, e.v)
	}
	return out
}

// Committed removes the transactions of a committed block. If the block held
// a transaction the backlog did not (another node's block), what remains is
// checked again against the new committed state, and the transactions that
// became invalid are dropped and returned.
func (b *backlog) Committed(ids []string) []dropped {
	b.mu.Lock()
	defer b.mu.Unlock()
	foreign := false
	for _, id := range ids {
		foreign = !b.removeLocked(id) || foreign
	}
	b.compactLocked()
	if foreign || b.staleLocked() {
		return b.recheckLocked()
	}
	if b.memTxs > 2*len(b.byID)+b.slack {
		b.resetOutputsLocked()
	}
	return nil
}

// Drop removes transactions that a block could not include, then checks what
// remains again (a transaction may spend an output of a dropped one). It
// returns every transaction removed, the ones named first.
func (b *backlog) Drop(gone []dropped) []dropped {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []dropped
	for _, d := range gone {
		if b.removeLocked(d.ID) {
			out = append(out, d)
		}
	}
	b.compactLocked()
	return append(out, b.recheckLocked()...)
}

// removeLocked forgets transaction id; it reports whether it was pending.
// The caller must compact order afterwards.
func (b *backlog) removeLocked(id string) bool {
	e, ok := b.byID[id]
	if !ok {
		return false
	}
	delete(b.byID, id)
	b.bytes -= e.size
	for _, in := range e.v.Tx().Inputs {
		if in.Fulfills != nil && b.reserved[*in.Fulfills] == id {
			delete(b.reserved, *in.Fulfills)
		}
	}
	return true
}

// compactLocked drops removed entries from order, keeping arrival order.
func (b *backlog) compactLocked() {
	kept := b.order[:0]
	for _, e := range b.order {
		if b.byID[e.v.Tx().ID] == e {
			kept = append(kept, e)
		}
	}
	clear(b.order[len(kept):])
	b.order = kept
}

// resetOutputsLocked empties b.outputs, forgetting committed transactions
// (the store has them); pending ones are applied again when looked up.
func (b *backlog) resetOutputsLocked() {
	b.outputs, b.memTxs = ledger.NewMemState(), 0
	for _, e := range b.order {
		e.applied = false
	}
}

// recheckLocked checks every pending transaction again, in arrival order,
// against the committed state and the ones kept before it, and drops those
// that fail.
func (b *backlog) recheckLocked() []dropped {
	old := b.order
	b.resetOutputsLocked()
	b.order, b.byID, b.bytes, b.reserved = nil, make(map[string]*entry, len(old)), 0, make(map[ledger.OutputRef]string)
	var out []dropped
	b.pendingKey = nil
	checker := b.checkerLocked()
	for _, e := range old {
		c, err := b.checkLocked(checker, e.v)
		if err != nil {
			out = append(out, dropped{ID: e.v.Tx().ID, Err: err})
			continue
		}
		e.c = c
		b.admitLocked(e)
	}
	return out
}

// overlay is the state a new transaction is checked against: the committed
// ledger plus the backlog. It may only be used with b.mu held.
type overlay struct{ b *backlog }

// HasTx implements ledger.State.
func (o overlay) HasTx(id string) (bool, error) {
	if _, ok := o.b.byID[id]; ok {
		return true, nil
	}
	return o.b.committed.HasTx(id)
}

// Output implements ledger.State: an output of a pending transaction, else
// the committed output; spent if a pending transaction reserved it.
func (o overlay) Output(ref ledger.OutputRef) (ledger.StoredOutput, bool, error) {
	var (
		out   ledger.StoredOutput
		found bool
		err   error
	)
	if e, ok := o.b.byID[ref.TxID]; ok {
		o.b.applyLocked(e)
		out, found, err = o.b.outputs.Output(ref)
	} else {
		out, found, err = o.b.committed.Output(ref)
	}
	if err != nil || !found {
		return out, found, err
	}
	_, reserved := o.b.reserved[ref]
	out.Spent = out.Spent || reserved
	return out, true, nil
}

// formatBytes writes n bytes for people: "64 MiB", "1.5 KiB", "100 bytes".
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', -1, 64) + " GiB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', -1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// isInvalid reports whether err says a transaction is invalid (as opposed
// to a store failure).
func isInvalid(err error) bool {
	var ve *ledger.ValidationError
	return errors.As(err, &ve)
}

// checkerLocked returns the checker of the pending transactions, making
// it when there is none yet.
func (b *backlog) checkerLocked() ledger.Checker {
	if b.rules == nil {
		return b.checker
	}
	if b.pendingKey == nil {
		b.pending, b.pendingKey = b.rules.pendingChecker()
	}
	return b.pending
}

// staleLocked reports whether the pending checker no longer reflects the
// rules in force (an election or a new epoch).
func (b *backlog) staleLocked() bool {
	if b.rules == nil || b.pendingKey == nil {
		return false
	}
	return b.rules.rulesKey() != b.pendingKey
}

// pendingRules gives the rules the backlog checks its pending
// transactions with (govBook's).
type pendingRules interface {
	// pendingChecker returns a checker of the rules in force at the next
	// block, for a run of admissions, and the key of those rules.
	pendingChecker() (ledger.Checker, any)
	// rulesKey returns the key of the rules in force now: it differs from
	// an earlier one when an election or a new epoch changed them.
	rulesKey() any
}

// setLimits changes the pending count that signals a full block and the
// largest transaction admitted (after an election changed max_block_txs
// or max_tx_bytes).
func (b *backlog) setLimits(signalAt int, maxTxBytes uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.signalAt, b.maxTxBytes = signalAt, maxTxBytes
}

// checkLocked checks v's size against max_tx_bytes, then v against the
// committed state and the backlog with checker.
func (b *backlog) checkLocked(checker ledger.Checker, v *ledger.VerifiedTx) (*ledger.CheckedTx, error) {
	if b.maxTxBytes > 0 {
		if err := checkTxBytes(v.Tx(), b.maxTxBytes); err != nil {
			return nil, err
		}
	}
	return checker.Check(overlay{b}, v)
}

// checkTxBytes refuses tx when its canonical bytes exceed max, the
// network's max_tx_bytes: the same rule for admission and for blocks.
func checkTxBytes(tx *ledger.Tx, max uint64) *ledger.ValidationError {
	if n := uint64(len(tx.Canonical())); n > max {
		return &ledger.ValidationError{Kind: ledger.ErrValidation,
			Message: fmt.Sprintf("transaction of %d bytes is over the network's max_tx_bytes of %d", n, max)}
	}
	return nil
}
