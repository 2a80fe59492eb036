package textsearch

import (
	"iter"
	"strings"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

// language is how the strings of a (sub)document or a query are tokenized.
type language uint8

const (
	// langEnglish stems with Snowball's English stemmer and drops MongoDB's English stop
	// words.
	langEnglish language = iota
	// langNone neither stems nor drops stop words (MongoDB's "none").
	langNone
)

// languageField is the field that selects the language of the object holding it, MongoDB's
// default language_override. A "$**" text index does not index it.
const languageField = "language"

// languageOf returns the language a "language" field value v selects, or parent when v is
// not a string (an object without the field keeps its parent's language). "none" (in any
// case) selects langNone; every other name selects langEnglish: BigchainDB admits only
// MongoDB's language names, and this package stems English only.
func languageOf(v any, parent language) language {
	s, ok := v.(string)
	if !ok {
		return parent
	}
	if strings.EqualFold(s, "none") {
		return langNone
	}
	return langEnglish
}

// words yields the words of s: the maximal runs of runes that are not delimiters in lang.
func words(s string, lang language) iter.Seq[string] {
	english := lang == langEnglish
	return func(yield func(string) bool) {
		start := -1
		for i, r := range s {
			if !isDelimiter(r, english) {
				if start < 0 {
					start = i
				}
				continue
			}
			if start >= 0 && !yield(s[start:i]) {
				return
			}
			start = -1
		}
		if start >= 0 {
			yield(s[start:])
		}
	}
}

// terms yields the term of every word of s in lang, in order, as MongoDB's
// UnicodeFTSTokenizer does: lower-case the word, drop it if it is a stop word (when
// dropStop), stem it, then strip its diacritics. A word made only of diacritics yields "".
func terms(s string, lang language, dropStop bool, ix *Indexer) iter.Seq[string] {
	return func(yield func(string) bool) {
		for w := range words(s, lang) {
			t, ok := termOf(w, lang, dropStop, ix)
			if ok && !yield(t) {
				return
			}
		}
	}
}

// termOf returns the term of word w in lang, and false when w is a stop word to drop.
func termOf(w string, lang language, dropStop bool, ix *Indexer) (string, bool) {
	lower := lowerWord(w)
	if lang == langNone {
		return stripWord(lower), true
	}
	if dropStop && isEnglishStopWord(lower) {
		return "", false
	}
	return stripWord(ix.stem(lower)), true
}

// stem returns the Snowball (Porter2) English stem of the lower-case word w. Words of fewer
// than three letters are their own stem, as in Snowball.
func stem(w string) string {
	if utf8.RuneCountInString(w) < 3 {
		return w
	}
	return english.Stem(w, true)
}
