package mortgage_test

import (
	"go/ast"
	"testing"

	"mortgaged/internal/nosql"
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
	nosql.Check(t, []string{"github.com/jmoiron/sqlx", "github.com/lib/pq"},
		func(file string, _ *ast.File, path string) bool { return allowedImports[file] == path },
		"statements belong in mortgage/store")
}
