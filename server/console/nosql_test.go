package console_test

import (
	"go/ast"
	"testing"

	"mortgaged/internal/nosql"
)

// TestNoSQL: the console renders what the domain reads and asks the domain
// for every change (backend.go); it imports no database package and holds
// no SQL, so a rule about the register cannot be restated here.
func TestNoSQL(t *testing.T) {
	t.Parallel()
	nosql.Check(t, []string{"database/sql", "github.com/jmoiron/sqlx", "github.com/lib/pq", "mortgaged/internal/db"},
		func(_ string, f *ast.File, path string) bool {
			return path == "mortgaged/internal/db" && onlyUnavailable(f)
		},
		"the console asks the domain (backend.go)")
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
