package node

import (
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/governance"
	"github.com/ipdb/ipdb-node/ledger"
)

// govBook is the governance state the node runs on (the caretaker set, the
// network parameters, the elections and quotas in force) and the caretaker
// sets derived from it. Only the engine goroutine swaps it, after the
// commit of a block that changed it; readers on any goroutine see one
// consistent snapshot.
type govBook struct {
	chainID string
	doc     *genesis.Doc
	store   *ledger.Store
	snap    atomic.Pointer[govSnap]
}

// govSnap is one governance state and its caretaker sets, by the height
// each is in force from (ascending).
type govSnap struct {
	state  *governance.State
	epochs []setEpoch
}

type setEpoch struct {
	from uint64
	set  *caretakerSet
}

// loadGovernance reads the governance state stored with the blocks, or
// starts from the genesis document's when none was ever written.
func loadGovernance(doc *genesis.Doc, store *ledger.Store) (*govBook, error) {
	raw, err := store.AppState()
	if err != nil {
		return nil, err
	}
	st := governance.Genesis(doc)
	if raw != nil {
		if st, err = governance.Decode(doc, raw); err != nil {
			return nil, fmt.Errorf("governance state in the store: %w", err)
		}
	}
	if st.Height() > store.Height() {
		return nil, fmt.Errorf("governance state is of height %d, past the newest block %d", st.Height(), store.Height())
	}
	return newGovBook(doc, st, store)
}

// newGovBook returns a book holding st over store (nil in tests that need
// no height).
func newGovBook(doc *genesis.Doc, st *governance.State, store *ledger.Store) (*govBook, error) {
	g := &govBook{chainID: doc.ChainID, doc: doc, store: store}
	snap, err := g.prepare(st)
	if err != nil {
		return nil, err
	}
	g.snap.Store(snap)
	return g, nil
}

// prepare returns the snapshot of st, building the caretaker sets of its
// new epochs (those of the state in force are kept: an epoch never
// changes). The engine installs it with snap.Store once the block that
// made st is stored.
func (g *govBook) prepare(st *governance.State) (*govSnap, error) {
	var old []setEpoch
	if cur := g.snap.Load(); cur != nil {
		old = cur.epochs
	}
	eps := st.SetEpochs()
	out := make([]setEpoch, len(eps))
	for i, ep := range eps {
		if i < len(old) && old[i].from == ep.From && string(old[i].set.hash) == string(ep.Set.Hash()) {
			out[i] = old[i]
			continue
		}
		cs, err := newCaretakerSet(g.chainID, ep.Set)
		if err != nil {
			return nil, fmt.Errorf("caretaker set from height %d: %w", ep.From, err)
		}
		out[i] = setEpoch{from: ep.From, set: cs}
	}
	return &govSnap{state: st, epochs: out}, nil
}

// height returns the height of the newest stored block.
func (g *govBook) height() uint64 { return g.store.Height() }

// state returns the governance state in force.
func (g *govBook) state() *governance.State { return g.snap.Load().state }

// setAt returns the caretaker set in force at height h (h >= 1). Past the
// next height it is the newest set known, a guess the caller must treat
// as such.
func (g *govBook) setAt(h uint64) *caretakerSet {
	eps := g.snap.Load().epochs
	i := sort.Search(len(eps), func(i int) bool { return eps[i].from > h })
	if i == 0 {
		return eps[0].set
	}
	return eps[i-1].set
}

// paramsAt returns the network parameters in force at height h.
func (g *govBook) paramsAt(h uint64) genesis.Params { return g.state().ParamsAt(h) }

// interval returns the block interval in force at height h: the least
// time between the commit of h-1 and the proposal of h.
func (g *govBook) interval(h uint64) time.Duration {
	return time.Duration(g.paramsAt(h).BlockIntervalMS) * time.Millisecond
}

// checker returns the stateful checker for the transactions of one block
// (or one admission) at height h: its election rules record what they
// accept, so a checker serves one batch.
func (g *govBook) checker(h uint64) ledger.Checker { return g.checkerOf(g.state(), h) }

// checkerOf is checker under the governance state st.
func (g *govBook) checkerOf(st *governance.State, h uint64) ledger.Checker {
	c := ledger.Checker{Elections: st.Rules(h)}
	if t := g.tracker(st, h); t != nil {
		c.Quotas = t
	}
	return c
}

// Governance implements GovernanceBackend.
func (n *Node) Governance() (*governance.State, uint64) {
	return n.gov.state(), n.app.tip.Load().height
}

// Genesis implements GovernanceBackend.
func (n *Node) Genesis() *genesis.Doc { return n.genesis }

// SubscribeElections implements GovernanceBackend.
func (n *Node) SubscribeElections(buf int) (<-chan []byte, func()) { return n.govEvents.subscribe(buf) }

// governanceStatus fills st's caretaker, election and identity fields.
func (n *Node) governanceStatus(st *Status, tip uint64) {
	gs := n.gov.state()
	set := gs.SetAt(tip + 1)
	st.Validators = validatorInfos(set)
	for _, c := range set.Caretakers {
		st.Caretakers = append(st.Caretakers, c.PublicKey)
		st.Powers = append(st.Powers, c.Power)
	}
	st.Voting = n.self != "" && set.Power(n.self) > 0
	st.GenesisHash = fmt.Sprintf("%x", n.genesis.Hash())
	st.Elections = []governance.Election{}
	for _, el := range gs.Elections() {
		if el.Status = el.StatusAt(tip); el.Status == governance.StatusOngoing {
			st.Elections = append(st.Elections, el)
		}
	}
	st.P2PAddrs = []string{}
	if n.host != nil {
		st.PeerID = n.host.ID().String()
		st.P2PAddrs = n.host.Addrs()
	}
}
