package mortgage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mortgaged/mortgage/store"
)

// Certificate serials come from a sequence per authority and year
// (migration 0012), which never makes one registration wait for another's
// commit. A number whose transaction does not commit is not drawn again;
// it is recorded with its reason, so every number of a year is on a
// certificate or explained (DECISIONS.md, Numbers).

// Why a drawn serial reached no certificate.
const (
	// GapRolledBack: the registration's transaction rolled back after the
	// draw (a failure before commit); recorded as it rolled back.
	GapRolledBack = store.GapRolledBack
	// GapNotCommitted: the transaction never committed because the process
	// or the database stopped; found by ReconcileSerials.
	GapNotCommitted = store.GapNotCommitted
)

// ensureSerialSequence makes sure the sequence of this year's serials
// exists, committed, before a registration transaction may draw from it
// (migration 0012 says why); once per year and process.
func (s *Service) ensureSerialSequence(ctx context.Context) error {
	year := s.Now().In(s.Config.Location).Year()
	if y := s.serialYear.Load(); y == int64(year) {
		return nil
	}
	if err := s.store().EnsureSerialSequence(ctx, s.Config.Authority, year); err != nil {
		return fmt.Errorf("certificate serials of %d: %w", year, err)
	}
	s.serialYear.Store(int64(year))
	return nil
}

// certificatePrefix is the certificate number up to its serial.
func (s *Service) certificatePrefix(year int) string {
	return fmt.Sprintf("%s(%d)%s不动产证明第", s.Config.Province, year, s.Config.City)
}

// ReconcileSerials records, as not committed, every serial drawn by a
// transaction that ended without committing and without saying so (a
// killed process, a database restart). It reads how far each sequence has
// drawn, waits until every transaction that was open then has ended (so
// each number up to there either is on a certificate or never will be),
// then records the numbers that are neither on a certificate nor already
// explained. It returns how many it recorded; run it at start and now and
// then, on any node: two runs at once record each number once.
func (s *Service) ReconcileSerials(ctx context.Context) (int64, error) {
	st := s.store()
	start, err := st.ClockTimestamp(ctx)
	if err != nil {
		return 0, fmt.Errorf("reconcile serials: %w", err)
	}
	seqs, err := st.SerialSequences(ctx)
	if err != nil {
		return 0, fmt.Errorf("reconcile serials: %w", err)
	}
	if err := s.awaitTransactionsBefore(ctx, start); err != nil {
		return 0, err
	}
	var recorded int64
	for _, q := range seqs {
		if q.Drawn <= q.Upto || q.Authority != s.Config.Authority {
			continue // nothing new, or another authority's numbers (their prefix is not ours)
		}
		n, err := st.RecordNotCommitted(ctx, q, s.certificatePrefix(q.Year))
		if err != nil {
			return recorded, fmt.Errorf("reconcile serials %d: %w", q.Year, err)
		}
		recorded += n
		if err := st.MarkReconciled(ctx, q); err != nil {
			return recorded, fmt.Errorf("reconcile serials %d: %w", q.Year, err)
		}
	}
	return recorded, nil
}

// errStillOpen: a transaction older than the reconciliation did not end
// in time; the next run tries again.
var errStillOpen = errors.New("reconcile serials: transactions older than the look at the sequences are still open")

// awaitTransactionsBefore waits until no other transaction that started
// before t is open. Registrations are short and every session has
// statement and idle-in-transaction timeouts, so this ends soon.
func (s *Service) awaitTransactionsBefore(ctx context.Context, t time.Time) error {
	wait := 50 * time.Millisecond
	for range 40 {
		open, err := s.store().TransactionsOpenSince(ctx, t)
		if err != nil {
			return fmt.Errorf("reconcile serials: %w", err)
		}
		if !open {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
	return errStillOpen
}
