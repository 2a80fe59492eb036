// Package cryptocondition implements the subset of crypto-conditions
// (draft-thomas-crypto-conditions-02/03, "Crypto-Conditions", IETF Internet
// Draft by S. Thomas, R. Reginelli and A. Hope-Bailie) that BigchainDB 2.x uses
// for transaction spec v2.0 (BEP-13): ED25519-SHA-256 (type id 4) and
// THRESHOLD-SHA-256 (type id 2), byte for byte as the Python package
// bigchaindb/cryptoconditions 0.8.x (the server's) and the npm package
// crypto-conditions 2.2.1 (js-bigchaindb-driver 4.3.0's) encode them.
//
// What is implemented, with the draft's rules:
//
//   - Conditions: the DER Condition CHOICE ([4] {fingerprint, cost} and
//     [2] {fingerprint, cost, subtypes BIT STRING}) and the URI form
//     ni:///sha-256;<base64url fingerprint>?fpt=<type>&cost=<n>[&subtypes=...]
//     (Condition, ParseURI, DecodeCondition).
//   - Fingerprints: SHA-256 of DER SEQUENCE {publicKey [0]} for Ed25519 and of
//     DER SEQUENCE {threshold [0] INTEGER, subconditions [1] SET OF Condition}
//     for thresholds, SET OF in DER order.
//   - Costs: 131072 for Ed25519; for a threshold, the sum of the threshold
//     largest member costs plus 1024 per member.
//   - Fulfillments: DER [4] {publicKey, signature} and
//     [2] {subfulfillments SET OF, subconditions SET OF}, their unpadded
//     base64url form, and verification (Fulfillment, DecodeFulfillment,
//     ParseFulfillmentURI, Verify, Fulfills). A threshold fulfillment's
//     threshold is its number of subfulfillments, so a fulfillment carrying
//     more than an output's threshold has another condition and is refused
//     (the "minimal fulfillment" rule of the reference implementations).
//   - BigchainDB's condition details JSON tree (Details, ParseDetails, JSON)
//     and minimal signing (Details.Sign).
//
// Not implemented: PREIMAGE-SHA-256, PREFIX-SHA-256 and RSA-SHA-256, which
// BigchainDB's schema refuses in outputs; they are refused anywhere in a
// fulfillment too (see below).
//
// Typical use by the ledger:
//
//	d, err := cryptocondition.ParseDetails(output["condition"].(map[string]any)["details"])
//	// outputs[].condition.uri must equal d.URI()
//	f, err := cryptocondition.ParseFulfillmentURI(input["fulfillment"].(string))
//	err = f.Fulfills(spentDetails.Condition(), sha3Digest) // TRANSFER
//	err = f.Verify(sha3Digest)                            // CREATE
//
// Deliberate differences from the Python reference, all on the strict side
// (each refuses input the reference accepts; none accepts what it refuses):
//
//   - Decoding is strict DER: trailing bytes, non-minimal lengths, BER
//     constructed strings and SET OF elements out of DER order are refused,
//     so a decoded fulfillment always re-encodes to the same bytes. pyasn1
//     accepts these and the server re-encodes them, which lets a relayer
//     change a transaction's fulfillment string.
//   - Types other than the two above are refused everywhere. The reference
//     accepts, in a CREATE input, a PREIMAGE-SHA-256 fulfillment or a threshold
//     with no subfulfillments, neither of which carries a signature.
//   - Ed25519 verification applies libsodium's checks (non-canonical or
//     small-order public keys and small-order R are refused), as the server
//     does through PyNaCl; crypto/ed25519 alone, like tweetnacl in the JS
//     driver, accepts such signatures.
//   - Limits (limits.go) bound depth, members, bytes and cost.
//
// All functions are safe for concurrent use; values returned are owned by
// the caller. Test vectors and their provenance are in testdata/.
package cryptocondition
