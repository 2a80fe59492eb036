package textsearch

import (
	"slices"
	"strconv"
	"testing"
	"unicode"
)

// TestASCIIDelimiterMatchesUnicodeProperties checks the ASCII fast path against the Unicode
// property tables that define MongoDB's delimiters.
func TestASCIIDelimiterMatchesUnicodeProperties(t *testing.T) {
	for r := rune(0); r < 0x80; r++ {
		if r == '\'' {
			continue
		}
		want := unicode.In(r, unicode.White_Space, unicode.Dash, unicode.Hyphen,
			unicode.Quotation_Mark, unicode.Terminal_Punctuation, unicode.Pattern_Syntax,
			unicode.Sentence_Terminal)
		if got := isASCIIDelimiter(r); got != want {
			t.Fatalf("isASCIIDelimiter(%q)=%v, want %v", r, got, want)
		}
	}
}

func TestIsDelimiter(t *testing.T) {
	tests := []struct {
		r       rune
		english bool
		want    bool
	}{
		{' ', true, true},
		{'\t', true, true},
		{'-', true, true},
		{'.', true, true},
		{'_', true, false},
		{'a', true, false},
		{'7', true, false},
		{'\'', true, false},
		{'\'', false, true},
		{'\u2019', true, true}, // right single quotation mark
		{'\u00a0', true, true}, // no-break space
		{'\u2014', true, true}, // em dash
		{'\u3002', true, true}, // ideographic full stop
		{'é', true, false},
		{'\u00b4', true, false}, // acute accent: a diacritic, not a delimiter
	}
	for _, tt := range tests {
		if got := isDelimiter(tt.r, tt.english); got != tt.want {
			t.Fatalf("isDelimiter(%q, %v)=%v, want %v", tt.r, tt.english, got, tt.want)
		}
	}
}

func TestFoldText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain ascii", "plain ascii"},
		{"MiXeD Case", "mixed case"},
		{"café", "cafe"},
		{"CAFÉ", "cafe"},
		{"cafe\u0301", "cafe"}, // decomposed: the combining acute is dropped
		{"Naïve Résumé", "naive resume"},
		{"Ångström", "angstrom"},
		{"Ñandú", "nandu"},
		{"a^b`c", "abc"},
		{"straße", "straße"},
		{"ſ", "s"},
		{"ΣΊΣΥΦΟΣ", "σισυφοσ"},
		{"ς", "σ"},
		{"ı", "ı"},
		{"ø", "ø"}, // no canonical decomposition: MongoDB keeps it
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := foldText(tt.in); got != tt.want {
				t.Fatalf("foldText(%q)=%q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestDiacriticTable checks the generated table's invariants: whole records of hex, strictly
// ascending code points, and bases that are not themselves diacritics or mapped again.
func TestDiacriticTable(t *testing.T) {
	if len(diacriticTable)%diacriticRecord != 0 {
		t.Fatalf("len(diacriticTable)=%d, want a multiple of %d", len(diacriticTable), diacriticRecord)
	}
	n := len(diacriticTable) / diacriticRecord
	for i := range n {
		rec := diacriticTable[i*diacriticRecord : (i+1)*diacriticRecord]
		if _, err := strconv.ParseUint(rec, 16, 64); err != nil {
			t.Fatalf("record %d %q: %v", i, rec, err)
		}
		r, base := tableRune(i, 0), tableRune(i, 1)
		if i > 0 && tableRune(i-1, 0) >= r {
			t.Fatalf("record %d (%#x) not above record %d (%#x)", i, r, i-1, tableRune(i-1, 0))
		}
		if base == r || unicode.Is(unicode.Diacritic, base) || baseRune(base) != base {
			t.Fatalf("record %d maps %#x to %#x, which is not a final base", i, r, base)
		}
	}
	for _, tt := range []struct{ r, want rune }{{'é', 'e'}, {'Å', 'A'}, {'ǘ', 'u'}, {'x', 'x'}, {'ø', 'ø'}} {
		if got := baseRune(tt.r); got != tt.want {
			t.Fatalf("baseRune(%q)=%q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestStopWords(t *testing.T) {
	for _, w := range []string{"the", "a", "and", "don't", "you're", "itself", "if", "than"} {
		if !isEnglishStopWord(w) {
			t.Fatalf("isEnglishStopWord(%q)=false, want true", w)
		}
	}
	for _, w := range []string{"The", "don’t", "coffee", "", "thee", "will", "just"} {
		if isEnglishStopWord(w) {
			t.Fatalf("isEnglishStopWord(%q)=true, want false", w)
		}
	}
}

func TestTerms_Tokenizer(t *testing.T) {
	tests := []struct {
		in   string
		lang language
		want []string
	}{
		{"Running runners ran", langEnglish, []string{"run", "runner", "ran"}},
		{"the cat and THE hat", langEnglish, []string{"cat", "hat"}},
		{"magazine's", langEnglish, []string{"magazin"}},
		{"don't stop", langEnglish, []string{"stop"}},
		{"don’t stop", langEnglish, []string{"don", "t", "stop"}}, // U+2019 is a delimiter
		{"foo_bar foo-bar foo.bar", langEnglish, []string{"foo_bar", "foo", "bar", "foo", "bar"}},
		{"Cafés", langEnglish, []string{"cafe"}},
		{"résumé", langEnglish, []string{"resume"}}, // stemmed before diacritics go: not "resum"
		{"the running o'clock", langNone, []string{"the", "running", "o", "clock"}},
		{"x 12 ab", langEnglish, []string{"x", "12", "ab"}},
		{"  \t\n ", langEnglish, nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := slices.Collect(terms(tt.in, tt.lang, true, nil))
			if !slices.Equal(got, tt.want) {
				t.Fatalf("terms(%q)=%q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
