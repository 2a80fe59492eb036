package ledger

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// BigchainDB hashes rapidjson.dumps(v, ensure_ascii=False, sort_keys=True) of
// the values it parsed (bigchaindb/common/utils.py: serialize, after
// Transaction.validate_id's rapidjson.loads(rapidjson.dumps(tx))). BigchainDB
// 2.2.2's setup.py pins python-rapidjson 0.9.1; it, 1.0 and 1.4 (Debian's
// python3-rapidjson, which wrote the .golden fixtures in testdata/json) all
// behave alike here (rapidjson.cpp and the RapidJSON writer.h they bundle):
//   - integers: Python int, arbitrary precision, written in decimal;
//   - floats: parsed with PyOS_string_to_double and written with Python's
//     repr() ("The RJ dtoa() produces "strange" results for particular
//     values, see #101: use Python's repr() to emit a raw value instead of
//     writer->Double(d)"), since python-rapidjson 0.6.0;
//   - strings: RapidJSON's Writer, which escapes only '"', '\\' and bytes
//     below 0x20, using \b \t \n \f \r or \u00XX with UPPER-case hex
//     (hexDigits "0123456789ABCDEF"), and writes all else raw;
//   - keys: sorted by their UTF-8 bytes (DictItem::operator< uses strncmp),
//     which is Unicode code point order. (strncmp stops at a NUL byte, so
//     python-rapidjson orders keys that differ only after a NUL arbitrarily;
//     we order them bytewise and leave NUL in keys to the key-name rules.)

// AppendCanonical appends the canonical serialization of v to dst (BigchainDB's
// rapidjson.dumps(v, ensure_ascii=False, sort_keys=True), UTF-8) and returns
// the extended buffer.
//
// v is a generic value (nil, bool, string, json.Number, []any, map[string]any,
// nested), as DecodeJSON and NormalizeJSON return. For builders, int, int64 and
// uint64 are written in decimal and float64 as Python's repr() writes it. A
// json.Number is written as is: it must already be canonical (DecodeJSON's
// are). Invalid UTF-8 in a string is written as U+FFFD, as encoding/json does.
//
// Any other type, and a NaN or infinite float64, is a programming error and
// panics with a message naming it; values from outside input never get here
// without DecodeJSON.
func AppendCanonical(dst []byte, v any) []byte {
	var keys [32]string // enough for a typical transaction's nested keys
	e := canonicalEncoder{keys: keys[:0]}
	return e.append(dst, v)
}

// NormalizeJSON turns any Go value encoding/json can marshal into the generic
// value model by marshalling it with encoding/json and decoding the result with
// DecodeJSON, so the result obeys every rule of DecodeJSON (and its size
// limit). Note that encoding/json writes integral float64 values without a
// fraction (1.0 as "1", 1e20 as "100000000000000000000"), so they come back as
// integers, as they would from the JavaScript driver, whereas AppendCanonical
// writes a float64 1.0 as "1.0".
func NormalizeJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("normalize json: %w", err)
	}
	out, err := DecodeJSON(b)
	if err != nil {
		return nil, fmt.Errorf("normalize json: %w", err)
	}
	return out, nil
}

// canonicalEncoder holds the scratch space of one AppendCanonical call.
type canonicalEncoder struct {
	keys []string // stack of the sorted keys of the objects being written
}

// append writes v; see AppendCanonical.
func (e *canonicalEncoder) append(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case bool:
		return strconv.AppendBool(dst, x)
	case string:
		return appendCanonicalString(dst, x)
	case json.Number:
		return append(dst, x...)
	case map[string]any:
		return e.appendObject(dst, x)
	case []any:
		return e.appendArray(dst, x)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case uint64:
		return strconv.AppendUint(dst, x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			panic(fmt.Sprintf("ledger: AppendCanonical: float64 %v has no JSON form", x))
		}
		return appendPyFloat(dst, x)
	default:
		panic(fmt.Sprintf("ledger: AppendCanonical: unsupported type %T", v))
	}
}

// appendObject writes m with its keys in code point order.
func (e *canonicalEncoder) appendObject(dst []byte, m map[string]any) []byte {
	base := len(e.keys)
	for k := range m {
		e.keys = append(e.keys, k)
	}
	keys := e.keys[base:]
	slices.Sort(keys) // bytewise, which is code point order for UTF-8
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendCanonicalString(dst, k)
		dst = append(dst, ':')
		dst = e.append(dst, m[k])
	}
	clear(e.keys[base:])
	e.keys = e.keys[:base]
	return append(dst, '}')
}

// appendArray writes a in order.
func (e *canonicalEncoder) appendArray(dst []byte, a []any) []byte {
	dst = append(dst, '[')
	for i, v := range a {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = e.append(dst, v)
	}
	return append(dst, ']')
}

// appendCanonicalString writes s quoted as RapidJSON's Writer does: '"' and
// '\\' escaped, bytes below 0x20 as \b \t \n \f \r or \u00XX (upper-case hex),
// everything else raw, including '/', '<', '>', '&', DEL, U+2028 and U+2029.
func appendCanonicalString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\uFFFD"...)
				start = i + 1
			}
			i += n
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = appendEscape(dst, c)
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendEscape writes the escape of '"', '\\' or a byte below 0x20.
func appendEscape(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\t':
		return append(dst, '\\', 't')
	case '\n':
		return append(dst, '\\', 'n')
	case '\f':
		return append(dst, '\\', 'f')
	case '\r':
		return append(dst, '\\', 'r')
	}
	const hex = "0123456789ABCDEF"
	return append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
}

// appendPyFloat writes f as Python's repr(f) does: the shortest digits that
// read back as f; fixed notation with at least one digit after the point when
// 1e-4 <= |f| < 1e16 ("100.0", "0.0001", "-0.0"), otherwise scientific
// notation with no ".0" on the mantissa, a signed exponent and at least two
// exponent digits ("1e+16", "1.5e-07", "2.5e+300"). f must be finite.
func appendPyFloat(dst []byte, f float64) []byte {
	var tmp [32]byte
	// 'e' with precision -1 gives the shortest round-trip digits, as Python's
	// repr (David Gay's dtoa mode 0) does: "-d.ddde+XX".
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	if s[0] == '-' {
		dst = append(dst, '-')
		s = s[1:]
	}
	ei := slices.Index(s, 'e')
	exp, _ := strconv.Atoi(string(s[ei+1:])) // AppendFloat's own digits
	digits := s[:ei]
	if len(digits) > 1 {
		digits = append(digits[:1:1], digits[2:]...) // drop the '.'
	}
	if exp < -4 || exp >= 16 {
		return appendPyScientific(dst, digits, exp)
	}
	return appendPyFixed(dst, digits, exp)
}

// appendPyScientific writes digits d0d1d2... times 10^exp as "d0.d1d2e+XX".
func appendPyScientific(dst, digits []byte, exp int) []byte {
	dst = append(dst, digits[0])
	if len(digits) > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'e')
	if exp < 0 {
		dst = append(dst, '-')
		exp = -exp
	} else {
		dst = append(dst, '+')
	}
	if exp < 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(exp), 10)
}

// appendPyFixed writes digits d0d1d2... times 10^exp in fixed notation with
// at least one digit after the point; -4 <= exp < 16.
func appendPyFixed(dst, digits []byte, exp int) []byte {
	if exp < 0 {
		dst = append(dst, '0', '.')
		for range -exp - 1 {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	whole := min(exp+1, len(digits))
	dst = append(dst, digits[:whole]...)
	for range exp + 1 - whole {
		dst = append(dst, '0')
	}
	dst = append(dst, '.')
	if whole == len(digits) {
		return append(dst, '0')
	}
	return append(dst, digits[whole:]...)
}

// Numbers are decoded straight into their canonical text.

// number parses a number into its canonical json.Number; d.pos is at '-' or
// a digit.
func (d *decoder) number() (any, error) {
	start := d.pos
	isFloat, err := d.scanNumber()
	if err != nil {
		return nil, err
	}
	text := d.b[start:d.pos]
	if len(text) > MaxNumberBytes {
		return nil, d.strictErr(start, "number of %d bytes exceeds the limit of %d bytes", len(text), MaxNumberBytes)
	}
	if !isFloat {
		if string(text) == "-0" {
			d.noncanon = true
			return json.Number("0"), nil
		}
		return json.Number(d.s[start:d.pos]), nil
	}
	f, err := strconv.ParseFloat(d.s[start:d.pos], 64)
	if err != nil {
		// The grammar is checked, so only overflow (+-Inf) gets here.
		return nil, d.strictErr(start, "number %s is out of float64 range", text)
	}
	d.buf = appendPyFloat(d.buf[:0], f)
	if string(d.buf) != string(text) {
		d.noncanon = true
	}
	return json.Number(d.buf), nil
}

// scanNumber moves d.pos past a number, checking RFC 8259's grammar, and
// reports whether it has a fraction or an exponent.
func (d *decoder) scanNumber() (isFloat bool, err error) {
	start := d.pos
	if d.b[d.pos] == '-' {
		d.pos++
	}
	switch {
	case d.pos >= len(d.b):
		return false, d.eof()
	case d.b[d.pos] == '0':
		d.pos++
		if d.pos < len(d.b) && isDigit(d.b[d.pos]) {
			return false, d.syntaxErr(start, "leading zero in number")
		}
	case isDigit(d.b[d.pos]):
		d.skipDigits()
	default:
		return false, d.syntaxErr(d.pos, "invalid character %s in number", quoteByte(d.b[d.pos]))
	}
	if d.pos < len(d.b) && d.b[d.pos] == '.' {
		d.pos++
		if !d.skipDigits() {
			return false, d.digitsErr("after decimal point")
		}
		isFloat = true
	}
	if d.pos < len(d.b) && (d.b[d.pos] == 'e' || d.b[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.b) && (d.b[d.pos] == '+' || d.b[d.pos] == '-') {
			d.pos++
		}
		if !d.skipDigits() {
			return false, d.digitsErr("in exponent")
		}
		isFloat = true
	}
	return isFloat, nil
}

// skipDigits moves past ASCII digits and reports whether there was one.
func (d *decoder) skipDigits() bool {
	start := d.pos
	for d.pos < len(d.b) && isDigit(d.b[d.pos]) {
		d.pos++
	}
	return d.pos > start
}

// digitsErr reports a missing digit at d.pos in a number.
func (d *decoder) digitsErr(where string) error {
	if d.pos >= len(d.b) {
		return d.eof()
	}
	return d.syntaxErr(d.pos, "invalid character %s in number, want digit %s", quoteByte(d.b[d.pos]), where)
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// quoteByte renders a byte for an error message: 'x' when printable ASCII,
// otherwise its hex value.
func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02X", c)
}
