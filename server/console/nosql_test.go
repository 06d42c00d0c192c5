package console_test

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

// TestNoSQL: the console renders what the domain reads and asks the domain
// for every change (backend.go); it imports no database package and holds
// no SQL, so a rule about the register cannot be restated here.
func TestNoSQL(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	banned := []string{"database/sql", "github.com/jmoiron/sqlx", "github.com/lib/pq", "mortgaged/internal/db"}
	sql := regexp.MustCompile(`(?i)\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b`)
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
				if path == b && !(b == "mortgaged/internal/db" && onlyUnavailable(f)) {
					t.Errorf("%s imports %s", name, path)
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && sql.MatchString(strings.Join(strings.Fields(lit.Value), " ")) {
				t.Errorf("%s: SQL in the console: %.80s", fset.Position(lit.Pos()), lit.Value)
			}
			return true
		})
	}
}

// onlyUnavailable reports whether f uses internal/db only to recognise an
// outage (db.IsUnavailable, db.RetryAfter), which the error page needs.
func onlyUnavailable(f *ast.File) bool {
	ok := true
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, is := n.(*ast.SelectorExpr); is {
			if id, is := sel.X.(*ast.Ident); is && id.Name == "db" && sel.Sel.Name != "IsUnavailable" && sel.Sel.Name != "RetryAfter" {
				ok = false
			}
		}
		return true
	})
	return ok
}
