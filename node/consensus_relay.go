package node

import (
	"github.com/ipdb/ipdb-node/federation"
)

// relayVotes re-publishes the signed votes of other caretakers that this
// height's retry timer of round r calls for: every vote of rounds r-1 and r,
// and the prevotes of the rounds the machine's lock and valid value rest on.
//
// Gossipsub forwards a message once, when it is first published; a vote
// lost before the network settled, or sent by a faulty caretaker to some
// peers only, would otherwise never reach the rest, and a polka only some
// nodes saw can stall a height for ever (the simulator's -sim.withhold
// case, which -sim.relay models). The signatures are the caretakers' own,
// so relaying them gives no one a say they did not have.
func (e *bftEngine) relayVotes(r uint32) {
	if e.net == nil || e.net.votes == nil {
		return
	}
	// Only caretakers' peers may publish votes: a node outside the set of
	// this height (a follower, or one waiting to be added) stays silent.
	if e.self == "" || e.gov.setAt(e.height.Load()).power([]byte(e.self)) == 0 {
		return
	}
	st := e.m.Status()
	polRounds := make(map[int32]bool, 2)
	if st.Started {
		polRounds[st.LockedRound], polRounds[st.ValidRound] = true, true
	}
	n := 0
	for k, s := range e.sigs {
		if k.validator == e.self || !relayed(k, r, polRounds) {
			continue
		}
		n++
		v := &signedVote{Type: uint8(k.typ), Height: k.height, Round: k.round,
			Block: blockCIDOfID(s.block), Validator: []byte(k.validator), Signature: s.sig}
		if err := e.net.votes.Publish(e.ctx, v.encode()); err != nil && e.ctx.Err() == nil {
			e.log.Debug("relay vote", logKeyErr, err)
		}
	}
	e.metrics.relayed(n)
}

// relayed reports whether the vote in slot k is one the retry of round r
// re-sends.
func relayed(k voteKey, r uint32, polRounds map[int32]bool) bool {
	if k.round == r || k.round+1 == r {
		return true
	}
	return k.typ == federation.Prevote && polRounds[int32(k.round)]
}
