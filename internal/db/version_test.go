package db_test

import (
	"errors"
	"testing"

	"mortgaged/internal/db"
	"mortgaged/internal/pgtest"
)

// TestCheckVersion: an admin command's check passes on a database migrated
// by this binary and refuses one that is older or newer, saying which.
func TestCheckVersion(t *testing.T) {
	t.Parallel()
	d, err := db.Open(t.Context(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := db.CheckVersion(t.Context(), d); !errors.Is(err, db.ErrSchemaOlder) {
		t.Fatalf("never migrated: %v, want ErrSchemaOlder", err)
	}
	if _, err := db.Migrate(t.Context(), d, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckVersion(t.Context(), d); err != nil {
		t.Fatalf("migrated: %v", err)
	}
	ms, err := db.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	newest := ms[len(ms)-1]
	if _, err := d.Exec(`DELETE FROM schema_migrations WHERE version = $1`, newest.Version); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckVersion(t.Context(), d); !errors.Is(err, db.ErrSchemaOlder) {
		t.Errorf("one migration behind: %v, want ErrSchemaOlder", err)
	}
	if _, err := d.Exec(`INSERT INTO schema_migrations (version, name) VALUES ($1, 'x'), ($2, 'from_a_newer_release.sql')`, newest.Version, newest.Version+1); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckVersion(t.Context(), d); !errors.Is(err, db.ErrSchemaNewer) {
		t.Errorf("one migration ahead: %v, want ErrSchemaNewer", err)
	}
}
