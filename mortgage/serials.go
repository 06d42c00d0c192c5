package mortgage

import (
	"context"
	"errors"
	"fmt"
	"time"
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
	GapRolledBack = "rolled_back"
	// GapNotCommitted: the transaction never committed because the process
	// or the database stopped; found by ReconcileSerials.
	GapNotCommitted = "not_committed"
)

// drawnSerial is a serial a transaction drew.
type drawnSerial struct {
	authority string
	year      int
	serial    int64
}

const (
	// A gap is recorded only while no certificate carries the number: a
	// COMMIT cut off by a cancelled request may still have landed.
	recordGapSQL = `INSERT INTO certificate_serial_gaps (authority, year, serial, reason)
		SELECT $1, $2, $3, $4
		WHERE NOT EXISTS (SELECT 1 FROM mortgages WHERE certificate_number = $5)
		ON CONFLICT DO NOTHING`
	serialSequencesSQL = `SELECT s.authority, s.year, s.reconciled_upto, COALESCE(q.last_value, 0) AS drawn_upto
		FROM certificate_serials s
		LEFT JOIN pg_sequences q ON q.schemaname = current_schema() AND q.sequencename = s.sequence_name
		ORDER BY s.authority, s.year`
	// Transactions open since before t, other than this session's.
	olderTransactionsSQL = `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start < $1)`
	recordNotCommittedSQL = `INSERT INTO certificate_serial_gaps (authority, year, serial, reason)
		SELECT $1, $2, g, 'not_committed' FROM generate_series($3::bigint + 1, $4::bigint) AS g
		WHERE NOT EXISTS (SELECT 1 FROM mortgages WHERE certificate_number = $5 || lpad(g::text, 7, '0') || '号')
		ON CONFLICT DO NOTHING`
	markReconciledSQL = `UPDATE certificate_serials SET reconciled_upto = $3
		WHERE authority = $1 AND year = $2 AND reconciled_upto < $3`
)

const ensureSequenceSQL = `SELECT certificate_serial_sequence($1, $2)::text`

// ensureSerialSequence makes sure the sequence of this year's serials
// exists, committed, before a registration transaction may draw from it
// (migration 0012 says why); once per year and process.
func (s *Service) ensureSerialSequence(ctx context.Context) error {
	year := s.Now().In(s.Config.Location).Year()
	if y := s.serialYear.Load(); y == int64(year) {
		return nil
	}
	var name string
	if err := s.DB.GetContext(ctx, &name, ensureSequenceSQL, s.Config.Authority, year); err != nil {
		return fmt.Errorf("certificate serials of %d: %w", year, err)
	}
	s.serialYear.Store(int64(year))
	return nil
}

// certificatePrefix is the certificate number up to its serial.
func (s *Service) certificatePrefix(year int) string {
	return fmt.Sprintf("%s(%d)%s不动产证明第", s.Config.Province, year, s.Config.City)
}

// recordRolledBack writes the serials a rolled-back transaction drew. It
// runs after the rollback on its own, uncancellable context: the request
// may be gone. Should it fail, ReconcileSerials records them later.
func (s *Service) recordRolledBack(drawn []drawnSerial) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, d := range drawn {
		number := fmt.Sprintf("%s%07d号", s.certificatePrefix(d.year), d.serial)
		_, _ = s.DB.ExecContext(ctx, recordGapSQL, d.authority, d.year, d.serial, GapRolledBack, number)
	}
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
	var seqs []struct {
		Authority string `db:"authority"`
		Year      int    `db:"year"`
		Upto      int64  `db:"reconciled_upto"`
		Drawn     int64  `db:"drawn_upto"`
	}
	var start time.Time
	if err := s.DB.GetContext(ctx, &start, `SELECT clock_timestamp()`); err != nil {
		return 0, fmt.Errorf("reconcile serials: %w", err)
	}
	if err := s.DB.SelectContext(ctx, &seqs, serialSequencesSQL); err != nil {
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
		res, err := s.DB.ExecContext(ctx, recordNotCommittedSQL, q.Authority, q.Year, q.Upto, q.Drawn, s.certificatePrefix(q.Year))
		if err != nil {
			return recorded, fmt.Errorf("reconcile serials %d: %w", q.Year, err)
		}
		n, _ := res.RowsAffected()
		recorded += n
		if _, err := s.DB.ExecContext(ctx, markReconciledSQL, q.Authority, q.Year, q.Drawn); err != nil {
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
		var open bool
		if err := s.DB.GetContext(ctx, &open, olderTransactionsSQL, t); err != nil {
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
