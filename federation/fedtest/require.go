package fedtest

import (
	"fmt"
	"strings"
	"time"

	"github.com/ipdb/ipdb-node/federation"
)

// RequireBroadcast fails unless Last.Broadcast is exactly msgs, in order.
func (d *Driver) RequireBroadcast(msgs ...federation.Message) {
	d.t.Helper()
	if !sameMessages(d.Last.Broadcast, msgs) {
		d.t.Fatalf("Broadcast=%s, want %s", formatMessages(d.Last.Broadcast), formatMessages(msgs))
	}
}

// RequireWAL fails unless Last.WAL is exactly msgs, in order.
func (d *Driver) RequireWAL(msgs ...federation.Message) {
	d.t.Helper()
	if !sameMessages(d.Last.WAL, msgs) {
		d.t.Fatalf("WAL=%s, want %s", formatMessages(d.Last.WAL), formatMessages(msgs))
	}
}

// RequireSent fails unless Last.WAL and Last.Broadcast are both exactly msgs
// (our own new messages).
func (d *Driver) RequireSent(msgs ...federation.Message) {
	d.t.Helper()
	d.RequireWAL(msgs...)
	d.RequireBroadcast(msgs...)
}

// RequireNothingSent fails if Last has any WAL or Broadcast message.
func (d *Driver) RequireNothingSent() {
	d.t.Helper()
	d.RequireSent()
}

// RequireTimer fails unless Last.Timers holds a timer for (h, r, step) that
// fires after after.
func (d *Driver) RequireTimer(h uint64, r uint32, step federation.Step, after time.Duration) {
	d.t.Helper()
	want := federation.Timer{Height: h, Round: r, Step: step, After: after}
	for _, tm := range d.Last.Timers {
		if tm == want {
			return
		}
	}
	d.t.Fatalf("Timers=%+v, want one %+v", d.Last.Timers, want)
}

// RequireNoTimer fails if Last.Timers holds a timer of step (any height, round).
func (d *Driver) RequireNoTimer(step federation.Step) {
	d.t.Helper()
	for _, tm := range d.Last.Timers {
		if tm.Step == step {
			d.t.Fatalf("Timers=%+v, want none of step %v", d.Last.Timers, step)
		}
	}
}

// RequireNoTimers fails if Last.Timers is not empty.
func (d *Driver) RequireNoTimers() {
	d.t.Helper()
	if len(d.Last.Timers) != 0 {
		d.t.Fatalf("Timers=%+v, want none", d.Last.Timers)
	}
}

// RequireBuild fails unless Last.Build asks for (h, r).
func (d *Driver) RequireBuild(h uint64, r uint32) {
	d.t.Helper()
	want := federation.BuildRequest{Height: h, Round: r}
	if d.Last.Build == nil || *d.Last.Build != want {
		d.t.Fatalf("Build=%+v, want %+v", d.Last.Build, want)
	}
}

// RequireNoBuild fails if Last.Build is set.
func (d *Driver) RequireNoBuild() {
	d.t.Helper()
	if d.Last.Build != nil {
		d.t.Fatalf("Build=%+v, want nil", d.Last.Build)
	}
}

// RequireVerify fails unless Last.Verify is exactly the requests for ids (in
// order) at height h.
func (d *Driver) RequireVerify(h uint64, ids ...federation.BlockID) {
	d.t.Helper()
	got := make([]string, len(d.Last.Verify))
	for i, v := range d.Last.Verify {
		got[i] = fmt.Sprintf("h%d %s", v.Height, showID(v.BlockID))
	}
	want := make([]string, len(ids))
	for i, id := range ids {
		want[i] = fmt.Sprintf("h%d %s", h, showID(id))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		d.t.Fatalf("Verify=%v, want %v", got, want)
	}
}

// RequireDecided fails unless Last.Decided is (h, r, id) with precommits of
// more than 2/3 of the set's power, all for id in round r.
func (d *Driver) RequireDecided(h uint64, r uint32, id federation.BlockID) {
	d.t.Helper()
	dec := d.Last.Decided
	if dec == nil || dec.Height != h || dec.Round != r || dec.BlockID != id {
		d.t.Fatalf("Decided=%+v, want h%d r%d %s", dec, h, r, showID(id))
	}
	var power uint64
	for _, v := range dec.Precommits {
		if v.Type != federation.Precommit || v.Height != h || v.Round != r || v.BlockID != id {
			d.t.Fatalf("Decided.Precommits has %s, want precommits h%d r%d %s", FormatMessage(VoteMsg(v)), h, r, showID(id))
		}
		power += d.Set.Power(v.Validator)
	}
	if 3*power <= 2*d.Set.TotalPower() {
		d.t.Fatalf("Decided.Precommits power %d of %d, want > 2/3", power, d.Set.TotalPower())
	}
}

// RequireNotDecided fails if Last.Decided is set.
func (d *Driver) RequireNotDecided() {
	d.t.Helper()
	if d.Last.Decided != nil {
		d.t.Fatalf("Decided=%+v, want nil", d.Last.Decided)
	}
}

// RequireEvidence fails unless Last.Evidence is exactly one equivocation by
// validator, with two different votes for one (height, round, type).
func (d *Driver) RequireEvidence(validator federation.ValidatorID) {
	d.t.Helper()
	if len(d.Last.Evidence) != 1 {
		d.t.Fatalf("Evidence=%+v, want one by %s", d.Last.Evidence, validator)
	}
	e := d.Last.Evidence[0]
	a, b := e.First, e.Second
	b.BlockID = a.BlockID
	if a.Validator != validator || a != b || e.First.BlockID == e.Second.BlockID {
		d.t.Fatalf("Evidence=%+v, want two different votes of %s for one (h, r, type)", e, validator)
	}
}

// RequireNoEvidence fails if Last.Evidence is not empty.
func (d *Driver) RequireNoEvidence() {
	d.t.Helper()
	if len(d.Last.Evidence) != 0 {
		d.t.Fatalf("Evidence=%+v, want none", d.Last.Evidence)
	}
}

// RequireTrace fails unless some event of Last.Trace contains substr.
func (d *Driver) RequireTrace(substr string) {
	d.t.Helper()
	for _, ev := range d.Last.Trace {
		if strings.Contains(ev.Event, substr) {
			return
		}
	}
	d.t.Fatalf("Trace=%+v, want an event containing %q", d.Last.Trace, substr)
}

// RequireStep fails unless the machine is at (round, step).
func (d *Driver) RequireStep(r uint32, step federation.Step) {
	d.t.Helper()
	st := d.M.Status()
	if st.Round != r || st.Step != step {
		d.t.Fatalf("Status() round %d step %v, want round %d step %v", st.Round, st.Step, r, step)
	}
}

// RequireLocked fails unless the machine is locked on id in round r (r = -1,
// id = "" for not locked).
func (d *Driver) RequireLocked(id federation.BlockID, r int32) {
	d.t.Helper()
	st := d.M.Status()
	if st.LockedValue != id || st.LockedRound != r {
		d.t.Fatalf("Status() locked %s round %d, want %s round %d", showID(st.LockedValue), st.LockedRound, showID(id), r)
	}
}
