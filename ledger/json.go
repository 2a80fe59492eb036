package ledger

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// JSONError reports bytes that are not acceptable JSON for ledger input.
type JSONError struct {
	Offset int    // byte offset where the problem was found
	Path   string // path of the value at fault, like "asset.data.tags[3]"; "" for the top level
	Reason string // e.g. `duplicate key "amount"`, `keys "Amount" and "amount" differ only by case`
	Syntax bool   // true when the bytes are not JSON at all; false when JSON our strict rules refuse
}

// Error returns "json: <path>: <reason> (offset N)", without "<path>: " at the top level.
func (e *JSONError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("json: %s (offset %d)", e.Reason, e.Offset)
	}
	return fmt.Sprintf("json: %s: %s (offset %d)", e.Path, e.Reason, e.Offset)
}

// DecodeJSON parses b strictly into a generic value: nil, bool, string,
// json.Number, []any or map[string]any. It accepts only RFC 8259 JSON in
// valid UTF-8 and further refuses: inputs over MaxTxBytes, nesting deeper than
// MaxJSONDepth, numbers longer than MaxNumberBytes or outside float64 range,
// escapes of lone UTF-16 surrogates, and duplicate keys, including keys of one
// object that differ only by case (strings.EqualFold).
//
// A json.Number holds the canonical form of the number, the one python-rapidjson
// (and so BigchainDB) writes after parsing it: integers (no fraction or
// exponent) keep their digits, "-0" becoming "0"; other numbers are parsed as
// float64 and written as Python's repr() writes them ("1E2" -> "100.0",
// "1e16" -> "1e+16", "0.00001" -> "1e-05"); see appendPyFloat.
//
// Every error is a *JSONError. The result shares no memory with b, but its
// strings may be substrings of one copy of b: strings.Clone a small one that is
// kept long after the rest. DecodeJSON is safe for concurrent use.
func DecodeJSON(b []byte) (any, error) {
	v, _, err := decodeJSON(b)
	return v, err
}

// canonicalInput is input that decodeJSON found canonical: b is exactly
// what AppendCanonical writes for its value. idStart and idEnd bound the
// value of the top-level object's "id" member in b (both 0 without one).
type canonicalInput struct {
	b              []byte
	idStart, idEnd int
}

// decodeJSON is DecodeJSON, and also returns b as a canonicalInput when b
// is canonical (nil otherwise). Transactions gossiped between nodes, and
// those of clients that send the canonical form, are; DecodeTx then hashes
// b itself instead of serializing the value again.
func decodeJSON(b []byte) (any, *canonicalInput, error) {
	if len(b) > MaxTxBytes {
		return nil, nil, &JSONError{Offset: MaxTxBytes,
			Reason: fmt.Sprintf("input of %d bytes exceeds the limit of %d bytes", len(b), MaxTxBytes)}
	}
	var stack decoderStack
	d := decoder{b: b, s: string(b), path: stack.path[:0], members: stack.members[:0], values: stack.values[:0]}
	v, err := d.value()
	if err != nil {
		return nil, nil, err
	}
	d.skipSpace()
	if d.pos < len(b) {
		return nil, nil, d.syntaxErr(d.pos, "invalid character %s after top-level value", quoteByte(b[d.pos]))
	}
	if d.noncanon {
		return v, nil, nil
	}
	return v, &canonicalInput{b: b, idStart: d.idStart, idEnd: d.idEnd}, nil
}

// decoder is the state of one DecodeJSON call.
type decoder struct {
	b       []byte
	s       string // b as one string: strings without escapes are substrings of it
	pos     int
	depth   int
	path    []pathSeg // segments of the value being parsed, for error paths
	members []member  // pending members of the objects being parsed
	values  []any     // pending elements of the arrays being parsed
	buf     []byte    // scratch for unescaped strings and float repr
	// noncanon is set at the first byte that AppendCanonical would not
	// write: whitespace, keys out of order, an escape it would write
	// otherwise, a number it would write otherwise.
	noncanon       bool
	idStart, idEnd int // the top-level object's "id" value, for canonicalInput
}

// decoderStack is the first backing array of a decoder's stacks, large enough
// for a typical transaction, so that decoding it grows no slice.
type decoderStack struct {
	path    [16]pathSeg
	members [32]member
	values  [32]any
}

// pathSeg is one step of an error path: an object key or an array index.
type pathSeg struct {
	key   string
	index int // -1 for a key
}

// member is one parsed key and value of an object.
type member struct {
	key string
	val any
}

// value parses the value starting at the next non-space byte.
func (d *decoder) value() (any, error) {
	d.skipSpace()
	if d.pos >= len(d.b) {
		return nil, d.eof()
	}
	switch c := d.b[d.pos]; c {
	case '{':
		return d.object()
	case '[':
		return d.array()
	case '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return s, nil
	case 't':
		return d.literal("true", true)
	case 'f':
		return d.literal("false", false)
	case 'n':
		return d.literal("null", nil)
	default:
		if c == '-' || isDigit(c) {
			return d.number()
		}
		return nil, d.syntaxErr(d.pos, "invalid character %s looking for beginning of value", quoteByte(c))
	}
}

// skipSpace moves past the four JSON whitespace bytes.
func (d *decoder) skipSpace() {
	for d.pos < len(d.b) {
		switch d.b[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
			d.noncanon = true
		default:
			return
		}
	}
}

// literal parses true, false or null.
func (d *decoder) literal(word string, v any) (any, error) {
	for i := range len(word) {
		if d.pos >= len(d.b) {
			return nil, d.eof()
		}
		if d.b[d.pos] != word[i] {
			return nil, d.syntaxErr(d.pos, "invalid character %s in literal %s", quoteByte(d.b[d.pos]), word)
		}
		d.pos++
	}
	return v, nil
}

// open moves past the '[' or '{' at d.pos, enforcing MaxJSONDepth, and
// reports whether the container has a first element (is not empty).
func (d *decoder) open(closing byte) (bool, error) {
	if d.depth >= MaxJSONDepth {
		return false, d.strictErr(d.pos, "nesting exceeds the limit of %d levels", MaxJSONDepth)
	}
	d.depth++
	d.pos++
	d.skipSpace()
	if d.pos < len(d.b) && d.b[d.pos] == closing {
		d.pos++
		d.depth--
		return false, nil
	}
	return true, nil
}

// next consumes the ',' or the closing byte after a member or element and
// reports whether another one follows.
func (d *decoder) next(closing byte, what string) (bool, error) {
	d.skipSpace()
	if d.pos >= len(d.b) {
		return false, d.eof()
	}
	switch d.b[d.pos] {
	case closing:
		d.pos++
		d.depth--
		return false, nil
	case ',':
		d.pos++
		d.skipSpace()
		if d.pos < len(d.b) && d.b[d.pos] == closing {
			return false, d.syntaxErr(d.pos, "trailing comma after %s", what)
		}
		return true, nil
	}
	return false, d.syntaxErr(d.pos, "invalid character %s after %s", quoteByte(d.b[d.pos]), what)
}

// object parses an object; d.pos is at '{'.
func (d *decoder) object() (any, error) {
	base := len(d.members)
	var keys keyIndex
	more, err := d.open('}')
	for ; more; more, err = d.next('}', "object member") {
		if err = d.member(base, &keys); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	m := make(map[string]any, len(d.members)-base)
	for _, mb := range d.members[base:] {
		m[mb.key] = mb.val
	}
	clear(d.members[base:])
	d.members = d.members[:base]
	return m, nil
}

// member parses one `"key": value` of the object whose members start at base.
func (d *decoder) member(base int, keys *keyIndex) error {
	if d.pos >= len(d.b) {
		return d.eof()
	}
	if d.b[d.pos] != '"' {
		return d.syntaxErr(d.pos, "invalid character %s looking for object key", quoteByte(d.b[d.pos]))
	}
	keyOff := d.pos
	key, err := d.str()
	if err != nil {
		return err
	}
	if prev, ok := keys.clash(d.members[base:], key); ok {
		if prev == key {
			return d.strictErr(keyOff, "duplicate key %q", key)
		}
		return d.strictErr(keyOff, "keys %q and %q differ only by case", prev, key)
	}
	if n := len(d.members); n > base && key < d.members[n-1].key {
		d.noncanon = true // AppendCanonical sorts keys bytewise
	}
	d.skipSpace()
	if d.pos >= len(d.b) {
		return d.eof()
	}
	if d.b[d.pos] != ':' {
		return d.syntaxErr(d.pos, "invalid character %s after object key", quoteByte(d.b[d.pos]))
	}
	d.pos++
	d.skipSpace()
	valStart := d.pos
	d.path = append(d.path, pathSeg{key: key, index: -1})
	v, err := d.value()
	if err != nil {
		return err
	}
	if d.depth == 1 && key == "id" {
		d.idStart, d.idEnd = valStart, d.pos
	}
	d.path = d.path[:len(d.path)-1]
	d.members = append(d.members, member{key: key, val: v})
	return nil
}

// array parses an array; d.pos is at '['.
func (d *decoder) array() (any, error) {
	base := len(d.values)
	more, err := d.open(']')
	for i := 0; more; more, err = d.next(']', "array element") {
		d.path = append(d.path, pathSeg{index: i})
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.path = d.path[:len(d.path)-1]
		d.values = append(d.values, v)
		i++
	}
	if err != nil {
		return nil, err
	}
	a := make([]any, len(d.values)-base)
	copy(a, d.values[base:])
	clear(d.values[base:])
	d.values = d.values[:base]
	return a, nil
}

// linearKeyScan is the member count up to which an object's keys are checked
// for case-folded duplicates by a linear scan; larger objects use a map.
const linearKeyScan = 16

// keyIndex finds keys of one object that are equal under strings.EqualFold
// (which includes exact duplicates).
type keyIndex struct {
	folds map[string]string // foldKey -> first key, once the object is large
}

// clash returns an earlier key of prev that equals key under EqualFold.
func (k *keyIndex) clash(prev []member, key string) (string, bool) {
	if k.folds == nil && len(prev) < linearKeyScan {
		for i := range prev {
			if strings.EqualFold(prev[i].key, key) {
				return prev[i].key, true
			}
		}
		return "", false
	}
	if k.folds == nil {
		k.folds = make(map[string]string, 2*len(prev))
		for _, m := range prev {
			k.folds[foldKey(m.key)] = m.key
		}
	}
	f := foldKey(key)
	if old, ok := k.folds[f]; ok {
		return old, true
	}
	k.folds[f] = key
	return "", false
}

// foldKey maps s to a string shared by exactly the strings EqualFold to it:
// each rune becomes the smallest rune of its unicode.SimpleFold orbit.
func foldKey(s string) string {
	folded := make([]rune, 0, len(s))
	for _, r := range s {
		low := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			low = min(low, f)
		}
		folded = append(folded, low)
	}
	return string(folded)
}

// pathString renders the current path as "a.b[2].c".
func (d *decoder) pathString() string {
	var b strings.Builder
	for i, s := range d.path {
		if s.index >= 0 {
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// syntaxErr reports bytes that are not JSON at offset off.
func (d *decoder) syntaxErr(off int, format string, args ...any) error {
	return &JSONError{Offset: off, Path: d.pathString(), Reason: fmt.Sprintf(format, args...), Syntax: true}
}

// strictErr reports JSON that the ledger's strict rules refuse.
func (d *decoder) strictErr(off int, format string, args ...any) error {
	return &JSONError{Offset: off, Path: d.pathString(), Reason: fmt.Sprintf(format, args...)}
}

// eof reports input that ends inside a value.
func (d *decoder) eof() error {
	return d.syntaxErr(len(d.b), "unexpected end of input")
}

// str parses a string; d.pos is at its opening quote. A string of printable
// ASCII without escapes (the common case) is a substring of d.s; others go
// through strSlow.
func (d *decoder) str() (string, error) {
	b, start := d.b, d.pos+1
	for i := start; i < len(b); i++ {
		c := b[i]
		if c == '"' {
			d.pos = i + 1
			return d.s[start:i], nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			d.pos = i
			return d.strSlow(start)
		}
	}
	return "", d.eof()
}

// strSlow finishes the string that starts at offset start; d.pos is at its
// first escape, control byte or non-ASCII byte. A string with escapes is
// built in d.buf.
func (d *decoder) strSlow(start int) (string, error) {
	escaped := false
	for d.pos < len(d.b) {
		c := d.b[d.pos]
		switch {
		case c == '"':
			d.pos++
			if escaped {
				d.checkCanonicalString(start-1, d.buf)
				return string(d.buf), nil
			}
			return d.s[start : d.pos-1], nil
		case c == '\\':
			if !escaped {
				d.buf, escaped = append(d.buf[:0], d.b[start:d.pos]...), true
			}
			if err := d.escape(); err != nil {
				return "", err
			}
		case c < 0x20:
			return "", d.syntaxErr(d.pos, "control character %s in string", quoteByte(c))
		default:
			n, err := d.runeLen(c)
			if err != nil {
				return "", err
			}
			if escaped {
				d.buf = append(d.buf, d.b[d.pos:d.pos+n]...)
			}
			d.pos += n
		}
	}
	return "", d.eof()
}

// checkCanonicalString sets d.noncanon unless the string that starts with
// its quote at offset quote, and ends just before d.pos, is written as
// AppendCanonical writes s, the value it decoded to. Only strings with
// escapes need this: other strings are written raw.
func (d *decoder) checkCanonicalString(quote int, s []byte) {
	if d.noncanon {
		return
	}
	var tmp [64]byte
	if string(appendCanonicalString(tmp[:0], string(s))) != d.s[quote:d.pos] {
		d.noncanon = true
	}
}

// runeLen returns the length of the valid UTF-8 sequence at d.pos, whose
// first byte is c.
func (d *decoder) runeLen(c byte) (int, error) {
	if c < utf8.RuneSelf {
		return 1, nil
	}
	r, n := utf8.DecodeRune(d.b[d.pos:])
	if r == utf8.RuneError && n <= 1 {
		return 0, d.syntaxErr(d.pos, "invalid UTF-8 byte 0x%02X in string", c)
	}
	return n, nil
}

// JSON's one-letter escapes (other than \u) and the bytes they stand for.
const (
	escapeLetters = "\"\\/bfnrt"
	escapeBytes   = "\"\\/\b\f\n\r\t"
)

// escape decodes the escape sequence at d.pos into d.buf.
func (d *decoder) escape() error {
	if d.pos+1 >= len(d.b) {
		return d.eof()
	}
	c := d.b[d.pos+1]
	if c == 'u' {
		return d.escapeU()
	}
	k := strings.IndexByte(escapeLetters, c)
	if k < 0 {
		return d.syntaxErr(d.pos+1, "invalid escape character %s in string", quoteByte(c))
	}
	d.buf = append(d.buf, escapeBytes[k])
	d.pos += 2
	return nil
}

// escapeU decodes a \\uXXXX escape, or a surrogate pair of two, at d.pos.
func (d *decoder) escapeU() error {
	start := d.pos
	r, err := d.hex4(start + 2)
	if err != nil {
		return err
	}
	d.pos = start + 6
	if utf16.IsSurrogate(r) && strings.HasPrefix(d.s[d.pos:], `\u`) {
		lo, err := d.hex4(d.pos + 2)
		if err != nil {
			return err
		}
		if pair := utf16.DecodeRune(r, lo); pair != utf8.RuneError {
			r = pair
			d.pos += 6
		}
	}
	if utf16.IsSurrogate(r) {
		return d.strictErr(start, "lone surrogate escape %s in string", d.b[start:start+6])
	}
	d.buf = utf8.AppendRune(d.buf, r)
	return nil
}

// hex4 parses the four hex digits of a \u escape starting at offset i.
func (d *decoder) hex4(i int) (rune, error) {
	var r rune
	for j := i; j < i+4; j++ {
		if j >= len(d.b) {
			return 0, d.eof()
		}
		v := unhex(d.b[j])
		if v < 0 {
			return 0, d.syntaxErr(j, "invalid character %s in \\u escape", quoteByte(d.b[j]))
		}
		r = r<<4 | v
	}
	return r, nil
}

// unhex returns the value of a hex digit, or -1. (c|0x20 lowers A-F and
// maps no byte from '0' up to another hex digit.)
func unhex(c byte) rune {
	if c < '0' {
		return -1
	}
	return rune(strings.IndexByte("0123456789abcdef", c|0x20))
}
