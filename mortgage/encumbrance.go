package mortgage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/text/unicode/norm"

	"mortgaged/internal/db"
	"mortgaged/internal/pii"
)

// Encumbrances is what a bank sees before lending on a unit (抵押前查询),
// asked on behalf of one owner with that owner's consent: the owner's own
// holding, how the unit is owned, and every current right and restriction
// on it. Other owners are only counted (个人信息保护法: no more than the
// purpose needs).
type Encumbrances struct {
	QueryID          string             `json:"queryId"`
	AsOf             time.Time          `json:"asOf"`
	UnitNumber       string             `json:"unitNumber"`
	Location         string             `json:"location"`
	Use              string             `json:"use"`
	AreaM2           string             `json:"areaM2"`
	OwnershipForm    string             `json:"ownershipForm"`
	Mortgageable     bool               `json:"mortgageable"`
	Owner            EncumbranceOwner   `json:"owner"`
	CoOwners         int                `json:"coOwners"` // the other registered owners, counted, never named
	Mortgages        []CurrentMortgage  `json:"mortgages"`
	Seizures         []CurrentSeizure   `json:"seizures"`
	Objections       []CurrentObjection `json:"objections"`
	Preregistrations []CurrentPrereg    `json:"preregistrations"`
}

// EncumbranceOwner is the owner the query is about, as registered; the ID
// number is masked even though the asker sent it whole.
type EncumbranceOwner struct {
	Name     string `json:"name"`
	IDType   string `json:"idType"`
	IDNumber string `json:"idNumber"` // first 6 and last 4 characters
	Share    string `json:"share,omitempty"`
}

// CurrentMortgage is a current mortgage right on the unit.
type CurrentMortgage struct {
	Rank              int       `json:"rank"`
	Kind              string    `json:"kind"`
	Amount            string    `json:"amount"` // principal or maximum, decimal yuan
	DebtStart         string    `json:"debtStart"`
	DebtEnd           string    `json:"debtEnd"`
	Mortgagee         string    `json:"mortgagee"`
	CertificateNumber string    `json:"certificateNumber,omitempty"`
	RegisteredAt      time.Time `json:"registeredAt"`
}

// CurrentSeizure is a seizure in force.
type CurrentSeizure struct {
	Authority      string `json:"authority"`
	DocumentNumber string `json:"documentNumber"`
	From           string `json:"from"`
	Until          string `json:"until,omitempty"`
}

// CurrentObjection is an open objection.
type CurrentObjection struct {
	RegisteredOn string `json:"registeredOn"`
	ExpiresOn    string `json:"expiresOn,omitempty"`
}

// CurrentPrereg is a pre-registration in force; the holder is masked.
type CurrentPrereg struct {
	Kind         string `json:"kind"`
	Holder       string `json:"holder"`
	RegisteredOn string `json:"registeredOn"`
}

// ConsentKind is the kind of document an encumbrance query carries: the
// owner's signed authorisation to look at the unit (授权查询委托书).
const ConsentKind = "owner_consent"

// DefaultEncumbranceQuota is how many encumbrance queries a partner may make
// in a business day unless the centre sets its own default or the
// partner's: enough for a branch's lending, far too few to walk the register.
const DefaultEncumbranceQuota = 200

// Encumbrance query codes.
const (
	CodeConsentRequired Code = "consent_required"
)

// QuotaError says the partner has used its encumbrance queries for the
// business day; nothing was looked up or recorded.
type QuotaError struct {
	Quota      int
	RetryAfter time.Duration // until the next business day begins
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("encumbrance query quota of %d a day used up", e.Quota)
}

// EncumbranceRequest is a pre-loan query: the unit, the owner it is asked
// on behalf of, and that owner's signed consent.
type EncumbranceRequest struct {
	UnitNumber string
	Owner      Party
	Consent    *Material
}

// canonical is a copy with the owner in the form the register is compared
// in: the name trimmed and NFC-normalised, the ID number in upper case and,
// for an old 15-digit resident ID, in its 18-digit form.
func (q EncumbranceRequest) canonical() EncumbranceRequest {
	q.UnitNumber = strings.TrimSpace(q.UnitNumber)
	idType := strings.TrimSpace(q.Owner.IDType)
	q.Owner = Party{Name: canonicalName(q.Owner.Name), IDType: idType, IDNumber: canonicalID(idType, q.Owner.IDNumber)}
	return q
}

func canonicalName(s string) string { return norm.NFC.String(strings.TrimSpace(s)) }

func canonicalID(idType, s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if idType == IDResident && IsOldResidentID(s) {
		s, _ = UpgradeResidentID(s)
	}
	return s
}

// CheckEncumbranceRequest finds every fault in a query without the
// register, as QueryEncumbrances will.
func (s *Service) CheckEncumbranceRequest(q EncumbranceRequest) Issues {
	return checkEncumbranceRequest(q.canonical(), s.Today())
}

func checkEncumbranceRequest(q EncumbranceRequest, today Date) Issues {
	var is Issues
	switch {
	case q.UnitNumber == "":
		is.Add("unitNumber", CodeRequired, "缺少不动产单元号")
	case CheckUnitNumber(q.UnitNumber) != "":
		is.Add("unitNumber", CodeUnitNumberFormat, "不动产单元号“%s”不符合 GB/T 37346 的 28 位结构", Clip(q.UnitNumber))
	}
	is.validateParty("owner", q.Owner, today)
	if q.Consent == nil {
		is.Add("consent", CodeConsentRequired, "查询须附权利人签署的查询授权书（consent，材料类型 %s）", ConsentKind)
		return is
	}
	if q.Consent.Kind != ConsentKind {
		is.Add("consent.kind", CodeMaterialKind, "查询授权书的材料类型应为 %s，收到的是“%s”", ConsentKind, Clip(q.Consent.Kind))
	}
	checkDocument(&is, "consent", *q.Consent)
	return is
}

// encumbranceLockSpace namespaces the advisory locks that make one
// partner's quota count and its new query one step.
const encumbranceLockSpace = 0x6571

// QueryEncumbrances answers a bank's pre-loan query on behalf of one owner
// and records it with the owner's consent (不动产登记资料查询暂行办法:
// 利害关系人查询). An unknown unit and an owner who is not a registered
// owner of the unit are the same ErrNotFound, and both are recorded and
// counted against the partner's daily quota, so asking cannot tell whether
// a unit exists or who owns it (PROMISES A7). Over the quota it returns a
// *QuotaError before looking anything up.
func (s *Service) QueryEncumbrances(ctx context.Context, partnerID string, req EncumbranceRequest) (*Encumbrances, error) {
	q := req.canonical()
	if is := checkEncumbranceRequest(q, s.Today()); len(is) > 0 {
		return nil, &ValidationError{Issues: is}
	}
	now := s.Now().Truncate(time.Microsecond)
	day := s.businessDay(now)
	if err := s.withinQuota(ctx, s.DB, partnerID, day); err != nil { // spare the register a flood over the quota
		return nil, err
	}
	var id [10]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	e, err := s.readEncumbrances(ctx, q)
	if err != nil {
		return nil, err
	}
	e.QueryID, e.AsOf = "q"+hex.EncodeToString(id[:]), now
	if err := s.recordQuery(ctx, partnerID, q, e, day); err != nil {
		return nil, err
	}
	if !e.found {
		return nil, ErrNotFound
	}
	return &e.Encumbrances, nil
}

// businessDay is the day, in the centre's time zone, a query at t counts in.
type businessDay struct{ start, end time.Time }

func (s *Service) businessDay(t time.Time) businessDay {
	d := DateOf(t, s.Config.Location)
	start := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, s.Config.Location)
	return businessDay{start, start.AddDate(0, 0, 1)}
}

const (
	encumbranceQuotaSQL = `SELECT COALESCE(encumbrance_quota, $2) FROM partners WHERE id = $1`
	encumbranceUsedSQL  = `SELECT count(*) FROM encumbrance_queries WHERE partner_id = $1 AND queried_at >= $2 AND queried_at < $3`
)

// withinQuota returns a *QuotaError when the partner has no query left for
// the day. Every query recorded counts, found or not: counting only the
// found ones would let a partner probe unknown owners for free.
func (s *Service) withinQuota(ctx context.Context, q sqlx.QueryerContext, partnerID string, day businessDay) error {
	def := s.Config.EncumbranceQuota
	if def <= 0 {
		def = DefaultEncumbranceQuota
	}
	var quota, used int
	if err := sqlx.GetContext(ctx, q, &quota, encumbranceQuotaSQL, partnerID, def); err != nil {
		return fmt.Errorf("read encumbrance quota: %w", err)
	}
	if err := sqlx.GetContext(ctx, q, &used, encumbranceUsedSQL, partnerID, day.start, day.end); err != nil {
		return fmt.Errorf("count encumbrance queries: %w", err)
	}
	if used >= quota {
		return &QuotaError{Quota: quota, RetryAfter: day.end.Sub(s.Now())}
	}
	return nil
}

// answer is an answer being built, and whether there is one to give.
type answer struct {
	Encumbrances
	found bool
}

// readEncumbrances reads the unit in one consistent snapshot; found is
// false when the unit is unknown or the owner is not one of its owners.
func (s *Service) readEncumbrances(ctx context.Context, q EncumbranceRequest) (e *answer, err error) {
	err = s.inTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, func(tx *ptx) error {
		e, err = s.readEncumbrancesIn(ctx, tx, q)
		return err
	})
	return e, err
}

func (s *Service) readEncumbrancesIn(ctx context.Context, tx *ptx, q EncumbranceRequest) (*answer, error) {
	e := &answer{Encumbrances: Encumbrances{UnitNumber: q.UnitNumber, Mortgages: []CurrentMortgage{}, Seizures: []CurrentSeizure{},
		Objections: []CurrentObjection{}, Preregistrations: []CurrentPrereg{}}}
	err := tx.QueryRowxContext(ctx, `SELECT location, use, area_m2::text, ownership_form, mortgageable FROM units WHERE unit_number = $1`, q.UnitNumber).
		Scan(&e.Location, &e.Use, &e.AreaM2, &e.OwnershipForm, &e.Mortgageable)
	if errors.Is(err, sql.ErrNoRows) {
		return e, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read unit: %w", err)
	}
	var owners []struct {
		Name   string         `db:"name"`
		IDType string         `db:"id_type"`
		ID     string         `db:"id_number"`
		Share  sql.NullString `db:"share"`
	}
	if err := tx.SelectContext(ctx, &owners, `SELECT name, id_type, id_number, share_numerator || '/' || share_denominator AS share
		FROM owners WHERE unit_number = $1 ORDER BY seq`, q.UnitNumber); err != nil {
		return nil, err
	}
	for _, o := range owners {
		// The name and the ID number must both be the owner's: a right
		// name with another's number, or the reverse, finds nothing.
		if o.IDType == q.Owner.IDType && canonicalID(o.IDType, o.ID) == q.Owner.IDNumber && canonicalName(o.Name) == q.Owner.Name {
			e.found = true
			e.Owner = EncumbranceOwner{Name: o.Name, IDType: o.IDType, IDNumber: pii.MaskID(o.ID), Share: o.Share.String}
		}
	}
	if !e.found {
		return &answer{Encumbrances: Encumbrances{UnitNumber: q.UnitNumber}}, nil // nothing read leaves here
	}
	e.CoOwners = len(owners) - 1
	var ms []struct {
		Rank      int            `db:"rank"`
		Kind      string         `db:"kind"`
		Fen       int64          `db:"fen"`
		Start     string         `db:"debt_start"`
		End       string         `db:"debt_end"`
		Mortgagee string         `db:"mortgagee_name"`
		Cert      sql.NullString `db:"certificate_number"`
		At        time.Time      `db:"registered_at"`
	}
	if err := tx.SelectContext(ctx, &ms, `SELECT mu.rank, m.kind, COALESCE(m.principal_fen, m.maximum_fen) AS fen,
			m.debt_start::text, m.debt_end::text, m.mortgagee_name, m.certificate_number, m.registered_at
		FROM mortgage_units mu JOIN mortgages m ON m.id = mu.mortgage_id
		WHERE mu.unit_number = $1 AND mu.current ORDER BY mu.rank`, q.UnitNumber); err != nil {
		return nil, err
	}
	for _, m := range ms {
		e.Mortgages = append(e.Mortgages, CurrentMortgage{m.Rank, m.Kind, FormatYuan(m.Fen), m.Start, m.End, m.Mortgagee, m.Cert.String, m.At})
	}
	today := s.Today().Time
	if err := tx.SelectContext(ctx, &e.Seizures, `SELECT authority AS "authority", document_number AS "documentnumber", seized_from::text AS "from", COALESCE(seized_until::text, '') AS "until"
		FROM current_seizures($2) WHERE unit_number = $1 ORDER BY seized_from`, q.UnitNumber, today); err != nil {
		return nil, err
	}
	if err := tx.SelectContext(ctx, &e.Objections, `SELECT registered_on::text AS "registeredon", COALESCE(expires_on::text, '') AS "expireson"
		FROM current_objections($2) WHERE unit_number = $1 ORDER BY registered_on`, q.UnitNumber, today); err != nil {
		return nil, err
	}
	var prs []struct {
		Kind   string `db:"kind"`
		Holder string `db:"holder_name"`
		On     string `db:"registered_on"`
	}
	if err := tx.SelectContext(ctx, &prs, `SELECT kind, holder_name, registered_on::text FROM current_preregistrations($2)
		WHERE unit_number = $1 ORDER BY registered_on`, q.UnitNumber, today); err != nil {
		return nil, err
	}
	for _, p := range prs {
		e.Preregistrations = append(e.Preregistrations, CurrentPrereg{p.Kind, pii.MaskName(p.Holder), p.On})
	}
	return e, nil
}

const (
	insertEncumbranceQuerySQL = `INSERT INTO encumbrance_queries (id, partner_id, unit_number, found, queried_at, owner_name, owner_id_type, owner_id_number)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	insertEncumbranceConsentSQL = `INSERT INTO encumbrance_consents (query_id, kind, file_name, media_type, sha256, content)
		VALUES ($1, $2, $3, $4, decode($5, 'hex'), $6)`
)

// recordQuery counts the query against the partner's quota and stores it
// with the consent, in one step per partner: the quota is checked again
// under the partner's lock, so concurrent queries cannot overrun it.
func (s *Service) recordQuery(ctx context.Context, partnerID string, q EncumbranceRequest, e *answer, day businessDay) error {
	// Read committed: the count after the lock sees every query committed before it.
	return s.inTx(ctx, nil, func(tx *ptx) error { return s.recordQueryIn(ctx, tx, partnerID, q, e, day) })
}

func (s *Service) recordQueryIn(ctx context.Context, tx *ptx, partnerID string, q EncumbranceRequest, e *answer, day businessDay) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, encumbranceLockSpace, partnerID); err != nil {
		return fmt.Errorf("lock encumbrance quota: %w", err)
	}
	if err := s.withinQuota(ctx, tx, partnerID, day); err != nil {
		return err
	}
	c := q.Consent
	// A query that found nothing keeps the unit number it asked about: the
	// centre audits probing as well as answers.
	unit := q.UnitNumber
	if _, err := tx.ExecContext(ctx, insertEncumbranceQuerySQL, e.QueryID, partnerID, unit, e.found, e.AsOf,
		q.Owner.Name, q.Owner.IDType, q.Owner.IDNumber); err != nil {
		return fmt.Errorf("record query: %w", err)
	}
	if _, err := tx.ExecContext(ctx, insertEncumbranceConsentSQL, e.QueryID, c.Kind, c.FileName, c.MediaType, strings.ToLower(c.SHA256), c.Content); err != nil {
		return fmt.Errorf("store consent: %w", err)
	}
	return db.Audit(ctx, tx, db.AuditEntry{At: e.AsOf, Actor: "partner:" + partnerID, Action: "register.encumbrance_query", Subject: unit,
		Detail: map[string]any{"query": e.QueryID, "found": e.found, "owner": pii.MaskID(q.Owner.IDNumber), "consentSha256": strings.ToLower(c.SHA256)}})
}

// EncumbranceQuery is one recorded query, as its partner sees it.
type EncumbranceQuery struct {
	ID               string    `json:"queryId" db:"id"`
	UnitNumber       string    `json:"unitNumber" db:"unit_number"`
	ConsentReference string    `json:"consentReference,omitempty" db:"consent_reference"` // queries before consent documents
	ConsentSHA256    string    `json:"consentSha256,omitempty" db:"consent_sha256"`
	Found            bool      `json:"found" db:"found"`
	QueriedAt        time.Time `json:"queriedAt" db:"queried_at"`
}

// EncumbranceQueries lists a partner's own queries, newest first.
func (s *Service) EncumbranceQueries(ctx context.Context, partnerID string, limit int) ([]EncumbranceQuery, error) {
	qs := []EncumbranceQuery{}
	err := s.DB.SelectContext(ctx, &qs, `SELECT q.id, q.unit_number, COALESCE(q.consent_reference, '') AS consent_reference,
			COALESCE(encode(c.sha256, 'hex'), '') AS consent_sha256, q.found, q.queried_at
		FROM encumbrance_queries q LEFT JOIN encumbrance_consents c ON c.query_id = q.id
		WHERE q.partner_id = $1 ORDER BY q.queried_at DESC, q.id LIMIT $2`, partnerID, limit)
	for i := range qs {
		qs[i].UnitNumber = strings.TrimSpace(qs[i].UnitNumber)
	}
	return qs, err
}
