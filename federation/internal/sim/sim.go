// Package sim is a deterministic discrete-event simulator of a federation of
// federation.Machine nodes. It runs no goroutines and reads no clock: a
// priority queue of events drives a virtual clock, and all randomness comes
// from one *rand.Rand seeded from Config.Seed, so a seed replays exactly.
//
// The network delays (lognormal jitter), drops and partitions messages before
// GST; nodes crash and restart from their store and WAL; one node may
// equivocate; a node that falls behind is handed decided blocks (block sync).
// With Config.SetChanges, blocks carry caretaker-set changes that each node
// applies from the next height, using only its own stored blocks (sets.go),
// and removed caretakers keep sending messages that must not count (zombie.go).
// Safety is checked after every event and progress after GST; a failure is a
// *Failure carrying the seed and a trace of the last events.
package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ipdb/ipdb-node/federation"
)

// Stats summarises a run, for benchmarks and test logs.
type Stats struct {
	Events      int           // events delivered
	VirtualTime time.Duration // virtual clock at the end
	Heights     uint64        // heights decided (first decision of each)
	Rounds      uint64        // sum over decided heights of (decision round + 1)
	MaxRound    uint32        // highest decision round
	Messages    int           // network messages delivered to a live node
	Dropped     int           // messages lost to drops, partitions or crashed receivers
	Evidence    int           // equivocations reported by machines
	Crashes     int           // crashes carried out
	CatchUps    int           // decisions handed over by block sync
	SetChanges  int           // heights whose set differs from the previous height's
	Refused     int           // messages refused as invalid: from the byzantine node, a non-member or a non-proposer
	Haunts      int           // bursts of messages sent by removed caretakers
	Newcomers   int           // decisions holding a precommit of a caretaker added at that height
}

// Sim is one simulated run. Create it with New and call Run once. Not safe
// for concurrent use.
type Sim struct {
	cfg     Config
	rng     *rand.Rand
	nodes   []*node
	byz     int // index of the equivocating node, -1 if none
	queue   eventQueue
	seq     uint64
	now     time.Duration
	side    []bool                        // current partition, nil when healed
	decided map[uint64]federation.BlockID // first block stored at each height
	// heightSets is the set the first node to start each height used.
	heightSets map[uint64]startedSet
	signed     map[signKey]string // every message a machine broadcast (byzantine copies excluded)
	started    bool               // Run was called
	trace      traceRing
	stats      Stats
	err        *Failure
}

// New checks cfg, draws the federation (powers, byzantine node) from the seed
// and returns a simulator ready to Run.
func New(cfg Config) (*Sim, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Sim{
		cfg:        cfg,
		rng:        rand.New(rand.NewPCG(uint64(cfg.Seed), 0x51d)),
		byz:        -1,
		decided:    make(map[uint64]federation.BlockID),
		heightSets: make(map[uint64]startedSet),
		signed:     make(map[signKey]string),
		trace:      newTraceRing(cfg.TraceEvents),
	}
	if err := s.makeNodes(); err != nil {
		return nil, err
	}
	return s, nil
}

// makeNodes draws the powers, builds the genesis set, picks the byzantine
// node and adds the spares (non-members that elections may add) and the
// observer. Every node starts with the genesis set as its history.
func (s *Sim) makeNodes() error {
	vals := make([]federation.Validator, s.cfg.Nodes)
	var total uint64
	for i := range vals {
		vals[i] = federation.Validator{ID: nodeID(i), Power: uint64(1 + s.rng.IntN(MaxPower))}
		total += vals[i].Power
	}
	var weak []int
	for i, v := range vals {
		s.nodes = append(s.nodes, &node{idx: i, id: v.ID})
		if 3*v.Power < total {
			weak = append(weak, i)
		}
	}
	if s.cfg.Byzantine && len(weak) > 0 {
		s.byz = weak[s.rng.IntN(len(weak))]
		s.nodes[s.byz].byzantine = true
	}
	genesis, err := federation.NewValidatorSet(vals)
	if err != nil {
		return fmt.Errorf("sim: validator set: %w", err)
	}
	for range s.cfg.Spares {
		s.nodes = append(s.nodes, &node{idx: len(s.nodes), id: nodeID(len(s.nodes))})
	}
	if s.cfg.Observer {
		s.nodes = append(s.nodes, &node{idx: len(s.nodes), id: observerID, observer: true})
	}
	for _, n := range s.nodes {
		n.sets = []*federation.ValidatorSet{genesis}
	}
	return nil
}

// observerID is the Self of the observer node: never a member of a set.
const observerID federation.ValidatorID = "observer"

// nodeID names node i.
func nodeID(i int) federation.ValidatorID { return federation.ValidatorID(fmt.Sprintf("n%d", i)) }

// name returns the trace name of node i ("n3", or "observer").
func (s *Sim) name(i int) federation.ValidatorID { return s.nodes[i].id }

// Byzantine returns the index of the equivocating node, or -1.
func (s *Sim) Byzantine() int { return s.byz }

// Validators returns the validator set the nodes started height h with, or
// nil if no node started h.
func (s *Sim) Validators(h uint64) []federation.Validator {
	if set := s.heightSets[h]; set.set != nil {
		return set.set.Validators()
	}
	return nil
}

// Stats returns the figures of the run so far.
func (s *Sim) Stats() Stats {
	st := s.stats
	st.VirtualTime = s.now
	return st
}

// Run simulates until every honest node has stored Config.Heights heights;
// it may be called once.
// It returns nil on success or a *Failure (wrapping one of the Err...
// sentinels) on the first safety violation, machine error or missed progress
// deadline (GST + ProgressBound).
func (s *Sim) Run() error {
	if s.started {
		return errors.New("sim: Run called twice")
	}
	s.started = true
	s.scheduleFaults()
	for _, n := range s.nodes {
		s.boot(n)
		s.schedule(statusInterval, &event{kind: evStatus, node: n.idx})
	}
	deadline := s.cfg.GST + s.cfg.ProgressBound
	for s.err == nil && !s.done() {
		e := s.next()
		if e == nil {
			s.fail(ErrNoProgress, "event queue empty, nothing can happen any more")
			break
		}
		s.now = e.at
		s.stats.Events++
		if s.now > deadline || s.stats.Events > MaxEvents {
			s.fail(ErrNoProgress, fmt.Sprintf("not all honest nodes stored %d heights by %v (GST %v + bound %v): %s",
				s.cfg.Heights, s.now, s.cfg.GST, s.cfg.ProgressBound, s.progress()))
			break
		}
		s.handle(e)
	}
	if s.err != nil {
		return s.err
	}
	return nil
}

// maybeRelay relays n's heard messages when in is n's retry timer.
func (s *Sim) maybeRelay(n *node, in federation.Input) {
	if t, ok := in.(federation.TimeoutFired); ok && t.Step == federation.StepRetry && s.cfg.Relay && n.up && !n.byzantine {
		s.relay(n, t.Round)
	}
}

// done reports whether every honest node (validators and the observer)
// stored all target heights.
func (s *Sim) done() bool {
	for _, n := range s.nodes {
		if !n.byzantine && uint64(len(n.stored)) < s.cfg.Heights {
			return false
		}
	}
	return true
}

// progress describes how far each node got, for failure messages.
func (s *Sim) progress() string {
	out := ""
	for _, n := range s.nodes {
		out += fmt.Sprintf("%s stored=%d up=%v; ", n.id, len(n.stored), n.up)
	}
	return out
}

// handle carries out one event.
func (s *Sim) handle(e *event) {
	s.trace.begin(s.now, s.describe(e))
	n := s.nodes[e.node]
	switch e.kind {
	case evDeliver:
		s.deliver(n, e)
	case evInput:
		if n.up && e.inc == n.inc {
			s.step(n, e.input, nil)
			s.maybeRelay(n, e.input)
		}
	case evCrash:
		if n.up {
			s.crash(n, "crash")
		}
	case evArmCrash:
		n.crashAfterWAL = n.up
	case evRestart:
		s.boot(n)
	case evPartition:
		s.side = e.side
	case evHeal:
		s.side = nil
	case evCatchUp:
		s.applyCatchUp(n, e)
	case evStatus:
		s.catchUp(n)
		s.schedule(statusInterval, &event{kind: evStatus, node: n.idx})
	}
}
