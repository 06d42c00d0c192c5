package mortgage

import (
	"context"
	"database/sql"

	"mortgaged/mortgage/store"
)

// ptx is the registration's transaction: its statements run prepared
// (store.Tx).
type ptx = store.Tx

// inTx runs fn in a transaction of the service's store (store.InTx), once
// the sequence of this year's certificate serials exists. Serials fn drew
// are recorded as gaps when the transaction surely did not commit.
func (s *Service) inTx(ctx context.Context, opts *sql.TxOptions, fn func(*ptx) error) error {
	if err := s.ensureSerialSequence(ctx); err != nil {
		return err
	}
	return s.store().InTx(ctx, opts, fn)
}

// store is the service's persistence, made on first use on s.DB.
func (s *Service) store() *store.Store {
	s.storeOnce.Do(func() { s.st = store.New(s.DB) })
	return s.st
}
