package governance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
)

// MaxStateBytes bounds an encoded State read from disk: a few hundred bytes
// per election and per set epoch leave room for over 100,000 elections.
const MaxStateBytes = 64 << 20

// codecVersion is the version of the encoding Encode writes.
const codecVersion = 1

// maxNameBytes bounds a caretaker's display name, as genesis does.
const maxNameBytes = 100

// stateJSON is the encoding of a State.
type stateJSON struct {
	Version   int          `json:"version"`
	Height    uint64       `json:"height"`
	SetEpochs []SetEpoch   `json:"set_epochs"`
	Params    []paramEpoch `json:"param_epochs"`
	// Quotas is every key's quota history, by key then From; Txs 0
	// records a revocation.
	Quotas    []Quota    `json:"quotas"`
	Elections []Election `json:"elections"`
}

// Encode returns the state as deterministic JSON: equal states give equal
// bytes. It fails only when the encoding would exceed MaxStateBytes.
func (s *State) Encode() ([]byte, error) {
	w := stateJSON{Version: codecVersion, Height: s.height, SetEpochs: s.epochs, Params: s.params,
		Quotas: []Quota{}, Elections: make([]Election, len(s.order))}
	for _, pub := range sortedKeys(s.quotas) {
		w.Quotas = append(w.Quotas, s.quotas[pub]...)
	}
	for i, id := range s.order {
		w.Elections[i] = *s.elections[id]
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("governance: encode state: %w", err)
	}
	if len(b) > MaxStateBytes {
		return nil, fmt.Errorf("governance: encoded state is %d bytes, over the limit of %d", len(b), MaxStateBytes)
	}
	return b, nil
}

// Decode reads a state Encode wrote for the network of doc. It is strict:
// unknown fields, trailing data, any other spelling than Encode's, a
// history that does not start at doc, and inconsistent records are
// refused, with an error naming the field.
func Decode(doc *genesis.Doc, b []byte) (*State, error) {
	if len(b) > MaxStateBytes {
		return nil, fmt.Errorf("governance: state is %d bytes, over the limit of %d", len(b), MaxStateBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w stateJSON
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("governance: decode state: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("governance: decode state: data after the state")
	}
	s, err := w.state(doc)
	if err != nil {
		return nil, fmt.Errorf("governance: decode state: %w", err)
	}
	again, err := s.Encode()
	if err != nil || !bytes.Equal(again, b) {
		return nil, fmt.Errorf("governance: decode state: not in canonical form")
	}
	return s, nil
}

// state checks w and returns the State it encodes.
func (w *stateJSON) state(doc *genesis.Doc) (*State, error) {
	if w.Version != codecVersion {
		return nil, fmt.Errorf("version: want %d, got %d", codecVersion, w.Version)
	}
	s := &State{height: w.Height, epochs: w.SetEpochs, params: w.Params,
		quotas: map[string][]Quota{}, elections: map[string]*Election{}}
	if err := checkEpochs(w.SetEpochs, doc, w.Height); err != nil {
		return nil, err
	}
	if err := checkParamEpochs(w.Params, doc, w.Height); err != nil {
		return nil, err
	}
	if err := s.readQuotas(w.Quotas); err != nil {
		return nil, err
	}
	return s, s.readElections(w.Elections)
}

func checkEpochs(epochs []SetEpoch, doc *genesis.Doc, height uint64) error {
	if len(epochs) == 0 || epochs[0].From != 1 || !epochs[0].Set.equal(Set{Caretakers: doc.Caretakers}) {
		return fmt.Errorf("set_epochs[0]: want the genesis set from height 1")
	}
	for i, e := range epochs {
		if i > 0 && (e.From <= epochs[i-1].From || e.From > height+EffectDelay) {
			return fmt.Errorf("set_epochs[%d].from: %d out of order", i, e.From)
		}
		if err := checkSet(e.Set); err != nil {
			return fmt.Errorf("set_epochs[%d].set.%w", i, err)
		}
	}
	return nil
}

// checkSet checks a caretaker set: 1 to genesis.MaxCaretakers members with
// distinct valid keys, distinct valid peer ids (or none), powers of 1 to
// genesis.MaxPower; its error starts with the field's path.
func checkSet(set Set) error {
	n := len(set.Caretakers)
	if n == 0 || n > genesis.MaxCaretakers {
		return fmt.Errorf("caretakers: want 1 to %d, got %d", genesis.MaxCaretakers, n)
	}
	for i, c := range set.Caretakers {
		switch {
		case len(c.Name) > maxNameBytes || !utf8.ValidString(c.Name):
			return fmt.Errorf("caretakers[%d].name: want UTF-8 of at most %d bytes", i, maxNameBytes)
		case !canonicalBase58(c.PublicKey) || set.Index(c.PublicKey) != i:
			return fmt.Errorf("caretakers[%d].public_key: invalid or listed twice", i)
		case c.Power == 0 || c.Power > genesis.MaxPower:
			return fmt.Errorf("caretakers[%d].power: want 1 to %d, got %d", i, uint64(genesis.MaxPower), c.Power)
		case c.PeerID != "" && set.hasPeer(c.PeerID, c.PublicKey):
			return fmt.Errorf("caretakers[%d].peer_id: listed twice", i)
		}
		if _, err := ledger.DecodePublicKey(c.PublicKey); err != nil {
			return fmt.Errorf("caretakers[%d].public_key: %w", i, err)
		}
		if _, err := genesis.DecodePeerID(c.PeerID); c.PeerID != "" && err != nil {
			return fmt.Errorf("caretakers[%d].peer_id: %w", i, err)
		}
	}
	return nil
}

func checkParamEpochs(params []paramEpoch, doc *genesis.Doc, height uint64) error {
	if len(params) == 0 || params[0].From != 0 || params[0].Params != doc.Params {
		return fmt.Errorf("param_epochs[0]: want the genesis parameters from height 0")
	}
	for i, p := range params {
		if i > 0 && (p.From <= params[i-1].From || p.From > height+EffectDelay) {
			return fmt.Errorf("param_epochs[%d].from: %d out of order", i, p.From)
		}
		if err := p.Params.Validate(); err != nil {
			return fmt.Errorf("param_epochs[%d]: %w", i, err)
		}
	}
	return nil
}

// readQuotas checks and indexes the quota history.
func (s *State) readQuotas(quotas []Quota) error {
	for i, q := range quotas {
		history := s.quotas[q.PublicKey]
		if err := checkQuota(q, s.height); err != nil {
			return fmt.Errorf("quotas[%d].%w", i, err)
		}
		if i > 0 && q.PublicKey < quotas[i-1].PublicKey ||
			len(history) > 0 && q.From <= history[len(history)-1].From {
			return fmt.Errorf("quotas[%d]: out of order", i)
		}
		s.quotas[q.PublicKey] = append(history, q)
	}
	return nil
}

func checkQuota(q Quota, height uint64) error {
	p := Proposal{Kind: KindGrantQuota, PublicKey: q.PublicKey, Txs: q.Txs, Bytes: q.Bytes, UntilHeight: q.UntilHeight}
	if q.Txs == 0 {
		p.Kind = KindRevokeQuota
	}
	if err := checkShape(p); err != nil {
		return shapeErr(err)
	}
	if q.From < 1+EffectDelay || q.From > height+EffectDelay {
		return fmt.Errorf("from_height: %d out of range", q.From)
	}
	if _, err := electionIDBytes(q.ElectionID); err != nil {
		return fmt.Errorf("election_id: %w", err)
	}
	return nil
}
