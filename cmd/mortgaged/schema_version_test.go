package main

import (
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/db"
	"mortgaged/internal/pgtest"
)

// TestAdminCommandsCheckSchemaVersion: an admin command refuses a database
// older or newer than the binary, saying which and what to do, and leaves
// it as it is; only migrate (and serve) bring it up to date.
func TestAdminCommandsCheckSchemaVersion(t *testing.T) {
	url := pgtest.New(t)
	d, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ms, err := db.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	newest := ms[len(ms)-1]
	env := []string{"DATABASE_URL=" + url}
	data := t.TempDir()
	recorded := func(v int) bool {
		t.Helper()
		var n int
		if err := d.Get(&n, `SELECT count(*) FROM schema_migrations WHERE version = $1`, v); err != nil {
			return false // no table: never migrated
		}
		return n == 1
	}

	// A database older than the binary: here, one never migrated.
	if _, err := d.Exec(`DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"partner", "list"}, {"staff", "list"}, {"keys", "list"}, {"events", "dead"}} {
		_, errOut, code := runBinary(t, env, append(args, "-data", data)...)
		if code == 0 || !strings.Contains(errOut, "older") || !strings.Contains(errOut, "mortgaged migrate") {
			t.Errorf("%v on an older schema: exit %d, %s", args, code, errOut)
		}
	}
	if recorded(newest.Version) {
		t.Fatalf("an admin command migrated the database")
	}
	if _, errOut, code := runBinary(t, env, "migrate", "-data", data); code != 0 || !recorded(newest.Version) {
		t.Fatalf("migrate: exit %d, %s", code, errOut)
	}
	if _, errOut, code := runBinary(t, env, "partner", "list", "-data", data); code != 0 {
		t.Fatalf("partner list after migrate: exit %d, %s", code, errOut)
	}

	if _, err := d.Exec(`INSERT INTO schema_migrations (version, name) VALUES ($1, 'from_a_newer_release.sql')`, newest.Version+1); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runBinary(t, env, "partner", "list", "-data", data)
	if code == 0 || !strings.Contains(errOut, "newer") {
		t.Errorf("partner list on a newer schema: exit %d, %s", code, errOut)
	}
}
