package node

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/p2p"
)

// fakeTopic records published messages.
type fakeTopic struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (f *fakeTopic) Publish(_ context.Context, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, data)
	return nil
}

// batches returns the sizes of the batches published so far.
func (f *fakeTopic) batches(t *testing.T) []int {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]int, len(f.msgs))
	for i, m := range f.msgs {
		txs, err := decodeTxBatch(m)
		if err != nil {
			t.Fatalf("published batch %d: %v", i, err)
		}
		out[i] = len(txs)
	}
	return out
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTxGossipBatchesAndRegossips(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		topic := &fakeTopic{}
		bl := newBacklog(ledger.NewMemState(), ledger.Checker{}, 100, 1<<20, 100)
		g := newTxGossip("self", time.Second, bl, slog.New(slog.DiscardHandler), nil)
		g.topic = topic
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- g.run(ctx) }()

		for i := range 3 {
			g.enqueue([]byte{'{', byte('a' + i), '}'})
		}
		synctest.Wait()
		if got := topic.batches(t); len(got) != 0 {
			t.Fatalf("published %v before the flush interval, want nothing", got)
		}
		time.Sleep(gossipFlush) // virtual time
		synctest.Wait()
		if got := topic.batches(t); !equalInts(got, []int{3}) {
			t.Fatalf("batches %v after the flush interval, want [3]", got)
		}
		for range MaxGossipBatch {
			g.enqueue([]byte("{}"))
		}
		synctest.Wait()
		if got := topic.batches(t); !equalInts(got, []int{3, MaxGossipBatch}) {
			t.Fatalf("batches %v after a full batch, want [3 %d] at once", got, MaxGossipBatch)
		}

		// Tx gossip does not look at the fake transactions above.
		own, peers := createTx(t, newKey(t, 1), 0, 1), createTx(t, newKey(t, 1), 1, 1)
		if err := bl.AddFromClient(verify(t, own)); err != nil {
			t.Fatalf("backlog.AddFromClient()=%v", err)
		}
		if err := bl.Add(verify(t, peers)); err != nil {
			t.Fatalf("backlog.Add()=%v", err)
		}
		time.Sleep(2 * time.Second) // two retry intervals: the client's pending tx is published again, once
		synctest.Wait()
		if got := topic.batches(t); !equalInts(got, []int{3, MaxGossipBatch, 1}) {
			t.Fatalf("batches %v, want [3 %d 1]: the client's pending transaction published again", got, MaxGossipBatch)
		}
		topic.mu.Lock()
		again, err := decodeTxBatch(topic.msgs[2])
		topic.mu.Unlock()
		if err != nil || string(again[0]) != string(own.Canonical()) {
			t.Fatalf("published again %q (%v), want the client's transaction", again, err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("run()=%v", err)
		}
	})
}

func TestTxGossipValidate(t *testing.T) {
	owner := newKey(t, 1)
	create := createTx(t, owner, 0, 1)
	other := createTx(t, owner, 1, 1)
	third := createTx(t, owner, 2, 1)
	bl := newBacklog(ledger.NewMemState(), ledger.Checker{}, 2, 1<<20, 100)
	g := newTxGossip("self", time.Second, bl, slog.New(slog.DiscardHandler), nil)
	tampered := []byte(string(other.Canonical()))
	tampered[len(tampered)-3] ^= 1
	for _, tc := range []struct {
		name string
		from string
		data []byte
		want p2p.Verdict
		pend int
	}{
		{"own batch", "self", []byte("not even cbor"), p2p.Accept, 0},
		{"valid", "peer", encodeTxBatch([][]byte{create.Canonical()}), p2p.Accept, 1},
		{"duplicate", "peer", encodeTxBatch([][]byte{create.Canonical()}), p2p.Accept, 1},
		{"malformed", "peer", []byte{0xff}, p2p.Reject, 1},
		{"invalid tx", "peer", encodeTxBatch([][]byte{tampered}), p2p.Reject, 1},
		{"not json", "peer", encodeTxBatch([][]byte{[]byte("x")}), p2p.Reject, 1},
		// The backlog (max 2) fills: a new batch is then ignored unverified,
		// even an invalid one, and a known one still passes as seen.
		{"fills", "peer", encodeTxBatch([][]byte{other.Canonical()}), p2p.Accept, 2},
		{"full, invalid", "peer", encodeTxBatch([][]byte{tampered}), p2p.Ignore, 2},
		{"full, valid", "peer", encodeTxBatch([][]byte{third.Canonical()}), p2p.Ignore, 2},
		{"full, seen", "peer", encodeTxBatch([][]byte{create.Canonical()}), p2p.Accept, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := g.validate(t.Context(), peer.ID(tc.from), tc.data); got != tc.want {
				t.Fatalf("validate()=%v, want %v", got, tc.want)
			}
			if n, _ := bl.Stats(); n != tc.pend {
				t.Fatalf("backlog holds %d, want %d", n, tc.pend)
			}
		})
	}
}

// TestTxGossipRelay: a valid batch from a caretaker goes no further (its
// author sent it to every peer); a caretaker publishes again, in its own
// batches, what a follower sent it, and a follower relays what other
// followers send it. Invalid batches are judged as before, whoever sent
// them.
func TestTxGossipRelay(t *testing.T) {
	owner := newKey(t, 1)
	caretakers := map[peer.ID]bool{"ct-self": true, "ct-peer": true}
	isCaretaker := func(p peer.ID) bool { return caretakers[p] }
	for _, tc := range []struct {
		name, self, from string
		want             p2p.Verdict
		republished      bool
	}{
		{"caretaker from caretaker", "ct-self", "ct-peer", p2p.AcceptNoRelay, false},
		{"caretaker from follower", "ct-self", "follower", p2p.AcceptNoRelay, true},
		{"follower from caretaker", "follower-self", "ct-peer", p2p.AcceptNoRelay, false},
		{"follower from follower", "follower-self", "follower", p2p.Accept, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bl := newBacklog(ledger.NewMemState(), ledger.Checker{}, 10, 1<<20, 100)
			g := newTxGossip(peer.ID(tc.self), time.Second, bl, slog.New(slog.DiscardHandler), nil)
			g.caretaker = isCaretaker
			tx := createTx(t, owner, 0, 1)
			if got := g.validate(t.Context(), peer.ID(tc.from), encodeTxBatch([][]byte{tx.Canonical()})); got != tc.want {
				t.Fatalf("validate()=%v, want %v", got, tc.want)
			}
			if n, _ := bl.Stats(); n != 1 {
				t.Fatalf("backlog holds %d, want the batch's transaction", n)
			}
			queued := len(g.queue)
			if want := map[bool]int{false: 0, true: 1}[tc.republished]; queued != want {
				t.Fatalf("%d transactions queued for our own batches, want %d", queued, want)
			}
			if tc.republished {
				if got := <-g.queue; string(got) != string(tx.Canonical()) {
					t.Fatalf("queued %q, want the transaction's canonical bytes", got)
				}
			}
			// The same batch again: nothing new, nothing queued again.
			if got := g.validate(t.Context(), peer.ID(tc.from), encodeTxBatch([][]byte{tx.Canonical()})); got != tc.want || len(g.queue) != 0 {
				t.Fatalf("the batch again: validate()=%v with %d queued, want %v and none", got, len(g.queue), tc.want)
			}
			if got := g.validate(t.Context(), peer.ID(tc.from), []byte{0xff}); got != p2p.Reject {
				t.Fatalf("a malformed batch: validate()=%v, want %v", got, p2p.Reject)
			}
		})
	}
}

// TestTxGossipBatchesWaitTheirTurn: a batch that arrives while another is
// being verified waits for it instead of being dropped (gossipsub would
// count it as seen, and its copies from other peers as duplicates); one
// whose validator's time runs out while waiting is ignored, not charged to
// the peer.
func TestTxGossipBatchesWaitTheirTurn(t *testing.T) {
	if c := (&txGossip{}).topicConfig().Concurrency; c != gossipVerifying+gossipWaiting || gossipWaiting < 1 {
		t.Fatalf("txs topic concurrency %d, want %d verifying plus %d waiting", c, gossipVerifying, gossipWaiting)
	}
	owner := newKey(t, 1)
	first, second := createTx(t, owner, 0, 1), createTx(t, owner, 1, 1)
	synctest.Test(t, func(t *testing.T) {
		bl := newBacklog(ledger.NewMemState(), ledger.Checker{}, 10, 1<<20, 100)
		g := newTxGossip("self", time.Second, bl, slog.New(slog.DiscardHandler), nil)
		g.turn <- struct{}{} // another batch is being verified
		got := make(chan p2p.Verdict, 1)
		go func() { got <- g.validate(t.Context(), "peer", encodeTxBatch([][]byte{first.Canonical()})) }()
		synctest.Wait()
		select {
		case v := <-got:
			t.Fatalf("validate()=%v while another batch was being verified, want it to wait", v)
		default:
		}
		<-g.turn // that batch is done
		if v := <-got; v != p2p.Accept {
			t.Fatalf("validate()=%v after waiting, want %v", v, p2p.Accept)
		}

		g.turn <- struct{}{}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if v := g.validate(ctx, "peer", encodeTxBatch([][]byte{second.Canonical()})); v != p2p.Ignore {
			t.Fatalf("validate()=%v when its time ran out waiting, want %v", v, p2p.Ignore)
		}
		<-g.turn
		if n, _ := bl.Stats(); n != 1 || bl.Get(first.ID) == nil {
			t.Fatalf("backlog holds %d, want only the batch that got its turn", n)
		}
	})
}

// TestSeenSet checks that the set filters what it remembers, keeps the
// order of the rest, and forgets the oldest beyond its bound.
func TestSeenSet(t *testing.T) {
	s := newSeenSet(2)
	a, b, c := []byte("a"), []byte("b"), []byte("c")
	s.add(a)
	if got := s.unseen([][]byte{c, a, b}); len(got) != 2 || string(got[0]) != "c" || string(got[1]) != "b" {
		t.Fatalf("unseen()=%q, want [c b]", got)
	}
	s.add(a) // again: no second slot
	s.add(b)
	s.add(c) // forgets a
	if got := s.unseen([][]byte{a, b, c}); len(got) != 1 || string(got[0]) != "a" {
		t.Fatalf("unseen() after overflow=%q, want [a]", got)
	}
}
