package sim

import (
	"fmt"
	"time"

	"github.com/ipdb/ipdb-node/federation"
)

// traceRing keeps the last few events of a run with the notes and machine
// trace events they caused; lines are rendered only when a run fails.
type traceRing struct {
	entries []traceEntry
	next    int
	full    bool
}

// traceEntry is one event and what it caused.
type traceEntry struct {
	at    time.Duration
	what  string
	notes []string
}

func newTraceRing(size int) traceRing { return traceRing{entries: make([]traceEntry, size)} }

// begin opens the entry of a new event.
func (t *traceRing) begin(at time.Duration, what string) {
	t.entries[t.next] = traceEntry{at: at, what: what}
	t.next++
	if t.next == len(t.entries) {
		t.next, t.full = 0, true
	}
}

// current returns the entry being filled.
func (t *traceRing) current() *traceEntry {
	i := t.next - 1
	if i < 0 {
		i = len(t.entries) - 1
	}
	return &t.entries[i]
}

// note adds a line to the current entry.
func (t *traceRing) note(format string, args ...any) {
	e := t.current()
	e.notes = append(e.notes, fmt.Sprintf(format, args...))
}

// machine adds a machine's trace events to the current entry.
func (t *traceRing) machine(id federation.ValidatorID, evs []federation.TraceEvent) {
	for _, ev := range evs {
		t.note("%s h%d r%d: %s", id, ev.Height, ev.Round, ev.Event)
	}
}

// lines renders the kept entries, oldest first.
func (t *traceRing) lines() []string {
	order := t.entries[:t.next]
	if t.full {
		order = append(append([]traceEntry{}, t.entries[t.next:]...), t.entries[:t.next]...)
	}
	var out []string
	for _, e := range order {
		out = append(out, fmt.Sprintf("%10v %s", e.at, e.what))
		for _, n := range e.notes {
			out = append(out, "             "+n)
		}
	}
	return out
}

// describe renders an event for the trace.
func (s *Sim) describe(e *event) string {
	id := s.name(e.node)
	switch e.kind {
	case evDeliver:
		return fmt.Sprintf("%s -> %s %s", s.name(e.from), id, FormatMessage(e.msg))
	case evInput:
		return fmt.Sprintf("%s input %T%+v", id, e.input, e.input)
	case evCrash:
		return fmt.Sprintf("%s crash", id)
	case evArmCrash:
		return fmt.Sprintf("%s arm crash after next WAL write", id)
	case evRestart:
		return fmt.Sprintf("%s restart", id)
	case evPartition:
		return fmt.Sprintf("partition %v", e.side)
	case evHeal:
		return "heal partition"
	case evCatchUp:
		return fmt.Sprintf("%s block sync h%d", id, e.decision.Height)
	case evStatus:
		return fmt.Sprintf("%s polls peer heights", id)
	}
	return fmt.Sprintf("event kind %d", e.kind)
}

// FormatMessage renders a proposal or vote on one line, e.g.
// `prevote h3 r0 "h3/r0/n1" by n2`.
func FormatMessage(m federation.Message) string {
	if p := m.Proposal; p != nil {
		return fmt.Sprintf("proposal h%d r%d %q pol=%d by %s", p.Height, p.Round, p.BlockID, p.POLRound, p.Proposer)
	}
	if v := m.Vote; v != nil {
		return fmt.Sprintf("%v h%d r%d %q by %s", v.Type, v.Height, v.Round, v.BlockID, v.Validator)
	}
	return "empty message"
}
