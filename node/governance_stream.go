package node

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/ipdb/ipdb-node/governance"
)

// electionStreamPath is the WebSocket stream of election events (ours; the
// transaction stream keeps BigchainDB's shape).
const electionStreamPath = "/api/v1/streams/elections"

// govEvents fans election events out to subscribers, each event encoded
// once as a JSON object (a slow subscriber is dropped, as fanout does). It
// is safe for concurrent use; a nil *govEvents publishes nothing.
type govEvents struct{ *fanout[[]byte] }

func newGovEvents() *govEvents { return &govEvents{newFanout[[]byte](nil, nil)} }

// publish encodes evs and hands them to every subscriber.
func (g *govEvents) publish(evs []governance.Event) {
	if g == nil || len(evs) == 0 {
		return
	}
	msgs := make([][]byte, 0, len(evs))
	for _, ev := range evs {
		if b, err := json.Marshal(ev); err == nil {
			msgs = append(msgs, b)
		}
	}
	g.fanout.publish(msgs)
}

// electionStream serves GET /api/v1/streams/elections: one text message
// per election event, in commit order.
type electionStream struct{ *streamSlots }

func newElectionStream(b Backend, max, buf int, log *slog.Logger) *electionStream {
	return &electionStream{newStreamSlots(b, max, buf, log)}
}

// serve upgrades the request and sends events until the subscription ends,
// the client leaves, or a write fails.
func (s *electionStream) serve(w http.ResponseWriter, r *http.Request, _ string) *apiError {
	g, ok := s.b.(GovernanceBackend)
	if !ok {
		return errNotFound()
	}
	return serveSlot(s.streamSlots, w, r, g.SubscribeElections, func(m []byte) []byte { return m })
}
