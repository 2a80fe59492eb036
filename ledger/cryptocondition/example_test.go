package cryptocondition_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"

	"github.com/ipdb/ipdb-node/ledger/cryptocondition"
)

// Example builds a 2-of-3 condition, signs it with two of the keys and checks
// the fulfillment against the condition.
func Example() {
	var keys []ed25519.PrivateKey
	var members []*cryptocondition.Details
	for i := range 3 {
		seed := sha256.Sum256([]byte{byte(i)})
		k := ed25519.NewKeyFromSeed(seed[:])
		keys = append(keys, k)
		members = append(members, cryptocondition.Ed25519(k.Public().(ed25519.PublicKey)))
	}
	details := cryptocondition.Threshold(2, members...)
	digest := sha256.Sum256([]byte("the transaction's signing digest"))

	f, err := details.Sign(digest[:], []ed25519.PrivateKey{keys[0], keys[2]})
	if err != nil {
		fmt.Println(err)
		return
	}
	parsed, err := cryptocondition.ParseFulfillmentURI(f.URI())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(parsed.Fulfills(details.Condition(), digest[:]))
	fmt.Println(len(parsed.Subfulfillments), "signatures,", len(parsed.Subconditions), "unfulfilled member")
	fmt.Println(details.Condition().Cost)
	// Output:
	// <nil>
	// 2 signatures, 1 unfulfilled member
	// 265216
}
