package store

import (
	"context"
	"database/sql"
	"time"
)

// ErrNoRows is the error of a read that found nothing.
var ErrNoRows = sql.ErrNoRows

const bundleSQL = `SELECT b.id, b.reference, b.type, b.status, b.reasons, b.received_at, b.decided_at,
		b.desk_reasons, b.deadline,
		COALESCE((SELECT json_agg(json_build_object('kind', p.kind, 'dueOn', p.due_on, 'fulfilledAt', p.fulfilled_at) ORDER BY p.kind)
			FROM promises p WHERE p.bundle_id = b.id), '[]') AS promises,
		m.certificate_number, m.registered_at, m.recording_officer, m.cancelled_at, m.cancelled_by,
		f.amount_fen, f.payer, f.basis, f.cases, f.rule,
		COALESCE((SELECT json_agg(json_build_object('unitNumber', mu.unit_number, 'rank', mu.rank) ORDER BY mu.unit_number)
			FROM mortgage_units mu WHERE mu.mortgage_id = m.id), '[]') AS ranks
	FROM bundles b
	LEFT JOIN mortgages m ON m.id = b.mortgage_id
	LEFT JOIN fees f ON f.bundle_id = b.id
	WHERE b.partner_id = $1 AND `

// BundleRow is a bundle as its partner reads it back, with its mortgage,
// fee, promises (JSON) and ranks (JSON).
type BundleRow struct {
	ID               string         `db:"id"`
	Reference        string         `db:"reference"`
	Type             string         `db:"type"`
	Status           string         `db:"status"`
	Reasons          []byte         `db:"reasons"`
	ReceivedAt       time.Time      `db:"received_at"`
	DecidedAt        sql.NullTime   `db:"decided_at"`
	Certificate      sql.NullString `db:"certificate_number"`
	RegisteredAt     sql.NullTime   `db:"registered_at"`
	RecordingOfficer sql.NullString `db:"recording_officer"`
	CancelledAt      sql.NullTime   `db:"cancelled_at"`
	CancelledBy      sql.NullString `db:"cancelled_by"`
	FeeFen           sql.NullInt64  `db:"amount_fen"`
	FeePayer         sql.NullString `db:"payer"`
	FeeBasis         sql.NullString `db:"basis"`
	FeeCases         sql.NullInt64  `db:"cases"`
	FeeRule          sql.NullString `db:"rule"`
	Ranks            []byte         `db:"ranks"`
	DeskReasons      []byte         `db:"desk_reasons"`
	Deadline         sql.NullTime   `db:"deadline"`
	Promises         []byte         `db:"promises"`
}

// Bundle reads a partner's bundle by its id; ErrNoRows when the partner
// has none.
func (s *Store) Bundle(ctx context.Context, partnerID, id string) (BundleRow, error) {
	return s.bundle(ctx, bundleSQL+"b.id = $2", partnerID, id)
}

// BundleByReference reads a partner's bundle by the partner's reference.
func (s *Store) BundleByReference(ctx context.Context, partnerID, reference string) (BundleRow, error) {
	return s.bundle(ctx, bundleSQL+"b.reference = $2", partnerID, reference)
}

func (s *Store) bundle(ctx context.Context, query, partnerID, key string) (BundleRow, error) {
	var r BundleRow
	err := s.DB.GetContext(ctx, &r, query, partnerID, key)
	return r, err
}

const partnerMortgageesSQL = `SELECT name, credit_code FROM partner_mortgagees WHERE partner_id = $1 ORDER BY NOT own, credit_code`

// MortgageeRow is a name and credit code a partner may register under.
type MortgageeRow struct {
	Name       string `db:"name"`
	CreditCode string `db:"credit_code"`
}

// PartnerMortgagees lists the identities a partner may name as mortgagee,
// its own first.
func (s *Store) PartnerMortgagees(ctx context.Context, partnerID string) ([]MortgageeRow, error) {
	var ms []MortgageeRow
	err := s.DB.SelectContext(ctx, &ms, partnerMortgageesSQL, partnerID)
	return ms, err
}
