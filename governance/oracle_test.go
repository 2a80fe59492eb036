package governance

import (
	"github.com/ipdb/ipdb-node/genesis"
)

// The oracle: a naive model of governance that keeps only the raw history
// (the accepted proposals and vote amounts of each block) and recomputes
// everything from genesis whenever it is asked, in the plainest way.

// oRecord is one accepted governance transaction of a block.
type oRecord struct {
	proposal *Proposal // nil for a vote
	id       string    // the election (proposed or voted for)
	proposer string
	yes, no  uint64 // a vote's amounts for and against
}

// oElection is the oracle's view of one election.
type oElection struct {
	id, kind                string
	p                       Proposal
	height, total, expires  uint64
	yes, no                 uint64
	status                  string
	concludedAt, effectFrom uint64
}

// oWorld is everything after some block.
type oWorld struct {
	set       []genesis.Caretaker
	params    genesis.Params
	quotas    map[string]Quota
	elections map[string]*oElection
	order     []string
}

type oracle struct {
	doc    *genesis.Doc
	blocks [][]oRecord // blocks[h-1] is block h
}

// world replays blocks 1..upTo from genesis.
func (o *oracle) world(upTo uint64) *oWorld {
	w := &oWorld{set: append([]genesis.Caretaker(nil), o.doc.Caretakers...), params: o.doc.Params,
		quotas: map[string]Quota{}, elections: map[string]*oElection{}}
	for h := uint64(1); h <= upTo; h++ {
		w.block(h, o.blocks[h-1])
	}
	return w
}

func (w *oWorld) total() uint64 {
	t := uint64(0)
	for _, c := range w.set {
		t += c.Power
	}
	return t
}

func (w *oWorld) member(pub string) int {
	for i, c := range w.set {
		if c.PublicKey == pub {
			return i
		}
	}
	return -1
}

// block runs block h: record, count, conclude, apply.
func (w *oWorld) block(h uint64, recs []oRecord) {
	var votedOrder []string
	for _, r := range recs {
		if r.proposal != nil {
			p := *r.proposal
			if p.Kind == "" {
				p.Kind = w.kindOf(p)
			}
			w.elections[r.id] = &oElection{id: r.id, kind: p.Kind, p: p, height: h, total: w.total(),
				expires: h + w.params.ElectionExpiryBlocks, status: StatusOngoing}
			w.order = append(w.order, r.id)
			continue
		}
		e := w.elections[r.id]
		e.yes += r.yes
		e.no += r.no
		seen := false
		for _, id := range votedOrder {
			seen = seen || id == r.id
		}
		if !seen {
			votedOrder = append(votedOrder, r.id)
		}
	}
	for _, id := range votedOrder {
		e := w.elections[id]
		if e.status != StatusOngoing {
			continue
		}
		if e.yes*3 > e.total*2 {
			if !w.effectOK(e.p, h+1) {
				e.status, e.concludedAt = StatusInconclusive, h
				continue
			}
			e.status, e.concludedAt, e.effectFrom = StatusApproved, h, h+1
			w.effect(e, h+1)
			if e.kind == KindAddCaretaker || e.kind == KindSetPower || e.kind == KindRemoveCaretaker {
				for _, other := range w.order {
					x := w.elections[other]
					if other != id && x.status == StatusOngoing && h <= x.expires {
						x.status, x.concludedAt = StatusInconclusive, h
					}
				}
			}
		} else if e.no*3 >= e.total {
			e.status, e.concludedAt = StatusRejected, h
		}
	}
}

func (w *oWorld) kindOf(p Proposal) string {
	if p.Power == 0 {
		return KindRemoveCaretaker
	}
	if w.member(p.PublicKey) >= 0 {
		return KindSetPower
	}
	return KindAddCaretaker
}

// effectOK says whether p could take effect at height at in w.
func (w *oWorld) effectOK(p Proposal, at uint64) bool {
	switch p.Kind {
	case KindAddCaretaker, KindSetPower, KindRemoveCaretaker:
		i := w.member(p.PublicKey)
		cur := uint64(0)
		if i >= 0 {
			cur = w.set[i].Power
		}
		if p.Kind == KindAddCaretaker && (i >= 0 || uint64(len(w.set)) >= w.params.MaxCaretakers) {
			return false
		}
		if p.Kind != KindAddCaretaker && (i < 0 || (w.set[i].PeerID != "" && w.set[i].PeerID != p.PeerID)) {
			return false
		}
		if p.Kind == KindSetPower && cur == p.Power {
			return false
		}
		for _, c := range w.set {
			if c.PeerID == p.PeerID && c.PublicKey != p.PublicKey {
				return false
			}
		}
		delta := p.Power - cur
		if cur > p.Power {
			delta = cur - p.Power
		}
		return 3*delta < w.total()
	case KindSetParam:
		cur, _ := w.params.Get(p.Param)
		return cur != p.Value
	case KindGrantQuota:
		return p.UntilHeight == 0 || p.UntilHeight >= at
	case KindRevokeQuota:
		q, ok := w.quotas[p.PublicKey]
		return ok && (q.UntilHeight == 0 || q.UntilHeight >= at)
	}
	return false
}

func (w *oWorld) effect(e *oElection, from uint64) {
	p := e.p
	switch p.Kind {
	case KindAddCaretaker:
		w.set = append(w.set, genesis.Caretaker{PublicKey: p.PublicKey, PeerID: p.PeerID, Power: p.Power})
	case KindSetPower:
		i := w.member(p.PublicKey)
		w.set[i].Power, w.set[i].PeerID = p.Power, p.PeerID
	case KindRemoveCaretaker:
		i := w.member(p.PublicKey)
		w.set = append(w.set[:i:i], w.set[i+1:]...)
	case KindSetParam:
		w.params.Set(p.Param, itoa(p.Value))
	case KindGrantQuota:
		w.quotas[p.PublicKey] = Quota{PublicKey: p.PublicKey, Txs: p.Txs, Bytes: p.Bytes, UntilHeight: p.UntilHeight, From: from, ElectionID: e.id}
	case KindRevokeQuota:
		delete(w.quotas, p.PublicKey)
	}
}

// proposalOK says whether an election by proposer is valid in block h,
// where w is the world after block h-1.
func (w *oWorld) proposalOK(p Proposal, proposer string, h uint64) bool {
	if w.member(proposer) < 0 {
		return false
	}
	if p.Kind == KindSetParam {
		for _, info := range genesis.ParamTable() {
			if info.Name == p.Param && (p.Value < info.Min || p.Value > info.Max) {
				return false
			}
		}
	}
	if p.Kind == "" {
		p.Kind = w.kindOf(p)
	}
	return w.effectOK(p, h+1)
}

// voteOK says whether a vote for id is valid in block h (w after h-1), or
// for an election proposed earlier in block h (pending).
func (w *oWorld) voteOK(id string, h uint64, pending map[string]bool) bool {
	if pending[id] {
		return true
	}
	e, ok := w.elections[id]
	return ok && e.status == StatusOngoing && h <= e.expires
}

// statusAt is the status of e seen at tip.
func (e *oElection) statusAt(tip uint64) string {
	if e.status != StatusOngoing {
		return e.status
	}
	if tip >= e.expires {
		return StatusExpired
	}
	return StatusOngoing
}

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	s := ""
	for ; v > 0; v /= 10 {
		s = string(rune('0'+v%10)) + s
	}
	return s
}
