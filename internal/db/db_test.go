package db_test

import (
	"context"
	"sync"
	"testing"

	"mortgaged/internal/db"
	"mortgaged/internal/pgtest"
)

// The template stays empty: these tests run the migrations themselves.
func TestMain(m *testing.M) {
	pgtest.Main(m, func(context.Context, string) error { return nil })
}

// TestMigrateConcurrently starts several nodes' migrations at once: the
// advisory lock lets exactly one apply each migration.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	url := pgtest.New(t)
	ms, err := db.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	const nodes = 4
	applied := make([]int, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			d, err := db.Open(t.Context(), url)
			if err != nil {
				errs[i] = err
				return
			}
			defer d.Close()
			applied[i], errs[i] = db.Migrate(t.Context(), d, nil)
		})
	}
	wg.Wait()
	total := 0
	for i := range nodes {
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
		total += applied[i]
	}
	if total != len(ms) {
		t.Errorf("%d migrations applied across nodes, want %d (each exactly once)", total, len(ms))
	}
	d, err := db.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var versions []int
	if err := d.Select(&versions, `SELECT version FROM schema_migrations ORDER BY version`); err != nil {
		t.Fatal(err)
	}
	if len(versions) != len(ms) || versions[0] != ms[0].Version {
		t.Errorf("recorded versions %v", versions)
	}
	// Running again is a no-op.
	if n, err := db.Migrate(t.Context(), d, nil); err != nil || n != 0 {
		t.Errorf("second run applied %d (%v), want 0", n, err)
	}
}

func TestMigrationsAreNumbered(t *testing.T) {
	t.Parallel()
	ms, err := db.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Version <= ms[i-1].Version {
			t.Errorf("migration %s does not come after %s", ms[i].Name, ms[i-1].Name)
		}
	}
}
