package textsearch

import (
	"cmp"
	"crypto/md5"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"sync"
)

// fieldWeight is the weight of every string in a "$**" text index without explicit weights
// (MongoDB's DEFAULT_WEIGHT).
const fieldWeight = 1.0

// exactMatchBoost multiplies the score of a term equal, ignoring ASCII case, to the whole
// string it comes from ("Run" for the term "run"), as in MongoDB's _scoreStringV2.
const exactMatchBoost = 1.1

// textValue is one string value of a document with the language it is tokenized in.
type textValue struct {
	text string
	lang language
}

// Terms returns the index terms of doc with their weights for scoring, i.e. what MongoDB
// would put in a "$**" text index for this document: every string value anywhere in doc
// (in objects and arrays, at any depth; object keys, numbers, booleans and null are not
// indexed, nor is any field named "language"), split into words, lower-cased, stop words
// dropped, stemmed, diacritics removed. A term's weight is the sum over the strings holding
// it of MongoDB's per-string score (see Query.Score). An object's "language" field selects
// the language of that object and everything inside it: "none" means no stemming and no stop
// words; any other name means English (MongoDB would stem French as French; this package
// stems English only). Terms longer than MaxTermBytes are shortened as MongoDB does. When a
// document has more than MaxTermsPerDoc terms, only the MaxTermsPerDoc highest-weighted are
// kept (ties broken by term order).
//
// doc is a generic JSON value (nil, bool, string, json.Number, []any, map[string]any); other
// Go types are ignored. The returned map is new and owned by the caller. Safe for concurrent
// use.
func Terms(doc any) map[string]float64 {
	return (*Indexer)(nil).Terms(doc)
}

// Indexer computes Terms with a bounded memo of word stems: the stemmer is
// three quarters of the cost of Terms, and the words of a ledger's documents
// repeat. Its results are exactly those of Terms. The zero value and nil are
// ready to use (nil memoises nothing). Safe for concurrent use.
type Indexer struct {
	mu    sync.Mutex // guards stems
	stems map[string]string
}

// maxMemoStems bounds the memo: 64k words of a few bytes each. When full it
// is emptied, so crafted documents of unique words cost memory only once.
const maxMemoStems = 1 << 16

// NewIndexer returns an Indexer with an empty memo.
func NewIndexer() *Indexer { return &Indexer{} }

// Terms is the package function Terms, memoising stems.
func (ix *Indexer) Terms(doc any) map[string]float64 {
	return limitTerms(scoreValues(stringValues(doc), ix))
}

// stem returns the stem of the lower-case word w, from the memo when it can.
func (ix *Indexer) stem(w string) string {
	if ix == nil {
		return stem(w)
	}
	ix.mu.Lock()
	s, ok := ix.stems[w]
	ix.mu.Unlock()
	if ok {
		return s
	}
	s = stem(w)
	ix.mu.Lock()
	if ix.stems == nil || len(ix.stems) >= maxMemoStems {
		ix.stems = make(map[string]string)
	}
	ix.stems[strings.Clone(w)] = s
	ix.mu.Unlock()
	return s
}

// stringValues returns every indexed string value of doc with its language, in a
// deterministic order (depth first, object keys sorted).
func stringValues(doc any) []textValue {
	type frame struct {
		v    any
		lang language
	}
	var out []textValue
	stack := []frame{{doc, langEnglish}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch v := f.v.(type) {
		case string:
			out = append(out, textValue{v, f.lang})
		case []any:
			for i := len(v) - 1; i >= 0; i-- {
				stack = append(stack, frame{v[i], f.lang})
			}
		case map[string]any:
			lang := languageOf(v[languageField], f.lang)
			keys := slices.Sorted(maps.Keys(v))
			for i := len(keys) - 1; i >= 0; i-- {
				if keys[i] != languageField {
					stack = append(stack, frame{v[keys[i]], lang})
				}
			}
		}
	}
	return out
}

// scoreValues returns the index terms of values with their summed scores.
func scoreValues(values []textValue, ix *Indexer) map[string]float64 {
	scores := make(map[string]float64)
	for _, v := range values {
		scoreString(v, scores, ix)
	}
	return scores
}

// termStat accumulates one term's occurrences in one string, as MongoDB's ScoreHelperStruct.
type termStat struct {
	count float64 // occurrences
	exp   float64 // 2^(count-1)
	freq  float64 // sum of 1/2^i for i < count: each repetition counts half the previous
}

// scoreString adds the score of every term of v to scores, as MongoDB's
// FTSSpec::_scoreStringV2 (src/mongo/db/fts/fts_spec.cpp) does: for a term found count times
// among the numTokens non-stop words of the string, score = weight × freq × coeff × boost,
// where freq = 1 + 1/2 + 1/4 + … (count terms), coeff = 0.5 × count/numTokens + 0.5, and
// boost is 1.1 when the whole string equals the term ignoring ASCII case, else 1.
func scoreString(v textValue, scores map[string]float64, ix *Indexer) {
	stats := make(map[string]*termStat)
	numTokens := 0
	for t := range terms(v.text, v.lang, true, ix) {
		numTokens++
		st := stats[t]
		if st == nil {
			st = &termStat{exp: 0.5}
			stats[t] = st
		}
		st.exp *= 2
		st.count++
		st.freq += 1 / st.exp
	}
	for t, st := range stats {
		if t == "" { // a word of diacritics only: counted in numTokens, never searchable
			continue
		}
		coeff := 0.5*st.count/float64(numTokens) + 0.5
		boost := 1.0
		if asciiEqualFold(v.text, t) {
			boost = exactMatchBoost
		}
		scores[indexTerm(t)] += fieldWeight * st.freq * coeff * boost
	}
}

// indexTerm returns the index key of term t: t itself, or for a term over MaxTermBytes its
// first termPrefixBytes bytes and the hex MD5 of t, as MongoDB's text index version 3 does.
func indexTerm(t string) string {
	if len(t) <= MaxTermBytes {
		return t
	}
	sum := md5.Sum([]byte(t))
	return t[:termPrefixBytes] + hex.EncodeToString(sum[:])
}

// limitTerms returns scores when it has at most MaxTermsPerDoc terms, else a new map of the
// MaxTermsPerDoc highest-scored terms (ties broken by term order).
func limitTerms(scores map[string]float64) map[string]float64 {
	if len(scores) <= MaxTermsPerDoc {
		return scores
	}
	keys := slices.SortedFunc(maps.Keys(scores), func(a, b string) int {
		if c := cmp.Compare(scores[b], scores[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	kept := make(map[string]float64, MaxTermsPerDoc)
	for _, k := range keys[:MaxTermsPerDoc] {
		kept[k] = scores[k]
	}
	return kept
}
