package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/lib/pq"
)

// The statements of the register itself: units and their owners, what
// stands on them, and mortgages, in the registration's transaction.

// UnitRow is a unit as the checks read it.
type UnitRow struct {
	UnitNumber    string `db:"unit_number"`
	Location      string `db:"location"`
	Use           string `db:"use"`
	TitleNumber   string `db:"title_certificate_number"`
	OwnershipForm string `db:"ownership_form"`
	Mortgageable  bool   `db:"mortgageable"`
}

// OwnerRow is a unit's registered owner; the share is NULL unless the
// unit is owned in shares.
type OwnerRow struct {
	UnitNumber string        `db:"unit_number"`
	Name       string        `db:"name"`
	IDNumber   string        `db:"id_number"`
	ShareNum   sql.NullInt64 `db:"share_numerator"`
	ShareDen   sql.NullInt64 `db:"share_denominator"`
}

// RestrictionRow is one row of the combined restrictions query: a seizure,
// an objection, a pre-registration (with its holder) or the unit's top
// rank, cancelled mortgages included ("rank", the rank in Value).
type RestrictionRow struct {
	UnitNumber string `db:"unit_number"`
	Kind       string `db:"kind"`
	Value      string `db:"value"`
}

const (
	lockUnitsSQL = `SELECT unit_number, location, use, title_certificate_number, ownership_form, mortgageable
		FROM units WHERE unit_number = ANY($1) ORDER BY unit_number FOR UPDATE`
	ownersSQL = `SELECT unit_number, name, id_number, share_numerator, share_denominator
		FROM owners WHERE unit_number = ANY($1) ORDER BY unit_number, seq`
	// RestrictionsSQL reads what stands on the units today (the
	// current_restrictions function of migration 0015, the one definition)
	// and each unit's top rank over every mortgage ever registered there,
	// cancelled ones included (ranks are never reused; index
	// mortgage_units_unit_rank of migration 0019), in one round trip.
	// Exported for the test of its plan.
	RestrictionsSQL = `
		SELECT unit_number, kind, holder_id_number AS value FROM current_restrictions($2)
			WHERE unit_number = ANY($1)
		UNION ALL
		SELECT unit_number, 'rank', max(rank)::text FROM mortgage_units
			WHERE unit_number = ANY($1) GROUP BY unit_number`
	// The certificate number is drawn last (DrawCertificate): until then
	// the new mortgage has none, which no other transaction ever sees.
	insertMortgageSQL = `INSERT INTO mortgages (certificate_number, kind, collateral_kind, principal_fen, maximum_fen,
			debt_start, debt_end, scope, transfer_restricted, mortgagors, debtors, mortgagee_name, mortgagee_id_number,
			state, registered_at, recording_officer)
		VALUES (NULL, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $14)
		RETURNING id`
	insertMortgageUnitsSQL = `INSERT INTO mortgage_units (mortgage_id, unit_number, rank)
		SELECT $1, u, r FROM unnest($2::text[], $3::int[]) AS t(u, r)`
)

// LockUnits reads and locks the units numbered, in unit-number order, so
// two transactions over the same units queue rather than deadlock.
func (t *Tx) LockUnits(ctx context.Context, numbers []string) ([]UnitRow, error) {
	var units []UnitRow
	err := t.selectContext(ctx, &units, lockUnitsSQL, pq.Array(numbers))
	return units, err
}

// Owners reads the units' registered owners, by unit and in order.
func (t *Tx) Owners(ctx context.Context, numbers []string) ([]OwnerRow, error) {
	var owners []OwnerRow
	err := t.selectContext(ctx, &owners, ownersSQL, pq.Array(numbers))
	return owners, err
}

// Restrictions reads what stands on the units on day, and each unit's top
// rank ever registered, cancelled mortgages included.
func (t *Tx) Restrictions(ctx context.Context, numbers []string, day time.Time) ([]RestrictionRow, error) {
	var rs []RestrictionRow
	err := t.selectContext(ctx, &rs, RestrictionsSQL, pq.Array(numbers), day)
	return rs, err
}

// NewMortgage is a mortgage right's row, before its certificate number.
type NewMortgage struct {
	Kind, CollateralKind       string
	PrincipalFen, MaximumFen   int64 // 0: none
	DebtStart, DebtEnd         time.Time
	Scope                      string
	TransferRestricted         bool
	Mortgagors, Debtors        []byte // JSON
	MortgageeName, MortgageeID string
	RegisteredAt               time.Time
	RecordingOfficer           string
}

// InsertMortgage writes a current mortgage right and returns its id.
func (t *Tx) InsertMortgage(ctx context.Context, m NewMortgage) (int64, error) {
	var id int64
	err := t.GetContext(ctx, &id, insertMortgageSQL, m.Kind, m.CollateralKind,
		nullFen(m.PrincipalFen), nullFen(m.MaximumFen), m.DebtStart, m.DebtEnd, m.Scope, m.TransferRestricted,
		m.Mortgagors, m.Debtors, m.MortgageeName, m.MortgageeID, m.RegisteredAt, m.RecordingOfficer)
	return id, err
}

func nullFen(fen int64) sql.NullInt64 { return sql.NullInt64{Int64: fen, Valid: fen != 0} }

// InsertMortgageUnits writes the mortgage's rank on each unit.
func (t *Tx) InsertMortgageUnits(ctx context.Context, mortgageID int64, numbers []string, ranks []int64) error {
	_, err := t.ExecContext(ctx, insertMortgageUnitsSQL, mortgageID, pq.Array(numbers), pq.Array(ranks))
	return err
}

const (
	lockMortgageSQL   = `SELECT id, state, mortgagee_id_number FROM mortgages WHERE certificate_number = $1 FOR UPDATE`
	mortgageUnitsSQL  = `SELECT unit_number FROM mortgage_units WHERE mortgage_id = $1 ORDER BY unit_number`
	cancelMortgageSQL = `WITH m AS (
			UPDATE mortgages SET state = 2, cancelled_at = $2, cancel_reason = $3, cancelled_by = $4 WHERE id = $1 RETURNING id)
		UPDATE mortgage_units SET current = false WHERE mortgage_id = (SELECT id FROM m)`
	cancelCertificateSQL = `UPDATE certificates SET status = 'cancelled', cancelled_at = $2
		WHERE mortgage_id = $1 AND status = 'valid'
		RETURNING number, verification_code, status, issued_at, cancelled_at, key_id,
			json_document, json_signature, xml_document, xml_signature`
)

// MortgageRow is a mortgage as a cancellation checks it; State 1 is
// current.
type MortgageRow struct {
	ID        int64  `db:"id"`
	State     int    `db:"state"`
	Mortgagee string `db:"mortgagee_id_number"`
}

// LockMortgage reads and locks the mortgage of a certificate number;
// ErrNoRows if none.
func (t *Tx) LockMortgage(ctx context.Context, certificateNumber string) (MortgageRow, error) {
	var m MortgageRow
	err := t.GetContext(ctx, &m, lockMortgageSQL, certificateNumber)
	return m, err
}

// MortgageUnits lists the units a mortgage was registered on.
func (t *Tx) MortgageUnits(ctx context.Context, mortgageID int64) ([]string, error) {
	var units []string
	err := t.selectContext(ctx, &units, mortgageUnitsSQL, mortgageID)
	return units, err
}

// CancelMortgage ends a mortgage at at, keeping its history: its ranks
// stop being current.
func (t *Tx) CancelMortgage(ctx context.Context, mortgageID int64, at time.Time, reason, officer string) error {
	_, err := t.ExecContext(ctx, cancelMortgageSQL, mortgageID, at, reason, officer)
	return err
}

// CancelCertificate marks the valid certificate of a mortgage cancelled at
// at and returns it; ErrNoRows if the mortgage has none (imported without
// an electronic certificate).
func (t *Tx) CancelCertificate(ctx context.Context, mortgageID int64, at time.Time) (CertificateRow, error) {
	var r CertificateRow
	err := t.GetContext(ctx, &r, cancelCertificateSQL, mortgageID, at)
	return r, err
}
