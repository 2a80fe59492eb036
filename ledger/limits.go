package ledger

// Limits on outside input. Each is a protocol safety cap: a transaction over one
// is refused by every node, whatever the governance parameters say. Limits that
// governance may tighten (such as the network's max_tx_bytes) are parameters
// checked elsewhere; they can only be lower than these.
const (
	// MaxTxBytes bounds a transaction's encoded size. IPDB's gateway allowed
	// 15 kB bodies; 64 KiB leaves room for governance to raise that without
	// letting one transaction cost a node unbounded parse and hash time.
	MaxTxBytes = 64 << 10

	// MaxJSONDepth bounds nesting of arrays and objects in a transaction. It
	// admits MaxThresholdDepth levels of condition details (two JSON levels
	// each) inside the transaction envelope while bounding decoder recursion.
	MaxJSONDepth = 48

	// MaxThresholdDepth bounds nesting of threshold conditions and fulfillments.
	// BigchainDB stops at 100; no real m-of-n policy nests beyond a handful, and
	// the bound caps recursion and verification cost per input.
	MaxThresholdDepth = 16

	// MaxSubconditions bounds the members of one threshold condition, as
	// BigchainDB's schema bounds its threshold to 100.
	MaxSubconditions = 100

	// MaxInputs bounds the inputs of one transaction: each input costs a
	// signature check and a state lookup.
	MaxInputs = 256

	// MaxOutputs bounds the outputs of one transaction: each output is a row in
	// the UTXO set and the owner index.
	MaxOutputs = 256

	// MaxKeysPerList bounds owners_before and public_keys lists.
	MaxKeysPerList = MaxSubconditions

	// MaxAmount is BigchainDB's Output.MAX_AMOUNT: 9 * 10^18, below 2^63.
	MaxAmount uint64 = 9_000_000_000_000_000_000

	// MaxAmountDigits bounds an amount string, as BigchainDB's schema does.
	MaxAmountDigits = 20
)
