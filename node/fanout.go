package node

import "sync"

// fanout hands values to subscribers, each with a bounded buffer. A
// subscriber whose buffer has no room for what is published is dropped
// (its channel closed), so a slow reader never delays the publisher. It
// serves the transaction events and the election events; all methods are
// safe for concurrent use.
type fanout[T any] struct {
	onCount func(subscribers int) // called with the count after it changes; nil: not
	onDrop  func()                // called when a slow subscriber is dropped; nil: not

	mu     sync.Mutex
	subs   map[chan T]struct{}
	closed bool
}

func newFanout[T any](onCount func(int), onDrop func()) *fanout[T] {
	return &fanout[T]{onCount: onCount, onDrop: onDrop, subs: make(map[chan T]struct{})}
}

// subscribe returns a channel buffering at most buf values (1 to
// maxSubscriptionBuffer) and the function that unsubscribes it. After
// close, the channel is closed at once.
func (f *fanout[T]) subscribe(buf int) (<-chan T, func()) {
	c := make(chan T, min(max(buf, 1), maxSubscriptionBuffer))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		close(c)
		return c, func() {}
	}
	f.subs[c] = struct{}{}
	f.countLocked()
	return c, func() { f.unsubscribe(c) }
}

// unsubscribe removes c and closes it, unless it is gone already.
func (f *fanout[T]) unsubscribe(c chan T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[c]; ok {
		delete(f.subs, c)
		close(c)
		f.countLocked()
	}
}

// count returns how many subscribers there are.
func (f *fanout[T]) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// publish hands vs, in order, to every subscriber, dropping those with no
// room for all of them.
func (f *fanout[T]) publish(vs []T) {
	if len(vs) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.subs {
		if !offerAll(c, vs) {
			delete(f.subs, c)
			close(c)
			if f.onDrop != nil {
				f.onDrop()
			}
			f.countLocked()
		}
	}
}

// offerAll sends vs to c without blocking; false when c had no room.
func offerAll[T any](c chan T, vs []T) bool {
	for _, v := range vs {
		select {
		case c <- v:
		default:
			return false
		}
	}
	return true
}

// close ends every subscription; later subscribe calls end at once.
func (f *fanout[T]) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for c := range f.subs {
		delete(f.subs, c)
		close(c)
	}
	f.countLocked()
}

func (f *fanout[T]) countLocked() {
	if f.onCount != nil {
		f.onCount(len(f.subs))
	}
}
