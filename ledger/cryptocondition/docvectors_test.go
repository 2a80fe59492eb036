package cryptocondition

import (
	"crypto/ed25519"
	"encoding/hex"
	"testing"

	"github.com/mr-tron/base58"
)

// Vectors from /work/shared/BIGCHAINDB.md §2.10 and §2.5 (BigchainDB's HTTP API
// documentation samples and BEP-13), all verified there independently.
const (
	aliceSeed = "CfdqtD7sS7FgkMoGPXw55MVGGFwQLAoHYTcBhZDtF99Z"
	alicePub  = "4K9sWUMFwTgaDGPfdynrbxWqWS6sWmKbZoTjxLtVUibD"
	aliceURI  = "ni:///sha-256;PNYwdxaRaNw60N6LDFzOWO97b8tJeragczakL8PrAPc?fpt=ed25519-sha-256&cost=131072"
	// aliceDigest is SHA3-256 of the unsigned CREATE's canonical JSON.
	aliceDigest      = "28b73bdcb02e34c72f3a83ce391e91c4220f7f7b36a20c578ac71626dc9e3672"
	aliceFulfillment = "pGSAIDE5i63cn4X8T8N1sZ2mGkJD5lNRnBM4PZgI_zvzbr-cgUCy4BR6gKaYT-tdyAGPPpknIqI4JYQQ-p2nCg3_9BfOI-15vzldhyz-j_LZVpqAlRmbTzKS-Q5gs7ZIFaZCA_UD"
	bobPub           = "3yfQPHeWAa1MxTX9Zf9176QqcpcnWcanVZZbaHb8B3h9"
	bobURI           = "ni:///sha-256;lu6ov4AKkee6KWGnyjOVLBeyuP0bz4-O6_dPi15eYUc?fpt=ed25519-sha-256&cost=131072"
	bep13Pub         = "HFp773FH21sPFrn4y8wX3Ddrkzhqy4La4cQLfePT2vz7"
	bep13URI         = "ni:///sha-256;at0MY6Ye8yvidsgL9FrnKmsVzX0XrNNXFmuAPF4bQeU?fpt=ed25519-sha-256&cost=131072"
	bep13PubA        = "5ycPMinRx7D7e6wYXLNLa3TCtQrMQfjkap4ih7JVJy3h"
	bep13PubB        = "9RSas2uCxR5sx1rJoUgcd2PB3tBK7KXuCHbUMbnH3X1M"
	bep13TwoOfTwoURI = "ni:///sha-256;zr5oThl2kk6613WKGFDg-JGu00Fv88nXcDcp6Cyr0Vw?fpt=threshold-sha-256&cost=264192&subtypes=ed25519-sha-256"
)

// mustPub decodes a base58 public key.
func mustPub(t testing.TB, s string) ed25519.PublicKey {
	t.Helper()
	b, err := base58.Decode(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		t.Fatalf("base58.Decode(%q)=%x, %v; want 32 bytes", s, b, err)
	}
	return b
}

// mustHex decodes a hex string.
func mustHex(t fataler, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("hex.DecodeString(%q): %v", s, err)
	}
	return b
}

func TestAliceKeyFromSeed(t *testing.T) {
	seed, err := base58.Decode(aliceSeed)
	if err != nil {
		t.Fatalf("base58.Decode: %v", err)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if got := base58.Encode(priv.Public().(ed25519.PublicKey)); got != alicePub {
		t.Fatalf("public key=%s, want %s", got, alicePub)
	}
}

func TestDocConditionURIs(t *testing.T) {
	tests := []struct {
		name    string
		details *Details
		want    string
	}{
		{"alice", Ed25519(mustPub(t, alicePub)), aliceURI},
		{"bob", Ed25519(mustPub(t, bobPub)), bobURI},
		{"bep13 single key", Ed25519(mustPub(t, bep13Pub)), bep13URI},
		{"bep13 2-of-2", Threshold(2, Ed25519(mustPub(t, bep13PubA)), Ed25519(mustPub(t, bep13PubB))), bep13TwoOfTwoURI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.details.URI(); got != tt.want {
				t.Fatalf("URI()=%s, want %s", got, tt.want)
			}
			c, err := ParseURI(tt.want)
			if err != nil {
				t.Fatalf("ParseURI(%s): %v", tt.want, err)
			}
			if want := tt.details.Condition(); c != want {
				t.Fatalf("ParseURI()=%+v, want %+v", c, want)
			}
		})
	}
}

func TestAliceFulfillment(t *testing.T) {
	seed, _ := base58.Decode(aliceSeed)
	priv := ed25519.NewKeyFromSeed(seed)
	digest := mustHex(t, aliceDigest)
	d := Ed25519(mustPub(t, alicePub))
	f, err := d.Sign(digest, []ed25519.PrivateKey{priv})
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if got := f.URI(); got != aliceFulfillment {
		t.Fatalf("Sign().URI()=%s, want %s", got, aliceFulfillment)
	}
	parsed, err := ParseFulfillmentURI(aliceFulfillment)
	if err != nil {
		t.Fatalf("ParseFulfillmentURI: %v", err)
	}
	if err := parsed.Fulfills(d.Condition(), digest); err != nil {
		t.Fatalf("Fulfills: %v", err)
	}
	if got := parsed.Condition().URI(); got != aliceURI {
		t.Fatalf("Condition().URI()=%s, want %s", got, aliceURI)
	}
	if got := len(parsed.Encode()); got != 102 {
		t.Fatalf("len(Encode())=%d, want 102", got)
	}
}
