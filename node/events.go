package node

import (
	"fmt"
	"sync"
)

// maxSubscriptionBuffer bounds the buffer a subscriber asks for: the channel
// is allocated at once, about 60 bytes an event.
const maxSubscriptionBuffer = maxStreamBuffer

// events fans committed transactions out to subscribers and releases the
// submitters waiting for a transaction's commit. A subscriber whose buffer
// is full is dropped (its channel closed): a slow reader never delays a
// commit. All methods are safe for concurrent use.
type events struct {
	metrics *Metrics // nil records nothing
	subs    *fanout[Event]

	// mu guards the fields below. It is held while waiters are released,
	// which never blocks (each waiter has a free buffer slot).
	mu      sync.Mutex
	waiters map[string]map[*waiter]struct{} // by transaction id
	closed  bool
}

// waiter is one ModeCommit submission waiting for its transaction.
type waiter struct {
	id string
	c  chan waitResult // capacity 1: sent to at most once
}

// waitResult is what a waiter learns: the height that committed its
// transaction, or why it never will.
type waitResult struct {
	height uint64
	err    error
}

func newEvents(m *Metrics) *events {
	return &events{metrics: m, subs: newFanout[Event](m.setSubscribers, m.streamDropped),
		waiters: make(map[string]map[*waiter]struct{})}
}

// Subscribe returns a subscription buffering at most buf events (at least 1,
// at most maxSubscriptionBuffer). After close, the subscription's channel is
// closed at once.
func (ev *events) Subscribe(buf int) *Subscription {
	c, cancel := ev.subs.subscribe(buf)
	return NewSubscription(c, cancel)
}

// Subscribers returns how many subscriptions are open.
func (ev *events) Subscribers() int { return ev.subs.count() }

// Wait registers interest in transaction id's commit. The caller must call
// Cancel once it stops reading the waiter. After close, the waiter is
// released at once with ErrStopping.
func (ev *events) Wait(id string) *waiter {
	w := &waiter{id: id, c: make(chan waitResult, 1)}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.closed {
		w.c <- waitResult{err: ErrStopping}
		return w
	}
	set := ev.waiters[id]
	if set == nil {
		set = make(map[*waiter]struct{}, 1)
		ev.waiters[id] = set
	}
	set[w] = struct{}{}
	return w
}

// Cancel forgets w; it is safe to call after w was released.
func (ev *events) Cancel(w *waiter) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if set := ev.waiters[w.id]; set != nil {
		delete(set, w)
		if len(set) == 0 {
			delete(ev.waiters, w.id)
		}
	}
}

// Publish hands the events of one committed block, in order, to every
// subscriber, dropping any whose buffer fills, then releases the waiters of
// its transactions with its height.
func (ev *events) Publish(block []Event) {
	ev.subs.publish(block)
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for _, e := range block {
		ev.releaseLocked(e.TxID, waitResult{height: e.Height})
	}
}

// Fail releases the waiters of transactions that will not be committed.
func (ev *events) Fail(gone []dropped) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for _, d := range gone {
		ev.releaseLocked(d.ID, waitResult{err: fmt.Errorf("node: transaction dropped from the backlog: %w", d.Err)})
	}
}

// Close closes every subscription and releases every waiter with
// ErrStopping; later Subscribe and Wait calls end at once.
func (ev *events) Close() {
	ev.subs.close()
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.closed = true
	for id := range ev.waiters {
		ev.releaseLocked(id, waitResult{err: ErrStopping})
	}
}

func (ev *events) releaseLocked(id string, r waitResult) {
	for w := range ev.waiters[id] {
		w.c <- r // never blocks: capacity 1, and a waiter is released once
	}
	delete(ev.waiters, id)
}
