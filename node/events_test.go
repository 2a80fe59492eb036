package node

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ipdb/ipdb-node/ledger"
)

// blockEvents returns the events of a block at height h holding n txs.
func blockEvents(h uint64, n int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		id := fmt.Sprintf("tx-%d-%d", h, i)
		evs[i] = Event{TxID: id, AssetID: id, Height: h}
	}
	return evs
}

// drain reads every event buffered in s and reports whether s was closed.
func drain(s *Subscription) (got []Event, closed bool) {
	for {
		select {
		case e, ok := <-s.C:
			if !ok {
				return got, true
			}
			got = append(got, e)
		default:
			return got, false
		}
	}
}

func TestEventsInOrder(t *testing.T) {
	ev := newEvents(nil)
	s := ev.Subscribe(10)
	defer s.Close()
	b1, b2 := blockEvents(1, 2), blockEvents(2, 3)
	ev.Publish(b1)
	ev.Publish(b2)
	got, closed := drain(s)
	want := append(b1, b2...)
	if closed || len(got) != len(want) {
		t.Fatalf("read %d events (closed=%v), want %d open", len(got), closed, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d=%+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestEventsDropSlowSubscriber(t *testing.T) {
	m := NewMetrics()
	ev := newEvents(m)
	slow, fast := ev.Subscribe(3), ev.Subscribe(100)
	defer fast.Close()
	if got := gaugeValue(t, m, "ipdb_stream_subscribers"); got != 2 {
		t.Fatalf("ipdb_stream_subscribers=%v, want 2", got)
	}
	ev.Publish(blockEvents(1, 2))
	ev.Publish(blockEvents(2, 2)) // slow has room for one of these: dropped
	got, closed := drain(slow)
	if !closed || len(got) != 3 {
		t.Fatalf("slow subscriber read %d events, closed=%v; want 3 then closed", len(got), closed)
	}
	if got, closed := drain(fast); closed || len(got) != 4 {
		t.Fatalf("fast subscriber read %d events, closed=%v; want 4, open", len(got), closed)
	}
	if ev.Subscribers() != 1 {
		t.Fatalf("Subscribers()=%d, want 1", ev.Subscribers())
	}
	if got := gaugeValue(t, m, "ipdb_stream_dropped_total"); got != 1 {
		t.Fatalf("ipdb_stream_dropped_total=%v, want 1", got)
	}
	slow.Close() // already dropped: must not close twice
}

func TestSubscriptionClose(t *testing.T) {
	ev := newEvents(nil)
	s := ev.Subscribe(0) // raised to 1
	s.Close()
	s.Close()
	if _, closed := drain(s); !closed {
		t.Fatalf("subscription channel open after Close, want closed")
	}
	ev.Publish(blockEvents(1, 1)) // nothing to deliver to, nothing to panic on
	if ev.Subscribers() != 0 {
		t.Fatalf("Subscribers()=%d, want 0", ev.Subscribers())
	}
}

func TestEventsWaiters(t *testing.T) {
	ev := newEvents(nil)
	w1, w2, other := ev.Wait("tx-3-1"), ev.Wait("tx-3-1"), ev.Wait("elsewhere")
	ev.Publish(blockEvents(3, 2))
	for _, w := range []*waiter{w1, w2} {
		select {
		case r := <-w.c:
			if r.err != nil || r.height != 3 {
				t.Fatalf("waiter got %+v, want height 3", r)
			}
		default:
			t.Fatalf("waiter not released by its block")
		}
		ev.Cancel(w)
	}
	select {
	case r := <-other.c:
		t.Fatalf("unrelated waiter released with %+v", r)
	default:
	}
	cause := ledger.ErrDoubleSpend
	ev.Fail([]dropped{{ID: "elsewhere", Err: cause}})
	if r := <-other.c; !errors.Is(r.err, cause) {
		t.Fatalf("failed waiter got %v, want %v", r.err, cause)
	}
	ev.Cancel(other)
	if len(ev.waiters) != 0 {
		t.Fatalf("%d waiter sets left, want 0", len(ev.waiters))
	}
}

func TestEventsClose(t *testing.T) {
	ev := newEvents(nil)
	s := ev.Subscribe(5)
	w := ev.Wait("x")
	ev.Close()
	if _, closed := drain(s); !closed {
		t.Fatalf("subscription open after Close")
	}
	if r := <-w.c; !errors.Is(r.err, ErrStopping) {
		t.Fatalf("waiter got %v, want ErrStopping", r.err)
	}
	if r := <-ev.Wait("y").c; !errors.Is(r.err, ErrStopping) {
		t.Fatalf("Wait after Close got %v, want ErrStopping", r.err)
	}
	if _, closed := drain(ev.Subscribe(5)); !closed {
		t.Fatalf("Subscribe after Close is open, want closed")
	}
	s.Close()
	ev.Close()
}
