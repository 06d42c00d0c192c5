package mortgage_test

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

// TestNoSQL keeps the seam between the domain and its store: package
// mortgage keeps the flow and the rules, and every statement it runs is a
// method of mortgage/store. No file of the package (its subpackages aside)
// holds SQL or imports the driver or sqlx, except for what is listed here
// with its reason. database/sql stays allowed for its types (sql.NullTime
// in the console's read models, sql.TxOptions), as does internal/db for
// db.AuditEntry.
func TestNoSQL(t *testing.T) {
	t.Parallel()
	allowedImports := map[string]string{
		// Service.DB and NewService(db, cfg) take the pool the store runs
		// on; the batch runner (mortgage/batches) uses it too.
		"service.go": "github.com/jmoiron/sqlx",
	}
	banned := []string{"github.com/jmoiron/sqlx", "github.com/lib/pq"}
	sql := regexp.MustCompile(`(?i)\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|pg_advisory)`)
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
				if path == b && allowedImports[name] != path {
					t.Errorf("%s imports %s: statements belong in mortgage/store", name, path)
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && sql.MatchString(strings.Join(strings.Fields(lit.Value), " ")) {
				t.Errorf("%s: SQL in the domain, move it to mortgage/store: %.80s", fset.Position(lit.Pos()), lit.Value)
			}
			return true
		})
	}
}
