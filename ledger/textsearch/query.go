package textsearch

import (
	"fmt"
	"slices"
	"strings"
)

// Query is a parsed $text search string. Terms and Negated are stemmed, lower-cased terms
// without diacritics, sorted and without duplicates (stop words removed); Phrases and
// NegatedPhrases are the raw text between quotes, in query order. Its methods do not modify
// it and are safe for concurrent use.
type Query struct {
	// Terms are the positive terms; a document matches when it has at least one. The words
	// of positive phrases are terms too, as in MongoDB.
	Terms []string
	// Negated are the terms of words prefixed by "-": a document holding one is excluded.
	Negated []string
	// Phrases must each occur, ignoring case and diacritics, inside some string value.
	Phrases []string
	// NegatedPhrases ("-" before the opening quote) must occur in no string value.
	NegatedPhrases []string
}

// ParseQuery parses a search string with MongoDB's $text syntax as MongoDB 3.6 (BigchainDB
// 2.x's database) does: words are OR-ed; "a phrase" in double quotes must occur and its
// words are also terms; -word and -"a phrase" exclude; words are split on spaces, '-' and
// '"', then tokenized, stop-worded and stemmed in English like the documents. A '-' negates
// only when it follows white space (or starts the query) and only the next word or phrase:
// "-foo-bar" excludes foo and searches bar, "Linn-Kristin" searches linn and kristin. A quote
// left open starts no phrase but its words still count as terms (unless negated). Only ' ',
// '\n', '\v', '\f' and '\r' are white space to the parser, so "tea\t-coffee" searches both
// words. (Later MongoDB releases changed two rules: "- coffee" no longer negates, and
// "-foo-bar" negates both words; this package keeps 3.6's behaviour.)
//
// It returns an error wrapping ErrQueryTooLong when s is over MaxQueryBytes,
// ErrTooManyTerms when the query has over MaxQueryTerms terms and phrases, and ErrEmptyQuery
// when it has no positive term (MongoDB then finds nothing).
func ParseQuery(s string) (Query, error) {
	if len(s) > MaxQueryBytes {
		return Query{}, fmt.Errorf("%w: %d bytes, max %d", ErrQueryTooLong, len(s), MaxQueryBytes)
	}
	p := parseSyntax(s)
	q := Query{
		Terms:          queryTerms(p.positive),
		Negated:        queryTerms(p.negative),
		Phrases:        p.phrases,
		NegatedPhrases: p.negatedPhrases,
	}
	if n := len(q.Terms) + len(q.Negated) + len(q.Phrases) + len(q.NegatedPhrases); n > MaxQueryTerms {
		return Query{}, fmt.Errorf("%w: %d, max %d", ErrTooManyTerms, n, MaxQueryTerms)
	}
	if len(q.Terms) == 0 {
		return Query{}, ErrEmptyQuery
	}
	return q, nil
}

// queryTerms returns the sorted distinct non-empty English terms of the query words ws.
func queryTerms(ws []string) []string {
	var out []string
	for _, w := range ws {
		for t := range terms(w, langEnglish, true, nil) {
			if t != "" {
				out = append(out, t)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// IndexTerms returns the index terms of q.Terms (see Terms): the postings lists to read, a
// candidate document having at least one of them. The slice is new and owned by the caller.
func (q Query) IndexTerms() []string {
	out := make([]string, len(q.Terms))
	for i, t := range q.Terms {
		out[i] = indexTerm(t)
	}
	return out
}

// Score returns the document's text score for q and whether doc matches q at all: it has an
// index term of q (see Terms), every phrase occurs case- and diacritic-insensitively in some
// string value, and no negated term or negated phrase occurs. The score is MongoDB's
// textScore: the sum over q's terms of the document's term weight (see Terms); phrases and
// negations do not change it. Callers sort matches by descending score. Score returns
// (0, false) for a zero Query. Safe for concurrent use.
func (q Query) Score(doc any) (float64, bool) {
	if len(q.Terms) == 0 {
		return 0, false
	}
	values := stringValues(doc)
	indexed := limitTerms(scoreValues(values, nil))
	score, found := 0.0, false
	for _, t := range q.IndexTerms() {
		if w, ok := indexed[t]; ok {
			score, found = score+w, true
		}
	}
	if !found || q.hasNegatedTerm(values) || !q.phrasesMatch(values) {
		return 0, false
	}
	return score, true
}

// hasNegatedTerm reports whether a word of values has a negated term. Like MongoDB's
// matcher it reads the document itself, stop words included, not the limited index terms.
func (q Query) hasNegatedTerm(values []textValue) bool {
	if len(q.Negated) == 0 {
		return false
	}
	for _, v := range values {
		for t := range terms(v.text, v.lang, false, nil) {
			if slices.Contains(q.Negated, t) {
				return true
			}
		}
	}
	return false
}

// phrasesMatch reports whether every phrase and no negated phrase occurs in values.
func (q Query) phrasesMatch(values []textValue) bool {
	if len(q.Phrases) == 0 && len(q.NegatedPhrases) == 0 {
		return true
	}
	folded := make([]string, len(values))
	for i, v := range values {
		folded[i] = foldText(v.text)
	}
	for _, p := range q.Phrases {
		if !containsPhrase(folded, p) {
			return false
		}
	}
	for _, p := range q.NegatedPhrases {
		if containsPhrase(folded, p) {
			return false
		}
	}
	return true
}

// containsPhrase reports whether phrase p, folded, occurs in one of the folded values.
func containsPhrase(folded []string, p string) bool {
	fp := foldText(p)
	for _, v := range folded {
		if strings.Contains(v, fp) {
			return true
		}
	}
	return false
}
