package textsearch

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// vocabulary keeps generated documents and queries overlapping, so matches happen.
func vocabulary() []string {
	return []string{
		"tea", "teas", "Green", "coffee", "café", "CAFE", "running", "run", "the", "of", "don't",
		"naïve", "x", "résumé", "Ünïcødé", "42", "a-b", "well_known", "ſtraße", "\u00b4", "^", "",
	}
}

func wordGen() *rapid.Generator[string] {
	return rapid.OneOf(rapid.SampledFrom(vocabulary()), rapid.String())
}

func textGen() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		ws := rapid.SliceOfN(wordGen(), 0, 6).Draw(t, "words")
		sep := rapid.SampledFrom([]string{" ", ", ", "-", "\n", ". "}).Draw(t, "sep")
		return strings.Join(ws, sep)
	})
}

// docGen generates generic JSON values of bounded depth.
func docGen(depth int) *rapid.Generator[any] {
	leaves := []*rapid.Generator[any]{
		rapid.Map(textGen(), func(s string) any { return s }),
		rapid.Just[any](nil),
		rapid.Map(rapid.Bool(), func(b bool) any { return b }),
		rapid.Map(rapid.Int(), func(i int) any { return json.Number(strconv.Itoa(i)) }),
	}
	if depth == 0 {
		return rapid.OneOf(leaves...)
	}
	key := rapid.OneOf(rapid.SampledFrom([]string{"language", "name", "data", "tags"}), rapid.String())
	lang := rapid.Map(rapid.SampledFrom([]string{"none", "english", "en", "french", "NONE"}),
		func(s string) any { return s })
	return rapid.OneOf(append(leaves,
		rapid.Map(rapid.SliceOfN(docGen(depth-1), 0, 4), func(v []any) any { return v }),
		rapid.Map(rapid.MapOfN(key, rapid.OneOf(docGen(depth-1), lang), 0, 4),
			func(m map[string]any) any { return m }),
	)...)
}

func queryStringGen() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		parts := rapid.SliceOfN(rapid.OneOf(wordGen(),
			rapid.SampledFrom([]string{"-", `"`, " ", "-\"", "\" "})), 1, 8).Draw(t, "parts")
		return strings.Join(parts, rapid.SampledFrom([]string{" ", ""}).Draw(t, "join"))
	})
}

// TestProperty_ScoreNeverPanics checks Score and Terms on arbitrary documents and queries,
// and that a match always has a positive finite score.
func TestProperty_ScoreNeverPanics(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		doc := docGen(3).Draw(t, "doc")
		s := rapid.OneOf(queryStringGen(), rapid.String()).Draw(t, "query")
		for term, w := range Terms(doc) {
			if term == "" || len(term) > MaxTermBytes || !(w > 0) || math.IsInf(w, 0) {
				t.Fatalf("Terms() has %q: %v", term, w)
			}
		}
		q, err := ParseQuery(s)
		if err != nil {
			return
		}
		score, ok := q.Score(doc)
		if ok != (score > 0) || math.IsInf(score, 0) || math.IsNaN(score) {
			t.Fatalf("Score()=%v, %v", score, ok)
		}
	})
}

// TestProperty_NegationNeverAddsResults checks that adding a negated term or phrase to a
// query never makes a document match that did not, nor changes the score of one that does.
func TestProperty_NegationNeverAddsResults(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		doc := docGen(3).Draw(t, "doc")
		q, err := ParseQuery(queryStringGen().Draw(t, "query"))
		if err != nil {
			return
		}
		word := wordGen().Draw(t, "negated")
		more := q
		if rapid.Bool().Draw(t, "phrase") {
			more.NegatedPhrases = append(slices.Clone(q.NegatedPhrases), word)
		} else {
			more.Negated = append(slices.Clone(q.Negated), slices.Collect(terms(word, langEnglish, true, nil))...)
		}
		before, matched := q.Score(doc)
		after, stillMatched := more.Score(doc)
		if stillMatched && (!matched || after != before) {
			t.Fatalf("Score()=%v, %v; with %q negated: %v, %v", before, matched, word, after, stillMatched)
		}
	})
}

// TestProperty_NegationInQueryString checks the same through the parser: appending
// " -word" (word being one parser token) to a query without quotes never adds results.
func TestProperty_NegationInQueryString(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		doc := docGen(2).Draw(t, "doc")
		words := rapid.SliceOfN(wordGen(), 1, 5).Draw(t, "words")
		s := strings.ReplaceAll(strings.Join(words, " "), `"`, "")
		// One parser token: no quote, dash or query white space.
		neg := strings.NewReplacer(`"`, "", "-", "", " ", "", "\n", "", "\v", "", "\f", "", "\r", "").
			Replace(wordGen().Draw(t, "negated"))
		q, err := ParseQuery(s)
		if err != nil {
			return
		}
		more, err := ParseQuery(s + " -" + neg)
		if err != nil {
			return // over a limit
		}
		_, matched := q.Score(doc)
		if _, stillMatched := more.Score(doc); stillMatched && !matched {
			t.Fatalf("%q matches nothing but %q matches", s, s+" -"+neg)
		}
	})
}

// TestProperty_ScoreAgreesWithTerms checks that without negations and phrases, Score is the
// sum of the document's index weights for the query's index terms, as a storage layer
// summing posting weights would compute.
func TestProperty_ScoreAgreesWithTerms(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		doc := docGen(3).Draw(t, "doc")
		q, err := ParseQuery(strings.Join(rapid.SliceOfN(wordGen(), 1, 5).Draw(t, "words"), " "))
		if err != nil || len(q.Negated) > 0 || len(q.Phrases) > 0 || len(q.NegatedPhrases) > 0 {
			return
		}
		index := Terms(doc)
		want, found := 0.0, false
		for _, term := range q.IndexTerms() {
			if w, ok := index[term]; ok {
				want, found = want+w, true
			}
		}
		if got, ok := q.Score(doc); ok != found || math.Abs(got-want) > 1e-9 {
			t.Fatalf("Score()=%v, %v, want %v, %v", got, ok, want, found)
		}
	})
}

// TestIndexerMatchesTerms checks that the memo never changes a result, also
// across the memo's reset.
func TestIndexerMatchesTerms(t *testing.T) {
	ix := NewIndexer()
	rapid.Check(t, func(rt *rapid.T) {
		doc := map[string]any{"text": rapid.StringMatching(`([a-zé]{1,12} ){1,30}`).Draw(rt, "text")}
		if got, want := ix.Terms(doc), Terms(doc); !maps.Equal(got, want) {
			rt.Fatalf("Indexer.Terms = %v, Terms = %v", got, want)
		}
	})
	ix.stems = make(map[string]string, maxMemoStems)
	for i := range maxMemoStems {
		ix.stems[strconv.Itoa(i)] = ""
	}
	doc := map[string]any{"a": "running runners ran"}
	if got, want := ix.Terms(doc), Terms(doc); !maps.Equal(got, want) {
		t.Fatalf("after the memo filled: Indexer.Terms = %v, Terms = %v", got, want)
	}
	if len(ix.stems) > 3 {
		t.Fatalf("memo holds %d stems after a reset, want at most 3", len(ix.stems))
	}
}
