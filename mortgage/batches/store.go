package batches

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mortgaged/internal/db"
	"mortgaged/mortgage"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Store keeps uploaded batch files, their claims and their records'
// results in the service's database.
type Store struct {
	Service *mortgage.Service
}

// ChunkSize is how much of an uploaded file one stored piece holds.
const ChunkSize = 1 << 20

// Upload streams an uploaded batch file into the database inside one
// transaction: nothing of it is visible until Commit, and an abandoned
// upload leaves nothing behind. It holds one chunk in memory at a time.
type Upload struct {
	s      *Store
	ctx    context.Context
	tx     *sqlx.Tx
	id     string
	buf    []byte
	chunks int
	size   int64
	err    error
}

// NewUpload starts storing an upload. Write the file to it, then
// Commit or Abort.
func (s *Store) NewUpload(ctx context.Context) (*Upload, error) {
	tx, err := s.Service.DB.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &Upload{s: s, ctx: ctx, tx: tx, id: newID(), buf: make([]byte, 0, ChunkSize)}, nil
}

// Write stores p, a chunk at a time.
func (u *Upload) Write(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), cap(u.buf)-len(u.buf))
		u.buf = append(u.buf, p[:k]...)
		p = p[k:]
		if len(u.buf) == cap(u.buf) {
			if err := u.flush(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

func (u *Upload) flush() error {
	if u.err != nil || len(u.buf) == 0 {
		return u.err
	}
	if _, err := u.tx.ExecContext(u.ctx, `INSERT INTO batch_chunks (batch_id, seq, data) VALUES ($1, $2, $3)`,
		u.id, u.chunks, u.buf); err != nil {
		u.err = fmt.Errorf("store batch file: %w", err)
		return u.err
	}
	u.chunks++
	u.size += int64(len(u.buf))
	u.buf = u.buf[:0]
	return nil
}

// Abort drops the upload; after Commit it does nothing.
func (u *Upload) Abort() { _ = u.tx.Rollback() }

// Commit records the batch of a whole, verified file whose SHA-256 is sum.
// When the partner already has a batch with the same number or the same
// file, nothing is kept and that batch is returned with created false.
func (u *Upload) Commit(partnerID string, h mortgage.BatchHeader, sum []byte) (b *mortgage.Batch, created bool, err error) {
	defer u.Abort()
	if err := u.flush(); err != nil {
		return nil, false, err
	}
	now := u.s.Service.Now().Truncate(time.Microsecond)
	res, err := u.tx.ExecContext(u.ctx, `INSERT INTO batches
		(id, partner_id, batch_number, batch_date, records, total_fen, sha256, size_bytes, chunks, uploaded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT DO NOTHING`,
		u.id, partnerID, h.Number, h.Date.Time, h.Records, h.TotalFen, sum, u.size, u.chunks, now)
	if err != nil {
		return nil, false, fmt.Errorf("insert batch: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// The same number or file, committed by an earlier (or a
		// concurrent, which the insert waited for) upload.
		_ = u.tx.Rollback()
		b, err := u.s.batchWhere(u.ctx, `partner_id = $1 AND (batch_number = $2 OR sha256 = $3) ORDER BY uploaded_at LIMIT 1`,
			partnerID, h.Number, sum)
		return b, false, err
	}
	if err := db.Audit(u.ctx, u.tx, db.AuditEntry{At: now, Actor: "partner:" + partnerID, Action: "batch.received", Subject: u.id,
		Detail: map[string]any{"partner": partnerID, "batchNumber": h.Number, "records": h.Records,
			"sha256": hex.EncodeToString(sum), "bytes": u.size}}); err != nil {
		return nil, false, err
	}
	if err := u.tx.Commit(); err != nil {
		return nil, false, fmt.Errorf("commit batch: %w", err)
	}
	b, err = u.s.Batch(u.ctx, partnerID, u.id)
	return b, true, err
}

func newID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return "pc" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

const batchColumns = `id, partner_id, batch_number, batch_date, records, total_fen, sha256, size_bytes, chunks,
	status, registered, rejected, desk, uploaded_at, started_at, finished_at`

type batchRow struct {
	ID         string               `db:"id"`
	PartnerID  string               `db:"partner_id"`
	Number     string               `db:"batch_number"`
	Date       time.Time            `db:"batch_date"`
	Records    int                  `db:"records"`
	TotalFen   int64                `db:"total_fen"`
	SHA256     []byte               `db:"sha256"`
	SizeBytes  int64                `db:"size_bytes"`
	Chunks     int                  `db:"chunks"`
	Status     mortgage.BatchStatus `db:"status"`
	Registered int                  `db:"registered"`
	Rejected   int                  `db:"rejected"`
	Desk       int                  `db:"desk"`
	UploadedAt time.Time            `db:"uploaded_at"`
	StartedAt  sql.NullTime         `db:"started_at"`
	FinishedAt sql.NullTime         `db:"finished_at"`
}

func (r *batchRow) batch() *mortgage.Batch {
	b := &mortgage.Batch{ID: r.ID, PartnerID: r.PartnerID,
		BatchHeader: mortgage.BatchHeader{Number: r.Number, Date: mortgage.NewDate(r.Date.Year(), r.Date.Month(), r.Date.Day()), Records: r.Records, TotalFen: r.TotalFen},
		SHA256:      r.SHA256, SizeBytes: r.SizeBytes, Status: r.Status,
		Registered: r.Registered, Rejected: r.Rejected, Desk: r.Desk, UploadedAt: r.UploadedAt}
	if r.StartedAt.Valid {
		b.StartedAt = &r.StartedAt.Time
	}
	if r.FinishedAt.Valid {
		b.FinishedAt = &r.FinishedAt.Time
	}
	return b
}

// Batch returns a partner's batch; another partner's batch is ErrNotFound.
func (s *Store) Batch(ctx context.Context, partnerID, id string) (*mortgage.Batch, error) {
	return s.batchWhere(ctx, `partner_id = $1 AND id = $2`, partnerID, id)
}

func (s *Store) batchWhere(ctx context.Context, where string, args ...any) (*mortgage.Batch, error) {
	var r batchRow
	if err := s.Service.DB.GetContext(ctx, &r, `SELECT `+batchColumns+` FROM batches WHERE `+where, args...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, mortgage.ErrNotFound
		}
		return nil, fmt.Errorf("read batch: %w", err)
	}
	return r.batch(), nil
}

// Records returns up to limit decided records of a partner's batch
// after the 0-based index after (-1 for the first page), in file order.
func (s *Store) Records(ctx context.Context, partnerID, batchID string, after, limit int) ([]mortgage.BatchRecord, error) {
	rows, err := s.Service.DB.QueryxContext(ctx, `SELECT r.idx, r.reference, r.status, COALESCE(r.bundle_id, '') AS bundle_id,
			COALESCE(r.certificate_number, '') AS certificate_number, r.registered_at, r.reasons, r.decided_at
		FROM batch_records r JOIN batches b ON b.id = r.batch_id
		WHERE r.batch_id = $1 AND b.partner_id = $2 AND r.idx > $3
		ORDER BY r.idx LIMIT $4`, batchID, partnerID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read batch records: %w", err)
	}
	defer rows.Close()
	var out []mortgage.BatchRecord
	for rows.Next() {
		var r struct {
			Index        int             `db:"idx"`
			Reference    string          `db:"reference"`
			Status       mortgage.Status `db:"status"`
			BundleID     string          `db:"bundle_id"`
			Certificate  string          `db:"certificate_number"`
			RegisteredAt sql.NullTime    `db:"registered_at"`
			Reasons      []byte          `db:"reasons"`
			DecidedAt    time.Time       `db:"decided_at"`
		}
		if err := rows.StructScan(&r); err != nil {
			return nil, fmt.Errorf("read batch records: %w", err)
		}
		rec := mortgage.BatchRecord{Index: r.Index, Reference: r.Reference, Status: r.Status, BundleID: r.BundleID,
			CertificateNumber: r.Certificate, DecidedAt: r.DecidedAt}
		if r.RegisteredAt.Valid {
			rec.RegisteredAt = &r.RegisteredAt.Time
		}
		if err := json.Unmarshal(r.Reasons, &rec.Reasons); err != nil {
			return nil, fmt.Errorf("batch %s record %d reasons: %w", batchID, r.Index, err)
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// claimedBatch is a batch this node holds, with what processing needs.
type claimedBatch struct {
	batchRow
	CreditCode string               `db:"credit_code"`
	Mortgagees []mortgage.Mortgagee `db:"-"` // whom its records may name as mortgagee
}

// claim takes the oldest open batch that no live node holds: never
// claimed, released, or claimed by a node whose lease ran out (it died).
// Claims are by status with SKIP LOCKED, so nodes never wait on each other.
func (s *Store) claim(ctx context.Context, node string, lease time.Duration) (*claimedBatch, error) {
	var b claimedBatch
	err := s.Service.DB.GetContext(ctx, &b, `UPDATE batches SET status = 'processing', claimed_by = $1,
			claimed_until = now() + $2 * interval '1 millisecond', started_at = COALESCE(started_at, $3), passes = passes + 1
		WHERE id = (SELECT id FROM batches
			WHERE status <> 'finished' AND (claimed_until IS NULL OR claimed_until < now()) AND not_before <= now()
			ORDER BY uploaded_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING `+batchColumns+`, (SELECT credit_code FROM partners p WHERE p.id = batches.partner_id) AS credit_code`,
		node, lease.Milliseconds(), s.Service.Now().Truncate(time.Microsecond))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim batch: %w", err)
	}
	b.CreditCode = strings.TrimSpace(b.CreditCode)
	return &b, nil
}

// renewClaim extends this node's claim; false means it is no longer ours.
func (s *Store) renewClaim(ctx context.Context, id, node string, lease time.Duration) (bool, error) {
	res, err := s.Service.DB.ExecContext(ctx, `UPDATE batches SET claimed_until = now() + $3 * interval '1 millisecond'
		WHERE id = $1 AND claimed_by = $2 AND status <> 'finished'`, id, node, lease.Milliseconds())
	if err != nil {
		return false, fmt.Errorf("renew batch claim: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// releaseClaim gives the batch back, to be taken again from notBefore.
func (s *Store) releaseClaim(ctx context.Context, id, node string, notBefore time.Time, lastError string) error {
	_, err := s.Service.DB.ExecContext(ctx, `UPDATE batches SET claimed_by = NULL, claimed_until = NULL, not_before = $3, last_error = NULLIF($4, '')
		WHERE id = $1 AND claimed_by = $2`, id, node, notBefore, lastError)
	if err != nil {
		return fmt.Errorf("release batch claim: %w", err)
	}
	return nil
}

// decidedRecords says which records of a batch already have a result.
func (s *Store) decidedRecords(ctx context.Context, id string, records int) ([]bool, error) {
	done := make([]bool, records)
	rows, err := s.Service.DB.QueryContext(ctx, `SELECT idx FROM batch_records WHERE batch_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("read decided records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			return nil, err
		}
		if i >= 0 && i < records {
			done[i] = true
		}
	}
	return done, rows.Err()
}

// recordResults stores records' results, each once: a result already
// stored (by an earlier pass, or a node that overlapped with this one) is
// kept, and the counts grow only by the results actually added.
func (s *Store) recordResults(ctx context.Context, batchID string, recs []mortgage.BatchRecord) error {
	n := len(recs)
	idx, refs, statuses, bundles, certs, registered, reasons, decided :=
		make([]int64, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, r := range recs {
		idx[i], refs[i], statuses[i], bundles[i], certs[i] = int64(r.Index), r.Reference, string(r.Status), r.BundleID, r.CertificateNumber
		if r.RegisteredAt != nil {
			registered[i] = r.RegisteredAt.Format(time.RFC3339Nano)
		}
		rs := r.Reasons
		if rs == nil {
			rs = mortgage.Issues{} // [] in the column, never null
		}
		b, _ := json.Marshal(rs)
		reasons[i] = string(b)
		decided[i] = r.DecidedAt.Format(time.RFC3339Nano)
	}
	_, err := s.Service.DB.ExecContext(ctx, `WITH added AS (
			INSERT INTO batch_records (batch_id, idx, reference, status, bundle_id, certificate_number, registered_at, reasons, decided_at)
			SELECT $1, r.idx, r.ref, r.status, NULLIF(r.bundle, ''), NULLIF(r.cert, ''), NULLIF(r.registered, '')::timestamptz,
				r.reasons::jsonb, r.decided::timestamptz
			FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
				AS r(idx, ref, status, bundle, cert, registered, reasons, decided)
			ON CONFLICT (batch_id, idx) DO NOTHING
			RETURNING status)
		UPDATE batches SET
			registered = registered + (SELECT count(*) FROM added WHERE status = 'registered'),
			rejected = rejected + (SELECT count(*) FROM added WHERE status = 'rejected'),
			desk = desk + (SELECT count(*) FROM added WHERE status = 'desk')
		WHERE id = $1`,
		batchID, pq.Array(idx), pq.Array(refs), pq.Array(statuses), pq.Array(bundles), pq.Array(certs),
		pq.Array(registered), pq.Array(reasons), pq.Array(decided))
	if err != nil {
		return fmt.Errorf("record batch results: %w", err)
	}
	return nil
}

// finish marks a batch whose every record is decided as finished and
// writes its batch.finished event, in one transaction, once: false means
// records are still undecided, or another node finished it first.
func (s *Store) finish(ctx context.Context, id string) (finished bool, err error) {
	err = db.WithTx(ctx, s.Service.DB, nil, func(tx *sqlx.Tx) (err error) {
		finished, err = s.finishIn(ctx, tx, id)
		return err
	})
	return finished, err
}

func (s *Store) finishIn(ctx context.Context, tx *sqlx.Tx, id string) (bool, error) {
	now := s.Service.Now().Truncate(time.Microsecond)
	var r batchRow
	err := tx.GetContext(ctx, &r, `UPDATE batches SET status = 'finished', finished_at = $2, claimed_by = NULL, claimed_until = NULL, last_error = NULL
		WHERE id = $1 AND status <> 'finished' AND registered + rejected + desk = records
		RETURNING `+batchColumns, id, now)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("finish batch: %w", err)
	}
	b := r.batch()
	if err := db.Audit(ctx, tx, db.AuditEntry{At: now, Actor: s.Service.Config.RecordingOfficer, Action: "batch.finished", Subject: b.ID,
		Detail: map[string]any{"partner": b.PartnerID, "batchNumber": b.Number, "records": b.Records,
			"registered": b.Registered, "rejected": b.Rejected, "desk": b.Desk}}); err != nil {
		return false, err
	}
	if err := s.Service.Enqueue(ctx, tx, mortgage.Event{ID: mortgage.NewEventID(), Type: mortgage.EventBatchFinished, PartnerID: b.PartnerID,
		Subject: b.ID, OccurredAt: now, Batch: b}); err != nil {
		return false, err
	}
	return true, nil
}
