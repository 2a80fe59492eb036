package textsearch

import (
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// isDelimiter reports whether r separates words, as MongoDB's text index version 3 tokenizer
// decides (src/mongo/db/fts/unicode/gen_delimiter_list.py): r has one of the Unicode
// properties White_Space, Dash, Hyphen, Quotation_Mark, Terminal_Punctuation,
// Pattern_Syntax or Sentence_Terminal. In English the ASCII apostrophe is not a delimiter,
// so "don't" and "magazine's" stay one word; in other languages it is.
func isDelimiter(r rune, english bool) bool {
	if r == '\'' {
		return !english
	}
	if r < utf8.RuneSelf {
		return isASCIIDelimiter(r)
	}
	return unicode.In(r, unicode.White_Space, unicode.Dash, unicode.Hyphen,
		unicode.Quotation_Mark, unicode.Terminal_Punctuation, unicode.Pattern_Syntax,
		unicode.Sentence_Terminal)
}

// isASCIIDelimiter is isDelimiter for ASCII other than the apostrophe: white space and every
// punctuation character but the underscore.
func isASCIIDelimiter(r rune) bool {
	switch {
	case r == ' ', '\t' <= r && r <= '\r':
		return true
	case '!' <= r && r <= '/', ':' <= r && r <= '@', '[' <= r && r <= '^', r == '`',
		'{' <= r && r <= '~':
		return true
	}
	return false
}

// foldRune returns the simple case folding of r (its lower case for nearly every letter), as
// MongoDB's codepointToLower does outside Turkish.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	if r == 'ı' { // dotless i has no simple case folding; ToUpper would turn it into I.
		return r
	}
	// Upper then lower maps the letters whose folding is not their lower case (ſ, ς, µ, ϐ)
	// to the folded letter (s, σ, μ, β).
	return unicode.ToLower(unicode.ToUpper(r))
}

// stripRune returns r without its diacritics (é → e), and false when r is itself a diacritic
// to drop (a combining accent, ^ or `), as MongoDB's codepointRemoveDiacritics does.
func stripRune(r rune) (rune, bool) {
	if r < utf8.RuneSelf {
		return r, r != '^' && r != '`'
	}
	if unicode.Is(unicode.Diacritic, r) {
		return 0, false
	}
	return baseRune(r), true
}

//go:generate sh -c "cd testdata/gendiacritics && go run . > ../../diacritics_table.go"

// diacriticRecord is the width of one record of diacriticTable: two 6-digit hex code points.
const diacriticRecord = 12

// baseRune returns the code point r stands for once its diacritics are removed, or r.
func baseRune(r rune) rune {
	n := len(diacriticTable) / diacriticRecord
	i, found := sort.Find(n, func(i int) int { return int(r - tableRune(i, 0)) })
	if !found {
		return r
	}
	return tableRune(i, 1)
}

// tableRune returns code point col (0: the original, 1: its base) of record i of
// diacriticTable.
func tableRune(i, col int) rune {
	at := i*diacriticRecord + col*diacriticRecord/2
	v, err := strconv.ParseUint(diacriticTable[at:at+diacriticRecord/2], 16, 32)
	if err != nil {
		panic("textsearch: diacriticTable holds a record that is not hex")
	}
	return rune(v)
}

// lowerWord returns w case-folded rune by rune, diacritics kept: the form MongoDB checks
// against the stop words and stems.
func lowerWord(w string) string {
	if isPlainASCII(w) {
		return w
	}
	var b strings.Builder
	b.Grow(len(w))
	for _, r := range w {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// stripWord returns w without its diacritics, the last step of MongoDB's tokenizer.
func stripWord(w string) string {
	if isPlainASCII(w) {
		return w
	}
	var b strings.Builder
	b.Grow(len(w))
	for _, r := range w {
		if base, keep := stripRune(r); keep {
			b.WriteRune(base)
		}
	}
	return b.String()
}

// foldText returns s case-folded and without diacritics, as MongoDB's
// caseFoldAndStripDiacritics prepares both sides of a phrase match.
func foldText(s string) string {
	if isPlainASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if base, keep := stripRune(foldRune(r)); keep {
			b.WriteRune(base)
		}
	}
	return b.String()
}

// isPlainASCII reports whether s is ASCII that folding leaves unchanged: no upper case
// letter and no ^ or ` to strip.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') || c == '^' || c == '`' {
			return false
		}
	}
	return true
}

// asciiEqualFold reports whether a and b are equal ignoring ASCII case, byte by byte, as
// MongoDB's StringData::equalCaseInsensitive compares.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
