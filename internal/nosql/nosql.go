// Package nosql is a test helper that keeps a layer free of SQL: the
// domain (mortgage) keeps its statements in mortgage/store, and the staff
// console keeps none at all. Check parses the non-test Go files of the
// calling package's directory and reports banned imports and string
// literals that read as SQL.
package nosql

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// statement is what a string literal holding SQL looks like.
var statement = regexp.MustCompile(`(?i)\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|pg_advisory)`)

// Check reports, in the current directory's non-test files, every import
// of a banned path that allowed does not excuse (allowed may be nil), and
// every string literal holding SQL; where names the right home in the
// message.
func Check(t *testing.T, banned []string, allowed func(file string, f *ast.File, path string) bool, where string) {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, b := range banned {
				if path == b && (allowed == nil || !allowed(name, f, path)) {
					t.Errorf("%s imports %s: %s", name, path, where)
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && statement.MatchString(strings.Join(strings.Fields(lit.Value), " ")) {
				t.Errorf("%s: SQL here, %s: %.80s", fset.Position(lit.Pos()), where, lit.Value)
			}
			return true
		})
	}
}
