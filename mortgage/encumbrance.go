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

	"golang.org/x/text/unicode/norm"

	"mortgaged/internal/db"
	"mortgaged/internal/pii"
	"mortgaged/mortgage/store"
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
	if err := s.withinQuota(ctx, s.store(), partnerID, day); err != nil { // spare the register a flood over the quota
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

// quotaReader reads a partner's quota and use: on the pool, or in the
// query's transaction.
type quotaReader interface {
	EncumbranceQuota(ctx context.Context, partnerID string, def int) (int, error)
	EncumbranceQueriesBetween(ctx context.Context, partnerID string, start, end time.Time) (int, error)
}

// withinQuota returns a *QuotaError when the partner has no query left for
// the day. Every query recorded counts, found or not: counting only the
// found ones would let a partner probe unknown owners for free.
func (s *Service) withinQuota(ctx context.Context, q quotaReader, partnerID string, day businessDay) error {
	def := s.Config.EncumbranceQuota
	if def <= 0 {
		def = DefaultEncumbranceQuota
	}
	quota, err := q.EncumbranceQuota(ctx, partnerID, def)
	if err != nil {
		return fmt.Errorf("read encumbrance quota: %w", err)
	}
	used, err := q.EncumbranceQueriesBetween(ctx, partnerID, day.start, day.end)
	if err != nil {
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
	u, err := tx.EncumbranceUnit(ctx, q.UnitNumber)
	if errors.Is(err, store.ErrNoRows) {
		return e, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read unit: %w", err)
	}
	e.Location, e.Use, e.AreaM2, e.OwnershipForm, e.Mortgageable = u.Location, u.Use, u.AreaM2, u.OwnershipForm, u.Mortgageable
	owners, err := tx.EncumbranceOwners(ctx, q.UnitNumber)
	if err != nil {
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
	ms, err := tx.CurrentMortgages(ctx, q.UnitNumber)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		e.Mortgages = append(e.Mortgages, CurrentMortgage{m.Rank, m.Kind, FormatYuan(m.Fen), m.Start, m.End, m.Mortgagee, m.Cert.String, m.At})
	}
	today := s.Today().Time
	seizures, err := tx.CurrentSeizures(ctx, q.UnitNumber, today)
	if err != nil {
		return nil, err
	}
	for _, r := range seizures {
		e.Seizures = append(e.Seizures, CurrentSeizure(r))
	}
	objections, err := tx.CurrentObjections(ctx, q.UnitNumber, today)
	if err != nil {
		return nil, err
	}
	for _, r := range objections {
		e.Objections = append(e.Objections, CurrentObjection(r))
	}
	prs, err := tx.CurrentPreregistrations(ctx, q.UnitNumber, today)
	if err != nil {
		return nil, err
	}
	for _, p := range prs {
		e.Preregistrations = append(e.Preregistrations, CurrentPrereg{p.Kind, pii.MaskName(p.Holder), p.On})
	}
	return e, nil
}

// recordQuery counts the query against the partner's quota and stores it
// with the consent, in one step per partner: the quota is checked again
// under the partner's lock, so concurrent queries cannot overrun it.
func (s *Service) recordQuery(ctx context.Context, partnerID string, q EncumbranceRequest, e *answer, day businessDay) error {
	// Read committed: the count after the lock sees every query committed before it.
	return s.inTx(ctx, nil, func(tx *ptx) error { return s.recordQueryIn(ctx, tx, partnerID, q, e, day) })
}

func (s *Service) recordQueryIn(ctx context.Context, tx *ptx, partnerID string, q EncumbranceRequest, e *answer, day businessDay) error {
	if err := tx.AdvisoryLock(ctx, encumbranceLockSpace, partnerID); err != nil {
		return fmt.Errorf("lock encumbrance quota: %w", err)
	}
	if err := s.withinQuota(ctx, tx, partnerID, day); err != nil {
		return err
	}
	c := q.Consent
	// A query that found nothing keeps the unit number it asked about: the
	// centre audits probing as well as answers.
	unit := q.UnitNumber
	if err := tx.InsertEncumbranceQuery(ctx, store.NewEncumbranceQuery{ID: e.QueryID, PartnerID: partnerID, UnitNumber: unit,
		Found: e.found, QueriedAt: e.AsOf, OwnerName: q.Owner.Name, OwnerIDType: q.Owner.IDType, OwnerIDNumber: q.Owner.IDNumber}); err != nil {
		return fmt.Errorf("record query: %w", err)
	}
	consent := store.Material{Kind: c.Kind, FileName: c.FileName, MediaType: c.MediaType, SHA256: strings.ToLower(c.SHA256), Content: c.Content}
	if err := tx.InsertEncumbranceConsent(ctx, e.QueryID, consent); err != nil {
		return fmt.Errorf("store consent: %w", err)
	}
	return tx.Audit(ctx, db.AuditEntry{At: e.AsOf, Actor: "partner:" + partnerID, Action: "register.encumbrance_query", Subject: unit,
		Detail: map[string]any{"query": e.QueryID, "found": e.found, "owner": pii.MaskID(q.Owner.IDNumber), "consentSha256": strings.ToLower(c.SHA256)}})
}

// EncumbranceQuery is one recorded query, as its partner sees it.
type EncumbranceQuery struct {
	ID               string    `json:"queryId"`
	UnitNumber       string    `json:"unitNumber"`
	ConsentReference string    `json:"consentReference,omitempty"` // queries before consent documents
	ConsentSHA256    string    `json:"consentSha256,omitempty"`
	Found            bool      `json:"found"`
	QueriedAt        time.Time `json:"queriedAt"`
}

// EncumbranceQueries lists a partner's own queries, newest first.
func (s *Service) EncumbranceQueries(ctx context.Context, partnerID string, limit int) ([]EncumbranceQuery, error) {
	rows, err := s.store().EncumbranceQueries(ctx, partnerID, limit)
	qs := make([]EncumbranceQuery, len(rows))
	for i, r := range rows {
		qs[i] = EncumbranceQuery(r)
		qs[i].UnitNumber = strings.TrimSpace(r.UnitNumber)
	}
	return qs, err
}
