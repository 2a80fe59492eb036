package textsearch

import (
	"encoding/json"
	"strings"
	"testing"
)

// benchDoc returns a metadata-like document of about 1 KiB of JSON.
func benchDoc(tb testing.TB) any {
	tb.Helper()
	const src = `{
	"title": "Limited edition print: The Harbour at Dawn",
	"artist": {"name": "Amélie Durand", "country": "France", "born": 1971},
	"description": "A hand-pulled lithograph showing fishing boats leaving the old harbour at first light. The artist's studio printed forty copies on cotton paper; each one is signed and numbered. Shipping includes a certificate of authenticity and archival packaging. The edition sold out within a week of its release and rarely appears on the secondary market.",
	"tags": ["lithograph", "harbour", "boats", "dawn", "limited edition", "signed", "french art"],
	"dimensions": {"width_cm": 50, "height_cm": 70, "framed": false},
	"provenance": [
		{"owner": "Galerie Saint-Michel", "year": 2019, "note": "Purchased directly from the artist in 2019"},
		{"owner": "Private collection, Lyon", "year": 2021, "note": "Exhibited at the spring print fair in Paris, 2022"}
	],
	"condition": "Excellent, no foxing or creases; colours bright and margins clean",
	"language": "english"
}`
	if len(src) < 1000 || len(src) > 1100 {
		tb.Fatalf("benchmark document is %d bytes, want about 1 KiB", len(src))
	}
	var doc any
	if err := json.NewDecoder(strings.NewReader(src)).Decode(&doc); err != nil {
		tb.Fatalf("decode benchmark document: %v", err)
	}
	return doc
}

func BenchmarkTerms(b *testing.B) {
	doc := benchDoc(b)
	for b.Loop() {
		Terms(doc)
	}
}

func BenchmarkParseQuery(b *testing.B) {
	for b.Loop() {
		if _, err := ParseQuery(`harbour boats -"oil painting" dawn`); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScore(b *testing.B) {
	doc := benchDoc(b)
	q, err := ParseQuery(`harbour boats -"oil painting" dawn`)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		q.Score(doc)
	}
}
