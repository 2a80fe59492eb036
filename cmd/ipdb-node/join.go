package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/node"
)

// Names and limits of init --join.
const (
	// genesisHashHeader is the header of GET /api/v1/genesis giving the hex
	// of the served document's genesis.Doc.Hash.
	genesisHashHeader = "Ipdb-Genesis-Hash"
	// maxJoinAddrs bounds the p2p_addrs taken from the joined node's status:
	// a node listens on at most 16 addresses (node's p2p.listen limit).
	maxJoinAddrs = 16
	// genesisHashHexLen is the length of a genesis hash in hex (SHA-256).
	genesisHashHexLen = 64
)

// joinedNetwork is what init --join fetched from a node of the network.
type joinedNetwork struct {
	url   string       // the node's API base URL
	doc   *genesis.Doc // the network's genesis, decoded strictly
	raw   []byte       // the genesis as fetched, written byte for byte
	hash  string       // hex of doc.Hash()
	peers []string     // the node's p2p addresses, each ending in /p2p/<peer id>
}

// joinStatus holds the fields of GET /api/v1/status that init --join reads.
type joinStatus struct {
	GenesisHash string   `json:"genesis_hash"`
	P2PAddrs    []string `json:"p2p_addrs"`
}

// checkJoin refuses flags that do not go with --join (or --genesis-hash
// without it).
func (o initOptions) checkJoin() error {
	if o.join == "" {
		if o.genesisHash != "" {
			return errors.New("--genesis-hash: only with --join URL")
		}
		return nil
	}
	switch {
	case len(o.params) > 0:
		return errors.New("--param: a node joining a network takes the parameters of its genesis")
	case len(o.peers) > 0:
		return errors.New("--peer: init --join peers with the node of --join (add more to [p2p] peers in config.toml)")
	case o.genesisFile != "":
		return errors.New("--genesis: init --join fetches the genesis from the --join node; give one or the other")
	case o.chainID != defaultChainID:
		return errors.New("--chain-id: a node joining a network takes the chain id of its genesis")
	case o.genesisHash != "" && (len(o.genesisHash) != genesisHashHexLen || !isHex(o.genesisHash)):
		return fmt.Errorf("--genesis-hash %q: want the %d hex digits of the network's genesis hash (ipdb-node status --json shows genesis_hash)",
			o.genesisHash, genesisHashHexLen)
	}
	return nil
}

// isHex reports whether s holds hex digits only (either case).
func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// fetchJoin checks the join flags and, with --join, fetches the network's
// genesis and the node's p2p addresses, checking the genesis hash three
// ways: the header, the node's status and --genesis-hash. It returns nil
// without --join. Nothing is written: the caller writes the home after.
func fetchJoin(ctx context.Context, o initOptions) (*joinedNetwork, error) {
	if err := o.checkJoin(); err != nil || o.join == "" {
		return nil, err
	}
	base, err := normalizeAPIURL(o.join)
	if err != nil {
		return nil, fmt.Errorf("--join %q: want the API URL of a node of the network, such as http://HOST:9984", o.join)
	}
	c := newAPIClient(base)
	j, err := fetchGenesis(ctx, c)
	if err != nil {
		return nil, err
	}
	if o.genesisHash != "" && !strings.EqualFold(o.genesisHash, j.hash) {
		return nil, fmt.Errorf("--genesis-hash %s: the genesis of %s hashes to %s; is it the network you meant?", o.genesisHash, base, j.hash)
	}
	if j.peers, err = fetchJoinPeers(ctx, c, j.hash); err != nil {
		return nil, err
	}
	return j, nil
}

// fetchGenesis reads GET /api/v1/genesis, decodes it strictly and checks
// its hash against the Ipdb-Genesis-Hash header.
func fetchGenesis(ctx context.Context, c *apiClient) (*joinedNetwork, error) {
	u := c.base + apiPrefix + "/genesis"
	raw, header, err := getWithHeader(ctx, c, u, genesis.MaxDocBytes, genesisHashHeader)
	if err != nil {
		return nil, fmt.Errorf("--join: %w", err)
	}
	if header == "" {
		return nil, fmt.Errorf("--join: GET %s: no %s header; is it an ipdb-node that serves its genesis?", u, genesisHashHeader)
	}
	doc, err := genesis.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("--join: the genesis of %s: %w", c.base, err)
	}
	hash := hex.EncodeToString(doc.Hash())
	if !strings.EqualFold(header, hash) {
		return nil, fmt.Errorf("--join: the genesis of %s hashes to %s, but its %s header says %s", c.base, hash, genesisHashHeader, header)
	}
	return &joinedNetwork{url: c.base, doc: doc, raw: raw, hash: hash}, nil
}

// fetchJoinPeers reads the node's status, checks its genesis hash and
// returns its p2p addresses.
func fetchJoinPeers(ctx context.Context, c *apiClient, hash string) ([]string, error) {
	body, err := c.get(ctx, apiPrefix+"/status")
	if err != nil {
		return nil, fmt.Errorf("--join: %w", err)
	}
	var st joinStatus
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("--join: GET %s%s/status: decode answer: %w", c.base, apiPrefix, err)
	}
	if !strings.EqualFold(st.GenesisHash, hash) {
		return nil, fmt.Errorf("--join: %s serves a genesis hashing to %s, but its status says genesis_hash %q", c.base, hash, st.GenesisHash)
	}
	if len(st.P2PAddrs) == 0 {
		return nil, fmt.Errorf("--join: %s lists no p2p_addrs in its status: it does not listen for peers (give it [p2p] listen or start --p2p)", c.base)
	}
	if len(st.P2PAddrs) > maxJoinAddrs {
		return nil, fmt.Errorf("--join: %s lists %d p2p_addrs, over the limit of %d", c.base, len(st.P2PAddrs), maxJoinAddrs)
	}
	return st.P2PAddrs, nil
}

// getWithHeader GETs u and returns the body of a 2xx answer (at most limit
// bytes) and the value of its header name.
func getWithHeader(ctx context.Context, c *apiClient, u string, limit int, name string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", u, err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: read answer: %w", u, err)
	}
	if len(body) > limit {
		return nil, "", fmt.Errorf("GET %s: answer over the limit of %d bytes", u, limit)
	}
	if resp.StatusCode/100 != 2 {
		return nil, "", &apiError{method: http.MethodGet, url: u, status: resp.StatusCode, message: errorMessage(body)}
	}
	return body, resp.Header.Get(name), nil
}

// writeNext prints what the operator does next: have the new key added to
// the caretaker set (a caretaker's proposal and the set's votes), then
// start the node.
func (j *joinedNetwork) writeNext(w io.Writer, h home, key ledger.KeyPair, nk nodeKey, role string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "joined chain %s through %s (genesis %s), peering with:\n", j.doc.ChainID, j.url, j.hash)
	for _, p := range j.peers {
		fmt.Fprintf(&b, "  %s\n", p)
	}
	fmt.Fprintf(&b, "public key %s\npeer id    %s\n", key.PublicBase58(), nk.id)
	if role == node.RoleCaretaker {
		fmt.Fprintf(&b, "to make this node a caretaker, a caretaker of the network runs:\n")
		fmt.Fprintf(&b, "  ipdb-node gov propose add-caretaker --public-key %s --peer-id %s --power %d\n",
			key.PublicBase58(), nk.id, genesis.DevPower)
		fmt.Fprintf(&b, "and the caretakers vote for it (ipdb-node gov vote ID). ")
	}
	fmt.Fprintf(&b, "Start this node with:\n  ipdb-node start --home %s\n", h.dir)
	_, err := io.WriteString(w, b.String())
	return err
}
