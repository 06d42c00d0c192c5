package store

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Why a drawn serial reached no certificate (certificate_serial_gaps.reason).
const (
	// GapRolledBack: the registration's transaction rolled back after the
	// draw (a failure before commit); recorded as it rolled back.
	GapRolledBack = "rolled_back"
	// GapNotCommitted: the transaction never committed because the process
	// or the database stopped; found by reconciliation.
	GapNotCommitted = "not_committed"
)

// drawnSerial is a serial a transaction drew, and the number it made.
type drawnSerial struct {
	authority string
	year      int
	serial    int64
	number    string
}

const (
	// drawCertificateSQL draws the year's next serial from the authority's
	// sequence (migration 0012) and numbers the mortgage with it. A sequence
	// never waits for another transaction; a number whose transaction rolls
	// back is recorded as a gap with its reason.
	drawCertificateSQL = `UPDATE mortgages SET certificate_number = $1 || lpad(next_certificate_serial($2, $3)::text, 7, '0') || '号'
		WHERE id = $4 RETURNING certificate_number`
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
	ensureSequenceSQL = `SELECT certificate_serial_sequence($1, $2)::text`
)

// EnsureSerialSequence creates, committed, the sequence of authority's
// serials of year unless it exists (migration 0012).
func (s *Store) EnsureSerialSequence(ctx context.Context, authority string, year int) error {
	var name string
	return s.DB.GetContext(ctx, &name, ensureSequenceSQL, authority, year)
}

// DrawCertificate draws authority's next serial of year, numbers mortgage
// id with prefix, the serial in seven digits and 号, and returns the
// number. Should the transaction then not commit, InTx records the serial
// as a gap.
func (t *Tx) DrawCertificate(ctx context.Context, prefix, authority string, year int, id int64) (string, error) {
	var number string
	if err := t.GetContext(ctx, &number, drawCertificateSQL, prefix, authority, year, id); err != nil {
		return "", err
	}
	digits := strings.TrimSuffix(strings.TrimPrefix(number, prefix), "号")
	if serial, err := strconv.ParseInt(digits, 10, 64); err == nil {
		t.drawn = append(t.drawn, drawnSerial{authority: authority, year: year, serial: serial, number: number})
	}
	return number, nil
}

// recordRolledBack writes the serials a rolled-back transaction drew. It
// runs after the rollback on its own, uncancellable context: the request
// may be gone. Should it fail, reconciliation records them later.
func (s *Store) recordRolledBack(drawn []drawnSerial) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, d := range drawn {
		_, _ = s.DB.ExecContext(ctx, recordGapSQL, d.authority, d.year, d.serial, GapRolledBack, d.number)
	}
}

// SerialSequence is how far one authority's sequence of a year has drawn,
// and how far its numbers are reconciled.
type SerialSequence struct {
	Authority string `db:"authority"`
	Year      int    `db:"year"`
	Upto      int64  `db:"reconciled_upto"`
	Drawn     int64  `db:"drawn_upto"`
}

// ClockTimestamp is the database's clock.
func (s *Store) ClockTimestamp(ctx context.Context) (time.Time, error) {
	var now time.Time
	err := s.DB.GetContext(ctx, &now, `SELECT clock_timestamp()`)
	return now, err
}

// SerialSequences lists every authority's sequences.
func (s *Store) SerialSequences(ctx context.Context) ([]SerialSequence, error) {
	var seqs []SerialSequence
	err := s.DB.SelectContext(ctx, &seqs, serialSequencesSQL)
	return seqs, err
}

// TransactionsOpenSince reports whether another session's transaction
// that started before t is still open.
func (s *Store) TransactionsOpenSince(ctx context.Context, t time.Time) (bool, error) {
	var open bool
	err := s.DB.GetContext(ctx, &open, olderTransactionsSQL, t)
	return open, err
}

// RecordNotCommitted records as not committed the serials of q after
// q.Upto up to q.Drawn that no certificate numbered prefix, serial, 号
// carries nor a gap explains yet, and returns how many it recorded.
func (s *Store) RecordNotCommitted(ctx context.Context, q SerialSequence, prefix string) (int64, error) {
	res, err := s.DB.ExecContext(ctx, recordNotCommittedSQL, q.Authority, q.Year, q.Upto, q.Drawn, prefix)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// MarkReconciled records that q's numbers up to q.Drawn are reconciled.
func (s *Store) MarkReconciled(ctx context.Context, q SerialSequence) error {
	_, err := s.DB.ExecContext(ctx, markReconciledSQL, q.Authority, q.Year, q.Drawn)
	return err
}
