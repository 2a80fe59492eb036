package cryptocondition

import "testing"

func BenchmarkVerifyEd25519Fulfillment(b *testing.B) {
	f, err := ParseFulfillmentURI(aliceFulfillment)
	if err != nil {
		b.Fatalf("ParseFulfillmentURI: %v", err)
	}
	digest := mustHex(b, aliceDigest)
	c := Ed25519(mustPub(b, alicePub)).Condition()
	for b.Loop() {
		if err := f.Fulfills(c, digest); err != nil {
			b.Fatalf("Fulfills: %v", err)
		}
	}
}

func BenchmarkThreshold2of3Verify(b *testing.B) {
	d := Threshold(2, leaf(0), leaf(1), leaf(2))
	f := mustSign(b, d, testMsg, keys(0, 2))
	uri := f.URI()
	c := d.Condition()
	for b.Loop() {
		parsed, err := ParseFulfillmentURI(uri)
		if err != nil {
			b.Fatalf("ParseFulfillmentURI: %v", err)
		}
		if err := parsed.Fulfills(c, testMsg); err != nil {
			b.Fatalf("Fulfills: %v", err)
		}
	}
}

func BenchmarkDecodeThreshold5of100(b *testing.B) {
	subs := make([]*Details, MaxSubconditions)
	for i := range subs {
		subs[i] = leaf(i)
	}
	der := mustSign(b, Threshold(5, subs...), testMsg, keys(0, 1, 2, 3, 4)).Encode()
	b.SetBytes(int64(len(der)))
	for b.Loop() {
		if _, err := DecodeFulfillment(der); err != nil {
			b.Fatalf("DecodeFulfillment: %v", err)
		}
	}
}

func BenchmarkDetailsURI2of3(b *testing.B) {
	d := Threshold(2, leaf(0), leaf(1), leaf(2))
	for b.Loop() {
		_ = d.URI()
	}
}
