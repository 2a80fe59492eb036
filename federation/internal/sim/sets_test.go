package sim

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/ipdb/ipdb-node/federation"
)

// testSet returns the set of n0..n<len-1> with powers, failing the test if refused.
func testSet(t *testing.T, powers ...uint64) *federation.ValidatorSet {
	t.Helper()
	vals := make([]federation.Validator, len(powers))
	for i, p := range powers {
		vals[i] = federation.Validator{ID: nodeID(i), Power: p}
	}
	set, err := federation.NewValidatorSet(vals)
	if err != nil {
		t.Fatalf("NewValidatorSet(%v)=%v, want nil", vals, err)
	}
	return set
}

// TestApplyChange checks the governance rules of one change against a
// history in which n4 was a member and left.
func TestApplyChange(t *testing.T) {
	five := testSet(t, 3, 3, 3, 3, 3)
	four := testSet(t, 3, 3, 3, 3) // total 12: a change may move at most 3
	history := []*federation.ValidatorSet{five, four}
	tests := []struct {
		c    change
		want string // the resulting set, "" if refused
	}{
		{change{changeAdd, "n5", 3}, "n0:3 n1:3 n2:3 n3:3 n5:3"},
		{change{changeAdd, "n5", 4}, ""}, // 4 is not < 12/3
		{change{changeAdd, "n4", 1}, ""}, // removal is for good
		{change{changeAdd, "n0", 1}, ""}, // a member already
		{change{changeAdd, "n5", 0}, ""},
		{change{changeRemove, "n0", 0}, ""}, // would leave 3 < minMembers
		{change{changeRemove, "n9", 0}, ""},
		{change{changeReweight, "n1", 6}, "n0:3 n1:6 n2:3 n3:3"},
		{change{changeReweight, "n1", 7}, ""}, // moves 4
		{change{changeReweight, "n1", 3}, ""}, // no change
		{change{changeReweight, "n5", 2}, ""}, // not a member
	}
	for _, tt := range tests {
		t.Run(tt.c.String(), func(t *testing.T) {
			set, err := applyChange(history, tt.c)
			got := ""
			if err == nil {
				got = fingerprint(set)
			}
			if got != tt.want {
				t.Fatalf("applyChange(%v)=%q, %v; want %q", tt.c, got, err, tt.want)
			}
		})
	}
	set, err := applyChange([]*federation.ValidatorSet{five}, change{changeRemove, "n2", 0})
	if err != nil || fingerprint(set) != "n0:3 n1:3 n3:3 n4:3" {
		t.Fatalf("applyChange(-n2)=%v, %v; want n2 removed", set, err)
	}
}

// TestBlockChangeRoundTrip: the change a block id carries is the one its
// builder appended.
func TestBlockChangeRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		kind := rapid.SampledFrom([]changeKind{changeAdd, changeRemove, changeReweight}).Draw(t, "kind")
		c := change{kind: kind, target: nodeID(rapid.IntRange(0, MaxNodes+MaxSpares).Draw(t, "target"))}
		if kind != changeRemove {
			c.power = rapid.Uint64().Draw(t, "power")
		}
		id := blockID(rapid.Uint64().Draw(t, "h"), rapid.Uint32().Draw(t, "r"), 3) + "/" + federation.BlockID(c.String())
		got, ok, err := blockChange(id)
		if err != nil || !ok || got != c {
			t.Fatalf("blockChange(%q)=%v, %v, %v; want %v", id, got, ok, err, c)
		}
	})
}

// TestBlockChangeNone: plain and second blocks carry no change; malformed
// changes are errors.
func TestBlockChangeNone(t *testing.T) {
	tests := []struct {
		id      federation.BlockID
		wantErr bool
	}{
		{"h1/r0/n1", false},
		{"h1/r0/n1" + altSuffix, false},
		{"h1/r0/n1/", true},
		{"h1/r0/n1/+n2", true},
		{"h1/r0/n1/+n2:x", true},
		{"h1/r0/n1/*n2:1", true},
		{"h1/r0/n1/-n2/x", true},
	}
	for _, tt := range tests {
		t.Run(string(tt.id), func(t *testing.T) {
			c, ok, err := blockChange(tt.id)
			if ok || (err != nil) != tt.wantErr {
				t.Fatalf("blockChange(%q)=%v, %v, %v; want no change, error %v", tt.id, c, ok, err, tt.wantErr)
			}
		})
	}
}

// TestNodeSetsFollowOwnBlocks: a node's set of h+1 comes from its stored
// block h, and removedFrom finds the height it left.
func TestNodeSetsFollowOwnBlocks(t *testing.T) {
	s := newTestSim(t)
	n := s.nodes[1]
	steps := []struct {
		block   federation.BlockID
		members int
	}{
		{"h1/r0/n2/+n4:1", 5},
		{"h2/r0/n3", 5},
		{"h3/r0/n4/-n1", 4},
	}
	for i, st := range steps {
		h := uint64(i + 1)
		d := federation.Decision{Height: h, BlockID: st.block}
		for _, v := range n.setAt(h).Validators() {
			d.Precommits = append(d.Precommits, federation.Vote{Type: federation.Precommit, Height: h, BlockID: st.block, Validator: v.ID})
		}
		s.store(n, d)
		if s.err != nil {
			t.Fatalf("store(%q)=%v, want nil", st.block, s.err)
		}
		if got := n.setAt(h + 1).Len(); got != st.members {
			t.Fatalf("after %q: setAt(%d).Len()=%d, want %d", st.block, h+1, got, st.members)
		}
	}
	if got := n.removedFrom(); got != 4 {
		t.Fatalf("removedFrom()=%d, want 4", got)
	}
	if got := s.nodes[2].removedFrom(); got != 0 {
		t.Fatalf("removedFrom() of a node that stored nothing=%d, want 0", got)
	}
}

// FuzzBlockChange: any block id parses without panicking, and a change it
// yields renders back to the id's change segment.
func FuzzBlockChange(f *testing.F) {
	for _, seed := range []string{"h1/r0/n1", "h1/r0/n1/+n5:3", "h2/r1/n0/-n3", "h3/r0/n2/=n1:7", "h1/r0/n1-alt", "h1/r0/n1/+:"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		c, ok, err := blockChange(federation.BlockID(id))
		if err != nil || !ok {
			return
		}
		if got, _, _ := blockChange(federation.BlockID(fmt.Sprintf("h1/r0/n1/%v", c))); got != c {
			t.Fatalf("blockChange(%q)=%v, re-parsed as %v", id, c, got)
		}
	})
}
