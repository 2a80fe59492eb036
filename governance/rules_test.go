package governance

import (
	"crypto/ed25519"
	"crypto/sha3"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/mr-tron/base58"

	"github.com/ipdb/ipdb-node/genesis"
	"github.com/ipdb/ipdb-node/ledger"
	"github.com/ipdb/ipdb-node/ledger/cryptocondition"
	"github.com/ipdb/ipdb-node/ledger/ledgertest"
)

// rawElection returns a VALIDATOR_ELECTION like model whose one input has
// the owners signers, signed by all of them (a 2-of-2 threshold for two):
// what NewElection cannot build.
func rawElection(tb testing.TB, model *ledger.Tx, signers ...ledger.KeyPair) *ledger.Tx {
	tb.Helper()
	subs, owners, privs := []*cryptocondition.Details{}, []any{}, []ed25519.PrivateKey{}
	for _, k := range signers {
		subs = append(subs, cryptocondition.Ed25519(k.Public))
		owners = append(owners, k.PublicBase58())
		privs = append(privs, k.Private)
	}
	body := map[string]any{"id": nil, "version": ledger.Version, "operation": model.Operation,
		"asset": model.Body()["asset"], "outputs": model.Body()["outputs"], "metadata": nil,
		"inputs": []any{map[string]any{"owners_before": owners, "fulfills": nil, "fulfillment": nil}}}
	msg := sha3.Sum256(ledger.AppendCanonical(nil, body))
	ff, err := cryptocondition.Threshold(len(subs), subs...).Sign(msg[:], privs)
	if err != nil {
		tb.Fatalf("Sign()=%v", err)
	}
	body["inputs"].([]any)[0].(map[string]any)["fulfillment"] = ff.URI()
	id := sha3.Sum256(ledger.AppendCanonical(nil, body))
	body["id"] = hex.EncodeToString(id[:])
	tx, err := ledger.DecodeTx(ledger.AppendCanonical(nil, body))
	if err != nil {
		tb.Fatalf("DecodeTx()=%v", err)
	}
	return tx
}

// buildRaw builds an election of op with data and outs, signed by key.
func buildRaw(tb testing.TB, op string, key ledger.KeyPair, data any, outs ...ledger.OutputSpec) *ledger.Tx {
	tb.Helper()
	u, err := ledger.BuildElection(op, key.Public, data, nil, outs...)
	if err != nil {
		tb.Fatalf("BuildElection()=%v", err)
	}
	tx, err := u.Sign(key.Private)
	if err != nil {
		tb.Fatalf("Sign()=%v", err)
	}
	return tx
}

// setOutputs returns the vote-token outputs of set.
func setOutputs(tb testing.TB, set Set) []ledger.OutputSpec {
	tb.Helper()
	outs := []ledger.OutputSpec{}
	for _, c := range set.Caretakers {
		pub, err := ledger.DecodePublicKey(c.PublicKey)
		if err != nil {
			tb.Fatalf("DecodePublicKey()=%v", err)
		}
		outs = append(outs, ledger.To(c.Power, pub))
	}
	return outs
}

// validatorData is a VALIDATOR_ELECTION's asset.data for identity i.
func validatorData(n *testNet, i int, power any) map[string]any {
	return map[string]any{"public_key": map[string]any{"value": n.ids[i].key.PublicBase58(), "type": "ed25519-base58"},
		"power": power, "node_id": n.ids[i].peer, "seed": "s"}
}

type refusal struct {
	name  string
	setup func(n *testNet) // blocks committed first
	txs   func(n *testNet) []*ledger.Tx
	kind  error  // errors.Is(err, kind)
	text  string // in err.Error()
}

// runRefusals checks each case's txs as one block on a net of powers: the
// last one must be refused, and the state must not change.
func runRefusals(t *testing.T, powers []uint64, edit func(*genesis.Params), cases []refusal) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNet(t, powers, edit)
			if tc.setup != nil {
				tc.setup(n)
			}
			before, err := n.state.Encode()
			if err != nil {
				t.Fatalf("Encode()=%v", err)
			}
			txs := tc.txs(n)
			checked, err := n.check(txs...)
			if err == nil || !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("check()=%v, want %v containing %q", err, tc.kind, tc.text)
			}
			if len(checked) != len(txs)-1 {
				t.Fatalf("checked %d txs, want %d before the refused one", len(checked), len(txs)-1)
			}
			if after, _ := n.state.Encode(); string(after) != string(before) {
				t.Fatalf("state changed by a refused block")
			}
		})
	}
}

func TestRulesRefuseProposals(t *testing.T) {
	one := func(f func(n *testNet) *ledger.Tx) func(n *testNet) []*ledger.Tx {
		return func(n *testNet) []*ledger.Tx { return []*ledger.Tx{f(n)} }
	}
	set := func(n *testNet) Set { return n.state.SetAt(1) }
	cases := []refusal{
		{name: "proposer not a caretaker", kind: ErrInvalidProposer, text: "Public key is not a part of the validator set",
			txs: one(func(n *testNet) *ledger.Tx { return n.elect(n.add(6, 1), 5) })},
		{name: "two signers", kind: ErrMultipleInputs, text: "`tx_signers` must be a list instance of length one",
			txs: one(func(n *testNet) *ledger.Tx {
				return rawElection(n.tb, n.elect(n.add(6, 1), 0), n.ids[0].key, n.ids[1].key)
			})},
		{name: "outputs miss a caretaker", kind: ErrUnequalValidatorSet, text: "Validator set much be exactly same",
			txs: one(func(n *testNet) *ledger.Tx {
				s := set(n)
				s.Caretakers = s.Caretakers[:3]
				return must(NewElection(n.add(6, 1), s, n.ids[0].key, "x"))
			})},
		{name: "outputs out of order", kind: ErrUnequalValidatorSet, text: "Validator set much be exactly same",
			txs: one(func(n *testNet) *ledger.Tx {
				s := set(n)
				s.Caretakers[0], s.Caretakers[1] = s.Caretakers[1], s.Caretakers[0]
				return must(NewElection(n.add(6, 1), s, n.ids[0].key, "x"))
			})},
		{name: "outputs wrong power", kind: ErrUnequalValidatorSet, text: "Validator set much be exactly same",
			txs: one(func(n *testNet) *ledger.Tx {
				s := set(n)
				s.Caretakers[2].Power++
				return must(NewElection(n.add(6, 1), s, n.ids[0].key, "x"))
			})},
		{name: "threshold output", kind: ErrUnequalValidatorSet, text: "single ed25519-sha-256",
			txs: one(func(n *testNet) *ledger.Tx {
				outs := setOutputs(n.tb, set(n))
				outs[1] = ledger.ToThreshold(10, 1, n.ids[1].key.Public, n.ids[2].key.Public)
				return buildRaw(n.tb, ledger.OpValidatorElection, n.ids[0].key, validatorData(n, 6, 1), outs...)
			})},
		{name: "chain migration", kind: ledger.ErrOperation, text: "CHAIN_MIGRATION_ELECTION is not accepted on this network",
			txs: one(func(n *testNet) *ledger.Tx {
				return buildRaw(n.tb, ledger.OpChainMigrationElection, n.ids[0].key, map[string]any{"seed": "s"}, setOutputs(n.tb, set(n))...)
			})},
		{name: "add: power change of 1/3", kind: ErrInvalidPowerChange, text: "power change must be less than 1/3 of total power",
			txs: one(func(n *testNet) *ledger.Tx { return n.elect(n.add(6, 14), 0) })},
		{name: "set-power: change of 1/3", kind: ErrInvalidPowerChange, text: "less than 1/3",
			txs: one(func(n *testNet) *ledger.Tx {
				p := n.add(1, 24)
				p.Kind = KindSetPower
				return n.elect(p, 0)
			})},
		{name: "power over MaxPower", kind: ErrInvalidPowerChange, text: "most a caretaker may hold",
			txs: one(func(n *testNet) *ledger.Tx {
				return buildRaw(n.tb, ledger.OpValidatorElection, n.ids[0].key, validatorData(n, 6, uint64(genesis.MaxPower)+1), setOutputs(n.tb, set(n))...)
			})},
		{name: "set-power to the same power", kind: ErrProposal, text: "already has power 10",
			txs: one(func(n *testNet) *ledger.Tx {
				p := n.add(1, 10)
				p.Kind = KindSetPower
				return n.elect(p, 0)
			})},
		{name: "set-power with another node_id", kind: ErrProposal, text: "is not caretaker",
			txs: one(func(n *testNet) *ledger.Tx {
				p := n.add(1, 11)
				p.Kind, p.PeerID = KindSetPower, n.ids[7].peer
				return n.elect(p, 0)
			})},
		{name: "remove a non-member", kind: ErrProposal, text: "is not a caretaker",
			txs: one(func(n *testNet) *ledger.Tx {
				return n.elect(Proposal{Kind: KindRemoveCaretaker, PublicKey: n.ids[8].key.PublicBase58(), PeerID: n.ids[8].peer}, 0)
			})},
		{name: "add with another caretaker's peer id", kind: ErrProposal, text: "another caretaker's peer id",
			txs: one(func(n *testNet) *ledger.Tx {
				p := n.add(6, 1)
				p.PeerID = n.ids[2].peer
				return n.elect(p, 0)
			})},
	}
	runRefusals(t, []uint64{10, 10, 10, 10}, nil, cases)
}

func must(tx *ledger.Tx, err error) *ledger.Tx {
	if err != nil {
		panic("test transaction: " + err.Error())
	}
	return tx
}

func TestRulesRefuseRemovalOfALargeCaretaker(t *testing.T) {
	runRefusals(t, []uint64{10, 10, 10, 20}, nil, []refusal{{name: "remove 20 of 50", kind: ErrInvalidPowerChange, text: "change 20, total 50",
		txs: func(n *testNet) []*ledger.Tx {
			return []*ledger.Tx{n.elect(Proposal{Kind: KindRemoveCaretaker, PublicKey: n.ids[3].key.PublicBase58(), PeerID: n.ids[3].peer}, 0)}
		}}})
}

func TestRulesRefuseBadAssetData(t *testing.T) {
	data := func(edit func(n *testNet, m map[string]any)) func(n *testNet) []*ledger.Tx {
		return func(n *testNet) []*ledger.Tx {
			m := validatorData(n, 6, 1)
			edit(n, m)
			return []*ledger.Tx{buildRaw(n.tb, ledger.OpValidatorElection, n.ids[0].key, m, setOutputs(n.tb, n.state.SetAt(1))...)}
		}
	}
	key := func(typ, value string) func(n *testNet, m map[string]any) {
		return func(n *testNet, m map[string]any) { m["public_key"] = map[string]any{"type": typ, "value": value} }
	}
	raw31 := make([]byte, 31)
	cases := []refusal{
		{name: "missing power", kind: ErrProposal, text: "asset.data.power: required", txs: data(func(n *testNet, m map[string]any) { delete(m, "power") })},
		{name: "extra field", kind: ErrProposal, text: `unexpected field "name"`, txs: data(func(n *testNet, m map[string]any) { m["name"] = "x" })},
		{name: "power a string", kind: ErrProposal, text: "asset.data.power: want an integer", txs: data(func(n *testNet, m map[string]any) { m["power"] = "1" })},
		{name: "power a fraction", kind: ErrProposal, text: "asset.data.power: want an integer", txs: data(func(n *testNet, m map[string]any) { m["power"] = 1.5 })},
		{name: "power negative", kind: ErrProposal, text: "asset.data.power: want an integer", txs: data(func(n *testNet, m map[string]any) { m["power"] = -1 })},
		{name: "power 2^53", kind: ErrProposal, text: "asset.data.power: want an integer", txs: data(func(n *testNet, m map[string]any) { m["power"] = uint64(1) << 53 })},
		{name: "power 1e3", kind: ErrProposal, text: "asset.data.power: want an integer", txs: data(func(n *testNet, m map[string]any) { m["power"] = 1e300 })},
		{name: "key type unknown", kind: ErrInvalidPublicKey, text: "public_key.type", txs: data(key("ed25519-hex", "00"))},
		{name: "key of 31 bytes", kind: ErrInvalidPublicKey, text: "Public key should be of size 32, not 31", txs: data(key("ed25519-base16", hex.EncodeToString(raw31)))},
		{name: "key not base58", kind: ErrInvalidPublicKey, text: "not ed25519-base58", txs: data(key("ed25519-base58", "0OIl"))},
		{name: "key not base64", kind: ErrInvalidPublicKey, text: "not ed25519-base64", txs: data(key("ed25519-base64", "!!"))},
		{name: "key value a number", kind: ErrInvalidPublicKey, text: "public_key.value", txs: data(func(n *testNet, m map[string]any) {
			m["public_key"] = map[string]any{"type": "ed25519-base58", "value": 7}
		})},
		{name: "node_id not a peer id", kind: ErrProposal, text: "asset.data.node_id: 12D3KooWnope", txs: data(func(n *testNet, m map[string]any) { m["node_id"] = "12D3KooWnope" })},
		{name: "node_id of an RSA-like id", kind: ErrProposal, text: "asset.data.node_id", txs: data(func(n *testNet, m map[string]any) {
			m["node_id"] = "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"
		})},
		{name: "seed empty", kind: ErrProposal, text: "asset.data.seed: want a string of 1 to 64 bytes", txs: data(func(n *testNet, m map[string]any) { m["seed"] = "" })},
		{name: "seed too long", kind: ErrProposal, text: "asset.data.seed", txs: data(func(n *testNet, m map[string]any) { m["seed"] = strings.Repeat("s", 65) })},
	}
	runRefusals(t, []uint64{10, 10, 10, 10}, nil, cases)
}

func TestRulesAcceptEveryKeyEncoding(t *testing.T) {
	n := newTestNet(t, []uint64{10, 10, 10, 10}, nil)
	pub := n.ids[6].key.Public
	for typ, value := range map[string]string{
		"ed25519-base16": hex.EncodeToString(pub), "ed25519-base32": b32(pub),
		"ed25519-base64": b64(pub), "ed25519-base58": base58.Encode(pub),
	} {
		t.Run(typ, func(t *testing.T) {
			m := validatorData(n, 6, 1)
			m["public_key"] = map[string]any{"type": typ, "value": value}
			tx := buildRaw(n.tb, ledger.OpValidatorElection, n.ids[0].key, m, setOutputs(n.tb, n.state.SetAt(1))...)
			checked, err := n.check(tx)
			if err != nil {
				t.Fatalf("check()=%v, want nil", err)
			}
			next, _, err := n.state.Apply(1, checked)
			if err != nil {
				t.Fatalf("Apply()=%v", err)
			}
			if e, _ := next.Election(tx.ID); e.PublicKey != n.ids[6].key.PublicBase58() || e.Kind != KindAddCaretaker {
				t.Fatalf("Election()=%+v, want add-caretaker of %s", e, n.ids[6].key.PublicBase58())
			}
		})
	}
}

func TestRulesRefuseParamsAndQuotas(t *testing.T) {
	param := func(name string, v uint64) func(n *testNet) []*ledger.Tx {
		return func(n *testNet) []*ledger.Tx {
			return []*ledger.Tx{buildRaw(n.tb, ledger.OpParameterElection, n.ids[0].key,
				map[string]any{"name": name, "value": v, "seed": "s"}, setOutputs(n.tb, n.state.SetAt(1))...)}
		}
	}
	quota := func(action string, who int, txs, bytes, until any) func(n *testNet) []*ledger.Tx {
		return func(n *testNet) []*ledger.Tx {
			return []*ledger.Tx{buildRaw(n.tb, ledger.OpQuotaElection, n.ids[0].key,
				map[string]any{"action": action, "public_key": n.ids[who].key.PublicBase58(), "txs": txs, "bytes": bytes,
					"until_height": until, "seed": "s"}, setOutputs(n.tb, n.state.SetAt(1))...)}
		}
	}
	cases := []refusal{
		{name: "unknown parameter", kind: ErrProposal, text: `unknown parameter "max_blocks": valid names are max_block_txs, block_interval_ms`, txs: param("max_blocks", 5)},
		{name: "max_block_txs 0", kind: ErrProposal, text: "params.max_block_txs: want 1 to", txs: param("max_block_txs", 0)},
		{name: "max_tx_bytes too small", kind: ErrProposal, text: "params.max_tx_bytes: want 1024 to", txs: param("max_tx_bytes", 10)},
		{name: "max_caretakers over the limit", kind: ErrProposal, text: "params.max_caretakers", txs: param("max_caretakers", genesis.MaxCaretakers+1)},
		{name: "value already in force", kind: ErrProposal, text: "set-param: max_block_txs is already 1000", txs: param("max_block_txs", 1000)},
		{name: "grant txs 0", kind: ErrProposal, text: "asset.data.txs: want 1 to", txs: quota("grant", 7, 0, 100, 0)},
		{name: "grant bytes 0", kind: ErrProposal, text: "asset.data.bytes: want 1 to", txs: quota("grant", 7, 10, 0, 0)},
		{name: "grant txs huge", kind: ErrProposal, text: "asset.data.txs: want an integer", txs: quota("grant", 7, uint64(1)<<60, 1, 0)},
		{name: "grant txs negative", kind: ErrProposal, text: "asset.data.txs: want an integer", txs: quota("grant", 7, -5, 1, 0)},
		{name: "grant until passed", kind: ErrProposal, text: "until_height 1 is before the quota could take effect at height 2", txs: quota("grant", 7, 10, 10, 1)},
		{name: "grant malformed key", kind: ErrInvalidPublicKey, text: "asset.data.public_key", txs: func(n *testNet) []*ledger.Tx {
			return []*ledger.Tx{buildRaw(n.tb, ledger.OpQuotaElection, n.ids[0].key,
				map[string]any{"action": "grant", "public_key": "abc", "txs": 1, "bytes": 1, "until_height": 0, "seed": "s"},
				setOutputs(n.tb, n.state.SetAt(1))...)}
		}},
		{name: "unknown action", kind: ErrProposal, text: `asset.data.action: want "grant" or "revoke"`, txs: quota("lend", 7, 1, 1, 0)},
		{name: "revoke without quota", kind: ErrProposal, text: "holds no quota", txs: quota("revoke", 7, 0, 0, 0)},
		{name: "revoke with values", kind: ErrProposal, text: "txs, bytes and until_height must be 0", txs: quota("revoke", 7, 1, 0, 0)},
	}
	runRefusals(t, []uint64{10, 10, 10, 10}, nil, cases)
}

func TestRulesRefuseVotes(t *testing.T) {
	var e *ledger.Tx
	elect := func(n *testNet) { e = n.elect(n.add(6, 1), 0); n.block(e) }
	cases := []refusal{
		{name: "second vote with spent tokens", kind: ledger.ErrDoubleSpend, text: "already spent",
			setup: func(n *testNet) { elect(n); n.block(n.vote(e, 1, false)) },
			txs:   func(n *testNet) []*ledger.Tx { return []*ledger.Tx{n.vote(e, 1, true)} }},
		{name: "two votes with one token in a block", kind: ledger.ErrDoubleSpend, text: "already spent", setup: elect,
			txs: func(n *testNet) []*ledger.Tx { return []*ledger.Tx{n.vote(e, 1, false), n.vote(e, 1, true)} }},
		{name: "vote after expiry", kind: ErrVote, text: "expired at height 4",
			setup: func(n *testNet) { elect(n); n.skip(3) },
			txs:   func(n *testNet) []*ledger.Tx { return []*ledger.Tx{n.vote(e, 1, false)} }},
		{name: "vote after approval", kind: ErrVote, text: "is approved (at height 2); votes are closed",
			setup: func(n *testNet) { elect(n); n.block(n.vote(e, 0, false), n.vote(e, 1, false), n.vote(e, 2, false)) },
			txs:   func(n *testNet) []*ledger.Tx { return []*ledger.Tx{n.vote(e, 3, false)} }},
		{name: "vote after rejection", kind: ErrVote, text: "is rejected (at height 2)",
			setup: func(n *testNet) { elect(n); n.block(n.vote(e, 0, true), n.vote(e, 1, true)) },
			txs:   func(n *testNet) []*ledger.Tx { return []*ledger.Tx{n.vote(e, 3, false)} }},
		{name: "vote for a CREATE", kind: ErrVote, text: "which is not an election",
			setup: func(n *testNet) { n.block(ledgertest.Create(n.tb, n.ids[1].key, map[string]any{"a": 1}, nil)) },
			txs: func(n *testNet) []*ledger.Tx {
				c := ledgertest.Create(n.tb, n.ids[1].key, map[string]any{"a": 1}, nil)
				tx, err := NewVote(c.ID, []Token{{Ref: ledger.OutputRef{TxID: c.ID}, Amount: 1}}, n.ids[1].key, false)
				if err != nil {
					n.tb.Fatalf("NewVote()=%v", err)
				}
				return []*ledger.Tx{tx}
			}},
		{name: "vote to a threshold", kind: ErrVote, text: "single ed25519-sha-256", setup: elect,
			txs: func(n *testNet) []*ledger.Tx {
				tok := n.tokenOf(e, 1)
				u, err := ledger.BuildVote([]ledger.Spend{ledger.SpendOf(e, int(tok.Ref.Index))}, e.ID, nil,
					ledger.ToThreshold(10, 1, n.ids[1].key.Public, n.ids[2].key.Public))
				if err != nil {
					n.tb.Fatalf("BuildVote()=%v", err)
				}
				return []*ledger.Tx{must(u.Sign(n.ids[1].key.Private))}
			}},
	}
	runRefusals(t, []uint64{10, 10, 10, 10}, func(p *genesis.Params) { p.ElectionExpiryBlocks = 3 }, cases)
}

func TestRulesRefuseTheCaretakerAfterTheBylawLimit(t *testing.T) {
	keys := make([]ledger.KeyPair, 101)
	doc := &genesis.Doc{ChainID: "gov-test", Params: genesis.DefaultParams()}
	for i := range keys {
		keys[i] = ledgertest.Key(t, 5000+i)
	}
	ids := identities(t)
	for i := range 100 {
		doc.Caretakers = append(doc.Caretakers, genesis.Caretaker{PublicKey: keys[i].PublicBase58(), Power: 1})
	}
	doc.Caretakers[0].PeerID = ids[0].peer
	s := Genesis(doc)
	p := Proposal{Kind: KindAddCaretaker, PublicKey: keys[100].PublicBase58(), PeerID: ids[1].peer, Power: 1}
	tx, err := NewElection(p, s.SetAt(1), keys[0], "s")
	if err != nil {
		t.Fatalf("NewElection()=%v", err)
	}
	batch := ledger.NewBatch(ledger.NewMemState(), ledger.Checker{Elections: s.Rules(1)})
	_, err = batch.Add(must2(ledger.CheckStateless(tx)))
	want := "the set holds 100 caretakers, the most max_caretakers (100) allows"
	if !errors.Is(err, ErrProposal) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Add()=%v, want %q", err, want)
	}
}

func must2(v *ledger.VerifiedTx, err error) *ledger.VerifiedTx {
	if err != nil {
		panic("test transaction: " + err.Error())
	}
	return v
}
