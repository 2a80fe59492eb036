package governance

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
)

// addSeeds adds every file matching pattern as a seed.
func addSeeds(f *testing.F, pattern string, add func(b []byte)) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/%s (%v)", pattern, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatalf("ReadFile()=%v", err)
		}
		add(b)
	}
}

// FuzzDecode feeds Decode the bytes a disk could hold: it must never panic,
// and a state it accepts must re-encode to the same bytes and answer every
// query.
func FuzzDecode(f *testing.F) {
	addSeeds(f, "state.*.json", func(b []byte) { f.Add(b) })
	ids := identities(f)
	docs := []*genesis.Doc{testDoc(ids, []uint64{10}, nil), testDoc(ids, []uint64{10, 10, 10, 10}, nil)}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s *State
		var err error
		for _, doc := range docs {
			if s, err = Decode(doc, b); err == nil {
				break
			}
		}
		if err != nil {
			return
		}
		again, err := s.Encode()
		if err != nil || string(again) != string(b) {
			t.Fatalf("Encode(Decode(b))=%v, want b back", err)
		}
		h := s.Height() + 1
		_, _, _, _ = s.SetAt(h), s.ParamsAt(h), s.Params(), s.Quotas()
		for _, e := range s.Elections() {
			_ = e.StatusAt(h)
		}
		if _, _, err := s.Apply(h, nil); err != nil {
			t.Fatalf("Apply(nil)=%v", err)
		}
		_ = s.Rules(h)
	})
}

// FuzzParseProposal feeds the asset-data parser every JSON value: it must
// never panic, and what it accepts with a kind must have a kind.
func FuzzParseProposal(f *testing.F) {
	ops := []string{ledger.OpValidatorElection, ledger.OpParameterElection, ledger.OpQuotaElection}
	addSeeds(f, "asset_data/*.json", func(b []byte) {
		for i := range ops {
			f.Add(uint8(i), b)
		}
	})
	set := Set{Caretakers: []genesis.Caretaker{{PublicKey: "FeaUWiec85FiopmxHhUASTFUbj3pYWrzsxEKatHCovWK", Power: 10}}}
	f.Fuzz(func(t *testing.T, op uint8, b []byte) {
		data, err := ledger.DecodeJSON(b)
		if err != nil {
			return
		}
		p, seed, err := parseProposal(ops[int(op)%len(ops)], data)
		if err != nil {
			return
		}
		if len(seed) == 0 || len(seed) > MaxSeedBytes {
			t.Fatalf("parseProposal() accepted seed of %d bytes", len(seed))
		}
		if p.Kind == "" {
			p.Kind = classify(p, set)
		}
		if checkShape(p) == nil {
			v := view{set: set, params: genesis.DefaultParams()}
			_ = v.checkEffect(p, 2)
		}
	})
}
