package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/db"
)

// Store runs the domain's statements on one pool.
type Store struct {
	DB    *sqlx.DB
	stmts *db.Statements // prepared statements of the hot path
}

// New returns the store of the pool d.
func New(d *sqlx.DB) *Store { return &Store{DB: d, stmts: &db.Statements{DB: d}} }

// Tx is a transaction whose statements run prepared: each query is
// prepared once per connection and reused, so registration skips
// PostgreSQL's parse and plan on every call and lib/pq's extra round trip
// (the load benchmark's profile: about a third of PostgreSQL's time).
type Tx struct {
	tx    *sqlx.Tx
	st    *db.Statements
	drawn []drawnSerial // certificate serials drawn, recorded as gaps if this rolls back
}

// InTx runs fn in a transaction on the pool (db.WithTx), with its
// statements prepared. Certificate serials fn drew (DrawCertificate) are
// recorded as gaps, with their reason, when the transaction surely did not
// commit: fn failed or panicked, or the request was cancelled before
// COMMIT was sent (database/sql then rolls back without sending it). Any
// other failed COMMIT may have landed; reconciliation decides those.
func (s *Store) InTx(ctx context.Context, opts *sql.TxOptions, fn func(*Tx) error) (err error) {
	var t *Tx
	committing := false
	defer func() {
		if t == nil || len(t.drawn) == 0 {
			return
		}
		p := recover()
		if p != nil || (err != nil && (!committing || commitNotSent(err))) {
			s.recordRolledBack(t.drawn)
		}
		if p != nil {
			panic(p)
		}
	}()
	err = db.WithTx(ctx, s.DB, opts, func(tx *sqlx.Tx) error {
		t = &Tx{tx: tx, st: s.stmts}
		if err := fn(t); err != nil {
			return err
		}
		committing = true
		return nil
	})
	if err != nil && committing {
		err = fmt.Errorf("commit: %w", err)
	}
	return err
}

// commitNotSent reports whether a failed COMMIT was never sent: the
// request ended first and database/sql rolled back instead.
func commitNotSent(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sql.ErrTxDone)
}

// GetContext runs a prepared query for one row. With ExecContext it makes
// Tx a Queryer, which events are written through.
func (t *Tx) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	st, err := t.st.In(ctx, t.tx, query)
	if err != nil {
		return err
	}
	return st.GetContext(ctx, dest, args...)
}

// selectContext runs a prepared query for rows.
func (t *Tx) selectContext(ctx context.Context, dest any, query string, args ...any) error {
	st, err := t.st.In(ctx, t.tx, query)
	if err != nil {
		return err
	}
	return st.SelectContext(ctx, dest, args...)
}

// ExecContext runs a prepared statement.
func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.st.In(ctx, t.tx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}
