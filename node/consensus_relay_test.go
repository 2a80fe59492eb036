package node

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ipdb/ipdb-node/federation"
	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
)

// TestRelayVotes checks that a retry of round r re-publishes the other
// caretakers' signed votes of rounds r-1 and r, unchanged, and never ours
// or older rounds'.
func TestRelayVotes(t *testing.T) {
	key, other := newKey(t, 9), newKey(t, 8)
	g := genesis.Dev("relay", key, time.Unix(1_700_000_000, 0))
	dir := t.TempDir()
	st, err := ledger.OpenStore(dir, ledger.StoreOptions{})
	if err != nil {
		t.Fatalf("OpenStore()=%v", err)
	}
	defer st.Close()
	if err := st.InitGenesis(g.Block()); err != nil {
		t.Fatalf("InitGenesis()=%v", err)
	}
	e, _, votes := soloBFT(t, st, g, key, filepath.Join(t.TempDir(), walFileName))
	e.ctx = t.Context()
	e.sigs = make(map[voteKey]voteSig)
	them, us := federation.ValidatorID(other.Public), federation.ValidatorID(key.Public)
	sig := func(r uint32) []byte { return bytes.Repeat([]byte{byte(r + 1)}, 64) }
	for r := range uint32(4) {
		for _, typ := range []federation.VoteType{federation.Prevote, federation.Precommit} {
			e.sigs[voteKey{them, 1, r, typ}] = voteSig{"", sig(r)}
			e.sigs[voteKey{us, 1, r, typ}] = voteSig{"", sig(r)}
		}
	}
	e.relayVotes(3)

	var rounds []uint32
	for _, data := range votes.batchesRaw() {
		v, err := decodeVote(data)
		if err != nil {
			t.Fatalf("decodeVote(relayed)=%v", err)
		}
		if !bytes.Equal(v.Validator, other.Public) || !bytes.Equal(v.Signature, sig(v.Round)) {
			t.Fatalf("relayed vote of %x round %d with signature %x, want the other caretaker's unchanged", v.Validator, v.Round, v.Signature[:2])
		}
		rounds = append(rounds, v.Round)
	}
	slices.Sort(rounds)
	if want := []uint32{2, 2, 3, 3}; !slices.Equal(rounds, want) {
		t.Fatalf("relayed rounds %v, want %v", rounds, want)
	}
}

// TestRelayedPOLPrevotes checks that prevotes of the lock's and the valid
// value's rounds are relayed whatever the current round, precommits not.
func TestRelayedPOLPrevotes(t *testing.T) {
	pol := map[int32]bool{-1: true, 1: true}
	cases := []struct {
		k    voteKey
		r    uint32
		want bool
	}{
		{voteKey{"a", 1, 5, federation.Precommit}, 5, true},
		{voteKey{"a", 1, 4, federation.Prevote}, 5, true},
		{voteKey{"a", 1, 3, federation.Prevote}, 5, false},
		{voteKey{"a", 1, 1, federation.Prevote}, 5, true},
		{voteKey{"a", 1, 1, federation.Precommit}, 5, false},
		{voteKey{"a", 1, 0, federation.Prevote}, 0, true},
	}
	for _, c := range cases {
		if got := relayed(c.k, c.r, pol); got != c.want {
			t.Errorf("relayed(%+v, %d)=%v, want %v", c.k, c.r, got, c.want)
		}
	}
}
