package textsearch

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// corpus is a small set of asset documents in the shapes BigchainDB stores.
func corpus() map[string]any {
	return map[string]any{
		"shoes": map[string]any{
			"title": "Running shoes",
			"body":  "Lightweight shoes for runners who run every day.",
		},
		"cafe": map[string]any{
			"title": "The café on the corner",
			"body":  "Fresh croissants and coffee.",
		},
		"tea": map[string]any{
			"language": "english",
			"title":    "Green tea",
			"body":     "A cup of green tea in the morning",
			"price":    json.Number("3"),
			"organic":  true,
		},
		"nested": map[string]any{
			"items": []any{
				map[string]any{"name": "United States"},
				map[string]any{"name": []any{"nested", []any{map[string]any{"deep": "Kingdom of Bhutan"}}}},
			},
		},
		"none": map[string]any{"language": "none", "text": "running the show"},
		"types": map[string]any{
			"n": json.Number("42"), "b": true, "z": nil, "s": "forty two",
			"f": 1.5, "empty": map[string]any{}, "list": []any{},
		},
		"accents": map[string]any{"code": "CAFE", "note": "Naïve résumé"},
	}
}

// search runs query over docs as a storage layer would and returns the ids of the matches,
// best score first (ties by id).
func search(t *testing.T, docs map[string]any, query string) []string {
	t.Helper()
	q, err := ParseQuery(query)
	if err != nil {
		t.Fatalf("ParseQuery(%q)=%v, want no error", query, err)
	}
	type hit struct {
		id    string
		score float64
	}
	var hits []hit
	for id, doc := range docs {
		if score, ok := q.Score(doc); ok {
			hits = append(hits, hit{id, score})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	ids := []string{}
	for _, h := range hits {
		ids = append(ids, h.id)
	}
	return ids
}

func sortedIDs(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

// TestSearch_MongoDBBehaviour covers the behaviours MongoDB documents for $text (and its
// jstests/core/fts_*.js check): stemming, stop words, diacritics, case, phrases, negation,
// nested documents and arrays, non-string values and keys ignored.
func TestSearch_MongoDBBehaviour(t *testing.T) {
	tests := []struct {
		name, query string
		want        []string // as a set
	}{
		{"stemming running matches run", "running", []string{"shoes"}},
		{"stemming plural", "shoe", []string{"shoes"}},
		{"stemming possessive", "shoe's", []string{"shoes"}},
		{"case insensitive", "RUN", []string{"shoes"}},
		{"diacritic in document", "cafe", []string{"accents", "cafe"}},
		{"diacritic in query", "café", []string{"accents", "cafe"}},
		{"diacritic and case", "CAFÉ", []string{"accents", "cafe"}},
		{"diacritic stemmed", "naive", []string{"accents"}},
		{"terms are OR-ed", "coffee tea", []string{"cafe", "tea"}},
		{"stop words ignored among terms", "the coffee", []string{"cafe"}},
		{"no substring matching", "caf", nil},
		{"phrase", `"green tea"`, []string{"tea"}},
		{"phrase ignores case", `"GREEN TEA"`, []string{"tea"}},
		{"phrase ignores diacritics", `"the cafe"`, []string{"cafe"}},
		{"phrase with stop words", `"cup of green"`, []string{"tea"}},
		{"phrase word order matters", `"tea green"`, nil},
		{"phrase ANDs with terms", `coffee "green tea"`, []string{"tea"}},
		{"phrases AND together", `"green tea" "fresh croissants"`, nil},
		{"phrase within one string", `"tea a cup"`, nil},
		{"negated term", "tea -morning", nil},
		{"negated absent term", "tea -evening", []string{"tea"}},
		{"negated term is stemmed", "shoes -running", nil},
		{"negated phrase", `green -"green tea"`, nil},
		{"negated absent phrase", `shoes -"every night"`, []string{"shoes"}},
		{"negation excludes per document", "cafe -corner", []string{"accents"}},
		{"hyphenated word is two terms", "Lightweight-shoes", []string{"shoes"}},
		{"nested objects in arrays", "kingdom", []string{"nested"}},
		{"strings in arrays", "nested", []string{"nested"}},
		{"negation reaches nested", "united -kingdom", nil},
		{"numbers not indexed", "42", nil},
		{"words of strings are", "forty", []string{"types"}},
		{"booleans not indexed", "true", nil},
		{"keys not indexed", "title", nil},
		{"language field not indexed", "english", nil},
		{"language none not stemmed", "show", []string{"none"}},
		{"language none keeps the word", "running", []string{"shoes"}},
	}
	docs := corpus()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sortedIDs(search(t, docs, tt.query)...)
			if want := sortedIDs(tt.want...); !slices.Equal(got, want) {
				t.Fatalf("search(%q)=%q, want %q", tt.query, got, want)
			}
		})
	}
}

func TestSearch_StopWordsAlone(t *testing.T) {
	for _, query := range []string{"the", "The a AN", `"the"`, "-coffee", "- coffee", "", "   ", `""`, "-"} {
		t.Run(query, func(t *testing.T) {
			if _, err := ParseQuery(query); !errors.Is(err, ErrEmptyQuery) {
				t.Fatalf("ParseQuery(%q)=%v, want %v", query, err, ErrEmptyQuery)
			}
		})
	}
}

// TestScore_Formula checks scores worked out by hand from MongoDB's _scoreStringV2.
func TestScore_Formula(t *testing.T) {
	tests := []struct {
		name, query string
		doc         any
		want        float64
	}{
		// One word string equal to its term: coeff 1, boost 1.1.
		{"whole string is the term", "tea", map[string]any{"t": "tea"}, 1.1},
		// "Run" is "run" ignoring ASCII case: boosted; "running" stems to "run": not.
		{"boost ignores ASCII case", "running", map[string]any{"t": "Run"}, 1.1},
		{"no boost for a stemmed word", "run", map[string]any{"t": "running"}, 1},
		// coffee → coffe: 2 words, coeff 0.75.
		{"two words", "coffee", map[string]any{"t": "Java coffee"}, 0.75},
		// green tea black tea (and is a stop word): tea twice of 4, freq 1.5, coeff 0.75.
		{"repeated term", "tea", map[string]any{"t": "green tea and black tea"}, 1.125},
		// + green once of 4: coeff 0.625.
		{"sum over query terms", "green tea", map[string]any{"t": "green tea and black tea"}, 1.75},
		// blue ×3 of 3: freq 1.75, coeff 1.
		{"halving repetitions", "blue", map[string]any{"t": "blue blue blue"}, 1.75},
		// Per string, then summed: 1.1 + 0.75.
		{"sum over strings", "tea", map[string]any{"a": "tea", "b": []any{"tea time"}}, 1.85},
		// A phrase's words are terms (time: 0.75), the phrase itself adds nothing.
		{"phrase adds its words only", `tea "tea time"`, map[string]any{"a": "tea", "b": []any{"tea time"}}, 2.6},
		{"negation adds nothing", "tea -coffee", map[string]any{"a": "tea", "b": []any{"tea time"}}, 1.85},
		// Duplicate query words count once.
		{"query terms are a set", "tea teas TEA", map[string]any{"t": "tea"}, 1.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQuery(tt.query)
			if err != nil {
				t.Fatalf("ParseQuery(%q)=%v", tt.query, err)
			}
			got, ok := q.Score(tt.doc)
			if !ok || math.Abs(got-tt.want) > 1e-12 {
				t.Fatalf("Score()=%v, %v, want %v, true", got, ok, tt.want)
			}
		})
	}
}

// TestSearch_Ranking checks that results come best first by MongoDB's score.
func TestSearch_Ranking(t *testing.T) {
	docs := map[string]any{
		"only":    map[string]any{"t": "tea"},                                     // 1.1
		"twice":   map[string]any{"t": "green tea and black tea"},                 // 1.125
		"long":    map[string]any{"t": "a tea party with friends and family"},     // 0.625
		"fields":  map[string]any{"a": "tea", "b": []any{"tea time"}},             // 1.85
		"unrelat": map[string]any{"t": "coffee"},                                  // no match
		"mention": map[string]any{"t": "tea", "u": map[string]any{"x": "coffee"}}, // 1.1
	}
	got := search(t, docs, "tea")
	want := []string{"fields", "twice", "mention", "only", "long"}
	if !slices.Equal(got, want) {
		t.Fatalf("search(tea)=%q, want %q", got, want)
	}
}

func TestTerms(t *testing.T) {
	tests := []struct {
		name string
		doc  any
		want map[string]float64
	}{
		{"nil", nil, map[string]float64{}},
		{"number", json.Number("7"), map[string]float64{}},
		{"top-level string", "Hello", map[string]float64{"hello": 1.1}},
		{"stop words only", map[string]any{"a": "the and of"}, map[string]float64{}},
		{"keys and language skipped", map[string]any{"language": "none", "Key": "value"},
			map[string]float64{"value": 1.1}},
		{"stemmed, so no boost", map[string]any{"Key": "Value"}, map[string]float64{"valu": 1}},
		{"language none", map[string]any{"language": "none", "t": "The Runs"},
			map[string]float64{"the": 0.75, "runs": 0.75}},
		{"nested language overrides parent", map[string]any{
			"language": "none",
			"a":        "runs",
			"b":        map[string]any{"language": "english", "c": "runs"},
			"d":        []any{map[string]any{"e": "runs"}},
		}, map[string]float64{"runs": 2.2, "run": 1}},
		{"non-string language keeps parent", map[string]any{"language": 5, "t": "runs"},
			map[string]float64{"run": 1}},
		{"diacritics only word", map[string]any{"t": "tea \u00b4"}, map[string]float64{"tea": 0.75}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Terms(tt.doc)
			if !equalScores(got, tt.want) {
				t.Fatalf("Terms()=%v, want %v", got, tt.want)
			}
		})
	}
}

func equalScores(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || math.Abs(v-w) > 1e-12 {
			return false
		}
	}
	return true
}

// TestLongTerm checks that a word over MaxTermBytes is indexed under MongoDB's shortened
// form and still found by the same word.
func TestLongTerm(t *testing.T) {
	word := strings.Repeat("x", 300)
	doc := map[string]any{"t": word + " tail"}
	terms := Terms(doc)
	var long string
	for k := range terms {
		if strings.HasPrefix(k, "xxx") {
			long = k
		}
	}
	if len(long) != MaxTermBytes || long[:termPrefixBytes] != word[:termPrefixBytes] {
		t.Fatalf("long term %q (%d bytes), want %d bytes starting with the word", long, len(long), MaxTermBytes)
	}
	q, err := ParseQuery(word)
	if err != nil {
		t.Fatalf("ParseQuery()=%v", err)
	}
	if got := q.IndexTerms(); !slices.Equal(got, []string{long}) {
		t.Fatalf("IndexTerms()=%q, want %q", got, long)
	}
	if _, ok := q.Score(doc); !ok {
		t.Fatalf("Score()=_, false, want true")
	}
	other := strings.Repeat("x", 299) + "y"
	if _, ok := q.Score(map[string]any{"t": other}); ok {
		t.Fatalf("Score(other long word)=_, true, want false")
	}
}

// TestMaxTermsPerDoc checks that a document with too many terms keeps the highest-weighted
// ones, and that Score agrees with the index.
func TestMaxTermsPerDoc(t *testing.T) {
	var b strings.Builder
	b.WriteString("zzkeep zzkeep")
	for i := range MaxTermsPerDoc + 10 {
		fmt.Fprintf(&b, " w%05dq", i)
	}
	doc := map[string]any{"t": b.String()}
	terms := Terms(doc)
	if len(terms) != MaxTermsPerDoc {
		t.Fatalf("len(Terms())=%d, want %d", len(terms), MaxTermsPerDoc)
	}
	if _, ok := terms["zzkeep"]; !ok {
		t.Fatalf("Terms() dropped the repeated (heaviest) term")
	}
	for _, tt := range []struct {
		query string
		want  bool
	}{{"zzkeep", true}, {"w00000q", true}, {fmt.Sprintf("w%05dq", MaxTermsPerDoc+9), false}} {
		q, err := ParseQuery(tt.query)
		if err != nil {
			t.Fatalf("ParseQuery(%q)=%v", tt.query, err)
		}
		if _, ok := q.Score(doc); ok != tt.want {
			t.Fatalf("Score(%q)=_, %v, want %v", tt.query, ok, tt.want)
		}
	}
}

func TestScore_ZeroQuery(t *testing.T) {
	if s, ok := (Query{}).Score(map[string]any{"t": "tea"}); ok || s != 0 {
		t.Fatalf("Query{}.Score()=%v, %v, want 0, false", s, ok)
	}
}
