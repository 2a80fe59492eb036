package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/mr-tron/base58"

	"github.com/ipdb/ipdb-node/internal/atomicfile"
)

// nodeKeyFile is the libp2p identity of a home, in keys/.
const nodeKeyFile = "node_key.json"

// nodeKey is a home's libp2p identity: an Ed25519 key and its peer id.
type nodeKey struct {
	priv crypto.PrivKey
	id   peer.ID
}

// nodeKeyJSON is keys/node_key.json: the peer id and the base58 32-byte
// Ed25519 seed, as caretaker.json writes its key.
type nodeKeyJSON struct {
	PeerID     string `json:"peer_id"`
	PrivateKey string `json:"private_key"`
}

// nodeKeyPath returns the path of the home's node key file.
func (h home) nodeKeyPath() string { return h.path(keysDir, nodeKeyFile) }

// nodeKeyFromSeed returns the node key of a 32-byte Ed25519 seed.
func nodeKeyFromSeed(seed []byte) (nodeKey, error) {
	if len(seed) != ed25519.SeedSize {
		return nodeKey{}, fmt.Errorf("node key: want a %d-byte seed, got %d bytes", ed25519.SeedSize, len(seed))
	}
	priv, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		return nodeKey{}, fmt.Errorf("node key: %w", err)
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return nodeKey{}, fmt.Errorf("node key: peer id: %w", err)
	}
	return nodeKey{priv: priv, id: id}, nil
}

// newNodeKey returns a fresh random node key.
func newNodeKey() (nodeKey, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nodeKey{}, fmt.Errorf("generate node key: %w", err)
	}
	return nodeKeyFromSeed(seed)
}

// encode returns k as a node key file.
func (k nodeKey) encode() []byte {
	raw, err := k.priv.Raw()
	if err != nil {
		panic("ipdb-node: an Ed25519 key always has raw bytes: " + err.Error())
	}
	b, err := json.MarshalIndent(nodeKeyJSON{PeerID: k.id.String(), PrivateKey: base58.Encode(raw[:ed25519.SeedSize])}, "", "  ")
	if err != nil {
		panic("ipdb-node: a node key file always encodes: " + err.Error())
	}
	return append(b, '\n')
}

// decodeNodeKey reads a node key file strictly: both fields, no other, and
// the peer id the key's.
func decodeNodeKey(b []byte) (nodeKey, error) {
	if len(b) > maxKeyFileBytes {
		return nodeKey{}, fmt.Errorf("node key file: %d bytes, over the limit of %d", len(b), maxKeyFileBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f nodeKeyJSON
	if err := dec.Decode(&f); err != nil {
		return nodeKey{}, fmt.Errorf("node key file: want {\"peer_id\", \"private_key\"}: %w", err)
	}
	if dec.More() {
		return nodeKey{}, errors.New("node key file: data after the JSON object")
	}
	seed, err := base58.Decode(f.PrivateKey)
	if err != nil {
		return nodeKey{}, fmt.Errorf("node key file: private_key: not base58: %w", err)
	}
	k, err := nodeKeyFromSeed(seed)
	if err != nil {
		return nodeKey{}, fmt.Errorf("node key file: private_key: %w", err)
	}
	if f.PeerID != k.id.String() {
		return nodeKey{}, fmt.Errorf("node key file: peer_id %q is not the private key's (%s)", f.PeerID, k.id)
	}
	return k, nil
}

// loadNodeKey reads the home's node key.
func (h home) loadNodeKey() (nodeKey, error) {
	b, err := readFileLimit(h.nodeKeyPath(), maxKeyFileBytes)
	if err != nil {
		return nodeKey{}, fmt.Errorf("read node key: %w", err)
	}
	k, err := decodeNodeKey(b)
	if err != nil {
		return nodeKey{}, fmt.Errorf("%s: %w", h.nodeKeyPath(), err)
	}
	return k, nil
}

// writeNodeKey writes k as the home's node key, atomically, mode 0600.
func (h home) writeNodeKey(k nodeKey) error {
	if err := os.MkdirAll(h.path(keysDir), privateDirMode); err != nil {
		return fmt.Errorf("make keys directory: %w", err)
	}
	return atomicfile.WriteFile(h.nodeKeyPath(), k.encode(), privateFileMode)
}

// ensureNodeKey returns the home's node key, making one first if the home
// has none (a home made before node keys existed). made reports that.
func (h home) ensureNodeKey() (k nodeKey, made bool, err error) {
	if _, err := os.Stat(h.nodeKeyPath()); !errors.Is(err, fs.ErrNotExist) {
		k, err := h.loadNodeKey()
		return k, false, err
	}
	if k, err = newNodeKey(); err != nil {
		return nodeKey{}, false, err
	}
	return k, true, h.writeNodeKey(k)
}
