package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"
)

// jsonErrorCase is one input DecodeJSON must refuse, with the exact error.
type jsonErrorCase struct {
	name   string
	in     string
	want   string // the whole Error() text
	syntax bool
}

// jsonErrorCases lists every strict rule and every grammar error class.
func jsonErrorCases() []jsonErrorCase {
	return []jsonErrorCase{
		// Grammar (Syntax: true).
		{"empty", ``, `json: unexpected end of input (offset 0)`, true},
		{"only space", " \n", `json: unexpected end of input (offset 2)`, true},
		{"truncated literal", `nul`, `json: unexpected end of input (offset 3)`, true},
		{"bad literal", `nulL`, `json: invalid character 'L' in literal null (offset 3)`, true},
		{"upper case literal", `True`, `json: invalid character 'T' looking for beginning of value (offset 0)`, true},
		{"NaN", `NaN`, `json: invalid character 'N' looking for beginning of value (offset 0)`, true},
		{"Infinity", `[Infinity]`, `json: [0]: invalid character 'I' looking for beginning of value (offset 1)`, true},
		{"minus Infinity", `-Infinity`, `json: invalid character 'I' in number (offset 1)`, true},
		{"trailing comma array", `[1,]`, `json: trailing comma after array element (offset 3)`, true},
		{"trailing comma object", `{"a":1, }`, `json: trailing comma after object member (offset 8)`, true},
		{"missing comma", `{"a":1 "b":2}`, `json: invalid character '"' after object member (offset 7)`, true},
		{"missing colon", `{"a" 1}`, `json: invalid character '1' after object key (offset 5)`, true},
		{"unquoted key", `{a:1}`, `json: invalid character 'a' looking for object key (offset 1)`, true},
		{"single quotes", `{'a':1}`, `json: invalid character '\'' looking for object key (offset 1)`, true},
		{"single quoted value", `['a']`, `json: [0]: invalid character '\'' looking for beginning of value (offset 1)`, true},
		{"line comment", "// c\n{}", `json: invalid character '/' looking for beginning of value (offset 0)`, true},
		{"block comment after", `{} /* c */`, `json: invalid character '/' after top-level value (offset 3)`, true},
		{"two values", `{}{}`, `json: invalid character '{' after top-level value (offset 2)`, true},
		{"missing element", `[1 2]`, `json: invalid character '2' after array element (offset 3)`, true},
		{"unclosed array", `[1`, `json: unexpected end of input (offset 2)`, true},
		{"unclosed object", `{"a":1`, `json: unexpected end of input (offset 6)`, true},
		{"lone comma", `[,1]`, `json: [0]: invalid character ',' looking for beginning of value (offset 1)`, true},
		{"leading zero", `01`, `json: leading zero in number (offset 0)`, true},
		{"negative leading zero", `-01`, `json: leading zero in number (offset 0)`, true},
		{"double zero", `[00]`, `json: [0]: leading zero in number (offset 1)`, true},
		{"plus sign", `+1`, `json: invalid character '+' looking for beginning of value (offset 0)`, true},
		{"bare point", `.5`, `json: invalid character '.' looking for beginning of value (offset 0)`, true},
		{"minus alone", `-`, `json: unexpected end of input (offset 1)`, true},
		{"point at end", `1.`, `json: unexpected end of input (offset 2)`, true},
		{"point no digits", `1.e5`, `json: invalid character 'e' in number, want digit after decimal point (offset 2)`, true},
		{"exponent at end", `1e`, `json: unexpected end of input (offset 2)`, true},
		{"exponent sign only", `1e+`, `json: unexpected end of input (offset 3)`, true},
		{"exponent no digits", `[1E-x]`, `json: [0]: invalid character 'x' in number, want digit in exponent (offset 4)`, true},
		{"hex number", `0x10`, `json: invalid character 'x' after top-level value (offset 1)`, true},
		{"vertical tab space", "\v1", `json: invalid character byte 0x0B looking for beginning of value (offset 0)`, true},
		{"form feed space", "[1,\f2]", `json: [1]: invalid character byte 0x0C looking for beginning of value (offset 3)`, true},
		{"nbsp space", "\u00a01", `json: invalid character byte 0xC2 looking for beginning of value (offset 0)`, true},
		{"BOM", "\ufeff{}", `json: invalid character byte 0xEF looking for beginning of value (offset 0)`, true},
		{"unterminated string", `"abc`, `json: unexpected end of input (offset 4)`, true},
		{"raw control", "\"a\x01\"", `json: control character byte 0x01 in string (offset 2)`, true},
		{"raw tab", "\"a\tb\"", `json: control character byte 0x09 in string (offset 2)`, true},
		{"raw newline after escape", "\"\\n\n\"", `json: control character byte 0x0A in string (offset 3)`, true},
		{"bad escape", `"\q"`, `json: invalid escape character 'q' in string (offset 2)`, true},
		{"escape at end", `"\`, `json: unexpected end of input (offset 2)`, true},
		{"single quote escape", `"\'"`, `json: invalid escape character '\'' in string (offset 2)`, true},
		{"bad hex", `"\u12G4"`, `json: invalid character 'G' in \u escape (offset 5)`, true},
		{"short hex", `"\u12"`, `json: invalid character '"' in \u escape (offset 5)`, true},
		{"hex at end", `"\u12`, `json: unexpected end of input (offset 5)`, true},
		{"bad hex in pair", `"\ud83d\uDE0Z"`, `json: invalid character 'Z' in \u escape (offset 12)`, true},
		{"invalid UTF-8", "\"a\xffb\"", `json: invalid UTF-8 byte 0xFF in string (offset 2)`, true},
		{"overlong UTF-8", "\"\xc0\xaf\"", `json: invalid UTF-8 byte 0xC0 in string (offset 1)`, true},
		{"UTF-8 surrogate", "\"\xed\xa0\x80\"", `json: invalid UTF-8 byte 0xED in string (offset 1)`, true},
		{"truncated UTF-8", "\"\xe6\x97\"", `json: invalid UTF-8 byte 0xE6 in string (offset 1)`, true},
		{"invalid UTF-8 after escape", "\"\\n\xff\"", `json: invalid UTF-8 byte 0xFF in string (offset 3)`, true},
		{"invalid UTF-8 in key", "{\"\xff\":1}", `json: invalid UTF-8 byte 0xFF in string (offset 2)`, true},
		{"nested path", `{"asset":{"data":{"tags":["a",01]}}}`,
			`json: asset.data.tags[1]: leading zero in number (offset 30)`, true},

		// Strict rules (Syntax: false).
		{"duplicate key", `{"amount":1,"amount":2}`, `json: duplicate key "amount" (offset 12)`, false},
		{"duplicate nested", `{"outputs":[{"amount":"1","amount":"2"}]}`,
			`json: outputs[0]: duplicate key "amount" (offset 26)`, false},
		{"duplicate by escape", `{"a":1,"\u0061":2}`, `json: duplicate key "a" (offset 7)`, false},
		{"keys differ by case", `{"amount":1,"Amount":2}`,
			`json: keys "amount" and "Amount" differ only by case (offset 12)`, false},
		{"Kelvin sign folds to k", `{"k":1,"\u212a":2}`, "json: keys \"k\" and \"\u212a\" differ only by case (offset 7)", false},
		{"long s folds to s", `{"x":{"S":1,"ſ":2}}`, `json: x: keys "S" and "ſ" differ only by case (offset 12)`, false},
		{"duplicate in large object", largeObject(20, `"k5"`), `json: duplicate key "k5" (offset 161)`, false},
		{"case clash in large object", largeObject(20, `"K19"`), `json: keys "k19" and "K19" differ only by case (offset 161)`, false},
		{"Kelvin clash in large object", largeObject(20, `"\u212a7"`),
			"json: keys \"k7\" and \"\u212a7\" differ only by case (offset 161)", false},
		{"lone high surrogate", `"\ud800"`, `json: lone surrogate escape \ud800 in string (offset 1)`, false},
		{"lone low surrogate", `["\uDC00"]`, `json: [0]: lone surrogate escape \uDC00 in string (offset 2)`, false},
		{"high then letter", `"\uD83Dx"`, `json: lone surrogate escape \uD83D in string (offset 1)`, false},
		{"high then escape", `"\uD83D\n"`, `json: lone surrogate escape \uD83D in string (offset 1)`, false},
		{"high then non-low", `"\uD83D\u0041"`, `json: lone surrogate escape \uD83D in string (offset 1)`, false},
		{"two highs", `"\uD83D\uD83D"`, `json: lone surrogate escape \uD83D in string (offset 1)`, false},
		{"reversed pair", `"\uDE00\uD83D"`, `json: lone surrogate escape \uDE00 in string (offset 1)`, false},
		{"lone surrogate in key", `{"a\udfff":1}`, `json: lone surrogate escape \udfff in string (offset 3)`, false},
		{"too deep arrays", strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1),
			`json: ` + strings.Repeat("[0]", MaxJSONDepth) + `: nesting exceeds the limit of 48 levels (offset 48)`, false},
		{"too deep objects", strings.Repeat(`{"a":`, MaxJSONDepth) + "{}" + strings.Repeat("}", MaxJSONDepth),
			`json: a` + strings.Repeat(".a", MaxJSONDepth-1) + `: nesting exceeds the limit of 48 levels (offset 240)`, false},
		{"number too long", strings.Repeat("9", MaxNumberBytes+1),
			`json: number of 101 bytes exceeds the limit of 100 bytes (offset 0)`, false},
		{"float too long", `{"x":0.` + strings.Repeat("0", MaxNumberBytes-1) + `}`,
			`json: x: number of 101 bytes exceeds the limit of 100 bytes (offset 5)`, false},
		{"float overflow", `1e400`, `json: number 1e400 is out of float64 range (offset 0)`, false},
		{"negative float overflow", `[-1.8e308]`, `json: [0]: number -1.8e308 is out of float64 range (offset 1)`, false},
		{"input too large", `"` + strings.Repeat("a", MaxTxBytes-1) + `"`,
			`json: input of 65537 bytes exceeds the limit of 65536 bytes (offset 65536)`, false},
	}
}

// largeObject returns an object with n members "k0".."k{n-1}" and then one
// more member with the given quoted key.
func largeObject(n int, lastKey string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		b.WriteString(`"k` + strconv.Itoa(i) + `":` + strconv.Itoa(i) + `,`)
	}
	b.WriteString(lastKey + `:0}`)
	return b.String()
}

func TestDecodeJSONErrors(t *testing.T) {
	for _, tt := range jsonErrorCases() {
		t.Run(tt.name, func(t *testing.T) {
			v, err := DecodeJSON([]byte(tt.in))
			if err == nil {
				t.Fatalf("DecodeJSON(%q)=%v, want error %s", tt.in, v, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Fatalf("DecodeJSON(%q) error=%s, want %s", tt.in, got, tt.want)
			}
			var je *JSONError
			if !errors.As(err, &je) {
				t.Fatalf("DecodeJSON(%q) error type %T, want *JSONError", tt.in, err)
			}
			if je.Syntax != tt.syntax {
				t.Fatalf("DecodeJSON(%q) Syntax=%v, want %v", tt.in, je.Syntax, tt.syntax)
			}
		})
	}
}

func TestJSONErrorFields(t *testing.T) {
	_, err := DecodeJSON([]byte(`{"asset":{"data":{"tags":[1,2,3,{"x":1,"X":2}]}}}`))
	var je *JSONError
	if !errors.As(err, &je) {
		t.Fatalf("DecodeJSON()=%v, want *JSONError", err)
	}
	want := JSONError{Offset: 39, Path: "asset.data.tags[3]", Reason: `keys "x" and "X" differ only by case`}
	if *je != want {
		t.Fatalf("DecodeJSON() error=%+v, want %+v", *je, want)
	}
}

func TestDecodeJSONValues(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"null", `null`, nil},
		{"true", ` true `, true},
		{"false", "\t\r\nfalse\n", false},
		{"string", `"x"`, "x"},
		{"empty string", `""`, ""},
		{"zero", `0`, json.Number("0")},
		{"minus zero", `-0`, json.Number("0")},
		{"negative", `-12`, json.Number("-12")},
		{"big integer", `123456789012345678901234567890`, json.Number("123456789012345678901234567890")},
		{"max length number", strings.Repeat("7", MaxNumberBytes), json.Number(strings.Repeat("7", MaxNumberBytes))},
		{"empty array", `[ ]`, []any{}},
		{"empty object", `{ }`, map[string]any{}},
		{"nested", `{"a":[1,{"b":null}],"c":{}}`,
			map[string]any{"a": []any{json.Number("1"), map[string]any{"b": nil}}, "c": map[string]any{}}},
		{"escapes", `"\"\\\/\b\f\n\r\t"`, "\"\\/\b\f\n\r\t"},
		{"unicode escapes", `"\u0041\u00e9\u65E5\uffff"`, "Aé日\uffff"},
		{"NUL escape", `"a\u0000b"`, "a\x00b"},
		{"NUL in key", `{"\u0000":1}`, map[string]any{"\x00": json.Number("1")}},
		{"surrogate pair", `"\ud83d\ude00\uD834\uDD1E"`, "😀𝄞"},
		{"raw UTF-8", `"é日😀"`, "é日😀"},
		{"raw U+FFFD", `"\ufffd�"`, "\ufffd\ufffd"},
		{"raw DEL and separators", "\"\x7f\u2028\u2029\"", "\x7f\u2028\u2029"},
		{"mixed escapes and raw", `"é\n日\t😀"`, "é\n日\t😀"},
		{"keys differing not only by case", `{"a":1,"á":2,"ss":3,"ß":4,"A1":5,"a2":6}`, map[string]any{
			"a": json.Number("1"), "á": json.Number("2"), "ss": json.Number("3"),
			"ß": json.Number("4"), "A1": json.Number("5"), "a2": json.Number("6")}},
		{"max depth", strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth), nestedArrays(MaxJSONDepth)},
		{"max size", `"` + strings.Repeat("a", MaxTxBytes-2) + `"`, strings.Repeat("a", MaxTxBytes-2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeJSON([]byte(tt.in))
			if err != nil {
				t.Fatalf("DecodeJSON(%q) error: %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("DecodeJSON(%q)=%#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

// nestedArrays returns n arrays nested in each other.
func nestedArrays(n int) any {
	v := []any{}
	for range n - 1 {
		v = []any{v}
	}
	return v
}

func TestDecodeJSONNumbers(t *testing.T) {
	// Expected values are Python 3 repr(float(x)) (python-rapidjson writes
	// floats with repr) and int(x) for integers.
	tests := []struct{ in, want string }{
		{"1e16", "1e+16"},
		{"0.00001", "1e-05"},
		{"1.5", "1.5"},
		{"100.0", "100.0"},
		{"1E2", "100.0"},
		{"1e+2", "100.0"},
		{"-0.0", "-0.0"},
		{"0.0", "0.0"},
		{"-0", "0"},
		{"123456789012345678", "123456789012345678"},
		{"-9223372036854775809", "-9223372036854775809"},
		{"1.0", "1.0"},
		{"0.0001", "0.0001"},
		{"0.00012", "0.00012"},
		{"123.5", "123.5"},
		{"1e15", "1000000000000000.0"},
		{"9999999999999998.0", "9999999999999998.0"},
		{"1e22", "1e+22"},
		{"1.5e-7", "1.5e-07"},
		{"2.5E300", "2.5e+300"},
		{"1e100", "1e+100"},
		{"0.1", "0.1"},
		{"0.30000000000000004", "0.30000000000000004"},
		{"3.141592653589793238462643383279", "3.141592653589793"},
		{"123.456e-10", "1.23456e-08"},
		{"5e-324", "5e-324"},
		{"1e-400", "0.0"},
		{"-1e-400", "-0.0"},
		{"1.7976931348623157e308", "1.7976931348623157e+308"},
		{"0.5e1", "5.0"},
		{"10e-1", "1.0"},
		{"-1.25E-005", "-1.25e-05"},
		{"12345678901234567890.0", "1.2345678901234567e+19"},
		{"1234567890123456.7", "1234567890123456.8"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := DecodeJSON([]byte(tt.in))
			if err != nil {
				t.Fatalf("DecodeJSON(%q) error: %v", tt.in, err)
			}
			if got != json.Number(tt.want) {
				t.Fatalf("DecodeJSON(%q)=%v, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// stdlibDecode decodes b with encoding/json and puts numbers in the form
// DecodeJSON gives them, for comparison.
func stdlibDecode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("trailing data")
	}
	return canonicalNumbers(v), nil
}

// canonicalNumbers rewrites the json.Numbers in v (as written in the input)
// into their canonical text.
func canonicalNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if !strings.ContainsAny(string(x), ".eE") {
			if x == "-0" {
				return json.Number("0")
			}
			return x
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return x
		}
		return json.Number(appendPyFloat(nil, f))
	case []any:
		for i := range x {
			x[i] = canonicalNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = canonicalNumbers(x[k])
		}
	}
	return v
}

// fataler is what checkAgreesWithStdlib needs of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// checkAgreesWithStdlib fails when DecodeJSON and encoding/json both accept b
// but disagree, or when DecodeJSON accepts what encoding/json calls invalid,
// or calls a syntax error what encoding/json accepts in valid UTF-8.
func checkAgreesWithStdlib(t fataler, b []byte) {
	t.Helper()
	got, err := DecodeJSON(b)
	want, stdErr := stdlibDecode(b)
	valid := json.Valid(b)
	switch {
	case err == nil && !valid:
		t.Fatalf("DecodeJSON(%q) accepted what encoding/json refuses", b)
	case err == nil && stdErr == nil && !reflect.DeepEqual(got, want):
		t.Fatalf("DecodeJSON(%q)=%#v, encoding/json gives %#v", b, got, want)
	case err != nil && valid && utf8.Valid(b):
		var je *JSONError
		if !errors.As(err, &je) || je.Syntax {
			t.Fatalf("DecodeJSON(%q) error %v is a syntax error, but encoding/json accepts it", b, err)
		}
	}
}

func TestDecodeJSONAgreesWithStdlib(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := genValue(4).Draw(t, "v")
		b := genNoisyJSON(t, v)
		checkAgreesWithStdlib(t, b)
		checkCanonicalFlag(t, b)
	})
}

// checkCanonicalFlag fails unless decodeJSON calls b canonical exactly when
// AppendCanonical writes its value back as b, and unless the id offsets of
// a canonical object with an "id" bound that member's value (both 0 when
// there is none).
func checkCanonicalFlag(t fataler, b []byte) {
	t.Helper()
	v, in, err := decodeJSON(b)
	if err != nil {
		return
	}
	again := AppendCanonical(nil, v)
	if (in != nil) != bytes.Equal(again, b) {
		t.Fatalf("decodeJSON(%q) canonical=%v, but AppendCanonical writes %q", b, in != nil, again)
	}
	if in == nil {
		return
	}
	m, _ := v.(map[string]any)
	id, ok := m["id"]
	if !ok {
		if in.idStart != 0 || in.idEnd != 0 {
			t.Fatalf("decodeJSON(%q) id at %d..%d, want none", b, in.idStart, in.idEnd)
		}
		return
	}
	if got, want := b[in.idStart:in.idEnd], AppendCanonical(nil, id); !bytes.Equal(got, want) {
		t.Fatalf("decodeJSON(%q) id at %d..%d is %q, want %q", b, in.idStart, in.idEnd, got, want)
	}
}

// TestDecodeJSONCanonicalInput writes objects with an "id" (and nested
// ones, which are not the id) canonically and then noisily: the canonical
// bytes must be found canonical, with the id where it is, and the noisy
// ones exactly when they happen to be canonical too.
func TestDecodeJSONCanonicalInput(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		top := map[string]any{"id": genValue(2).Draw(t, "id"), "v": genValue(3).Draw(t, "v"),
			rapid.String().Draw(t, "key"): map[string]any{"id": "nested"}}
		canon := AppendCanonical(nil, top)
		if _, in, err := decodeJSON(canon); err != nil || in == nil {
			t.Fatalf("decodeJSON(%q) = %v, canonical=%v; want canonical", canon, err, in != nil)
		}
		checkCanonicalFlag(t, canon)
		checkCanonicalFlag(t, genNoisyJSON(t, top))
	})
}

func TestDecodeJSONCanonicalCases(t *testing.T) {
	tests := []struct {
		in        string
		canonical bool
	}{
		{`{"a":1,"b":[true,false,null],"id":"x"}`, true},
		{`{"a":1, "b":2}`, false},           // whitespace
		{` {"a":1}`, false},                 // leading whitespace
		{`{"a":1}` + "\n", false},           // trailing whitespace
		{`{"b":1,"a":2}`, false},            // keys out of order
		{`{"B":1,"a":2}`, true},             // bytewise: 'B' < 'a'
		{`{"a":{"d":1,"c":2}}`, false},      // nested keys out of order
		{`["\u001F\n\"\\x"]`, true},         // the escapes RapidJSON writes
		{`["\u001f"]`, false},               // lower-case hex
		{`["\u00e9"]`, false},               // an escape RapidJSON writes raw
		{`["é\u007f"]`, false},              // DEL escaped
		{"[\"\u007f\"]", true},              // DEL raw
		{`["\/"]`, false},                   // an escaped solidus
		{`[1.0,100.0,1e+16,1.5e-07]`, true}, // Python's repr
		{`[1.00]`, false},
		{`[1E2]`, false},
		{`[1e16]`, false},
		{`[-0]`, false},
		{`[0,-1,12345678901234567890123]`, true},
	}
	for _, tt := range tests {
		_, in, err := decodeJSON([]byte(tt.in))
		if err != nil {
			t.Fatalf("decodeJSON(%s)=%v", tt.in, err)
		}
		if (in != nil) != tt.canonical {
			t.Errorf("decodeJSON(%s) canonical=%v, want %v", tt.in, in != nil, tt.canonical)
		}
		checkCanonicalFlag(t, []byte(tt.in))
	}
}

// genNoisyJSON writes v as JSON with random whitespace, random \u escapes and
// random number spellings, all of which DecodeJSON must accept.
func genNoisyJSON(t *rapid.T, v any) []byte {
	var b []byte
	space := func() {
		b = append(b, rapid.SampledFrom([]string{"", "", " ", "\n  ", "\t", "\r\n"}).Draw(t, "ws")...)
	}
	var write func(v any)
	write = func(v any) {
		space()
		switch x := v.(type) {
		case map[string]any:
			b = append(b, '{')
			i := 0
			for k, e := range x {
				if i > 0 {
					b = append(b, ',')
				}
				space()
				b = appendNoisyString(t, b, k)
				space()
				b = append(b, ':')
				write(e)
				i++
			}
			space()
			b = append(b, '}')
		case []any:
			b = append(b, '[')
			for i, e := range x {
				if i > 0 {
					b = append(b, ',')
				}
				write(e)
			}
			space()
			b = append(b, ']')
		case string:
			b = appendNoisyString(t, b, x)
		case json.Number:
			b = append(b, noisyNumber(t, x)...)
		default:
			b = AppendCanonical(b, x)
		}
		space()
	}
	write(v)
	return b
}

// appendNoisyString writes s quoted, escaping runes at random.
func appendNoisyString(t *rapid.T, b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		mustEscape := r < 0x20 || r == '"' || r == '\\'
		if !mustEscape && !rapid.Bool().Draw(t, "escape") {
			b = utf8.AppendRune(b, r)
			continue
		}
		if r >= 0x10000 {
			r -= 0x10000
			b = append(b, `\u`+strconv.FormatInt(int64(0xD800+(r>>10)), 16)...)
			b = append(b, `\u`+strings.ToUpper(strconv.FormatInt(int64(0xDC00+(r&0x3FF)), 16))...)
			continue
		}
		hex := strconv.FormatInt(int64(r), 16)
		b = append(b, `\u`+strings.Repeat("0", 4-len(hex))+hex...)
	}
	return append(b, '"')
}

// noisyNumber spells the canonical number n in another way with the same value.
func noisyNumber(t *rapid.T, n json.Number) string {
	s := string(n)
	if !strings.ContainsAny(s, ".e") {
		if s == "0" && rapid.Bool().Draw(t, "minus zero") {
			return "-0"
		}
		return s
	}
	f, _ := strconv.ParseFloat(s, 64)
	switch rapid.IntRange(0, 3).Draw(t, "spelling") {
	case 0:
		return strconv.FormatFloat(f, 'E', -1, 64)
	case 1:
		return strconv.FormatFloat(f, 'e', 20, 64)
	case 2:
		return strings.Replace(strconv.FormatFloat(f, 'e', -1, 64), "e+", "e", 1)
	}
	return s
}

func FuzzDecodeJSON(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeJSON(b)
		if err != nil {
			var je *JSONError
			if !errors.As(err, &je) || je.Offset < 0 || je.Offset > len(b) || je.Reason == "" {
				t.Fatalf("DecodeJSON(%q) error %#v, want *JSONError within the input", b, err)
			}
			if v != nil {
				t.Fatalf("DecodeJSON(%q)=%v with error %v, want nil", b, v, err)
			}
		}
		checkAgreesWithStdlib(t, b)
		checkCanonicalFlag(t, b)
	})
}

// addSeeds seeds a fuzz target with the fixtures in testdata/json and the
// error table's inputs.
func addSeeds(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "json", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("Glob(testdata/json/*.json)=%v, %v, want fixtures", files, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, tt := range jsonErrorCases() {
		f.Add([]byte(tt.in))
	}
}
