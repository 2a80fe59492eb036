package ledger

import (
	"bytes"
	"crypto/sha3"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestAppendCanonical(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"null", nil, `null`},
		{"bools", []any{true, false}, `[true,false]`},
		{"number as is", json.Number("1e+16"), `1e+16`},
		{"int", -42, `-42`},
		{"int64", int64(math.MinInt64), `-9223372036854775808`},
		{"uint64", uint64(math.MaxUint64), `18446744073709551615`},
		{"float64 integral", 1.0, `1.0`},
		{"float64 small", 0.00001, `1e-05`},
		{"float64 large", 1e16, `1e+16`},
		{"float64 negative zero", math.Copysign(0, -1), `-0.0`},
		{"float64 fraction", 123.5, `123.5`},
		{"empty containers", map[string]any{"a": []any{}, "b": map[string]any{}}, `{"a":[],"b":{}}`},
		{"nil containers", []any{[]any(nil), map[string]any(nil)}, `[[],{}]`},
		{"sorted keys", map[string]any{"b": 1, "a": 2, "B": 3, "": 4, "aa": 5, "a\x00": 6},
			`{"":4,"B":3,"a":2,"a\u0000":6,"aa":5,"b":1}`},
		{"code point order", map[string]any{"\U0001F600": 1, "\uffff": 2, "é": 3, "z": 4},
			`{"z":4,"é":3,"` + "\uffff" + `":2,"` + "\U0001F600" + `":1}`},
		{"short escapes", "\"\\\b\f\n\r\t", `"\"\\\b\f\n\r\t"`},
		{"control escapes upper hex", "\x00\x01\x0b\x0e\x1a\x1f", `"\u0000\u0001\u000B\u000E\u001A\u001F"`},
		{"not escaped", "/<>&'\x7f\u2028\u2029", "\"/<>&'\x7f\u2028\u2029\""},
		{"raw non-ASCII", "café 日本 😀", `"café 日本 😀"`},
		{"invalid UTF-8 replaced", "a\xffb\xed\xa0\x80", "\"a\ufffdb\ufffd\ufffd\ufffd\""},
		{"escaped key", map[string]any{"a\"b\n": nil}, `{"a\"b\n":null}`},
		{"nested", map[string]any{"x": []any{map[string]any{"d": "1", "c": json.Number("2")}, nil}},
			`{"x":[{"c":2,"d":"1"},null]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendCanonical(nil, tt.in)); got != tt.want {
				t.Fatalf("AppendCanonical(%#v)=%s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestAppendCanonicalAppends(t *testing.T) {
	dst := []byte("prefix:")
	got := string(AppendCanonical(dst, map[string]any{"a": "b"}))
	if want := `prefix:{"a":"b"}`; got != want {
		t.Fatalf("AppendCanonical(prefix)=%s, want %s", got, want)
	}
}

func TestAppendCanonicalPanics(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"int32", int32(1), "ledger: AppendCanonical: unsupported type int32"},
		{"typed map", map[string]string{"a": "b"}, "ledger: AppendCanonical: unsupported type map[string]string"},
		{"nested struct", []any{struct{}{}}, "ledger: AppendCanonical: unsupported type struct {}"},
		{"NaN", math.NaN(), "ledger: AppendCanonical: float64 NaN has no JSON form"},
		{"Inf", map[string]any{"x": math.Inf(-1)}, "ledger: AppendCanonical: float64 -Inf has no JSON form"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if got := fmt.Sprint(recover()); got != tt.want {
					t.Fatalf("AppendCanonical(%#v) panic=%q, want %q", tt.in, got, tt.want)
				}
			}()
			AppendCanonical(nil, tt.in)
		})
	}
}

// TestCanonicalBigchainDBVector reproduces the unsigned CREATE of
// BIGCHAINDB.md §2.10 from a pretty-printed, reordered, \u-escaped input
// (with a "-0" for its 0 and CRLF line ends) and checks its signing digest.
func TestCanonicalBigchainDBVector(t *testing.T) {
	in := readFixture(t, "bigchaindb_create_utx.json")
	want := readFixture(t, "bigchaindb_create_utx.golden")
	v, err := DecodeJSON(in)
	if err != nil {
		t.Fatalf("DecodeJSON() error: %v", err)
	}
	got := AppendCanonical(nil, v)
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendCanonical()=%s, want %s", got, want)
	}
	sum := sha3.Sum256(got)
	const wantDigest = "28b73bdcb02e34c72f3a83ce391e91c4220f7f7b36a20c578ac71626dc9e3672"
	if h := hex.EncodeToString(sum[:]); h != wantDigest {
		t.Fatalf("SHA3-256(canonical)=%s, want %s", h, wantDigest)
	}
}

// TestCanonicalGolden checks every testdata/json/X.json against X.golden,
// which python-rapidjson wrote with
// dumps(loads(x), ensure_ascii=False, sort_keys=True).
func TestCanonicalGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "json", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("Glob()=%v, %v, want fixtures", files, err)
	}
	for _, name := range files {
		base := strings.TrimSuffix(filepath.Base(name), ".json")
		t.Run(base, func(t *testing.T) {
			v, err := DecodeJSON(readFixture(t, base+".json"))
			if err != nil {
				t.Fatalf("DecodeJSON() error: %v", err)
			}
			got, want := AppendCanonical(nil, v), readFixture(t, base+".golden")
			if !bytes.Equal(got, want) {
				t.Fatalf("AppendCanonical()=\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// readFixture returns the bytes of testdata/json/name.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "json", name))
	if err != nil {
		t.Fatalf("ReadFile(%s) error: %v", name, err)
	}
	return b
}

func TestNormalizeJSON(t *testing.T) {
	type output struct {
		Amount string   `json:"amount"`
		Keys   []string `json:"public_keys"`
	}
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"struct", output{"1", []string{"k"}}, map[string]any{"amount": "1", "public_keys": []any{"k"}}},
		{"numbers", []any{1, 1.5, 1.0, 1e21, uint64(math.MaxUint64)},
			[]any{json.Number("1"), json.Number("1.5"), json.Number("1"), json.Number("1e+21"),
				json.Number("18446744073709551615")}},
		{"html not escaped in the result", "<&>", "<&>"},
		{"invalid UTF-8 replaced", "a\xff", "a\ufffd"},
		{"typed map", map[string]int{"b": 2}, map[string]any{"b": json.Number("2")}},
		{"json.Number normalized", json.Number("1E2"), json.Number("100.0")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeJSON(tt.in)
			if err != nil {
				t.Fatalf("NormalizeJSON(%#v) error: %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("NormalizeJSON(%#v)=%#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeJSONErrors(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"unmarshalable", make(chan int), "normalize json: json: unsupported type: chan int"},
		{"NaN", math.NaN(), "normalize json: json: unsupported value: NaN"},
		{"case clash", map[string]int{"a": 1, "A": 2},
			`normalize json: json: keys "A" and "a" differ only by case (offset 7)`},
		{"too large", strings.Repeat("a", MaxTxBytes),
			"normalize json: json: input of 65538 bytes exceeds the limit of 65536 bytes (offset 65536)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeJSON(tt.in)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("NormalizeJSON()=%v, %v, want error %s", got, err, tt.want)
			}
		})
	}
}

// genValue generates generic values in canonical form, nested at most depth
// levels, with no two keys of an object equal under strings.EqualFold.
func genValue(depth int) *rapid.Generator[any] {
	return rapid.Custom(func(t *rapid.T) any {
		kinds := 6 // scalars only
		if depth > 0 {
			kinds = 10 // containers half the time
		}
		switch rapid.IntRange(0, kinds-1).Draw(t, "kind") {
		case 0:
			return nil
		case 1:
			return rapid.Bool().Draw(t, "bool")
		case 2:
			return rapid.String().Draw(t, "string")
		case 3:
			return json.Number(strconv.FormatInt(rapid.Int64().Draw(t, "int"), 10))
		case 4:
			return json.Number(rapid.StringMatching(`-?[1-9][0-9]{0,80}`).Draw(t, "bigint"))
		case 5:
			f := rapid.Float64().Draw(t, "float")
			if math.IsNaN(f) || math.IsInf(f, 0) {
				f = 0
			}
			return json.Number(appendPyFloat(nil, f))
		case 6, 7:
			return rapid.SliceOfN(genValue(depth-1), 0, 4).Draw(t, "array")
		}
		return genObject(t, depth)
	})
}

// genObject draws an object of values nested at most depth-1 levels.
func genObject(t *rapid.T, depth int) map[string]any {
	keys := rapid.SliceOfN(rapid.String(), 0, 5).Draw(t, "keys")
	m := make(map[string]any, len(keys))
next:
	for _, k := range keys {
		for old := range m {
			if strings.EqualFold(old, k) {
				continue next
			}
		}
		m[k] = genValue(depth-1).Draw(t, "member")
	}
	return m
}

func TestCanonicalRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := genValue(4).Draw(t, "v")
		c := AppendCanonical(nil, v)
		got, err := DecodeJSON(c)
		if err != nil {
			t.Fatalf("DecodeJSON(%s) error: %v", c, err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Fatalf("DecodeJSON(AppendCanonical(v))=%#v, want %#v", got, v)
		}
		if c2 := AppendCanonical(nil, got); !bytes.Equal(c2, c) {
			t.Fatalf("AppendCanonical() not idempotent: %s, then %s", c, c2)
		}
		if !json.Valid(c) {
			t.Fatalf("AppendCanonical()=%s, not valid JSON", c)
		}
	})
}

func FuzzCanonicalJSON(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeJSON(b)
		if err != nil {
			return
		}
		c1 := AppendCanonical(nil, v)
		if len(c1) > MaxTxBytes {
			return // canonical floats can be longer than their input ("1e15")
		}
		v2, err := DecodeJSON(c1)
		if err != nil {
			t.Fatalf("DecodeJSON(AppendCanonical(%q)=%q) error: %v", b, c1, err)
		}
		if !reflect.DeepEqual(v2, v) {
			t.Fatalf("DecodeJSON(AppendCanonical(v))=%#v, want %#v", v2, v)
		}
		if c2 := AppendCanonical(nil, v2); !bytes.Equal(c2, c1) {
			t.Fatalf("canonical form of %q not stable: %q, then %q", b, c1, c2)
		}
	})
}

// BenchmarkDecodeJSON measures DecodeJSON on a 1 KiB transaction, with
// encoding/json's Unmarshal into any as a baseline for the ratio.
func BenchmarkDecodeJSON(b *testing.B) {
	in := readFixture(b, "tx_1k.json")
	b.Run("DecodeJSON", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeJSON(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json_baseline", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			var v any
			if err := json.Unmarshal(in, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAppendCanonical measures AppendCanonical on a 1 KiB transaction
// into a reused buffer, with encoding/json's Marshal as a baseline.
func BenchmarkAppendCanonical(b *testing.B) {
	v, err := DecodeJSON(readFixture(b, "tx_1k.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("AppendCanonical", func(b *testing.B) {
		var dst []byte
		b.ReportAllocs()
		for b.Loop() {
			dst = AppendCanonical(dst[:0], v)
		}
		b.SetBytes(int64(len(dst)))
	})
	b.Run("encoding_json_baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
