package node

import (
	"context"
	"errors"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/ipdb/ipdb-node/governance"
	"github.com/ipdb/ipdb-node/ledger"
)

// Mode is how long POST /api/v1/transactions waits, as BigchainDB's mode
// parameter says.
type Mode int

// The modes of BigchainDB's POST /api/v1/transactions.
const (
	// ModeAsync answers once the transaction is valid and in the backlog.
	ModeAsync Mode = iota
	// ModeSync answers as ModeAsync does: ipdb-node validates fully before
	// answering in both modes.
	ModeSync
	// ModeCommit answers once the transaction is in a committed block.
	ModeCommit
)

// Errors of Backend.Submit besides *ledger.ValidationError and
// *ledger.JSONError.
var (
	// ErrBacklogFull means the backlog holds its maximum count or bytes.
	ErrBacklogFull = errors.New("node: backlog full")
	// ErrCommitTimeout means a ModeCommit submission was accepted but not
	// committed within the configured wait.
	ErrCommitTimeout = errors.New("node: timed out waiting for the transaction to be committed")
	// ErrStopping means the node is shutting down.
	ErrStopping = errors.New("node: shutting down")
)

// Event is one committed transaction, as the event stream sends it.
type Event struct {
	TxID     string
	AssetID  string
	Height   uint64
	BlockCID cid.Cid
}

// Subscription receives the events of committed transactions in commit
// order. C is closed when the subscriber fell too far behind (it is dropped
// rather than allowed to slow commits) or the node stops.
type Subscription struct {
	C      <-chan Event
	cancel func()
}

// NewSubscription returns a subscription reading c, whose Close calls cancel.
func NewSubscription(c <-chan Event, cancel func()) *Subscription {
	return &Subscription{C: c, cancel: cancel}
}

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	if s.cancel != nil {
		s.cancel()
	}
}

// Status is what `ipdb-node status` and GET /api/v1/status report.
type Status struct {
	ChainID     string    `json:"chain_id"`
	Version     string    `json:"version"`
	Height      uint64    `json:"height"`
	LatestBlock string    `json:"latest_block_cid"`
	LatestTime  time.Time `json:"latest_block_time"`
	Caretakers  []string  `json:"caretakers"`
	// Powers holds each caretaker's voting power, in the order of Caretakers.
	Powers       []uint64 `json:"powers"`
	BacklogTxs   int      `json:"backlog_txs"`
	BacklogBytes int      `json:"backlog_bytes"`
	Peers        int      `json:"peers"`
	Ready        bool     `json:"ready"`
	// PeerList holds the connected p2p peers (empty without p2p).
	PeerList []PeerStatus `json:"peer_list"`
	// GenesisHash is the hex hash of the genesis document.
	GenesisHash string `json:"genesis_hash"`
	// PeerID is the node's libp2p id ("" without p2p); P2PAddrs its listen
	// addresses, each ending in /p2p/PeerID, for peers to dial.
	PeerID   string   `json:"peer_id"`
	P2PAddrs []string `json:"p2p_addrs"`
	// Voting is true when the node's caretaker key is in the set of the
	// next height.
	Voting bool `json:"voting"`
	// Validators is the caretaker set of the next height, as
	// /api/v1/validators shows it.
	Validators []ValidatorInfo `json:"validators"`
	// Elections are the ongoing elections.
	Elections []governance.Election `json:"elections"`
}

// Backend is what the HTTP API and the event stream need from a running node.
// *Node implements it; tests may fake it. Methods are safe for concurrent use.
type Backend interface {
	// Store returns the ledger store, for queries.
	Store() *ledger.Store
	// Submit validates a transaction (stateless, then against committed state
	// and the backlog) and admits it to the backlog. With ModeCommit it then
	// waits until the transaction is committed, ctx is done, or the commit
	// wait passes (ErrCommitTimeout). Submitting a transaction already in
	// the backlog is not an error: async and sync answer at once and commit
	// waits for its commit. One already committed is refused as BigchainDB
	// refuses it (DuplicateTransaction or DoubleSpend).
	Submit(ctx context.Context, v *ledger.VerifiedTx, mode Mode) error
	// Subscribe returns a subscription to committed transactions, buffering
	// at most buf events.
	Subscribe(buf int) *Subscription
	// Status reports the node's state.
	Status() Status
}
