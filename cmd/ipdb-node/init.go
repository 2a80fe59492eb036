package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/internal/atomicfile"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/node"
)

// defaultChainID is the chain id of a development network made by init.
const defaultChainID = "ipdb-dev"

// initOptions are the flags of `ipdb-node init`.
type initOptions struct {
	chainID     string
	force       bool
	p2p, peers  []string // [p2p] listen and peers
	params      []string // NAME=VALUE genesis parameters
	follow      bool     // role follower
	genesisFile string   // the network's genesis, for a follower
	// Joining a running network (issue 7; see join.go).
	join        string         // --join: API URL of a node of the network
	genesisHash string         // --genesis-hash: the hash the network's genesis must have
	http        string         // --http: [http] addr
	joined      *joinedNetwork // what --join fetched, before the home is written
}

// newInitCmd returns `ipdb-node init`.
func newInitCmd(a *app) *cobra.Command {
	o := initOptions{chainID: defaultChainID}
	c := &cobra.Command{
		Use:   "init",
		Short: "Make a node home: a development network's caretaker, or a follower of a network",
		Long: "init makes a node home: a new caretaker key (keys/caretaker.json), a new libp2p node\n" +
			"key (keys/node_key.json), the genesis of a development network with that caretaker\n" +
			"key as its only caretaker (genesis.json), and the default configuration (config.toml).\n" +
			"With --follow it makes a follower (a non-voting gateway) of the network whose genesis\n" +
			"--genesis names, following the --peer nodes. With --join URL it makes a home of the\n" +
			"running network of the node at URL: its genesis (checked against the hash the node\n" +
			"gives, and --genesis-hash) and its p2p addresses as peers; the new caretaker key then\n" +
			"needs an add-caretaker election (init prints the command). It refuses to touch an\n" +
			"existing home unless --force is given, which also deletes the home's ledger (data/).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := a.homeDir()
			if err != nil {
				return err
			}
			if o.joined, err = fetchJoin(cmd.Context(), o); err != nil {
				return err
			}
			return initHome(home{dir}, o, a.stdout)
		},
	}
	f := c.Flags()
	f.StringVar(&o.chainID, "chain-id", defaultChainID, "chain id of the new network")
	f.BoolVar(&o.force, "force", false, "replace an existing home, deleting its keys, genesis, config and ledger")
	f.StringArrayVar(&o.p2p, "p2p", nil, "libp2p listen multiaddr, such as /ip4/0.0.0.0/tcp/26656 (repeatable; sets [p2p] listen)")
	f.StringArrayVar(&o.peers, "peer", nil, "persistent peer, a multiaddr ending in /p2p/<peer id> (repeatable; sets [p2p] peers)")
	f.StringArrayVar(&o.params, "param", nil, "genesis network parameter NAME=VALUE (repeatable; see README)")
	f.BoolVar(&o.follow, "follow", false, "make a follower (role = \"follower\") of the network of --genesis")
	f.StringVar(&o.genesisFile, "genesis", "", "genesis.json of the network to follow (with --follow)")
	f.StringVar(&o.join, "join", "", "join the running network of this node's API URL: fetch its genesis and p2p addresses")
	f.StringVar(&o.genesisHash, "genesis-hash", "", "with --join: the hex genesis hash the network must have (status shows genesis_hash)")
	f.StringVar(&o.http, "http", "", "HTTP API address host:port (sets [http] addr)")
	return c
}

// initHome takes the home's LOCK and initialises it (see initLocked).
func initHome(h home, o initOptions, out io.Writer) error {
	if err := os.MkdirAll(h.dir, privateDirMode); err != nil {
		return fmt.Errorf("make home: %w", err)
	}
	lock, err := lockHome(h.dir)
	if err != nil {
		return err
	}
	return errors.Join(initLocked(h, o, out), lock.release())
}

// initLocked writes new keys, a genesis and a config into the home, whose
// LOCK the caller holds. An existing home is refused unless o.force; with
// force, its ledger is deleted, since it belongs to the old genesis.
// Nothing is written when a flag is refused.
func initLocked(h home, o initOptions, out io.Writer) error {
	empty, err := h.isEmpty()
	if err != nil {
		return err
	}
	if !empty && !o.force {
		return fmt.Errorf("home %s already exists; use --force to replace it (this deletes its key and ledger)", h.dir)
	}
	key, err := newKeyPair()
	if err != nil {
		return err
	}
	nk, err := newNodeKey()
	if err != nil {
		return err
	}
	doc, cfg, err := o.build(key, nk)
	if err != nil {
		return err
	}
	if !empty {
		if err := os.RemoveAll(h.path(dataDir)); err != nil {
			return fmt.Errorf("remove the old ledger: %w", err)
		}
	}
	files := homeFiles{key: key, nodeKey: nk, doc: doc, cfg: cfg}
	if o.joined != nil {
		files.genesisJSON = o.joined.raw
	}
	if err := writeHome(h, files); err != nil {
		return err
	}
	fmt.Fprintf(out, "initialised %s: chain %s, %s %s, peer id %s\n", h.dir, doc.ChainID, cfg.Role, key.PublicBase58(), nk.id)
	fmt.Fprintf(out, "  %s\n  %s\n  %s\n  %s\n", h.path(configFile), h.path(genesisFile), h.keyPath(), h.nodeKeyPath())
	if o.joined != nil {
		return o.joined.writeNext(out, h, key, nk, cfg.Role)
	}
	return nil
}

// build returns the genesis and the config the options describe, naming the
// flag at fault.
func (o initOptions) build(key ledger.KeyPair, nk nodeKey) (*genesis.Doc, node.Config, error) {
	doc, err := o.genesis(key, nk)
	if err != nil {
		return nil, node.Config{}, err
	}
	cfg := node.DefaultConfig()
	cfg.P2P.Listen, cfg.P2P.Peers = o.p2p, o.peers
	if o.joined != nil {
		cfg.P2P.Peers = o.joined.peers
	}
	if o.http != "" {
		cfg.HTTP.Addr = o.http
	}
	if o.follow {
		cfg.Role = node.RoleFollower
		cfg.Gateway = node.PublicGatewayLimits() // a follower is a public gateway
	}
	if err := cfg.Validate(); err != nil {
		return nil, node.Config{}, fmt.Errorf("flags --p2p, --peer, --follow, --http, --join: %w", err)
	}
	return doc, cfg, nil
}

// genesis returns the genesis of the options: the --genesis file of a
// follower, else a new development genesis with the --param values.
func (o initOptions) genesis(key ledger.KeyPair, nk nodeKey) (*genesis.Doc, error) {
	if o.joined != nil {
		return o.joined.doc, nil
	}
	if o.follow {
		if o.genesisFile == "" {
			return nil, errors.New("--follow needs --genesis FILE: a follower joins an existing network")
		}
		if len(o.params) > 0 {
			return nil, errors.New("--param: a follower takes the parameters of its --genesis file")
		}
		return readGenesisFile(o.genesisFile)
	}
	if o.genesisFile != "" {
		return nil, errors.New("--genesis: only with --follow (a new caretaker key is in no existing genesis)")
	}
	doc := genesis.DevWithPeer(o.chainID, key, nk.id, time.Now())
	if err := setParams(&doc.Params, o.params); err != nil {
		return nil, err
	}
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("--chain-id: %w", err)
	}
	return doc, nil
}

// setParams applies NAME=VALUE assignments, naming the flag at fault.
func setParams(p *genesis.Params, assignments []string) error {
	for _, s := range assignments {
		if err := p.SetAssignment(s); err != nil {
			return fmt.Errorf("--param %s: %w", s, err)
		}
	}
	return nil
}

// readGenesisFile reads and strictly decodes a genesis file.
func readGenesisFile(path string) (*genesis.Doc, error) {
	b, err := readFileLimit(path, genesis.MaxDocBytes)
	if err != nil {
		return nil, fmt.Errorf("--genesis: %w", err)
	}
	doc, err := genesis.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("--genesis %s: %w", path, err)
	}
	return doc, nil
}

// homeFiles is what writeHome writes.
type homeFiles struct {
	key     ledger.KeyPair
	nodeKey nodeKey
	doc     *genesis.Doc
	cfg     node.Config
	// genesisJSON, when set, is written instead of doc.Encode(): a joined
	// network's genesis, byte for byte as its node served it.
	genesisJSON []byte
}

// writeHome writes the keys, the genesis and the config, each atomically;
// the config last, as a home with a config is taken for a complete one.
func writeHome(h home, f homeFiles) error {
	if err := os.MkdirAll(h.path(keysDir), privateDirMode); err != nil {
		return fmt.Errorf("make keys directory: %w", err)
	}
	if err := atomicfile.WriteFile(h.keyPath(), encodeKeyFile(f.key), privateFileMode); err != nil {
		return err
	}
	if err := h.writeNodeKey(f.nodeKey); err != nil {
		return err
	}
	genesisJSON := f.genesisJSON
	if genesisJSON == nil {
		genesisJSON = f.doc.Encode()
	}
	if err := atomicfile.WriteFile(h.path(genesisFile), genesisJSON, publicFileMode); err != nil {
		return err
	}
	return atomicfile.WriteFile(h.path(configFile), node.RenderConfig(f.cfg), publicFileMode)
}
