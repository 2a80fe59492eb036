package federation

// Status is a snapshot of a Machine's round state, for tests, the simulator
// and the node's debug endpoints.
type Status struct {
	Started     bool // a StartHeight was accepted
	Height      uint64
	Round       uint32
	Step        Step
	Waiting     bool // round 0, waiting for txs or any message of the height
	Decided     bool // the height is decided; waiting for StartHeight(Height+1)
	Observer    bool // Self is "" or not in the height's validator set
	LockedValue BlockID
	LockedRound int32 // -1 when not locked
	ValidValue  BlockID
	ValidRound  int32 // -1 when none
	Buffered    int   // messages of Height+1 held for the next StartHeight
}

// Status returns the current round state. Calls must be serialised with Step.
func (m *Machine) Status() Status {
	return Status{
		Started: m.started, Height: m.height, Round: m.round, Step: m.step,
		Waiting: m.waiting, Decided: m.decided, Observer: m.observer,
		LockedValue: m.lockedValue, LockedRound: m.lockedRound,
		ValidValue: m.validValue, ValidRound: m.validRound,
		Buffered: m.future.size(),
	}
}
