package governance

import (
	"crypto/ed25519"
	"reflect"
	"testing"

	"pgregory.net/rapid"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/cryptocondition"
)

// token is a vote-token output some identity holds.
type token struct {
	ref      ledger.OutputRef
	election string
	owner    int
	amount   uint64
}

// propRun is one run of the property test: the implementation, the
// oracle, and the tokens the identities hold.
type propRun struct {
	rt     *rapid.T
	ids    []identity
	byKey  map[string]int
	state  *State
	mem    *ledger.MemState
	o      *oracle
	tokens []token
	h      uint64
	// per block
	batch   *ledger.Batch
	recs    []oRecord
	pending map[string]bool
	before  *oWorld // the oracle's world after block h-1
}

// TestTallyMatchesOracle runs random histories (caretakers, powers,
// elections of every kind, votes for and against, split and delegated
// tokens, transfers, expiries) through the Rules and Apply and compares,
// after every block, every verdict, every election and what is in force at
// every height with the oracle's replay of the raw history.
func TestTallyMatchesOracle(t *testing.T) {
	ids := identities(t)
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 4).Draw(rt, "caretakers")
		powers := make([]uint64, n)
		for i := range powers {
			powers[i] = rapid.Uint64Range(1, 12).Draw(rt, "power")
		}
		doc := testDoc(ids, powers, func(p *genesis.Params) {
			p.ElectionExpiryBlocks = rapid.Uint64Range(1, 6).Draw(rt, "expiry")
			p.MaxCaretakers = rapid.Uint64Range(uint64(n), 6).Draw(rt, "max_caretakers")
		})
		r := &propRun{rt: rt, ids: ids, byKey: map[string]int{}, state: Genesis(doc), mem: ledger.NewMemState(),
			o: &oracle{doc: doc}}
		for i, id := range ids {
			r.byKey[id.key.PublicBase58()] = i
		}
		for range rapid.IntRange(1, 20).Draw(rt, "blocks") {
			r.block()
		}
	})
}

// block runs one block of random actions and compares with the oracle.
func (r *propRun) block() {
	r.h++
	r.before = r.o.world(r.h - 1)
	r.batch = ledger.NewBatch(r.mem, ledger.Checker{Elections: r.state.Rules(r.h)})
	r.recs, r.pending = nil, map[string]bool{}
	for range rapid.IntRange(0, 8).Draw(r.rt, "actions") {
		switch rapid.IntRange(0, 5).Draw(r.rt, "action") {
		case 0, 1:
			r.propose()
		case 2, 3, 4:
			r.spend(true)
		case 5:
			r.spend(false)
		}
	}
	next, events, err := r.state.Apply(r.h, r.batch.Checked())
	if err != nil {
		r.rt.Fatalf("Apply(%d)=%v", r.h, err)
	}
	for _, c := range r.batch.Checked() {
		r.mem.Apply(c)
	}
	r.state = next
	r.o.blocks = append(r.o.blocks, r.recs)
	r.compare(events)
}

// propose submits a random election and checks the verdict.
func (r *propRun) propose() {
	set := r.before.set
	proposer := rapid.IntRange(0, 7).Draw(r.rt, "proposer")
	if rapid.IntRange(0, 4).Draw(r.rt, "by a caretaker") > 0 {
		proposer = r.byKey[set[rapid.IntRange(0, len(set)-1).Draw(r.rt, "caretaker")].PublicKey]
	}
	p := r.drawProposal()
	tx, err := NewElection(p, Set{Caretakers: set}, r.ids[proposer].key, "seed-"+itoa(uint64(len(r.recs)))+"-"+itoa(r.h))
	if err != nil {
		return // a shape NewElection refuses; the table tests cover those
	}
	if p.Kind != KindSetParam && p.Kind != KindGrantQuota && p.Kind != KindRevokeQuota {
		p.Kind = "" // the set in force decides
	}
	want := r.before.proposalOK(p, r.ids[proposer].key.PublicBase58(), r.h)
	if !r.submit(tx, want) {
		return
	}
	r.recs = append(r.recs, oRecord{proposal: &p, id: tx.ID, proposer: r.ids[proposer].key.PublicBase58()})
	r.pending[tx.ID] = true
	for i, o := range tx.Outputs {
		r.tokens = append(r.tokens, token{ref: ledger.OutputRef{TxID: tx.ID, Index: uint64(i)}, election: tx.ID,
			owner: r.byKey[o.PublicKeys[0]], amount: o.Amount})
	}
}

func (r *propRun) drawProposal() Proposal {
	who := rapid.IntRange(0, 7).Draw(r.rt, "who")
	peer := r.ids[who].peer
	if rapid.IntRange(0, 9).Draw(r.rt, "wrong peer") == 0 {
		peer = r.ids[rapid.IntRange(0, 7).Draw(r.rt, "peer of")].peer
	}
	quotaKey := r.ids[rapid.IntRange(8, 11).Draw(r.rt, "quota key")].key.PublicBase58()
	switch rapid.IntRange(0, 6).Draw(r.rt, "kind") {
	case 0, 1, 2:
		power := rapid.Uint64Range(0, 15).Draw(r.rt, "new power")
		kind := KindAddCaretaker
		if power == 0 {
			kind = KindRemoveCaretaker
		}
		return Proposal{Kind: kind, PublicKey: r.ids[who].key.PublicBase58(), PeerID: peer, Power: power}
	case 3, 4:
		name := rapid.SampledFrom([]string{"fee_per_tx", "election_expiry_blocks", "max_caretakers", "epoch_blocks"}).Draw(r.rt, "param")
		return Proposal{Kind: KindSetParam, Param: name, Value: rapid.Uint64Range(0, 7).Draw(r.rt, "value")}
	case 5:
		until := uint64(0)
		if rapid.Bool().Draw(r.rt, "until") {
			until = r.h + rapid.Uint64Range(0, 6).Draw(r.rt, "until after")
		}
		return Proposal{Kind: KindGrantQuota, PublicKey: quotaKey, Txs: rapid.Uint64Range(1, 3).Draw(r.rt, "txs"),
			Bytes: rapid.Uint64Range(1, 3).Draw(r.rt, "bytes"), UntilHeight: until}
	}
	return Proposal{Kind: KindRevokeQuota, PublicKey: quotaKey}
}

// spend spends a random token in a VOTE (vote) or a TRANSFER, split among
// for, against and other keys, and checks the verdict.
func (r *propRun) spend(vote bool) {
	if len(r.tokens) == 0 {
		return
	}
	i := rapid.IntRange(0, len(r.tokens)-1).Draw(r.rt, "token")
	tok := r.tokens[i]
	yes, _ := ElectionAddress(tok.election)
	no, _ := RejectAddress(tok.election)
	var outs []ledger.OutputSpec
	var rec oRecord
	left := tok.amount
	for left > 0 {
		part := left
		if rapid.IntRange(0, 3).Draw(r.rt, "split") == 0 {
			part = rapid.Uint64Range(1, left).Draw(r.rt, "part")
		}
		left -= part
		switch to := rapid.IntRange(0, 5).Draw(r.rt, "to"); {
		case to <= 2 && vote:
			outs, rec.yes = append(outs, toKey(yes, part)), rec.yes+part
		case to == 3 && vote:
			outs, rec.no = append(outs, toKey(no, part)), rec.no+part
		default:
			outs = append(outs, ledger.To(part, r.ids[rapid.IntRange(0, 11).Draw(r.rt, "delegate")].key.Public))
		}
	}
	spend := []ledger.Spend{{Ref: tok.ref, Condition: cryptocondition.Ed25519(r.ids[tok.owner].key.Public)}}
	build := ledger.BuildTransfer
	if vote {
		build = ledger.BuildVote
	}
	u, err := build(spend, tok.election, nil, outs...)
	if err != nil {
		r.rt.Fatalf("build()=%v", err)
	}
	tx, err := u.Sign(r.ids[tok.owner].key.Private)
	if err != nil {
		r.rt.Fatalf("Sign()=%v", err)
	}
	want := !vote || r.before.voteOK(tok.election, r.h, r.pending)
	if !r.submit(tx, want) {
		return
	}
	r.tokens = append(r.tokens[:i:i], r.tokens[i+1:]...)
	for j, o := range tx.Outputs {
		if owner, ok := r.byKey[o.PublicKeys[0]]; ok {
			r.tokens = append(r.tokens, token{ref: ledger.OutputRef{TxID: tx.ID, Index: uint64(j)}, election: tok.election, owner: owner, amount: o.Amount})
		}
	}
	if vote {
		rec.id = tok.election
		r.recs = append(r.recs, rec)
	}
}

func toKey(addr string, amount uint64) ledger.OutputSpec {
	pub, _ := ledger.DecodePublicKey(addr)
	return ledger.To(amount, ed25519.PublicKey(pub))
}

// submit adds tx to the block's batch and fails unless the verdict is want.
func (r *propRun) submit(tx *ledger.Tx, want bool) bool {
	v, err := ledger.CheckStateless(tx)
	if err != nil {
		r.rt.Fatalf("CheckStateless()=%v", err)
	}
	_, err = r.batch.Add(v)
	if (err == nil) != want {
		r.rt.Fatalf("block %d: %s accepted=%v (%v), oracle says %v", r.h, tx.Operation, err == nil, err, want)
	}
	return err == nil
}

// compare checks the state after block h against the oracle.
func (r *propRun) compare(events []Event) {
	now := r.o.world(r.h)
	got := r.state.Elections()
	if len(got) != len(now.order) {
		r.rt.Fatalf("%d elections, oracle %d", len(got), len(now.order))
	}
	concluded := map[string]string{}
	for _, ev := range events {
		if ev.Type == EventApproved || ev.Type == EventRejected || ev.Type == EventInconclusive {
			concluded[ev.ElectionID] = ev.Status
		}
	}
	for i, e := range got {
		want := now.elections[now.order[i]]
		r.compareElection(e, want)
		if c, ok := concluded[e.ID]; ok != (want.concludedAt == r.h) || (ok && c != want.status) {
			r.rt.Fatalf("block %d: event for %s=%q, oracle concluded %s at %d", r.h, e.ID, c, want.status, want.concludedAt)
		}
	}
	for k := uint64(1); k <= r.h+1; k++ {
		r.compareAt(k, r.o.world(k-1))
	}
	if r.h%3 == 0 {
		roundTrip(r.rt, r.o.doc, r.state)
	}
}

func (r *propRun) compareElection(e Election, want *oElection) {
	wantView := struct {
		ID, Kind, Status                   string
		Total, Yes, No, Expires, Conc, Eff uint64
	}{want.id, want.kind, want.statusAt(r.h), want.total, want.yes, want.no, want.expires, want.concludedAt, want.effectFrom}
	gotView := wantView
	gotView.ID, gotView.Kind, gotView.Status = e.ID, e.Kind, e.StatusAt(r.h)
	gotView.Total, gotView.Yes, gotView.No, gotView.Expires = e.TotalPower, e.VotesPower, e.AgainstPower, e.ExpiresHeight
	gotView.Conc, gotView.Eff = e.ConcludedHeight, e.EffectHeight
	if gotView != wantView || e.NeededPower != 2*want.total/3+1 {
		r.rt.Fatalf("block %d: election %+v, oracle %+v", r.h, gotView, wantView)
	}
}

// compareAt checks what is in force at height k; w is the oracle's world
// after block k-1.
func (r *propRun) compareAt(k uint64, w *oWorld) {
	if got := r.state.SetAt(k).Caretakers; !reflect.DeepEqual(got, w.set) && (len(got) != 0 || len(w.set) != 0) {
		r.rt.Fatalf("SetAt(%d)=%+v, oracle %+v", k, got, w.set)
	}
	if got := r.state.ParamsAt(k); got != w.params {
		r.rt.Fatalf("ParamsAt(%d)=%+v, oracle %+v", k, got, w.params)
	}
	for _, id := range r.ids[8:] {
		pub := id.key.PublicBase58()
		got, ok := r.state.Quota(pub, k)
		want, wok := w.quotas[pub]
		wok = wok && want.inForce(k)
		if ok != wok || (ok && got != want) {
			r.rt.Fatalf("Quota(%s, %d)=%+v %v, oracle %+v %v", pub, k, got, ok, want, wok)
		}
	}
}

// roundTrip checks Decode(Encode(s)) equals s and encodes to the same bytes.
func roundTrip(tb interface{ Fatalf(string, ...any) }, doc *genesis.Doc, s *State) {
	b, err := s.Encode()
	if err != nil {
		tb.Fatalf("Encode()=%v", err)
	}
	back, err := Decode(doc, b)
	if err != nil {
		tb.Fatalf("Decode(Encode())=%v", err)
	}
	again, _ := back.Encode()
	if !reflect.DeepEqual(back, s) || string(again) != string(b) {
		tb.Fatalf("Decode(Encode(s)) differs from s")
	}
}
