package sim

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ipdb/ipdb-node/federation"
)

// Caretaker-set changes (Config.SetChanges) work the way governance does: a
// proposer's app embeds at most one change in the block it builds for
// height h, and every node, once it stored block h, applies that change to
// its own set of h to get its set of h+1. A node derives its sets ONLY from
// its own stored blocks, so two nodes that applied a change at different
// heights would use different sets at one height (ErrSetDivergence).

// Limits of the set-change mode.
const (
	// MaxSpares bounds the non-voting nodes that elections may add.
	MaxSpares = 4
	// minMembers keeps a set large enough to tolerate one faulty member.
	minMembers = MinNodes
	// changeChance is the chance (1 in changeChance) that a built block carries a change.
	changeChance = 3
)

// changeKind is what one change does to a set.
type changeKind byte

const (
	changeAdd      changeKind = '+' // a node that was never a member joins with Power
	changeRemove   changeKind = '-' // a member leaves for good
	changeReweight changeKind = '=' // a member's power becomes Power
)

// change is one election result embedded in a block id, e.g. "+n5:3".
type change struct {
	kind   changeKind
	target federation.ValidatorID
	power  uint64 // add, reweight
}

// String renders c as it appears in a block id.
func (c change) String() string {
	if c.kind == changeRemove {
		return string(c.kind) + string(c.target)
	}
	return fmt.Sprintf("%c%s:%d", c.kind, c.target, c.power)
}

// blockChange returns the change a block id carries: the fourth "/" segment
// of a block built by blockID ("h5/r2/n3/+n6:4"); ok is false for none. The
// byzantine proposer's second block ("...-alt") carries none.
func blockChange(id federation.BlockID) (c change, ok bool, err error) {
	parts := strings.Split(string(id), "/")
	if len(parts) < 4 {
		return change{}, false, nil
	}
	s := parts[3]
	if len(parts) > 4 || len(s) < 2 {
		return change{}, false, fmt.Errorf("block %q: bad change %q", id, s)
	}
	c.kind = changeKind(s[0])
	switch c.kind {
	case changeRemove:
		c.target = federation.ValidatorID(s[1:])
		return c, true, nil
	case changeAdd, changeReweight:
		target, power, found := strings.Cut(s[1:], ":")
		p, perr := strconv.ParseUint(power, 10, 64)
		if !found || perr != nil || target == "" {
			return change{}, false, fmt.Errorf("block %q: bad change %q", id, s)
		}
		c.target, c.power = federation.ValidatorID(target), p
		return c, true, nil
	}
	return change{}, false, fmt.Errorf("block %q: unknown change %q", id, s)
}

// wasMember reports whether id was a member of any set in history.
func wasMember(history []*federation.ValidatorSet, id federation.ValidatorID) bool {
	for _, set := range history {
		if set.Power(id) > 0 {
			return true
		}
	}
	return false
}

// applyChange returns the set after c, or an error if governance would
// refuse c against history (the sets of heights 1..h, the last one current):
// the power moved must be below 1/3 of the current total, an added node must
// never have been a member (removal is for good), the target of a removal or
// re-weighting must be a member, and at least minMembers must remain.
func applyChange(history []*federation.ValidatorSet, c change) (*federation.ValidatorSet, error) {
	cur := history[len(history)-1]
	vals, old := cur.Validators(), cur.Power(c.target)
	var moved uint64
	switch {
	case c.kind == changeAdd && !wasMember(history, c.target) && c.power > 0:
		vals, moved = append(vals, federation.Validator{ID: c.target, Power: c.power}), c.power
	case c.kind == changeRemove && old > 0 && len(vals) > minMembers:
		vals, moved = removeValidator(vals, c.target), old
	case c.kind == changeReweight && old > 0 && c.power > 0 && c.power != old:
		vals, moved = reweight(vals, c.target, c.power), max(c.power, old)-min(c.power, old)
	default:
		return nil, fmt.Errorf("change %v not allowed", c)
	}
	if 3*moved >= cur.TotalPower() {
		return nil, fmt.Errorf("change %v moves power %d, not < 1/3 of %d", c, moved, cur.TotalPower())
	}
	set, err := federation.NewValidatorSet(vals)
	if err != nil {
		return nil, fmt.Errorf("change %v: %w", c, err)
	}
	return set, nil
}

// removeValidator returns vals without id.
func removeValidator(vals []federation.Validator, id federation.ValidatorID) []federation.Validator {
	out := vals[:0]
	for _, v := range vals {
		if v.ID != id {
			out = append(out, v)
		}
	}
	return out
}

// reweight returns vals with id's power set to power.
func reweight(vals []federation.Validator, id federation.ValidatorID, power uint64) []federation.Validator {
	for i := range vals {
		if vals[i].ID == id {
			vals[i].Power = power
		}
	}
	return vals
}

// nextSet returns the set of height d.Height+1 that n derives from its own
// stored block d and its set history.
func nextSet(n *node, d federation.Decision) (*federation.ValidatorSet, error) {
	history := n.sets[:d.Height]
	c, ok, err := blockChange(d.BlockID)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return history[len(history)-1], nil
	}
	return applyChange(history, c)
}

// checkBlock is the app's valid(v) for a block of height h on n: a block
// carrying a change is valid only if governance accepts the change against
// n's own sets; the byzantine proposer's second block is invalid with
// Config.BadSecond.
func (s *Sim) checkBlock(n *node, h uint64, id federation.BlockID) bool {
	if s.cfg.BadSecond && strings.HasSuffix(string(id), altSuffix) {
		return false
	}
	c, ok, err := blockChange(id)
	if err != nil || uint64(len(n.sets)) < h {
		return false
	}
	if !ok {
		return true
	}
	_, err = applyChange(n.sets[:h], c)
	return err == nil
}

// buildBlock is the block n's app builds for (h, r): with Config.SetChanges,
// one time in changeChance it carries a change drawn against n's own sets
// that governance accepts and that keeps the byzantine node's power below
// 1/3 of the total (the fault model).
func (s *Sim) buildBlock(n *node, h uint64, r uint32) federation.BlockID {
	id := blockID(h, r, n.idx)
	if !s.cfg.SetChanges || uint64(len(n.sets)) < h || s.rng.IntN(changeChance) != 0 {
		return id
	}
	if c, ok := s.drawChange(n.sets[:h]); ok {
		return id + "/" + federation.BlockID(c.String())
	}
	return id
}

// drawChange picks a random acceptable change against history, trying a
// few candidates; ok is false when none of them is acceptable.
func (s *Sim) drawChange(history []*federation.ValidatorSet) (change, bool) {
	const tries = 8
	for range tries {
		c := s.randomChange(history[len(history)-1])
		next, err := applyChange(history, c)
		if err == nil && s.byzantineBelowThird(next) {
			return c, true
		}
	}
	return change{}, false
}

// randomChange draws an add of a spare, a removal or a re-weighting.
func (s *Sim) randomChange(cur *federation.ValidatorSet) change {
	power := uint64(1 + s.rng.IntN(MaxPower))
	vals := cur.Validators()
	member := vals[s.rng.IntN(len(vals))].ID
	switch s.rng.IntN(3) {
	case 0:
		if s.cfg.Spares > 0 {
			return change{kind: changeAdd, target: nodeID(s.cfg.Nodes + s.rng.IntN(s.cfg.Spares)), power: power}
		}
		return change{kind: changeReweight, target: member, power: power}
	case 1:
		return change{kind: changeRemove, target: member}
	}
	return change{kind: changeReweight, target: member, power: power}
}

// byzantineBelowThird reports whether the byzantine node, if a member of
// set, holds less than 1/3 of its power.
func (s *Sim) byzantineBelowThird(set *federation.ValidatorSet) bool {
	return s.byz < 0 || 3*set.Power(s.nodes[s.byz].id) < set.TotalPower()
}

// setAt returns n's own set of height h, or nil if n has not derived it yet.
func (n *node) setAt(h uint64) *federation.ValidatorSet {
	if h == 0 || h > uint64(len(n.sets)) {
		return nil
	}
	return n.sets[h-1]
}

// removedFrom returns the first height at which n, once a member, is no
// longer one in its own history (removal is for good), or 0.
func (n *node) removedFrom() uint64 {
	for h := len(n.sets) - 1; h > 0; h-- {
		if n.sets[h].Power(n.id) == 0 && n.sets[h-1].Power(n.id) > 0 {
			return uint64(h) + 1
		}
	}
	return 0
}

// fingerprint renders a set for comparisons and failure messages.
func fingerprint(set *federation.ValidatorSet) string {
	var b strings.Builder
	for _, v := range set.Validators() {
		fmt.Fprintf(&b, "%s:%d ", v.ID, v.Power)
	}
	return strings.TrimSpace(b.String())
}

// startedSet is the set a height was first started with, and its fingerprint.
type startedSet struct {
	set   *federation.ValidatorSet
	print string
}

// checkSet fails unless n's set of h is the one every node that started h
// before used.
func (s *Sim) checkSet(n *node, h uint64, set *federation.ValidatorSet) {
	got := fingerprint(set)
	first, ok := s.heightSets[h]
	if !ok {
		s.heightSets[h] = startedSet{set: set, print: got}
		if prev, ok := s.heightSets[h-1]; ok && prev.print != got {
			s.stats.SetChanges++
			s.trace.note("set of h%d: %s", h, got)
		}
		return
	}
	if got != first.print {
		s.fail(ErrSetDivergence, fmt.Sprintf("%s starts h%d with set {%s}, another node started it with {%s}", n.id, h, got, first.print))
	}
}
