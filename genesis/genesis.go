// Package genesis is the genesis document of an ipdb-node network: its chain
// id, genesis time, initial caretakers (each with its Ed25519 signing key,
// libp2p peer id and voting power) and network parameters. Every node of a
// network starts from the same document. Its hash is bound into block 0 (as
// the block's state hash), and every later block chains back to block 0 by
// its prev CID, so two nodes with different genesis documents can never
// agree on a block.
package genesis

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ipdb/ipdb-node/ledger"
)

// Limits on a genesis document read from a file or the network.
const (
	// MaxDocBytes bounds a genesis file: 100 caretakers of a few hundred
	// bytes each fit many times over.
	MaxDocBytes = 1 << 20
	// MaxCaretakers is the most caretakers any set may hold, whatever the
	// max_caretakers parameter (the bylaw limit, IPDB's 100 by default)
	// says: it bounds the work of one vote tally and of a block's commit.
	MaxCaretakers = 1000
	// MaxPower bounds one caretaker's voting power, so that total power
	// cannot overflow with MaxCaretakers members.
	MaxPower = 1 << 40
	// maxNameBytes bounds a caretaker's display name.
	maxNameBytes = 100
	// maxPeerIDBytes bounds a peer id string before decoding: an Ed25519
	// peer id is 52 base58 characters.
	maxPeerIDBytes = 128
)

var chainIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,49}$`)

// Caretaker is one member of the initial caretaker set.
type Caretaker struct {
	Name      string `json:"name"`
	PublicKey string `json:"public_key"` // base58 Ed25519 signing key
	// PeerID is the caretaker node's libp2p peer id (of an Ed25519 node
	// key), in its canonical base58 form. Required when the document has
	// more than one caretaker; a single-caretaker development network may
	// leave it empty (it is then omitted from the JSON).
	PeerID string `json:"peer_id,omitempty"`
	Power  uint64 `json:"power"`
}

// Doc is a genesis document.
type Doc struct {
	ChainID     string      `json:"chain_id"`
	GenesisTime time.Time   `json:"genesis_time"`
	Caretakers  []Caretaker `json:"caretakers"`
	Params      Params      `json:"params"`
	// Fee is the fee asset and treasury; nil (omitted) offers no quota
	// purchases.
	Fee *Fee `json:"fee,omitempty"`
}

// Validate checks the document's shape and bounds, naming the field at
// fault: chain id, genesis time, 1 to params.max_caretakers caretakers with distinct
// valid public keys, distinct valid peer ids (required with more than one
// caretaker), powers of 1 to MaxPower, and every parameter in its bounds.
func (d *Doc) Validate() error {
	if err := d.validateHead(); err != nil {
		return err
	}
	return d.Params.Validate()
}

// validateHead is Validate but for the parameters.
func (d *Doc) validateHead() error {
	if !chainIDPattern.MatchString(d.ChainID) {
		return fmt.Errorf("genesis: chain_id %q: want 1 to 50 of a-z A-Z 0-9 . _ - starting with a letter or digit", d.ChainID)
	}
	if d.GenesisTime.IsZero() {
		return fmt.Errorf("genesis: genesis_time: must be set")
	}
	if n := len(d.Caretakers); n == 0 || n > MaxCaretakers {
		return fmt.Errorf("genesis: caretakers: want 1 to %d, got %d", MaxCaretakers, n)
	}
	if n := uint64(len(d.Caretakers)); d.Params.MaxCaretakers != 0 && n > d.Params.MaxCaretakers {
		return fmt.Errorf("genesis: caretakers: %d, over params.max_caretakers %d", n, d.Params.MaxCaretakers)
	}
	keys, peers := make(map[string]bool), make(map[string]bool)
	for i, c := range d.Caretakers {
		if err := c.validate(len(d.Caretakers) > 1); err != nil {
			return fmt.Errorf("genesis: caretakers[%d].%w", i, err)
		}
		if keys[c.PublicKey] {
			return fmt.Errorf("genesis: caretakers[%d].public_key: %s listed twice", i, c.PublicKey)
		}
		keys[c.PublicKey] = true
		// DecodePeerID accepts only the canonical form: equal ids are equal strings.
		if c.PeerID != "" && peers[c.PeerID] {
			return fmt.Errorf("genesis: caretakers[%d].peer_id: %s listed twice", i, c.PeerID)
		}
		peers[c.PeerID] = true
	}
	if d.Fee != nil {
		if err := d.Fee.validate(); err != nil {
			return fmt.Errorf("genesis: fee.%w", err)
		}
	}
	return nil
}

// validate checks one caretaker; its error starts with the field's name.
func (c Caretaker) validate(needPeer bool) error {
	if len(c.Name) > maxNameBytes || !utf8.ValidString(c.Name) {
		return fmt.Errorf("name: want UTF-8 of at most %d bytes", maxNameBytes)
	}
	if _, err := ledger.DecodePublicKey(c.PublicKey); err != nil {
		return fmt.Errorf("public_key: %w", err)
	}
	if c.PeerID == "" && needPeer {
		return errors.New("peer_id: required when there is more than one caretaker")
	}
	if c.PeerID != "" {
		if _, err := DecodePeerID(c.PeerID); err != nil {
			return fmt.Errorf("peer_id: %w", err)
		}
	}
	if c.Power == 0 || c.Power > MaxPower {
		return fmt.Errorf("power: want 1 to %d, got %d", uint64(MaxPower), c.Power)
	}
	return nil
}

// DecodePeerID decodes a caretaker's peer id: the canonical base58 form of
// the peer id of an Ed25519 key (other key types and other spellings of
// the same id are refused, so that equal ids are equal strings).
func DecodePeerID(s string) (peer.ID, error) {
	if len(s) > maxPeerIDBytes {
		return "", fmt.Errorf("%d bytes, over the limit of %d", len(s), maxPeerIDBytes)
	}
	id, err := peer.Decode(s)
	if err != nil {
		return "", fmt.Errorf("not a libp2p peer id: %w", err)
	}
	if id.String() != s {
		return "", fmt.Errorf("%q is not in canonical form; write %s", s, id.String())
	}
	pub, err := id.ExtractPublicKey()
	if err != nil || pub.Type() != crypto.Ed25519 {
		return "", fmt.Errorf("%s is not the peer id of an Ed25519 key", s)
	}
	return id, nil
}

// PeerIDs returns the caretakers' peer ids, in document order, skipping
// empty ones (a development network's). The document must be valid.
func (d *Doc) PeerIDs() []peer.ID {
	var ids []peer.ID
	for _, c := range d.Caretakers {
		if id, err := peer.Decode(c.PeerID); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// Decode reads a genesis document strictly (unknown fields and trailing data
// refused) and validates it.
func Decode(b []byte) (*Doc, error) {
	if len(b) > MaxDocBytes {
		return nil, fmt.Errorf("genesis: document is %d bytes, over the limit of %d", len(b), MaxDocBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d Doc
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("genesis: decode: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("genesis: decode: data after the document")
	}
	if err := d.validateHead(); err != nil {
		return nil, err
	}
	if err := requireParams(b); err != nil {
		return nil, err
	}
	if err := d.Params.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// requireParams checks that the document b (already decoded once) names
// every network parameter, so that none silently takes the zero value.
func requireParams(b []byte) error {
	var probe struct {
		Params map[string]json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return fmt.Errorf("genesis: decode: %w", err)
	}
	if probe.Params == nil {
		return fmt.Errorf("genesis: params: missing; want an object with %s", paramNames())
	}
	for _, info := range ParamTable() {
		if _, ok := probe.Params[info.Name]; !ok {
			return fmt.Errorf("genesis: params.%s: missing", info.Name)
		}
	}
	return nil
}

// Encode returns the document as indented JSON.
func (d *Doc) Encode() []byte {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		panic("genesis: a Doc always marshals: " + err.Error())
	}
	return append(b, '\n')
}

// Hash returns the SHA-256 of the document's canonical JSON.
func (d *Doc) Hash() []byte { return canonicalHash(d) }

// CaretakersHash returns the hash of the caretaker set: SHA-256 of the
// canonical JSON of the caretaker list.
func CaretakersHash(cs []Caretaker) []byte { return canonicalHash(cs) }

// canonicalHash returns the SHA-256 of v's canonical JSON (the ledger's
// serialization: sorted keys, no spaces), so the hash does not depend on
// encoding/json's output details.
func canonicalHash(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("genesis: documents and caretakers always marshal: " + err.Error())
	}
	g, err := ledger.DecodeJSON(b)
	if err != nil {
		panic("genesis: marshalled JSON always decodes: " + err.Error())
	}
	sum := sha256.Sum256(ledger.AppendCanonical(nil, g))
	return sum[:]
}

// Block returns block 0 of the chain: no transactions, the document's hash as
// its state hash, the genesis time as its time.
func (d *Doc) Block() *ledger.Block {
	return &ledger.Block{
		ChainID:        d.ChainID,
		Height:         0,
		Time:           d.GenesisTime.UnixMilli(),
		StateHash:      d.Hash(),
		CaretakersHash: CaretakersHash(d.Caretakers),
	}
}

// DevPower is the voting power Dev and testnet networks give each caretaker.
const DevPower = 10

// Dev returns the genesis of a single-caretaker development network whose
// caretaker holds key, with DefaultParams and no peer id (set
// Caretakers[0].PeerID, or use DevWithPeer, to give one).
func Dev(chainID string, key ledger.KeyPair, now time.Time) *Doc {
	return &Doc{
		ChainID:     chainID,
		GenesisTime: now.UTC().Truncate(time.Millisecond),
		Caretakers:  []Caretaker{{Name: "caretaker0", PublicKey: key.PublicBase58(), Power: DevPower}},
		Params:      DefaultParams(),
	}
}

// DevWithPeer is Dev with the caretaker's libp2p peer id set to id.
func DevWithPeer(chainID string, key ledger.KeyPair, id peer.ID, now time.Time) *Doc {
	d := Dev(chainID, key, now)
	d.Caretakers[0].PeerID = id.String()
	return d
}
