package governance

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/state.golden.json")

// goldenState returns the state of a fixed history touching every kind.
func goldenState(t *testing.T) *testNet {
	t.Helper()
	n := newTestNet(t, []uint64{10, 10, 10, 10}, nil)
	approve := func(p Proposal, by int) string {
		e := n.elect(p, by)
		n.block(e, n.vote(e, 0, false), n.vote(e, 1, false), n.vote(e, 2, false))
		return e.ID
	}
	approve(n.add(6, 3), 0)
	approve(Proposal{Kind: KindSetParam, Param: "fee_per_tx", Value: 7}, 1)
	approve(Proposal{Kind: KindGrantQuota, PublicKey: n.ids[9].key.PublicBase58(), Txs: 5, Bytes: 500, UntilHeight: 90}, 2)
	approve(Proposal{Kind: KindRevokeQuota, PublicKey: n.ids[9].key.PublicBase58()}, 3)
	p := n.add(1, 12)
	p.Kind = KindSetPower
	open := n.elect(p, 0)
	rejected := n.elect(Proposal{Kind: KindSetParam, Param: "epoch_blocks", Value: 9}, 0)
	n.block(open, rejected, n.vote(open, 3, true), n.vote(rejected, 0, true), n.vote(rejected, 1, true))
	return n
}

func TestEncodeGolden(t *testing.T) {
	n := goldenState(t)
	got, err := n.state.Encode()
	if err != nil {
		t.Fatalf("Encode()=%v", err)
	}
	path := filepath.Join("testdata", "state.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("WriteFile()=%v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile()=%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Encode()=%s, want %s", got, want)
	}
	back, err := Decode(n.doc, want)
	if err != nil || !reflect.DeepEqual(back, n.state) {
		t.Fatalf("Decode(golden)=%v, want the state back", err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	n := goldenState(t)
	good, _ := n.state.Encode()
	replace := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("golden state lacks %q", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	other := testDoc(n.ids, []uint64{10, 10, 10, 9}, nil)
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"truncated", good[:len(good)-1], "unexpected EOF"},
		{"trailing data", append(bytes.Clone(good), ' ', '{', '}'), "data after the state"},
		{"unknown field", replace(`{"version":1`, `{"extra":1,"version":1`), `unknown field "extra"`},
		{"version", replace(`"version":1`, `"version":2`), "version: want 1, got 2"},
		{"not canonical", replace(`"version":1`, `"version": 1`), "not in canonical form"},
		{"too large", bytes.Repeat([]byte(" "), MaxStateBytes+1), "over the limit"},
		{"unknown status", replace(`"status":"approved"`, `"status":"won"`), `elections[0].status: "won" is not a stored status`},
		{"needed power", replace(`"needed_power":27`, `"needed_power":26`), "elections[0].needed_power: want 27, got 26"},
		{"votes over total", replace(`"votes_power":30`, `"votes_power":41`), "elections[0].votes_power"},
		{"bad election id", replace(`"id":"`, `"id":"x`), "elections[0].id"},
		{"epoch out of order", replace(`{"from":2,"set"`, `{"from":1,"set"`), "set_epochs[1].from: 1 out of order"},
		{"unknown kind", replace(`"kind":"add-caretaker"`, `"kind":"crown"`), `elections[0].kind: unknown kind "crown"`},
		{"bad quota", replace(`"txs":5,"bytes":500`, `"txs":5,"bytes":0`), "quotas[0].bytes"},
		{"param out of bounds", replace(`"fee_per_tx":7`, `"fee_per_tx":9007199254740992`), "param_epochs[1]: genesis: params.fee_per_tx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(n.doc, tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode()=%v, want an error containing %q", err, tc.want)
			}
		})
	}
	t.Run("another genesis", func(t *testing.T) {
		if _, err := Decode(other, good); err == nil || !strings.Contains(err.Error(), "set_epochs[0]: want the genesis set") {
			t.Fatalf("Decode(other doc)=%v, want a genesis mismatch", err)
		}
	})
}
