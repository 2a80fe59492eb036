package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/p2p"
)

// testPeerKey returns the libp2p key of a seed filled with b.
func testPeerKey(t testing.TB, b byte) crypto.PrivKey {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = b
	}
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatalf("UnmarshalEd25519PrivateKey()=%v", err)
	}
	return k
}

func testPeerID(t testing.TB, b byte) peer.ID {
	t.Helper()
	id, err := peer.IDFromPrivateKey(testPeerKey(t, b))
	if err != nil {
		t.Fatalf("IDFromPrivateKey()=%v", err)
	}
	return id
}

// cluster is an in-process network: caretakers then followers, each a
// real node with a Badger dir and a libp2p host on loopback.
type cluster struct {
	t     *testing.T
	gen   *genesis.Doc
	keys  []ledger.KeyPair
	opts  []Options
	nodes []*Node
	stops []func() error
	// beforeRun, when set, is called with each member made by start before
	// it runs.
	beforeRun func(i int, n *Node)
}

// clusterGenesis returns the genesis of n caretakers of equal power.
func clusterGenesis(t *testing.T, n int) (*genesis.Doc, []ledger.KeyPair) {
	t.Helper()
	g := &genesis.Doc{ChainID: "cluster", GenesisTime: time.Now().UTC().Truncate(time.Millisecond), Params: genesis.DefaultParams()}
	g.Params.BlockIntervalMS = 20
	var keys []ledger.KeyPair
	for i := range n {
		k := newKey(t, byte(40+i))
		keys = append(keys, k)
		g.Caretakers = append(g.Caretakers, genesis.Caretaker{Name: fmt.Sprintf("c%d", i), PublicKey: k.PublicBase58(),
			Power: 10, PeerID: testPeerID(t, byte(80+i)).String()})
	}
	if err := g.Validate(); err != nil {
		t.Fatalf("genesis: %v", err)
	}
	return g, keys
}

// clusterOptions returns the options of member i (a follower when i is
// past the caretakers), dialling peers.
func (c *cluster) options(i int, peers []string) Options {
	cfg := DefaultConfig()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.P2P.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.P2P.Peers = peers
	// Generous timeouts: the tests run under -race on a shared machine,
	// where gossip can take hundreds of milliseconds.
	cfg.Consensus.TimeoutPropose = Dur(time.Second)
	cfg.Consensus.TimeoutPrevote = Dur(500 * time.Millisecond)
	cfg.Consensus.TimeoutPrecommit = Dur(500 * time.Millisecond)
	cfg.Consensus.TimeoutDelta = Dur(500 * time.Millisecond)
	cfg.Consensus.RetryInterval = Dur(500 * time.Millisecond)
	o := Options{Config: cfg, DataDir: c.t.TempDir(), Genesis: c.gen, P2PKey: testPeerKey(c.t, byte(80+i)),
		Logger: testLogger(c.t).With("node", i), Version: "test"}
	if i < len(c.keys) {
		o.Key = c.keys[i]
	} else {
		o.Config.Role = RoleFollower
	}
	return o
}

// newCluster starts caretakers caretakers and followers followers; each
// dials every member started before it.
func newCluster(t *testing.T, caretakers, followers int) *cluster {
	t.Helper()
	return startCluster(t, caretakers, caretakers+followers, func(int, int) bool { return true })
}

// startCluster makes the genesis of caretakers caretakers and starts
// members members (caretakers first, then followers): member i dials each
// member j started before it for which dials(i, j) holds.
func startCluster(t *testing.T, caretakers, members int, dials func(i, j int) bool) *cluster {
	t.Helper()
	g, keys := clusterGenesis(t, caretakers)
	c := &cluster{t: t, gen: g, keys: keys}
	for i := range members {
		var peers []string
		for j, n := range c.nodes {
			if dials(i, j) {
				peers = append(peers, n.host.Addrs()...)
			}
		}
		o := c.options(i, peers)
		c.opts = append(c.opts, o)
		c.start(i, o)
	}
	return c
}

// start makes and runs member i with o.
func (c *cluster) start(i int, o Options) {
	c.t.Helper()
	n, err := New(o)
	if err != nil {
		c.t.Fatalf("New(node %d)=%v", i, err)
	}
	c.t.Cleanup(func() { n.Close() })
	if c.beforeRun != nil {
		c.beforeRun(i, n)
	}
	ctx, cancel := context.WithCancel(c.t.Context())
	done := make(chan error, 1)
	go func() {
		err := n.Run(ctx)
		if err != nil {
			c.t.Logf("node %d: Run()=%v", i, err)
		}
		done <- err
	}()
	stop := func() error {
		cancel()
		return <-done
	}
	if i < len(c.nodes) {
		c.nodes[i], c.stops[i] = n, stop
		return
	}
	c.nodes = append(c.nodes, n)
	c.stops = append(c.stops, stop)
}

// waitHeight waits (bounded by ctx) until every listed node is at height h
// or above.
func (c *cluster) waitHeight(ctx context.Context, h uint64, nodes ...int) {
	c.t.Helper()
	for _, i := range nodes {
		for c.nodes[i].Status().Height < h {
			select {
			case <-ctx.Done():
				c.t.Fatalf("node %d at height %d, want %d: %v", i, c.nodes[i].Status().Height, h, ctx.Err())
			case <-time.After(20 * time.Millisecond): // bounded poll: another node's commit signals nothing here
			}
		}
	}
}

// waitTxsMesh waits (bounded by ctx) until every node knows every other
// to be subscribed to the txs topic, so that a batch any of them publishes
// reaches all the others.
func (c *cluster) waitTxsMesh(ctx context.Context) {
	c.t.Helper()
	for i, n := range c.nodes {
		topic := n.gossip.topic.(*p2p.Topic)
		for len(topic.Peers()) < len(c.nodes)-1 {
			select {
			case <-ctx.Done():
				c.t.Fatalf("node %d knows %d peers on the txs topic, want %d: %v", i, len(topic.Peers()), len(c.nodes)-1, ctx.Err())
			case <-time.After(20 * time.Millisecond): // bounded poll: gossipsub signals no subscription
			}
		}
	}
}

// waitCommitted waits until every listed node has committed tx id.
func (c *cluster) waitCommitted(ctx context.Context, id string, nodes ...int) uint64 {
	c.t.Helper()
	var h uint64
	for _, i := range nodes {
		for {
			_, got, err := c.nodes[i].Store().Tx(id)
			if err == nil {
				h = got
				break
			}
			if !errors.Is(err, ledger.ErrNotFound) {
				c.t.Fatalf("node %d: Tx()=%v", i, err)
			}
			select {
			case <-ctx.Done():
				c.t.Fatalf("node %d never committed %s (height %d): %v", i, id, c.nodes[i].Status().Height, ctx.Err())
			case <-time.After(20 * time.Millisecond): // bounded poll: commits on other nodes signal nothing here
			}
		}
	}
	return h
}

// sameChain fails unless every listed node holds the same block CIDs up
// to height h.
func (c *cluster) sameChain(h uint64, nodes ...int) {
	c.t.Helper()
	for height := uint64(1); height <= h; height++ {
		_, want, err := c.nodes[nodes[0]].Store().BlockByHeight(height)
		if err != nil {
			c.t.Fatalf("node %d: BlockByHeight(%d)=%v", nodes[0], height, err)
		}
		for _, i := range nodes[1:] {
			_, got, err := c.nodes[i].Store().BlockByHeight(height)
			if err != nil || !got.Equals(want) {
				c.t.Fatalf("node %d block %d = %s, %v; node %d has %s", i, height, got, err, nodes[0], want)
			}
		}
	}
}

func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// TestBlockLimitIsTheNetworks checks that our [block] max_txs caps only
// the blocks we propose: blocks of others are valid up to the genesis
// max_block_txs, whatever our config says.
func TestBlockLimitIsTheNetworks(t *testing.T) {
	g, keys := clusterGenesis(t, 4)
	c := &cluster{t: t, gen: g, keys: keys}
	o := c.options(0, nil)
	o.Config.Block.MaxTxs = 3
	n, err := New(o)
	if err != nil {
		t.Fatalf("New()=%v", err)
	}
	defer n.Close()
	e, ok := n.engine.(*bftEngine)
	if !ok {
		t.Fatalf("engine is %T, want *bftEngine", n.engine)
	}
	if want := g.Params.MaxBlockTxs; e.gov.paramsAt(1).MaxBlockTxs != want || e.blockTxs(1) != 3 || n.backlog.signalAt != 3 {
		t.Fatalf("verifier accepts %d, engine proposes %d, backlog signals at %d; want %d, 3, 3",
			e.gov.paramsAt(1).MaxBlockTxs, e.blockTxs(1), n.backlog.signalAt, want)
	}
}
