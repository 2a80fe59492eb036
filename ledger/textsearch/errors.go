package textsearch

import "errors"

// Sentinel errors returned (wrapped) by ParseQuery. Match them with errors.Is.
var (
	// ErrEmptyQuery means the search string has no positive term once parsed: it is empty,
	// blank, made only of stop words ("the"), or only of negations and phrases of stop words.
	// MongoDB answers such a $text query with no documents; BigchainDB answers 400 only for
	// an empty search string, so a caller emulating it returns an empty list for a non-empty
	// string that yields ErrEmptyQuery.
	ErrEmptyQuery = errors.New("textsearch: query has no search term")

	// ErrQueryTooLong means the search string is over MaxQueryBytes.
	ErrQueryTooLong = errors.New("textsearch: query too long")

	// ErrTooManyTerms means the query has more than MaxQueryTerms terms and phrases.
	ErrTooManyTerms = errors.New("textsearch: query has too many terms")
)
