package ledger

import (
	"crypto/ed25519"
	"fmt"

	"github.com/mr-tron/base58"
)

// KeyPair is an Ed25519 key pair shown in BigchainDB's base58 form.
type KeyPair struct {
	Private ed25519.PrivateKey
	Public  ed25519.PublicKey
}

// NewKeyPair derives the key pair of a 32-byte seed.
func NewKeyPair(seed []byte) (KeyPair, error) {
	if len(seed) != ed25519.SeedSize {
		return KeyPair{}, fmt.Errorf("ledger: key seed is %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return KeyPair{Private: priv, Public: priv.Public().(ed25519.PublicKey)}, nil
}

// KeyPairFromBase58 reads a private key as BigchainDB drivers write it: the
// base58 of the 32-byte seed.
func KeyPairFromBase58(private string) (KeyPair, error) {
	seed, err := base58.Decode(private)
	if err != nil {
		return KeyPair{}, fmt.Errorf("ledger: private key is not base58: %w", err)
	}
	return NewKeyPair(seed)
}

// PublicBase58 returns the public key in base58, as transactions carry it.
func (k KeyPair) PublicBase58() string { return encodeKey(k.Public) }

// PrivateBase58 returns the base58 of the 32-byte seed.
func (k KeyPair) PrivateBase58() string { return base58.Encode(k.Private.Seed()) }

// DecodePublicKey reads a base58 Ed25519 public key.
func DecodePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base58.Decode(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("ledger: %q is not a base58 Ed25519 public key", s)
	}
	return ed25519.PublicKey(b), nil
}

func encodeKey(pk ed25519.PublicKey) string { return base58.Encode(pk) }
