package node

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadAPIKeys(t *testing.T) {
	keys, err := LoadAPIKeys(filepath.Join("testdata", "gateway", "keys.json"))
	if err != nil {
		t.Fatalf("LoadAPIKeys()=%v", err)
	}
	want := []APIKey{
		{AppID: "ipdb-demo", AppKey: "0123456789abcdef0123456789abcdef", Rate: 50, Burst: 100, Name: "demo app"},
		{AppID: "partner.1", AppKey: "c2VjcmV0LXRva2VuLW9mLXBhcnRuZXI=", Name: "partner (defaults)"},
	}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Fatalf("LoadAPIKeys()=%v, want %v", keys, want)
	}
	if _, err := LoadAPIKeys(filepath.Join(t.TempDir(), "none.json")); !errors.Is(err, ErrGatewayKeys) {
		t.Fatalf("LoadAPIKeys(missing)=%v, want ErrGatewayKeys", err)
	}
}

func TestParseAPIKeysErrors(t *testing.T) {
	key := `"0123456789abcdef0123456789abcdef"`
	tests := []struct{ name, doc, want string }{
		{"not json", `{`, "want a JSON array"},
		{"object", `{}`, "want a JSON array"},
		{"unknown field", `[{"app_id": "a", "app_key": ` + key + `, "secret": 1}]`, `unknown field "secret"`},
		{"trailing", `[] []`, "data after the JSON array"},
		{"empty app_id", `[{"app_id": "", "app_key": ` + key + `}]`, `entry 0 (app_id ""): app_id must be 1 to 64`},
		{"app_id space", `[{"app_id": "a b", "app_key": ` + key + `}]`, `entry 0 (app_id "a b"): app_id must be`},
		{"short key", `[{"app_id": "a", "app_key": "abc"}]`, `entry 0 (app_id "a"): app_key must be 16 to 256`},
		{"negative rate", `[{"app_id": "a", "app_key": ` + key + `, "rate": -1}]`, "rate: must be between 0 (off) and 1000000 requests per second, got -1"},
		{"huge rate", `[{"app_id": "a", "app_key": ` + key + `, "rate": 1e9}]`, "rate: must be between 0 (off) and 1000000"},
		{"negative burst", `[{"app_id": "a", "app_key": ` + key + `, "burst": -1}]`, "burst: must be between 0 and 1000000, got -1"},
		{"name control", `[{"app_id": "a", "app_key": ` + key + `, "name": "a\u0007"}]`, "name: must be at most 100 printable"},
		{"duplicate id", `[{"app_id": "a", "app_key": ` + key + `}, {"app_id": "a", "app_key": "ffffffffffffffffffff"}]`, `entry 1 (app_id "a"): app_id also in entry 0`},
		{"duplicate key", `[{"app_id": "a", "app_key": ` + key + `}, {"app_id": "b", "app_key": ` + key + `}]`, `entry 1 (app_id "b"): app_key also in entry 0`},
		{"too big", `[` + strings.Repeat(" ", maxKeysFileBytes) + `]`, "over the limit of 1048576"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAPIKeys([]byte(tt.doc))
			if err == nil || !errors.Is(err, ErrGatewayKeys) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseAPIKeys()=%v, want ErrGatewayKeys containing %q", err, tt.want)
			}
		})
	}
}

func TestParseAPIKeysCount(t *testing.T) {
	var b strings.Builder
	b.WriteString("[")
	for i := range maxAPIKeys + 1 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"app_id":"a%d","app_key":"k%015d"}`, i, i)
	}
	b.WriteString("]")
	if _, err := ParseAPIKeys([]byte(b.String())); err == nil || !strings.Contains(err.Error(), "10001 entries, over the limit of 10000") {
		t.Fatalf("ParseAPIKeys(10001 keys)=%v, want the count refused", err)
	}
}

func TestNewGatewayKeysFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(path, []byte(`[{"app_id": "a", "app_key": "short"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := NewGateway(http.NotFoundHandler(), GatewayConfig{KeysFile: path}, nil)
	if err == nil || !strings.Contains(err.Error(), `gateway.keys_file: `+path+`: node: API keys file: entry 0 (app_id "a"): app_key must be`) {
		t.Fatalf("NewGateway(bad keys file)=%v, want the entry named", err)
	}
}

// FuzzParseAPIKeys checks the keys file decoder never panics and that what
// it accepts passes its own checks.
func FuzzParseAPIKeys(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "gateway", "keys.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"app_id": "a", "app_key": "0123456789abcdef", "rate": 1e400}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := ParseAPIKeys(b)
		if err != nil {
			return
		}
		if err := checkKeys(keys); err != nil {
			t.Fatalf("ParseAPIKeys accepted keys its check refuses: %v", err)
		}
	})
}

// FuzzGatewayCredentials checks any credentials headers get 200, 400 or
// 401, and that a refusal applies nothing.
func FuzzGatewayCredentials(f *testing.F) {
	f.Add("app1", gwTestKey.AppKey, "")
	f.Add("", "", "Bearer "+gwTestKey.AppKey)
	f.Add("app1", "", "bearer x")
	f.Add("a\x00", "\xff", "Bearer \t")
	f.Fuzz(func(t *testing.T, id, key, auth string) {
		fx := newGWFixture(t, GatewayConfig{KeyRate: 1, KeyBurst: 1}, []APIKey{gwTestKey})
		r, err := http.NewRequest(http.MethodGet, "/", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.RemoteAddr = "192.0.2.1:1"
		for name, v := range map[string]string{"app_id": id, "app_key": key, "Authorization": auth} {
			if v != "" {
				r.Header.Set(name, v)
			}
		}
		w := &gwRecorder{h: http.Header{}}
		fx.g.ServeHTTP(w, r)
		switch {
		case w.code == 0 || w.code == 200:
		case w.code == 400 || w.code == 401 || w.code == 429:
			if fx.served != 0 {
				t.Fatalf("refused with %d but served", w.code)
			}
		default:
			t.Fatalf("status %d, want 200, 400, 401 or 429", w.code)
		}
	})
}

// gwRecorder records the status of an answer.
type gwRecorder struct {
	h    http.Header
	code int
}

func (w *gwRecorder) Header() http.Header         { return w.h }
func (w *gwRecorder) Write(p []byte) (int, error) { return len(p), nil }
func (w *gwRecorder) WriteHeader(code int)        { w.code = code }
