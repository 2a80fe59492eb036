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
	"path/filepath"
	"strconv"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/node"
)

// The layout of a node home.
const (
	configFile  = "config.toml"  // node.Config as TOML
	genesisFile = "genesis.json" // genesis.Doc
	keysDir     = "keys"         // secret keys, mode 0700
	keyFile     = "caretaker.json"
	dataDir     = "data" // the Badger ledger
	lockFile    = "LOCK" // flock held while a node runs
)

// File modes of a home.
const (
	privateDirMode  fs.FileMode = 0o700 // the home and keys/
	privateFileMode fs.FileMode = 0o600 // key files
	publicFileMode  fs.FileMode = 0o644 // config.toml, genesis.json
)

// Limits on the files the CLI reads.
const (
	// maxConfigFileBytes is node.ParseConfig's own limit on a config file.
	maxConfigFileBytes = 1 << 20
	// maxKeyFileBytes bounds a key file: its JSON is about 150 bytes.
	maxKeyFileBytes = 4 << 10
)

// home is a node home directory (absolute).
type home struct{ dir string }

// path returns the path of elem inside the home.
func (h home) path(elem ...string) string {
	return filepath.Join(append([]string{h.dir}, elem...)...)
}

// keyPath returns the path of the caretaker key file.
func (h home) keyPath() string { return h.path(keysDir, keyFile) }

// homeInUseError reports a home whose LOCK another process holds.
type homeInUseError struct {
	dir string
	pid int // 0 when the LOCK names none
}

// Error returns "home DIR is in use by another ipdb-node (pid N)".
func (e *homeInUseError) Error() string {
	pid := "pid unknown"
	if e.pid > 0 {
		pid = "pid " + strconv.Itoa(e.pid)
	}
	return fmt.Sprintf("home %s is in use by another ipdb-node (%s)", e.dir, pid)
}

// isEmpty reports whether the home does not exist or holds nothing but its
// LOCK.
func (h home) isEmpty() (bool, error) {
	entries, err := os.ReadDir(h.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read home %s: %w", h.dir, err)
	}
	for _, e := range entries {
		if e.Name() != lockFile {
			return false, nil
		}
	}
	return true, nil
}

// keyFileJSON is a key file: keys/caretaker.json and what `keys generate`
// writes, base58 as the BigchainDB drivers show keys (the private key is the
// 32-byte seed).
type keyFileJSON struct {
	PublicKey  string `json:"public_key"`
	PrivateKey string `json:"private_key"`
}

// encodeKeyFile returns k as a key file.
func encodeKeyFile(k ledger.KeyPair) []byte {
	b, err := json.MarshalIndent(keyFileJSON{PublicKey: k.PublicBase58(), PrivateKey: k.PrivateBase58()}, "", "  ")
	if err != nil {
		panic("ipdb-node: a key file always encodes: " + err.Error())
	}
	return append(b, '\n')
}

// decodeKeyFile reads a key file strictly: both keys present, no other
// field, and the public key the private key's.
func decodeKeyFile(b []byte) (ledger.KeyPair, error) {
	if len(b) > maxKeyFileBytes {
		return ledger.KeyPair{}, fmt.Errorf("key file: %d bytes, over the limit of %d", len(b), maxKeyFileBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f keyFileJSON
	if err := dec.Decode(&f); err != nil {
		return ledger.KeyPair{}, fmt.Errorf("key file: want {\"public_key\", \"private_key\"}: %w", err)
	}
	if dec.More() {
		return ledger.KeyPair{}, errors.New("key file: data after the JSON object")
	}
	k, err := ledger.KeyPairFromBase58(f.PrivateKey)
	if err != nil {
		return ledger.KeyPair{}, fmt.Errorf("key file: private_key: %w", err)
	}
	if f.PublicKey != k.PublicBase58() {
		return ledger.KeyPair{}, fmt.Errorf("key file: public_key %q is not the private key's (%s)", f.PublicKey, k.PublicBase58())
	}
	return k, nil
}

// readKeyFile reads and decodes the key file at path.
func readKeyFile(path string) (ledger.KeyPair, error) {
	b, err := readFileLimit(path, maxKeyFileBytes)
	if err != nil {
		return ledger.KeyPair{}, fmt.Errorf("read key: %w", err)
	}
	k, err := decodeKeyFile(b)
	if err != nil {
		return ledger.KeyPair{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// newKeyPair returns a fresh random key pair.
func newKeyPair() (ledger.KeyPair, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return ledger.KeyPair{}, fmt.Errorf("generate key: %w", err)
	}
	return ledger.NewKeyPair(seed)
}

// loadConfig reads the home's config.toml. Errors name the file, then the
// key and its bound (node.ParseConfig's messages).
func (h home) loadConfig() (node.Config, error) {
	path := h.path(configFile)
	b, err := readFileLimit(path, maxConfigFileBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return node.Config{}, fmt.Errorf("%s: missing; write the defaults with `ipdb-node config show --home %s > %s`", path, h.dir, path)
	}
	if err != nil {
		return node.Config{}, err
	}
	c, err := node.ParseConfig(b)
	if err != nil {
		return node.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// loadGenesis reads the home's genesis.json.
func (h home) loadGenesis() (*genesis.Doc, error) {
	path := h.path(genesisFile)
	b, err := readFileLimit(path, genesis.MaxDocBytes)
	if err != nil {
		return nil, fmt.Errorf("read genesis: %w", err)
	}
	d, err := genesis.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// loadKey reads the caretaker key, and warns when others may read it.
func (h home) loadKey() (ledger.KeyPair, string, error) {
	k, err := readKeyFile(h.keyPath())
	if err != nil {
		return ledger.KeyPair{}, "", err
	}
	var warning string
	if fi, err := os.Stat(h.keyPath()); err == nil && fi.Mode().Perm()&0o077 != 0 {
		warning = fmt.Sprintf("%s has mode %v: other users may read the caretaker key; chmod 600 it", h.keyPath(), fi.Mode().Perm())
	}
	return k, warning, nil
}
