package node

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ipdb/ipdb-node/federation"
	"github.com/ipdb/ipdb-node/p2p"
)

// PeerStatus is one connected peer as Status reports it.
type PeerStatus struct {
	ID        string  `json:"id"`
	Addr      string  `json:"addr"`
	Caretaker bool    `json:"caretaker"`
	Height    uint64  `json:"height"`
	Score     float64 `json:"score"`
}

// needsP2P reports whether the node runs a libp2p host: it has peers to
// reach or to be reached by, or it needs the federation.
func (n *Node) needsP2P(o *Options) bool {
	return n.usesFederation(o) || len(o.Config.P2P.Listen) > 0 || len(o.Config.P2P.Peers) > 0
}

// usesFederation reports whether blocks are decided by the BFT engine
// rather than by the single caretaker alone: the caretaker set of the next
// height has several members, or our key is not in it (a follower, or a
// caretaker that joined and waits for an election to add it).
func (n *Node) usesFederation(o *Options) bool {
	set := n.gov.state().SetAt(n.store.Height() + 1)
	return o.Config.Role == RoleFollower || len(set.Caretakers) > 1 || set.Power(n.self) == 0
}

// startP2P starts the libp2p host, joins the topics and registers the
// request handlers, and makes the engine: the BFT one when the network
// needs it, else the solo one.
func (n *Node) startP2P(o *Options) error {
	if set := n.gov.state().SetAt(n.store.Height() + 1); o.P2PKey == nil && o.Config.Role != RoleFollower && set.Power(n.self) == 0 {
		return fmt.Errorf("node: key %s is not a caretaker of chain %s; to follow the chain until an election adds it, the node needs p2p (a node key and peers)", n.self, n.chainID)
	}
	if o.P2PKey == nil {
		return fmt.Errorf("node: p2p is needed (several caretakers, a follower, or p2p addresses) but no p2p key was given")
	}
	host, err := p2p.New(context.Background(), p2p.Config{ChainID: n.chainID, Key: o.P2PKey,
		ListenAddrs: o.Config.P2P.Listen, Peers: o.Config.P2P.Peers, MaxPeers: o.Config.P2P.MaxPeers,
		Logger: n.log.With("component", "p2p")})
	if err != nil {
		return fmt.Errorf("start p2p: %w", err)
	}
	n.host = host
	host.SetCaretakers(n.gov.setAt(n.store.Height() + 1).peers)
	n.app.onSetChange = func(h uint64) { host.SetCaretakers(n.gov.setAt(h + 1).peers) }
	host.SetHeight(n.app.tip.Load().height)
	n.app.announce = host.SetHeight
	n.metrics.watchPeers(func() int { return len(host.Peers()) })
	n.metrics.watchCaretakers(func() int { return len(host.UnconnectedCaretakers()) })
	n.metrics.watchGossipTraffic(host.Traffic)
	n.gossip = newTxGossip(host.ID(), o.Config.Consensus.RetryInterval.Duration, n.backlog, n.log.With("component", "gossip"), n.metrics)
	n.gossip.caretaker = host.IsCaretaker
	fetch := &txFetcher{host: host, backlog: n.backlog, store: n.store, gossip: n.gossip, log: n.log, metrics: n.metrics}
	ver := &verifier{store: n.store, backlog: n.backlog, gov: n.gov, fetch: fetch}
	bs := &blockSync{host: host, store: n.store, verifier: ver, retry: o.Config.Consensus.RetryInterval.Duration,
		log: n.log.With("component", "sync"), metrics: n.metrics, checkTx: syncCheck(o.Config.Consensus.SyncVerifySignatures)}
	host.Handle(reqTxs, MaxFetchRequestBytes, fetch.serve)
	host.Handle(reqBlocks, MaxSyncRequestBytes, bs.serve)
	if !n.usesFederation(o) {
		n.gossip.topic, err = joinTxs(host, n.gossip)
		return err
	}
	e, err := n.newBFTEngine(o, ver, bs)
	if err != nil {
		return err
	}
	if e.net, err = joinTopics(host, e, n.gossip); err != nil {
		return err
	}
	n.gossip.topic = e.net.txs
	n.engine = e
	return nil
}

// newBFTEngine makes the BFT engine; a caretaker's opens its WAL.
func (n *Node) newBFTEngine(o *Options, ver *verifier, bs *blockSync) (*bftEngine, error) {
	c := o.Config.Consensus
	e := &bftEngine{app: n.app, gov: n.gov, selfPeer: n.host.ID(), log: n.log.With("component", "consensus"), metrics: n.metrics,
		verifier: ver, sync: bs, maxTxs: o.Config.Block.MaxTxs,
		inbox: make(chan any, engineInbox), stop: make(chan struct{}), kick: make(chan struct{}, 1),
		timers: make(map[federation.Timer]*time.Timer)}
	e.fed = federation.Config{TimeoutPropose: c.TimeoutPropose.Duration, TimeoutPrevote: c.TimeoutPrevote.Duration,
		TimeoutPrecommit: c.TimeoutPrecommit.Duration, TimeoutDelta: c.TimeoutDelta.Duration, RetryInterval: c.RetryInterval.Duration}
	bs.engine = e
	if o.Config.Role != RoleFollower {
		w, recs, err := openWAL(filepath.Join(o.DataDir, walFileName))
		if err != nil {
			return nil, err
		}
		n.wal = w
		e.walRecs = recs
		e.signer = newSigner(o.Key, n.chainID, w)
		e.self = federation.ValidatorID(o.Key.Public)
		e.fed.Self = e.self
	}
	m, err := federation.New(e.fed)
	if err != nil {
		return nil, fmt.Errorf("consensus machine: %w", err)
	}
	e.m = m
	return e, nil
}

// joinTxs joins the transaction topic alone (a single caretaker's node).
func joinTxs(h *p2p.Host, g *txGossip) (publisher, error) {
	t, err := join(h, g.topicConfig())
	if err != nil {
		return nil, fmt.Errorf("join %s: %w", topicTxs, err)
	}
	return t, nil
}

// peerList returns the connected peers for Status.
func (n *Node) peerList() []PeerStatus {
	if n.host == nil {
		return []PeerStatus{}
	}
	ps := n.host.Peers()
	out := make([]PeerStatus, len(ps))
	for i, p := range ps {
		out[i] = PeerStatus{ID: p.ID.String(), Addr: p.Addr, Caretaker: p.Caretaker, Height: p.Height, Score: p.Score}
	}
	return out
}

// closeP2P stops the host and the engine's posting, and closes the WAL.
func (n *Node) closeP2P() error {
	var errs []error
	if e, ok := n.engine.(*bftEngine); ok {
		e.halt()
	}
	if n.host != nil {
		if err := n.host.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close p2p: %w", err))
		}
	}
	if n.wal != nil {
		if err := n.wal.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close consensus wal: %w", err))
		}
	}
	return errors.Join(errs...)
}
