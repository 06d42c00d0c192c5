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

	"mortgaged/internal/pii"
)

// Encumbrances is what a bank sees before lending on a unit (抵押前查询):
// who owns it and how, and every current right and restriction on it.
type Encumbrances struct {
	QueryID          string             `json:"queryId"`
	AsOf             time.Time          `json:"asOf"`
	UnitNumber       string             `json:"unitNumber"`
	Location         string             `json:"location"`
	Use              string             `json:"use"`
	AreaM2           string             `json:"areaM2"`
	OwnershipForm    string             `json:"ownershipForm"`
	Mortgageable     bool               `json:"mortgageable"`
	Owners           []EncumbranceOwner `json:"owners"`
	Mortgages        []CurrentMortgage  `json:"mortgages"`
	Seizures         []CurrentSeizure   `json:"seizures"`
	Objections       []CurrentObjection `json:"objections"`
	Preregistrations []CurrentPrereg    `json:"preregistrations"`
}

// EncumbranceOwner is a registered owner; the ID number is masked.
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

// Encumbrance query codes.
const (
	CodeConsentRequired Code = "consent_reference_required"
)

// EncumbranceQuery is one recorded query.
type EncumbranceQuery struct {
	ID               string    `json:"queryId" db:"id"`
	UnitNumber       string    `json:"unitNumber" db:"unit_number"`
	ConsentReference string    `json:"consentReference" db:"consent_reference"`
	Found            bool      `json:"found" db:"found"`
	QueriedAt        time.Time `json:"queriedAt" db:"queried_at"`
}

// QueryEncumbrances answers a bank's pre-loan query and records it, found or
// not. The consent reference names the owner's written consent the bank
// holds; without one there is no query.
func (s *Service) QueryEncumbrances(ctx context.Context, partnerID, unitNumber, consent string) (*Encumbrances, error) {
	var is Issues
	if CheckUnitNumber(unitNumber) != "" {
		is.Add("unitNumber", CodeUnitNumberFormat, "不动产单元号“%s”不符合 GB/T 37346 的 28 位结构", clip(unitNumber))
	}
	switch {
	case strings.TrimSpace(consent) == "":
		is.Add("consentReference", CodeConsentRequired, "查询须提供权利人书面同意的编号（consentReference）")
	case len(consent) > 64 || strings.IndexFunc(consent, func(r rune) bool { return r < '!' || r > '~' }) >= 0:
		is.Add("consentReference", CodeReferenceFormat, "同意书编号只能由 1–64 个可见 ASCII 字符组成")
	}
	if len(is) > 0 {
		return nil, &ValidationError{Issues: is}
	}
	now := s.Now().Truncate(time.Microsecond)
	var id [10]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	e := &Encumbrances{QueryID: "q" + hex.EncodeToString(id[:]), AsOf: now, UnitNumber: unitNumber,
		Owners: []EncumbranceOwner{}, Mortgages: []CurrentMortgage{}, Seizures: []CurrentSeizure{},
		Objections: []CurrentObjection{}, Preregistrations: []CurrentPrereg{}}
	tx, err := s.begin(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead}) // one consistent picture
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	err = tx.QueryRowxContext(ctx, `SELECT location, use, area_m2::text, ownership_form, mortgageable FROM units WHERE unit_number = $1`, unitNumber).
		Scan(&e.Location, &e.Use, &e.AreaM2, &e.OwnershipForm, &e.Mortgageable)
	found := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read unit: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO encumbrance_queries (id, partner_id, unit_number, consent_reference, found, queried_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.QueryID, partnerID, unitNumber, consent, found, now); err != nil {
		return nil, fmt.Errorf("record query: %w", err)
	}
	if err := audit(ctx, tx, now, "partner:"+partnerID, "register.encumbrance_query", unitNumber, map[string]any{"query": e.QueryID, "consent": consent}); err != nil {
		return nil, err
	}
	if !found {
		if err := tx.Commit(); err != nil {
			return nil, err
		}
		return nil, ErrNotFound
	}
	var owners []struct {
		Name   string         `db:"name"`
		IDType string         `db:"id_type"`
		ID     string         `db:"id_number"`
		Share  sql.NullString `db:"share"`
	}
	if err := tx.SelectContext(ctx, &owners, `SELECT name, id_type, id_number, share_numerator || '/' || share_denominator AS share
		FROM owners WHERE unit_number = $1 ORDER BY seq`, unitNumber); err != nil {
		return nil, err
	}
	for _, o := range owners {
		e.Owners = append(e.Owners, EncumbranceOwner{Name: o.Name, IDType: o.IDType, IDNumber: pii.MaskID(o.ID), Share: o.Share.String})
	}
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
		WHERE mu.unit_number = $1 AND mu.current ORDER BY mu.rank`, unitNumber); err != nil {
		return nil, err
	}
	for _, m := range ms {
		e.Mortgages = append(e.Mortgages, CurrentMortgage{m.Rank, m.Kind, FormatYuan(m.Fen), m.Start, m.End, m.Mortgagee, m.Cert.String, m.At})
	}
	today := s.Today().Time
	if err := tx.SelectContext(ctx, &e.Seizures, `SELECT authority AS "authority", document_number AS "documentnumber", seized_from::text AS "from", COALESCE(seized_until::text, '') AS "until"
		FROM seizures WHERE unit_number = $1 AND lifted_at IS NULL AND (seized_until IS NULL OR seized_until >= $2) ORDER BY seized_from`, unitNumber, today); err != nil {
		return nil, err
	}
	if err := tx.SelectContext(ctx, &e.Objections, `SELECT registered_on::text AS "registeredon", COALESCE(expires_on::text, '') AS "expireson"
		FROM objections WHERE unit_number = $1 AND cancelled_at IS NULL AND (expires_on IS NULL OR expires_on >= $2) ORDER BY registered_on`, unitNumber, today); err != nil {
		return nil, err
	}
	var prs []struct {
		Kind   string `db:"kind"`
		Holder string `db:"holder_name"`
		On     string `db:"registered_on"`
	}
	if err := tx.SelectContext(ctx, &prs, `SELECT kind, holder_name, registered_on::text FROM preregistrations
		WHERE unit_number = $1 AND ended_at IS NULL ORDER BY registered_on`, unitNumber); err != nil {
		return nil, err
	}
	for _, p := range prs {
		e.Preregistrations = append(e.Preregistrations, CurrentPrereg{p.Kind, pii.MaskName(p.Holder), p.On})
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return e, nil
}

// EncumbranceQueries lists a partner's own queries, newest first.
func (s *Service) EncumbranceQueries(ctx context.Context, partnerID string, limit int) ([]EncumbranceQuery, error) {
	qs := []EncumbranceQuery{}
	err := s.DB.SelectContext(ctx, &qs, `SELECT id, unit_number, consent_reference, found, queried_at
		FROM encumbrance_queries WHERE partner_id = $1 ORDER BY queried_at DESC, id LIMIT $2`, partnerID, limit)
	for i := range qs {
		qs[i].UnitNumber = strings.TrimSpace(qs[i].UnitNumber)
	}
	return qs, err
}
