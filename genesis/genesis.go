// Package genesis is the genesis document of an ipdb-node network: its chain
// id, genesis time and initial caretakers. Every node of a network starts
// from the same document; its hash is bound into block 0, whose CID every
// later block chains back to.
package genesis

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/ipdb/ipdb-node/ledger"
)

// Limits on a genesis document read from a file or the network.
const (
	// MaxDocBytes bounds a genesis file: 100 caretakers of a few hundred
	// bytes each fit many times over.
	MaxDocBytes = 1 << 20
	// MaxCaretakers is IPDB's bylaw limit on caretakers.
	MaxCaretakers = 100
	// MaxPower bounds one caretaker's voting power, so that total power
	// cannot overflow with MaxCaretakers members.
	MaxPower = 1 << 40
)

var chainIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,49}$`)

// Caretaker is one member of the initial caretaker set.
type Caretaker struct {
	Name      string `json:"name"`
	PublicKey string `json:"public_key"` // base58 Ed25519 signing key
	Power     uint64 `json:"power"`
}

// Doc is a genesis document.
type Doc struct {
	ChainID     string      `json:"chain_id"`
	GenesisTime time.Time   `json:"genesis_time"`
	Caretakers  []Caretaker `json:"caretakers"`
}

// Validate checks the document's shape and bounds, naming the field at fault.
func (d *Doc) Validate() error {
	if !chainIDPattern.MatchString(d.ChainID) {
		return fmt.Errorf("genesis: chain_id %q: want 1 to 50 of a-z A-Z 0-9 . _ - starting with a letter or digit", d.ChainID)
	}
	if d.GenesisTime.IsZero() {
		return fmt.Errorf("genesis: genesis_time: must be set")
	}
	if n := len(d.Caretakers); n == 0 || n > MaxCaretakers {
		return fmt.Errorf("genesis: caretakers: want 1 to %d, got %d", MaxCaretakers, n)
	}
	seen := make(map[string]bool)
	for i, c := range d.Caretakers {
		if _, err := ledger.DecodePublicKey(c.PublicKey); err != nil {
			return fmt.Errorf("genesis: caretakers[%d].public_key: %w", i, err)
		}
		if seen[c.PublicKey] {
			return fmt.Errorf("genesis: caretakers[%d].public_key: %s listed twice", i, c.PublicKey)
		}
		seen[c.PublicKey] = true
		if c.Power == 0 || c.Power > MaxPower {
			return fmt.Errorf("genesis: caretakers[%d].power: want 1 to %d, got %d", i, uint64(MaxPower), c.Power)
		}
	}
	return nil
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
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
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

// Dev returns the genesis of a single-caretaker development network whose
// caretaker holds key.
func Dev(chainID string, key ledger.KeyPair, now time.Time) *Doc {
	return &Doc{
		ChainID:     chainID,
		GenesisTime: now.UTC().Truncate(time.Millisecond),
		Caretakers:  []Caretaker{{Name: "caretaker0", PublicKey: key.PublicBase58(), Power: 10}},
	}
}
