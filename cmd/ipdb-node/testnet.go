package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/internal/atomicfile"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/node"
)

// Defaults and limits of `ipdb-node testnet`.
const (
	// defaultTestnetChainID is the chain id of a network made by testnet.
	defaultTestnetChainID = "ipdb-testnet"
	// maxTestnetFollowers bounds --followers: each is a process with its
	// own ledger, and a testnet runs on one machine.
	maxTestnetFollowers = 100
	// testnetFile lists the homes of a testnet, in --out.
	testnetFile = "testnet.json"
	// portsPerHome is the ports a testnet home uses: HTTP, then p2p (TCP
	// and UDP/QUIC share the number).
	portsPerHome = 2
	// maxFreePortTries bounds the search for a port free in TCP and UDP.
	maxFreePortTries = 1000
)

// testnetOptions are the flags of `ipdb-node testnet`.
type testnetOptions struct {
	nodes, followers int
	out, chainID     string
	params           []string
	host             string
	basePort         int
	maxProcs         int // [runtime] max_procs of the caretakers; autoMaxProcs: their share
	asJSON           bool
}

// autoMaxProcs is --max-procs's default: the machine's cores shared among
// the caretakers.
const autoMaxProcs = -1

// testnetEntry is one home in testnet.json.
type testnetEntry struct {
	Home      string `json:"home"`       // directory name under --out, such as node0
	Role      string `json:"role"`       // caretaker or follower
	HTTP      string `json:"http"`       // host:port of the API
	P2P       string `json:"p2p"`        // TCP multiaddr with /p2p/<peer id>
	PeerID    string `json:"peer_id"`    // libp2p peer id
	PublicKey string `json:"public_key"` // caretaker key (base58)
}

// newTestnetCmd returns `ipdb-node testnet`.
func newTestnetCmd(a *app) *cobra.Command {
	o := testnetOptions{}
	c := &cobra.Command{
		Use:   "testnet",
		Short: "Make the homes of a local multi-caretaker network (and followers) sharing one genesis",
		Long: "testnet writes --nodes caretaker homes, DIR/node0 ..., and --followers follower homes,\n" +
			"DIR/follower0 ..., of one new network: each home has its own keys, the shared genesis\n" +
			"(every caretaker with power " + strconv.Itoa(genesis.DevPower) + " and its peer id) and a config with\n" +
			"distinct --host ports for HTTP and p2p (TCP and QUIC), peering with every other caretaker.\n" +
			"DIR/" + testnetFile + " lists each home's role, API and p2p address. Start each node with\n" +
			"`ipdb-node start --home DIR/node0` and so on.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runTestnet(o, a.stdout) },
	}
	f := c.Flags()
	f.IntVar(&o.nodes, "nodes", 4, fmt.Sprintf("caretaker homes, 1 to max_caretakers (%d by default)", genesis.DefaultParams().MaxCaretakers))
	f.IntVar(&o.followers, "followers", 0, fmt.Sprintf("follower (non-voting gateway) homes, 0 to %d", maxTestnetFollowers))
	f.StringVar(&o.out, "out", "", "directory for the homes; must be missing or empty (required)")
	f.StringVar(&o.chainID, "chain-id", defaultTestnetChainID, "chain id of the new network")
	f.StringArrayVar(&o.params, "param", nil, "genesis network parameter NAME=VALUE (repeatable)")
	f.StringVar(&o.host, "host", "127.0.0.1", "IP address every node listens on and is dialled at")
	f.IntVar(&o.basePort, "base-port", 0, "first port: home i uses base+2i (HTTP) and base+2i+1 (p2p); 0 picks free ports")
	f.IntVar(&o.maxProcs, "max-procs", autoMaxProcs, "[runtime] max_procs (GOMAXPROCS) of each caretaker home: -1 shares this machine's cores\n"+
		"among the caretakers (at least 1 each), 0 lets each use every core")
	f.BoolVar(&o.asJSON, "json", false, "print "+testnetFile+" instead of a summary")
	return c
}

// runTestnet checks the options, writes the homes and testnet.json, and
// prints the summary.
func runTestnet(o testnetOptions, out io.Writer) error {
	ip, err := o.check()
	if err != nil {
		return err
	}
	ports, err := o.ports(ip)
	if err != nil {
		return err
	}
	tn, err := newTestnet(o, ip, ports)
	if err != nil {
		return err
	}
	if err := tn.write(o.out); err != nil {
		return err
	}
	if o.asJSON {
		return writeJSONLine(out, tn.entries)
	}
	return tn.summary(out, o.out)
}

// check validates the options, naming the flag at fault, and returns the
// host address.
func (o testnetOptions) check() (netip.Addr, error) {
	params := genesis.DefaultParams()
	if err := setParams(&params, o.params); err != nil {
		return netip.Addr{}, err
	}
	if limit := int(params.MaxCaretakers); o.nodes < 1 || o.nodes > limit {
		return netip.Addr{}, fmt.Errorf("--nodes: want 1 to %d (max_caretakers), got %d", limit, o.nodes)
	}
	if o.followers < 0 || o.followers > maxTestnetFollowers {
		return netip.Addr{}, fmt.Errorf("--followers: want 0 to %d, got %d", maxTestnetFollowers, o.followers)
	}
	if o.maxProcs != autoMaxProcs {
		cfg := node.DefaultConfig()
		cfg.Runtime.MaxProcs = o.maxProcs
		if err := cfg.Validate(); err != nil {
			return netip.Addr{}, fmt.Errorf("--max-procs: -1, or %w", err)
		}
	}
	if o.out == "" {
		return netip.Addr{}, errors.New("--out: required: the directory for the homes")
	}
	if err := checkEmptyDir(o.out); err != nil {
		return netip.Addr{}, err
	}
	ip, err := netip.ParseAddr(o.host)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("--host: want an IP address such as 127.0.0.1, got %q", o.host)
	}
	last := o.basePort + portsPerHome*(o.nodes+o.followers) - 1
	if o.basePort < 0 || (o.basePort > 0 && last > 65535) {
		return netip.Addr{}, fmt.Errorf("--base-port: want 0, or 1 to %d for %d homes, got %d",
			65536-portsPerHome*(o.nodes+o.followers), o.nodes+o.followers, o.basePort)
	}
	return ip, nil
}

// checkEmptyDir refuses an existing directory with entries, or a file.
func checkEmptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--out %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("--out %s: not empty; choose a new directory (testnet never overwrites homes)", dir)
	}
	return nil
}

// ports returns the ports of the homes, portsPerHome each: consecutive from
// --base-port, or free ones.
func (o testnetOptions) ports(ip netip.Addr) ([]int, error) {
	n := portsPerHome * (o.nodes + o.followers)
	if o.basePort > 0 {
		ports := make([]int, n)
		for i := range ports {
			ports[i] = o.basePort + i
		}
		return ports, nil
	}
	return freePorts(ip, n)
}

// freePorts returns n distinct ports free on ip in both TCP and UDP, found
// by binding port 0. Every port stays bound until all are found, so none
// repeats; then all are released. Another process may take one before the
// node binds it: a race testnet accepts, as `cometbft testnet` does.
func freePorts(ip netip.Addr, n int) ([]int, error) {
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries == maxFreePortTries {
			return nil, fmt.Errorf("--base-port 0: found only %d of %d ports free in TCP and UDP on %s", len(ports), n, ip)
		}
		ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			return nil, fmt.Errorf("--host %s: find a free port: %w", ip, err)
		}
		closers = append(closers, ln)
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err != nil {
			continue // the UDP port is taken: keep the TCP one bound and try another
		}
		closers = append(closers, pc)
		ports = append(ports, port)
	}
	return ports, nil
}

// testnetHome is one home to write.
type testnetHome struct {
	files homeFiles
	entry testnetEntry
}

// testnet is a whole network to write.
type testnet struct {
	doc      *genesis.Doc
	homes    []testnetHome
	entries  []testnetEntry
	treasury ledger.KeyPair // holds the fee asset
	feeAsset *ledger.Tx     // the CREATE that issues it, to post once
}

// Files of a testnet beside its homes: the treasury's key and the signed
// CREATE of the fee asset (genesis fee), which someone posts once.
const (
	treasuryKeyFile = "treasury.json"
	feeAssetTxFile  = "fee_asset_tx.json"
)

// newTestnet makes the keys, the genesis and each home's config.
func newTestnet(o testnetOptions, ip netip.Addr, ports []int) (*testnet, error) {
	doc := &genesis.Doc{ChainID: o.chainID, GenesisTime: time.Now().UTC().Truncate(time.Millisecond), Params: genesis.DefaultParams()}
	if err := setParams(&doc.Params, o.params); err != nil {
		return nil, err
	}
	tn := &testnet{doc: doc}
	if err := tn.makeFee(); err != nil {
		return nil, err
	}
	for i := range o.nodes + o.followers {
		h, err := newTestnetHome(i, o.nodes, o.caretakerProcs(), ip, ports[portsPerHome*i:])
		if err != nil {
			return nil, err
		}
		if h.entry.Role == node.RoleCaretaker {
			doc.Caretakers = append(doc.Caretakers, genesis.Caretaker{Name: h.entry.Home, PublicKey: h.entry.PublicKey,
				PeerID: h.entry.PeerID, Power: genesis.DevPower})
		}
		tn.homes = append(tn.homes, h)
		tn.entries = append(tn.entries, h.entry)
	}
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("--chain-id: %w", err)
	}
	caretakers := tn.entries[:o.nodes]
	for i := range tn.homes {
		h := &tn.homes[i]
		h.files.doc = doc
		for j, c := range caretakers {
			if j != i {
				h.files.cfg.P2P.Peers = append(h.files.cfg.P2P.Peers, c.P2P)
			}
		}
		if err := h.files.cfg.Validate(); err != nil {
			return nil, fmt.Errorf("home %s: config: %w", h.entry.Home, err)
		}
	}
	return tn, nil
}

// makeFee makes the treasury key and the fee asset of the network.
func (tn *testnet) makeFee() error {
	key, err := newKeyPair()
	if err != nil {
		return err
	}
	tx, err := genesis.FeeAssetCreate(key, tn.doc.ChainID)
	if err != nil {
		return err
	}
	tn.treasury, tn.feeAsset = key, tx
	tn.doc.Fee = &genesis.Fee{AssetID: tx.ID, Treasury: key.PublicBase58()}
	return nil
}

// caretakerProcs is the [runtime] max_procs of the caretaker homes. By
// default the caretakers, which run together all the time, share the
// machine's cores: on two cores with four caretakers, one each gave 5% less
// CPU per transaction at 1,500 tx/s and about half the commit latency, as
// no node's scheduler wakes threads that then wait for a core. Followers
// keep every core: a follower that catches up checks blocks in parallel.
func (o testnetOptions) caretakerProcs() int {
	if o.maxProcs != autoMaxProcs {
		return o.maxProcs
	}
	if o.nodes == 1 {
		return 0
	}
	return max(1, runtime.NumCPU()/o.nodes)
}

// newTestnetHome makes the keys and the config (without peers) of home i;
// homes below nodes are caretakers, given procs as [runtime] max_procs, the
// others followers. ports holds its HTTP port, then its p2p port.
func newTestnetHome(i, nodes, procs int, ip netip.Addr, ports []int) (testnetHome, error) {
	key, err := newKeyPair()
	if err != nil {
		return testnetHome{}, err
	}
	nk, err := newNodeKey()
	if err != nil {
		return testnetHome{}, err
	}
	role, name := node.RoleCaretaker, "node"+strconv.Itoa(i)
	if i >= nodes {
		role, name = node.RoleFollower, "follower"+strconv.Itoa(i-nodes)
	}
	httpAddr := netip.AddrPortFrom(ip, uint16(ports[0])).String()
	tcp, quic := p2pAddrs(ip, ports[1])
	cfg := node.DefaultConfig()
	cfg.Role = role
	if role == node.RoleCaretaker {
		cfg.Runtime.MaxProcs = procs
	}
	cfg.HTTP.Addr = httpAddr
	cfg.P2P.Listen = []string{tcp, quic}
	return testnetHome{
		files: homeFiles{key: key, nodeKey: nk, cfg: cfg},
		entry: testnetEntry{Home: name, Role: role, HTTP: httpAddr, P2P: tcp + "/p2p/" + nk.id.String(),
			PeerID: nk.id.String(), PublicKey: key.PublicBase58()},
	}, nil
}

// p2pAddrs returns the TCP and QUIC multiaddrs of ip and port.
func p2pAddrs(ip netip.Addr, port int) (tcp, quic string) {
	proto := "ip4"
	if ip.Is6() && !ip.Is4In6() {
		proto = "ip6"
	}
	base := "/" + proto + "/" + ip.Unmap().String()
	return base + "/tcp/" + strconv.Itoa(port), base + "/udp/" + strconv.Itoa(port) + "/quic-v1"
}

// write writes every home under dir, then testnet.json.
func (tn *testnet) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	for _, h := range tn.homes {
		hd := home{filepath.Join(dir, h.entry.Home)}
		if err := os.MkdirAll(hd.dir, privateDirMode); err != nil {
			return fmt.Errorf("make home: %w", err)
		}
		if err := writeHome(hd, h.files); err != nil {
			return err
		}
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, treasuryKeyFile), encodeKeyFile(tn.treasury), privateFileMode); err != nil {
		return fmt.Errorf("write %s: %w", treasuryKeyFile, err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, feeAssetTxFile), append(tn.feeAsset.Canonical(), '\n'), publicFileMode); err != nil {
		return fmt.Errorf("write %s: %w", feeAssetTxFile, err)
	}
	b, err := json.MarshalIndent(tn.entries, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", testnetFile, err)
	}
	return atomicfile.WriteFile(filepath.Join(dir, testnetFile), append(b, '\n'), publicFileMode)
}

// summary writes a short human summary of the network.
func (tn *testnet) summary(w io.Writer, dir string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "wrote %d homes of chain %s to %s (genesis %x, listed in %s):\n",
		len(tn.entries), tn.doc.ChainID, dir, tn.doc.Hash()[:8], testnetFile)
	for _, e := range tn.entries {
		fmt.Fprintf(&b, "  %-10s %-9s http://%s  %s\n", e.Home, e.Role, e.HTTP, e.P2P)
	}
	fmt.Fprintf(&b, "start each with: ipdb-node start --home %s\n", filepath.Join(dir, "<home>"))
	fmt.Fprintf(&b, "fee asset %s: post %s once to issue it (its treasury key is %s)\n",
		tn.feeAsset.ID, filepath.Join(dir, feeAssetTxFile), filepath.Join(dir, treasuryKeyFile))
	_, err := io.WriteString(w, b.String())
	return err
}
