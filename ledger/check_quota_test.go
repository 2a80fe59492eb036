package ledger_test

import (
	"errors"
	"testing"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

// countingQuota records the transactions charged and refuses those in deny.
type countingQuota struct {
	charged []string
	deny    map[string]bool
}

var errOverQuota = errors.New("over quota")

func (q *countingQuota) Charge(tx *ledger.Tx) error {
	if q.deny[tx.ID] {
		return errOverQuota
	}
	q.charged = append(q.charged, tx.ID)
	return nil
}

// The quota is charged last: only for transactions that passed every
// other check, and a refusal by it refuses the transaction.
func TestCheckerChargesQuotaLast(t *testing.T) {
	key := ledgertest.Key(t, 1)
	st := ledger.NewMemState()
	good := ledgertest.Create(t, key, map[string]any{"n": 1}, nil)
	denied := ledgertest.Create(t, key, map[string]any{"n": 2}, nil)
	q := &countingQuota{deny: map[string]bool{denied.ID: true}}
	c := ledger.Checker{Quotas: q}
	check := func(tx *ledger.Tx) error {
		t.Helper()
		v, err := ledger.CheckStateless(tx)
		if err != nil {
			t.Fatal(err)
		}
		ct, err := c.Check(st, v)
		if err == nil {
			st.Apply(ct)
		}
		return err
	}
	if err := check(good); err != nil {
		t.Fatalf("Check(good)=%v", err)
	}
	if err := check(good); !errors.Is(err, ledger.ErrDuplicateTx) {
		t.Fatalf("Check(duplicate)=%v, want DuplicateTransaction before the quota", err)
	}
	if err := check(denied); !errors.Is(err, errOverQuota) {
		t.Fatalf("Check(denied)=%v, want the quota's error", err)
	}
	if len(q.charged) != 1 || q.charged[0] != good.ID {
		t.Fatalf("charged %v, want only %s", q.charged, good.ID)
	}
}
