// Package textsearch reproduces the MongoDB $text search that BigchainDB serves at
// GET /api/v1/assets?search= and GET /api/v1/metadata?search= (BIGCHAINDB.md §1.3): a
// "$**" (wildcard) text index, text index version 3, queried with $language "english",
// case- and diacritic-insensitive, results sorted by text score.
//
// A document is a generic JSON value (the asset data or metadata). Every string value in it,
// at any depth and inside arrays, is split into words on Unicode white space and punctuation
// (the ASCII apostrophe excepted, so "don't" is one word), lower-cased, filtered against
// MongoDB's English stop words, stemmed with Snowball's English (Porter2) stemmer and
// stripped of diacritics ("Cafés" → "cafe"). Object keys, numbers, booleans and null are not
// indexed, nor are fields named "language": such a field selects the language of its object
// ("none": no stemming, no stop words; any other name is treated as English).
//
// A search string has MongoDB's syntax: words are OR-ed, "quoted phrases" must occur
// (AND-ed with the rest), -word and -"phrase" exclude. See ParseQuery for the details of
// MongoDB 3.6's parser, which this package follows.
//
// Indexing and searching go like this (the storage layer owns the postings):
//
//	// On commit of a document with id:
//	for term, weight := range textsearch.Terms(doc) {
//		putPosting(term, id, weight)
//	}
//
//	// On a search:
//	q, err := textsearch.ParseQuery(search)
//	if errors.Is(err, textsearch.ErrEmptyQuery) {
//		return nil // MongoDB finds nothing; BigchainDB rejects only search == ""
//	}
//	candidates := union of postings(t) for t in q.IndexTerms()
//	for each candidate id: score, ok := q.Score(load(id)); keep it when ok
//	sort kept by score descending; apply limit
//
// BigchainDB's index covers whole collection documents, {"data": …, "id": <tx id>} for
// assets and {"id": <tx id>, "metadata": …} for metadata, so a search for a transaction id
// finds its asset; to reproduce that, index Terms(map[string]any{"data": data, "id": id}).
//
// The score is MongoDB's textScore (fts_spec.cpp _scoreStringV2): per string value, each
// term scores freq × (0.5 × count/words + 0.5), ×1.1 when the whole string is that term;
// a document's term weight is the sum over its strings, and its score for a query the sum
// of the weights of the query's terms. Terms' weights are the same numbers, so a storage
// layer may also sum posting weights for queries without negations or phrases.
//
// Known differences from MongoDB 3.6: Unicode tables are Go's (Unicode 15, MongoDB 3.6 used
// 8.0); the Turkish case rules and non-English stemmers are not implemented; a word made only
// of diacritics yields no term (MongoDB indexes the empty term); an index keeps at most
// MaxTermsPerDoc terms per document; queries are bounded by MaxQueryBytes and MaxQueryTerms.
package textsearch
