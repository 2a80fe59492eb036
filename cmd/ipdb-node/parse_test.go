package main

import (
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/ipdb/ipdb-node/internal/atomicfile"
	"github.com/ipdb/ipdb-node/ledger"
)

func TestNormalizeAPIURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, err string
	}{
		{in: "http://127.0.0.1:9984", want: "http://127.0.0.1:9984"},
		{in: "http://127.0.0.1:9984/", want: "http://127.0.0.1:9984"},
		{in: "http://node.example/api/v1/", want: "http://node.example"},
		{in: "https://node.example:443/api/v1", want: "https://node.example:443"},
		{in: "localhost:9984", want: "http://localhost:9984"},
		{in: "ftp://node.example", err: "want http://HOST:PORT"},
		{in: "http://node.example/other", err: "want http://HOST:PORT"},
		{in: "http://node.example/api/v1?x=1", err: "want http://HOST:PORT"},
		{in: "http://", err: "want http://HOST:PORT"},
		{in: "http://" + strings.Repeat("a", maxAPIURLBytes), err: "over the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := normalizeAPIURL(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("normalizeAPIURL()=%q, %v, want an error holding %q", got, err, tt.err)
				}
				return
			}
			if got != tt.want || err != nil {
				t.Fatalf("normalizeAPIURL()=%q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

func TestAPIURLOfAddr(t *testing.T) {
	t.Parallel()
	tests := []struct{ addr, want string }{
		{"127.0.0.1:9984", "http://127.0.0.1:9984"},
		{"0.0.0.0:9000", "http://127.0.0.1:9000"},
		{"[::]:9000", "http://127.0.0.1:9000"},
		{":9000", "http://127.0.0.1:9000"},
		{"[::1]:9000", "http://[::1]:9000"},
		{"node.example:80", "http://node.example:80"},
		{"127.0.0.1:0", defaultAPI},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := apiURLOfAddr(tt.addr); got != tt.want {
				t.Fatalf("apiURLOfAddr(%q)=%q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestAPIURLFromHomeConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := &app{home: dir, getenv: func(string) string { return "" }}
	if got, err := a.apiURL(""); got != defaultAPI || err != nil {
		t.Fatalf("apiURL() without a config = %q, %v, want %s", got, err, defaultAPI)
	}
	mustRunCLI(t, "init", "--home", dir)
	writeConfig := func(s string) {
		t.Helper()
		if err := atomicfile.WriteFile(home{dir}.path(configFile), []byte(s), publicFileMode); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig("[http]\naddr = \"0.0.0.0:7777\"\n")
	if got, err := a.apiURL(""); got != "http://127.0.0.1:7777" || err != nil {
		t.Fatalf("apiURL() = %q, %v, want the config's port on loopback", got, err)
	}
	writeConfig("[http]\naddr = 7\n")
	if _, err := a.apiURL(""); err == nil || !strings.Contains(err.Error(), "or give --api") {
		t.Fatalf("apiURL() with a broken config = %v, want an error suggesting --api", err)
	}
	if got, err := a.apiURL("node.example:1"); got != "http://node.example:1" || err != nil {
		t.Fatalf("apiURL(flag) = %q, %v, want the flag", got, err)
	}
}

func TestStreamURLOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http://127.0.0.1:9984": "ws://127.0.0.1:9984/api/v1/streams/valid_transactions",
		"https://node.example":  "wss://node.example/api/v1/streams/valid_transactions",
	} {
		if got := streamURLOf(in); got != want {
			t.Fatalf("streamURLOf(%q)=%q, want %q", in, got, want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct{ body, want string }{
		{`{"message": "Invalid transaction (DoubleSpend): x", "status": 400}`, "Invalid transaction (DoubleSpend): x"},
		{`{"message": {"mode": "Mode must be \"async\""}}`, `{"mode": "Mode must be \"async\""}`},
		{"plain text\n", "plain text"},
		{strings.Repeat("x", 500), strings.Repeat("x", maxErrorEcho) + "..."},
	}
	for _, tt := range tests {
		if got := errorMessage([]byte(tt.body)); got != tt.want {
			t.Fatalf("errorMessage(%q)=%q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestKeyFileRoundTrip(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		seed := rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "seed")
		k, err := ledger.NewKeyPair(seed)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeKeyFile(encodeKeyFile(k))
		if err != nil || !got.Private.Equal(k.Private) {
			t.Fatalf("decodeKeyFile(encodeKeyFile(k))=%v, want k", err)
		}
	})
}

func TestParseOutputRoundTrip(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		seed := rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "seed")
		amount := rapid.Uint64Range(1, ledger.MaxAmount).Draw(t, "amount")
		k, _ := ledger.NewKeyPair(seed)
		pub, got, err := parseOutput(k.PublicBase58()+":"+strconv.FormatUint(amount, 10), 0)
		if err != nil || got != amount || !pub.Equal(k.Public) {
			t.Fatalf("parseOutput()=%v, %d, %v, want the key and %d", pub, got, err, amount)
		}
	})
}

// FuzzParseFlags feeds outside text to the flag parsers: none may panic,
// and what they accept must be well-formed.
func FuzzParseFlags(f *testing.F) {
	for _, s := range []string{"", ":", "abc:0", strings.Repeat("a", 64) + ":3",
		"89qb1zAbz8L7erSjSDMP9d6AYuM3TB7oipHPwTdXA8S9:7", "89qb1zAbz8L7erSjSDMP9d6AYuM3TB7oipHPwTdXA8S9",
		"http://x/api/v1", "x:y:z", `{"a":1}`, "[1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ref, err := parseInputRef(s); err == nil && (!isTxID(ref.TxID) || ref.Index >= ledger.MaxOutputs) {
			t.Fatalf("parseInputRef(%q)=%+v, accepted out of range", s, ref)
		}
		if pub, amount, err := parseOutput(s, 1); err == nil && (len(pub) != 32 || amount == 0 || amount > ledger.MaxAmount) {
			t.Fatalf("parseOutput(%q)=%v, %d accepted out of range", s, pub, amount)
		}
		if u, err := normalizeAPIURL(s); err == nil {
			if again, err := normalizeAPIURL(u); err != nil || again != u {
				t.Fatalf("normalizeAPIURL(%q)=%q, not a fixed point: %q, %v", s, u, again, err)
			}
		}
		if v, err := parseJSONObject("--data", s); err == nil && s != "" {
			if _, ok := v.(map[string]any); !ok {
				t.Fatalf("parseJSONObject(%q)=%T, want an object", s, v)
			}
		}
	})
}

// FuzzDecodeKeyFile feeds outside bytes to the key file decoder: it may not
// panic, and a key it accepts encodes back to an equal key.
func FuzzDecodeKeyFile(f *testing.F) {
	k, _ := ledger.NewKeyPair(make([]byte, 32))
	f.Add(encodeKeyFile(k))
	f.Add([]byte(`{"public_key":"","private_key":""}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeKeyFile(b)
		if err != nil {
			return
		}
		again, err := decodeKeyFile(encodeKeyFile(got))
		if err != nil || !again.Private.Equal(got.Private) {
			t.Fatalf("re-decode = %v, want the same key", err)
		}
	})
}
