package mortgage

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/db"
)

// ptx is a transaction whose statements run prepared: each query is
// prepared once per connection and reused, so registration skips
// PostgreSQL's parse and plan on every call and lib/pq's extra round trip
// (the load benchmark's profile: about a third of PostgreSQL's time).
type ptx struct {
	*sqlx.Tx
	st    *db.Statements
	svc   *Service
	drawn []drawnSerial // certificate serials drawn, recorded as gaps if this rolls back
}

// begin starts a transaction on the service's pool.
func (s *Service) begin(ctx context.Context, opts *sql.TxOptions) (*ptx, error) {
	if err := s.ensureSerialSequence(ctx); err != nil {
		return nil, err
	}
	tx, err := s.DB.BeginTxx(ctx, opts)
	if err != nil {
		return nil, err
	}
	s.stmtsOnce.Do(func() { s.stmts = &db.Statements{DB: s.DB} })
	return &ptx{Tx: tx, st: s.stmts, svc: s}, nil
}

// Commit commits. When the request was cancelled first, database/sql rolls
// back without sending COMMIT: the serials drawn are recorded as gaps.
// Any other failed COMMIT may have landed; reconciliation decides those.
func (t *ptx) Commit() error {
	err := t.Tx.Commit()
	if err != nil && len(t.drawn) > 0 && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sql.ErrTxDone)) {
		t.svc.recordRolledBack(t.drawn)
	}
	t.drawn = nil
	return err
}

// Rollback rolls back (a no-op after Commit) and records the certificate
// serials the transaction drew as gaps with their reason.
func (t *ptx) Rollback() error {
	err := t.Tx.Rollback()
	if len(t.drawn) > 0 && (err == nil || errors.Is(err, sql.ErrTxDone)) {
		t.svc.recordRolledBack(t.drawn)
	}
	t.drawn = nil
	return err
}

// GetContext runs a prepared query for one row.
func (t *ptx) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	st, err := t.st.In(ctx, t.Tx, query)
	if err != nil {
		return err
	}
	return st.GetContext(ctx, dest, args...)
}

// SelectContext runs a prepared query for rows.
func (t *ptx) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	st, err := t.st.In(ctx, t.Tx, query)
	if err != nil {
		return err
	}
	return st.SelectContext(ctx, dest, args...)
}

// ExecContext runs a prepared statement.
func (t *ptx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.st.In(ctx, t.Tx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}
