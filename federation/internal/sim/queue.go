package sim

import (
	"container/heap"
	"time"

	"github.com/ipdb/ipdb-node/federation"
)

// eventKind tells what an event does when it is delivered.
type eventKind uint8

const (
	evDeliver   eventKind = iota + 1 // a network message reaches node
	evInput                          // a timer, app answer or TxsAvailable for one incarnation of node
	evCrash                          // node crashes now
	evArmCrash                       // node crashes right after its next WAL write
	evRestart                        // node restarts from its store and WAL
	evPartition                      // the network splits into side[i] groups
	evHeal                           // the partition ends
	evCatchUp                        // block sync hands node the decision of its height
	evStatus                         // node polls its peers' heights (block sync status)
)

// event is one entry of the simulator's queue. Events are ordered by (at, seq),
// so equal times keep their scheduling order and a run is deterministic.
type event struct {
	at       time.Duration
	seq      uint64
	kind     eventKind
	node     int
	from     int                  // evDeliver: sender index
	inc      uint64               // evInput: incarnation of node the input belongs to
	msg      federation.Message   // evDeliver
	input    federation.Input     // evInput
	decision *federation.Decision // evCatchUp
	side     []bool               // evPartition: side of each node
}

// eventQueue is a min-heap of events by (at, seq); it implements heap.Interface.
type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }

func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}

func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }

// Push appends x; called by container/heap only.
func (q *eventQueue) Push(x any) { *q = append(*q, x.(*event)) }

// Pop removes the last element; called by container/heap only.
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}

// schedule queues e to happen after delay from now.
func (s *Sim) schedule(delay time.Duration, e *event) {
	e.at = s.now + delay
	s.seq++
	e.seq = s.seq
	heap.Push(&s.queue, e)
}

// next removes and returns the earliest event, or nil when the queue is empty.
func (s *Sim) next() *event {
	if len(s.queue) == 0 {
		return nil
	}
	return heap.Pop(&s.queue).(*event)
}
