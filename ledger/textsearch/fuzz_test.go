package textsearch

import (
	"slices"
	"testing"
)

// FuzzParseQuery parses arbitrary search strings (seeds in testdata/fuzz/FuzzParseQuery) and
// checks the parsed query's invariants, and that a document holding the search string itself
// matches every query without negations.
func FuzzParseQuery(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(s)
		if err != nil {
			return
		}
		checkQuery(t, q)
		if len(q.Negated) > 0 || len(q.NegatedPhrases) > 0 {
			return
		}
		if score, ok := q.Score(map[string]any{"q": s}); !ok || !(score > 0) {
			t.Fatalf("ParseQuery(%q).Score(itself)=%v, %v, want a match", s, score, ok)
		}
	})
}

func checkQuery(t *testing.T, q Query) {
	t.Helper()
	if n := len(q.Terms) + len(q.Negated) + len(q.Phrases) + len(q.NegatedPhrases); len(q.Terms) == 0 || n > MaxQueryTerms {
		t.Fatalf("ParseQuery()=%+v: %d terms, %d in all", q, len(q.Terms), n)
	}
	for _, list := range [][]string{q.Terms, q.Negated} {
		if !slices.IsSorted(list) || len(slices.Compact(slices.Clone(list))) != len(list) || slices.Contains(list, "") {
			t.Fatalf("ParseQuery() terms %q, want sorted, distinct and non-empty", list)
		}
	}
	for _, term := range q.IndexTerms() {
		if len(term) > MaxTermBytes {
			t.Fatalf("IndexTerms() has %d bytes, max %d", len(term), MaxTermBytes)
		}
	}
}
