package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"
)

// The statements of a bank's pre-loan query (抵押前查询): its quota, the
// unit read in one snapshot, and the query's record with its consent.

const (
	encumbranceQuotaSQL = `SELECT COALESCE(encumbrance_quota, $2) FROM partners WHERE id = $1`
	encumbranceUsedSQL  = `SELECT count(*) FROM encumbrance_queries WHERE partner_id = $1 AND queried_at >= $2 AND queried_at < $3`
)

// EncumbranceQuota reads a partner's daily quota of queries, def unless
// the partner has its own.
func (s *Store) EncumbranceQuota(ctx context.Context, partnerID string, def int) (int, error) {
	return encumbranceQuota(ctx, s.DB, partnerID, def)
}

// EncumbranceQuota reads a partner's daily quota in the transaction.
func (t *Tx) EncumbranceQuota(ctx context.Context, partnerID string, def int) (int, error) {
	return encumbranceQuota(ctx, t.tx, partnerID, def)
}

// EncumbranceQueriesBetween counts a partner's queries recorded from start
// until end.
func (s *Store) EncumbranceQueriesBetween(ctx context.Context, partnerID string, start, end time.Time) (int, error) {
	return encumbranceUsed(ctx, s.DB, partnerID, start, end)
}

// EncumbranceQueriesBetween counts them in the transaction.
func (t *Tx) EncumbranceQueriesBetween(ctx context.Context, partnerID string, start, end time.Time) (int, error) {
	return encumbranceUsed(ctx, t.tx, partnerID, start, end)
}

func encumbranceQuota(ctx context.Context, q sqlx.QueryerContext, partnerID string, def int) (int, error) {
	var quota int
	err := sqlx.GetContext(ctx, q, &quota, encumbranceQuotaSQL, partnerID, def)
	return quota, err
}

func encumbranceUsed(ctx context.Context, q sqlx.QueryerContext, partnerID string, start, end time.Time) (int, error) {
	var used int
	err := sqlx.GetContext(ctx, q, &used, encumbranceUsedSQL, partnerID, start, end)
	return used, err
}

// EncumbranceUnit is a unit as the query shows it.
type EncumbranceUnit struct {
	Location, Use, AreaM2, OwnershipForm string
	Mortgageable                         bool
}

// EncumbranceUnit reads a unit; ErrNoRows if there is none.
func (t *Tx) EncumbranceUnit(ctx context.Context, unitNumber string) (EncumbranceUnit, error) {
	var u EncumbranceUnit
	err := t.tx.QueryRowxContext(ctx, `SELECT location, use, area_m2::text, ownership_form, mortgageable FROM units WHERE unit_number = $1`, unitNumber).
		Scan(&u.Location, &u.Use, &u.AreaM2, &u.OwnershipForm, &u.Mortgageable)
	return u, err
}

// EncumbranceOwnerRow is an owner of the unit, its share "n/d" when owned
// in shares.
type EncumbranceOwnerRow struct {
	Name   string         `db:"name"`
	IDType string         `db:"id_type"`
	ID     string         `db:"id_number"`
	Share  sql.NullString `db:"share"`
}

// EncumbranceOwners reads a unit's owners in order.
func (t *Tx) EncumbranceOwners(ctx context.Context, unitNumber string) ([]EncumbranceOwnerRow, error) {
	var owners []EncumbranceOwnerRow
	err := t.selectContext(ctx, &owners, `SELECT name, id_type, id_number, share_numerator || '/' || share_denominator AS share
		FROM owners WHERE unit_number = $1 ORDER BY seq`, unitNumber)
	return owners, err
}

// CurrentMortgageRow is a current mortgage on the unit.
type CurrentMortgageRow struct {
	Rank      int            `db:"rank"`
	Kind      string         `db:"kind"`
	Fen       int64          `db:"fen"`
	Start     string         `db:"debt_start"`
	End       string         `db:"debt_end"`
	Mortgagee string         `db:"mortgagee_name"`
	Cert      sql.NullString `db:"certificate_number"`
	At        time.Time      `db:"registered_at"`
}

// CurrentMortgages reads the unit's current mortgages by rank.
func (t *Tx) CurrentMortgages(ctx context.Context, unitNumber string) ([]CurrentMortgageRow, error) {
	var ms []CurrentMortgageRow
	err := t.selectContext(ctx, &ms, `SELECT mu.rank, m.kind, COALESCE(m.principal_fen, m.maximum_fen) AS fen,
			m.debt_start::text, m.debt_end::text, m.mortgagee_name, m.certificate_number, m.registered_at
		FROM mortgage_units mu JOIN mortgages m ON m.id = mu.mortgage_id
		WHERE mu.unit_number = $1 AND mu.current ORDER BY mu.rank`, unitNumber)
	return ms, err
}

// SeizureRow is a seizure in force; dates as text, Until "" when open.
type SeizureRow struct {
	Authority      string `db:"authority"`
	DocumentNumber string `db:"documentnumber"`
	From           string `db:"from"`
	Until          string `db:"until"`
}

// CurrentSeizures reads the seizures in force on the unit on day.
func (t *Tx) CurrentSeizures(ctx context.Context, unitNumber string, day time.Time) ([]SeizureRow, error) {
	var ss []SeizureRow
	err := t.selectContext(ctx, &ss, `SELECT authority AS "authority", document_number AS "documentnumber", seized_from::text AS "from", COALESCE(seized_until::text, '') AS "until"
		FROM current_seizures($2) WHERE unit_number = $1 ORDER BY seized_from`, unitNumber, day)
	return ss, err
}

// ObjectionRow is an open objection; ExpiresOn "" when it has no end.
type ObjectionRow struct {
	RegisteredOn string `db:"registeredon"`
	ExpiresOn    string `db:"expireson"`
}

// CurrentObjections reads the objections open on the unit on day.
func (t *Tx) CurrentObjections(ctx context.Context, unitNumber string, day time.Time) ([]ObjectionRow, error) {
	var os []ObjectionRow
	err := t.selectContext(ctx, &os, `SELECT registered_on::text AS "registeredon", COALESCE(expires_on::text, '') AS "expireson"
		FROM current_objections($2) WHERE unit_number = $1 ORDER BY registered_on`, unitNumber, day)
	return os, err
}

// PreregRow is a pre-registration in force, its holder unmasked.
type PreregRow struct {
	Kind   string `db:"kind"`
	Holder string `db:"holder_name"`
	On     string `db:"registered_on"`
}

// CurrentPreregistrations reads the pre-registrations in force on the
// unit on day.
func (t *Tx) CurrentPreregistrations(ctx context.Context, unitNumber string, day time.Time) ([]PreregRow, error) {
	var prs []PreregRow
	err := t.selectContext(ctx, &prs, `SELECT kind, holder_name, registered_on::text FROM current_preregistrations($2)
		WHERE unit_number = $1 ORDER BY registered_on`, unitNumber, day)
	return prs, err
}

const (
	insertEncumbranceQuerySQL = `INSERT INTO encumbrance_queries (id, partner_id, unit_number, found, queried_at, owner_name, owner_id_type, owner_id_number)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	insertEncumbranceConsentSQL = `INSERT INTO encumbrance_consents (query_id, kind, file_name, media_type, sha256, content)
		VALUES ($1, $2, $3, $4, decode($5, 'hex'), $6)`
)

// NewEncumbranceQuery is a query's record: who asked about which unit on
// whose behalf, and whether it found the owner there.
type NewEncumbranceQuery struct {
	ID, PartnerID, UnitNumber             string
	Found                                 bool
	QueriedAt                             time.Time
	OwnerName, OwnerIDType, OwnerIDNumber string
}

// InsertEncumbranceQuery records a query.
func (t *Tx) InsertEncumbranceQuery(ctx context.Context, q NewEncumbranceQuery) error {
	_, err := t.ExecContext(ctx, insertEncumbranceQuerySQL, q.ID, q.PartnerID, q.UnitNumber, q.Found, q.QueriedAt,
		q.OwnerName, q.OwnerIDType, q.OwnerIDNumber)
	return err
}

// InsertEncumbranceConsent stores the consent a query carried; sha256 in
// lower-case hex.
func (t *Tx) InsertEncumbranceConsent(ctx context.Context, queryID string, c Material) error {
	_, err := t.ExecContext(ctx, insertEncumbranceConsentSQL, queryID, c.Kind, c.FileName, c.MediaType, c.SHA256, c.Content)
	return err
}

// EncumbranceQueryRow is a recorded query as its partner lists it.
type EncumbranceQueryRow struct {
	ID               string    `db:"id"`
	UnitNumber       string    `db:"unit_number"`
	ConsentReference string    `db:"consent_reference"`
	ConsentSHA256    string    `db:"consent_sha256"`
	Found            bool      `db:"found"`
	QueriedAt        time.Time `db:"queried_at"`
}

// EncumbranceQueries lists a partner's queries, newest first, at most
// limit.
func (s *Store) EncumbranceQueries(ctx context.Context, partnerID string, limit int) ([]EncumbranceQueryRow, error) {
	var qs []EncumbranceQueryRow
	err := s.DB.SelectContext(ctx, &qs, `SELECT q.id, q.unit_number, COALESCE(q.consent_reference, '') AS consent_reference,
			COALESCE(encode(c.sha256, 'hex'), '') AS consent_sha256, q.found, q.queried_at
		FROM encumbrance_queries q LEFT JOIN encumbrance_consents c ON c.query_id = q.id
		WHERE q.partner_id = $1 ORDER BY q.queried_at DESC, q.id LIMIT $2`, partnerID, limit)
	return qs, err
}
