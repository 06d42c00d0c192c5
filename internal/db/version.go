package db

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Errors CheckVersion returns (wrapped, with the versions).
var (
	// ErrSchemaOlder: the database lacks migrations this binary has.
	ErrSchemaOlder = errors.New("database schema is older than this mortgaged")
	// ErrSchemaNewer: the database has migrations this binary does not know,
	// applied by a newer mortgaged.
	ErrSchemaNewer = errors.New("database schema is newer than this mortgaged")
)

// CheckVersion tells whether the database's schema is exactly the one this
// binary's migrations make, without changing it. Commands other than serve
// and migrate call it instead of Migrate: an admin command must neither
// upgrade a database behind the running servers' backs nor write to one
// whose tables it does not know.
func CheckVersion(ctx context.Context, d *sqlx.DB) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	var applied []int
	err = d.SelectContext(ctx, &applied, `SELECT version FROM schema_migrations ORDER BY version`)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "42P01" { // undefined_table: never migrated
		applied, err = nil, nil
	}
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	want := make([]int, len(ms))
	for i, m := range ms {
		want[i] = m.Version
	}
	for _, v := range applied {
		if !slices.Contains(want, v) {
			return fmt.Errorf("%w: the database has migration %d, this binary knows up to %d; use the mortgaged release the servers run", ErrSchemaNewer, v, last(want))
		}
	}
	for _, v := range want {
		if !slices.Contains(applied, v) {
			return fmt.Errorf("%w: the database is at %d, this binary needs %d; run `mortgaged migrate` (or start `mortgaged serve`) first", ErrSchemaOlder, last(applied), last(want))
		}
	}
	return nil
}

func last(vs []int) int {
	if len(vs) == 0 {
		return 0
	}
	return vs[len(vs)-1]
}
