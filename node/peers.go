package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ipdb/ipdb-node/federation"
	"github.com/ipdb/ipdb-node/governance"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/p2p"
	"github.com/ipdb/ipdb-node/ratelimit"
)

// Names of the gossip topics and request protocols.
const (
	topicTxs       = "txs"
	topicProposals = "proposals"
	topicVotes     = "votes"
	reqTxs         = "txs"
	reqBlocks      = "blocks"
)

// Errors of gossip validation, classified by verdictOf.
var (
	// errNotCaretaker means a message is signed by a key outside the
	// caretaker set.
	errNotCaretaker = errors.New("node: signer is not a caretaker")
	// errWrongPeer means a caretaker's message came from a peer other than
	// the caretaker's peer id in the set.
	errWrongPeer = errors.New("node: message authored by a peer other than the signer's")
	// errStaleMessage means a message of a height we have passed.
	errStaleMessage = errors.New("node: stale message")
	// errFutureMessage means a message too far above our height.
	errFutureMessage = errors.New("node: message from the future")
)

// verdictOf classifies a gossip message's error (STYLE rule 7): invalid
// input (malformed, bad signature, not a caretaker, refused by the machine
// or the ledger) is rejected, penalising the peer; stale, future and
// duplicate messages and our own failures are ignored.
func verdictOf(err error) p2p.Verdict {
	var ve *ledger.ValidationError
	var je *ledger.JSONError
	var be *ledger.BlockError
	switch {
	case err == nil:
		return p2p.Accept
	case errors.Is(err, ratelimit.ErrQuotaExceeded):
		// A peer that relays a transaction it admitted does no wrong when
		// ours holds more of the signer's: quotas are counted per backlog
		// until a block settles them.
		return p2p.Ignore
	case errors.Is(err, ErrMalformedMessage), errors.Is(err, ErrBadSignature),
		errors.Is(err, errNotCaretaker), errors.Is(err, errWrongPeer),
		errors.Is(err, federation.ErrInvalid), errors.Is(err, ledger.ErrMalformedCBOR),
		errors.Is(err, ErrInvalidProposal), errors.Is(err, ledger.ErrInvalidEvidence),
		errors.As(err, &ve), errors.As(err, &je), errors.As(err, &be):
		return p2p.Reject
	case errors.Is(err, errStaleMessage), errors.Is(err, errFutureMessage),
		errors.Is(err, federation.ErrStale), errors.Is(err, federation.ErrFuture):
		return p2p.Ignore
	}
	return p2p.Ignore // internal: not the peer's fault
}

// caretakerSet is one caretaker set as consensus needs it (the set in
// force over a range of heights; see govBook). It is immutable and safe for
// concurrent use.
type caretakerSet struct {
	chainID string
	powers  map[string]uint64  // raw 32-byte signing key -> power
	peerOf  map[string]peer.ID // raw signing key -> peer id ("" if none)
	total   uint64
	vals    *federation.ValidatorSet
	hash    []byte // genesis.CaretakersHash of the set
	peers   []peer.ID
}

func newCaretakerSet(chainID string, set governance.Set) (*caretakerSet, error) {
	s := &caretakerSet{chainID: chainID, powers: make(map[string]uint64), peerOf: make(map[string]peer.ID),
		hash: set.Hash()}
	vals := make([]federation.Validator, 0, len(set.Caretakers))
	for i, c := range set.Caretakers {
		pub, err := ledger.DecodePublicKey(c.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("caretaker %d: %w", i, err)
		}
		s.powers[string(pub)] = c.Power
		s.total += c.Power
		if id, err := peer.Decode(c.PeerID); err == nil {
			s.peerOf[string(pub)] = id
			s.peers = append(s.peers, id)
		}
		vals = append(vals, federation.Validator{ID: federation.ValidatorID(pub), Power: c.Power})
	}
	vs, err := federation.NewValidatorSet(vals)
	if err != nil {
		return nil, fmt.Errorf("caretaker set: %w", err)
	}
	s.vals = vs
	return s, nil
}

// power returns a signing key's power, 0 outside the set.
func (s *caretakerSet) power(pub []byte) uint64 { return s.powers[string(pub)] }

// checkPeer checks that from, the gossip author, is the peer of caretaker
// pub in this set (when it has one).
func (s *caretakerSet) checkPeer(pub []byte, from peer.ID) error {
	if want, ok := s.peerOf[string(pub)]; ok && want != from {
		return fmt.Errorf("%w: key %x belongs to peer %s, got %s", errWrongPeer, pub, want, from)
	}
	return nil
}

// verifyCommit checks that c proves block bc at height h final.
func (s *caretakerSet) verifyCommit(c *ledger.Commit, h uint64, bc cid.Cid) error {
	if err := c.Verify(s.chainID, s.power, s.total); err != nil {
		return fmt.Errorf("commit of block %d: %w", h, err)
	}
	if c.Height != h || !c.Block.Equals(bc) {
		return fmt.Errorf("%w: commit is for block %d %s, want %d %s", ErrMalformedMessage, c.Height, c.Block, h, bc)
	}
	return nil
}

// publisher is what the node needs of a gossip topic (*p2p.Topic; tests
// fake it). Publish must be safe for concurrent use.
type publisher interface {
	Publish(ctx context.Context, data []byte) error
}

// consensusNet is the node's use of the p2p host: the gossip topics and the
// request handlers. Its methods are safe for concurrent use.
type consensusNet struct {
	host      *p2p.Host
	proposals publisher
	votes     publisher
	txs       publisher
}

// joinTopics joins the consensus topics with e's validators and handlers,
// and the transaction topic with g's.
func joinTopics(h *p2p.Host, e *bftEngine, g *txGossip) (*consensusNet, error) {
	n := &consensusNet{host: h}
	var err error
	if n.proposals, err = join(h, p2p.TopicConfig{Name: topicProposals, MaxBytes: MaxProposalBytes,
		CaretakersOnly: true, Validate: e.validateProposal, Handle: e.handleProposal}); err != nil {
		return nil, fmt.Errorf("join %s: %w", topicProposals, err)
	}
	if n.votes, err = join(h, p2p.TopicConfig{Name: topicVotes, MaxBytes: MaxVoteBytes,
		CaretakersOnly: true, Validate: e.validateVote, Handle: e.handleVote}); err != nil {
		return nil, fmt.Errorf("join %s: %w", topicVotes, err)
	}
	if n.txs, err = join(h, g.topicConfig()); err != nil {
		return nil, fmt.Errorf("join %s: %w", topicTxs, err)
	}
	return n, nil
}

// join joins a topic, as a publisher.
func join(h *p2p.Host, tc p2p.TopicConfig) (publisher, error) {
	t, err := h.Join(tc)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// validateVote is the votes topic's validator.
func (e *bftEngine) validateVote(_ context.Context, from peer.ID, data []byte) p2p.Verdict {
	if from == e.selfPeer {
		return p2p.Accept
	}
	_, err := e.checkVote(data)
	return judge(e.metrics, e.log, topicVotes, from, err)
}

// judge is the verdict on a gossip message of topic from from, given the
// error its check returned; it counts it and logs a refusal at Debug (a
// refusal is the peer's fault or a race, never ours).
func judge(m *Metrics, log *slog.Logger, topic string, from peer.ID, err error) p2p.Verdict {
	v := verdictOf(err)
	m.gossip(topic, v)
	if err != nil {
		log.Debug("gossip message refused", logKeyTopic, topic, logKeyPeer, from, logKeyErr, err)
	}
	return v
}

func (e *bftEngine) checkVote(data []byte) (*signedVote, error) {
	v, err := decodeVote(data)
	if err != nil {
		return nil, err
	}
	// Any caretaker may relay another's signed vote (see relayVotes);
	// p2p already refused authors outside the caretaker set.
	if err := e.checkHeight(v.Height); err != nil {
		return nil, err
	}
	set := e.gov.setAt(v.Height)
	if set.power(v.Validator) == 0 {
		return nil, e.notCaretaker(v.Height, v.Validator)
	}
	return v, v.verify(set.chainID)
}

// notCaretaker is the error for a message of height h signed by pub, a key
// outside the set in force at h. Past the next height the set is not known
// yet (an election in the next block may add pub), so the message is only
// ignored.
func (e *bftEngine) notCaretaker(h uint64, pub []byte) error {
	if h > e.height.Load() {
		return fmt.Errorf("%w: height %d, signer %x not a caretaker yet", errFutureMessage, h, pub)
	}
	return fmt.Errorf("%w: %x at height %d", errNotCaretaker, pub, h)
}

// checkHeight refuses heights below ours (stale) or too far above it.
func (e *bftEngine) checkHeight(h uint64) error {
	cur := e.height.Load()
	switch {
	case h < cur:
		return fmt.Errorf("%w: height %d, ours %d", errStaleMessage, h, cur)
	case h > cur+maxFutureHeights:
		e.kickSync()
		return fmt.Errorf("%w: height %d, ours %d", errFutureMessage, h, cur)
	}
	return nil
}

// validateProposal is the proposals topic's validator.
func (e *bftEngine) validateProposal(_ context.Context, from peer.ID, data []byte) p2p.Verdict {
	if from == e.selfPeer {
		return p2p.Accept
	}
	_, err := e.checkProposal(from, data)
	return judge(e.metrics, e.log, topicProposals, from, err)
}

func (e *bftEngine) checkProposal(from peer.ID, data []byte) (*signedProposal, error) {
	p, err := decodeProposal(data)
	if err != nil {
		return nil, err
	}
	if err := e.checkHeight(p.Height); err != nil {
		return nil, err
	}
	set := e.gov.setAt(p.Height)
	if set.power(p.Proposer) == 0 {
		return nil, e.notCaretaker(p.Height, p.Proposer)
	}
	if err := set.checkPeer(p.Proposer, from); err != nil {
		return nil, err
	}
	if p.block.ChainID != set.chainID {
		return nil, fmt.Errorf("%w: block of chain %q", ErrMalformedMessage, p.block.ChainID)
	}
	if want := set.vals.Proposer(p.Height, p.Round); !bytes.Equal([]byte(want), p.Proposer) {
		return nil, fmt.Errorf("proposal of round %d from %x, proposer is %x: %w", p.Round, p.Proposer, []byte(want), federation.ErrInvalid)
	}
	return p, p.verify(set.chainID)
}

// handleVote passes an accepted vote to the consensus loop.
func (e *bftEngine) handleVote(from peer.ID, data []byte) {
	if v, err := decodeVote(data); err == nil {
		e.post(voteIn{v: v, from: from})
	}
}

// handleProposal passes an accepted proposal to the consensus loop.
func (e *bftEngine) handleProposal(from peer.ID, data []byte) {
	if p, err := decodeProposal(data); err == nil {
		e.post(proposalIn{p: p, from: from})
	}
}
