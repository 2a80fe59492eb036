// Package federation is the Tendermint consensus algorithm ("The latest
// gossip on BFT consensus", Buchman, Kwon and Milosevic 2018,
// arXiv:1807.04938, Algorithm 1) as a pure, deterministic state machine.
//
// A Machine decides one opaque BlockID per height among a weighted
// ValidatorSet: safe while faulty power is below 1/3 of the total, live once
// the network settles. It starts no goroutines, reads no clock, draws no
// randomness and does no I/O or logging: every input is a value passed to
// Step, every effect a value in the returned Output. Functions are named
// after the paper (startRound, onProposalFresh, onPolkaValue,
// onQuorumPrecommitDecide, ...) and cite its line numbers; design.md lists
// where we depart from it.
//
// # Driving loop
//
// One goroutine of the node owns the Machine; Step calls must be serialised.
//
//	m, err := federation.New(cfg)
//	out, err := m.Step(federation.StartHeight{Height: h, Validators: set})
//	for _, rec := range wal.Records(h) { // after a restart: our own messages of h
//		out, err = m.Step(federation.Replay{Message: rec})
//		apply(out)
//	}
//	for in := range inputs { // peers' messages, fired timers, app answers, txs
//		out, err := m.Step(in)
//		switch {
//		case errors.Is(err, federation.ErrInvalid):
//			rejectAndPenalise(in) // gossip: Reject
//			continue
//		case err != nil: // ErrStale, ErrFuture: Ignore (ErrFuture may mean "sync")
//			continue
//		}
//		apply(out)
//	}
//
//	func apply(out federation.Output) {
//		wal.Append(out.WAL...); wal.Sync() // 1. durable BEFORE anything is sent
//		for _, msg := range out.Broadcast {  // 2. sign (after the WAL), publish
//			publish(sign(msg))
//		}
//		for _, t := range out.Timers {       // 3. fire back as TimeoutFired
//			after(t.After, federation.TimeoutFired{Height: t.Height, Round: t.Round, Step: t.Step})
//		}
//		if out.Build != nil { buildBlockAsync(out.Build) }  // answers BlockBuilt
//		for _, v := range out.Verify { verifyAsync(v) }     // answers BlockVerdict
//		if out.Decided != nil {                             // 4. store, then the next height
//			storeBlock(out.Decided) // durable, with its precommits
//			m.Step(federation.StartHeight{Height: out.Decided.Height + 1, Validators: next})
//		}
//		for _, e := range out.Evidence { recordEvidence(e) } // 5.
//		for _, ev := range out.Trace { logger.Debug(ev.Event, "height", ev.Height, "round", ev.Round) }
//	}
//
// # Ordering duties of the caller
//
//   - WAL before Broadcast: every message in Output.WAL is fsynced before any
//     message of the same Output is signed or published. A crash then never
//     makes the node sign two different messages for one (height, round,
//     type): on restart the WAL is fed back as Replay, and the machine never
//     emits a different message for a replayed (height, round, type).
//   - Sign after the WAL: the signer signs only what is durable.
//   - Replay right after StartHeight, before any other input of the height:
//     the upon rules do not run during Replay, so that no new message can
//     precede a replayed one of the same (round, type).
//   - StartHeight(h+1) only after the decided block of h is stored (durably,
//     with Decision.Precommits), or after block sync stored it. Messages of
//     h+1 that arrive earlier are buffered by the machine (bounded).
//   - Broadcast messages that are re-broadcasts (Replay, retry timer) are not
//     in Output.WAL: they are already durable.
//   - On an error, Output is empty and nothing is to be done.
//
// Timers are data: the node (or the simulator) maps Timer.After to its own
// clock; a timer that fires late or for an old round is ignored.
package federation
