package textsearch

import "crypto/md5"

// Limits on outside input. BigchainDB (through MongoDB) sets none on a search string; these
// bound the work one HTTP request or one stored document can cause.
const (
	// MaxQueryBytes bounds a search string. Drivers send a few words; 4 KiB is far above any
	// real search and bounds the parsing and stemming done for one request.
	MaxQueryBytes = 4 << 10

	// MaxQueryTerms bounds the distinct terms, negated terms, phrases and negated phrases of
	// one query together: each positive term is a postings list to read and each phrase a
	// substring scan of every candidate document.
	MaxQueryTerms = 64

	// MaxTermsPerDoc bounds the index terms of one document, so one asset or metadata object
	// writes a bounded number of postings. A 64 KiB transaction of natural text has a few
	// thousand distinct words; only crafted documents ("aa ab ac ...") go over, and they keep
	// their highest-weighted terms.
	MaxTermsPerDoc = 8192

	// MaxTermBytes is the longest index term, as in MongoDB's text index version 3: a longer
	// term is stored as its first termPrefixBytes bytes followed by the hex MD5 of the whole
	// term, so index keys stay short and distinct.
	MaxTermBytes = 256
)

// termPrefixBytes is the part of a long term kept verbatim in its index term (224 in MongoDB).
const termPrefixBytes = MaxTermBytes - 2*md5.Size
