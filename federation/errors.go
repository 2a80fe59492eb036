package federation

import "errors"

// Errors returned by Step, wrapped with detail; classify them with errors.Is.
var (
	// ErrInvalid marks malformed or impossible input (bad ValidateBasic,
	// proposal from a non-proposer, vote from a non-member): penalise the sender.
	ErrInvalid = errors.New("federation: invalid input")
	// ErrStale marks an older height/round or a duplicate: ignore quietly.
	ErrStale = errors.New("federation: stale input")
	// ErrFuture marks a height above the current one (the app may need to
	// catch up) or a round too far ahead: ignore.
	ErrFuture = errors.New("federation: future input")
)
