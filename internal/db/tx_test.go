package db_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/db"
	"mortgaged/internal/pgtest"
)

// TestWithTx: fn's error and fn's panic both leave nothing behind; a nil
// return commits, audit record included.
func TestWithTx(t *testing.T) {
	t.Parallel()
	d, err := db.Open(t.Context(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := db.Migrate(t.Context(), d, nil); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	write := func(subject string) func(*sqlx.Tx) error {
		return func(tx *sqlx.Tx) error {
			return db.Audit(t.Context(), tx, db.AuditEntry{At: at, Actor: "system", Action: "test.write", Subject: subject,
				Detail: map[string]string{"k": "v"}})
		}
	}
	boom := errors.New("boom")
	err = db.WithTx(t.Context(), d, nil, func(tx *sqlx.Tx) error {
		if err := write("failed")(tx); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WithTx returned %v, want fn's error", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("a panic in fn was swallowed")
			}
		}()
		_ = db.WithTx(t.Context(), d, nil, func(tx *sqlx.Tx) error {
			_ = write("panicked")(tx)
			panic("fn panics")
		})
	}()
	if err := db.WithTx(t.Context(), d, nil, write("committed")); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Subject string `db:"subject"`
		Detail  string `db:"detail"`
	}
	if err := d.Select(&rows, `SELECT subject, detail::text AS detail FROM audit_log WHERE action = 'test.write'`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Subject != "committed" || rows[0].Detail != `{"k": "v"}` {
		t.Errorf("audit_log holds %+v, want only the committed record with its detail", rows)
	}
}
