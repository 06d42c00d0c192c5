package mortgage

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// BundleRow is a bundle with what the console's bundle page shows about it.
type BundleRow struct {
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

// MaterialEntry is a supplied document as the bundle page lists it.
type MaterialEntry struct {
	Seq       int    `db:"seq"`
	Kind      string `db:"kind"`
	FileName  string `db:"file_name"`
	MediaType string `db:"media_type"`
	SHA256    []byte `db:"sha256"`
	Size      int64  `db:"size"`
}

// Hash is the material's SHA-256 in hex.
func (m MaterialEntry) Hash() string { return hex.EncodeToString(m.SHA256) }

// PromiseEntry is a document promised under 容缺受理, with whether it came.
type PromiseEntry struct {
	Kind        string        `db:"kind"`
	DueOn       time.Time     `db:"due_on"`
	FulfilledAt sql.NullTime  `db:"fulfilled_at"`
	MaterialSeq sql.NullInt64 `db:"material_seq"`
}

// HistoryEntry is one audit record about the bundle, with its actor's name.
type HistoryEntry struct {
	ID        int64     `db:"id"`
	At        time.Time `db:"at"`
	Actor     string    `db:"actor"`
	ActorName string    `db:"actor_name"`
	Action    string    `db:"action"`
	Detail    []byte    `db:"detail"`
}

// BundlePage is everything the console shows about one bundle: the bundle,
// its application, the register beside it, its documents, promises and
// history.
type BundlePage struct {
	B           BundleRow
	App         *Application
	DeskReasons Issues
	Refusal     Issues
	Units       []*UnitExcerpt // in the application's order
	Materials   []MaterialEntry
	Promises    []PromiseEntry
	History     []HistoryEntry
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

// BundlePage reads one bundle for the console, with the register as it
// stands on today; ErrNotFound when there is no such bundle.
func (s *Service) BundlePage(ctx context.Context, id string, today time.Time) (*BundlePage, error) {
	var p BundlePage
	err := s.DB.GetContext(ctx, &p.B, bundlePageSQL, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("bundle %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", id, err)
	}
	p.App = &Application{}
	if err := json.Unmarshal(p.B.Application, p.App); err != nil {
		return nil, fmt.Errorf("bundle %s application: %w", id, err)
	}
	if p.DeskReasons, err = parseIssues(p.B.RawDesk); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", id, err)
	}
	if p.Refusal, err = parseIssues(p.B.RawReasons); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", id, err)
	}
	if p.Units, err = readExcerpts(ctx, s.DB, p.App.Units, today, p.B.MortgageID.Int64); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", id, err)
	}
	if err := s.DB.SelectContext(ctx, &p.Materials, bundleMaterialsSQL, id); err != nil {
		return nil, fmt.Errorf("bundle %s materials: %w", id, err)
	}
	if err := s.DB.SelectContext(ctx, &p.Promises, bundlePromisesSQL, id); err != nil {
		return nil, fmt.Errorf("bundle %s promises: %w", id, err)
	}
	if err := s.DB.SelectContext(ctx, &p.History, bundleHistorySQL, id); err != nil {
		return nil, fmt.Errorf("bundle %s history: %w", id, err)
	}
	return &p, nil
}

// MaterialFile is a supplied document's bytes, as stored.
type MaterialFile struct {
	MediaType string `db:"media_type"`
	FileName  string `db:"file_name"`
	Content   []byte `db:"content"`
}

// MaterialFile reads document seq of a bundle; ErrNotFound when there is none.
func (s *Service) MaterialFile(ctx context.Context, bundleID string, seq int) (*MaterialFile, error) {
	var m MaterialFile
	err := s.DB.GetContext(ctx, &m, materialFileSQL, bundleID, seq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("material %s/%d: %w", bundleID, seq, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("material %s/%d: %w", bundleID, seq, err)
	}
	return &m, nil
}

// BundleOutcome is a bundle's status and who decided it (their name when
// they are staff, "" when nobody has), for telling an officer who was first.
func (s *Service) BundleOutcome(ctx context.Context, id string) (status, decidedBy string, err error) {
	var by sql.NullString
	err = s.DB.QueryRowContext(ctx, bundleOutcomeSQL, id).Scan(&status, &by)
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("bundle %s: %w", id, ErrNotFound)
	}
	return status, by.String, err
}

// UnitExcerpt is one unit as the register (登记簿) records it today.
type UnitExcerpt struct {
	Number        string `db:"unit_number"`
	Location      string `db:"location"`
	Use           string `db:"use"`
	Area          string `db:"area_m2"`
	TitleNumber   string `db:"title_certificate_number"`
	OwnershipForm string `db:"ownership_form"`
	Mortgageable  bool   `db:"mortgageable"`
	Found         bool   `db:"-"`
	BankTitle     string `db:"-"` // the title certificate number the bank sent
	Owners        []OwnerEntry
	Mortgages     []MortgageEntry
	Seizures      []SeizureEntry
	Objections    []ObjectionEntry
	Prereg        []PreregEntry
}

// Restricted reports whether anything stands on the unit that blocks or
// qualifies a new mortgage.
func (u *UnitExcerpt) Restricted() bool {
	return len(u.Seizures) > 0 || len(u.Objections) > 0 || len(u.Prereg) > 0 || !u.Mortgageable
}

// OwnerEntry is a registered owner of a unit.
type OwnerEntry struct {
	Unit     string        `db:"unit_number"`
	Name     string        `db:"name"`
	IDType   string        `db:"id_type"`
	IDNumber string        `db:"id_number"`
	ShareNum sql.NullInt64 `db:"share_numerator"`
	ShareDen sql.NullInt64 `db:"share_denominator"`
}

// Share is the owner's share, "1/2", or "".
func (o OwnerEntry) Share() string {
	if !o.ShareNum.Valid {
		return ""
	}
	return fmt.Sprintf("%d/%d", o.ShareNum.Int64, o.ShareDen.Int64)
}

// MortgageEntry is a current mortgage right on a unit, with its rank there.
type MortgageEntry struct {
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
	ThisBundle   bool           `db:"-"` // the right the bundle on the page registered
}

// AmountFen is the secured amount: principal, or the maximum for a maximum-amount mortgage.
func (m MortgageEntry) AmountFen() int64 {
	if m.PrincipalFen.Valid {
		return m.PrincipalFen.Int64
	}
	return m.MaximumFen.Int64
}

// SeizureEntry is a current seizure (查封).
type SeizureEntry struct {
	Unit      string       `db:"unit_number"`
	Authority string       `db:"authority"`
	Document  string       `db:"document_number"`
	From      time.Time    `db:"seized_from"`
	Until     sql.NullTime `db:"seized_until"`
}

// ObjectionEntry is a current objection (异议登记).
type ObjectionEntry struct {
	Unit       string       `db:"unit_number"`
	Applicant  string       `db:"applicant"`
	Matter     string       `db:"matter"`
	Registered time.Time    `db:"registered_on"`
	Expires    sql.NullTime `db:"expires_on"`
}

// PreregEntry is a current pre-registration (预告登记).
type PreregEntry struct {
	Unit       string    `db:"unit_number"`
	Kind       string    `db:"kind"`
	Holder     string    `db:"holder_name"`
	HolderID   string    `db:"holder_id_number"`
	Registered time.Time `db:"registered_on"`
}

// KindLabel names the pre-registration kind.
func (p PreregEntry) KindLabel() string {
	if p.Kind == "purchase" {
		return "预购商品房预告登记"
	}
	return "预购商品房抵押权预告登记"
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

// readExcerpts reads the register for the application's units, in the
// application's order. ownMortgage marks the right this bundle registered.
func readExcerpts(ctx context.Context, db sqlx.QueryerContext, units []UnitRef, today time.Time, ownMortgage int64) ([]*UnitExcerpt, error) {
	numbers := make([]string, len(units))
	for i, u := range units {
		numbers[i] = u.UnitNumber
	}
	arr := pq.Array(numbers)
	var found []UnitExcerpt
	if err := sqlx.SelectContext(ctx, db, &found, excerptUnitsSQL, arr); err != nil {
		return nil, fmt.Errorf("register units: %w", err)
	}
	byNumber := map[string]*UnitExcerpt{}
	out := make([]*UnitExcerpt, len(units))
	for i, u := range units {
		out[i] = &UnitExcerpt{Number: u.UnitNumber, BankTitle: u.TitleCertificateNumber}
		for _, f := range found {
			if strings.TrimSpace(f.Number) == u.UnitNumber {
				f.Number, f.Found, f.BankTitle = u.UnitNumber, true, u.TitleCertificateNumber
				*out[i] = f
			}
		}
		byNumber[u.UnitNumber] = out[i]
	}
	var owners []OwnerEntry
	if err := sqlx.SelectContext(ctx, db, &owners, excerptOwnersSQL, arr); err != nil {
		return nil, fmt.Errorf("register owners: %w", err)
	}
	for _, o := range owners {
		if u := byNumber[strings.TrimSpace(o.Unit)]; u != nil {
			u.Owners = append(u.Owners, o)
		}
	}
	var ms []MortgageEntry
	if err := sqlx.SelectContext(ctx, db, &ms, excerptMortgagesSQL, arr); err != nil {
		return nil, fmt.Errorf("register mortgages: %w", err)
	}
	for _, m := range ms {
		m.ThisBundle = ownMortgage != 0 && m.ID == ownMortgage
		if u := byNumber[strings.TrimSpace(m.Unit)]; u != nil {
			u.Mortgages = append(u.Mortgages, m)
		}
	}
	var ss []SeizureEntry
	if err := sqlx.SelectContext(ctx, db, &ss, excerptSeizuresSQL, arr, today); err != nil {
		return nil, fmt.Errorf("register seizures: %w", err)
	}
	for _, x := range ss {
		if u := byNumber[strings.TrimSpace(x.Unit)]; u != nil {
			u.Seizures = append(u.Seizures, x)
		}
	}
	var os []ObjectionEntry
	if err := sqlx.SelectContext(ctx, db, &os, excerptObjectionsSQL, arr, today); err != nil {
		return nil, fmt.Errorf("register objections: %w", err)
	}
	for _, x := range os {
		if u := byNumber[strings.TrimSpace(x.Unit)]; u != nil {
			u.Objections = append(u.Objections, x)
		}
	}
	var ps []PreregEntry
	if err := sqlx.SelectContext(ctx, db, &ps, excerptPreregSQL, arr, today); err != nil {
		return nil, fmt.Errorf("register pre-registrations: %w", err)
	}
	for _, x := range ps {
		if u := byNumber[strings.TrimSpace(x.Unit)]; u != nil {
			u.Prereg = append(u.Prereg, x)
		}
	}
	return out, nil
}
