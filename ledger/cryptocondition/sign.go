package cryptocondition

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"slices"
)

// Sign returns the minimal fulfillment of d over msg made with the given
// private keys. Any key may be missing as long as every threshold on the way
// can still be met: each threshold takes, in order, the first members that
// can be fulfilled until it has Threshold of them, and lists every other
// member as an unfulfilled condition. Keys that d does not name are ignored.
// The result satisfies Condition() == d.Condition() and verifies over msg.
// Errors: a *DetailsError from Validate, ErrInvalidKey for a malformed key,
// ErrThresholdNotMet when the keys cannot meet d.
func (d *Details) Sign(msg []byte, keys []ed25519.PrivateKey) (*Fulfillment, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	byPub, err := indexKeys(keys)
	if err != nil {
		return nil, err
	}
	if !d.satisfiable(byPub) {
		return nil, fmt.Errorf("the %d keys given cannot meet %s: %w", len(keys), d.URI(), ErrThresholdNotMet)
	}
	return d.sign(msg, byPub), nil
}

// indexKeys maps each key's public half to the key, refusing keys that are
// not 64 bytes or whose public half is not the one their seed derives.
func indexKeys(keys []ed25519.PrivateKey) (map[string]ed25519.PrivateKey, error) {
	byPub := make(map[string]ed25519.PrivateKey, len(keys))
	for i, k := range keys {
		if len(k) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("key %d has %d bytes, want %d: %w", i, len(k), ed25519.PrivateKeySize, ErrInvalidKey)
		}
		derived := ed25519.NewKeyFromSeed(k.Seed())
		if !bytes.Equal(derived, k) {
			return nil, fmt.Errorf("key %d: public half does not match its seed: %w", i, ErrInvalidKey)
		}
		byPub[string(k[ed25519.SeedSize:])] = k
	}
	return byPub, nil
}

// satisfiable reports whether the keys can fulfil d.
func (d *Details) satisfiable(keys map[string]ed25519.PrivateKey) bool {
	if d.Type == TypeEd25519 {
		_, ok := keys[string(d.PublicKey)]
		return ok
	}
	met := 0
	for _, sub := range d.Subconditions {
		if sub.satisfiable(keys) {
			met++
			if met == d.Threshold {
				return true
			}
		}
	}
	return false
}

// sign builds the fulfillment of a satisfiable d.
func (d *Details) sign(msg []byte, keys map[string]ed25519.PrivateKey) *Fulfillment {
	if d.Type == TypeEd25519 {
		return &Fulfillment{
			Type:      TypeEd25519,
			PublicKey: slices.Clone(d.PublicKey),
			Signature: ed25519.Sign(keys[string(d.PublicKey)], msg),
		}
	}
	f := &Fulfillment{Type: TypeThreshold}
	for _, sub := range d.Subconditions {
		if len(f.Subfulfillments) < d.Threshold && sub.satisfiable(keys) {
			f.Subfulfillments = append(f.Subfulfillments, sub.sign(msg, keys))
		} else {
			f.Subconditions = append(f.Subconditions, sub.Condition())
		}
	}
	return f
}
