package federation

import (
	"math"
	"time"
)

// Limits on outside input and on memory. Protocol safety caps are constants.
const (
	// MaxValidators caps a validator set: tallies, buffers and the proposer
	// rotation are sized by it (a federation of caretakers is far smaller).
	MaxValidators = 1000
	// MaxTotalPower caps the sum of powers so that 3*sum never overflows uint64.
	MaxTotalPower = uint64(1) << 60
	// MaxRoundsAhead bounds how far above the current round a message may be
	// and still be stored (memory per height is rounds x validators x 4 votes).
	MaxRoundsAhead = 32
	// MaxRound is the highest round accepted, so that rounds fit the paper's
	// validRound/lockedRound (int32, -1 = none).
	MaxRound = math.MaxInt32
	// MaxBlockIDBytes bounds a BlockID (a CIDv1 with a sha2-256 digest is 36 bytes).
	MaxBlockIDBytes = 128
	// MaxValidatorIDBytes bounds a ValidatorID (an Ed25519 public key is 32 bytes).
	MaxValidatorIDBytes = 64
	// MaxFutureBuffer bounds the next-height messages buffered per sender
	// (one proposal and two votes per round, for a couple of rounds).
	MaxFutureBuffer = 8
	// MaxRotationPeriod bounds the precomputed proposer sequence: powers are
	// scaled to a total of at most rotationScale, plus at most 1 per validator
	// from rounding up to the minimum power 1.
	MaxRotationPeriod = rotationScale + MaxValidators
	// MaxTimeout caps every configured duration and every grown timeout, so
	// that timeoutX(r) stays representable and a stuck round still retries.
	MaxTimeout = time.Hour
)

// rotationScale is the total power above which powers are scaled down for the
// proposer rotation only.
const rotationScale = 1 << 16
