package federation

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func vals(powers ...uint64) []Validator {
	out := make([]Validator, len(powers))
	for i, p := range powers {
		out[i] = Validator{ID: ValidatorID(fmt.Sprintf("v%03d", i)), Power: p}
	}
	return out
}

func TestNewValidatorSetErrors(t *testing.T) {
	tooMany := make([]uint64, MaxValidators+1)
	for i := range tooMany {
		tooMany[i] = 1
	}
	long := ValidatorID(make([]byte, MaxValidatorIDBytes+1))
	tests := []struct {
		name string
		vals []Validator
	}{
		{"empty", nil},
		{"too many", vals(tooMany...)},
		{"zero power", vals(1, 0, 1)},
		{"duplicate", []Validator{{"a", 1}, {"b", 1}, {"a", 2}}},
		{"empty id", []Validator{{"", 1}}},
		{"long id", []Validator{{long, 1}}},
		{"total over max", vals(MaxTotalPower, 1)},
		{"one over max", vals(MaxTotalPower + 1)},
		{"sum wraps", vals(1<<63, 1<<63)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewValidatorSet(tt.vals); !errors.Is(err, ErrInvalid) {
				t.Fatalf("NewValidatorSet()=%v, want %v", err, ErrInvalid)
			}
		})
	}
}

func TestValidatorSetAccessors(t *testing.T) {
	in := []Validator{{"c", 3}, {"a", 1}, {"b", 2}}
	s, err := NewValidatorSet(in)
	if err != nil {
		t.Fatalf("NewValidatorSet()=%v, want nil", err)
	}
	in[0].Power = 99 // the set keeps its own copy
	if got := s.TotalPower(); got != 6 {
		t.Fatalf("TotalPower()=%d, want 6", got)
	}
	if got := s.Power("c"); got != 3 {
		t.Fatalf("Power(c)=%d, want 3", got)
	}
	if got := s.Power("x"); got != 0 {
		t.Fatalf("Power(x)=%d, want 0", got)
	}
	got := s.Validators()
	want := []Validator{{"a", 1}, {"b", 2}, {"c", 3}}
	if !slices.Equal(got, want) {
		t.Fatalf("Validators()=%v, want %v", got, want)
	}
	got[0].Power = 42
	if s.Power("a") != 1 {
		t.Fatalf("Validators() returned the set's own slice")
	}
}

func TestProposerMaxTotalPowerAndHugeHeights(t *testing.T) {
	s, err := NewValidatorSet(vals(MaxTotalPower-2, 1, 1))
	if err != nil {
		t.Fatalf("NewValidatorSet()=%v, want nil", err)
	}
	if n := len(s.rotation); n != rotationScale+1 { // 65535 (rounded down) + 1 + 1
		t.Fatalf("period=%d, want %d", n, rotationScale+1)
	}
	for _, h := range []uint64{0, 1 << 63, ^uint64(0)} {
		if p := s.Proposer(h, MaxRound); s.Power(p) == 0 {
			t.Fatalf("Proposer(%d, max)=%q, not a member", h, p)
		}
	}
}

// naiveSWRR is the nginx smooth weighted round robin written the obvious way.
func naiveSWRR(weights []uint64, n int) []int {
	cur := make([]int64, len(weights))
	var total int64
	for _, w := range weights {
		total += int64(w)
	}
	var seq []int
	for range n {
		for i, w := range weights {
			cur[i] += int64(w)
		}
		best := 0
		for i := range cur {
			if cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
		seq = append(seq, best)
	}
	return seq
}

// TestProposerOracle: over one period every validator proposes exactly its
// (scaled) power times, and the sequence equals a naive SWRR loop.
func TestProposerOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		powers := rapid.SliceOfN(rapid.Uint64Range(1, 1<<40), 1, 12).Draw(t, "powers")
		if rapid.Bool().Draw(t, "small") {
			for i := range powers {
				powers[i] = powers[i]%20 + 1
			}
		}
		s, err := NewValidatorSet(vals(powers...))
		if err != nil {
			t.Fatalf("NewValidatorSet(%v)=%v, want nil", powers, err)
		}
		weights := naiveWeights(powers, s.TotalPower())
		var period uint64
		for _, w := range weights {
			period += w
		}
		want := naiveSWRR(weights, int(period))
		h := rapid.Uint64().Draw(t, "height")
		counts := make(map[ValidatorID]uint64)
		for k := range period {
			// index (h + r) mod period walks the whole period as r does.
			r := uint32(k)
			got := s.Proposer(h-h%period, r)
			if wantID := s.vals[want[k]].ID; got != wantID {
				t.Fatalf("Proposer(%d, %d)=%s, want %s", h-h%period, r, got, wantID)
			}
			counts[got]++
		}
		for i, v := range s.vals {
			if counts[v.ID] != weights[i] {
				t.Fatalf("%s proposes %d times per period, want %d", v.ID, counts[v.ID], weights[i])
			}
		}
	})
}

// naiveWeights scales powers as the rotation must: unchanged up to a total
// of 65536, else floor(p*65536/total) but at least 1 (exact in uint64 for
// the drawn powers <= 2^40).
func naiveWeights(powers []uint64, total uint64) []uint64 {
	out := slices.Clone(powers)
	if total <= rotationScale {
		return out
	}
	for i, p := range powers {
		out[i] = max(1, (p<<16)/total)
	}
	return out
}
