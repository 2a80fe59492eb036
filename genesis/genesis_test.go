package genesis

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"pgregory.net/rapid"

	"github.com/ipdb/ipdb-node/ledger"
)

// Peer ids of the tests: of Ed25519 keys, and of a secp256k1 key.
const (
	peerA    = "12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5"
	peerB    = "12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq"
	peerC    = "12D3KooWRndVhVZPCiQwHBBBdg769GyrPUW13zxwqQyf9r3ANaba"
	peerSecp = "16Uiu2HAm2LRdoyWWucW9QkZLsnAyUiS9jRcL5waHGJfDyhTR6QwT"
)

var testTime = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func testKey(t testing.TB, b byte) ledger.KeyPair {
	t.Helper()
	k, err := ledger.NewKeyPair(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func devDoc(t testing.TB) *Doc {
	t.Helper()
	return Dev("ipdb-dev", testKey(t, 7), testTime)
}

// threeDoc is a three-caretaker document with peer ids.
func threeDoc(t testing.TB) *Doc {
	t.Helper()
	d := devDoc(t)
	d.Caretakers = nil
	for i, id := range []string{peerA, peerB, peerC} {
		d.Caretakers = append(d.Caretakers, Caretaker{Name: fmt.Sprint("c", i), PublicKey: testKey(t, byte(i+1)).PublicBase58(), PeerID: id, Power: 10})
	}
	return d
}

func TestDecodeRoundTrip(t *testing.T) {
	for _, d := range []*Doc{devDoc(t), threeDoc(t), DevWithPeer("x", testKey(t, 1), peer.ID(mustDecode(t, peerA)), testTime)} {
		got, err := Decode(d.Encode())
		if err != nil {
			t.Fatalf("Decode(Encode()) = %v\n%s", err, d.Encode())
		}
		if !bytes.Equal(got.Hash(), d.Hash()) {
			t.Fatalf("hash changed on a round trip")
		}
		b := d.Block()
		if err := b.ValidateBasic(); err != nil {
			t.Fatalf("genesis block: %v", err)
		}
		if b.Height != 0 || !bytes.Equal(b.StateHash, d.Hash()) {
			t.Fatalf("genesis block = height %d state %x, want 0 and the document hash", b.Height, b.StateHash)
		}
	}
}

func mustDecode(t testing.TB, s string) peer.ID {
	t.Helper()
	id, err := peer.Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestHashStable pins the hash of a fixed document, so that a change to the
// encoding (which would fork every network) is noticed.
func TestHashStable(t *testing.T) {
	tests := []struct {
		name string
		doc  *Doc
		want string
	}{
		{"dev", devDoc(t), "dfc98b8021fcb91b54d556115a69214d409358515bcf545045b0e045d2f11150"},
		{"three", threeDoc(t), "9d4e73dc21c5ad4a2a3b80cbaf1d30ee1d1867ad205a6424137b3449f6d5f3e2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hex.EncodeToString(tt.doc.Hash()); got != tt.want {
				t.Fatalf("Hash()=%s, want %s", got, tt.want)
			}
		})
	}
	a, b := threeDoc(t), threeDoc(t)
	b.Params.FeePerTx++
	if bytes.Equal(a.Hash(), b.Hash()) {
		t.Fatalf("Hash() ignores params")
	}
	b = threeDoc(t)
	b.Caretakers[0].PeerID = peerC
	b.Caretakers[2].PeerID = peerA
	if bytes.Equal(a.Hash(), b.Hash()) || bytes.Equal(CaretakersHash(a.Caretakers), CaretakersHash(b.Caretakers)) {
		t.Fatalf("Hash() or CaretakersHash() ignores peer ids")
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := string(devDoc(t).Encode())
	three := string(threeDoc(t).Encode())
	tests := []struct{ name, doc, want string }{
		{"unknown field", strings.Replace(good, `"chain_id"`, `"chainid": 1, "chain_id"`, 1), "unknown field"},
		{"unknown param", strings.Replace(good, `"fee_per_tx"`, `"fee": 1, "fee_per_tx"`, 1), "unknown field"},
		{"bad chain id", strings.Replace(good, `"ipdb-dev"`, `"no spaces allowed"`, 1), "chain_id"},
		{"no caretakers", `{"chain_id":"x","genesis_time":"2026-01-01T00:00:00Z","caretakers":[],"params":` + paramsJSON(t) + `}`, "caretakers: want 1 to 1000, got 0"},
		{"zero power", strings.Replace(good, `"power": 10`, `"power": 0`, 1), "caretakers[0].power"},
		{"huge power", strings.Replace(good, `"power": 10`, `"power": 1099511627777`, 1), "caretakers[0].power: want 1 to 1099511627776"},
		{"bad key", strings.Replace(good, `"public_key": "`, `"public_key": "0`, 1), "caretakers[0].public_key"},
		{"long name", strings.Replace(good, `"caretaker0"`, `"`+strings.Repeat("n", 101)+`"`, 1), "caretakers[0].name"},
		{"trailing data", good + "{}", "data after the document"},
		{"no time", strings.Replace(good, `"2026-11-25T12:00:00Z"`, `"0001-01-01T00:00:00Z"`, 1), "genesis_time"},
		{"no params", good[:strings.Index(good, `,
  "params"`)] + "}", "params: missing"},
		{"a param missing", strings.Replace(good, `"epoch_blocks": 1000,`, ``, 1), "params.epoch_blocks: missing"},
		{"param zero", strings.Replace(good, `"max_block_txs": 1000`, `"max_block_txs": 0`, 1), "params.max_block_txs: want 1 to 10000"},
		{"param over", strings.Replace(good, `"max_tx_bytes": 15000`, `"max_tx_bytes": 65537`, 1), "params.max_tx_bytes: want 1024 to 65536"},
		{"param negative", strings.Replace(good, `"fee_per_tx": 1`, `"fee_per_tx": -1`, 1), "fee_per_tx"},
		{"param string", strings.Replace(good, `"fee_per_tx": 1`, `"fee_per_tx": "1"`, 1), "fee_per_tx"},
		{"peer id missing", strings.Replace(three, `"peer_id": "`+peerB+`",`, ``, 1), "caretakers[1].peer_id: required when there is more than one caretaker"},
		{"peer id twice", strings.Replace(three, peerB, peerA, 1), "caretakers[1].peer_id: " + peerA + " listed twice"},
		{"peer id bad", strings.Replace(three, peerC, "QmNotAPeer", 1), "caretakers[2].peer_id: not a libp2p peer id"},
		{"peer id secp256k1", strings.Replace(three, peerC, peerSecp, 1), "caretakers[2].peer_id: " + peerSecp + " is not the peer id of an Ed25519 key"},
		{"peer id long", strings.Replace(three, peerC, strings.Repeat("1", 129), 1), "caretakers[2].peer_id: 129 bytes, over the limit of 128"},
		{"key twice", strings.Replace(three, testKey(t, 2).PublicBase58(), testKey(t, 1).PublicBase58(), 1), "caretakers[1].public_key: " + testKey(t, 1).PublicBase58() + " listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := Decode(make([]byte, MaxDocBytes+1)); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("Decode(huge) = %v, want the size limit", err)
	}
}

// paramsJSON returns DefaultParams as JSON.
func paramsJSON(t *testing.T) string {
	t.Helper()
	b, err := json.Marshal(DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDecodePeerID(t *testing.T) {
	id, err := DecodePeerID(peerA)
	if err != nil || id.String() != peerA {
		t.Fatalf("DecodePeerID(%s)=%v, %v, want the id", peerA, id, err)
	}
	// The CIDv1 spelling of the same id is refused: one id, one string.
	cidForm := peer.ToCid(id).String()
	if _, err := DecodePeerID(cidForm); err == nil || !strings.Contains(err.Error(), "not in canonical form; write "+peerA) {
		t.Fatalf("DecodePeerID(%s)=%v, want the canonical-form error", cidForm, err)
	}
	if _, err := DecodePeerID(""); err == nil {
		t.Fatalf("DecodePeerID(\"\")=nil, want an error")
	}
}

func TestPeerIDs(t *testing.T) {
	got := threeDoc(t).PeerIDs()
	if len(got) != 3 || got[0].String() != peerA || got[2].String() != peerC {
		t.Fatalf("PeerIDs()=%v, want %s, %s, %s", got, peerA, peerB, peerC)
	}
	if got := devDoc(t).PeerIDs(); len(got) != 0 {
		t.Fatalf("Dev().PeerIDs()=%v, want none", got)
	}
}

func TestDevWithPeerFromKey(t *testing.T) {
	priv, _, err := crypto.GenerateEd25519Key(bytes.NewReader(bytes.Repeat([]byte{5}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	d := DevWithPeer("ipdb-dev", testKey(t, 1), id, testTime)
	if err := d.Validate(); err != nil || d.Caretakers[0].PeerID != id.String() || d.Params != DefaultParams() {
		t.Fatalf("DevWithPeer()=%+v, %v, want a valid doc with the peer id and default params", d, err)
	}
}

// TestDecodeProperty checks Encode and Decode round trip on generated
// valid documents.
func TestDecodeProperty(t *testing.T) {
	ids := []string{peerA, peerB, peerC}
	keys := []ledger.KeyPair{testKey(t, 1), testKey(t, 2), testKey(t, 3)}
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 3).Draw(rt, "caretakers")
		d := &Doc{ChainID: rapid.StringMatching(`[a-z0-9][a-z0-9._-]{0,20}`).Draw(rt, "chain"),
			GenesisTime: time.UnixMilli(rapid.Int64Range(1, 1<<42).Draw(rt, "ms")).UTC(), Params: DefaultParams()}
		for i := range n {
			d.Caretakers = append(d.Caretakers, Caretaker{PublicKey: keys[i].PublicBase58(), PeerID: ids[i],
				Power: rapid.Uint64Range(1, MaxPower).Draw(rt, "power"), Name: rapid.String().Draw(rt, "name")})
		}
		for _, info := range ParamTable() {
			if err := d.Params.Set(info.Name, fmt.Sprint(rapid.Uint64Range(info.Min, info.Max).Draw(rt, info.Name))); err != nil {
				rt.Fatalf("Set(%s)=%v", info.Name, err)
			}
		}
		if d.Validate() != nil {
			rt.Skip("invalid name")
		}
		got, err := Decode(d.Encode())
		if err != nil || !bytes.Equal(got.Hash(), d.Hash()) || got.Params != d.Params {
			rt.Fatalf("Decode(Encode(d))=%+v, %v, want %+v", got, err, d)
		}
	})
}

// FuzzDecode feeds Decode arbitrary documents: it must not panic, and what
// it accepts is valid and round-trips to the same hash.
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(devDoc(f).Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Decode(b)
		if err != nil {
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("Decode accepted an invalid document: %v", err)
		}
		again, err := Decode(d.Encode())
		if err != nil || !bytes.Equal(again.Hash(), d.Hash()) {
			t.Fatalf("Decode(Encode(d))=%v, hash equal %v", err, err == nil && bytes.Equal(again.Hash(), d.Hash()))
		}
	})
}
