package sim

import (
	"errors"
	"testing"

	"github.com/ipdb/ipdb-node/federation"
)

// newTestSim returns a simulator of 4 nodes (seed 1) with node 0 byzantine
// and one spare, n4, outside the set.
func newTestSim(t *testing.T) *Sim {
	t.Helper()
	s, err := New(Config{Seed: 1, Nodes: 4, Heights: 1, SetChanges: true, Spares: 1})
	if err != nil {
		t.Fatalf("New()=%v, want nil", err)
	}
	s.byz = 0
	s.nodes[0].byzantine = true
	return s
}

// decision returns a decision at height 1 for id, precommitted by nodes.
func decision(id federation.BlockID, nodes ...int) federation.Decision {
	d := federation.Decision{Height: 1, BlockID: id}
	for _, n := range nodes {
		d.Precommits = append(d.Precommits, federation.Vote{Type: federation.Precommit, Height: 1, BlockID: id, Validator: nodeID(n)})
	}
	return d
}

// TestChecksFail shows that each safety check reports its failure class.
func TestChecksFail(t *testing.T) {
	vote := func(n int, id federation.BlockID) federation.Vote {
		return federation.Vote{Type: federation.Prevote, Height: 1, BlockID: id, Validator: nodeID(n)}
	}
	tests := []struct {
		name string
		run  func(s *Sim)
		want error
	}{
		{"agreement", func(s *Sim) {
			s.store(s.nodes[1], decision("a", 0, 1, 2, 3))
			s.store(s.nodes[2], decision("b", 0, 1, 2, 3))
		}, ErrAgreement},
		{"double sign across crashes", func(s *Sim) {
			v1, v2 := vote(1, "a"), vote(1, "")
			s.checkSigned(s.nodes[1], federation.Message{Vote: &v1})
			s.crash(s.nodes[1], "crash")
			s.checkSigned(s.nodes[1], federation.Message{Vote: &v2})
		}, ErrDoubleSign},
		{"evidence against an honest node", func(s *Sim) {
			s.checkEvidence(s.nodes[2], federation.Equivocation{First: vote(1, "a"), Second: vote(1, "b")})
		}, ErrBadEvidence},
		{"evidence without a conflict", func(s *Sim) {
			s.checkEvidence(s.nodes[2], federation.Equivocation{First: vote(0, "a"), Second: vote(0, "a")})
		}, ErrBadEvidence},
		{"decision without a quorum", func(s *Sim) {
			s.store(s.nodes[1], decision("a", 1))
		}, ErrBadDecision},
		{"decision with a duplicate precommit", func(s *Sim) {
			s.store(s.nodes[1], decision("a", 1, 1, 1, 1))
		}, ErrBadDecision},
		{"decided block with a change governance refuses", func(s *Sim) {
			s.store(s.nodes[1], decision("h1/r0/n1/+n2:1", 0, 1, 2, 3)) // n2 is a member already
		}, ErrBadDecision},
		{"two sets at one height", func(s *Sim) {
			s.store(s.nodes[1], decision("h1/r0/n1/+n4:1", 0, 1, 2, 3))
			s.checkSet(s.nodes[1], 2, s.nodes[1].setAt(2))
			s.checkSet(s.nodes[2], 2, s.nodes[2].setAt(1)) // n2 applies the change a height late
		}, ErrSetDivergence},
		{"a non-member signs", func(s *Sim) {
			v := vote(4, "a")
			s.checkEntitled(s.nodes[4], federation.Message{Vote: &v})
		}, ErrMachine},
		{"a member signs as another", func(s *Sim) {
			v := vote(2, "a")
			s.checkEntitled(s.nodes[1], federation.Message{Vote: &v})
		}, ErrMachine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSim(t)
			tt.run(s)
			if s.err == nil || !errors.Is(s.err, tt.want) {
				t.Fatalf("failure=%v, want %v", s.err, tt.want)
			}
		})
	}
}

// TestChecksPass shows that the checks accept what a correct run does.
func TestChecksPass(t *testing.T) {
	s := newTestSim(t)
	v := federation.Vote{Type: federation.Prevote, Height: 1, BlockID: "a", Validator: nodeID(1)}
	s.checkSigned(s.nodes[1], federation.Message{Vote: &v})
	s.checkSigned(s.nodes[1], federation.Message{Vote: &v}) // a re-broadcast
	s.store(s.nodes[1], decision("a", 0, 1, 2, 3))
	s.store(s.nodes[2], decision("a", 0, 1, 2, 3))
	w := v
	w.Validator, w.BlockID = nodeID(0), ""
	x := w
	x.BlockID = "b"
	s.checkEvidence(s.nodes[1], federation.Equivocation{First: w, Second: x})
	s.checkEntitled(s.nodes[1], federation.Message{Vote: &v})
	s.checkSet(s.nodes[1], 2, s.nodes[1].setAt(2))
	s.checkSet(s.nodes[2], 2, s.nodes[2].setAt(2))
	if s.err != nil {
		t.Fatalf("failure=%v, want nil", s.err)
	}
}
