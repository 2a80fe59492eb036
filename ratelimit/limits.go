package ratelimit

// Limits on outside input.
const (
	// UsageSize is the length of an encoded Usage: three 8-byte
	// big-endian counters, so a stored row is read in one fixed shape.
	UsageSize = 24

	// MaxKeyChars bounds the public key Account reads: base58 of 32
	// bytes is at most 44 characters, and a longer string would cost
	// quadratic base58 decoding for nothing.
	MaxKeyChars = 44

	// rowPrefix starts every usage row key, leaving the application row
	// namespace free for other row kinds.
	rowPrefix = 'u'
)
