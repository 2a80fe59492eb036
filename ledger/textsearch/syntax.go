package textsearch

import "iter"

// querySyntax is a search string split by MongoDB's FTSQueryParser rules, before
// tokenizing: the words of positive and negated terms, and the phrases.
type querySyntax struct {
	positive       []string
	negative       []string
	phrases        []string
	negatedPhrases []string
}

// queryToken is a token of a search string: a run of text or one '-' or '"' delimiter.
type queryToken struct {
	text       string
	offset     int  // byte offset in the search string
	delimiter  bool // text is "-" or `"`
	afterSpace bool // white space (or the start of the string) precedes it
}

// parseSyntax splits s as MongoDB 3.6's FTSQueryImpl::parse does
// (src/mongo/db/fts/fts_query_impl.cpp).
func parseSyntax(s string) querySyntax {
	var p querySyntax
	inNegation, inPhrase := false, false
	quote := 0
	for t := range queryTokens(s) {
		switch {
		case !t.delimiter:
			switch {
			case inPhrase && inNegation: // words of a negated phrase are not terms
			case inNegation:
				p.negative = append(p.negative, t.text)
			default:
				p.positive = append(p.positive, t.text)
			}
			if inNegation && !inPhrase {
				inNegation = false
			}
		case t.text == "-":
			if !inPhrase && t.afterSpace {
				inNegation = true
			}
		case inPhrase: // closing quote
			phrase := s[quote+1 : t.offset]
			if inNegation {
				p.negatedPhrases = append(p.negatedPhrases, phrase)
			} else {
				p.phrases = append(p.phrases, phrase)
			}
			inNegation, inPhrase = false, false
		default: // opening quote
			inPhrase, quote = true, t.offset
		}
	}
	return p
}

// queryTokens yields the tokens of s as MongoDB's FTSQueryParser does: white space is only
// ' ', '\n', '\v', '\f' and '\r'; '-' and '"' are one-byte delimiter tokens; anything else
// runs into text tokens.
func queryTokens(s string) iter.Seq[queryToken] {
	return func(yield func(queryToken) bool) {
		pos := skipQuerySpace(s, 0)
		afterSpace := true
		for pos < len(s) {
			start := pos
			pos++
			delim := isQueryDelimiter(s[start])
			for !delim && pos < len(s) && !isQuerySpace(s[pos]) && !isQueryDelimiter(s[pos]) {
				pos++
			}
			t := queryToken{text: s[start:pos], offset: start, delimiter: delim, afterSpace: afterSpace}
			next := skipQuerySpace(s, pos)
			afterSpace, pos = next > pos, next
			if !yield(t) {
				return
			}
		}
	}
}

// skipQuerySpace returns the offset of the first byte of s at or after pos that is not
// query white space.
func skipQuerySpace(s string, pos int) int {
	for pos < len(s) && isQuerySpace(s[pos]) {
		pos++
	}
	return pos
}

func isQuerySpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isQueryDelimiter(c byte) bool {
	return c == '-' || c == '"'
}
