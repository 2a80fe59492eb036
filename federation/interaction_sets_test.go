package federation_test

import (
	"fmt"
	"strings"

	"github.com/ipdb/ipdb-node/federation"
)

// heightSet is a validator set of the harness and the first height it holds for.
type heightSet struct {
	from uint64
	set  *federation.ValidatorSet
}

// makeSet returns the set of nodes v1..v<count> with powers (default 1; 0
// leaves the node out), failing the test if it is refused.
func (h *harness) makeSet(count int, powers []string) *federation.ValidatorSet {
	var vals []federation.Validator
	for i := range count {
		p := uint64(1)
		if i < len(powers) {
			p = h.num(powers[i])
		}
		if p > 0 {
			vals = append(vals, federation.Validator{ID: federation.ValidatorID(fmt.Sprintf("v%d", i+1)), Power: p})
		}
	}
	set, err := federation.NewValidatorSet(vals)
	if err != nil {
		h.t.Fatalf("NewValidatorSet(%v)=%v", vals, err)
	}
	return set
}

// setValidators makes power=(...) the set from height h= on (the election
// decided in block h-1), and prints it.
func (h *harness) setValidators(b *strings.Builder, c command) {
	from := h.num(c.arg("h", ""))
	if last := h.sets[len(h.sets)-1].from; from <= last {
		h.t.Fatalf("set-validators h=%d: not above the last change at h=%d", from, last)
	}
	set := h.makeSet(len(c.kv["power"]), c.kv["power"])
	h.sets = append(h.sets, heightSet{from: from, set: set})
	var vals []string
	for _, v := range set.Validators() {
		vals = append(vals, fmt.Sprintf("%s:%d", v.ID, v.Power))
	}
	fmt.Fprintf(b, "from h%d: %s\n", from, strings.Join(vals, " "))
}

// setFor returns the harness's validator set of height.
func (h *harness) setFor(height uint64) *federation.ValidatorSet {
	set := h.sets[0].set
	for _, s := range h.sets {
		if s.from <= height {
			set = s.set
		}
	}
	return set
}
