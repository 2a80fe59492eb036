package governance

import (
	"crypto/sha3"
	"encoding/hex"
	"fmt"

	"github.com/mr-tron/base58"

	"github.com/ipdb/ipdb-node/ledger"
)

// Kinds of election: what an approved election changes.
const (
	KindAddCaretaker    = "add-caretaker"
	KindRemoveCaretaker = "remove-caretaker"
	KindSetPower        = "set-power"
	KindSetParam        = "set-param"
	KindGrantQuota      = "grant-quota"
	KindRevokeQuota     = "revoke-quota"
)

// Statuses of an election.
const (
	StatusOngoing      = "ongoing"
	StatusApproved     = "approved"
	StatusRejected     = "rejected"
	StatusExpired      = "expired"
	StatusInconclusive = "inconclusive"
)

// EffectDelay is the number of blocks after the block that approves an
// election at which its effect is in force: approved in block h, in force
// from h+EffectDelay.
const EffectDelay = 1

// Election is the record of one election: what it proposes, its tally and
// its outcome. The JSON field names are those of the HTTP API.
type Election struct {
	ID string `json:"id"`
	// Kind is one of the Kind constants.
	Kind string `json:"kind"`
	// Status is as of the height of the State it was read from (State
	// computes expiry); use StatusAt for another height.
	Status   string `json:"status"`
	Height   uint64 `json:"height"`
	Proposer string `json:"proposer"`

	// PublicKey is the caretaker's key (caretaker kinds) or the quota
	// holder's key (quota kinds), base58.
	PublicKey string  `json:"public_key,omitempty"`
	PeerID    string  `json:"peer_id,omitempty"`
	Power     *uint64 `json:"power,omitempty"`

	Param string  `json:"param,omitempty"`
	Value *uint64 `json:"value,omitempty"`

	QuotaTxs    *uint64 `json:"txs,omitempty"`
	QuotaBytes  *uint64 `json:"bytes,omitempty"`
	UntilHeight *uint64 `json:"until_height,omitempty"`

	TotalPower   uint64 `json:"total_power"`
	NeededPower  uint64 `json:"needed_power"`
	VotesPower   uint64 `json:"votes_power"`
	AgainstPower uint64 `json:"against_power"`

	ExpiresHeight   uint64 `json:"expires_height"`
	ConcludedHeight uint64 `json:"concluded_height,omitempty"`
	// EffectHeight is the first height the effect is in force; approved only.
	EffectHeight uint64 `json:"effect_height,omitempty"`
}

// StatusAt returns the election's status seen at tip height tip: its
// conclusion if it concluded at or before tip, else expired when
// tip >= ExpiresHeight (no vote can enter block tip+1), else ongoing.
func (e Election) StatusAt(tip uint64) string {
	if e.concluded() && e.ConcludedHeight <= tip {
		return e.Status
	}
	if tip >= e.ExpiresHeight {
		return StatusExpired
	}
	return StatusOngoing
}

// concluded reports whether the election reached an outcome (approved,
// rejected or inconclusive); a copy State returned may say expired.
func (e *Election) concluded() bool { return e.Status != StatusOngoing && e.Status != StatusExpired }

// openAt reports whether a vote in block h may count for the election.
func (e *Election) openAt(h uint64) bool { return !e.concluded() && h <= e.ExpiresHeight }

// isSetChange reports whether the election's kind changes the caretaker set.
func (e *Election) isSetChange() bool { return isSetKind(e.Kind) }

func isSetKind(kind string) bool {
	return kind == KindAddCaretaker || kind == KindSetPower || kind == KindRemoveCaretaker
}

// neededPower is the least power that is more than 2/3 of total.
func neededPower(total uint64) uint64 { return 2*total/3 + 1 }

// Quota is a high-volume quota granted to a key by governance.
type Quota struct {
	PublicKey string `json:"public_key"`
	Txs       uint64 `json:"txs"`
	Bytes     uint64 `json:"bytes"`
	// UntilHeight is the last height the quota is in force; 0: no end.
	UntilHeight uint64 `json:"until_height"`
	// From is the first height the quota is in force.
	From       uint64 `json:"from_height"`
	ElectionID string `json:"election_id"`
}

// inForce reports whether the quota applies at height h.
func (q Quota) inForce(h uint64) bool {
	return q.From <= h && (q.UntilHeight == 0 || h <= q.UntilHeight)
}

// ParamValue is a network parameter's value and the first height it is in
// force from (0: since genesis).
type ParamValue struct {
	Name   string `json:"name"`
	Value  uint64 `json:"value"`
	Height uint64 `json:"height"`
}

// Event types, for the WebSocket stream and logs.
const (
	EventProposed     = "election_proposed"
	EventVoted        = "election_voted"
	EventApproved     = "election_approved"
	EventRejected     = "election_rejected"
	EventInconclusive = "election_inconclusive"
)

// Event is what happened to an election in one block.
type Event struct {
	// Type is one of the Event constants.
	Type         string `json:"type"`
	ElectionID   string `json:"election_id"`
	Kind         string `json:"kind"`
	Status       string `json:"status"`
	Height       uint64 `json:"height"`
	VotesPower   uint64 `json:"votes_power"`
	AgainstPower uint64 `json:"against_power"`
	NeededPower  uint64 `json:"needed_power"`
	EffectHeight uint64 `json:"effect_height,omitempty"`
}

// eventOf returns the event typ of e in block h.
func eventOf(typ string, e *Election, h uint64) Event {
	return Event{Type: typ, ElectionID: e.ID, Kind: e.Kind, Status: e.Status, Height: h,
		VotesPower: e.VotesPower, AgainstPower: e.AgainstPower, NeededPower: e.NeededPower,
		EffectHeight: e.EffectHeight}
}

// IsGovernanceOp reports whether op is one governance tallies: the three
// election operations this network accepts and VOTE.
func IsGovernanceOp(op string) bool {
	switch op {
	case ledger.OpValidatorElection, ledger.OpParameterElection, ledger.OpQuotaElection, ledger.OpVote:
		return true
	}
	return false
}

// electionIDBytes decodes an election id: 64 lowercase hex digits.
func electionIDBytes(id string) ([]byte, error) {
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != 32 || hex.EncodeToString(b) != id {
		return nil, fmt.Errorf("governance: election id %q: want 64 lowercase hex digits", id)
	}
	return b, nil
}

// ElectionAddress returns the key VOTE outputs for election id are sent to
// to count for it: base58 of the id's 32 bytes, BigchainDB's election_pk.
// Nobody holds its private key, so tokens sent there stay there.
func ElectionAddress(id string) (string, error) {
	b, err := electionIDBytes(id)
	if err != nil {
		return "", err
	}
	return base58.Encode(b), nil
}

// rejectDomain separates reject addresses from every other hash.
const rejectDomain = "ipdb-node reject"

// RejectAddress returns the key VOTE outputs for election id are sent to to
// count against it: base58 of SHA3-256("ipdb-node reject" || id bytes), an
// ipdb-node addition (BigchainDB has no vote against).
func RejectAddress(id string) (string, error) {
	b, err := electionIDBytes(id)
	if err != nil {
		return "", err
	}
	h := sha3.New256()
	h.Write([]byte(rejectDomain))
	h.Write(b)
	return base58.Encode(h.Sum(nil)), nil
}
