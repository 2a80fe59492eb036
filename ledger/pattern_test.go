package ledger

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The hand-written matchers of the schema's patterns must decide exactly
// as the expressions they stand for.

var (
	uriRegexp    = regexp.MustCompile(uriExpr)
	badKeyRegexp = regexp.MustCompile(`^[$]|\.|\x00`)
)

// uriCases are condition URIs around every branch of uriExpr.
var uriCases = []string{
	"ni:///sha-256;" + strings.Repeat("a", 43) + "?fpt=ed25519-sha-256&cost=131072",
	"ni:///sha-256;abc_-XYZ09?fpt=threshold-sha-256&cost=264&subtypes=ed25519-sha-256",
	"ni:///sha-256;abc?cost=1&fpt=ed25519-sha-256",
	"ni:///sha-256;abc?fpt=ed25519-sha-256cost=5",
	"ni:///sha-256;abc?fpt=ed25519-sha-256&cost=5&",
	"ni:///sha-256;?cost=1&cost=2",
	"ni:///sha-256;?cost=1&cost=2&cost=3",
	"ni:///sha-256;?cost=1&cost=2&cost=3&cost=4",
	"ni:///sha-256;?cost=1",
	"ni:///sha-256;?cost=&cost=2",
	"ni:///sha-256;?cost=1&&cost=2",
	"ni:///sha-256;abc?fpt=rsa-sha-256&cost=1",
	"ni:///sha-256;ab+c?cost=1&cost=2",
	"ni:///sha-256;abc?cost=1&cost=2\n",
	"ni:///sha-256;abc?cost=1&cost=2x",
	"xni:///sha-256;abc?cost=1&cost=2",
	"ni:///sha-256;abc??cost=1&cost=2",
	"ni:///sha-256;abc?subtypes=ed25519-sha-256&subtypes=ed25519-sha-256",
	"ni:///sha-256;" + strings.Repeat("b", 86) + "?cost=1&cost=2",
	"ni:///sha-256;" + strings.Repeat("b", 87) + "?cost=1&cost=2",
	"ni:///sha-256;abc?fpt=ed25519-sha-25&cost=1",
	"ni:///sha-256;abc",
	"",
}

func TestIsConditionURIMatchesExpr(t *testing.T) {
	for _, s := range uriCases {
		if got, want := isConditionURI(s), uriRegexp.MatchString(s); got != want {
			t.Errorf("isConditionURI(%q)=%v, the expression says %v", s, got, want)
		}
	}
}

func TestIsBadKeyMatchesExpr(t *testing.T) {
	for _, k := range []string{"", "a", "$a", "a$", "a.b", ".", "a\x00", "\x00", "ok_key", "$", "a.$"} {
		if got, want := isBadKey(k), badKeyRegexp.MatchString(k); got != want {
			t.Errorf("isBadKey(%q)=%v, the expression says %v", k, got, want)
		}
	}
}

func FuzzConditionURI(f *testing.F) {
	for _, s := range uriCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isConditionURI(s), uriRegexp.MatchString(s); got != want {
			t.Fatalf("isConditionURI(%q)=%v, the expression says %v", s, got, want)
		}
		if got, want := isBadKey(s), badKeyRegexp.MatchString(s); got != want {
			t.Fatalf("isBadKey(%q)=%v, the expression says %v", s, got, want)
		}
	})
}

// TestSpliceSigningBase holds the spliced signing base of every valid
// fixture (CREATEs, TRANSFERs of several inputs, elections) to the one
// serialized from the body, and makes sure the splice, not its fallback,
// produced it.
func TestSpliceSigningBase(t *testing.T) {
	files, err := filepath.Glob("testdata/tx/valid/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid fixtures: %v", err)
	}
	multi := false
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := DecodeTx(raw)
		if err != nil {
			t.Fatalf("%s: DecodeTx()=%v", file, err)
		}
		multi = multi || len(tx.Inputs) > 1
		got, ok := spliceSigningBase(tx.Canonical(), len(tx.Inputs))
		if want := signingBase(tx.Body()); !ok || !bytes.Equal(got, want) {
			t.Errorf("%s: spliceSigningBase()=%s, %v; want %s, true", file, got, ok, want)
		}
	}
	if !multi {
		t.Error("no fixture has several inputs")
	}
	if _, ok := spliceSigningBase([]byte(`{"asset":{},"id":"x","inputs":[{"fulfills":null}]}`), 1); ok {
		t.Error("spliceSigningBase() accepted an input without a leading fulfillment")
	}
}
