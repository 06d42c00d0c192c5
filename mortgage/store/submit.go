package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lib/pq"

	"mortgaged/internal/db"
)

// The statements of a submission's bundle, in the registration's
// transaction.

const lockSQL = `SELECT pg_advisory_xact_lock($1, hashtext($2))`

// AdvisoryLock takes the transaction's advisory lock on key in space:
// another transaction taking the same waits until this one ends.
func (t *Tx) AdvisoryLock(ctx context.Context, space int, key string) error {
	_, err := t.ExecContext(ctx, lockSQL, space, key)
	return err
}

// Reference lookups. A single bundle's reference is also the partner's
// reference for a batch record (record_reference): both are unique per
// partner, in one namespace (PROMISES S2/S3).
const (
	priorByReferenceSQL = `SELECT id, content_hash, response_status, response_body, record_reference IS NOT NULL AS is_record
		FROM bundles WHERE partner_id = $1 AND (reference = $2 OR record_reference = $2)
		ORDER BY received_at, id LIMIT 1`
	priorRecordBundleSQL = `SELECT id, content_hash, response_status, response_body, true AS is_record
		FROM bundles WHERE partner_id = $1 AND reference = $2`
	priorByRecordSQL = `SELECT id, content_hash, response_status, response_body, true AS is_record
		FROM bundles WHERE partner_id = $1 AND (record_reference = $2 OR (reference = $2 AND record_reference IS NULL))
		ORDER BY received_at, id LIMIT 1`
	// sameContentSQL compares an earlier bundle's application with one
	// filed under another reference: a batch record's bundle carries its
	// batch reference, the partner's reference is the same record's YWH.
	sameContentSQL = `SELECT (application - 'reference') = ($2::jsonb - 'reference') FROM bundles WHERE id = $1`
)

// PriorBundle is an earlier bundle under a reference: its content hash
// and the answer it got.
type PriorBundle struct {
	ID       string `db:"id"`
	Hash     []byte `db:"content_hash"`
	Status   int    `db:"response_status"`
	Body     []byte `db:"response_body"`
	IsRecord bool   `db:"is_record"`
}

// PriorByReference finds the partner's first bundle filed under reference,
// or whose batch record the partner gave that reference; ErrNoRows if none.
func (t *Tx) PriorByReference(ctx context.Context, partnerID, reference string) (PriorBundle, error) {
	return t.prior(ctx, priorByReferenceSQL, partnerID, reference)
}

// PriorRecordBundle finds the bundle filed under a batch record's own
// reference; ErrNoRows if none.
func (t *Tx) PriorRecordBundle(ctx context.Context, partnerID, reference string) (PriorBundle, error) {
	return t.prior(ctx, priorRecordBundleSQL, partnerID, reference)
}

// PriorByRecord finds the partner's first bundle for its reference of a
// batch record: another batch's record, or a single bundle; ErrNoRows if
// none.
func (t *Tx) PriorByRecord(ctx context.Context, partnerID, recordReference string) (PriorBundle, error) {
	return t.prior(ctx, priorByRecordSQL, partnerID, recordReference)
}

func (t *Tx) prior(ctx context.Context, query, partnerID, key string) (PriorBundle, error) {
	var p PriorBundle
	err := t.GetContext(ctx, &p, query, partnerID, key)
	return p, err
}

// SameContent reports whether bundle id's application equals canonical
// but for the references each is filed under.
func (t *Tx) SameContent(ctx context.Context, id string, canonical []byte) (bool, error) {
	var same bool
	err := t.GetContext(ctx, &same, sameContentSQL, id, canonical)
	return same, err
}

const (
	insertBundleSQL = `INSERT INTO bundles
		(id, partner_id, reference, content_hash, type, status, reasons, application, mortgage_id,
		 received_at, decided_at, response_status, response_body, desk_reasons, deadline, record_reference)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, NULLIF($16, ''))`
	insertPromiseSQL = `INSERT INTO promises (bundle_id, kind, due_on) VALUES ($1, $2, $3)`
	insertFeeSQL     = `INSERT INTO fees (bundle_id, amount_fen, payer, basis, cases, rule, charged_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`
)

// NewBundle is a decided bundle's row.
type NewBundle struct {
	ID, PartnerID, Reference string
	Hash                     []byte
	Type, Status             string
	Reasons, Application     []byte // JSON
	MortgageID               int64  // 0: none
	ReceivedAt               time.Time
	DecidedAt                *time.Time // nil while at the desk
	ResponseStatus           int
	ResponseBody             []byte
	DeskReasons              []byte // JSON
	Deadline                 *time.Time
	RecordReference          string // "" for a single bundle
}

// InsertBundle writes a decided bundle.
func (t *Tx) InsertBundle(ctx context.Context, b NewBundle) error {
	mid := sql.NullInt64{Int64: b.MortgageID, Valid: b.MortgageID != 0}
	_, err := t.ExecContext(ctx, insertBundleSQL, b.ID, b.PartnerID, b.Reference, b.Hash, b.Type, b.Status, b.Reasons, b.Application, mid,
		b.ReceivedAt, b.DecidedAt, b.ResponseStatus, b.ResponseBody, b.DeskReasons, b.Deadline, b.RecordReference)
	return err
}

// InsertPromise writes a document a bundle promises by dueOn.
func (t *Tx) InsertPromise(ctx context.Context, bundleID, kind string, dueOn time.Time) error {
	_, err := t.ExecContext(ctx, insertPromiseSQL, bundleID, kind, dueOn)
	return err
}

// NewFee is the fee a bundle is charged: amount, payer, basis code, the 件
// counted and the provision applied.
type NewFee struct {
	AmountFen int64
	Payer     string
	Basis     string
	Cases     int
	Rule      string
}

// InsertFee writes the fee a bundle was charged at at.
func (t *Tx) InsertFee(ctx context.Context, bundleID string, f NewFee, at time.Time) error {
	_, err := t.ExecContext(ctx, insertFeeSQL, bundleID, f.AmountFen, f.Payer, f.Basis, f.Cases, f.Rule, at)
	return err
}

// materialsOneByOne is the size of a bundle's documents past which each is
// stored with its own statement: the driver sends bytea as hex text, so one
// statement for all would hold twice their size at once, twice over (the
// array literal and the driver's buffer). Small bundles, the usual case,
// keep their one round trip.
const materialsOneByOne = 1 << 20

const (
	insertMaterialsSQL = `INSERT INTO materials (bundle_id, seq, kind, file_name, media_type, sha256, content)
		SELECT $1, m.ord, m.kind, m.name, m.media, decode(m.sum, 'hex'), m.content
		FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[]) WITH ORDINALITY
			AS m(kind, name, media, sum, content, ord)`
	insertMaterialSQL = `INSERT INTO materials (bundle_id, seq, kind, file_name, media_type, sha256, content)
		VALUES ($1, $2, $3, $4, $5, decode($6, 'hex'), $7)`
)

// Material is a document as stored; SHA256 in lower-case hex.
type Material struct {
	Kind, FileName, MediaType, SHA256 string
	Content                           []byte
}

// InsertMaterials stores a bundle's documents in the order given, numbered
// from 1: in one statement, or one each past materialsOneByOne.
func (t *Tx) InsertMaterials(ctx context.Context, bundleID string, ms []Material) error {
	size := 0
	for _, m := range ms {
		size += len(m.Content)
	}
	if size > materialsOneByOne {
		for i, m := range ms {
			if _, err := t.ExecContext(ctx, insertMaterialSQL, bundleID, i+1, m.Kind, m.FileName, m.MediaType, m.SHA256, m.Content); err != nil {
				return fmt.Errorf("insert material %d: %w", i+1, err)
			}
		}
		return nil
	}
	if len(ms) == 0 {
		return nil
	}
	n := len(ms)
	kinds, names, media, sums := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	contents := make(pq.ByteaArray, n)
	for i, m := range ms {
		kinds[i], names[i], media[i], sums[i], contents[i] = m.Kind, m.FileName, m.MediaType, m.SHA256, m.Content
	}
	if _, err := t.ExecContext(ctx, insertMaterialsSQL, bundleID, pq.Array(kinds), pq.Array(names), pq.Array(media), pq.Array(sums), contents); err != nil {
		return fmt.Errorf("insert materials: %w", err)
	}
	return nil
}

// NewCertificate is an issued certificate's row.
type NewCertificate struct {
	Number, BundleID    string
	MortgageID          int64
	PartnerID           string
	VerificationCode    string
	IssuedAt            time.Time
	KeyID               string
	JSON, JSONSignature []byte
	XML, XMLSignature   []byte
}

// registeredSQL stores a registration's audit record and signed
// certificate in one round trip: the audit row is db.AuditSQL's, with its
// parameters $1 to $5; the certificate's bundle is the audit's subject ($4).
const registeredSQL = `WITH audit AS (` + db.AuditSQL + `)
	INSERT INTO certificates (number, bundle_id, mortgage_id, partner_id, verification_code,
		status, issued_at, key_id, json_document, json_signature, xml_document, xml_signature)
	VALUES ($6, $4, $7, $8, $9, 'valid', $10, $11, $12, $13, $14, $15)`

// WriteRegistration writes a registration's audit record e and its
// certificate c in one statement; c's bundle is e's subject.
func (t *Tx) WriteRegistration(ctx context.Context, e db.AuditEntry, c NewCertificate) error {
	detail, err := json.Marshal(e.Detail) // as db.Audit marshals it
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	if _, err := t.ExecContext(ctx, registeredSQL, e.At, e.Actor, e.Action, e.Subject, detail,
		c.Number, c.MortgageID, c.PartnerID, c.VerificationCode, c.IssuedAt, c.KeyID, c.JSON, c.JSONSignature, c.XML, c.XMLSignature); err != nil {
		return fmt.Errorf("store registration: %w", err)
	}
	return nil
}

// Audit appends e to the audit trail in the transaction (db.Audit).
func (t *Tx) Audit(ctx context.Context, e db.AuditEntry) error { return db.Audit(ctx, t, e) }

const insertCertificateSQL = `INSERT INTO certificates (number, bundle_id, mortgage_id, partner_id, verification_code,
			status, issued_at, key_id, json_document, json_signature, xml_document, xml_signature)
		VALUES ($1, $2, $3, $4, $5, 'valid', $6, $7, $8, $9, $10, $11)`

// InsertCertificate stores an issued certificate, after its bundle row
// exists (a desk approval: Submit writes it with its audit record,
// WriteRegistration).
func (t *Tx) InsertCertificate(ctx context.Context, c NewCertificate) error {
	_, err := t.ExecContext(ctx, insertCertificateSQL, c.Number, c.BundleID, c.MortgageID, c.PartnerID, c.VerificationCode,
		c.IssuedAt, c.KeyID, c.JSON, c.JSONSignature, c.XML, c.XMLSignature)
	return err
}
