package federation_test

import (
	"errors"
	"testing"

	fed "github.com/ipdb/ipdb-node/federation"
	"github.com/ipdb/ipdb-node/federation/fedtest"
)

// fuzzRun is one machine (v0 of four) fed inputs decoded from fuzz bytes,
// with the invariants checked after every Step.
type fuzzRun struct {
	t    *testing.T
	m    *fed.Machine
	set  *fed.ValidatorSet
	ids  []fed.ValidatorID
	h    uint64
	wal  []fed.Message             // everything the machine asked to make durable
	sent map[[3]uint64]fed.BlockID // own (height, round, kind) -> block id
}

var fuzzBlocks = []fed.BlockID{"", "B", "C"}

// input decodes 4 bytes into one input.
func (r *fuzzRun) input(b [4]byte) fed.Input {
	from, round, block := r.ids[b[1]%4], uint32(b[2]%4), fuzzBlocks[b[3]%3]
	switch b[0] % 9 {
	case 0:
		proposer := r.set.Proposer(r.h, round)
		if b[1]&4 != 0 {
			proposer = from
		}
		id := block
		if id == "" {
			id = "B"
		}
		return fed.ProposalReceived{Proposal: fedtest.Proposal(r.h, round, id, int32(b[1]%3)-1, proposer)}
	case 1:
		return fed.VoteReceived{Vote: fedtest.Prevote(r.h+uint64(b[1]>>6), round, block, from)}
	case 2:
		return fed.VoteReceived{Vote: fedtest.Precommit(r.h, round, block, from)}
	case 3:
		return fed.TimeoutFired{Height: r.h, Round: round, Step: fed.Step(1 + b[3]%4)}
	case 4:
		return fed.BlockVerdict{Height: r.h, BlockID: block, Valid: b[1]&1 == 0}
	case 5:
		return fed.TxsAvailable{Height: r.h}
	case 6:
		return fed.BlockBuilt{Height: r.h, Round: round, BlockID: block}
	case 7:
		if len(r.wal) > 0 {
			return fed.Replay{Message: r.wal[int(b[1])%len(r.wal)]}
		}
	}
	r.h++
	return fed.StartHeight{Height: r.h, Validators: r.set}
}

// check verifies one Step's result: empty Output on error, own messages
// never conflicting, re-broadcasts identical to what was logged, decisions
// backed by more than 2/3 of the power.
func (r *fuzzRun) check(in fed.Input, out fed.Output, err error) {
	if err != nil {
		if !errors.Is(err, fed.ErrInvalid) && !errors.Is(err, fed.ErrStale) && !errors.Is(err, fed.ErrFuture) {
			r.t.Fatalf("Step(%+v)=%v, want a classified error", in, err)
		}
		if len(out.WAL)+len(out.Broadcast)+len(out.Timers)+len(out.Trace) != 0 || out.Decided != nil {
			r.t.Fatalf("Step(%+v) returned output with error %v", in, err)
		}
		return
	}
	for _, msg := range out.WAL {
		r.own(msg)
		r.wal = append(r.wal, msg)
	}
	for _, msg := range out.Broadcast {
		r.own(msg)
	}
	if d := out.Decided; d != nil {
		var power uint64
		for _, v := range d.Precommits {
			if v.BlockID != d.BlockID || v.Round != d.Round || v.Type != fed.Precommit {
				r.t.Fatalf("decision %+v holds vote %+v", d, v)
			}
			power += r.set.Power(v.Validator)
		}
		if 3*power <= 2*r.set.TotalPower() {
			r.t.Fatalf("decision %+v has power %d of %d", d, power, r.set.TotalPower())
		}
	}
}

// own records one of our messages and fails on a conflicting one.
func (r *fuzzRun) own(msg fed.Message) {
	key, id := [3]uint64{}, fed.BlockID("")
	if p := msg.Proposal; p != nil {
		key, id = [3]uint64{p.Height, uint64(p.Round), 0}, p.BlockID
	} else {
		v := msg.Vote
		key, id = [3]uint64{v.Height, uint64(v.Round), uint64(v.Type)}, v.BlockID
	}
	if prev, ok := r.sent[key]; ok && prev != id {
		r.t.Fatalf("own message %s conflicts with %q", fedtest.FormatMessage(msg), prev)
	}
	r.sent[key] = id
}

// FuzzStep feeds arbitrary input sequences (with crashes: a new machine fed
// its WAL back) and checks that the machine never panics, never signs two
// different messages for one (height, round, type), and decides only with
// more than 2/3 of the power.
func FuzzStep(f *testing.F) {
	f.Add([]byte{5, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 1, 1, 1, 0, 1, 1, 2, 0, 1, 2, 1, 0, 1, 2, 2, 0, 1})
	f.Add([]byte{5, 0, 0, 0, 3, 0, 0, 0, 1, 1, 0, 0, 1, 2, 0, 0, 2, 1, 0, 0, 2, 2, 0, 0, 3, 0, 0, 2, 3, 0, 1, 0})
	f.Add([]byte{8, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 1, 255, 0, 0, 0, 7, 0, 0, 0, 7, 1, 0, 0, 3, 0, 0, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		set, ids := fedtest.Set(t, 1, 1, 1, 1)
		r := &fuzzRun{t: t, set: set, ids: ids, h: 1, sent: make(map[[3]uint64]fed.BlockID)}
		r.restart()
		for i := 0; i+4 <= len(data) && i < 4*2000; i += 4 {
			if data[i] == 255 { // crash: a new machine, its WAL replayed
				r.restart()
				continue
			}
			in := r.input([4]byte(data[i : i+4]))
			out, err := r.m.Step(in)
			r.check(in, out, err)
		}
	})
}

// restart replaces the machine and feeds the WAL of the current height back.
func (r *fuzzRun) restart() {
	m, err := fed.New(fedtest.Config(r.ids[0]))
	if err != nil {
		r.t.Fatalf("New()=%v", err)
	}
	r.m = m
	in := fed.StartHeight{Height: r.h, Validators: r.set}
	out, err := m.Step(in)
	r.check(in, out, err)
	for _, msg := range r.wal {
		if h, _ := msgHeight(msg); h == r.h {
			in := fed.Replay{Message: msg}
			out, err := m.Step(in)
			r.check(in, out, err)
		}
	}
}

func msgHeight(msg fed.Message) (uint64, bool) {
	if msg.Proposal != nil {
		return msg.Proposal.Height, true
	}
	return msg.Vote.Height, false
}
