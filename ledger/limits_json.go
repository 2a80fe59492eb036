package ledger

// Limits of the strict JSON decoder (see DecodeJSON).
const (
	// MaxNumberBytes bounds the text of one JSON number. Any float64 needs at
	// most 24 bytes in its shortest form and 2^256 has 78 digits; 100 bytes
	// admits both with room, while stopping megabyte-long digit strings whose
	// big-integer parsing cost is quadratic in Python nodes and wasteful here.
	MaxNumberBytes = 100
)
