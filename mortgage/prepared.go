package mortgage

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"

	"mortgaged/internal/db"
)

// ptx is a transaction whose statements run prepared: each query is
// prepared once per connection and reused, so registration skips
// PostgreSQL's parse and plan on every call and lib/pq's extra round trip
// (the load benchmark's profile: about a third of PostgreSQL's time).
type ptx struct {
	*sqlx.Tx
	st *db.Statements
}

// begin starts a transaction on the service's pool.
func (s *Service) begin(ctx context.Context, opts *sql.TxOptions) (*ptx, error) {
	tx, err := s.DB.BeginTxx(ctx, opts)
	if err != nil {
		return nil, err
	}
	s.stmtsOnce.Do(func() { s.stmts = &db.Statements{DB: s.DB} })
	return &ptx{Tx: tx, st: s.stmts}, nil
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
