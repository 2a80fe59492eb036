package node

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"

	"github.com/ipdb/ipdb-node/governance"
)

// electionStreamPath is the WebSocket stream of election events (ours; the
// transaction stream keeps BigchainDB's shape).
const electionStreamPath = "/api/v1/streams/elections"

// govEvents fans election events out to subscribers, each event encoded
// once as a JSON object. A subscriber whose buffer is full is dropped (its
// channel closed): a slow reader never delays a commit. All methods are
// safe for concurrent use.
type govEvents struct {
	mu     sync.Mutex
	subs   map[chan []byte]struct{}
	closed bool
}

func newGovEvents() *govEvents { return &govEvents{subs: make(map[chan []byte]struct{})} }

// subscribe returns a channel buffering at most buf events (1 to
// maxSubscriptionBuffer) and the function that unsubscribes it.
func (g *govEvents) subscribe(buf int) (<-chan []byte, func()) {
	c := make(chan []byte, min(max(buf, 1), maxSubscriptionBuffer))
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		close(c)
		return c, func() {}
	}
	g.subs[c] = struct{}{}
	return c, func() { g.drop(c) }
}

// drop removes c and closes it, unless it is gone already.
func (g *govEvents) drop(c chan []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.subs[c]; ok {
		delete(g.subs, c)
		close(c)
	}
}

// publish hands evs to every subscriber, dropping those with no room.
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
	g.mu.Lock()
	defer g.mu.Unlock()
	for c := range g.subs {
		if !offerAll(c, msgs) {
			delete(g.subs, c)
			close(c)
		}
	}
}

// offerAll sends msgs to c without blocking; false when c had no room.
func offerAll(c chan []byte, msgs [][]byte) bool {
	for _, m := range msgs {
		select {
		case c <- m:
		default:
			return false
		}
	}
	return true
}

// close ends every subscription; later ones end at once.
func (g *govEvents) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	for c := range g.subs {
		delete(g.subs, c)
		close(c)
	}
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
	if e := s.enter(r); e != nil {
		return e
	}
	defer s.leave()
	events, cancel := g.SubscribeElections(s.buf)
	defer cancel()
	streamTo(w, r, s.log, events, func(m []byte) []byte { return m })
	return nil
}
