package federation

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// naiveQuorum is the oracle: sort the voters, add their power one by one,
// and compare 3*sum > 2*total (or > total for f+1) at the end.
func naiveQuorum(set *ValidatorSet, voters []ValidatorID, twoThirds bool) bool {
	voters = slices.Clone(voters)
	slices.Sort(voters)
	voters = slices.Compact(voters)
	var sum uint64
	for _, id := range voters {
		sum += set.Power(id)
	}
	if twoThirds {
		return 3*sum > 2*set.TotalPower()
	}
	return 3*sum > set.TotalPower()
}

// TestTallyOracle checks the vote set's quorum tally, including duplicates
// and equivocations (not counted), against the naive oracle.
func TestTallyOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		powers := rapid.SliceOfN(rapid.Uint64Range(1, MaxTotalPower/64), 1, 20).Draw(t, "powers")
		set, err := NewValidatorSet(vals(powers...))
		if err != nil {
			t.Fatalf("NewValidatorSet()=%v, want nil", err)
		}
		ids := make([]ValidatorID, 0, set.Len())
		for _, v := range set.Validators() {
			ids = append(ids, v.ID)
		}
		blocks := []BlockID{"", "A", "B"}
		s := newVoteSet()
		counted := make(map[ValidatorID][]BlockID) // the first two different blocks of each voter
		for range rapid.IntRange(0, 60).Draw(t, "n") {
			id := rapid.SampledFrom(ids).Draw(t, "voter")
			b := rapid.SampledFrom(blocks).Draw(t, "block")
			s.add(Vote{Type: Prevote, Height: 1, BlockID: b, Validator: id}, set.Power(id))
			if len(counted[id]) < 2 && !slices.Contains(counted[id], b) {
				counted[id] = append(counted[id], b)
			}
		}
		var all []ValidatorID
		for id := range counted {
			all = append(all, id)
		}
		if got, want := s.quorumAny(set.TotalPower()), naiveQuorum(set, all, true); got != want {
			t.Fatalf("quorumAny()=%v, want %v", got, want)
		}
		for _, b := range blocks {
			var voters []ValidatorID
			for id, cb := range counted {
				if slices.Contains(cb, b) {
					voters = append(voters, id)
				}
			}
			if got, want := s.quorumFor(b, set.TotalPower()), naiveQuorum(set, voters, true); got != want {
				t.Fatalf("quorumFor(%q)=%v, want %v", b, got, want)
			}
			if got, want := oneThird(s.power[b], set.TotalPower()), naiveQuorum(set, voters, false); got != want {
				t.Fatalf("oneThird(%q)=%v, want %v", b, got, want)
			}
		}
	})
}

func TestVoteSetAdd(t *testing.T) {
	s := newVoteSet()
	a := Vote{Type: Prevote, Height: 1, BlockID: "A", Validator: "v"}
	b, c := a, a
	b.BlockID, c.BlockID = "B", ""
	steps := []struct {
		v    Vote
		want addResult
	}{{a, voteAdded}, {a, voteDuplicate}, {b, voteEquivocation}, {b, voteExcess}, {c, voteExcess}}
	for i, st := range steps {
		if got := s.add(st.v, 5); got != st.want {
			t.Fatalf("add #%d (%q)=%v, want %v", i, st.v.BlockID, got, st.want)
		}
	}
	if s.any != 5 || s.power["A"] != 5 || s.power["B"] != 5 || s.power[""] != 0 {
		t.Fatalf("tally any=%d A=%d B=%d nil=%d, want 5 5 5 0", s.any, s.power["A"], s.power["B"], s.power[""])
	}
}

func TestQuorumBoundaries(t *testing.T) {
	tests := []struct {
		power, total     uint64
		quorum, oneThird bool
	}{
		{2, 3, false, true}, {3, 4, true, true}, {1, 3, false, false}, {2, 4, false, true},
		{7, 10, true, true}, {MaxTotalPower, MaxTotalPower, true, true},
		{MaxTotalPower / 3, MaxTotalPower, false, false},
	}
	for _, tt := range tests {
		if got := quorum(tt.power, tt.total); got != tt.quorum {
			t.Fatalf("quorum(%d, %d)=%v, want %v", tt.power, tt.total, got, tt.quorum)
		}
		if got := oneThird(tt.power, tt.total); got != tt.oneThird {
			t.Fatalf("oneThird(%d, %d)=%v, want %v", tt.power, tt.total, got, tt.oneThird)
		}
	}
}
