package federation

import (
	"encoding/hex"
	"fmt"
)

// shortIDBytes is how many trailing bytes of a binary block id a trace shows
// (the tail of a CID is its digest, the part that differs).
const shortIDBytes = 6

// trace records a state change of the current round.
func (m *Machine) trace(format string, args ...any) { m.traceRound(m.round, format, args...) }

// traceRound records a state change of round r.
func (m *Machine) traceRound(r uint32, format string, args ...any) {
	ev := TraceEvent{Height: m.height, Round: r, Event: fmt.Sprintf(format, args...)}
	m.out.Trace = append(m.out.Trace, ev)
}

// shortID renders a block id for traces: "nil" for "", printable ASCII as
// is, anything else as "…" and the hex of its last shortIDBytes bytes.
func shortID(id BlockID) string {
	if id == "" {
		return "nil"
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			tail := id[max(0, len(id)-shortIDBytes):]
			return "…" + hex.EncodeToString([]byte(tail))
		}
	}
	return string(id)
}
