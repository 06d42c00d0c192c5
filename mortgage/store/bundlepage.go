package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/lib/pq"
)

// The console's bundle page: the bundle, its documents, promises and
// history, and the register's excerpt for its units.

// BundlePageRow is a bundle with what the console's bundle page shows
// about it.
type BundlePageRow struct {
	ID            string         `db:"id"`
	PartnerID     string         `db:"partner_id"`
	PartnerName   string         `db:"partner_name"`
	Reference     string         `db:"reference"`
	Type          string         `db:"type"`
	Status        string         `db:"status"`
	RawReasons    []byte         `db:"reasons"`
	RawDesk       []byte         `db:"desk_reasons"`
	Application   []byte         `db:"application"`
	MortgageID    sql.NullInt64  `db:"mortgage_id"`
	ReceivedAt    time.Time      `db:"received_at"`
	DecidedAt     sql.NullTime   `db:"decided_at"`
	Deadline      sql.NullTime   `db:"deadline"`
	AssignedTo    sql.NullString `db:"assigned_to"`
	AssignedName  sql.NullString `db:"assigned_name"`
	DecidedBy     sql.NullString `db:"decided_by"`
	DecidedByName sql.NullString `db:"decided_by_name"`
	DecisionNote  sql.NullString `db:"decision_note"`
	Certificate   sql.NullString `db:"certificate_number"`
	Officer       sql.NullString `db:"recording_officer"`
}

// MaterialRow is a stored document's description, without its bytes.
type MaterialRow struct {
	Seq       int    `db:"seq"`
	Kind      string `db:"kind"`
	FileName  string `db:"file_name"`
	MediaType string `db:"media_type"`
	SHA256    []byte `db:"sha256"`
	Size      int64  `db:"size"`
}

// PromiseStateRow is a promised document and whether, and as which
// document, it came.
type PromiseStateRow struct {
	Kind        string        `db:"kind"`
	DueOn       time.Time     `db:"due_on"`
	FulfilledAt sql.NullTime  `db:"fulfilled_at"`
	MaterialSeq sql.NullInt64 `db:"material_seq"`
}

// HistoryRow is one audit record, with its actor's name.
type HistoryRow struct {
	ID        int64     `db:"id"`
	At        time.Time `db:"at"`
	Actor     string    `db:"actor"`
	ActorName string    `db:"actor_name"`
	Action    string    `db:"action"`
	Detail    []byte    `db:"detail"`
}

// MaterialFileRow is a stored document's bytes.
type MaterialFileRow struct {
	MediaType string `db:"media_type"`
	FileName  string `db:"file_name"`
	Content   []byte `db:"content"`
}

const (
	bundlePageSQL = `SELECT b.id, b.partner_id, p.name AS partner_name, b.reference, b.type, b.status, b.reasons,
		b.desk_reasons, b.application, b.mortgage_id, b.received_at, b.decided_at, b.deadline,
		b.assigned_to, sa.display_name AS assigned_name, b.decided_by, sd.display_name AS decided_by_name, b.decision_note,
		m.certificate_number, m.recording_officer
	FROM bundles b
	JOIN partners p ON p.id = b.partner_id
	LEFT JOIN staff sa ON sa.username = b.assigned_to
	LEFT JOIN staff sd ON sd.username = b.decided_by
	LEFT JOIN mortgages m ON m.id = b.mortgage_id
	WHERE b.id = $1`
	bundleMaterialsSQL = `SELECT seq, kind, file_name, media_type, sha256, length(content)::bigint AS size
		FROM materials WHERE bundle_id = $1 ORDER BY seq`
	bundlePromisesSQL = `SELECT kind, due_on, fulfilled_at, material_seq
		FROM promises WHERE bundle_id = $1 ORDER BY due_on, kind`
	bundleHistorySQL = `SELECT a.id, a.at, a.actor, coalesce(s.display_name, p.name, '') AS actor_name, a.action, a.detail
		FROM audit_log a
		LEFT JOIN staff s ON a.actor = 'staff:' || s.username
		LEFT JOIN partners p ON a.actor = 'partner:' || p.id
		WHERE a.subject = $1 ORDER BY a.id`
	materialFileSQL  = `SELECT media_type, file_name, content FROM materials WHERE bundle_id = $1 AND seq = $2`
	bundleOutcomeSQL = `SELECT b.status, coalesce(st.display_name, b.decided_by)
		FROM bundles b LEFT JOIN staff st ON st.username = b.decided_by WHERE b.id = $1`
)

// BundlePage reads a bundle for the console; ErrNoRows if there is none.
func (s *Store) BundlePage(ctx context.Context, id string) (BundlePageRow, error) {
	var b BundlePageRow
	err := s.DB.GetContext(ctx, &b, bundlePageSQL, id)
	return b, err
}

// BundleMaterials lists a bundle's documents in order, without their bytes.
func (s *Store) BundleMaterials(ctx context.Context, bundleID string) ([]MaterialRow, error) {
	var ms []MaterialRow
	err := s.DB.SelectContext(ctx, &ms, bundleMaterialsSQL, bundleID)
	return ms, err
}

// BundlePromises lists a bundle's promises by due date.
func (s *Store) BundlePromises(ctx context.Context, bundleID string) ([]PromiseStateRow, error) {
	var ps []PromiseStateRow
	err := s.DB.SelectContext(ctx, &ps, bundlePromisesSQL, bundleID)
	return ps, err
}

// History lists the audit records about subject, oldest first.
func (s *Store) History(ctx context.Context, subject string) ([]HistoryRow, error) {
	var hs []HistoryRow
	err := s.DB.SelectContext(ctx, &hs, bundleHistorySQL, subject)
	return hs, err
}

// MaterialFile reads document seq of a bundle; ErrNoRows if none.
func (s *Store) MaterialFile(ctx context.Context, bundleID string, seq int) (MaterialFileRow, error) {
	var m MaterialFileRow
	err := s.DB.GetContext(ctx, &m, materialFileSQL, bundleID, seq)
	return m, err
}

// BundleOutcome reads a bundle's status and who decided it, by name when
// staff (invalid when nobody has); ErrNoRows if there is no such bundle.
func (s *Store) BundleOutcome(ctx context.Context, id string) (status string, decidedBy sql.NullString, err error) {
	err = s.DB.QueryRowContext(ctx, bundleOutcomeSQL, id).Scan(&status, &decidedBy)
	return status, decidedBy, err
}

// ExcerptUnitRow is a unit as the register's excerpt shows it.
type ExcerptUnitRow struct {
	Number        string `db:"unit_number"`
	Location      string `db:"location"`
	Use           string `db:"use"`
	Area          string `db:"area_m2"`
	TitleNumber   string `db:"title_certificate_number"`
	OwnershipForm string `db:"ownership_form"`
	Mortgageable  bool   `db:"mortgageable"`
}

// ExcerptOwnerRow is a registered owner of a unit.
type ExcerptOwnerRow struct {
	Unit     string        `db:"unit_number"`
	Name     string        `db:"name"`
	IDType   string        `db:"id_type"`
	IDNumber string        `db:"id_number"`
	ShareNum sql.NullInt64 `db:"share_numerator"`
	ShareDen sql.NullInt64 `db:"share_denominator"`
}

// ExcerptMortgageRow is a current mortgage right on a unit, with its rank.
type ExcerptMortgageRow struct {
	Unit         string         `db:"unit_number"`
	Rank         int            `db:"rank"`
	ID           int64          `db:"id"`
	Certificate  sql.NullString `db:"certificate_number"`
	Kind         string         `db:"kind"`
	PrincipalFen sql.NullInt64  `db:"principal_fen"`
	MaximumFen   sql.NullInt64  `db:"maximum_fen"`
	Mortgagee    string         `db:"mortgagee_name"`
	DebtStart    time.Time      `db:"debt_start"`
	DebtEnd      time.Time      `db:"debt_end"`
	RegisteredAt time.Time      `db:"registered_at"`
}

// ExcerptSeizureRow is a current seizure.
type ExcerptSeizureRow struct {
	Unit      string       `db:"unit_number"`
	Authority string       `db:"authority"`
	Document  string       `db:"document_number"`
	From      time.Time    `db:"seized_from"`
	Until     sql.NullTime `db:"seized_until"`
}

// ExcerptObjectionRow is a current objection.
type ExcerptObjectionRow struct {
	Unit       string       `db:"unit_number"`
	Applicant  string       `db:"applicant"`
	Matter     string       `db:"matter"`
	Registered time.Time    `db:"registered_on"`
	Expires    sql.NullTime `db:"expires_on"`
}

// ExcerptPreregRow is a current pre-registration.
type ExcerptPreregRow struct {
	Unit       string    `db:"unit_number"`
	Kind       string    `db:"kind"`
	Holder     string    `db:"holder_name"`
	HolderID   string    `db:"holder_id_number"`
	Registered time.Time `db:"registered_on"`
}

// The excerpt's restrictions are migration 0015's current_* functions, the
// same definition the registration checks use.
const (
	excerptUnitsSQL = `SELECT unit_number, location, use, area_m2::text AS area_m2, title_certificate_number, ownership_form, mortgageable
		FROM units WHERE unit_number = ANY($1)`
	excerptOwnersSQL = `SELECT unit_number, name, id_type, id_number, share_numerator, share_denominator
		FROM owners WHERE unit_number = ANY($1) ORDER BY unit_number, seq`
	excerptMortgagesSQL = `SELECT mu.unit_number, mu.rank, m.id, m.certificate_number, m.kind, m.principal_fen, m.maximum_fen,
			m.mortgagee_name, m.debt_start, m.debt_end, m.registered_at
		FROM mortgage_units mu JOIN mortgages m ON m.id = mu.mortgage_id
		WHERE mu.unit_number = ANY($1) AND mu.current ORDER BY mu.unit_number, mu.rank`
	excerptSeizuresSQL = `SELECT unit_number, authority, document_number, seized_from, seized_until
		FROM current_seizures($2) WHERE unit_number = ANY($1) ORDER BY unit_number, seized_from`
	excerptObjectionsSQL = `SELECT unit_number, applicant, matter, registered_on, expires_on
		FROM current_objections($2) WHERE unit_number = ANY($1) ORDER BY unit_number, registered_on`
	excerptPreregSQL = `SELECT unit_number, kind, holder_name, holder_id_number, registered_on
		FROM current_preregistrations($2) WHERE unit_number = ANY($1) ORDER BY unit_number, registered_on`
)

// ExcerptUnits reads the units numbered, those that exist.
func (s *Store) ExcerptUnits(ctx context.Context, numbers []string) ([]ExcerptUnitRow, error) {
	var us []ExcerptUnitRow
	err := s.DB.SelectContext(ctx, &us, excerptUnitsSQL, pq.Array(numbers))
	return us, err
}

// ExcerptOwners reads the units' owners, by unit and in order.
func (s *Store) ExcerptOwners(ctx context.Context, numbers []string) ([]ExcerptOwnerRow, error) {
	var os []ExcerptOwnerRow
	err := s.DB.SelectContext(ctx, &os, excerptOwnersSQL, pq.Array(numbers))
	return os, err
}

// ExcerptMortgages reads the units' current mortgages, by unit and rank.
func (s *Store) ExcerptMortgages(ctx context.Context, numbers []string) ([]ExcerptMortgageRow, error) {
	var ms []ExcerptMortgageRow
	err := s.DB.SelectContext(ctx, &ms, excerptMortgagesSQL, pq.Array(numbers))
	return ms, err
}

// ExcerptSeizures reads the seizures in force on the units on day.
func (s *Store) ExcerptSeizures(ctx context.Context, numbers []string, day time.Time) ([]ExcerptSeizureRow, error) {
	var ss []ExcerptSeizureRow
	err := s.DB.SelectContext(ctx, &ss, excerptSeizuresSQL, pq.Array(numbers), day)
	return ss, err
}

// ExcerptObjections reads the objections open on the units on day.
func (s *Store) ExcerptObjections(ctx context.Context, numbers []string, day time.Time) ([]ExcerptObjectionRow, error) {
	var os []ExcerptObjectionRow
	err := s.DB.SelectContext(ctx, &os, excerptObjectionsSQL, pq.Array(numbers), day)
	return os, err
}

// ExcerptPreregistrations reads the pre-registrations in force on the
// units on day.
func (s *Store) ExcerptPreregistrations(ctx context.Context, numbers []string, day time.Time) ([]ExcerptPreregRow, error) {
	var ps []ExcerptPreregRow
	err := s.DB.SelectContext(ctx, &ps, excerptPreregSQL, pq.Array(numbers), day)
	return ps, err
}
