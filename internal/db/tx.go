package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// WithTx runs fn in a transaction: committed when fn returns nil, rolled
// back when it returns an error or panics. The error is fn's, or the
// commit's; a commit that fails may still have landed (the connection died
// after the server committed), which callers that must know reconcile.
func WithTx(ctx context.Context, d *sqlx.DB, opts *sql.TxOptions, fn func(*sqlx.Tx) error) (err error) {
	tx, err := d.BeginTxx(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Execer is what Audit needs: a transaction, prepared or not.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// AuditEntry is one line of the append-only audit trail: who did what to
// which subject, and the facts a later reader needs.
type AuditEntry struct {
	At      time.Time
	Actor   string // "partner:<id>", "staff:<user>", "system"
	Action  string // dotted verb, e.g. "bundle.registered"
	Subject string // the bundle, batch, rule or account acted on
	Detail  any    // marshalled to JSON; nil is {}
}

// AuditSQL inserts one audit_log row; exported for the load benchmark's
// pgbench floor, which must run the same statement.
const AuditSQL = `INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)`

// Audit appends e to the audit trail inside tx, so the record lands or
// rolls back with the change it describes.
func Audit(ctx context.Context, tx Execer, e AuditEntry) error {
	detail := []byte("{}")
	if e.Detail != nil {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return fmt.Errorf("audit %s: %w", e.Action, err)
		}
		detail = b
	}
	if _, err := tx.ExecContext(ctx, AuditSQL, e.At, e.Actor, e.Action, e.Subject, detail); err != nil {
		return fmt.Errorf("insert audit record %s: %w", e.Action, err)
	}
	return nil
}
