package node

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

// newKey returns the key pair of a seed filled with b.
func newKey(t testing.TB, b byte) ledger.KeyPair {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = b
	}
	k, err := ledger.NewKeyPair(seed)
	if err != nil {
		t.Fatalf("NewKeyPair()=%v", err)
	}
	return k
}

// createTx returns a CREATE of amount to owner, issued by owner, made unique
// by n.
func createTx(t testing.TB, owner ledger.KeyPair, n int, amount uint64) *ledger.Tx {
	t.Helper()
	return ledgertest.Create(t, owner, map[string]any{"n": n}, nil, ledger.To(amount, owner.Public))
}

// transferTx returns a TRANSFER of output i of spent, owned by from, to to.
func transferTx(t testing.TB, from ledger.KeyPair, spent *ledger.Tx, i int, to ed25519.PublicKey) *ledger.Tx {
	t.Helper()
	return ledgertest.Transfer(t, spent, i, nil, []ledger.KeyPair{from}, ledger.To(spent.Outputs[i].Amount, to))
}

func verify(t testing.TB, tx *ledger.Tx) *ledger.VerifiedTx {
	t.Helper()
	v, err := ledger.CheckStateless(tx)
	if err != nil {
		t.Fatalf("CheckStateless()=%v", err)
	}
	return v
}

// commitMem applies txs to st as committed.
func commitMem(t testing.TB, st *ledger.MemState, txs ...*ledger.Tx) {
	t.Helper()
	for _, tx := range txs {
		c, err := ledger.Check(st, verify(t, tx))
		if err != nil {
			t.Fatalf("Check()=%v", err)
		}
		st.Apply(c)
	}
}

func newTestBacklog(st ledger.State) *backlog {
	return newBacklog(st, ledger.Checker{}, 100, 1<<20, 10)
}

func mustAdd(t *testing.T, b *backlog, tx *ledger.Tx) {
	t.Helper()
	if err := b.Add(verify(t, tx)); err != nil {
		t.Fatalf("Add(%s)=%v, want nil", tx.Operation, err)
	}
}

func wantKind(t *testing.T, err, kind error) {
	t.Helper()
	var ve *ledger.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, kind) {
		t.Fatalf("Add()=%v, want a ValidationError of kind %v", err, kind)
	}
}

func TestBacklogAddIsIdempotent(t *testing.T) {
	alice := newKey(t, 1)
	b := newTestBacklog(ledger.NewMemState())
	tx := createTx(t, alice, 0, 1)
	mustAdd(t, b, tx)
	mustAdd(t, b, tx)
	if n, bytes := b.Stats(); n != 1 || bytes != int64(len(tx.Canonical())) {
		t.Fatalf("Stats()=%d, %d, want 1, %d", n, bytes, len(tx.Canonical()))
	}
}

func TestBacklogRefusesCommittedDuplicate(t *testing.T) {
	alice := newKey(t, 1)
	st := ledger.NewMemState()
	tx := createTx(t, alice, 0, 1)
	commitMem(t, st, tx)
	wantKind(t, newTestBacklog(st).Add(verify(t, tx)), ledger.ErrDuplicateTx)
}

func TestBacklogReservation(t *testing.T) {
	alice, bob, carol := newKey(t, 1), newKey(t, 2), newKey(t, 3)
	st := ledger.NewMemState()
	create := createTx(t, alice, 0, 5)
	commitMem(t, st, create)
	b := newTestBacklog(st)
	mustAdd(t, b, transferTx(t, alice, create, 0, bob.Public))
	wantKind(t, b.Add(verify(t, transferTx(t, alice, create, 0, carol.Public))), ledger.ErrDoubleSpend)
	if n, _ := b.Stats(); n != 1 {
		t.Fatalf("Stats()=%d, want 1", n)
	}
}

func TestBacklogPendingCreateThenTransfer(t *testing.T) {
	alice, bob, carol := newKey(t, 1), newKey(t, 2), newKey(t, 3)
	b := newTestBacklog(ledger.NewMemState())
	create := createTx(t, alice, 0, 3)
	toBob := transferTx(t, alice, create, 0, bob.Public)
	toCarol := transferTx(t, bob, toBob, 0, carol.Public)
	if err := b.Add(verify(t, toBob)); !errors.Is(err, ledger.ErrInputDoesNotExist) {
		t.Fatalf("Add(transfer before its create)=%v, want InputDoesNotExist", err)
	}
	mustAdd(t, b, create)
	mustAdd(t, b, toBob)
	mustAdd(t, b, toCarol)
	wantKind(t, b.Add(verify(t, transferTx(t, alice, create, 0, carol.Public))), ledger.ErrDoubleSpend)
	wantKind(t, b.Add(verify(t, transferTx(t, bob, toBob, 0, alice.Public))), ledger.ErrDoubleSpend)
}

// TestBacklogConcurrentDoubleSpends submits many spends of one output at
// once: exactly one must be admitted.
func TestBacklogConcurrentDoubleSpends(t *testing.T) {
	alice := newKey(t, 1)
	st := ledger.NewMemState()
	create := createTx(t, alice, 0, 1)
	commitMem(t, st, create)
	const spenders = 64
	vs := make([]*ledger.VerifiedTx, spenders)
	for i := range vs {
		vs[i] = verify(t, transferTx(t, alice, create, 0, newKey(t, byte(10+i)).Public))
	}
	b := newTestBacklog(st)
	errs := make([]error, spenders)
	var wg sync.WaitGroup
	for i := range vs {
		wg.Go(func() { errs[i] = b.Add(vs[i]) })
	}
	wg.Wait()
	accepted := 0
	for _, err := range errs {
		if err == nil {
			accepted++
			continue
		}
		wantKind(t, err, ledger.ErrDoubleSpend)
	}
	if accepted != 1 {
		t.Fatalf("accepted %d of %d double spends, want 1", accepted, spenders)
	}
}

func TestBacklogLimits(t *testing.T) {
	alice := newKey(t, 1)
	txs := []*ledger.Tx{createTx(t, alice, 0, 1), createTx(t, alice, 1, 1), createTx(t, alice, 2, 1)}
	size := int64(len(txs[0].Canonical()))
	tests := []struct {
		name     string
		maxTxs   int
		maxBytes int64
		want     string
		full     bool // Full refuses too: no transaction at all fits
	}{
		{"count", 2, 1 << 20, "node: backlog full: 2 transactions, 1 MiB; retry later", true},
		{"bytes", 100, 2*size + size/2, fmt.Sprintf("node: backlog full: 100 transactions, %s; retry later", formatBytes(2*size+size/2)), false},
		{"bytes exactly", 100, 2 * size, fmt.Sprintf("node: backlog full: 100 transactions, %s; retry later", formatBytes(2*size)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBacklog(ledger.NewMemState(), ledger.Checker{}, tt.maxTxs, tt.maxBytes, 10)
			mustAdd(t, b, txs[0])
			if err := b.Full(); err != nil {
				t.Fatalf("Full() with one pending=%v", err)
			}
			mustAdd(t, b, txs[1])
			err := b.Add(verify(t, txs[2]))
			if !errors.Is(err, ErrBacklogFull) || err.Error() != tt.want {
				t.Fatalf("Add()=%v, want %q", err, tt.want)
			}
			if err := b.Full(); (err != nil) != tt.full || (err != nil && err.Error() != tt.want) {
				t.Fatalf("Full()=%v, want full=%v (%q)", err, tt.full, tt.want)
			}
			mustAdd(t, b, txs[1]) // already pending: still not an error
			b.Committed([]string{txs[0].ID})
			mustAdd(t, b, txs[2])
		})
	}
}

func TestBacklogReapOrder(t *testing.T) {
	alice := newKey(t, 1)
	b := newTestBacklog(ledger.NewMemState())
	var ids []string
	for i := range 5 {
		tx := createTx(t, alice, i, 1)
		mustAdd(t, b, tx)
		ids = append(ids, tx.ID)
	}
	for _, max := range []int{0, 3, 5, 10} {
		got := b.Reap(max)
		if len(got) != min(max, 5) {
			t.Fatalf("Reap(%d) returned %d txs, want %d", max, len(got), min(max, 5))
		}
		for i, v := range got {
			if v.Tx().ID != ids[i] {
				t.Fatalf("Reap(%d)[%d]=%s, want %s", max, i, v.Tx().ID, ids[i])
			}
		}
	}
	b.Committed(ids[:2])
	if got := b.Reap(10); len(got) != 3 || got[0].Tx().ID != ids[2] {
		t.Fatalf("Reap after Committed: %d txs, want 3 starting with %s", len(got), ids[2])
	}
}

func TestBacklogCommittedFreesOutputs(t *testing.T) {
	alice, bob := newKey(t, 1), newKey(t, 2)
	st := ledger.NewMemState()
	b := newTestBacklog(st)
	create := createTx(t, alice, 0, 1)
	toBob := transferTx(t, alice, create, 0, bob.Public)
	mustAdd(t, b, create)
	mustAdd(t, b, toBob)
	commitMem(t, st, create, toBob) // the block is in the store ...
	if gone := b.Committed([]string{create.ID, toBob.ID}); len(gone) != 0 {
		t.Fatalf("Committed()=%v, want nothing dropped", gone)
	}
	if n, bytes := b.Stats(); n != 0 || bytes != 0 {
		t.Fatalf("Stats()=%d, %d, want 0, 0", n, bytes)
	}
	if len(b.reserved) != 0 {
		t.Fatalf("reservations left after commit: %v", b.reserved)
	}
	// ... so a second spend is refused by the committed state.
	wantKind(t, b.Add(verify(t, transferTx(t, alice, create, 0, alice.Public))), ledger.ErrDoubleSpend)
	mustAdd(t, b, transferTx(t, bob, toBob, 0, alice.Public))
}

func TestBacklogDropRechecksDependents(t *testing.T) {
	alice, bob := newKey(t, 1), newKey(t, 2)
	b := newTestBacklog(ledger.NewMemState())
	create := createTx(t, alice, 0, 1)
	other := createTx(t, alice, 1, 1)
	toBob := transferTx(t, alice, create, 0, bob.Public)
	for _, tx := range []*ledger.Tx{create, other, toBob} {
		mustAdd(t, b, tx)
	}
	cause := errors.New("test")
	gone := b.Drop([]dropped{{ID: create.ID, Err: cause}})
	if len(gone) != 2 || gone[0].ID != create.ID || gone[0].Err != cause || gone[1].ID != toBob.ID {
		t.Fatalf("Drop()=%v, want the create then its transfer", gone)
	}
	wantKind(t, gone[1].Err, ledger.ErrInputDoesNotExist)
	if got := b.Reap(10); len(got) != 1 || got[0].Tx().ID != other.ID {
		t.Fatalf("Reap() after Drop holds %d txs, want only the unrelated create", len(got))
	}
}

func TestBacklogForeignCommitRechecks(t *testing.T) {
	alice, bob, carol := newKey(t, 1), newKey(t, 2), newKey(t, 3)
	st := ledger.NewMemState()
	create := createTx(t, alice, 0, 1)
	commitMem(t, st, create)
	b := newTestBacklog(st)
	mine := transferTx(t, alice, create, 0, bob.Public)
	mustAdd(t, b, mine)
	theirs := transferTx(t, alice, create, 0, carol.Public)
	commitMem(t, st, theirs) // another node's block spent the output
	gone := b.Committed([]string{theirs.ID})
	if len(gone) != 1 || gone[0].ID != mine.ID {
		t.Fatalf("Committed(foreign)=%v, want the conflicting pending transfer dropped", gone)
	}
	wantKind(t, gone[0].Err, ledger.ErrDoubleSpend)
}

func TestBacklogOutputsOverlayIsBounded(t *testing.T) {
	alice, bob := newKey(t, 1), newKey(t, 2)
	st := ledger.NewMemState()
	b := newTestBacklog(st)
	b.slack = 2
	var ids []string
	var creates []*ledger.Tx
	for i := range 4 {
		create := createTx(t, alice, i, 1)
		spend := transferTx(t, alice, create, 0, bob.Public) // looks the pending create up
		mustAdd(t, b, create)
		mustAdd(t, b, spend)
		commitMem(t, st, create, spend)
		ids = append(ids, create.ID, spend.ID)
		creates = append(creates, create)
	}
	if b.memTxs != 4 {
		t.Fatalf("overlay holds %d txs, want the 4 creates looked up", b.memTxs)
	}
	b.Committed(ids)
	if b.memTxs != 0 {
		t.Fatalf("overlay holds %d txs after commit, want 0 (reset)", b.memTxs)
	}
	wantKind(t, b.Add(verify(t, transferTx(t, alice, creates[0], 0, alice.Public))), ledger.ErrDoubleSpend)
	pending := createTx(t, alice, 99, 1)
	mustAdd(t, b, pending)
	mustAdd(t, b, transferTx(t, alice, pending, 0, bob.Public))
	wantKind(t, b.Add(verify(t, transferTx(t, alice, pending, 0, alice.Public))), ledger.ErrDoubleSpend)
}

func TestBacklogReadySignals(t *testing.T) {
	alice := newKey(t, 1)
	b := newBacklog(ledger.NewMemState(), ledger.Checker{}, 100, 1<<20, 3)
	signalled := func() bool {
		select {
		case <-b.Ready():
			return true
		default:
			return false
		}
	}
	for i, want := range []bool{true, false, true, false} {
		mustAdd(t, b, createTx(t, alice, i, 1))
		if got := signalled(); got != want {
			t.Fatalf("after tx %d: ready=%v, want %v", i+1, got, want)
		}
	}
	if n, oldest := b.Pending(); n != 4 || oldest.IsZero() {
		t.Fatalf("Pending()=%d, %v, want 4 and a time", n, oldest)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{100: "100 bytes", 1536: "1.5 KiB", 64 << 20: "64 MiB", 16 << 30: "16 GiB"} {
		if got := formatBytes(n); got != want {
			t.Fatalf("formatBytes(%d)=%q, want %q", n, got, want)
		}
	}
}

// BenchmarkBacklogAdd measures admission to the backlog (the part of
// Submit under its lock) over an in-memory committed state: a CREATE, and a
// CREATE then a TRANSFER spending it while pending.
func BenchmarkBacklogAdd(b *testing.B) {
	const pool = 2048
	alice, bob := newKey(b, 1), newKey(b, 2)
	for _, withTransfer := range []bool{false, true} {
		var vs []*ledger.VerifiedTx
		for i := range pool {
			create := createTx(b, alice, i, 1)
			vs = append(vs, verify(b, create))
			if withTransfer {
				vs = append(vs, verify(b, transferTx(b, alice, create, 0, bob.Public)))
			}
		}
		name := map[bool]string{false: "create", true: "create+transfer"}[withTransfer]
		b.Run(name, func(b *testing.B) {
			bl, i := newBacklog(ledger.NewMemState(), ledger.Checker{}, len(vs), 1<<30, len(vs)), 0
			for b.Loop() {
				if i == len(vs) {
					b.StopTimer()
					bl, i = newBacklog(ledger.NewMemState(), ledger.Checker{}, len(vs), 1<<30, len(vs)), 0
					b.StartTimer()
				}
				if err := bl.Add(vs[i]); err != nil {
					b.Fatalf("Add()=%v", err)
				}
				i++
			}
		})
	}
}

func TestReapBoundsBlockBytes(t *testing.T) {
	owner := newKey(t, 1)
	b := newBacklog(ledger.NewMemState(), ledger.Checker{}, 1000, 64<<20, 10)
	pad := strings.Repeat("p", 40<<10)
	n := 0
	for size := int64(0); size <= ledger.MaxBlockTxBytes+64<<10; n++ {
		u, err := ledger.BuildCreate([]ed25519.PublicKey{owner.Public}, map[string]any{"n": n, "pad": pad}, nil, ledger.To(1, owner.Public))
		if err != nil {
			t.Fatal(err)
		}
		tx, err := u.Sign(owner.Private)
		if err != nil {
			t.Fatal(err)
		}
		mustAdd(t, b, tx)
		size += int64(len(tx.Canonical()))
	}
	got := b.Reap(n)
	var size int64
	for _, v := range got {
		size += int64(len(v.Tx().Canonical()))
	}
	if len(got) == 0 || len(got) == n || size > ledger.MaxBlockTxBytes {
		t.Fatalf("Reap(%d) gave %d txs of %d bytes, want fewer than %d within %d bytes", n, len(got), size, n, ledger.MaxBlockTxBytes)
	}
}

// TestBacklogClientShare: clients' submissions fill three quarters of the
// backlog; the rest stays open to transactions gossiped by peers.
func TestBacklogClientShare(t *testing.T) {
	alice := newKey(t, 1)
	var txs []*ledger.Tx
	for i := range 5 {
		txs = append(txs, createTx(t, alice, i, 1))
	}
	b := newBacklog(ledger.NewMemState(), ledger.Checker{}, 4, 1<<20, 10)
	for _, tx := range txs[:3] {
		if err := b.AddFromClient(verify(t, tx)); err != nil {
			t.Fatalf("AddFromClient()=%v", err)
		}
	}
	want := "node: backlog full: 3 transactions, 768 KiB from clients (the rest is kept for peers' gossip); retry later"
	if err := b.AddFromClient(verify(t, txs[3])); !errors.Is(err, ErrBacklogFull) || err.Error() != want {
		t.Fatalf("AddFromClient(4th)=%v, want %q", err, want)
	}
	if err := b.ClientFull(); err == nil || err.Error() != want {
		t.Fatalf("ClientFull()=%v, want %q", err, want)
	}
	if err := b.Full(); err != nil {
		t.Fatalf("Full() with room for peers=%v", err)
	}
	mustAdd(t, b, txs[3]) // from a peer
	if err := b.Full(); !errors.Is(err, ErrBacklogFull) {
		t.Fatalf("Full() at the limit=%v, want ErrBacklogFull", err)
	}
	if err := b.Add(verify(t, txs[4])); !errors.Is(err, ErrBacklogFull) {
		t.Fatalf("Add(5th)=%v, want ErrBacklogFull", err)
	}
}

func TestBacklogRegossip(t *testing.T) {
	alice := newKey(t, 1)
	b := newBacklog(ledger.NewMemState(), ledger.Checker{}, 100, 1<<20, 4)
	own, peers := createTx(t, alice, 0, 1), createTx(t, alice, 1, 1)
	if err := b.AddFromClient(verify(t, own)); err != nil {
		t.Fatalf("AddFromClient()=%v", err)
	}
	mustAdd(t, b, peers) // from a peer: its to publish again, not ours
	const retry = time.Second
	t0 := time.Now() // at or after both arrived
	due := func(at time.Duration) int {
		t.Helper()
		out := b.Regossip(t0.Add(at), retry, 10)
		for _, raw := range out {
			if string(raw) != string(own.Canonical()) {
				t.Fatalf("Regossip at +%v returned %.40q..., want only the client's transaction", at, raw)
			}
		}
		return len(out)
	}
	// Due at retry after arrival, then after 2, 4, 8 and 16 retries, and
	// every 16 from then on; each call at a due time takes it once.
	for _, step := range []struct {
		at   time.Duration
		want int
	}{
		{retry / 2, 0}, {retry, 1}, {retry, 0},
		{3*retry - time.Millisecond, 0}, {3 * retry, 1}, {3 * retry, 0},
		{7 * retry, 1}, {15 * retry, 1}, {31 * retry, 1},
		{47*retry - time.Millisecond, 0}, {47 * retry, 1},
	} {
		if got := due(step.at); got != step.want {
			t.Fatalf("Regossip at +%v: %d transactions, want %d", step.at, got, step.want)
		}
	}

	// A full block's worth pending: the wait is the queue's, nothing is due.
	for i := range 2 {
		if err := b.AddFromClient(verify(t, createTx(t, alice, 2+i, 1))); err != nil {
			t.Fatalf("AddFromClient()=%v", err)
		}
	}
	if got := due(1000 * retry); got != 0 {
		t.Fatalf("Regossip with a full block's worth pending: %d transactions, want none", got)
	}
	b.Committed([]string{peers.ID})
	if got := len(b.Regossip(t0.Add(1000*retry), retry, 10)); got != 3 {
		t.Fatalf("Regossip below a full block's worth: %d transactions, want the 3 of clients", got)
	}
	if got := len(b.Regossip(t0.Add(2000*retry), retry, 2)); got != 2 {
		t.Fatalf("Regossip(max 2): %d transactions, want 2", got)
	}
}
