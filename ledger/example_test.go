package ledger_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	"github.com/ipdb/ipdb-node/ledger"
)

// Build, sign and check a CREATE that issues 10 units of an asset to its
// issuer, then check it against an empty state and apply it.
func ExampleBuildCreate() {
	alice, _ := ledger.NewKeyPair(bytes.Repeat([]byte{1}, 32))
	u, err := ledger.BuildCreate([]ed25519.PublicKey{alice.Public},
		map[string]any{"serial": "A-1", "kind": "bicycle"},
		map[string]any{"note": "made in Berlin"},
		ledger.To(10, alice.Public))
	if err != nil {
		panic(err)
	}
	tx, err := u.Sign(alice.Private)
	if err != nil {
		panic(err)
	}
	// What a node does with the bytes it receives:
	v, err := ledger.Verify(tx.Canonical())
	if err != nil {
		panic(err)
	}
	st := ledger.NewMemState()
	checked, err := ledger.Check(st, v)
	if err != nil {
		panic(err)
	}
	st.Apply(checked)
	fmt.Println(tx.Operation, tx.Outputs[0].Amount, tx.Outputs[0].PublicKeys[0] == alice.PublicBase58())
	fmt.Println(tx.CID().Prefix().Codec == 0x0200)
	// Output:
	// CREATE 10 true
	// true
}
