package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha3"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/multiformats/go-multihash"
)

// The vectors of ../shared/BIGCHAINDB.md §2.10, from BigchainDB's HTTP API
// documentation samples (docs/root/source/installation/api/http-samples/).
const (
	aliceSeed = "CfdqtD7sS7FgkMoGPXw55MVGGFwQLAoHYTcBhZDtF99Z"
	alicePub  = "4K9sWUMFwTgaDGPfdynrbxWqWS6sWmKbZoTjxLtVUibD"
	bobSeed   = "3AeWpPdhEZzWLYfkfYHBfMFC2r1f8HEaGS9NtbbKssya"
	bobPub    = "3yfQPHeWAa1MxTX9Zf9176QqcpcnWcanVZZbaHb8B3h9"
	carolPub  = "3Af3fhhjU6d9WecEM9Uw5hfom9kNEwE7YuDWdqAUssqm"

	createUnsigned    = `{"asset":{"data":{"msg":"Hello BigchainDB!"}},"id":null,"inputs":[{"fulfillment":null,"fulfills":null,"owners_before":["4K9sWUMFwTgaDGPfdynrbxWqWS6sWmKbZoTjxLtVUibD"]}],"metadata":{"sequence":0},"operation":"CREATE","outputs":[{"amount":"1","condition":{"details":{"public_key":"4K9sWUMFwTgaDGPfdynrbxWqWS6sWmKbZoTjxLtVUibD","type":"ed25519-sha-256"},"uri":"ni:///sha-256;PNYwdxaRaNw60N6LDFzOWO97b8tJeragczakL8PrAPc?fpt=ed25519-sha-256&cost=131072"},"public_keys":["4K9sWUMFwTgaDGPfdynrbxWqWS6sWmKbZoTjxLtVUibD"]}],"version":"2.0"}`
	createDigest      = "28b73bdcb02e34c72f3a83ce391e91c4220f7f7b36a20c578ac71626dc9e3672"
	createFulfillment = "pGSAIDE5i63cn4X8T8N1sZ2mGkJD5lNRnBM4PZgI_zvzbr-cgUCy4BR6gKaYT-tdyAGPPpknIqI4JYQQ-p2nCg3_9BfOI-15vzldhyz-j_LZVpqAlRmbTzKS-Q5gs7ZIFaZCA_UD"
	createID          = "4957744b3ac54434b8270f2c854cc1040228c82ea4e72d66d2887a4d3e30b317"
	transferDigest    = "ba82b9c74be97e39dd12427ffb734b7876e5b4618a9370cb7ceebac6bd76e5ff"
	transferID        = "79ef6803210c941903d63d08b40fa17f0a5a04f11ac0ff04451553a187d97a30"
	transfer2ID       = "1fec726a3b426498147f1a1f19a92c187d551a7f66db4b88d666d7dcc10e86a4"
	bobURI            = "ni:///sha-256;lu6ov4AKkee6KWGnyjOVLBeyuP0bz4-O6_dPi15eYUc?fpt=ed25519-sha-256&cost=131072"
)

func mustKey(t testing.TB, seed string) KeyPair {
	t.Helper()
	k, err := KeyPairFromBase58(seed)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestBigchainDBVectors(t *testing.T) {
	alice, bob := mustKey(t, aliceSeed), mustKey(t, bobSeed)
	if got := alice.PublicBase58(); got != alicePub {
		t.Fatalf("alice public key = %s, want %s", got, alicePub)
	}
	if got := bob.PublicBase58(); got != bobPub {
		t.Fatalf("bob public key = %s, want %s", got, bobPub)
	}
	u, err := BuildCreate(keys(alice), map[string]any{"msg": "Hello BigchainDB!"}, map[string]any{"sequence": 0}, To(1, alice.Public))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(signingBase(u.body)); got != createUnsigned {
		t.Fatalf("unsigned canonical JSON:\n got %s\nwant %s", got, createUnsigned)
	}
	if got := hex.EncodeToString(sha3Sum(signingBase(u.body))); got != createDigest {
		t.Fatalf("signing digest = %s, want %s", got, createDigest)
	}
	create, err := u.Sign(alice.Private)
	if err != nil {
		t.Fatal(err)
	}
	if create.Inputs[0].Fulfillment != createFulfillment {
		t.Fatalf("fulfillment = %s, want %s", create.Inputs[0].Fulfillment, createFulfillment)
	}
	if create.ID != createID {
		t.Fatalf("CREATE id = %s, want %s", create.ID, createID)
	}

	st := NewMemState()
	apply(t, st, create)
	u, err = BuildTransfer([]Spend{SpendOf(create, 0)}, create.ID, map[string]any{"sequence": 1}, To(1, bob.Public))
	if err != nil {
		t.Fatal(err)
	}
	msg := inputMessage(signingBase(u.body), u.refs[0])
	if got := hex.EncodeToString(msg[:]); got != transferDigest {
		t.Fatalf("TRANSFER signing digest = %s, want %s", got, transferDigest)
	}
	transfer, err := u.Sign(alice.Private)
	if err != nil {
		t.Fatal(err)
	}
	if transfer.ID != transferID {
		t.Fatalf("TRANSFER id = %s, want %s", transfer.ID, transferID)
	}
	if transfer.Outputs[0].URI != bobURI {
		t.Fatalf("bob's condition uri = %s, want %s", transfer.Outputs[0].URI, bobURI)
	}
	apply(t, st, transfer)
	carol, err := DecodePublicKey(carolPub)
	if err != nil {
		t.Fatal(err)
	}
	u, err = BuildTransfer([]Spend{SpendOf(transfer, 0)}, create.ID, map[string]any{"sequence": 2}, To(1, carol))
	if err != nil {
		t.Fatal(err)
	}
	transfer2, err := u.Sign(bob.Private)
	if err != nil {
		t.Fatal(err)
	}
	if transfer2.ID != transfer2ID {
		t.Fatalf("second TRANSFER id = %s, want %s", transfer2.ID, transfer2ID)
	}
	apply(t, st, transfer2)
}

func sha3Sum(b []byte) []byte {
	s := sha3.Sum256(b)
	return s[:]
}

func keys(kps ...KeyPair) []ed25519.PublicKey {
	out := make([]ed25519.PublicKey, len(kps))
	for i, k := range kps {
		out[i] = k.Public
	}
	return out
}

// apply checks tx fully against st and applies it, failing the test if any
// check refuses it.
func apply(t failer, st *MemState, tx *Tx) {
	t.Helper()
	v, err := Verify(tx.Canonical())
	if err != nil {
		t.Fatalf("Verify(%s) = %v", tx.ID, err)
	}
	c, err := Check(st, v)
	if err != nil {
		t.Fatalf("Check(%s) = %v", tx.ID, err)
	}
	st.Apply(c)
}

// failer is what the helpers need of *testing.T, *testing.B and *rapid.T.
type failer interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

func TestTxCIDDigestIsID(t *testing.T) {
	alice := mustKey(t, aliceSeed)
	tx := signed(t, must(BuildCreate(keys(alice), map[string]any{"msg": "Hello BigchainDB!"}, map[string]any{"sequence": 0}, To(1, alice.Public))), alice)
	c := tx.CID()
	if c.Version() != 1 || c.Prefix().Codec != 0x0200 {
		t.Fatalf("CID %s: version %d codec %#x, want 1 and json (0x200)", c, c.Version(), c.Prefix().Codec)
	}
	dec, err := multihash.Decode(c.Hash())
	if err != nil {
		t.Fatal(err)
	}
	if dec.Code != multihash.SHA3_256 || hex.EncodeToString(dec.Digest) != createID {
		t.Fatalf("CID multihash = %#x %x, want sha3-256 %s", dec.Code, dec.Digest, createID)
	}
	sum := sha3.Sum256(tx.HashedBytes())
	if hex.EncodeToString(sum[:]) != createID {
		t.Fatalf("SHA3-256(HashedBytes()) = %x, want the id %s", sum, createID)
	}
	if got := string(tx.HashedBytes()); !strings.Contains(got, `"id":null`) {
		t.Fatalf("HashedBytes() = %s, want the id null", got)
	}
}

// TestCanonicalWithID checks the splice that makes the canonical bytes from
// the id's hashed bytes, with asset data that mimics the id member.
func TestCanonicalWithID(t *testing.T) {
	alice := mustKey(t, aliceSeed)
	for _, data := range []any{
		nil,
		map[string]any{"a": map[string]any{"id": nil, "inputs": []any{}}},
		map[string]any{"s": `,"id":null,"x":"{[\\"`, "n": []any{1.5, "]}"}},
	} {
		tx := signed(t, must(BuildCreate(keys(alice), data, nil, To(1, alice.Public))), alice)
		if want := AppendCanonical(nil, tx.Body()); !bytes.Equal(tx.Canonical(), want) {
			t.Errorf("Canonical() = %s, want %s", tx.Canonical(), want)
		}
	}
}
