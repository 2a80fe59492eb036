package ledger_test

import (
	"errors"
	"testing"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

func TestBuildElectionAndVote(t *testing.T) {
	k0, k1 := ledgertest.Key(t, 0), ledgertest.Key(t, 1)
	for _, op := range []string{ledger.OpValidatorElection, ledger.OpParameterElection, ledger.OpQuotaElection, ledger.OpChainMigrationElection} {
		t.Run(op, func(t *testing.T) {
			u, err := ledger.BuildElection(op, k0.Public, map[string]any{"seed": "s"}, nil, ledger.To(3, k0.Public), ledger.To(4, k1.Public))
			if err != nil {
				t.Fatalf("BuildElection()=%v", err)
			}
			e, err := u.Sign(k0.Private)
			if err != nil {
				t.Fatalf("Sign()=%v", err)
			}
			if _, err := ledger.Verify(e.Canonical()); err != nil {
				t.Fatalf("Verify(election)=%v", err)
			}
			if e.Operation != op || !e.IsCreateLike() || e.Inputs[0].OwnersBefore[0] != k0.PublicBase58() {
				t.Fatalf("election=%+v, want a CREATE-like %s by key 0", e, op)
			}
			v, err := ledger.BuildVote([]ledger.Spend{ledger.SpendOf(e, 1)}, e.ID, nil, ledger.To(4, k0.Public))
			if err != nil {
				t.Fatalf("BuildVote()=%v", err)
			}
			vote, err := v.Sign(k1.Private)
			if err != nil {
				t.Fatalf("Sign(vote)=%v", err)
			}
			if _, err := ledger.Verify(vote.Canonical()); err != nil || vote.Operation != ledger.OpVote || vote.Asset.ID != e.ID {
				t.Fatalf("Verify(vote)=%v, op %s asset %s; want a VOTE of %s", err, vote.Operation, vote.Asset.ID, e.ID)
			}
		})
	}
}

func TestBuildElectionRefuses(t *testing.T) {
	k0 := ledgertest.Key(t, 0)
	tests := []struct {
		name string
		op   string
		key  []byte
	}{
		{"CREATE", ledger.OpCreate, k0.Public},
		{"VOTE", ledger.OpVote, k0.Public},
		{"short key", ledger.OpValidatorElection, k0.Public[:31]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ledger.BuildElection(tc.op, tc.key, nil, nil, ledger.To(1, k0.Public)); !errors.Is(err, ledger.ErrBuild) {
				t.Fatalf("BuildElection()=%v, want %v", err, ledger.ErrBuild)
			}
		})
	}
	if _, err := ledger.BuildVote(nil, "id", nil); !errors.Is(err, ledger.ErrBuild) {
		t.Fatalf("BuildVote(no spends)=%v, want %v", err, ledger.ErrBuild)
	}
}
