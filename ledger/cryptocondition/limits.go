package cryptocondition

// Limits on outside input. Each is a protocol safety cap applied by every
// decoder and parser in this package; the reason for each value is on its line.
const (
	// MaxDepth bounds the levels of a condition tree (an Ed25519 leaf is one
	// level, each threshold above it adds one) in details, conditions and
	// fulfillments. BigchainDB stops at 100; no real m-of-n policy nests beyond a
	// handful, and the bound caps recursion and verification work per input.
	MaxDepth = 16

	// MaxSubconditions bounds the members of one threshold (fulfilled plus
	// unfulfilled), as BigchainDB's schema caps a threshold at 100.
	MaxSubconditions = 100

	// MaxFulfillmentBytes bounds a DER fulfillment. A fulfillment travels
	// base64url-encoded inside a transaction of at most 64 KiB
	// (ledger.MaxTxBytes), so its DER can never exceed 3/4 of that.
	MaxFulfillmentBytes = 48 << 10

	// MaxFulfillmentURIBytes bounds the base64url (unpadded) form of a
	// fulfillment: the encoded length of MaxFulfillmentBytes.
	MaxFulfillmentURIBytes = (MaxFulfillmentBytes*4 + 2) / 3

	// MaxURIBytes bounds a condition URI. The longest valid one (a threshold of
	// cost MaxCost with a trailing '&') is 121 bytes; twice that leaves room for
	// nothing legitimate, so longer input is refused before it is parsed.
	MaxURIBytes = 256

	// MaxConditionBytes bounds a DER condition. The longest valid one (a
	// threshold of cost MaxCost) is 47 bytes.
	MaxConditionBytes = 64

	// MaxCost bounds a condition's cost: the ASN.1 module types it
	// INTEGER (0..4294967295), and BigchainDB's encoder (pyasn1) refuses more.
	MaxCost = 1<<32 - 1

	// maxBase58KeyChars bounds a base58 public key string before decoding (the
	// decoder is quadratic): 32 bytes never need more than 44 characters.
	maxBase58KeyChars = 44
)
