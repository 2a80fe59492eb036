package textsearch

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestParseQuery follows MongoDB 3.6's FTSQueryImpl::parse (jstests/core/fts_explain.js shows
// the parsed form of `"a" -b -"c"`).
func TestParseQuery(t *testing.T) {
	tests := []struct {
		in                                  string
		terms, negated, phrases, negPhrases []string
	}{
		{in: "coffee", terms: []string{"coffe"}},
		{in: "Coffee  SHOP\ncoffee", terms: []string{"coffe", "shop"}},
		{in: "the running dogs", terms: []string{"dog", "run"}},
		{in: `"coffee" -tea -"green tea"`, terms: []string{"coffe"}, negated: []string{"tea"},
			phrases: []string{"coffee"}, negPhrases: []string{"green tea"}},
		{in: `"Coffee Shop" java`, terms: []string{"coffe", "java", "shop"}, phrases: []string{"Coffee Shop"}},
		{in: "tea -coffee -the", terms: []string{"tea"}, negated: []string{"coffe"}},
		// A '-' negates one word, and only after white space.
		{in: "-foo-bar", terms: []string{"bar"}, negated: []string{"foo"}},
		{in: "Linn-Kristin", terms: []string{"kristin", "linn"}},
		{in: "tea --coffee", terms: []string{"tea"}, negated: []string{"coffe"}},
		{in: "tea - coffee", terms: []string{"tea"}, negated: []string{"coffe"}},
		{in: "tea -coffee shop", terms: []string{"shop", "tea"}, negated: []string{"coffe"}},
		// Words of a negated phrase are not terms; '-' inside a phrase is text.
		{in: `tea -"green leaves"`, terms: []string{"tea"}, negPhrases: []string{"green leaves"}},
		{in: `"well-known fact"`, terms: []string{"fact", "known", "well"}, phrases: []string{"well-known fact"}},
		// An unclosed quote makes no phrase; its words stay terms unless negated.
		{in: `tea "green leaves`, terms: []string{"green", "leav", "tea"}},
		{in: `tea -"green leaves`, terms: []string{"tea"}},
		// Quotes need no white space around them.
		{in: `tea"green leaves"tea`, terms: []string{"green", "leav", "tea"}, phrases: []string{"green leaves"}},
		{in: `tea "" x`, terms: []string{"tea", "x"}, phrases: []string{""}},
		// A tab is not query white space but still separates words.
		{in: "tea\t-coffee", terms: []string{"coffe", "tea"}},
		{in: "Café NAÏVE", terms: []string{"cafe", "naiv"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q, err := ParseQuery(tt.in)
			if err != nil {
				t.Fatalf("ParseQuery(%q)=%v, want no error", tt.in, err)
			}
			for _, c := range []struct {
				field     string
				got, want []string
			}{
				{"Terms", q.Terms, tt.terms},
				{"Negated", q.Negated, tt.negated},
				{"Phrases", q.Phrases, tt.phrases},
				{"NegatedPhrases", q.NegatedPhrases, tt.negPhrases},
			} {
				if !slices.Equal(c.got, c.want) {
					t.Fatalf("ParseQuery(%q).%s=%q, want %q", tt.in, c.field, c.got, c.want)
				}
			}
		})
	}
}

func TestParseQuery_Errors(t *testing.T) {
	var many strings.Builder
	for i := range MaxQueryTerms + 1 {
		many.WriteString("w" + strings.Repeat("z", i) + " ")
	}
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrEmptyQuery},
		{"blank", " \n\r ", ErrEmptyQuery},
		{"stop words", "the of and", ErrEmptyQuery},
		{"negation only", "-tea", ErrEmptyQuery},
		{"negated phrase only", `-"green tea"`, ErrEmptyQuery},
		{"phrase of stop words", `"to be"`, ErrEmptyQuery},
		{"delimiters only", `-- "" -`, ErrEmptyQuery},
		{"too long", strings.Repeat("a", MaxQueryBytes+1), ErrQueryTooLong},
		{"too many terms", many.String(), ErrTooManyTerms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseQuery(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("ParseQuery()=%v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseQuery_AtLimits(t *testing.T) {
	at := strings.Repeat("tea ", MaxQueryBytes/4)
	if _, err := ParseQuery(at); err != nil {
		t.Fatalf("ParseQuery(%d bytes)=%v, want no error", len(at), err)
	}
	var b strings.Builder
	for i := range MaxQueryTerms {
		b.WriteString("w" + strings.Repeat("z", i) + " ")
	}
	q, err := ParseQuery(b.String())
	if err != nil || len(q.Terms) != MaxQueryTerms {
		t.Fatalf("ParseQuery(%d terms)=%d terms, %v, want %d, nil", MaxQueryTerms, len(q.Terms), err, MaxQueryTerms)
	}
}

func TestIndexTerms_OwnedByCaller(t *testing.T) {
	q, err := ParseQuery("green tea")
	if err != nil {
		t.Fatalf("ParseQuery()=%v", err)
	}
	got := q.IndexTerms()
	got[0] = "changed"
	if q.Terms[0] != "green" {
		t.Fatalf("IndexTerms() shares its slice with Terms: Terms[0]=%q, want %q", q.Terms[0], "green")
	}
}
