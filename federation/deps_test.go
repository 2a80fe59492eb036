package federation

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// allowedImports are the only direct imports of the package: no I/O, clock,
// randomness, logging or concurrency. (os still shows up in -deps, reached
// only through fmt.)
var allowedImports = []string{
	"cmp", "encoding/hex", "errors", "fmt", "maps", "math", "math/bits", "slices", "strings", "time",
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

func TestDirectImportsAllowed(t *testing.T) {
	for _, imp := range goList(t, "-f", "{{join .Imports \" \"}}", ".") {
		if !slices.Contains(allowedImports, imp) {
			t.Fatalf("federation imports %q, want only %v", imp, allowedImports)
		}
	}
}

func TestDepsHaveNoNetworkStorageOrOwnPackages(t *testing.T) {
	const self = "github.com/ipdb/ipdb-node/federation"
	for _, dep := range goList(t, "-deps", ".") {
		bad := dep == "net" || strings.HasPrefix(dep, "net/") ||
			strings.Contains(dep, "libp2p") || strings.Contains(dep, "badger") ||
			(strings.HasPrefix(dep, "github.com/ipdb/ipdb-node/") && dep != self)
		if bad {
			t.Fatalf("go list -deps federation has %q, want no network, storage or other ipdb-node packages", dep)
		}
	}
}

// TestNoGoroutinesClockOrRandomness parses the non-test files: no go
// statement, no time.Now, no math/rand.
func TestNoGoroutinesClockOrRandomness(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatalf("Glob()=%v", err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatalf("ParseFile(%s)=%v", name, err)
		}
		checkImports(t, fset, f)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%v: go statement", fset.Position(n.Pos()))
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && id.Name == "time" && (n.Sel.Name == "Now" || n.Sel.Name == "Since") {
					t.Errorf("%v: time.%s", fset.Position(n.Pos()), n.Sel.Name)
				}
			}
			return true
		})
	}
}

func checkImports(t *testing.T, fset *token.FileSet, f *ast.File) {
	t.Helper()
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if strings.HasPrefix(path, "math/rand") || path == "crypto/rand" {
			t.Errorf("%v: imports %s", fset.Position(imp.Pos()), path)
		}
	}
}
