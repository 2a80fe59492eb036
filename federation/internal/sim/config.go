package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ipdb/ipdb-node/federation"
)

// Limits on a scenario; the simulator is a test tool, but a Config still comes
// from outside (a test table or a seed), so it is bounded.
const (
	// MinNodes is the smallest federation that tolerates one faulty node.
	MinNodes = 4
	// MaxNodes keeps one run cheap enough for hundreds of seeds per test.
	MaxNodes = 16
	// MaxPower is the largest random voting power of one node (powers are 1..MaxPower).
	MaxPower = 10
	// MaxHeights bounds the work of one run.
	MaxHeights = 1000
	// MaxEvents stops a run that would otherwise never end (a livelock is a failure).
	MaxEvents = 5_000_000
	// MaxTraceEvents bounds the memory of the failure trace.
	MaxTraceEvents = 1_000_000
	// defaultTraceEvents is how many recent events a failure report shows.
	defaultTraceEvents = 50
)

// Default durations used when the Config leaves them zero.
const (
	DefaultBaseLatency   = 10 * time.Millisecond  // one-way delay floor of a message
	DefaultJitter        = 15 * time.Millisecond  // scale of the lognormal part of the delay
	DefaultProgressBound = 60 * time.Second       // time after GST for every honest node to store all heights
	defaultAppDelay      = 20 * time.Millisecond  // upper bound of Build/Verify answer delays
	defaultTxsDelay      = 5 * time.Millisecond   // delay before the app reports transactions
	maxDowntime          = 2 * time.Second        // longest time a crashed node stays down
	defaultCatchUpDelay  = 100 * time.Millisecond // upper bound of a block-sync fetch
	statusInterval       = time.Second            // how often a node polls its peers' heights
	// slowVerifyOneIn: one Verify answer in this many takes up to 2.5
	// times the propose timeout, so that checking a proposal outlasts
	// timeoutPropose once or twice (design.md, departure 2).
	slowVerifyOneIn = 8
)

// Config describes one simulated scenario. Zero durations take the defaults
// above; Machine is the federation config template (Self is set per node) and
// takes DefaultMachine() when its TimeoutPropose is zero.
type Config struct {
	Seed       int64         // seeds the one *rand.Rand of the run
	Nodes      int           // validators, MinNodes..MaxNodes, random powers 1..MaxPower
	Byzantine  bool          // one node equivocates if its power is < 1/3 of the total
	BadSecond  bool          // the byzantine proposer's second block is invalid
	Observer   bool          // add a non-validator node that must follow and store every height
	VotesAhead bool          // the byzantine node also signs copies of its votes for later rounds
	Withhold   bool          // the byzantine node sends half its peers only the conflicting message, always the same half
	Relay      bool          // honest nodes re-send others' recent votes on each retry timer (gossip vote catch-up)
	SetChanges bool          // blocks carry caretaker-set changes applied from the next height (sets.go)
	Spares     int           // with SetChanges: non-voting nodes that elections may add, 0..MaxSpares
	Heights    uint64        // every honest node must store heights 1..Heights
	DropRate   float64       // probability that a message is lost before GST, 0..0.9
	Partitions int           // random two-way splits before GST; each heals by GST
	Crashes    int           // crash/restart of honest nodes before GST (some right after a WAL write)
	GST        time.Duration // global stabilisation time: no drops, bounded delay afterwards
	// BaseLatency and Jitter shape a message delay: Base + Jitter*exp(N(0,1)),
	// capped at Base+4*Jitter after GST and Base+20*Jitter before.
	BaseLatency   time.Duration
	Jitter        time.Duration
	ProgressBound time.Duration // after GST, all honest nodes must store all heights within this
	TraceEvents   int           // events kept for a failure report; 0 means 50, at most MaxTraceEvents
	Machine       federation.Config
}

// DefaultMachine is the federation config the simulator uses when none is given.
func DefaultMachine() federation.Config {
	return federation.Config{
		TimeoutPropose:   300 * time.Millisecond,
		TimeoutPrevote:   100 * time.Millisecond,
		TimeoutPrecommit: 100 * time.Millisecond,
		TimeoutDelta:     50 * time.Millisecond,
		RetryInterval:    400 * time.Millisecond,
	}
}

// Scenario derives a whole scenario mix from one seed: 4-7 nodes, 10-20
// heights, drops, partitions, crashes, maybe an equivocating node, maybe an
// observer and maybe caretaker-set changes with 1-2 spare nodes.
func Scenario(seed int64) Config {
	return scenario(seed, 0x5ce7a410)
}

// SetChangeScenario derives a scenario like Scenario's, from its own stream
// of the seed, that always has caretaker-set changes and 1-2 spare nodes.
func SetChangeScenario(seed int64) Config {
	c := scenario(seed, 0x5e7c4a9e)
	c.SetChanges = true
	c.Spares = 1 + int(uint64(seed)%2)
	return c
}

// scenario draws Scenario's mix from the stream of seed.
func scenario(seed int64, stream uint64) Config {
	r := rand.New(rand.NewPCG(uint64(seed), stream))
	drops := []float64{0, 0.05, 0.2, 0.35}
	c := Config{
		Seed:       seed,
		Nodes:      4 + r.IntN(4),
		Byzantine:  r.IntN(3) != 0,
		BadSecond:  r.IntN(2) == 0,
		Observer:   r.IntN(4) == 0,
		SetChanges: r.IntN(2) == 0,
		Heights:    uint64(10 + r.IntN(11)),
		DropRate:   drops[r.IntN(len(drops))],
		Partitions: r.IntN(4),
		Crashes:    r.IntN(5),
		GST:        time.Duration(1+r.IntN(10)) * time.Second,
	}
	if spares := 1 + r.IntN(2); c.SetChanges { // drawn last: the fields above keep their seeds' values
		c.Spares = spares
	}
	return c
}

// withDefaults returns c with zero fields replaced by defaults.
func (c Config) withDefaults() Config {
	if c.BaseLatency == 0 {
		c.BaseLatency = DefaultBaseLatency
	}
	if c.Jitter == 0 {
		c.Jitter = DefaultJitter
	}
	if c.ProgressBound == 0 {
		c.ProgressBound = DefaultProgressBound
	}
	if c.TraceEvents == 0 {
		c.TraceEvents = defaultTraceEvents
	}
	if c.Machine.TimeoutPropose == 0 {
		c.Machine = DefaultMachine()
	}
	return c
}

// Validate reports the first field out of its bounds.
func (c Config) Validate() error {
	switch {
	case c.Nodes < MinNodes || c.Nodes > MaxNodes:
		return fmt.Errorf("sim: nodes: must be %d..%d, got %d", MinNodes, MaxNodes, c.Nodes)
	case c.Heights < 1 || c.Heights > MaxHeights:
		return fmt.Errorf("sim: heights: must be 1..%d, got %d", MaxHeights, c.Heights)
	case c.DropRate < 0 || c.DropRate > 0.9:
		return fmt.Errorf("sim: drop rate: must be 0..0.9, got %v", c.DropRate)
	case c.Spares < 0 || c.Spares > MaxSpares:
		return fmt.Errorf("sim: spares: must be 0..%d, got %d", MaxSpares, c.Spares)
	case c.Partitions < 0 || c.Crashes < 0:
		return fmt.Errorf("sim: partitions and crashes must be >= 0")
	case c.TraceEvents < 0 || c.TraceEvents > MaxTraceEvents:
		return fmt.Errorf("sim: trace events: must be 0..%d, got %d", MaxTraceEvents, c.TraceEvents)
	case c.GST < 0 || c.BaseLatency < 0 || c.Jitter < 0 || c.ProgressBound < 0:
		return fmt.Errorf("sim: durations must be >= 0")
	}
	if err := c.Machine.Validate(); err != nil {
		return fmt.Errorf("sim: machine: %w", err)
	}
	return nil
}
