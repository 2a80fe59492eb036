package governance

import (
	"maps"
	"slices"
	"strings"

	"github.com/ipdb/ipdb-node/genesis"
)

// State is the governance state after some block: the caretaker sets and
// parameter values with the heights they are in force from, the quotas, and
// every election. It is immutable: Apply returns a new State, and the
// accessors return copies, so a State may be read from any number of
// goroutines.
type State struct {
	height uint64
	// epochs are the caretaker sets, From ascending; epochs[0].From is 1.
	epochs []SetEpoch
	// params are the parameter values, From ascending; params[0].From is 0.
	params []paramEpoch
	// quotas holds each key's quota history, From ascending; an entry with
	// Txs 0 records a revocation (a grant has Txs >= 1).
	quotas map[string][]Quota
	// elections by id, and their ids in order of height then position.
	elections map[string]*Election
	order     []string
}

// paramEpoch is the parameter values in force from height From.
type paramEpoch struct {
	From   uint64         `json:"from"`
	Params genesis.Params `json:"params"`
}

// Genesis returns the state of a new network: the set doc.Caretakers in
// force from height 1, the parameters doc.Params from height 0, no quota
// and no election. doc must be valid.
func Genesis(doc *genesis.Doc) *State {
	return &State{
		epochs:    []SetEpoch{{From: 1, Set: Set{Caretakers: slices.Clone(doc.Caretakers)}}},
		params:    []paramEpoch{{From: 0, Params: doc.Params}},
		quotas:    map[string][]Quota{},
		elections: map[string]*Election{},
	}
}

// Height returns the height of the last block that changed the state (0
// for genesis). Blocks without governance transactions change nothing, so
// the state stays valid for them.
func (s *State) Height() uint64 { return s.height }

// SetAt returns a copy of the caretaker set in force at height h. It is
// exact for every h up to Height()+1 and, since nothing is ever pending,
// for every later height until the next governance block. Height 0 gives
// the genesis set.
func (s *State) SetAt(h uint64) Set {
	i := len(s.epochs) - 1
	for i > 0 && s.epochs[i].From > h {
		i--
	}
	return s.epochs[i].Set.clone()
}

// SetEpochs returns every caretaker set and the height it is in force
// from, oldest first.
func (s *State) SetEpochs() []SetEpoch {
	out := make([]SetEpoch, len(s.epochs))
	for i, e := range s.epochs {
		out[i] = SetEpoch{From: e.From, Set: e.Set.clone()}
	}
	return out
}

// ParamsAt returns the parameter values in force at height h (exact as
// SetAt is).
func (s *State) ParamsAt(h uint64) genesis.Params {
	i := len(s.params) - 1
	for i > 0 && s.params[i].From > h {
		i--
	}
	return s.params[i].Params
}

// Params returns every parameter's newest value and the first height it is
// in force from, in genesis.ParamTable order.
func (s *State) Params() []ParamValue {
	table := genesis.ParamTable()
	out := make([]ParamValue, len(table))
	last := s.params[len(s.params)-1]
	for i, info := range table {
		v, _ := last.Params.Get(info.Name) // names come from ParamTable
		from := last.From
		for j := len(s.params) - 2; j >= 0; j-- {
			if old, _ := s.params[j].Params.Get(info.Name); old != v {
				break
			}
			from = s.params[j].From
		}
		out[i] = ParamValue{Name: info.Name, Value: v, Height: from}
	}
	return out
}

// Quota returns the quota of the key pub in force at height h (exact as
// SetAt is): granted from From <= h, not revoked by then, and h <=
// UntilHeight unless that is 0.
func (s *State) Quota(pub string, h uint64) (Quota, bool) {
	return quotaIn(s.quotas[pub], h)
}

// quotaIn returns the entry of history in force at h.
func quotaIn(history []Quota, h uint64) (Quota, bool) {
	for i := len(history) - 1; i >= 0; i-- {
		if q := history[i]; q.From <= h {
			return q, q.Txs > 0 && q.inForce(h)
		}
	}
	return Quota{}, false
}

// Quotas returns the newest quota of every key that holds one (not
// revoked; it may have passed its UntilHeight), sorted by key.
func (s *State) Quotas() []Quota {
	var out []Quota
	for _, history := range s.quotas {
		if q := history[len(history)-1]; q.Txs > 0 {
			out = append(out, q)
		}
	}
	slices.SortFunc(out, func(a, b Quota) int { return strings.Compare(a.PublicKey, b.PublicKey) })
	return out
}

// Election returns the election id, its Status as of Height().
func (s *State) Election(id string) (Election, bool) {
	e, ok := s.elections[id]
	if !ok {
		return Election{}, false
	}
	return s.show(e), true
}

// Elections returns every election in order of height then position in
// its block, each Status as of Height().
func (s *State) Elections() []Election {
	out := make([]Election, len(s.order))
	for i, id := range s.order {
		out[i] = s.show(s.elections[id])
	}
	return out
}

// show returns a copy of e with its status at the state's height.
func (s *State) show(e *Election) Election {
	c := *e
	c.Status = e.StatusAt(s.height)
	c.Power, c.Value = clonePtr(e.Power), clonePtr(e.Value)
	c.QuotaTxs, c.QuotaBytes, c.UntilHeight = clonePtr(e.QuotaTxs), clonePtr(e.QuotaBytes), clonePtr(e.UntilHeight)
	return c
}

func clonePtr(p *uint64) *uint64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// successor returns a copy of s at height h to apply a block to: maps are
// copied, election records shared until written (see fresh).
func (s *State) successor(h uint64) *State {
	return &State{
		height:    h,
		epochs:    slices.Clip(s.epochs),
		params:    slices.Clip(s.params),
		quotas:    maps.Clone(s.quotas),
		elections: maps.Clone(s.elections),
		order:     slices.Clip(s.order),
	}
}
