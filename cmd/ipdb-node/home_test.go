package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/ipdb/ipdb-node/node"
)

func TestInitMakesHome(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "home")
	out := mustRunCLI(t, "init", "--home", dir, "--chain-id", "test-chain")
	h := home{dir}
	key, warning, err := h.loadKey()
	if err != nil || warning != "" {
		t.Fatalf("loadKey()=%v, %q, want a key and no warning", err, warning)
	}
	if !strings.Contains(out, "chain test-chain, caretaker "+key.PublicBase58()) {
		t.Fatalf("init printed %q, want the chain and caretaker", out)
	}
	doc, err := h.loadGenesis()
	if err != nil || doc.ChainID != "test-chain" || len(doc.Caretakers) != 1 || doc.Caretakers[0].PublicKey != key.PublicBase58() {
		t.Fatalf("loadGenesis()=%+v, %v, want chain test-chain with the new key as caretaker", doc, err)
	}
	cfg, err := h.loadConfig()
	if err != nil || !reflect.DeepEqual(cfg, node.DefaultConfig()) {
		t.Fatalf("loadConfig()=%+v, %v, want the defaults", cfg, err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, h.path(keysDir): 0o700, h.keyPath(): 0o600,
		h.path(genesisFile): 0o644, h.path(configFile): 0o644} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Fatalf("stat %s = %v, %v; want mode %v", path, fi.Mode().Perm(), err, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("temporary file %s left in the home", e.Name())
		}
	}
}

func TestInitRefusesExistingHome(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRunCLI(t, "init", "--home", dir)
	old, _, _ := home{dir}.loadKey()
	if err := os.Mkdir(home{dir}.path(dataDir), 0o700); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runCLI(t, "init", "--home", dir)
	checkOneLineError(t, stderr, err, "home "+dir+" already exists", "--force")
	if k, _, _ := (home{dir}).loadKey(); !k.Public.Equal(old.Public) {
		t.Fatalf("a refused init replaced the key")
	}

	mustRunCLI(t, "init", "--home", dir, "--force")
	if k, _, _ := (home{dir}).loadKey(); k.Public.Equal(old.Public) {
		t.Fatalf("init --force kept the old key")
	}
	if _, err := os.Stat(home{dir}.path(dataDir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("init --force kept the old ledger: stat data = %v", err)
	}
}

func TestInitBadChainIDWritesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, stderr, err := runCLI(t, "init", "--home", dir, "--chain-id", "bad chain!")
	checkOneLineError(t, stderr, err, "--chain-id", "chain_id")
	if empty, err := (home{dir}).isEmpty(); !empty || err != nil {
		t.Fatalf("isEmpty()=%v, %v after a refused init, want true", empty, err)
	}
}

func TestHomeDirResolution(t *testing.T) {
	t.Parallel()
	user, err := os.UserHomeDir()
	if err != nil {
		t.Skipf("no user home: %v", err)
	}
	tests := []struct {
		name, flag, env, want string
	}{
		{"flag wins", "/a/b", "/c", "/a/b"},
		{"env", "", "/c/d", "/c/d"},
		{"default", "", "", filepath.Join(user, ".ipdb-node")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &app{home: tt.flag, getenv: func(k string) string {
				if k == envHome {
					return tt.env
				}
				return ""
			}}
			if got, err := a.homeDir(); got != tt.want || err != nil {
				t.Fatalf("homeDir()=%q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

func TestLockHome(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l, err := lockHome(dir)
	if err != nil {
		t.Fatalf("lockHome()=%v", err)
	}
	if got := strings.TrimSpace(string(readAll(t, filepath.Join(dir, lockFile)))); got != strconv.Itoa(os.Getpid()) {
		t.Fatalf("LOCK holds %q, want our pid %d", got, os.Getpid())
	}
	_, err = lockHome(dir)
	var inUse *homeInUseError
	if !errors.As(err, &inUse) || inUse.pid != os.Getpid() {
		t.Fatalf("second lockHome()=%v, want homeInUseError with pid %d", err, os.Getpid())
	}
	want := "home " + dir + " is in use by another ipdb-node (pid " + strconv.Itoa(os.Getpid()) + ")"
	if err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	if err := l.release(); err != nil {
		t.Fatalf("release()=%v", err)
	}
	if b := readAll(t, filepath.Join(dir, lockFile)); len(b) != 0 {
		t.Fatalf("LOCK holds %q after release, want it empty", b)
	}
	l, err = lockHome(dir)
	if err != nil {
		t.Fatalf("lockHome() after release=%v", err)
	}
	l.release()
}

func TestReadFileLimit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := readFileLimit(path, 5); string(b) != "12345" || err != nil {
		t.Fatalf("readFileLimit(5)=%q, %v, want the file", b, err)
	}
	if _, err := readFileLimit(path, 4); err == nil || !strings.Contains(err.Error(), "over the limit of 4 bytes") {
		t.Fatalf("readFileLimit(4)=%v, want an over-the-limit error", err)
	}
}

func TestDecodeKeyFile(t *testing.T) {
	t.Parallel()
	k, err := newKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newKeyPair()
	good := encodeKeyFile(k)
	tests := []struct {
		name, in, want string
	}{
		{"good", string(good), ""},
		{"mismatched public key", `{"public_key":"` + other.PublicBase58() + `","private_key":"` + k.PrivateBase58() + `"}`, "is not the private key's"},
		{"unknown field", `{"public_key":"` + k.PublicBase58() + `","private_key":"` + k.PrivateBase58() + `","x":1}`, "unknown field"},
		{"not base58", `{"public_key":"x","private_key":"0OIl"}`, "private_key"},
		{"trailing data", string(good) + "{}", "data after"},
		{"not json", "hello", "want {"},
		{"too large", strings.Repeat(" ", maxKeyFileBytes+1), "over the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeKeyFile([]byte(tt.in))
			if tt.want == "" {
				if err != nil || !got.Public.Equal(k.Public) {
					t.Fatalf("decodeKeyFile()=%v, want the key", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("decodeKeyFile()=%v, want an error holding %q", err, tt.want)
			}
		})
	}
}

func TestKeysCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := mustRunCLI(t, "keys", "generate")
	k, err := decodeKeyFile([]byte(out))
	if err != nil {
		t.Fatalf("keys generate printed %q: %v", out, err)
	}
	if k.PublicBase58() == "" {
		t.Fatalf("keys generate printed no key")
	}
	path, _ := newKeyFile(t, dir, "alice")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	_, stderr, err := runCLI(t, "keys", "generate", "--out", path)
	checkOneLineError(t, stderr, err, path+" exists", "--force")
	mustRunCLI(t, "keys", "generate", "--out", path, "--force")

	h := filepath.Join(dir, "home")
	mustRunCLI(t, "init", "--home", h)
	key, _, _ := home{h}.loadKey()
	nk, err := home{h}.loadNodeKey()
	if err != nil {
		t.Fatalf("loadNodeKey()=%v", err)
	}
	want := "public_key " + key.PublicBase58() + "\npeer_id    " + nk.id.String() + "\n"
	if got := mustRunCLI(t, "keys", "show", "--home", h); got != want {
		t.Fatalf("keys show printed %q, want %q", got, want)
	}
	var shown keysShowJSON
	out = mustRunCLI(t, "keys", "show", "--home", h, "--json")
	if err := json.Unmarshal([]byte(out), &shown); err != nil || shown.PublicKey != key.PublicBase58() || shown.PeerID != nk.id.String() {
		t.Fatalf("keys show --json printed %q (%v), want the public key %s and peer id %s", out, err, key.PublicBase58(), nk.id)
	}
}

func TestLoadKeyWarnsOnOpenMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustRunCLI(t, "init", "--home", dir)
	h := home{dir}
	if err := os.Chmod(h.keyPath(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, warning, err := h.loadKey(); err != nil || !strings.Contains(warning, "chmod 600") {
		t.Fatalf("loadKey()=%q, %v, want a chmod warning", warning, err)
	}
}
