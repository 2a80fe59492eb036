package governance

import (
	"crypto/ed25519"
	"fmt"

	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/cryptocondition"
)

// MaxVoteTokens bounds the tokens one VOTE built by NewVote spends: a set
// of at most genesis.MaxCaretakers caretakers mints one token each.
const MaxVoteTokens = 1000

// Proposal is what an election proposes: Kind and the fields of that kind
// (caretaker kinds: PublicKey, PeerID, Power; set-param: Param, Value;
// quota kinds: PublicKey, Txs, Bytes, UntilHeight). Keys are base58.
type Proposal struct {
	Kind        string
	PublicKey   string
	PeerID      string
	Power       uint64
	Param       string
	Value       uint64
	Txs         uint64
	Bytes       uint64
	UntilHeight uint64
}

// NewElection returns the election of p proposed by proposer, signed, with
// one vote-token output per caretaker of set (the set that will be in
// force at the block that holds it). seed (1 to MaxSeedBytes bytes; the
// CLI passes a random UUID) makes equal proposals distinct. It checks p's
// shape (keys, peer id, bounds) but not the state: the node's Rules do.
func NewElection(p Proposal, set Set, proposer ledger.KeyPair, seed string) (*ledger.Tx, error) {
	if len(seed) == 0 || len(seed) > MaxSeedBytes {
		return nil, fmt.Errorf("governance: seed: want 1 to %d bytes, got %d", MaxSeedBytes, len(seed))
	}
	if err := checkShape(p); err != nil {
		return nil, fmt.Errorf("governance: %w", err)
	}
	op, data := assetData(p, seed)
	outs := make([]ledger.OutputSpec, len(set.Caretakers))
	for i, c := range set.Caretakers {
		pub, err := ledger.DecodePublicKey(c.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("governance: caretaker %d: %w", i, err)
		}
		outs[i] = ledger.To(c.Power, pub)
	}
	u, err := ledger.BuildElection(op, proposer.Public, data, nil, outs...)
	if err != nil {
		return nil, fmt.Errorf("governance: %w", err)
	}
	return u.Sign(proposer.Private)
}

// assetData returns the operation and asset.data of p.
func assetData(p Proposal, seed string) (string, map[string]any) {
	switch p.Kind {
	case KindSetParam:
		return ledger.OpParameterElection, map[string]any{"name": p.Param, "value": p.Value, "seed": seed}
	case KindGrantQuota, KindRevokeQuota:
		action := actionGrant
		if p.Kind == KindRevokeQuota {
			action = actionRevoke
		}
		return ledger.OpQuotaElection, map[string]any{"action": action, "public_key": p.PublicKey,
			"txs": p.Txs, "bytes": p.Bytes, "until_height": p.UntilHeight, "seed": seed}
	}
	key := map[string]any{"value": p.PublicKey, "type": keyBase58}
	return ledger.OpValidatorElection, map[string]any{"public_key": key, "power": p.Power, "node_id": p.PeerID, "seed": seed}
}

// Token is a vote token the voter holds: an output of the election (or of
// a VOTE or TRANSFER that moved its tokens) and its amount.
type Token struct {
	Ref    ledger.OutputRef
	Amount uint64
}

// NewVote returns a VOTE for election electionID, signed by voter, that
// spends tokens (each locked to voter's key alone) and sends their sum to
// ElectionAddress (for) or, when against, to RejectAddress.
func NewVote(electionID string, tokens []Token, voter ledger.KeyPair, against bool) (*ledger.Tx, error) {
	if len(tokens) == 0 || len(tokens) > MaxVoteTokens {
		return nil, fmt.Errorf("governance: vote: want 1 to %d tokens, got %d", MaxVoteTokens, len(tokens))
	}
	to, err := ElectionAddress(electionID)
	if against && err == nil {
		to, err = RejectAddress(electionID)
	}
	if err != nil {
		return nil, err
	}
	spends := make([]ledger.Spend, len(tokens))
	var sum uint64
	for i, t := range tokens {
		if sum+t.Amount < sum {
			return nil, fmt.Errorf("governance: vote: token amounts overflow")
		}
		sum += t.Amount
		spends[i] = ledger.Spend{Ref: t.Ref, Condition: cryptocondition.Ed25519(voter.Public)}
	}
	pub, _ := ledger.DecodePublicKey(to) // an address is 32 bytes by construction
	u, err := ledger.BuildVote(spends, electionID, nil, ledger.To(sum, ed25519.PublicKey(pub)))
	if err != nil {
		return nil, fmt.Errorf("governance: %w", err)
	}
	return u.Sign(voter.Private)
}
