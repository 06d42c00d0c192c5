package db

import (
	"context"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Statements prepares each query once on the pool. database/sql then
// prepares it once per connection and reuses it inside transactions, so a
// hot path skips PostgreSQL's parse and plan on every call and lib/pq's
// extra round trip for unnamed statements.
type Statements struct {
	DB *sqlx.DB
	m  sync.Map // query → *sqlx.Stmt
}

// Get returns the pool-level prepared statement for query.
func (s *Statements) Get(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if v, ok := s.m.Load(query); ok {
		return v.(*sqlx.Stmt), nil
	}
	st, err := s.DB.PreparexContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil, err
	}
	if v, loaded := s.m.LoadOrStore(query, st); loaded {
		st.Close() // another goroutine prepared it first
		return v.(*sqlx.Stmt), nil
	}
	return st, nil
}

// In returns query's prepared statement bound to tx.
func (s *Statements) In(ctx context.Context, tx *sqlx.Tx, query string) (*sqlx.Stmt, error) {
	st, err := s.Get(ctx, query)
	if err != nil {
		return nil, err
	}
	return tx.StmtxContext(ctx, st), nil
}
